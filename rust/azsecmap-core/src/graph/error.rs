//! Errors of the control catalog: a document that cannot be read, or a query about something
//! the catalog does not hold. Document errors carry a JSON Pointer into the document.

use thiserror::Error;

/// A catalog document or a catalog query that cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CatalogError {
    /// A document is malformed at `pointer` (JSON Pointer into the document, "" for the whole).
    #[error("{message} (at `{pointer}`)")]
    Invalid {
        /// JSON Pointer into the document.
        pointer: String,
        /// One-line message, lower-case start, no trailing period.
        message: String,
    },
    /// A control id that is not `FRAMEWORK:CONTROL`.
    #[error("control id `{0}` must have the form `FRAMEWORK:CONTROL`")]
    BadControlId(String),
    /// A control the catalog does not hold.
    #[error("unknown control `{0}`")]
    UnknownControl(String),
    /// A framework the catalog does not hold.
    #[error("unknown framework `{0}`")]
    UnknownFramework(String),
}

impl CatalogError {
    /// A document error at `pointer`.
    pub fn invalid(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            pointer: pointer.into(),
            message: message.into(),
        }
    }

    /// Prefix the pointer of a document error with an outer path (e.g. `/mappings/3`).
    #[must_use]
    pub fn within(self, outer: &str) -> Self {
        match self {
            Self::Invalid { pointer, message } => Self::Invalid {
                pointer: format!("{outer}{pointer}"),
                message,
            },
            other => other,
        }
    }

    /// The JSON Pointer of a document error, if this is one.
    pub fn pointer(&self) -> Option<&str> {
        match self {
            Self::Invalid { pointer, .. } => Some(pointer),
            _ => None,
        }
    }

    /// The message without the location.
    pub fn message(&self) -> String {
        match self {
            Self::Invalid { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }
}
