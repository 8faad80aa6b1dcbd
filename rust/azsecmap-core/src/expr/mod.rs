//! Template-expression language used inside Azure Policy rules (`"[concat(parameters('p'), field('name'))]"`):
//! a parser, a validator, a constant folder and an evaluator with ARM-template semantics as Azure Policy
//! documents them ("policy functions" and the ARM template function reference).
//!
//! Layout: `parser` turns text into [`Expr`], `check` validates / folds / classifies trees, `eval` runs them
//! against a [`Scope`], `value` holds the ARM value helpers (type names, equality, string conversion), and
//! `functions/` has one file per function family plus the registry of names and arities.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::todo,
    clippy::unimplemented
)]

mod check;
mod eval;
pub mod functions;
mod parser;
mod value;

#[cfg(test)]
mod builtin_tests;

use serde_json::Value;

/// Parsed expression tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A constant: `'str'`, `12`, or a folded value.
    Literal(Value),
    /// A function call; `name` is lower-cased.
    Call {
        /// Lower-cased function name.
        name: String,
        /// Arguments in source order.
        args: Vec<Expr>,
    },
    /// Property access `f().prop` (case-insensitive on objects, like ARM).
    Member {
        /// The value whose property is read.
        target: Box<Expr>,
        /// The property name as written.
        name: String,
    },
    /// Indexing `f()[0]` or `f()['key']`.
    Index {
        /// The value being indexed.
        target: Box<Expr>,
        /// The index or key expression.
        index: Box<Expr>,
    },
}

/// A policy string: either plain text (including the `[[` escape, already unescaped) or an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Template {
    /// Plain text, used as is.
    Literal(String),
    /// A `[...]` expression.
    Expr(Expr),
}

/// A parse-time or validation error, with the byte offset in the source string where it was found
/// (0 for errors found by [`validate`], which works on trees without positions).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ExprError {
    /// One-line message.
    pub message: String,
    /// Byte offset in the parsed string.
    pub offset: usize,
}

/// An evaluation-time error (Azure turns these into a failed evaluation).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct EvalError(pub String);

/// What an expression can see at evaluation time. Implemented by the evaluator for a (policy, resource) pair.
pub trait Scope {
    /// Value of parameter `name` (case-insensitive); error naming it when undefined.
    fn parameter(&self, name: &str) -> Result<Value, EvalError>;
    /// Value of `field(path)` for the resource under evaluation; `Value::Null` when the property is absent.
    fn field(&self, path: &str) -> Result<Value, EvalError>;
    /// Value of `current(name)` / `current()` inside a count; error when not inside a matching count.
    fn current(&self, name: Option<&str>) -> Result<Value, EvalError>;
    /// The `resourceGroup()` object.
    fn resource_group(&self) -> Result<Value, EvalError>;
    /// The `subscription()` object.
    fn subscription(&self) -> Result<Value, EvalError>;
    /// `resourceGroup().<key>` or `subscription().<key>` read without building the object
    /// (`function` lower-cased); `None` to build it and read the member from it.
    fn context_property(&self, _function: &str, _key: &str) -> Option<Result<Value, EvalError>> {
        None
    }
    /// The `requestContext()` object (`apiVersion`, `identity`, ...).
    fn request_context(&self) -> Result<Value, EvalError>;
    /// The `policy()` object (`assignmentId`, `definitionId`, `setDefinitionId`, `definitionReferenceId`).
    fn policy(&self) -> Result<Value, EvalError>;
    /// The injectable clock behind utcNow().
    fn now(&self) -> chrono::DateTime<chrono::Utc>;
}

/// Longest string [`parse_template`] accepts (1 MiB).
pub const MAX_SOURCE_LEN: usize = 1 << 20;
/// Deepest nesting of function calls accepted (Azure Policy's documented "nested policy functions depth").
pub const MAX_CALL_DEPTH: usize = 64;
/// Deepest nesting of any node (calls, member access, indexing) accepted; bounds recursion everywhere.
pub const MAX_TREE_DEPTH: usize = 256;
/// Longest string a function may return (Azure Policy's documented evaluation limit).
pub const MAX_RESULT_STRING_LEN: usize = 131_072;

/// Parse a string from a policy rule. A string is an expression when it starts with `[` and ends with `]`
/// (after the `[[` escape check), per ARM rules.
pub fn parse_template(s: &str) -> Result<Template, ExprError> {
    parser::parse_template(s)
}

/// Evaluate `expr` in `scope`.
pub fn evaluate(expr: &Expr, scope: &dyn Scope) -> Result<Value, EvalError> {
    eval::evaluate(expr, scope)
}

/// Fold at compile time: replace `parameters('x')` by `params(x)` when it returns Some, and any pure call whose
/// arguments are all literals by its value. Never folds field, current, utcNow, resourceGroup, subscription,
/// requestContext, policy, newGuid. Folding errors leave the call unfolded (the error then happens at
/// evaluation, like Azure).
pub fn fold(expr: Expr, params: &dyn Fn(&str) -> Option<Value>) -> Expr {
    check::fold(expr, params)
}

/// Check that every function called is known and, where the arity is fixed, called with an accepted number of
/// arguments; also rejects the ARM functions Azure Policy does not offer in policy rules.
pub fn validate(expr: &Expr) -> Result<(), ExprError> {
    check::validate(expr)
}

/// True when the tree calls nothing that depends on the resource, the request, the policy context or the
/// clock (`parameters` counts as pure: it is fixed per assignment).
pub fn is_pure(expr: &Expr) -> bool {
    check::is_pure(expr)
}

/// Names of all functions implemented (lower-case), for the coverage test and docs.
pub fn known_functions() -> &'static [&'static str] {
    functions::KNOWN_NAMES
}
