//! Policy-rule JSON → the compiled condition tree. Validates the grammar (exactly one operand,
//! exactly one operator, known operator names, well-formed `count`), parses template strings
//! and resolves fields. Errors carry the JSON Pointer of the offending node.

use serde_json::{Map, Value};

use crate::alias::AliasTable;
use crate::error::{pointer_token, PolicyError};
use crate::expr::{self, Template};
use crate::field::FieldRef;
use crate::rule::{
    Cond, CountCond, CountSource, FieldCond, FieldSpec, OpKind, Operand, Operator, ValueCond,
};

/// Deepest nesting of logical operators and counts accepted (Azure's own limits are far lower).
pub const MAX_DEPTH: usize = 256;

/// Compile the `if` block at `pointer`.
pub fn compile_condition(
    node: &Value,
    pointer: &str,
    aliases: &AliasTable,
) -> Result<Cond, PolicyError> {
    compile_node(node, pointer, aliases, 0, 0)
}

fn err(pointer: &str, message: impl Into<String>) -> PolicyError {
    PolicyError::new(pointer, message)
}

fn child(pointer: &str, key: &str) -> String {
    format!("{pointer}/{}", pointer_token(key))
}

/// Find a key case-insensitively; returns the key as written and the value.
fn take<'a>(map: &'a Map<String, Value>, key: &str) -> Option<(&'a String, &'a Value)> {
    map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key))
}

fn compile_node(
    node: &Value,
    pointer: &str,
    aliases: &AliasTable,
    depth: usize,
    count_depth: usize,
) -> Result<Cond, PolicyError> {
    if depth > MAX_DEPTH {
        return Err(err(
            pointer,
            format!("conditions nest deeper than {MAX_DEPTH} levels"),
        ));
    }
    let Value::Object(map) = node else {
        return Err(err(
            pointer,
            format!(
                "a condition must be an object, got `{}`",
                crate::compare::brief(node)
            ),
        ));
    };
    for logical in ["allOf", "anyOf"] {
        if let Some((key, value)) = take(map, logical) {
            if map.len() != 1 {
                return Err(err(
                    pointer,
                    format!("`{key}` cannot be combined with other keys"),
                ));
            }
            let here = child(pointer, key);
            let Value::Array(items) = value else {
                return Err(err(&here, format!("`{key}` takes an array of conditions")));
            };
            let mut children = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                children.push(compile_node(
                    item,
                    &format!("{here}/{i}"),
                    aliases,
                    depth + 1,
                    count_depth,
                )?);
            }
            return Ok(if logical == "allOf" {
                Cond::All(children)
            } else {
                Cond::Any(children)
            });
        }
    }
    if let Some((key, value)) = take(map, "not") {
        if map.len() != 1 {
            return Err(err(
                pointer,
                format!("`{key}` cannot be combined with other keys"),
            ));
        }
        let inner = compile_node(value, &child(pointer, key), aliases, depth + 1, count_depth)?;
        return Ok(Cond::Not(Box::new(inner)));
    }
    compile_leaf(map, pointer, aliases, depth, count_depth)
}

