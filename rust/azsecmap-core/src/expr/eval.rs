//! Evaluator: walks an [`Expr`] against a [`Scope`]. `if`, `and`, `or` and `coalesce` evaluate their arguments
//! lazily (only what decides the result), everything else evaluates all arguments first, left to right.

use serde_json::Value;

use super::functions::{self, context, Kind};
use super::value;
use super::{EvalError, Expr, Scope, MAX_TREE_DEPTH};

/// Evaluate `expr` in `scope`.
pub(crate) fn evaluate(expr: &Expr, scope: &dyn Scope) -> Result<Value, EvalError> {
    eval_at(expr, scope, 0).map_err(|e| EvalError(one_line(&e.0)))
}

/// Keep error messages on one line and of readable length, whatever input they quote.
fn one_line(msg: &str) -> String {
    let flat: String = msg
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() > 400 {
        let cut: String = flat.chars().take(397).collect();
        format!("{cut}...")
    } else {
        flat
    }
}

fn eval_at(expr: &Expr, scope: &dyn Scope, depth: usize) -> Result<Value, EvalError> {
    if depth > MAX_TREE_DEPTH {
        return Err(EvalError(format!(
            "expression is nested deeper than {MAX_TREE_DEPTH} levels"
        )));
    }
    let next = depth.saturating_add(1);
    match expr {
        Expr::Literal(v) => Ok(v.clone()),
        Expr::Member { target, name } => {
            if let Expr::Call {
                name: function,
                args,
            } = target.as_ref()
            {
                if args.is_empty() {
                    if let Some(v) = scope.context_property(function, name) {
                        return v;
                    }
                }
            }
            let t = eval_at(target, scope, next)?;
            value::member(&t, name)
        }
        Expr::Index { target, index } => {
            let t = eval_at(target, scope, next)?;
            let i = eval_at(index, scope, next)?;
            value::index(&t, &i)
        }
        Expr::Call { name, args } => call(name, args, scope, next),
    }
}

fn call(name: &str, args: &[Expr], scope: &dyn Scope, depth: usize) -> Result<Value, EvalError> {
    let sig = functions::signature(name).ok_or_else(|| unknown(name))?;
    functions::check_arity(sig, args.len()).map_err(EvalError)?;
    match sig.kind {
        Kind::Lazy => lazy(name, args, scope, depth),
        Kind::Parameter | Kind::Context => {
            let vals = eval_args(args, scope, depth)?;
            context::call(name, &vals, scope)
        }
        Kind::Pure => {
            let vals = eval_args(args, scope, depth)?;
            functions::call_pure(name, &vals).unwrap_or_else(|| Err(unknown(name)))
        }
    }
}

fn unknown(name: &str) -> EvalError {
    EvalError(format!("unknown function `{name}`"))
}

fn eval_args(args: &[Expr], scope: &dyn Scope, depth: usize) -> Result<Vec<Value>, EvalError> {
    args.iter().map(|a| eval_at(a, scope, depth)).collect()
}

/// `if`, `and`, `or`, `coalesce` with on-demand argument evaluation.
// DECISION: `and` / `or` short-circuit like `if` (Azure evaluates policy functions lazily so that guards such as
// `and(not(empty(x)), ...)` protect later arguments; PSRule.Rules.Azure #1026 made the same call for ARM).
// `coalesce` stops at the first non-null argument for the same reason.
fn lazy(name: &str, args: &[Expr], scope: &dyn Scope, depth: usize) -> Result<Value, EvalError> {
    match name {
        "if" => {
            let (cond, yes, no) = match args {
                [c, y, n] => (c, y, n),
                _ => return Err(EvalError("function `if` takes 3 arguments".to_string())),
            };
            let c = eval_at(cond, scope, depth)?;
            match c {
                Value::Bool(true) => eval_at(yes, scope, depth),
                Value::Bool(false) => eval_at(no, scope, depth),
                other => Err(value::type_err("if", 1, "a boolean", &other)),
            }
        }
        "and" | "or" => {
            let stop_on = name == "or";
            for (i, a) in args.iter().enumerate() {
                let v = eval_at(a, scope, depth)?;
                match v {
                    Value::Bool(b) if b == stop_on => return Ok(Value::Bool(stop_on)),
                    Value::Bool(_) => {}
                    other => {
                        return Err(value::type_err(
                            name,
                            i.saturating_add(1),
                            "a boolean",
                            &other,
                        ))
                    }
                }
            }
            Ok(Value::Bool(!stop_on))
        }
        "coalesce" => {
            for a in args {
                let v = eval_at(a, scope, depth)?;
                if !v.is_null() {
                    return Ok(v);
                }
            }
            Ok(Value::Null)
        }
        _ => Err(unknown(name)),
    }
}

