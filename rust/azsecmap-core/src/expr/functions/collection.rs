//! Array, object and mixed functions: `concat`, `contains`, `empty`, `first`, `last`, `length`, `skip`, `take`,
//! `union`, `intersection`, `createArray`, `createObject`, `array`, `range`, `items`, `objectKeys`, `tryGet`.

use serde_json::{Map, Value};

use super::super::value::{
    arg, arg_int, check_len, deep_equals, get_ci, show, to_arm_string, type_err, type_name,
};
use super::super::EvalError;

/// Largest `range()` count ARM accepts.
const MAX_RANGE: i64 = 10_000;

/// Evaluate a collection function.
pub(crate) fn call(name: &str, args: &[Value]) -> Result<Value, EvalError> {
    match name {
        "concat" => concat(args),
        "contains" => contains(args),
        "empty" => empty(arg(name, args, 0)?).map(Value::Bool),
        "first" | "last" => first_last(name, arg(name, args, 0)?),
        "length" => length(arg(name, args, 0)?),
        "skip" | "take" => skip_take(name, args),
        "union" => union(args),
        "intersection" => intersection(args),
        "createarray" => Ok(Value::Array(args.to_vec())),
        "createobject" => create_object(args),
        "array" => Ok(match arg(name, args, 0)? {
            Value::Array(a) => Value::Array(a.clone()),
            other => Value::Array(vec![other.clone()]),
        }),
        "range" => range(args),
        "items" => items(arg(name, args, 0)?),
        "objectkeys" => match arg(name, args, 0)? {
            Value::Object(m) => Ok(Value::Array(
                m.keys().map(|k| Value::String(k.clone())).collect(),
            )),
            other => Err(type_err(name, 1, "an object", other)),
        },
        "tryget" => try_get(args),
        _ => Err(EvalError(format!("unknown function `{name}`"))),
    }
}

/// `concat`: all arrays (concatenated) or all scalars (joined as text).
// DECISION: in string mode integers, booleans (`True`/`False`) and null (empty) are converted like `string()`;
// objects are an error. In array mode a null argument counts as an empty array. Mixing arrays with other
// values is an error, as documented.
fn concat(args: &[Value]) -> Result<Value, EvalError> {
    if args.first().is_some_and(Value::is_array) {
        let mut out = Vec::new();
        for (i, a) in args.iter().enumerate() {
            match a {
                Value::Array(items) => out.extend(items.iter().cloned()),
                Value::Null => {}
                other => return Err(type_err("concat", i.saturating_add(1), "an array", other)),
            }
        }
        return Ok(Value::Array(out));
    }
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        match a {
            Value::Array(_) | Value::Object(_) => {
                return Err(type_err(
                    "concat",
                    i.saturating_add(1),
                    "a string, an integer or a boolean",
                    a,
                ))
            }
            other => out.push_str(&to_arm_string(other)),
        }
    }
    check_len("concat", out)
}

/// `contains`: substring (case-sensitive), object key (case-insensitive), array element (exact).
fn contains(args: &[Value]) -> Result<Value, EvalError> {
    let container = arg("contains", args, 0)?;
    let item = arg("contains", args, 1)?;
    let r = match container {
        Value::String(s) => match item {
            Value::Array(_) | Value::Object(_) | Value::Null => {
                return Err(type_err("contains", 2, "a string or an integer", item))
            }
            other => s.contains(to_arm_string(other).as_str()),
        },
        Value::Object(m) => match item {
            Value::String(k) => get_ci(m, k).is_some(),
            other => m.contains_key(&to_arm_string(other)),
        },
        // DECISION: array membership uses `equals` semantics (case-sensitive strings, deep values).
        Value::Array(items) => items.iter().any(|v| deep_equals(v, item)),
        other => {
            return Err(type_err(
                "contains",
                1,
                "an array, an object or a string",
                other,
            ))
        }
    };
    Ok(Value::Bool(r))
}

/// `empty`: true for `''`, `[]`, `{}` and null.
// DECISION: `empty(null)` is true (ARM treats null like an absent value); numbers and booleans are errors,
// which is why built-ins write `empty(string(coalesce(field(...), '')))` for integer fields.
fn empty(v: &Value) -> Result<bool, EvalError> {
    match v {
        Value::Null => Ok(true),
        Value::String(s) => Ok(s.is_empty()),
        Value::Array(a) => Ok(a.is_empty()),
        Value::Object(m) => Ok(m.is_empty()),
        other => Err(type_err(
            "empty",
            1,
            "an array, an object or a string",
            other,
        )),
    }
}