fn compile_leaf(
    map: &Map<String, Value>,
    pointer: &str,
    aliases: &AliasTable,
    depth: usize,
    count_depth: usize,
) -> Result<Cond, PolicyError> {
    let mut operand: Option<(&String, &Value)> = None;
    let mut operator: Option<(OpKind, &String, &Value)> = None;
    for (key, value) in map {
        let lower = key.to_ascii_lowercase();
        if matches!(lower.as_str(), "field" | "value" | "count") {
            if let Some((first, _)) = operand {
                return Err(err(
                    pointer,
                    format!("a condition takes one of `field`, `value` or `count`, got `{first}` and `{key}`"),
                ));
            }
            operand = Some((key, value));
        } else if let Some(kind) = OpKind::from_name(key) {
            if let Some((_, first, _)) = operator {
                return Err(err(
                    pointer,
                    format!("a condition takes exactly one operator, got `{first}` and `{key}`"),
                ));
            }
            operator = Some((kind, key, value));
        } else if matches!(lower.as_str(), "allof" | "anyof" | "not" | "where" | "name") {
            return Err(err(
                &child(pointer, key),
                format!("`{key}` is not allowed here"),
            ));
        } else {
            return Err(err(
                &child(pointer, key),
                format!("unknown operator `{key}`"),
            ));
        }
    }
    let Some((operand_key, operand_value)) = operand else {
        return Err(err(
            pointer,
            "a condition needs `field`, `value` or `count`",
        ));
    };
    let Some((kind, op_key, op_value)) = operator else {
        return Err(err(
            pointer,
            format!("the `{operand_key}` condition has no operator"),
        ));
    };
    let op = Operator::new(kind, compile_operand(op_value, &child(pointer, op_key))?);
    check_constant_rhs(&op, &child(pointer, op_key))?;
    let pointer_s = pointer.to_string();
    if count_depth == 0 {
        let lower = operand_key.to_ascii_lowercase();
        let mut exprs: Vec<(&Operand, String)> = vec![(&op.rhs, child(pointer, op_key))];
        let operand_as = if lower == "value" {
            compile_operand(operand_value, &child(pointer, operand_key)).ok()
        } else {
            None
        };
        if let Some(o) = &operand_as {
            exprs.push((o, child(pointer, operand_key)));
        }
        for (o, at) in exprs {
            if let Operand::Expr(e) = o {
                if calls(e, "current") {
                    return Err(err(&at, "`current()` is only allowed inside `count.where`"));
                }
            }
        }
    }
    match operand_key.to_ascii_lowercase().as_str() {
        "field" => {
            let field = compile_field(operand_value, &child(pointer, operand_key), aliases)?;
            let mut op = op;
            if let FieldSpec::Resolved(f) = &field {
                if f.location && is_equality(kind) {
                    op.normalize_location();
                }
            }
            Ok(Cond::Field(Box::new(FieldCond {
                field,
                op,
                pointer: pointer_s,
            })))
        }
        "value" => Ok(Cond::Value(Box::new(ValueCond {
            value: compile_operand(operand_value, &child(pointer, operand_key))?,
            op,
            pointer: pointer_s,
        }))),
        _ => {
            let here = child(pointer, operand_key);
            compile_count(
                operand_value,
                &here,
                aliases,
                depth,
                count_depth,
                op,
                pointer_s,
            )
        }
    }
}

/// Operators that compare for equality, where `location` values are normalised.
pub fn is_equality(kind: OpKind) -> bool {
    matches!(
        kind,
        OpKind::Equals | OpKind::NotEquals | OpKind::In | OpKind::NotIn
    )
}

