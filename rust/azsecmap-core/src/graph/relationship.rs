//! Set-theory relationships between two controls (NIST IR 8477 sense), read
//! "source RELATIONSHIP target": `subset` means the source's scope lies inside the target's.
//!
//! Two operations matter for the graph: reversing a mapping (walking an edge backwards) and
//! composing two mappings along a path (source → pivot → target).

use std::fmt;
use std::str::FromStr;

use super::error::CatalogError;

/// How the scope of a source control relates to the scope of a target control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Relationship {
    /// Same scope.
    Equal,
    /// The source's scope is contained in the target's.
    Subset,
    /// The source's scope contains the target's.
    Superset,
    /// Related, with an overlap of unknown extent.
    Intersect,
}

impl Relationship {
    /// Every relationship, in preference order (most precise first).
    pub const ALL: [Relationship; 4] = [
        Relationship::Equal,
        Relationship::Subset,
        Relationship::Superset,
        Relationship::Intersect,
    ];

    /// The relationship read the other way round ("target REL source"): subset and superset
    /// swap, equal and intersect are symmetric.
    #[must_use]
    pub fn reverse(self) -> Self {
        match self {
            Relationship::Subset => Relationship::Superset,
            Relationship::Superset => Relationship::Subset,
            other => other,
        }
    }

    /// The relationship of `a → c` given `a self b` and `b next c`.
    ///
    /// Only what set algebra guarantees is kept: `equal` is neutral on either side, two
    /// subsets chain into a subset, two supersets into a superset. Every other pair says no
    /// more than "related" and becomes `intersect` (for `subset ∘ superset` even an empty
    /// overlap is possible; `intersect` is read as "related, overlap of unknown extent", the
    /// way the crosswalk publishers use it).
    #[must_use]
    pub fn compose(self, next: Self) -> Self {
        use Relationship::{Equal, Intersect, Subset, Superset};
        match (self, next) {
            (Equal, x) | (x, Equal) => x,
            (Subset, Subset) => Subset,
            (Superset, Superset) => Superset,
            _ => Intersect,
        }
    }

    /// Strength used when a mapping states none: how much of one control the other carries.
    pub fn default_strength(self) -> f64 {
        match self {
            Relationship::Equal => 1.0,
            Relationship::Subset | Relationship::Superset => 0.8,
            Relationship::Intersect => 0.5,
        }
    }

    /// Lower is more precise; used to break ties between equally strong paths.
    pub fn precision_rank(self) -> u8 {
        match self {
            Relationship::Equal => 0,
            Relationship::Subset => 1,
            Relationship::Superset => 2,
            Relationship::Intersect => 3,
        }
    }

    /// The lower-case word used in files and results.
    pub fn as_str(self) -> &'static str {
        match self {
            Relationship::Equal => "equal",
            Relationship::Subset => "subset",
            Relationship::Superset => "superset",
            Relationship::Intersect => "intersect",
        }
    }
}

impl fmt::Display for Relationship {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Relationship {
    type Err = CatalogError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                CatalogError::invalid(
                    "",
                    format!(
                        "unknown relationship `{s}` (expected equal, subset, superset or intersect)"
                    ),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::Relationship::{self, Equal, Intersect, Subset, Superset};
    use proptest::prelude::*;

    fn any_rel() -> impl Strategy<Value = Relationship> {
        prop::sample::select(Relationship::ALL.to_vec())
    }

    #[test]
    fn reversal_swaps_subset_and_superset() {
        assert_eq!(Subset.reverse(), Superset);
        assert_eq!(Superset.reverse(), Subset);
        assert_eq!(Equal.reverse(), Equal);
        assert_eq!(Intersect.reverse(), Intersect);
    }

    #[test]
    fn composition_table() {
        assert_eq!(Subset.compose(Subset), Subset);
        assert_eq!(Superset.compose(Superset), Superset);
        assert_eq!(Subset.compose(Superset), Intersect);
        assert_eq!(Superset.compose(Subset), Intersect);
        assert_eq!(Intersect.compose(Subset), Intersect);
        assert_eq!(Equal.compose(Superset), Superset);
        assert_eq!(Intersect.compose(Equal), Intersect);
    }

    #[test]
    fn parse_is_strict() {
        assert_eq!("subset".parse::<Relationship>().unwrap(), Subset);
        let err = "Subset ".parse::<Relationship>().unwrap_err();
        assert!(err.to_string().contains("unknown relationship `Subset `"));
    }

    proptest! {
        #[test]
        fn reversal_is_an_involution(r in any_rel()) {
            prop_assert_eq!(r.reverse().reverse(), r);
        }

        #[test]
        fn equal_is_neutral(r in any_rel()) {
            prop_assert_eq!(Equal.compose(r), r);
            prop_assert_eq!(r.compose(Equal), r);
        }

        #[test]
        fn composition_is_associative(a in any_rel(), b in any_rel(), c in any_rel()) {
            prop_assert_eq!(a.compose(b).compose(c), a.compose(b.compose(c)));
        }

        /// Walking a composed path backwards gives the reversed composition of the reversed
        /// steps: the answer does not depend on the direction the path was read in.
        #[test]
        fn reversal_distributes_over_composition(a in any_rel(), b in any_rel()) {
            prop_assert_eq!(a.compose(b).reverse(), b.reverse().compose(a.reverse()));
        }

        #[test]
        fn parse_round_trips(r in any_rel()) {
            prop_assert_eq!(r.as_str().parse::<Relationship>().unwrap(), r);
        }
    }
}
