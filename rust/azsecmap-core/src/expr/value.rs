//! ARM value helpers shared by the evaluator and the functions: type names for messages, argument
//! extraction, deep equality, ARM string conversion and case-insensitive property lookup.

use serde_json::{Map, Value};

use super::{EvalError, MAX_RESULT_STRING_LEN};

/// ARM type name of a value, as used in error messages.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "Null",
        Value::Bool(_) => "Boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "Integer",
        Value::Number(_) => "Float",
        Value::String(_) => "String",
        Value::Array(_) => "Array",
        Value::Object(_) => "Object",
    }
}

/// Compact JSON of a value, cut to a readable length, for error messages.
pub(crate) fn show(v: &Value) -> String {
    let s = match v {
        Value::String(s) => format!("'{s}'"),
        other => other.to_string(),
    };
    let s = s.replace(['\n', '\r'], " ");
    if s.chars().count() > 80 {
        let cut: String = s.chars().take(77).collect();
        format!("{cut}...")
    } else {
        s
    }
}

/// Error for a value of the wrong type given to function `func` at 1-based position `pos`.
pub(crate) fn type_err(func: &str, pos: usize, expected: &str, got: &Value) -> EvalError {
    EvalError(format!(
        "function `{func}` expects argument {pos} to be {expected}, got {} `{}`",
        type_name(got),
        show(got)
    ))
}

/// Argument `i` (0-based) or an arity error.
pub(crate) fn arg<'a>(func: &str, args: &'a [Value], i: usize) -> Result<&'a Value, EvalError> {
    args.get(i).ok_or_else(|| {
        EvalError(format!(
            "function `{func}` is missing argument {}",
            i.saturating_add(1)
        ))
    })
}

/// Argument `i` as a string.
pub(crate) fn arg_str<'a>(func: &str, args: &'a [Value], i: usize) -> Result<&'a str, EvalError> {
    let v = arg(func, args, i)?;
    v.as_str()
        .ok_or_else(|| type_err(func, i.saturating_add(1), "a string", v))
}

/// Argument `i` as a 64-bit integer.
pub(crate) fn arg_int(func: &str, args: &[Value], i: usize) -> Result<i64, EvalError> {
    let v = arg(func, args, i)?;
    as_int(v).ok_or_else(|| type_err(func, i.saturating_add(1), "an integer", v))
}

/// Argument `i` as a boolean.
pub(crate) fn arg_bool(func: &str, args: &[Value], i: usize) -> Result<bool, EvalError> {
    let v = arg(func, args, i)?;
    v.as_bool()
        .ok_or_else(|| type_err(func, i.saturating_add(1), "a boolean", v))
}

/// The value as an i64 when it is an integer JSON number.
pub(crate) fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

/// Deep equality with ARM semantics: strings compare ordinally (case-sensitive), numbers numerically,
/// arrays element-wise, objects by key set (exact keys) and values.
// DECISION: `equals` is case-sensitive for strings and object keys (JToken deep equality, and Bicep maps
// `==` to `equals` while `=~` needs toLower on both sides).
pub(crate) fn deep_equals(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => match (x.as_f64(), y.as_f64()) {
                (Some(f), Some(g)) => f == g,
                _ => false,
            },
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| deep_equals(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| deep_equals(v, w)))
        }
        _ => a == b,
    }
}

/// ARM conversion of a scalar to text, as used by `string()`, `concat()` and `format()`:
/// strings as is, booleans as `True`/`False` (.NET), numbers in invariant form, null as empty.
/// Arrays and objects become compact JSON.
// DECISION: `string(null)` is `''` and booleans are `True`/`False`: ARM converts primitive JSON values with the
// .NET `ToString()` of the value (evidence: `string(true())` is `True` in ARM, see PSRule.Rules.Azure #793).
pub(crate) fn to_arm_string(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(true) => "True".to_string(),
        Value::Bool(false) => "False".to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(_) | Value::Object(_) => v.to_string(),
    }
}

/// Case-insensitive (ordinal ignore case) property lookup; exact match wins over a case-folded one.
pub(crate) fn get_ci<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    if let Some(v) = map.get(key) {
        return Some(v);
    }
    map.iter()
        .find(|(k, _)| eq_ignore_case(k, key))
        .map(|(_, v)| v)
}

