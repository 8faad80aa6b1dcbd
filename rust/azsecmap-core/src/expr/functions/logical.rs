//! Logical and comparison functions: `not`, `true`, `false`, `null`, `equals`, `less`, `lessOrEquals`,
//! `greater`, `greaterOrEquals`. (`if`, `and`, `or`, `coalesce` are lazy and live in the evaluator.)

use std::cmp::Ordering;

use serde_json::Value;

use super::super::value::{arg, arg_bool, deep_equals, show, type_name};
use super::super::EvalError;

/// Evaluate a logical / comparison function.
pub(crate) fn call(name: &str, args: &[Value]) -> Result<Value, EvalError> {
    match name {
        "not" => Ok(Value::Bool(!arg_bool(name, args, 0)?)),
        "true" => Ok(Value::Bool(true)),
        "false" => Ok(Value::Bool(false)),
        "null" => Ok(Value::Null),
        "equals" => Ok(Value::Bool(deep_equals(
            arg(name, args, 0)?,
            arg(name, args, 1)?,
        ))),
        "less" | "lessorequals" | "greater" | "greaterorequals" => {
            let ord = compare(name, arg(name, args, 0)?, arg(name, args, 1)?)?;
            let r = match name {
                "less" => ord == Ordering::Less,
                "lessorequals" => ord != Ordering::Greater,
                "greater" => ord == Ordering::Greater,
                _ => ord != Ordering::Less,
            };
            Ok(Value::Bool(r))
        }
        _ => Err(EvalError(format!("unknown function `{name}`"))),
    }
}

/// Order two values for the comparison functions: both numbers, or both strings (ordinal, case-sensitive).
// DECISION: string comparison is ordinal by Unicode scalar value (Rust `str` order); .NET ordinal compares
// UTF-16 units, which differs only between astral characters and U+E000..U+FFFF.
pub(crate) fn compare(func: &str, a: &Value, b: &Value) -> Result<Ordering, EvalError> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => Ok(i.cmp(&j)),
            _ => {
                let (f, g) = (
                    x.as_f64().unwrap_or(f64::NAN),
                    y.as_f64().unwrap_or(f64::NAN),
                );
                f.partial_cmp(&g).ok_or_else(|| {
                    EvalError(format!("function `{func}` cannot compare `{x}` with `{y}`"))
                })
            }
        },
        (Value::String(x), Value::String(y)) => Ok(x.as_str().cmp(y.as_str())),
        _ => Err(EvalError(format!(
            "function `{func}` expects two integers or two strings, got {} `{}` and {} `{}`",
            type_name(a),
            show(a),
            type_name(b),
            show(b)
        ))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::super::super::eval::tests::run;
    use serde_json::json;

    #[test]
    fn booleans() {
        assert_eq!(run("[not(true())]").unwrap(), json!(false));
        assert!(run("[not('true')]").is_err());
        assert_eq!(run("[null()]").unwrap(), json!(null));
        assert_eq!(run("[false()]").unwrap(), json!(false));
    }

    #[test]
    fn equals_is_deep() {
        assert_eq!(run("[equals('a', 'a')]").unwrap(), json!(true));
        assert_eq!(run("[equals('a', 'A')]").unwrap(), json!(false));
        assert_eq!(run("[equals(1, 1)]").unwrap(), json!(true));
        assert_eq!(run("[equals(1, '1')]").unwrap(), json!(false));
        assert_eq!(
            run("[equals(createArray(1, 'a'), createArray(1, 'a'))]").unwrap(),
            json!(true)
        );
        assert_eq!(
            run("[equals(createObject('a', createArray(1)), json('{\"a\":[1]}'))]").unwrap(),
            json!(true)
        );
        assert_eq!(
            run("[equals(field('absent'), null())]").unwrap(),
            json!(true)
        );
        assert_eq!(
            run("[equals(parameters('list'), createArray('b', 'a'))]").unwrap(),
            json!(false)
        );
    }

    #[test]
    fn comparisons() {
        assert_eq!(run("[less(1, 2)]").unwrap(), json!(true));
        assert_eq!(run("[lessOrEquals(2, 2)]").unwrap(), json!(true));
        assert_eq!(run("[greater(-1, 2)]").unwrap(), json!(false));
        assert_eq!(
            run("[greaterOrEquals('2021-06-01', '2021-06-01')]").unwrap(),
            json!(true)
        );
        assert_eq!(
            run("[greaterOrEquals('2020-06-01', '2021-06-01')]").unwrap(),
            json!(false)
        );
        // ordinal: upper case sorts before lower case
        assert_eq!(run("[less('A', 'a')]").unwrap(), json!(true));
        assert_eq!(run("[greater('b', 'a')]").unwrap(), json!(true));
        assert!(run("[less(1, '2')]").is_err());
        assert!(run("[less(null(), 1)]").is_err());
        assert_eq!(run("[less(json('1.5'), 2)]").unwrap(), json!(true));
    }
}
