//! Conversion functions: `bool`, `int`, `float`, `string`, `json`.

use serde_json::Value;

use super::super::value::{arg, arg_str, check_len, show, to_arm_string, type_err};
use super::super::EvalError;

/// Evaluate a conversion function.
pub(crate) fn call(name: &str, args: &[Value]) -> Result<Value, EvalError> {
    match name {
        "bool" => to_bool(arg(name, args, 0)?).map(Value::Bool),
        "int" => to_int(arg(name, args, 0)?).map(|i| Value::Number(i.into())),
        "float" => to_float(arg(name, args, 0)?),
        "string" => check_len(name, to_arm_string(arg(name, args, 0)?)),
        "json" => parse_json(arg_str(name, args, 0)?),
        _ => Err(EvalError(format!("unknown function `{name}`"))),
    }
}

/// `bool()`: booleans as is, `'true'`/`'false'` in any case, integers (zero is false).
fn to_bool(v: &Value) -> Result<bool, EvalError> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) => {
            let t = s.trim();
            if t.eq_ignore_ascii_case("true") {
                Ok(true)
            } else if t.eq_ignore_ascii_case("false") {
                Ok(false)
            } else {
                Err(EvalError(format!(
                    "function `bool` cannot convert the string `{s}` to a boolean"
                )))
            }
        }
        Value::Number(n) => match n.as_i64() {
            Some(i) => Ok(i != 0),
            None => Err(type_err("bool", 1, "a string, an integer or a boolean", v)),
        },
        other => Err(type_err(
            "bool",
            1,
            "a string, an integer or a boolean",
            other,
        )),
    }
}

/// `float()`: a number from a string or an integer (ARM numeric functions).
fn to_float(v: &Value) -> Result<Value, EvalError> {
    let f = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        other => return Err(type_err("float", 1, "a string or an integer", other)),
    }
    .filter(|f| f.is_finite())
    .ok_or_else(|| {
        EvalError(format!(
            "function `float` cannot convert `{}` to a number",
            show(v)
        ))
    })?;
    serde_json::Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| EvalError(format!("function `float` cannot represent `{}`", show(v))))
}

/// `int()`: integers as is, strings holding an integer (surrounding white space allowed, like .NET).
// DECISION: floats are rejected like booleans (ARM documents `int` for strings and integers only).
fn to_int(v: &Value) -> Result<i64, EvalError> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| type_err("int", 1, "a string or an integer", v)),
        Value::String(s) => s.trim().parse::<i64>().map_err(|_| {
            EvalError(format!(
                "function `int` cannot convert the string `{s}` to an integer"
            ))
        }),
        other => Err(type_err("int", 1, "a string or an integer", other)),
    }
}

/// `json()`: parse JSON text. Accepts the relaxed forms the ARM runtime (Newtonsoft) accepts in practice:
/// single-quoted strings and unquoted property names.
pub(crate) fn parse_json(s: &str) -> Result<Value, EvalError> {
    if let Ok(v) = serde_json::from_str::<Value>(s) {
        return Ok(v);
    }
    // DECISION: lenient fallback for Newtonsoft-style JSON (the ARM docs' own base64ToJson example uses
    // `{'one': 'a', 'two': 'b'}`).
    let relaxed = relax_json(s);
    serde_json::from_str::<Value>(&relaxed).map_err(|e| {
        EvalError(format!(
            "function `json` cannot parse `{}`: {e}",
            show(&Value::String(s.to_string()))
        ))
    })
}

/// Rewrite single-quoted strings as double-quoted ones and quote bare property names.
fn relax_json(s: &str) -> String {
    let mut out = String::with_capacity(s.len().saturating_add(8));
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push('"');
                while let Some(d) = chars.next() {
                    out.push(d);
                    if d == '\\' {
                        if let Some(e) = chars.next() {
                            out.push(e);
                        }
                    } else if d == '"' {
                        break;
                    }
                }
            }
            '\'' => {
                out.push('"');
                while let Some(d) = chars.next() {
                    match d {
                        '\\' => {
                            if let Some(e) = chars.next() {
                                if e == '\'' {
                                    out.push('\'');
                                } else {
                                    out.push('\\');
                                    out.push(e);
                                }
                            }
                        }
                        '\'' => break,
                        '"' => out.push_str("\\\""),
                        other => out.push(other),
                    }
                }
                out.push('"');
            }
            c if c.is_alphabetic() || c == '_' || c == '$' => {
                let mut word = String::from(c);
                while let Some(&d) = chars.peek() {
                    if d.is_alphanumeric() || d == '_' || d == '$' {
                        word.push(d);
                        chars.next();
                    } else {
                        break;
                    }
                }
                let mut look = chars.clone();
                while look.peek().is_some_and(|d| d.is_whitespace()) {
                    look.next();
                }
                let is_key = look.peek() == Some(&':');
                if is_key {
                    out.push('"');
                    out.push_str(&word);
                    out.push('"');
                } else {
                    out.push_str(&word);
                }
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::super::super::eval::tests::run;
    use serde_json::json;

    #[test]
    fn bools() {
        assert_eq!(run("[bool('TRUE')]").unwrap(), json!(true));
        assert_eq!(run("[bool('false')]").unwrap(), json!(false));
        assert_eq!(run("[bool(0)]").unwrap(), json!(false));
        assert_eq!(run("[bool(2)]").unwrap(), json!(true));
        assert_eq!(run("[bool(true())]").unwrap(), json!(true));
        assert!(run("[bool('yes')]").is_err());
        assert!(run("[bool(null())]").is_err());
    }

    #[test]
    fn ints() {
        assert_eq!(run("[int('12')]").unwrap(), json!(12));
        assert_eq!(run("[int(' -4 ')]").unwrap(), json!(-4));
        assert_eq!(run("[int(7)]").unwrap(), json!(7));
        assert!(run("[int('1.5')]").is_err());
        assert!(run("[int(true())]").is_err());
        assert!(run("[int('')]").is_err());
    }

    #[test]
    fn strings() {
        assert_eq!(
            run("[string(createObject('valueA', 10, 'valueB', 'Example Text'))]").unwrap(),
            json!("{\"valueA\":10,\"valueB\":\"Example Text\"}")
        );
        assert_eq!(
            run("[string(createArray('a', 'b', 'c'))]").unwrap(),
            json!("[\"a\",\"b\",\"c\"]")
        );
        assert_eq!(run("[string(5)]").unwrap(), json!("5"));
        assert_eq!(run("[string(true())]").unwrap(), json!("True"));
        assert_eq!(run("[string(null())]").unwrap(), json!(""));
        assert_eq!(run("[string('x')]").unwrap(), json!("x"));
    }

    #[test]
    fn json_parsing() {
        assert_eq!(
            run("[json('{\"a\": [1, true]}')]").unwrap(),
            json!({"a": [1, true]})
        );
        assert_eq!(run("[json('null')]").unwrap(), json!(null));
        assert_eq!(
            run("[json('{''one'': ''a'', two: ''b''}')]").unwrap(),
            json!({"one": "a", "two": "b"})
        );
        assert_eq!(run("[json('true')]").unwrap(), json!(true));
        assert!(run("[json('{')]").is_err());
        assert!(run("[json(1)]").is_err());
    }
}
