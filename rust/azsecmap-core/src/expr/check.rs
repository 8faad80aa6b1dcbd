//! Static checks and rewriting of expression trees: [`validate`] (known functions, arity), [`is_pure`] and
//! [`fold`] (parameter substitution and constant folding of pure calls).

use serde_json::Value;

use super::eval::lazy_on_values;
use super::functions::{self, Kind, UNAVAILABLE_IN_POLICY};
use super::value;
use super::{Expr, ExprError, MAX_TREE_DEPTH};

/// Validate function names and arities over the whole tree.
pub(crate) fn validate(expr: &Expr) -> Result<(), ExprError> {
    validate_at(expr, 0)
}

fn verr(message: String) -> ExprError {
    ExprError { message, offset: 0 }
}

fn validate_at(expr: &Expr, depth: usize) -> Result<(), ExprError> {
    if depth > MAX_TREE_DEPTH {
        return Err(verr(format!(
            "expression is nested deeper than {MAX_TREE_DEPTH} levels"
        )));
    }
    let next = depth.saturating_add(1);
    match expr {
        Expr::Literal(_) => Ok(()),
        Expr::Member { target, .. } => validate_at(target, next),
        Expr::Index { target, index } => {
            validate_at(target, next)?;
            validate_at(index, next)
        }
        Expr::Call { name, args } => {
            let Some(sig) = functions::signature(name) else {
                if UNAVAILABLE_IN_POLICY.contains(&name.as_str()) || name.starts_with("list") {
                    return Err(verr(format!(
                        "function `{name}` is not available in policy rules"
                    )));
                }
                return Err(verr(format!("unknown function `{name}`")));
            };
            functions::check_arity(sig, args.len()).map_err(verr)?;
            args.iter().try_for_each(|a| validate_at(a, next))
        }
    }
}

/// True when no call in the tree reads the resource, request, policy context or clock.
pub(crate) fn is_pure(expr: &Expr) -> bool {
    is_pure_at(expr, 0)
}

fn is_pure_at(expr: &Expr, depth: usize) -> bool {
    if depth > MAX_TREE_DEPTH {
        return false;
    }
    let next = depth.saturating_add(1);
    match expr {
        Expr::Literal(_) => true,
        Expr::Member { target, .. } => is_pure_at(target, next),
        Expr::Index { target, index } => is_pure_at(target, next) && is_pure_at(index, next),
        Expr::Call { name, args } => {
            let own = match functions::signature(name) {
                Some(sig) => sig.kind != Kind::Context,
                // unknown functions (including newGuid) are not known to be pure
                None => false,
            };
            own && args.iter().all(|a| is_pure_at(a, next))
        }
    }
}

/// Fold parameters and constant sub-expressions.
pub(crate) fn fold(expr: Expr, params: &dyn Fn(&str) -> Option<Value>) -> Expr {
    fold_at(expr, params, 0)
}

fn fold_at(expr: Expr, params: &dyn Fn(&str) -> Option<Value>, depth: usize) -> Expr {
    if depth > MAX_TREE_DEPTH {
        return expr;
    }
    let next = depth.saturating_add(1);
    match expr {
        Expr::Literal(_) => expr,
        Expr::Member { target, name } => {
            let target = fold_at(*target, params, next);
            if let Expr::Literal(v) = &target {
                if let Ok(r) = value::member(v, &name) {
                    return Expr::Literal(r);
                }
            }
            Expr::Member {
                target: Box::new(target),
                name,
            }
        }
        Expr::Index { target, index } => {
            let target = fold_at(*target, params, next);
            let index = fold_at(*index, params, next);
            if let (Expr::Literal(t), Expr::Literal(i)) = (&target, &index) {
                if let Ok(r) = value::index(t, i) {
                    return Expr::Literal(r);
                }
            }
            Expr::Index {
                target: Box::new(target),
                index: Box::new(index),
            }
        }
        Expr::Call { name, args } => {
            let args: Vec<Expr> = args.into_iter().map(|a| fold_at(a, params, next)).collect();
            fold_call(name, args, params)
        }
    }
}

fn literal(e: &Expr) -> Option<&Value> {
    match e {
        Expr::Literal(v) => Some(v),
        _ => None,
    }
}

fn fold_call(name: String, args: Vec<Expr>, params: &dyn Fn(&str) -> Option<Value>) -> Expr {
    let Some(sig) = functions::signature(&name) else {
        return Expr::Call { name, args };
    };
    if functions::check_arity(sig, args.len()).is_err() {
        return Expr::Call { name, args };
    }
    match sig.kind {
        Kind::Context => Expr::Call { name, args },
        Kind::Parameter => {
            if let Some(Value::String(p)) = args.first().and_then(literal) {
                if let Some(v) = params(p) {
                    return Expr::Literal(v);
                }
            }
            Expr::Call { name, args }
        }
        Kind::Lazy => fold_lazy(name, args),
        Kind::Pure => {
            let vals: Option<Vec<Value>> = args.iter().map(|a| literal(a).cloned()).collect();
            if let Some(vals) = vals {
                if let Some(Ok(v)) = functions::call_pure(&name, &vals) {
                    return Expr::Literal(v);
                }
            }
            Expr::Call { name, args }
        }
    }
}

