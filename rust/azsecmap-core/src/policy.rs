//! Policy definitions: the three accepted shapes (an exported definition, its `properties`, a
//! bare `{"if", "then"}` rule), `parameters` with types, defaults and allowed values, `mode`,
//! and the `then` block (effect and details). Compiling yields a [`PolicyDefinition`];
//! binding parameter values to it yields a [`BoundPolicy`] ready to evaluate resources.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::alias::AliasTable;
use crate::compare::{brief, parse_datetime, value_eq};
use crate::error::{pointer_token, EvaluationError, PolicyError};
use crate::expr::{self, Expr};
use crate::field::{self, FieldRef};
use crate::rule::compile::{compile_condition, compile_operand, is_equality};
use crate::rule::eval::{Env, EvalOptions, Evaluator, Reason};
use crate::rule::operator::normalize_location_value;
use crate::rule::{Cond, CountSource, FieldSpec, OpKind, Operand, Operator};
use crate::tag_support;

/// A definition's `mode`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Every resource type, resource groups and subscriptions included.
    All,
    /// Only resource types that support tags and location.
    Indexed,
    /// A resource-provider (data-plane) mode such as `Microsoft.Kubernetes.Data`: recognised,
    /// not evaluated.
    ResourceProvider(String),
}

impl Mode {
    /// The mode as Azure writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Mode::All => "All",
            Mode::Indexed => "Indexed",
            Mode::ResourceProvider(m) => m,
        }
    }
}

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
    fn parse(s: &str) -> Option<Self> {
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

    fn name(self) -> &'static str {
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

    fn accepts(self, v: &Value) -> bool {
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

/// The effects the policy language knows (lower-case).
pub const KNOWN_EFFECTS: &[&str] = &[
    "append",
    "audit",
    "auditifnotexists",
    "deny",
    "denyaction",
    "deployifnotexists",
    "disabled",
    "manual",
    "modify",
    "mutate",
    "addtonetworkgroup",
    "auditaction",
    "enforceregopolicy",
    "enforcesetting",
];

/// A compiled policy definition, independent of any assignment's parameter values.
#[derive(Debug, Clone)]
pub struct PolicyDefinition {
    /// The definition's `name` (a GUID for built-ins), or the caller's fallback (a file stem).
    pub name: String,
    /// `displayName`, if any.
    pub display_name: Option<String>,
    /// `mode` (`All` when absent).
    pub mode: Mode,
    /// Declared parameters.
    pub parameters: Vec<ParameterDef>,
    /// The compiled `if`.
    pub condition: Cond,
    /// `then.effect`: a literal or an expression over parameters.
    pub effect: Operand,
    /// `then.details`, kept as written.
    pub details: Option<Value>,
    /// JSON Pointer of `policyRule` in the input document (`/properties/policyRule`, `/policyRule` or ``).
    pub rule_pointer: String,
    /// Aliases not in the bundled table, read at their fallback path.
    pub unknown_aliases: Vec<String>,
    /// `field('…')` references found in expressions, resolved once.
    pub expression_fields: HashMap<String, FieldRef>,
}

/// A definition with parameter values bound: what evaluates resources.
#[derive(Debug, Clone)]
pub struct BoundPolicy {
    /// The definition.
    pub definition: PolicyDefinition,
    /// Parameter values by lower-cased name (defaults filled in).
    pub parameters: HashMap<String, Value>,
    /// The `if`, with parameters folded in.
    pub condition: Cond,
    /// The resolved effect, lower-case.
    pub effect: String,
}

/// The outcome for one (policy, resource) pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The `if` is true for the resource.
    pub matched: bool,
    /// The resolved effect when matched.
    pub effect: Option<String>,
    /// The conditions that decided the outcome.
    pub reasons: Vec<Reason>,
    /// False when the policy does not apply to the resource at all (mode).
    pub applicable: bool,
    /// Why the policy does not apply, when it does not.
    pub note: Option<String>,
}

fn get_ci<'a>(map: &'a Map<String, Value>, key: &str) -> Option<(&'a String, &'a Value)> {
    map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key))
}