/// `first` / `last`: a one-character string, or an element.
// DECISION: `first('')` is `''` and `first([])` is null (likewise `last`); null input is an error.
fn first_last(name: &str, v: &Value) -> Result<Value, EvalError> {
    match v {
        Value::String(s) => {
            let c = if name == "first" {
                s.chars().next()
            } else {
                s.chars().next_back()
            };
            Ok(Value::String(c.map(String::from).unwrap_or_default()))
        }
        Value::Array(a) => Ok(if name == "first" { a.first() } else { a.last() }
            .cloned()
            .unwrap_or(Value::Null)),
        other => Err(type_err(name, 1, "an array or a string", other)),
    }
}

/// `length`: characters of a string, elements of an array, top-level properties of an object.
fn length(v: &Value) -> Result<Value, EvalError> {
    let n = match v {
        Value::String(s) => s.chars().count(),
        Value::Array(a) => a.len(),
        Value::Object(m) => m.len(),
        other => {
            return Err(type_err(
                "length",
                1,
                "an array, an object or a string",
                other,
            ))
        }
    };
    Ok(Value::Number(i64::try_from(n).unwrap_or(i64::MAX).into()))
}

fn clamp(n: i64, len: usize) -> usize {
    if n <= 0 {
        0
    } else {
        usize::try_from(n).unwrap_or(usize::MAX).min(len)
    }
}

fn skip_take(name: &str, args: &[Value]) -> Result<Value, EvalError> {
    let v = arg(name, args, 0)?;
    let n = arg_int(name, args, 1)?;
    match v {
        Value::Array(a) => {
            let k = clamp(n, a.len());
            let part = if name == "skip" {
                a.get(k..)
            } else {
                a.get(..k)
            };
            Ok(Value::Array(
                part.map(<[Value]>::to_vec).unwrap_or_default(),
            ))
        }
        Value::String(s) => {
            let chars: Vec<char> = s.chars().collect();
            let k = clamp(n, chars.len());
            let part = if name == "skip" {
                chars.get(k..)
            } else {
                chars.get(..k)
            };
            Ok(Value::String(
                part.map(|p| p.iter().collect()).unwrap_or_default(),
            ))
        }
        other => Err(type_err(name, 1, "an array or a string", other)),
    }
}

/// `union`: arrays → distinct elements in order of first appearance; objects → merged, later values win and
/// nested objects present in both are merged recursively.
// DECISION: object union merges nested objects recursively (current ARM behaviour, see PSRule.Rules.Azure
// #2885 "Union does not perform deep merge"); nested arrays are replaced, not merged. Null arguments are
// skipped.
fn union(args: &[Value]) -> Result<Value, EvalError> {
    let kind = args.iter().find(|a| !a.is_null());
    match kind {
        None => Ok(Value::Null),
        Some(Value::Array(_)) => {
            let mut out: Vec<Value> = Vec::new();
            for (i, a) in args.iter().enumerate() {
                match a {
                    Value::Array(items) => {
                        for it in items {
                            if !out.iter().any(|o| deep_equals(o, it)) {
                                out.push(it.clone());
                            }
                        }
                    }
                    Value::Null => {}
                    other => return Err(type_err("union", i.saturating_add(1), "an array", other)),
                }
            }
            Ok(Value::Array(out))
        }
        Some(Value::Object(_)) => {
            let mut out = Map::new();
            for (i, a) in args.iter().enumerate() {
                match a {
                    Value::Object(m) => merge_into(&mut out, m, 0),
                    Value::Null => {}
                    other => {
                        return Err(type_err("union", i.saturating_add(1), "an object", other))
                    }
                }
            }
            Ok(Value::Object(out))
        }
        Some(other) => Err(type_err("union", 1, "an array or an object", other)),
    }
}

fn merge_into(out: &mut Map<String, Value>, add: &Map<String, Value>, depth: usize) {
    for (k, v) in add {
        let existing_key = out.keys().find(|ok| ok.eq_ignore_ascii_case(k)).cloned();
        match (existing_key.as_ref().and_then(|ek| out.get_mut(ek)), v) {
            (Some(Value::Object(old)), Value::Object(new)) if depth < 128 => {
                merge_into(old, new, depth.saturating_add(1));
            }
            _ => {
                if let Some(ek) = existing_key {
                    out.remove(&ek);
                }
                out.insert(k.clone(), v.clone());
            }
        }
    }
}

