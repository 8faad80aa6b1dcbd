//! The canonical catalog document (`azsecmap-catalog/1`): frameworks with their controls,
//! policy → control `satisfies` records and control → control mappings. Every importer
//! produces this shape, the bundled catalog is stored in it, and `Catalog.to_json` writes it.
//! `python/azsecmap/data/catalog.schema.json` describes it for people and validators.

use serde::{Deserialize, Serialize};

use super::error::CatalogError;
use super::relationship::Relationship;

/// The value of the `format` member every document carries.
pub const FORMAT: &str = "azsecmap-catalog/1";

/// One catalog document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogDocument {
    /// Always [`FORMAT`].
    pub format: String,
    /// Free-text note on where the document came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Frameworks declared by this document.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frameworks: Vec<FrameworkRecord>,
    /// Facts about policies (their default effect).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<PolicyRecord>,
    /// Policy → control edges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub satisfies: Vec<SatisfiesRecord>,
    /// Published control → control mappings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mappings: Vec<MappingRecord>,
}

/// A framework and its controls.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameworkRecord {
    /// Framework id, e.g. `NIST_SP_800-53_R5`.
    pub id: String,
    /// Human title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Version of the framework or of the initiative it was read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Where the control list came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Derive missing parents from control ids (`AC-2(1)` → `AC-2` → `AC`); default true.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub infer_hierarchy: bool,
    /// Grouping nodes (NIST families, benchmark sections) that are not controls themselves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub families: Vec<ControlRecord>,
    /// The framework's controls (and enhancements / sub-requirements).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub controls: Vec<ControlRecord>,
}

fn yes() -> bool {
    true
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_true(b: &bool) -> bool {
    *b
}

/// A control or a family inside a framework; ids are local (`AC-2`, not `NIST…:AC-2`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlRecord {
    /// Local id.
    pub id: String,
    /// Title (public-domain or self-written text only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Local id of the parent family or control; overrides inference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

/// Facts about one policy definition.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyRecord {
    /// Policy id: the definition's `name` (a GUID for built-ins).
    pub id: String,
    /// Default effect, lower-case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<String>,
}

/// "This policy checks (part of) this control", as an initiative states it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SatisfiesRecord {
    /// Policy id.
    pub policy: String,
    /// Control id `FRAMEWORK:CONTROL`.
    pub control: String,
    /// Initiative (policy set) display name that states the edge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiative: Option<String>,
    /// The initiative's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Effect the initiative assigns by default (lower-case); `manual` means attestation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<String>,
}

/// A published mapping between two controls.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingRecord {
    /// Source control `FRAMEWORK:CONTROL`.
    pub source: String,
    /// Target control `FRAMEWORK:CONTROL`.
    pub target: String,
    /// `equal`, `subset`, `superset` or `intersect`, read "source REL target".
    pub relationship: String,
    /// 0..1; when absent the relationship's default strength applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strength: Option<f64>,
    /// Why the mapping holds (the publisher's wording, a note).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rationale: Option<String>,
    /// Who published it (file, URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<String>,
}

/// A control reference split into framework and local id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ControlRef {
    /// Framework id.
    pub framework: String,
    /// Local control id.
    pub control: String,
}

impl ControlRef {
    /// Split `FRAMEWORK:CONTROL` at the first `:` (framework ids never hold one).
    pub fn parse(text: &str) -> Result<Self, CatalogError> {
        match text.split_once(':') {
            Some((fw, ctl)) if !fw.is_empty() && !fw.contains(char::is_whitespace) => Ok(Self {
                framework: fw.to_string(),
                control: ctl.to_string(),
            }),
            _ => Err(CatalogError::BadControlId(text.to_string())),
        }
    }

    /// The graph node id, `FRAMEWORK:CONTROL`.
    pub fn node_id(&self) -> String {
        format!("{}:{}", self.framework, self.control)
    }
}