impl PolicyDefinition {
    /// Compile a definition from JSON text. `fallback_name` names it when it has no `name`.
    pub fn from_json_str(text: &str, fallback_name: &str) -> Result<Self, PolicyError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| PolicyError::new("", json_error(&e)))?;
        Self::from_value(&value, fallback_name)
    }

    /// Compile a definition in any of its three shapes.
    pub fn from_value(doc: &Value, fallback_name: &str) -> Result<Self, PolicyError> {
        Self::from_value_with(doc, fallback_name, AliasTable::bundled())
    }

    /// Compile with a given alias table.
    pub fn from_value_with(
        doc: &Value,
        fallback_name: &str,
        aliases: &AliasTable,
    ) -> Result<Self, PolicyError> {
        let Value::Object(root) = doc else {
            return Err(PolicyError::new(
                "",
                "a policy definition must be a JSON object",
            ));
        };
        let mut name = get_ci(root, "name")
            .and_then(|(_, v)| v.as_str())
            .map(str::to_string);
        // Shape 1: {"properties": {...}}; shape 2: {"policyRule": ...}; shape 3: {"if","then"}.
        let (props, props_ptr): (&Map<String, Value>, String) = match get_ci(root, "properties") {
            Some((k, Value::Object(p))) if get_ci(root, "policyRule").is_none() => {
                (p, format!("/{}", pointer_token(k)))
            }
            Some((k, _))
                if get_ci(root, "policyRule").is_none() && get_ci(root, "if").is_none() =>
            {
                return Err(PolicyError::new(
                    format!("/{}", pointer_token(k)),
                    "`properties` must be an object",
                ))
            }
            _ => (root, String::new()),
        };
        let (rule, rule_ptr): (&Map<String, Value>, String) =
            match get_ci(props, "policyRule") {
                Some((k, Value::Object(r))) => (r, format!("{props_ptr}/{}", pointer_token(k))),
                Some((k, _)) => {
                    return Err(PolicyError::new(
                        format!("{props_ptr}/{}", pointer_token(k)),
                        "`policyRule` must be an object",
                    ))
                }
                None if get_ci(props, "if").is_some() => (props, props_ptr.clone()),
                None => return Err(PolicyError::new(
                    props_ptr,
                    "no policy rule: expected `properties.policyRule`, `policyRule` or `if`/`then`",
                )),
            };
        if name.is_none() {
            name = get_ci(props, "name")
                .and_then(|(_, v)| v.as_str())
                .map(str::to_string);
        }
        let display_name = get_ci(props, "displayName")
            .and_then(|(_, v)| v.as_str())
            .map(str::to_string);
        let mode = match get_ci(props, "mode") {
            None | Some((_, Value::Null)) => Mode::All,
            Some((k, Value::String(m))) => match m.to_ascii_lowercase().as_str() {
                "all" => Mode::All,
                "indexed" => Mode::Indexed,
                other if other.starts_with("microsoft.") && other.ends_with(".data") => {
                    Mode::ResourceProvider(m.clone())
                }
                _ => {
                    return Err(PolicyError::new(
                        format!("{props_ptr}/{}", pointer_token(k)),
                        format!("unknown mode `{m}`"),
                    ))
                }
            },
            Some((k, _)) => {
                return Err(PolicyError::new(
                    format!("{props_ptr}/{}", pointer_token(k)),
                    "`mode` must be a string",
                ))
            }
        };
        let parameters = match get_ci(props, "parameters") {
            None | Some((_, Value::Null)) => Vec::new(),
            Some((k, v)) => parse_parameters(v, &format!("{props_ptr}/{}", pointer_token(k)))?,
        };
        for (key, _) in rule {
            if !["if", "then"].iter().any(|k| k.eq_ignore_ascii_case(key)) {
                return Err(PolicyError::new(
                    format!("{rule_ptr}/{}", pointer_token(key)),
                    format!("unknown policy rule property `{key}`"),
                ));
            }
        }
        let (if_key, if_node) = get_ci(rule, "if")
            .ok_or_else(|| PolicyError::new(rule_ptr.clone(), "the policy rule has no `if`"))?;
        let condition = compile_condition(
            if_node,
            &format!("{rule_ptr}/{}", pointer_token(if_key)),
            aliases,
        )?;
        let (then_key, then_node) = get_ci(rule, "then")
            .ok_or_else(|| PolicyError::new(rule_ptr.clone(), "the policy rule has no `then`"))?;
        let then_ptr = format!("{rule_ptr}/{}", pointer_token(then_key));
        let Value::Object(then) = then_node else {
            return Err(PolicyError::new(then_ptr, "`then` must be an object"));
        };
        let (effect_key, effect_node) = get_ci(then, "effect")
            .ok_or_else(|| PolicyError::new(then_ptr.clone(), "`then` has no `effect`"))?;
        let effect_ptr = format!("{then_ptr}/{}", pointer_token(effect_key));
        if !effect_node.is_string() {
            return Err(PolicyError::new(effect_ptr, "`effect` must be a string"));
        }
        let effect = compile_operand(effect_node, &effect_ptr)?;
        if let Operand::Const(Value::String(e)) = &effect {
            check_effect(e, &effect_ptr)?;
        }
        let details = get_ci(then, "details").map(|(_, v)| v.clone());
        let mut def = Self {
            name: name.unwrap_or_else(|| fallback_name.to_string()),
            display_name,
            mode,
            parameters,
            condition,
            effect,
            details,
            rule_pointer: rule_ptr,
            unknown_aliases: Vec::new(),
            expression_fields: HashMap::new(),
        };
        def.check_parameter_references(&then_ptr)?;
        def.index_fields(aliases);
        if let (Some(d), Operand::Const(Value::String(e))) = (&def.details, &def.effect) {
            check_details(e, d, &format!("{then_ptr}/details"))?;
        }
        if let Some(dflt) = def.default_effect() {
            check_effect(&dflt, &effect_ptr)?;
        }
        Ok(def)
    }

    /// The effect with default parameter values, when it can be known without an assignment.
    pub fn default_effect(&self) -> Option<String> {
        match &self.effect {
            Operand::Const(Value::String(s)) => Some(s.to_ascii_lowercase()),
            Operand::Expr(e) => {
                let params: HashMap<String, Value> = self
                    .parameters
                    .iter()
                    .filter_map(|p| Some((p.name.to_ascii_lowercase(), p.default.clone()?)))
                    .collect();
                match expr::fold(e.clone(), &|n| params.get(&n.to_ascii_lowercase()).cloned()) {
                    Expr::Literal(Value::String(s)) => Some(s.to_ascii_lowercase()),
                    _ => None,
                }
            }
            Operand::Const(_) => None,
        }
    }

    fn check_parameter_references(&self, then_ptr: &str) -> Result<(), PolicyError> {
        // Every `parameters('x')` in the rule must name a declared parameter.
        let declared: Vec<String> = self
            .parameters
            .iter()
            .map(|p| p.name.to_ascii_lowercase())
            .collect();
        let mut missing: Option<(String, String)> = None;
        walk_exprs(&self.condition, &mut |e, at| {
            if missing.is_none() {
                missing = find_param_refs(e, &declared).map(|n| (n, at.to_string()));
            }
        });
        if let (None, Operand::Expr(e)) = (&missing, &self.effect) {
            missing = find_param_refs(e, &declared).map(|n| (n, format!("{then_ptr}/effect")));
        }
        if let Some((name, at)) = missing {
            return Err(PolicyError::new(
                at,
                format!("the rule uses parameter `{name}`, which the definition does not declare"),
            ));
        }
        Ok(())
    }

    fn index_fields(&mut self, aliases: &AliasTable) {
        let mut texts = Vec::new();
        walk_exprs(&self.condition, &mut |e, _| {
            collect_field_calls(e, &mut texts)
        });
        for t in texts {
            if let Ok(f) = FieldRef::resolve(&t, aliases) {
                self.expression_fields.insert(t, f);
            }
        }
        let mut unknown = Vec::new();
        walk_fields(&self.condition, &mut |f| {
            if f.kind == field::FieldKind::UnknownAlias && !unknown.contains(&f.text) {
                unknown.push(f.text.clone());
            }
        });
        for f in self.expression_fields.values() {
            if f.kind == field::FieldKind::UnknownAlias && !unknown.contains(&f.text) {
                unknown.push(f.text.clone());
            }
        }
        self.unknown_aliases = unknown;
    }

    /// Bind assignment parameter values (names case-insensitive). Missing values take the
    /// declared default; a value of the wrong type, outside `allowedValues`, undeclared, or a
    /// parameter with neither value nor default, is a [`PolicyError`].
    pub fn bind(&self, values: &Map<String, Value>) -> Result<BoundPolicy, PolicyError> {
        let params_ptr = "/parameters";
        let mut bound = HashMap::new();
        for (name, value) in values {
            let Some(def) = self
                .parameters
                .iter()
                .find(|p| p.name.eq_ignore_ascii_case(name))
            else {
                return Err(PolicyError::new(
                    format!("{params_ptr}/{}", pointer_token(name)),
                    format!("parameter `{name}` is not declared by the definition"),
                ));
            };
            // Accept the ARM assignment shape `{"value": …}` as well as the bare value.
            let value = match value {
                Value::Object(m) if m.len() == 1 && def.kind != ParamType::Object => {
                    m.get("value").unwrap_or(value)
                }
                _ => value,
            };
            check_value(def, value, &format!("{params_ptr}/{}", pointer_token(name)))?;
            bound.insert(def.name.to_ascii_lowercase(), value.clone());
        }
        for def in &self.parameters {
            let key = def.name.to_ascii_lowercase();
            if bound.contains_key(&key) {
                continue;
            }
            match &def.default {
                Some(d) => {
                    bound.insert(key, d.clone());
                }
                None => {
                    return Err(PolicyError::new(
                        format!("{params_ptr}/{}", pointer_token(&def.name)),
                        format!("parameter `{}` has no value and no default", def.name),
                    ))
                }
            }
        }
        let lookup = |n: &str| bound.get(&n.to_ascii_lowercase()).cloned();
        let condition = fold_cond(&self.condition, &lookup, AliasTable::bundled())?;
        let effect = match &self.effect {
            Operand::Const(Value::String(s)) => s.to_ascii_lowercase(),
            Operand::Expr(e) => match expr::fold(e.clone(), &lookup) {
                Expr::Literal(Value::String(s)) => s.to_ascii_lowercase(),
                Expr::Literal(other) => {
                    return Err(PolicyError::new(
                        format!("{}/then/effect", self.rule_pointer),
                        format!("the effect resolved to `{}`, not a string", brief(&other)),
                    ))
                }
                _ => {
                    return Err(PolicyError::new(
                        format!("{}/then/effect", self.rule_pointer),
                        "the effect expression cannot be resolved from parameters",
                    ))
                }
            },
            Operand::Const(other) => {
                return Err(PolicyError::new(
                    format!("{}/then/effect", self.rule_pointer),
                    format!("the effect must be a string, got `{}`", brief(other)),
                ))
            }
        };
        check_effect(&effect, &format!("{}/then/effect", self.rule_pointer))?;
        Ok(BoundPolicy {
            definition: self.clone(),
            parameters: bound,
            condition,
            effect,
        })
    }
}

