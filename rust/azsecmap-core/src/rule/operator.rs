//! Condition operators: what each does to an actual value, including a missing property,
//! per the Azure Policy docs (`equals` … `exists`).

use serde_json::Value;

use crate::compare::{
    compare_order, normalize_location, scalar_text, str_eq_ci, value_eq, values_equal, LikePattern,
    MatchPattern,
};
use crate::path::get_member;
use crate::rule::Operand;

/// The condition operators of the policy language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    /// Equal after coercion, ignoring case.
    Equals,
    /// Negation of `equals`.
    NotEquals,
    /// Wildcard match (`*`, `?`), ignoring case.
    Like,
    /// Negation of `like`.
    NotLike,
    /// Pattern match (`#`, `?`, `.`), case-sensitive.
    Match,
    /// Pattern match ignoring case.
    MatchInsensitively,
    /// Negation of `match`.
    NotMatch,
    /// Negation of `matchInsensitively`.
    NotMatchInsensitively,
    /// Substring, array member or object key.
    Contains,
    /// Negation of `contains`.
    NotContains,
    /// Equal to a member of the expected array.
    In,
    /// Negation of `in`.
    NotIn,
    /// Object has the key.
    ContainsKey,
    /// Negation of `containsKey`.
    NotContainsKey,
    /// Strictly less.
    Less,
    /// Less or equal.
    LessOrEquals,
    /// Strictly greater.
    Greater,
    /// Greater or equal.
    GreaterOrEquals,
    /// Presence (`true`) or absence (`false`).
    Exists,
}

impl OpKind {
    /// All operators with their JSON names.
    pub const ALL: [(&'static str, OpKind); 19] = [
        ("equals", OpKind::Equals),
        ("notEquals", OpKind::NotEquals),
        ("like", OpKind::Like),
        ("notLike", OpKind::NotLike),
        ("match", OpKind::Match),
        ("matchInsensitively", OpKind::MatchInsensitively),
        ("notMatch", OpKind::NotMatch),
        ("notMatchInsensitively", OpKind::NotMatchInsensitively),
        ("contains", OpKind::Contains),
        ("notContains", OpKind::NotContains),
        ("in", OpKind::In),
        ("notIn", OpKind::NotIn),
        ("containsKey", OpKind::ContainsKey),
        ("notContainsKey", OpKind::NotContainsKey),
        ("less", OpKind::Less),
        ("lessOrEquals", OpKind::LessOrEquals),
        ("greater", OpKind::Greater),
        ("greaterOrEquals", OpKind::GreaterOrEquals),
        ("exists", OpKind::Exists),
    ];

    /// Look up an operator by its JSON name, case-insensitively.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, k)| *k)
    }

    /// The JSON name.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("?", |(n, _)| n)
    }

    /// For a negated operator, its positive form.
    fn positive(self) -> Option<Self> {
        Some(match self {
            OpKind::NotEquals => OpKind::Equals,
            OpKind::NotLike => OpKind::Like,
            OpKind::NotMatch => OpKind::Match,
            OpKind::NotMatchInsensitively => OpKind::MatchInsensitively,
            OpKind::NotContains => OpKind::Contains,
            OpKind::NotIn => OpKind::In,
            OpKind::NotContainsKey => OpKind::ContainsKey,
            _ => return None,
        })
    }
}

/// A pattern compiled ahead of time when the expected value is constant.
#[derive(Debug, Clone)]
pub enum Pattern {
    /// For `like`/`notLike`.
    Like(LikePattern),
    /// For the `match` family.
    Match(MatchPattern),
}

/// An operator with its expected value.
#[derive(Debug, Clone)]
pub struct Operator {
    /// Which operator.
    pub kind: OpKind,
    /// The expected value.
    pub rhs: Operand,
    /// Pre-compiled pattern when `rhs` is constant.
    pub pattern: Option<Pattern>,
}

impl Operator {
    /// Build an operator, pre-compiling the pattern of a constant right-hand side.
    pub fn new(kind: OpKind, rhs: Operand) -> Self {
        let pattern = match &rhs {
            Operand::Const(v) => compile_pattern(kind, v),
            Operand::Expr(_) => None,
        };
        Self { kind, rhs, pattern }
    }

    /// Normalise a constant expected location value (for `location` fields).
    pub fn normalize_location(&mut self) {
        if let Operand::Const(v) = &mut self.rhs {
            normalize_location_value(v);
            self.pattern = compile_pattern(self.kind, v);
        }
    }
}

/// Lower-case and strip spaces from location strings (also inside arrays).
pub fn normalize_location_value(v: &mut Value) {
    match v {
        Value::String(s) => *s = normalize_location(s),
        Value::Array(items) => items.iter_mut().for_each(normalize_location_value),
        _ => {}
    }
}

fn compile_pattern(kind: OpKind, v: &Value) -> Option<Pattern> {
    let text = scalar_text(v)?;
    match kind.positive().unwrap_or(kind) {
        OpKind::Like => Some(Pattern::Like(LikePattern::new(&text))),
        OpKind::Match => Some(Pattern::Match(MatchPattern::new(&text, false))),
        OpKind::MatchInsensitively => Some(Pattern::Match(MatchPattern::new(&text, true))),
        _ => None,
    }
}

