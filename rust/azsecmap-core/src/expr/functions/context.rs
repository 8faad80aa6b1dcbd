//! Scope-bound functions: `parameters`, `field`, `current`, `resourceGroup`, `subscription`, `requestContext`,
//! `policy` and the clock `utcNow`. They read the [`Scope`] and are never folded (except `parameters`).

use serde_json::Value;

use super::super::value::{arg_str, type_err};
use super::super::{EvalError, Scope};
use super::date;

/// Evaluate a context function on evaluated arguments.
pub(crate) fn call(name: &str, args: &[Value], scope: &dyn Scope) -> Result<Value, EvalError> {
    match name {
        "parameters" => scope.parameter(arg_str(name, args, 0)?),
        "field" => scope.field(arg_str(name, args, 0)?),
        "current" => match args.first() {
            None => scope.current(None),
            Some(Value::String(s)) => scope.current(Some(s)),
            Some(other) => Err(type_err(name, 1, "a string", other)),
        },
        "resourcegroup" => scope.resource_group(),
        "subscription" => scope.subscription(),
        "requestcontext" => scope.request_context(),
        "policy" => scope.policy(),
        "utcnow" => {
            let now = scope.now();
            match args.first() {
                None => Ok(Value::String(date::format_policy_default(&now))),
                Some(Value::String(f)) => date::format_datetime(&now, f).map(Value::String),
                Some(other) => Err(type_err(name, 1, "a string", other)),
            }
        }
        _ => Err(EvalError(format!("unknown function `{name}`"))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::super::super::eval::tests::{run, run_in, TestScope};
    use serde_json::json;

    #[test]
    fn context_functions() {
        assert_eq!(run("[parameters('PREFIX')]").unwrap(), json!("pre"));
        assert!(run("[parameters('nope')]")
            .unwrap_err()
            .0
            .contains("`nope`"));
        assert!(run("[parameters(1)]").is_err());
        assert_eq!(run("[field('name')]").unwrap(), json!("vm1"));
        assert_eq!(run("[field('absent')]").unwrap(), json!(null));
        assert_eq!(run("[resourceGroup().name]").unwrap(), json!("rg1"));
        assert_eq!(
            run("[subscription().subscriptionId]").unwrap(),
            json!("0000")
        );
        assert_eq!(
            run("[requestContext().apiVersion]").unwrap(),
            json!("2023-01-01")
        );
        assert_eq!(run("[policy().assignmentId]").unwrap(), json!("/a/1"));
        assert!(run("[current('x')]").is_err());
        let s = TestScope {
            current: Some(json!({"value": 3})),
            ..TestScope::default()
        };
        assert_eq!(run_in("[current('x').value]", &s).unwrap(), json!(3));
        assert_eq!(run_in("[current()]", &s).unwrap(), json!({"value": 3}));
    }

    #[test]
    fn utcnow_uses_the_scope_clock() {
        assert_eq!(
            run("[utcNow()]").unwrap(),
            json!("2024-02-29T13:04:05.0000000Z")
        );
        assert_eq!(run("[utcNow('yyyy-MM-dd')]").unwrap(), json!("2024-02-29"));
        assert_eq!(run("[utcNow('u')]").unwrap(), json!("2024-02-29 13:04:05Z"));
        assert!(run("[utcNow(1)]").is_err());
    }
}
