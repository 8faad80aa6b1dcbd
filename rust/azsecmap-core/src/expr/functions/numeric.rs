//! Integer arithmetic and extremes: `add`, `sub`, `mul`, `div`, `mod` (64-bit, checked: overflow and division
//! by zero are errors), `min`, `max` (integers, or one array of integers).

use serde_json::Value;

use super::super::value::{arg_int, as_int, type_err};
use super::super::EvalError;

/// Evaluate a numeric function.
pub(crate) fn call(name: &str, args: &[Value]) -> Result<Value, EvalError> {
    match name {
        "add" | "sub" | "mul" | "div" | "mod" => {
            let a = arg_int(name, args, 0)?;
            let b = arg_int(name, args, 1)?;
            if (name == "div" || name == "mod") && b == 0 {
                return Err(EvalError(format!(
                    "function `{name}` cannot divide `{a}` by zero"
                )));
            }
            // DECISION: `div` truncates toward zero and `mod` takes the sign of the dividend (.NET semantics).
            let r = match name {
                "add" => a.checked_add(b),
                "sub" => a.checked_sub(b),
                "mul" => a.checked_mul(b),
                "div" => a.checked_div(b),
                _ => a.checked_rem(b),
            };
            r.map(|i| Value::Number(i.into())).ok_or_else(|| {
                EvalError(format!(
                    "function `{name}` overflows 64-bit integers with `{a}` and `{b}`"
                ))
            })
        }
        "min" | "max" => extreme(name, args),
        _ => Err(EvalError(format!("unknown function `{name}`"))),
    }
}

fn extreme(name: &str, args: &[Value]) -> Result<Value, EvalError> {
    let items: Vec<&Value> = match args {
        [Value::Array(a)] => a.iter().collect(),
        _ => args.iter().collect(),
    };
    let mut best: Option<i64> = None;
    for (i, v) in items.iter().enumerate() {
        let n = as_int(v).ok_or_else(|| type_err(name, i.saturating_add(1), "an integer", v))?;
        best = Some(match best {
            None => n,
            Some(b) if name == "min" => b.min(n),
            Some(b) => b.max(n),
        });
    }
    best.map(|b| Value::Number(b.into())).ok_or_else(|| {
        EvalError(format!(
            "function `{name}` needs at least one value, got `[]`"
        ))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::super::super::eval::tests::run;
    use serde_json::json;

    #[test]
    fn arithmetic() {
        assert_eq!(run("[add(5, 3)]").unwrap(), json!(8));
        assert_eq!(run("[sub(5, 7)]").unwrap(), json!(-2));
        assert_eq!(
            run("[mul(max(1, length(parameters('list'))), 3)]").unwrap(),
            json!(6)
        );
        assert_eq!(run("[div(7, 2)]").unwrap(), json!(3));
        assert_eq!(run("[div(-7, 2)]").unwrap(), json!(-3));
        assert_eq!(run("[mod(-7, 2)]").unwrap(), json!(-1));
        assert_eq!(run("[mod(7, 3)]").unwrap(), json!(1));
        assert!(run("[div(1, 0)]").unwrap_err().0.contains("zero"));
        assert!(run("[mod(1, 0)]").is_err());
        assert!(run("[add(9223372036854775807, 1)]").is_err());
        assert!(run("[div(-9223372036854775808, -1)]").is_err());
        assert!(run("[add('1', 2)]").is_err());
    }

    #[test]
    fn extremes() {
        assert_eq!(run("[min(3, 1, 2)]").unwrap(), json!(1));
        assert_eq!(run("[max(createArray(3, 9, 2))]").unwrap(), json!(9));
        assert_eq!(run("[min(4)]").unwrap(), json!(4));
        assert!(run("[max(createArray())]").is_err());
        assert!(run("[max(1, 'a')]").is_err());
    }
}