/// `intersection`: arrays → elements present in every array (order of the first); objects → properties with
/// equal values in every object.
fn intersection(args: &[Value]) -> Result<Value, EvalError> {
    let first = arg("intersection", args, 0)?;
    let rest = args.get(1..).unwrap_or_default();
    match first {
        Value::Array(items) => {
            let mut others = Vec::with_capacity(rest.len());
            for (i, a) in rest.iter().enumerate() {
                match a {
                    Value::Array(x) => others.push(x),
                    other => {
                        return Err(type_err(
                            "intersection",
                            i.saturating_add(2),
                            "an array",
                            other,
                        ))
                    }
                }
            }
            let mut out: Vec<Value> = Vec::new();
            for it in items {
                let everywhere = others.iter().all(|o| o.iter().any(|x| deep_equals(x, it)));
                if everywhere && !out.iter().any(|o| deep_equals(o, it)) {
                    out.push(it.clone());
                }
            }
            Ok(Value::Array(out))
        }
        Value::Object(m) => {
            let mut others = Vec::with_capacity(rest.len());
            for (i, a) in rest.iter().enumerate() {
                match a {
                    Value::Object(x) => others.push(x),
                    other => {
                        return Err(type_err(
                            "intersection",
                            i.saturating_add(2),
                            "an object",
                            other,
                        ))
                    }
                }
            }
            let mut out = Map::new();
            for (k, v) in m {
                if others
                    .iter()
                    .all(|o| get_ci(o, k).is_some_and(|w| deep_equals(v, w)))
                {
                    out.insert(k.clone(), v.clone());
                }
            }
            Ok(Value::Object(out))
        }
        other => Err(type_err("intersection", 1, "an array or an object", other)),
    }
}

fn create_object(args: &[Value]) -> Result<Value, EvalError> {
    if !args.len().is_multiple_of(2) {
        return Err(EvalError(format!(
            "function `createobject` expects key and value pairs, got {} arguments",
            args.len()
        )));
    }
    let mut out = Map::new();
    for (i, pair) in args.chunks(2).enumerate() {
        match pair {
            [Value::String(k), v] => {
                out.insert(k.clone(), v.clone());
            }
            [k, _] => {
                return Err(type_err(
                    "createobject",
                    i.saturating_mul(2).saturating_add(1),
                    "a string key",
                    k,
                ))
            }
            _ => {}
        }
    }
    Ok(Value::Object(out))
}

fn range(args: &[Value]) -> Result<Value, EvalError> {
    let start = arg_int("range", args, 0)?;
    let count = arg_int("range", args, 1)?;
    if !(0..=MAX_RANGE).contains(&count) {
        return Err(EvalError(format!(
            "function `range` count `{count}` must be between 0 and {MAX_RANGE}"
        )));
    }
    let end = start
        .checked_add(count)
        .filter(|e| *e <= i64::from(i32::MAX) + 1);
    if end.is_none() || start < i64::from(i32::MIN) {
        return Err(EvalError(format!(
            "function `range` start `{start}` plus count `{count}` is out of the 32-bit integer range"
        )));
    }
    Ok(Value::Array(
        (0..count)
            .filter_map(|i| start.checked_add(i))
            .map(|i| Value::Number(i.into()))
            .collect(),
    ))
}

/// `items`: object → array of `{key, value}` sorted by key.
// DECISION: keys are sorted ordinally ignoring case first, then ordinally (ARM docs: items are returned in
// alphabetical order of keys).
fn items(v: &Value) -> Result<Value, EvalError> {
    let m = match v {
        Value::Object(m) => m,
        other => return Err(type_err("items", 1, "an object", other)),
    };
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort_by(|a, b| {
        a.to_lowercase()
            .cmp(&b.to_lowercase())
            .then_with(|| a.cmp(b))
    });
    Ok(Value::Array(
        keys.into_iter()
            .filter_map(|k| {
                m.get(k).map(|val| {
                    let mut o = Map::new();
                    o.insert("key".to_string(), Value::String(k.clone()));
                    o.insert("value".to_string(), val.clone());
                    Value::Object(o)
                })
            })
            .collect(),
    ))
}