/// Fold `if` / `and` / `or` / `coalesce` as far as the arguments evaluated first are literals.
fn fold_lazy(name: String, mut args: Vec<Expr>) -> Expr {
    match name.as_str() {
        "if" => {
            let cond = args.first().and_then(literal).and_then(Value::as_bool);
            match cond {
                Some(true) if args.len() == 3 => args.swap_remove(1),
                Some(false) if args.len() == 3 => args.swap_remove(2),
                _ => Expr::Call { name, args },
            }
        }
        "and" | "or" => {
            let stop_on = name == "or";
            for a in &args {
                match literal(a) {
                    Some(Value::Bool(b)) if *b == stop_on => {
                        return Expr::Literal(Value::Bool(stop_on))
                    }
                    Some(Value::Bool(_)) => {}
                    _ => return Expr::Call { name, args },
                }
            }
            Expr::Literal(Value::Bool(!stop_on))
        }
        "coalesce" => {
            for a in &args {
                match literal(a) {
                    Some(Value::Null) => {}
                    Some(v) => return Expr::Literal(v.clone()),
                    None => return Expr::Call { name, args },
                }
            }
            Expr::Literal(Value::Null)
        }
        _ => {
            let vals: Option<Vec<Value>> = args.iter().map(|a| literal(a).cloned()).collect();
            match vals.map(|v| lazy_on_values(&name, &v)) {
                Some(Ok(v)) => Expr::Literal(v),
                _ => Expr::Call { name, args },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )]
    use super::super::{parse_template, Template};
    use super::*;
    use serde_json::json;

    fn ex(s: &str) -> Expr {
        match parse_template(s).unwrap() {
            Template::Expr(e) => e,
            Template::Literal(l) => panic!("literal {l}"),
        }
    }

    fn params(name: &str) -> Option<Value> {
        match name.to_lowercase().as_str() {
            "prefix" => Some(json!("pre")),
            "effect" => Some(json!("Audit")),
            "obj" => Some(json!({"a": {"b": 3}})),
            _ => None,
        }
    }

    #[test]
    fn validate_names_and_arity() {
        assert!(validate(&ex("[concat(parameters('a'), field('b'))]")).is_ok());
        let e = validate(&ex("[frobnicate(1)]")).unwrap_err();
        assert_eq!(e.message, "unknown function `frobnicate`");
        let e = validate(&ex("[resourceId('a', 'b')]")).unwrap_err();
        assert_eq!(
            e.message,
            "function `resourceid` is not available in policy rules"
        );
        assert!(validate(&ex("[listKeys('x', '2020')]")).is_err());
        assert!(validate(&ex("[newGuid()]")).is_err());
        assert!(validate(&ex("[equals(1)]")).is_err());
        assert!(validate(&ex("[if(true(), 1)]")).is_err());
        assert!(validate(&ex("[field('a')[unknown()]]")).is_err());
        assert!(validate(&ex("[concat()]")).is_ok());
    }

    #[test]
    fn purity() {
        assert!(is_pure(&ex("[concat(parameters('a'), 'b')]")));
        assert!(!is_pure(&ex("[concat(parameters('a'), field('b'))]")));
        assert!(!is_pure(&ex("[addDays(utcNow(), 1)]")));
        assert!(!is_pure(&ex("[policy().assignmentId]")));
        assert!(!is_pure(&ex("[first(requestContext().x)]")));
    }

    #[test]
    fn folding() {
        assert_eq!(
            fold(
                ex("[concat(parameters('prefix'), '-', toLower('AB'))]"),
                &params
            ),
            Expr::Literal(json!("pre-ab"))
        );
        assert_eq!(
            fold(ex("[parameters('obj').a.B]"), &params),
            Expr::Literal(json!(3))
        );
        // unknown parameter stays
        assert_eq!(
            fold(ex("[parameters('zzz')]"), &params),
            ex("[parameters('zzz')]")
        );
        // field never folds, but its literal arguments do
        assert_eq!(
            fold(ex("[field(concat('a', 'b'))]"), &params),
            ex("[field('ab')]")
        );
        // errors stay unfolded
        assert_eq!(fold(ex("[div(1, 0)]"), &params), ex("[div(1, 0)]"));
        // lazy folding picks the branch
        assert_eq!(
            fold(
                ex("[if(equals(parameters('effect'), 'Audit'), field('x'), div(1, 0))]"),
                &params
            ),
            ex("[field('x')]")
        );
        assert_eq!(
            fold(ex("[and(false(), field('x'))]"), &params),
            Expr::Literal(json!(false))
        );
        assert_eq!(
            fold(ex("[and(field('x'), false())]"), &params),
            Expr::Call {
                name: "and".into(),
                args: vec![ex("[field('x')]"), Expr::Literal(json!(false))]
            }
        );
        assert_eq!(
            fold(ex("[coalesce(null(), 'a', field('x'))]"), &params),
            Expr::Literal(json!("a"))
        );
        assert_eq!(fold(ex("[utcNow()]"), &params), ex("[utcNow()]"));
        assert_eq!(
            fold(ex("[split('a/b', '/')[1]]"), &params),
            Expr::Literal(json!("b"))
        );
    }
}