impl BoundPolicy {
    /// Whether the policy applies to a resource of this type at all (its mode).
    pub fn applies_to(&self, resource: &Value) -> Result<(), String> {
        match &self.definition.mode {
            Mode::All => Ok(()),
            Mode::Indexed => {
                let t = field::resource_type(resource).unwrap_or("");
                if tag_support::indexed_applies(t) {
                    Ok(())
                } else {
                    Err(format!(
                        "mode Indexed skips `{t}`: the type does not support tags and location"
                    ))
                }
            }
            Mode::ResourceProvider(m) => Err(format!(
                "resource-provider mode `{m}` evaluates data-plane objects, which azsecmap does not support"
            )),
        }
    }

    /// Evaluate the policy on one resource; `reasons` records the deciding conditions.
    pub fn decide(
        &self,
        resource: &Value,
        options: &EvalOptions,
        reasons: bool,
    ) -> Result<Decision, EvaluationError> {
        if let Err(note) = self.applies_to(resource) {
            return Ok(Decision {
                matched: false,
                effect: None,
                reasons: Vec::new(),
                applicable: false,
                note: Some(note),
            });
        }
        if self.effect == "disabled" {
            // effect-basics: `disabled` is checked first; the rule is then not evaluated.
            return Ok(Decision {
                matched: false,
                effect: None,
                reasons: Vec::new(),
                applicable: true,
                note: Some("the effect is `disabled`: the rule is not evaluated".into()),
            });
        }
        let env = Env {
            parameters: &self.parameters,
            aliases: AliasTable::bundled(),
            options,
            fields: &self.definition.expression_fields,
            definition_name: &self.definition.name,
        };
        let evaluator = Evaluator::new(&env, resource);
        let mut trace = reasons.then(Vec::new);
        let matched = evaluator.eval(&self.condition, trace.as_mut())?;
        Ok(Decision {
            matched,
            effect: matched.then(|| self.effect.clone()),
            reasons: trace.unwrap_or_default(),
            applicable: true,
            note: None,
        })
    }
}

