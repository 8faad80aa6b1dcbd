//! azsecmap-core: an offline Azure Policy engine. Policy definitions compile once into an
//! immutable condition tree ([`policy::PolicyDefinition`]); binding assignment parameters
//! yields a [`policy::BoundPolicy`] that decides (policy, resource) pairs. [`graph`] holds the
//! control catalog: frameworks, controls, policy → control edges and cross-framework mappings.

#![warn(missing_docs)]

pub mod alias;
pub mod batch;
pub mod compare;
pub mod default_pack;
pub mod error;
pub mod expr;
pub mod field;
pub mod graph;
pub mod path;
pub mod policy;
pub mod projection;
pub mod rule;
pub mod sample;
pub mod tag_support;

pub use error::{EvaluationError, PolicyError};
pub use policy::{BoundPolicy, Decision, PolicyDefinition};
pub use rule::eval::{EvalOptions, Reason};
