//! Walking a compiled condition tree: visiting its expressions and fields, and folding
//! assignment parameter values into it at bind time.

use serde_json::Value;

use crate::alias::AliasTable;
use crate::compare::brief;
use crate::error::PolicyError;
use crate::expr::{self, Expr};
use crate::field::FieldRef;
use crate::rule::compile::is_equality;
use crate::rule::operator::normalize_location_value;
use crate::rule::{Cond, CountSource, FieldSpec, OpKind, Operand, Operator};

/// Visit every expression in a condition tree with the pointer of the condition holding it.
pub(super) fn walk_exprs(cond: &Cond, f: &mut dyn FnMut(&Expr, &str)) {
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

pub(super) fn walk_fields(cond: &Cond, f: &mut dyn FnMut(&FieldRef)) {
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
pub(super) fn find_param_refs(e: &Expr, declared: &[String]) -> Option<String> {
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

/// The resource fields `e` reads: the paths its `field('…')` calls name, and `location` for
/// `resourceGroup()`, whose object carries the resource's location.
pub(super) fn collect_field_calls(e: &Expr, out: &mut Vec<String>) {
    for_each_subexpr(e, &mut |x| {
        if let Expr::Call { name, args } = x {
            if name == "field" {
                if let Some(Expr::Literal(Value::String(p))) = args.first() {
                    out.push(p.clone());
                }
            } else if name == "resourcegroup" {
                // The resource group object carries the resource's location.
                out.push("location".to_string());
            }
        }
    });
}

type Lookup<'l> = dyn Fn(&str) -> Option<Value> + 'l;

pub(super) fn fold_operand(o: &Operand, params: &Lookup<'_>) -> Operand {
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

pub(super) fn fold_cond(
    cond: &Cond,
    params: &Lookup<'_>,
    aliases: &AliasTable,
) -> Result<Cond, PolicyError> {
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