fn compile_count(
    node: &Value,
    pointer: &str,
    aliases: &AliasTable,
    depth: usize,
    count_depth: usize,
    op: Operator,
    cond_pointer: String,
) -> Result<Cond, PolicyError> {
    let Value::Object(map) = node else {
        return Err(err(
            pointer,
            "`count` takes an object with `field` or `value`",
        ));
    };
    let mut source = None;
    let mut name = None;
    let mut where_ = None;
    for (key, value) in map {
        let here = child(pointer, key);
        match key.to_ascii_lowercase().as_str() {
            "field" => {
                if source.is_some() {
                    return Err(err(
                        pointer,
                        "`count` takes either `field` or `value`, not both",
                    ));
                }
                let field = compile_field(value, &here, aliases)?;
                if let FieldSpec::Resolved(f) = &field {
                    if !f.is_collection() {
                        return Err(err(
                            &here,
                            format!(
                                "`count.field` must be an array alias with `[*]`, got `{}`",
                                f.text
                            ),
                        ));
                    }
                }
                source = Some(CountSource::Field(field));
            }
            "value" => {
                if source.is_some() {
                    return Err(err(
                        pointer,
                        "`count` takes either `field` or `value`, not both",
                    ));
                }
                source = Some(CountSource::Value(compile_operand(value, &here)?));
            }
            "name" => {
                let Value::String(s) = value else {
                    return Err(err(&here, "`count.name` must be a string"));
                };
                if s.is_empty() || !s.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(err(
                        &here,
                        format!("`count.name` must be English letters and digits, got `{s}`"),
                    ));
                }
                name = Some(s.clone());
            }
            "where" => {
                where_ = Some(Box::new(compile_node(
                    value,
                    &here,
                    aliases,
                    depth + 1,
                    count_depth + 1,
                )?));
            }
            _ => return Err(err(&here, format!("unknown `count` property `{key}`"))),
        }
    }
    let Some(source) = source else {
        return Err(err(pointer, "`count` needs `field` or `value`"));
    };
    if name.is_none() && count_depth > 0 && matches!(source, CountSource::Value(_)) {
        return Err(err(
            pointer,
            "a value count inside another count needs `name`",
        ));
    }
    if name.is_some() && matches!(source, CountSource::Field(_)) {
        return Err(err(
            pointer,
            "`count.name` is only allowed with a value count",
        ));
    }
    Ok(Cond::Count(Box::new(CountCond {
        source,
        name,
        where_,
        op,
        pointer: cond_pointer,
    })))
}

/// A `field` operand: a field name, or an expression yielding one.
pub fn compile_field(
    node: &Value,
    pointer: &str,
    aliases: &AliasTable,
) -> Result<FieldSpec, PolicyError> {
    let Value::String(text) = node else {
        return Err(err(pointer, "`field` must be a string"));
    };
    match expr::parse_template(text).map_err(|e| err(pointer, e.message))? {
        Template::Literal(name) => FieldRef::resolve(&name, aliases)
            .map(FieldSpec::Resolved)
            .map_err(|m| err(pointer, m)),
        Template::Expr(e) => {
            expr::validate(&e).map_err(|x| err(pointer, x.message))?;
            Ok(FieldSpec::Dynamic(e))
        }
    }
}

/// A `value` operand or an operator's expected value: a literal, or a template string.
pub fn compile_operand(node: &Value, pointer: &str) -> Result<Operand, PolicyError> {
    match node {
        Value::String(s) => match expr::parse_template(s).map_err(|e| err(pointer, e.message))? {
            Template::Literal(t) => Ok(Operand::Const(Value::String(t))),
            Template::Expr(e) => {
                expr::validate(&e).map_err(|x| err(pointer, x.message))?;
                Ok(Operand::Expr(e))
            }
        },
        other => Ok(Operand::Const(other.clone())),
    }
}

/// True when `e` calls function `name` anywhere.
pub fn calls(e: &expr::Expr, name: &str) -> bool {
    match e {
        expr::Expr::Literal(_) => false,
        expr::Expr::Call { name: n, args } => n == name || args.iter().any(|a| calls(a, name)),
        expr::Expr::Member { target, .. } => calls(target, name),
        expr::Expr::Index { target, index } => calls(target, name) || calls(index, name),
    }
}

/// Reject constant expected values an operator cannot take: `in`/`notIn` need an array,
/// `exists` a boolean (or its string form).
fn check_constant_rhs(op: &Operator, pointer: &str) -> Result<(), PolicyError> {
    let Operand::Const(v) = &op.rhs else {
        return Ok(());
    };
    match op.kind {
        OpKind::In | OpKind::NotIn if !v.is_array() => Err(err(
            pointer,
            format!(
                "`{}` takes an array, got `{}`",
                op.kind.name(),
                crate::compare::brief(v)
            ),
        )),
        OpKind::Exists
            if !(v.is_boolean()
                || v.as_str().is_some_and(|s| {
                    s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false")
                })) =>
        {
            Err(err(
                pointer,
                format!(
                    "`exists` takes `true` or `false`, got `{}`",
                    crate::compare::brief(v)
                ),
            ))
        }
        _ => Ok(()),
    }
}