fn check_effect(effect: &str, pointer: &str) -> Result<(), PolicyError> {
    if KNOWN_EFFECTS.iter().any(|e| e.eq_ignore_ascii_case(effect)) {
        Ok(())
    } else {
        Err(PolicyError::new(
            pointer,
            format!("unknown effect `{effect}`"),
        ))
    }
}

fn check_details(effect: &str, details: &Value, pointer: &str) -> Result<(), PolicyError> {
    let lower = effect.to_ascii_lowercase();
    if lower == "auditifnotexists" || lower == "deployifnotexists" {
        let Value::Object(d) = details else {
            return Err(PolicyError::new(
                pointer,
                format!("`details` of `{effect}` must be an object"),
            ));
        };
        if get_ci(d, "type").is_none() {
            return Err(PolicyError::new(
                pointer,
                format!("`details` of `{effect}` needs `type`"),
            ));
        }
    }
    Ok(())
}

fn parse_parameters(node: &Value, pointer: &str) -> Result<Vec<ParameterDef>, PolicyError> {
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

fn check_value(def: &ParameterDef, value: &Value, pointer: &str) -> Result<(), PolicyError> {
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

/// Visit every expression in a condition tree with the pointer of the condition holding it.
fn walk_exprs(cond: &Cond, f: &mut dyn FnMut(&Expr, &str)) {
    let op = |o: &Operator, at: &str, f: &mut dyn FnMut(&Expr, &str)| {
        if let Operand::Expr(e) = &o.rhs {
            f(e, at);
        }
    };
    match cond {
        Cond::All(cs) | Cond::Any(cs) => cs.iter().for_each(|c| walk_exprs(c, f)),
        Cond::Not(c) => walk_exprs(c, f),
        Cond::Field(fc) => {
            if let FieldSpec::Dynamic(e) = &fc.field {
                f(e, &fc.pointer);
            }
            op(&fc.op, &fc.pointer, f);
        }
        Cond::Value(vc) => {
            if let Operand::Expr(e) = &vc.value {
                f(e, &vc.pointer);
            }
            op(&vc.op, &vc.pointer, f);
        }
        Cond::Count(cc) => {
            match &cc.source {
                CountSource::Field(FieldSpec::Dynamic(e))
                | CountSource::Value(Operand::Expr(e)) => f(e, &cc.pointer),
                _ => {}
            }
            if let Some(w) = &cc.where_ {
                walk_exprs(w, f);
            }
            op(&cc.op, &cc.pointer, f);
        }
    }
}

fn walk_fields(cond: &Cond, f: &mut dyn FnMut(&FieldRef)) {
    match cond {
        Cond::All(cs) | Cond::Any(cs) => cs.iter().for_each(|c| walk_fields(c, f)),
        Cond::Not(c) => walk_fields(c, f),
        Cond::Field(fc) => {
            if let FieldSpec::Resolved(r) = &fc.field {
                f(r);
            }
        }
        Cond::Value(_) => {}
        Cond::Count(cc) => {
            if let CountSource::Field(FieldSpec::Resolved(r)) = &cc.source {
                f(r);
            }
            if let Some(w) = &cc.where_ {
                walk_fields(w, f);
            }
        }
    }
}

fn for_each_subexpr(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(e);
    match e {
        Expr::Literal(_) => {}
        Expr::Call { args, .. } => args.iter().for_each(|a| for_each_subexpr(a, f)),
        Expr::Member { target, .. } => for_each_subexpr(target, f),
        Expr::Index { target, index } => {
            for_each_subexpr(target, f);
            for_each_subexpr(index, f);
        }
    }
}

/// The first `parameters('x')` in `e` naming an undeclared parameter.
fn find_param_refs(e: &Expr, declared: &[String]) -> Option<String> {
    let mut missing = None;
    for_each_subexpr(e, &mut |x| {
        if let Expr::Call { name, args } = x {
            if name == "parameters" {
                if let Some(Expr::Literal(Value::String(p))) = args.first() {
                    if !declared.contains(&p.to_ascii_lowercase()) && missing.is_none() {
                        missing = Some(p.clone());
                    }
                }
            }
        }
    });
    missing
}

fn collect_field_calls(e: &Expr, out: &mut Vec<String>) {
    for_each_subexpr(e, &mut |x| {
        if let Expr::Call { name, args } = x {
            if name == "field" {
                if let Some(Expr::Literal(Value::String(p))) = args.first() {
                    out.push(p.clone());
                }
            }
        }
    });
}

type Lookup<'l> = dyn Fn(&str) -> Option<Value> + 'l;

fn fold_operand(o: &Operand, params: &Lookup<'_>) -> Operand {
    match o {
        Operand::Const(v) => Operand::Const(v.clone()),
        Operand::Expr(e) => match expr::fold(e.clone(), params) {
            Expr::Literal(v) => Operand::Const(v),
            other => Operand::Expr(other),
        },
    }
}

fn fold_field(
    spec: &FieldSpec,
    params: &Lookup<'_>,
    aliases: &AliasTable,
    pointer: &str,
) -> Result<FieldSpec, PolicyError> {
    match spec {
        FieldSpec::Resolved(f) => Ok(FieldSpec::Resolved(f.clone())),
        FieldSpec::Dynamic(e) => match expr::fold(e.clone(), params) {
            Expr::Literal(Value::String(name)) => FieldRef::resolve(&name, aliases)
                .map(FieldSpec::Resolved)
                .map_err(|m| PolicyError::new(format!("{pointer}/field"), m)),
            Expr::Literal(other) => Err(PolicyError::new(
                format!("{pointer}/field"),
                format!(
                    "the field expression yielded `{}`, not a field name",
                    brief(&other)
                ),
            )),
            other => Ok(FieldSpec::Dynamic(other)),
        },
    }
}

fn fold_op(
    op: &Operator,
    params: &Lookup<'_>,
    location: bool,
    pointer: &str,
) -> Result<Operator, PolicyError> {
    let mut out = Operator::new(op.kind, fold_operand(&op.rhs, params));
    // Azure validates parameterised operands at assignment: an array or object where the
    // operator takes a single value is rejected ("expected type is 'String'").
    if let (Operand::Expr(_), Operand::Const(v @ (Value::Array(_) | Value::Object(_)))) =
        (&op.rhs, &out.rhs)
    {
        if !matches!(
            op.kind,
            OpKind::In
                | OpKind::NotIn
                | OpKind::Equals
                | OpKind::NotEquals
                | OpKind::Contains
                | OpKind::NotContains
        ) || (v.is_array() && matches!(op.kind, OpKind::Equals | OpKind::NotEquals))
        {
            return Err(PolicyError::new(
                format!("{pointer}/{}", op.kind.name()),
                format!(
                    "`{}` takes a single value, but the parameter gives `{}`",
                    op.kind.name(),
                    brief(v)
                ),
            ));
        }
    }
    if location && is_equality(op.kind) {
        if let Operand::Const(v) = &mut out.rhs {
            normalize_location_value(v);
            out = Operator::new(out.kind, out.rhs);
        }
    }
    Ok(out)
}

fn fold_cond(cond: &Cond, params: &Lookup<'_>, aliases: &AliasTable) -> Result<Cond, PolicyError> {
    Ok(match cond {
        Cond::All(cs) => Cond::All(
            cs.iter()
                .map(|c| fold_cond(c, params, aliases))
                .collect::<Result<_, _>>()?,
        ),
        Cond::Any(cs) => Cond::Any(
            cs.iter()
                .map(|c| fold_cond(c, params, aliases))
                .collect::<Result<_, _>>()?,
        ),
        Cond::Not(c) => Cond::Not(Box::new(fold_cond(c, params, aliases)?)),
        Cond::Field(fc) => {
            let field = fold_field(&fc.field, params, aliases, &fc.pointer)?;
            let location = matches!(&field, FieldSpec::Resolved(f) if f.location);
            Cond::Field(Box::new(crate::rule::FieldCond {
                field,
                op: fold_op(&fc.op, params, location, &fc.pointer)?,
                pointer: fc.pointer.clone(),
            }))
        }
        Cond::Value(vc) => Cond::Value(Box::new(crate::rule::ValueCond {
            value: fold_operand(&vc.value, params),
            op: fold_op(&vc.op, params, false, &vc.pointer)?,
            pointer: vc.pointer.clone(),
        })),
        Cond::Count(cc) => Cond::Count(Box::new(crate::rule::CountCond {
            source: match &cc.source {
                CountSource::Field(f) => {
                    CountSource::Field(fold_field(f, params, aliases, &cc.pointer)?)
                }
                CountSource::Value(o) => CountSource::Value(fold_operand(o, params)),
            },
            name: cc.name.clone(),
            where_: match &cc.where_ {
                Some(w) => Some(Box::new(fold_cond(w, params, aliases)?)),
                None => None,
            },
            op: fold_op(&cc.op, params, false, &cc.pointer)?,
            pointer: cc.pointer.clone(),
        })),
    })
}

/// A one-line message for a JSON parse error; serde's depth limit gets a plain explanation.
pub fn json_error(e: &serde_json::Error) -> String {
    if e.to_string().contains("recursion limit exceeded") {
        format!(
            "the document nests deeper than 128 levels (line {}, column {})",
            e.line(),
            e.column()
        )
    } else {
        format!("malformed JSON: {e}")
    }
}