/// Ordinal ignore-case comparison (per-character simple case folding).
pub(crate) fn eq_ignore_case(a: &str, b: &str) -> bool {
    (a.len() == b.len() && a.eq_ignore_ascii_case(b)) || fold_chars(a) == fold_chars(b)
}

/// Characters upper-cased one to one (a character whose upper case is several characters is kept), like
/// .NET `ToUpperInvariant` per UTF-16 unit, so that positions stay aligned with the input.
pub(crate) fn fold_chars(s: &str) -> Vec<char> {
    s.chars().map(fold_char).collect()
}

/// One character upper-cased one to one.
pub(crate) fn fold_char(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_uppercase();
    }
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// Fails when a function would return a string longer than Azure Policy allows.
pub(crate) fn check_len(func: &str, s: String) -> Result<Value, EvalError> {
    if s.len() > MAX_RESULT_STRING_LEN {
        return Err(EvalError(format!(
            "function `{func}` would return a string of {} bytes, over the limit of {MAX_RESULT_STRING_LEN}",
            s.len()
        )));
    }
    Ok(Value::String(s))
}

/// Property access `target.name` / `target['name']` on an evaluated value.
pub(crate) fn member(target: &Value, name: &str) -> Result<Value, EvalError> {
    match target {
        Value::Object(map) => get_ci(map, name).cloned().ok_or_else(|| {
            EvalError(format!(
                "property `{name}` does not exist on object `{}`",
                show(target)
            ))
        }),
        Value::Null => Err(EvalError(format!(
            "cannot read property `{name}` of a null value"
        ))),
        other => Err(EvalError(format!(
            "cannot read property `{name}` of {} `{}`",
            type_name(other),
            show(other)
        ))),
    }
}

/// Index access `target[index]` on evaluated values.
pub(crate) fn index(target: &Value, idx: &Value) -> Result<Value, EvalError> {
    match (target, idx) {
        (Value::Array(items), _) => {
            let i = as_int(idx).ok_or_else(|| {
                EvalError(format!(
                    "array index must be an integer, got {} `{}`",
                    type_name(idx),
                    show(idx)
                ))
            })?;
            usize::try_from(i)
                .ok()
                .and_then(|u| items.get(u))
                .cloned()
                .ok_or_else(|| {
                    EvalError(format!(
                        "array index `{i}` is out of range for an array of length {}",
                        items.len()
                    ))
                })
        }
        (Value::Object(_), Value::String(key)) => member(target, key),
        (Value::Object(_), other) => Err(EvalError(format!(
            "object key must be a string, got {} `{}`",
            type_name(other),
            show(other)
        ))),
        (Value::Null, _) => Err(EvalError(format!(
            "cannot index a null value with `{}`",
            show(idx)
        ))),
        (other, _) => Err(EvalError(format!(
            "cannot index {} `{}` with `{}`",
            type_name(other),
            show(other),
            show(idx)
        ))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;
    use serde_json::json;

    #[test]
    fn equality_is_deep_and_case_sensitive() {
        assert!(deep_equals(
            &json!({"a": [1, {"b": "x"}]}),
            &json!({"a": [1, {"b": "x"}]})
        ));
        assert!(!deep_equals(&json!("a"), &json!("A")));
        assert!(deep_equals(&json!(1), &json!(1.0)));
        assert!(!deep_equals(&json!([1, 2]), &json!([2, 1])));
    }

    #[test]
    fn arm_strings() {
        assert_eq!(to_arm_string(&json!(true)), "True");
        assert_eq!(to_arm_string(&json!(null)), "");
        assert_eq!(to_arm_string(&json!({"a": 1})), "{\"a\":1}");
    }

    #[test]
    fn member_access_is_case_insensitive() {
        let v = json!({"subscriptionId": "x"});
        assert_eq!(member(&v, "SubscriptionID").unwrap(), json!("x"));
        assert!(member(&v, "nope").is_err());
        assert!(member(&Value::Null, "a").is_err());
        assert_eq!(index(&json!([1, 2]), &json!(1)).unwrap(), json!(2));
        assert!(index(&json!([1, 2]), &json!(2)).is_err());
        assert!(index(&json!([1, 2]), &json!(-1)).is_err());
    }
}
