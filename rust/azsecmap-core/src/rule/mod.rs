//! The compiled policy rule: an immutable tree with one variant per construct of the
//! `if` grammar (logical operators, `field`/`value`/`count` conditions, condition operators).

pub mod compile;
pub mod eval;
pub mod operator;

use serde_json::Value;

use crate::expr::Expr;
use crate::field::FieldRef;
pub use operator::{OpKind, Operator};

/// A compiled condition.
#[derive(Debug, Clone)]
pub enum Cond {
    /// `allOf`: every child is true (an empty list is true).
    All(Vec<Cond>),
    /// `anyOf`: at least one child is true (an empty list is false).
    Any(Vec<Cond>),
    /// `not`: inverts its child.
    Not(Box<Cond>),
    /// `{"field": …, <operator>: …}`.
    Field(Box<FieldCond>),
    /// `{"value": …, <operator>: …}`.
    Value(Box<ValueCond>),
    /// `{"count": {…}, <operator>: …}`.
    Count(Box<CountCond>),
}

/// A value known at compile time, or an expression evaluated per resource.
#[derive(Debug, Clone)]
pub enum Operand {
    /// A literal (or a folded expression).
    Const(Value),
    /// A template expression still to evaluate.
    Expr(Expr),
}

/// The field a condition reads: resolved, or computed by an expression (resolved at bind
/// time when it folds to a constant, else per resource).
#[derive(Debug, Clone)]
pub enum FieldSpec {
    /// A resolved field reference.
    Resolved(FieldRef),
    /// An expression yielding the field name.
    Dynamic(Expr),
}

/// A `field` condition.
#[derive(Debug, Clone)]
pub struct FieldCond {
    /// The field read.
    pub field: FieldSpec,
    /// The operator and its expected value.
    pub op: Operator,
    /// JSON Pointer of this condition within the rule.
    pub pointer: String,
}

/// A `value` condition.
#[derive(Debug, Clone)]
pub struct ValueCond {
    /// The value compared.
    pub value: Operand,
    /// The operator and its expected value.
    pub op: Operator,
    /// JSON Pointer of this condition within the rule.
    pub pointer: String,
}

/// What a `count` enumerates.
#[derive(Debug, Clone)]
pub enum CountSource {
    /// Field count over a `[*]` alias.
    Field(FieldSpec),
    /// Value count over an array (literal or expression).
    Value(Operand),
}

/// A `count` condition.
#[derive(Debug, Clone)]
pub struct CountCond {
    /// The array enumerated.
    pub source: CountSource,
    /// Index name for `current(name)` (value count; `None` means the implicit `default`).
    pub name: Option<String>,
    /// Optional per-member condition.
    pub where_: Option<Box<Cond>>,
    /// The operator comparing the count.
    pub op: Operator,
    /// JSON Pointer of this condition within the rule.
    pub pointer: String,
}
