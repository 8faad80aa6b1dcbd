//! Declared parameters: their types, defaults and allowed values, and checking a value
//! supplied by an assignment against them.

use serde_json::Value;

use crate::compare::{brief, parse_datetime, value_eq};
use crate::error::{pointer_token, PolicyError};

use super::get_ci;

/// A parameter's declared type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// `String`.
    String,
    /// `Array`.
    Array,
    /// `Object`.
    Object,
    /// `Boolean`.
    Boolean,
    /// `Integer`.
    Integer,
    /// `Float`.
    Float,
    /// `DateTime`.
    DateTime,
}

impl ParamType {
    pub(super) fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "string" => Self::String,
            "array" => Self::Array,
            "object" => Self::Object,
            "boolean" | "bool" => Self::Boolean,
            "integer" | "int" => Self::Integer,
            "float" => Self::Float,
            "datetime" => Self::DateTime,
            _ => return None,
        })
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Self::String => "String",
            Self::Array => "Array",
            Self::Object => "Object",
            Self::Boolean => "Boolean",
            Self::Integer => "Integer",
            Self::Float => "Float",
            Self::DateTime => "DateTime",
        }
    }

    pub(super) fn accepts(self, v: &Value) -> bool {
        match self {
            Self::String => v.is_string(),
            Self::Array => v.is_array(),
            Self::Object => v.is_object(),
            Self::Boolean => v.is_boolean(),
            Self::Integer => v.is_i64() || v.is_u64(),
            Self::Float => v.is_number(),
            Self::DateTime => v.as_str().is_some_and(|s| parse_datetime(s).is_some()),
        }
    }
}

/// One declared parameter.
#[derive(Debug, Clone)]
pub struct ParameterDef {
    /// The name as declared.
    pub name: String,
    /// Declared type.
    pub kind: ParamType,
    /// `defaultValue`, if any.
    pub default: Option<Value>,
    /// `allowedValues`, if any.
    pub allowed: Option<Vec<Value>>,
}

pub(super) fn parse_parameters(
    node: &Value,
    pointer: &str,
) -> Result<Vec<ParameterDef>, PolicyError> {
    let Value::Object(map) = node else {
        return Err(PolicyError::new(pointer, "`parameters` must be an object"));
    };
    let mut out = Vec::with_capacity(map.len());
    for (name, def) in map {
        let here = format!("{pointer}/{}", pointer_token(name));
        let Value::Object(d) = def else {
            return Err(PolicyError::new(
                here,
                format!("parameter `{name}` must be an object"),
            ));
        };
        let kind = match get_ci(d, "type") {
            Some((_, Value::String(t))) => ParamType::parse(t).ok_or_else(|| {
                PolicyError::new(
                    format!("{here}/type"),
                    format!("unknown parameter type `{t}`"),
                )
            })?,
            Some(_) => {
                return Err(PolicyError::new(
                    format!("{here}/type"),
                    "`type` must be a string",
                ))
            }
            None => {
                return Err(PolicyError::new(
                    here,
                    format!("parameter `{name}` has no `type`"),
                ))
            }
        };
        let allowed = match get_ci(d, "allowedValues") {
            None | Some((_, Value::Null)) => None,
            // An empty list restricts nothing (a built-in declares one).
            Some((_, Value::Array(a))) if a.is_empty() => None,
            Some((_, Value::Array(a))) => Some(a.clone()),
            Some(_) => {
                return Err(PolicyError::new(
                    format!("{here}/allowedValues"),
                    "`allowedValues` must be an array",
                ))
            }
        };
        let default = get_ci(d, "defaultValue").map(|(_, v)| v.clone());
        let p = ParameterDef {
            name: name.clone(),
            kind,
            default,
            allowed,
        };
        if let Some(dv) = &p.default {
            check_value(&p, dv, &format!("{here}/defaultValue"))?;
        }
        out.push(p);
    }
    Ok(out)
}

pub(super) fn check_value(
    def: &ParameterDef,
    value: &Value,
    pointer: &str,
) -> Result<(), PolicyError> {
    if !def.kind.accepts(value) {
        return Err(PolicyError::new(
            pointer,
            format!(
                "parameter `{}` is of type {}, got `{}`",
                def.name,
                def.kind.name(),
                brief(value)
            ),
        ));
    }
    if let Some(allowed) = &def.allowed {
        let is_allowed = |v: &Value| {
            // The parameters docs make this check case-sensitive.
            allowed.iter().any(|a| match (a, v) {
                (Value::String(x), Value::String(y)) => x == y,
                _ => value_eq(a, v),
            })
        };
        let ok = is_allowed(value)
            || matches!(value, Value::Array(items) if items.iter().all(is_allowed));
        if !ok {
            return Err(PolicyError::new(
                pointer,
                format!(
                    "`{}` is not an allowed value of parameter `{}`",
                    brief(value),
                    def.name
                ),
            ));
        }
    }
    Ok(())
}