/// Apply `kind` to one actual value (`None` = the property is absent) and the expected value.
/// `pattern` is the pre-compiled pattern, if any. `Err` carries a one-line message.
pub fn apply(
    kind: OpKind,
    actual: Option<&Value>,
    expected: &Value,
    pattern: Option<&Pattern>,
) -> Result<bool, String> {
    if let Some(positive) = kind.positive() {
        return apply(positive, actual, expected, pattern).map(|b| !b);
    }
    match kind {
        OpKind::Equals => Ok(values_equal(actual, expected)),
        OpKind::In => {
            let Value::Array(items) = expected else {
                return Err(format!(
                    "`in` and `notIn` take an array, got `{}`",
                    crate::compare::brief(expected)
                ));
            };
            Ok(items.iter().any(|e| values_equal(actual, e)))
        }
        OpKind::Like => {
            let Some(text) = actual.and_then(scalar_text) else {
                return Ok(false);
            };
            Ok(match pattern {
                Some(Pattern::Like(p)) => p.is_match(&text),
                _ => scalar_text(expected).is_some_and(|e| LikePattern::new(&e).is_match(&text)),
            })
        }
        OpKind::Match | OpKind::MatchInsensitively => {
            let Some(text) = actual.and_then(scalar_text) else {
                return Ok(false);
            };
            Ok(match pattern {
                Some(Pattern::Match(p)) => p.is_match(&text),
                _ => scalar_text(expected).is_some_and(|e| {
                    MatchPattern::new(&e, kind == OpKind::MatchInsensitively).is_match(&text)
                }),
            })
        }
        OpKind::Contains => Ok(match actual {
            Some(Value::String(s)) => scalar_text(expected).is_some_and(|e| contains_ci(s, &e)),
            Some(Value::Array(items)) => items.iter().any(|i| value_eq(i, expected)),
            Some(Value::Object(map)) => {
                scalar_text(expected).is_some_and(|e| get_member(map, &e).is_some())
            }
            Some(v @ (Value::Number(_) | Value::Bool(_))) => {
                match (scalar_text(v), scalar_text(expected)) {
                    (Some(s), Some(e)) => contains_ci(&s, &e),
                    _ => false,
                }
            }
            _ => false,
        }),
        OpKind::ContainsKey => Ok(match (actual, expected) {
            (Some(Value::Object(map)), e) => {
                scalar_text(e).is_some_and(|k| map.keys().any(|key| str_eq_ci(key, &k)))
            }
            _ => false,
        }),
        OpKind::Less | OpKind::LessOrEquals | OpKind::Greater | OpKind::GreaterOrEquals => {
            let Some(a) = actual.filter(|v| !v.is_null()) else {
                return Ok(false);
            };
            let ord = compare_order(a, expected)?;
            Ok(match kind {
                OpKind::Less => ord.is_lt(),
                OpKind::LessOrEquals => ord.is_le(),
                OpKind::Greater => ord.is_gt(),
                _ => ord.is_ge(),
            })
        }
        OpKind::Exists => {
            let want = match expected {
                Value::Bool(b) => *b,
                Value::String(s) if s.eq_ignore_ascii_case("true") => true,
                Value::String(s) if s.eq_ignore_ascii_case("false") => false,
                other => {
                    return Err(format!(
                        "`exists` takes `true` or `false`, got `{}`",
                        crate::compare::brief(other)
                    ))
                }
            };
            let present = actual.is_some_and(|v| !v.is_null());
            Ok(present == want)
        }
        // INVARIANT: negated kinds were mapped to their positive form above.
        _ => Ok(false),
    }
}

fn contains_ci(haystack: &str, needle: &str) -> bool {
    crate::compare::fold(haystack).contains(&crate::compare::fold(needle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn missing_property_per_operator() {
        let e = json!("x");
        assert!(!apply(OpKind::Equals, None, &e, None).unwrap());
        assert!(apply(OpKind::NotEquals, None, &e, None).unwrap());
        assert!(!apply(OpKind::Like, None, &e, None).unwrap());
        assert!(apply(OpKind::NotLike, None, &e, None).unwrap());
        assert!(!apply(OpKind::In, None, &json!(["x"]), None).unwrap());
        assert!(apply(OpKind::NotIn, None, &json!(["x"]), None).unwrap());
        assert!(!apply(OpKind::Greater, None, &json!(1), None).unwrap());
        assert!(apply(OpKind::Exists, None, &json!("false"), None).unwrap());
    }

    #[test]
    fn contains_family() {
        assert!(apply(
            OpKind::Contains,
            Some(&json!("my-PROD-vm")),
            &json!("prod"),
            None
        )
        .unwrap());
        assert!(apply(
            OpKind::Contains,
            Some(&json!(["A", "b"])),
            &json!("a"),
            None
        )
        .unwrap());
        assert!(apply(
            OpKind::ContainsKey,
            Some(&json!({"Env": 1})),
            &json!("env"),
            None
        )
        .unwrap());
        assert!(apply(OpKind::In, Some(&json!("x")), &json!("x"), None).is_err());
    }
}