/// Evaluate a lazy function whose arguments are all literals (used by folding).
pub(crate) fn lazy_on_values(name: &str, args: &[Value]) -> Result<Value, EvalError> {
    match name {
        "if" => match args {
            [Value::Bool(c), y, n] => Ok(if *c { y.clone() } else { n.clone() }),
            [c, _, _] => Err(value::type_err("if", 1, "a boolean", c)),
            _ => Err(EvalError("function `if` takes 3 arguments".to_string())),
        },
        "and" | "or" => {
            let stop_on = name == "or";
            for (i, v) in args.iter().enumerate() {
                match v {
                    Value::Bool(b) if *b == stop_on => return Ok(Value::Bool(stop_on)),
                    Value::Bool(_) => {}
                    other => {
                        return Err(value::type_err(
                            name,
                            i.saturating_add(1),
                            "a boolean",
                            other,
                        ))
                    }
                }
            }
            Ok(Value::Bool(!stop_on))
        }
        "coalesce" => Ok(args
            .iter()
            .find(|v| !v.is_null())
            .cloned()
            .unwrap_or(Value::Null)),
        _ => Err(unknown(name)),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )]
    use super::super::{parse_template, Template};
    use super::*;
    use chrono::{DateTime, TimeZone, Utc};
    use serde_json::json;

    /// A scope with fixed values, for tests across the module.
    pub(crate) struct TestScope {
        pub params: Value,
        pub fields: Value,
        pub current: Option<Value>,
    }

    impl Default for TestScope {
        fn default() -> Self {
            TestScope {
                params: json!({"prefix": "pre", "list": ["a", "b"], "n": 5, "obj": {"k": "v"}}),
                fields: json!({"name": "vm1", "type": "Microsoft.Compute/virtualMachines", "tags": {"env": "prod"}}),
                current: None,
            }
        }
    }

    impl Scope for TestScope {
        fn parameter(&self, name: &str) -> Result<Value, EvalError> {
            self.params
                .as_object()
                .and_then(|m| value::get_ci(m, name))
                .cloned()
                .ok_or_else(|| EvalError(format!("parameter `{name}` is not defined")))
        }
        fn field(&self, path: &str) -> Result<Value, EvalError> {
            Ok(self
                .fields
                .as_object()
                .and_then(|m| value::get_ci(m, path))
                .cloned()
                .unwrap_or(Value::Null))
        }
        fn current(&self, name: Option<&str>) -> Result<Value, EvalError> {
            self.current.clone().ok_or_else(|| {
                EvalError(format!(
                    "`current({})` used outside a count",
                    name.unwrap_or("")
                ))
            })
        }
        fn resource_group(&self) -> Result<Value, EvalError> {
            Ok(json!({"name": "rg1", "location": "westeurope", "tags": {}}))
        }
        fn subscription(&self) -> Result<Value, EvalError> {
            Ok(json!({"subscriptionId": "0000", "id": "/subscriptions/0000"}))
        }
        fn request_context(&self) -> Result<Value, EvalError> {
            Ok(json!({"apiVersion": "2023-01-01"}))
        }
        fn policy(&self) -> Result<Value, EvalError> {
            Ok(json!({"assignmentId": "/a/1", "definitionReferenceId": "ref"}))
        }
        fn now(&self) -> DateTime<Utc> {
            Utc.with_ymd_and_hms(2024, 2, 29, 13, 4, 5)
                .single()
                .unwrap()
        }
    }

    /// Parse and evaluate with the default test scope.
    pub(crate) fn run(s: &str) -> Result<Value, EvalError> {
        run_in(s, &TestScope::default())
    }

    /// Parse and evaluate in a given scope.
    pub(crate) fn run_in(s: &str, scope: &dyn Scope) -> Result<Value, EvalError> {
        match parse_template(s).map_err(|e| EvalError(e.message))? {
            Template::Expr(e) => evaluate(&e, scope),
            Template::Literal(l) => Ok(Value::String(l)),
        }
    }

    #[test]
    fn if_is_lazy() {
        assert_eq!(
            run("[if(true(), 'a', substring('x', 5, 1))]").unwrap(),
            json!("a")
        );
        assert_eq!(run("[if(false(), div(1, 0), 2)]").unwrap(), json!(2));
        assert!(run("[if(true(), div(1, 0), 2)]").is_err());
        assert!(run("[if('true', 1, 2)]").is_err());
    }

    #[test]
    fn and_or_short_circuit() {
        assert_eq!(run("[and(false(), div(1, 0))]").unwrap(), json!(false));
        assert_eq!(run("[or(true(), div(1, 0))]").unwrap(), json!(true));
        assert_eq!(run("[and(true(), true(), true())]").unwrap(), json!(true));
        assert_eq!(run("[or(false(), false())]").unwrap(), json!(false));
        assert!(run("[and(true(), 'x')]").is_err());
        assert_eq!(
            run("[coalesce(null(), field('missing'), 'x', div(1,0))]").unwrap(),
            json!("x")
        );
        assert_eq!(run("[coalesce(field('missing'))]").unwrap(), Value::Null);
    }

    #[test]
    fn members_and_indexes() {
        assert_eq!(
            run("[subscription().Id]").unwrap(),
            json!("/subscriptions/0000")
        );
        assert_eq!(run("[parameters('obj')['K']]").unwrap(), json!("v"));
        assert_eq!(run("[split('a/b/c', '/')[2]]").unwrap(), json!("c"));
        assert!(run("[field('missing').x]").is_err());
        assert!(run("[unknownfn()]").is_err());
        assert!(run("[not(true(), false())]").is_err());
        let e = run("[int('a\nb')]").unwrap_err();
        assert!(!e.0.contains('\n'), "{}", e.0);
    }

    #[test]
    fn deep_programmatic_tree_is_rejected_not_overflowing() {
        let mut e = Expr::Literal(json!(1));
        for _ in 0..1000 {
            e = Expr::Call {
                name: "array".into(),
                args: vec![e],
            };
        }
        assert!(evaluate(&e, &TestScope::default()).is_err());
        // drop a deep tree without overflowing (1000 levels is fine for Box drop)
    }
}
