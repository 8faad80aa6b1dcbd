//! Typed errors of the engine. Every error carries a location: a JSON Pointer into the
//! policy, or the resource and the path into it. Pointers grow outward as errors rise.

use thiserror::Error;

/// A policy definition (or a parameter value given to it) that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message} (at `{pointer}`)")]
pub struct PolicyError {
    /// JSON Pointer into the definition document, e.g. `/properties/policyRule/if/allOf/2`.
    pub pointer: String,
    /// One-line message, lower-case start, no trailing period.
    pub message: String,
}

impl PolicyError {
    /// A new error at `pointer`.
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            message: message.into(),
        }
    }

    /// Prefix the pointer with an outer segment path (already `/`-joined, e.g. `/properties`).
    #[must_use]
    pub fn within(mut self, outer: &str) -> Self {
        self.pointer = format!("{outer}{}", self.pointer);
        self
    }
}

/// A (policy, resource) pair that failed to evaluate, as Azure reports an evaluation error.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct EvaluationError {
    /// One-line message, lower-case start, no trailing period.
    pub message: String,
    /// JSON Pointer of the condition that failed, inside the policy rule.
    pub pointer: String,
}

impl EvaluationError {
    /// A new evaluation error at `pointer`.
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

/// Escape one JSON Pointer token (RFC 6901).
pub fn pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}