/// `tryGet(value, key, ...)`: property (case-insensitive) or index lookup, null when absent.
fn try_get(args: &[Value]) -> Result<Value, EvalError> {
    let mut cur = arg("tryget", args, 0)?;
    for (i, key) in args.iter().enumerate().skip(1) {
        let next = match (cur, key) {
            (Value::Null, _) => None,
            (Value::Object(m), Value::String(k)) => get_ci(m, k),
            (Value::Array(a), Value::Number(n)) => n
                .as_i64()
                .and_then(|x| usize::try_from(x).ok())
                .and_then(|x| a.get(x)),
            (Value::Object(_) | Value::Array(_), k) => {
                return Err(EvalError(format!(
                    "function `tryget` argument {} `{}` is not a valid key or index for {}",
                    i.saturating_add(1),
                    show(k),
                    type_name(cur)
                )))
            }
            (other, _) => {
                return Err(type_err("tryget", 1, "an object or an array", other));
            }
        };
        match next {
            Some(v) => cur = v,
            None => return Ok(Value::Null),
        }
    }
    Ok(cur.clone())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::super::super::eval::tests::run;
    use serde_json::json;

    #[test]
    fn concat_strings_and_arrays() {
        assert_eq!(
            run("[concat('a', 'b', 1, true())]").unwrap(),
            json!("ab1True")
        );
        assert_eq!(run("[concat('a', field('absent'))]").unwrap(), json!("a"));
        assert_eq!(
            run("[concat(createArray('1-1', '1-2'), createArray('2-1'))]").unwrap(),
            json!(["1-1", "1-2", "2-1"])
        );
        assert_eq!(run("[concat()]").unwrap(), json!(""));
        assert!(run("[concat(createArray(1), 'a')]").is_err());
        assert!(run("[concat('a', createArray(1))]").is_err());
        assert!(run("[concat('a', createObject())]").is_err());
    }

    #[test]
    fn contains_variants() {
        assert_eq!(run("[contains('OneTwoThree', 'e')]").unwrap(), json!(true));
        assert_eq!(run("[contains('OneTwoThree', 'z')]").unwrap(), json!(false));
        assert_eq!(
            run("[contains('OneTwoThree', 'one')]").unwrap(),
            json!(false)
        );
        assert_eq!(run("[contains('abc1', 1)]").unwrap(), json!(true));
        assert_eq!(
            run("[contains(parameters('obj'), 'K')]").unwrap(),
            json!(true)
        );
        assert_eq!(
            run("[contains(parameters('obj'), 'x')]").unwrap(),
            json!(false)
        );
        assert_eq!(
            run("[contains(parameters('list'), 'a')]").unwrap(),
            json!(true)
        );
        assert_eq!(
            run("[contains(parameters('list'), 'A')]").unwrap(),
            json!(false)
        );
        assert_eq!(
            run("[contains(createArray(1, 2), 2)]").unwrap(),
            json!(true)
        );
        assert!(run("[contains(field('absent'), 'a')]").is_err());
        assert!(run("[contains(1, 1)]").is_err());
    }

    #[test]
    fn emptiness() {
        assert_eq!(run("[empty('')]").unwrap(), json!(true));
        assert_eq!(run("[empty(createArray())]").unwrap(), json!(true));
        assert_eq!(run("[empty(createObject())]").unwrap(), json!(true));
        assert_eq!(run("[empty(null())]").unwrap(), json!(true));
        assert_eq!(run("[empty(field('absent'))]").unwrap(), json!(true));
        assert_eq!(run("[empty(' ')]").unwrap(), json!(false));
        assert_eq!(run("[empty(field('tags'))]").unwrap(), json!(false));
        assert!(run("[empty(0)]").is_err());
        assert!(run("[empty(false())]").is_err());
    }

    #[test]
    fn first_last_length() {
        assert_eq!(
            run("[first(createArray('one', 'two'))]").unwrap(),
            json!("one")
        );
        assert_eq!(run("[first('One Two')]").unwrap(), json!("O"));
        assert_eq!(run("[last('One Two Three')]").unwrap(), json!("e"));
        assert_eq!(
            run("[last(createArray('one', 'three'))]").unwrap(),
            json!("three")
        );
        assert_eq!(run("[first('')]").unwrap(), json!(""));
        assert_eq!(run("[first(createArray())]").unwrap(), json!(null));
        assert_eq!(run("[last(createArray())]").unwrap(), json!(null));
        assert!(run("[first(field('absent'))]").is_err());
        assert_eq!(run("[length('One Two Three')]").unwrap(), json!(13));
        assert_eq!(run("[length(createArray(1, 2, 3))]").unwrap(), json!(3));
        assert_eq!(
            run("[length(json('{\"a\":1,\"b\":{\"c\":2}}'))]").unwrap(),
            json!(2)
        );
        assert_eq!(run("[length('héllo')]").unwrap(), json!(5));
        assert!(run("[length(null())]").is_err());
        assert!(run("[length(5)]").is_err());
    }

    #[test]
    fn skip_and_take() {
        assert_eq!(
            run("[skip(createArray('one', 'two', 'three'), 2)]").unwrap(),
            json!(["three"])
        );
        assert_eq!(
            run("[skip('one two three', 4)]").unwrap(),
            json!("two three")
        );
        assert_eq!(run("[skip('abc', -1)]").unwrap(), json!("abc"));
        assert_eq!(run("[skip('abc', 10)]").unwrap(), json!(""));
        assert_eq!(
            run("[take(createArray('one', 'two', 'three'), 2)]").unwrap(),
            json!(["one", "two"])
        );
        assert_eq!(run("[take('one two', 2)]").unwrap(), json!("on"));
        assert_eq!(run("[take('abc', 0)]").unwrap(), json!(""));
        assert_eq!(run("[take(createArray(1), 5)]").unwrap(), json!([1]));
        assert!(run("[take(5, 1)]").is_err());
    }

    #[test]
    fn unions() {
        assert_eq!(
            run("[union(createArray('one', 'two'), createArray('two', 'three'))]").unwrap(),
            json!(["one", "two", "three"])
        );
        assert_eq!(
            run("[union(json('{\"a\":1,\"n\":{\"x\":1,\"arr\":[1]}}'), json('{\"b\":2,\"a\":3,\"n\":{\"y\":2,\"arr\":[2]}}'))]").unwrap(),
            json!({"a": 3, "b": 2, "n": {"x": 1, "y": 2, "arr": [2]}})
        );
        assert_eq!(run("[union(createArray(1), null())]").unwrap(), json!([1]));
        assert!(run("[union(createArray(1), createObject())]").is_err());
        assert!(run("[union('a', 'b')]").is_err());
    }

    #[test]
    fn intersections() {
        assert_eq!(
            run("[intersection(createArray('one', 'two', 'three'), createArray('two', 'three'))]")
                .unwrap(),
            json!(["two", "three"])
        );
        assert_eq!(
            run("[intersection(json('{\"a\":\"b\",\"c\":\"d\",\"e\":{\"f\":1}}'), json('{\"a\":\"b\",\"c\":\"x\",\"e\":{\"f\":1}}'))]").unwrap(),
            json!({"a": "b", "e": {"f": 1}})
        );
        assert_eq!(
            run("[length(intersection(field('tags'), createObject('env', 'prod')))]").unwrap(),
            json!(1)
        );
        assert!(run("[intersection(createArray(), createObject())]").is_err());
    }

    #[test]
    fn constructors() {
        assert_eq!(
            run("[createArray(1, 'a', createArray())]").unwrap(),
            json!([1, "a", []])
        );
        assert_eq!(run("[createArray()]").unwrap(), json!([]));
        assert_eq!(
            run("[createObject('a', 1, 'b', createObject('c', null()))]").unwrap(),
            json!({"a": 1, "b": {"c": null}})
        );
        assert!(run("[createObject('a')]").is_err());
        assert!(run("[createObject(1, 2)]").is_err());
        assert_eq!(run("[array('x')]").unwrap(), json!(["x"]));
        assert_eq!(run("[array(createArray(1))]").unwrap(), json!([1]));
        assert_eq!(
            run("[array(createObject('a', 1))]").unwrap(),
            json!([{"a": 1}])
        );
        assert_eq!(run("[range(1, 3)]").unwrap(), json!([1, 2, 3]));
        assert_eq!(run("[range(5, 0)]").unwrap(), json!([]));
        assert!(run("[range(0, -1)]").is_err());
        assert!(run("[range(0, 10001)]").is_err());
        assert!(run("[range(2147483647, 2)]").is_err());
    }

    #[test]
    fn object_helpers() {
        assert_eq!(
            run("[items(json('{\"b\":2,\"a\":1}'))]").unwrap(),
            json!([{"key": "a", "value": 1}, {"key": "b", "value": 2}])
        );
        assert_eq!(
            run("[objectKeys(createObject('a', 1, 'b', 2))]").unwrap(),
            json!(["a", "b"])
        );
        assert!(run("[items(createArray())]").is_err());
        assert_eq!(run("[tryGet(parameters('obj'), 'K')]").unwrap(), json!("v"));
        assert_eq!(
            run("[tryGet(parameters('obj'), 'missing')]").unwrap(),
            json!(null)
        );
        assert_eq!(run("[tryGet(field('absent'), 'x')]").unwrap(), json!(null));
        assert_eq!(run("[tryGet(createArray(1, 2), 1)]").unwrap(), json!(2));
        assert_eq!(run("[tryGet(createArray(1, 2), 5)]").unwrap(), json!(null));
        assert_eq!(
            run("[tryGet(json('{\"a\":{\"b\":1}}'), 'a', 'b')]").unwrap(),
            json!(1)
        );
        assert!(run("[tryGet('str', 'a')]").is_err());
    }
}