impl CatalogDocument {
    /// Parse and check one document from JSON text.
    pub fn from_json(text: &str) -> Result<Self, CatalogError> {
        let doc: Self = serde_json::from_str(text).map_err(|e| {
            CatalogError::invalid(
                "",
                format!(
                    "not a catalog document: {e} (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        doc.check()?;
        Ok(doc)
    }

    /// Serialise as compact JSON text.
    pub fn to_json(&self) -> String {
        // INVARIANT: every field is a string, number, bool or list of those; serde_json
        // only fails on maps with non-string keys, which this type has none of.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Check what the types alone do not: the format tag, ids, relationships, strengths.
    pub fn check(&self) -> Result<(), CatalogError> {
        if self.format != FORMAT {
            return Err(CatalogError::invalid(
                "/format",
                format!("unsupported format `{}` (expected `{FORMAT}`)", self.format),
            ));
        }
        for (i, fw) in self.frameworks.iter().enumerate() {
            let at = format!("/frameworks/{i}");
            if fw.id.is_empty() || fw.id.contains(':') || fw.id.contains(char::is_whitespace) {
                return Err(CatalogError::invalid(
                    format!("{at}/id"),
                    format!(
                        "framework id `{}` must be non-empty, without `:` or spaces",
                        fw.id
                    ),
                ));
            }
        }
        for (i, s) in self.satisfies.iter().enumerate() {
            let at = format!("/satisfies/{i}");
            if s.policy.is_empty() {
                return Err(CatalogError::invalid(
                    format!("{at}/policy"),
                    "policy id must not be empty",
                ));
            }
            ControlRef::parse(&s.control)
                .map_err(|e| CatalogError::invalid(format!("{at}/control"), e.to_string()))?;
        }
        for (i, m) in self.mappings.iter().enumerate() {
            let at = format!("/mappings/{i}");
            for (field, value) in [("source", &m.source), ("target", &m.target)] {
                ControlRef::parse(value)
                    .map_err(|e| CatalogError::invalid(format!("{at}/{field}"), e.to_string()))?;
            }
            m.relationship
                .parse::<Relationship>()
                .map_err(|e| e.within(&format!("{at}/relationship")))?;
            if let Some(s) = m.strength {
                if !(0.0..=1.0).contains(&s) {
                    return Err(CatalogError::invalid(
                        format!("{at}/strength"),
                        format!("strength `{s}` must lie between 0 and 1"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The parent a control id implies, if any: `AC-2(1)` → `AC-2`, `AC-2` → `AC`,
/// `ID.AM-1` → `ID.AM`, `1.2.1` → `1.2`, `ID.AM` → `ID`, `3` → none.
pub fn implied_parent(id: &str) -> Option<&str> {
    if let Some(open) = id.strip_suffix(')').and_then(|s| s.rfind('(')) {
        return id.get(..open).filter(|p| !p.is_empty());
    }
    if let Some((head, tail)) = id.rsplit_once('-') {
        let head_ok = head.starts_with(|c: char| c.is_ascii_alphabetic());
        if head_ok && !tail.is_empty() && tail.chars().all(|c| c.is_ascii_digit()) {
            return Some(head);
        }
    }
    if let Some((head, tail)) = id.rsplit_once('.') {
        if !head.is_empty() && !tail.is_empty() {
            return Some(head);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_follow_the_id_shapes() {
        assert_eq!(implied_parent("AC-2(1)"), Some("AC-2"));
        assert_eq!(implied_parent("AC-2"), Some("AC"));
        assert_eq!(implied_parent("AC"), None);
        assert_eq!(implied_parent("ID.AM-1"), Some("ID.AM"));
        assert_eq!(implied_parent("ID.AM"), Some("ID"));
        assert_eq!(implied_parent("1.2.1"), Some("1.2"));
        assert_eq!(implied_parent("10.4.1.1"), Some("10.4.1"));
        assert_eq!(implied_parent("3"), None);
        assert_eq!(implied_parent(""), None);
        assert_eq!(implied_parent("A3.2"), Some("A3"));
    }

    #[test]
    fn bad_documents_name_the_pointer() {
        let text = r#"{"format":"azsecmap-catalog/1","mappings":[
            {"source":"A:1","target":"B:2","relationship":"equal"},
            {"source":"A:1","target":"B:3","relationship":"same"}]}"#;
        let err = CatalogDocument::from_json(text).unwrap_err();
        assert_eq!(err.pointer(), Some("/mappings/1/relationship"));
        assert!(err.message().contains("`same`"));

        let text =
            r#"{"format":"azsecmap-catalog/1","satisfies":[{"policy":"p","control":"AC-2"}]}"#;
        let err = CatalogDocument::from_json(text).unwrap_err();
        assert_eq!(err.pointer(), Some("/satisfies/0/control"));

        let text = r#"{"format":"azsecmap-catalog/1","mappings":[
            {"source":"A:1","target":"B:2","relationship":"equal","strength":1.5}]}"#;
        let err = CatalogDocument::from_json(text).unwrap_err();
        assert_eq!(err.pointer(), Some("/mappings/0/strength"));

        let err = CatalogDocument::from_json(r#"{"format":"x"}"#).unwrap_err();
        assert_eq!(err.pointer(), Some("/format"));
        let err =
            CatalogDocument::from_json(r#"{"format":"azsecmap-catalog/1","extra":1}"#).unwrap_err();
        assert!(err.message().contains("unknown field `extra`"));
    }

    #[test]
    fn documents_round_trip() {
        let text = r#"{"format":"azsecmap-catalog/1","frameworks":[{"id":"X","infer_hierarchy":false,
            "controls":[{"id":"1","title":"One"}]}],"mappings":[
            {"source":"X:1","target":"Y:2","relationship":"subset","strength":0.25}]}"#;
        let doc = CatalogDocument::from_json(text).unwrap();
        let again = CatalogDocument::from_json(&doc.to_json()).unwrap();
        assert_eq!(doc, again);
        assert!(!again.frameworks[0].infer_hierarchy);
    }
}
