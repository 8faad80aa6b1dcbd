//! Azure Policy applicability logic (docs: "What is applicability in Azure Policy?"): which
//! (resource, policy) pairs count at all. For `auditIfNotExists`/`deployIfNotExists` the whole
//! `if` decides; for every other effect only the `type`, `name` and `kind` conditions do (other
//! conditions count as true, or as false under `not`), with the special cases of the docs' table.

use serde_json::Value;

use crate::error::EvaluationError;
use crate::field::FieldKind;
use crate::rule::eval::Evaluator;
use crate::rule::{Cond, FieldSpec, Operand};

/// Which condition kinds decide applicability for one policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Considered {
    /// `type` conditions count.
    pub kind_type: bool,
    /// `name` conditions count.
    pub kind_name: bool,
    /// `kind` conditions count.
    pub kind_kind: bool,
    /// The policy has a `location` condition (not applicable to subscriptions).
    pub has_location: bool,
}

#[derive(Default)]
struct Seen {
    t: bool,
    n: bool,
    k: bool,
    other: bool,
    location: bool,
}

/// What a leaf condition reads, for applicability.
#[derive(PartialEq, Eq, Clone, Copy)]
enum LeafClass {
    Type,
    Name,
    Kind,
    Other,
}

fn classify(cond: &Cond) -> Option<LeafClass> {
    match cond {
        Cond::Field(fc) => Some(match &fc.field {
            FieldSpec::Resolved(f) if f.kind == FieldKind::Builtin => {
                let is = |name: &str| f.text.eq_ignore_ascii_case(name);
                if is("type") {
                    LeafClass::Type
                } else if is("name") || is("fullname") {
                    LeafClass::Name
                } else if is("kind") {
                    LeafClass::Kind
                } else {
                    LeafClass::Other
                }
            }
            _ => LeafClass::Other,
        }),
        Cond::Value(_) | Cond::Count(_) => Some(LeafClass::Other),
        _ => None,
    }
}

fn scan(cond: &Cond, seen: &mut Seen) {
    match cond {
        Cond::All(cs) | Cond::Any(cs) => cs.iter().for_each(|c| scan(c, seen)),
        Cond::Not(c) => scan(c, seen),
        leaf => {
            if let Cond::Field(fc) = leaf {
                if let FieldSpec::Resolved(f) = &fc.field {
                    if f.location {
                        seen.location = true;
                    }
                }
            }
            match classify(leaf) {
                Some(LeafClass::Type) => seen.t = true,
                Some(LeafClass::Name) => seen.n = true,
                Some(LeafClass::Kind) => seen.k = true,
                _ => seen.other = true,
            }
        }
    }
}

impl Considered {
    /// Apply the docs' table to a policy's `if`.
    pub fn of(cond: &Cond) -> Self {
        let mut s = Seen::default();
        scan(cond, &mut s);
        let (kind_type, kind_name, kind_kind) = match (s.t, s.other) {
            // Only `kind` and/or `name` conditions: applicable to all resources.
            (false, false) => (false, false, false),
            // `type` with only `kind`/`name` besides: only `type` counts.
            (true, false) => (true, false, false),
            // `type`, `kind`/`name` and other conditions: all three kinds count.
            (true, true) => (true, s.n, s.k),
            // No `type` but other conditions: the base rule, `name` and `kind` count.
            (false, true) => (false, s.n, s.k),
        };
        Self {
            kind_type,
            kind_name,
            kind_kind,
            has_location: s.location,
        }
    }

    /// Only the `type` conditions, for indexing policies by resource type (an upper bound of
    /// the full applicability: every other leaf takes its most permissive value).
    pub fn type_only(self) -> Self {
        Self {
            kind_name: false,
            kind_kind: false,
            ..self
        }
    }

    /// True when the resource type alone settles applicability for `cond`: only `type`
    /// conditions count, and each compares with a constant (an expression could read other
    /// fields of the resource). Then the answer for a type probe holds for every resource of
    /// that type.
    pub fn decided_by_type(self, cond: &Cond) -> bool {
        !self.kind_name && !self.kind_kind && type_leaves_constant(cond)
    }

    fn counts(self, class: LeafClass) -> bool {
        match class {
            LeafClass::Type => self.kind_type,
            LeafClass::Name => self.kind_name,
            LeafClass::Kind => self.kind_kind,
            LeafClass::Other => false,
        }
    }
}

fn type_leaves_constant(cond: &Cond) -> bool {
    match cond {
        Cond::All(cs) | Cond::Any(cs) => cs.iter().all(type_leaves_constant),
        Cond::Not(c) => type_leaves_constant(c),
        Cond::Field(fc) if classify(cond) == Some(LeafClass::Type) => {
            matches!(fc.op.rhs, Operand::Const(_))
        }
        _ => true,
    }
}

/// Evaluate applicability: considered leaves are evaluated, the others take the value of their
/// polarity (true, or false under an odd number of `not`).
pub fn applies(
    cond: &Cond,
    considered: Considered,
    evaluator: &Evaluator<'_, '_>,
    positive: bool,
) -> Result<bool, EvaluationError> {
    match cond {
        Cond::All(cs) => {
            for c in cs {
                if !applies(c, considered, evaluator, positive)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Cond::Any(cs) => {
            for c in cs {
                if applies(c, considered, evaluator, positive)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Cond::Not(c) => applies(c, considered, evaluator, !positive).map(|b| !b),
        leaf => match classify(leaf) {
            Some(class) if considered.counts(class) => evaluator.eval(leaf, None),
            _ => Ok(positive),
        },
    }
}

/// A stand-in resource carrying only a type, for indexing policies by type.
pub fn type_probe(resource_type: &str) -> Value {
    serde_json::json!({ "type": resource_type })
}
