//! `field` operands: the documented field names (`type`, `name`, `fullName`, `kind`,
//! `location`, `id`, `identity.type`, `tags`, `tags['x']`, `tags.x`, `tags[x]`), aliases with
//! `[*]` at any depth, and raw property paths. Resolved to a property path at compile time.

use std::borrow::Cow;

use serde_json::Value;

use crate::alias::AliasTable;
use crate::compare::normalize_location;
use crate::path::{get_member, resolve_single, PropertyPath, Segment};

/// How a field name was understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    /// A documented top-level field (`type`, `name`, `kind`, `id`, `identity.type`, tags…) read
    /// at its fixed place in the document.
    Builtin,
    /// An alias found in the bundled table.
    Alias,
    /// An alias missing from the table, read at the fallback path.
    UnknownAlias,
    /// A raw property path (`properties.x`), as some tools and tests write fields.
    Path,
}

/// A compiled `field` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRef {
    /// The field as written in the policy.
    pub text: String,
    /// What the field name turned out to be.
    pub kind: FieldKind,
    /// Candidate paths: one, or several when a namespace-level alias serves several resource
    /// types (`(lower-cased type, path)`; the first whose type matches the resource wins).
    pub paths: Vec<(String, PropertyPath)>,
    /// Each of `paths` as reasons show it, written on first use (reasons are made per row;
    /// fields resolved at run time, as `field()` does, seldom need it).
    shown: ShownPaths,
    /// `fullName` is computed from the resource id rather than read.
    pub full_name: bool,
    /// `location` values are normalised (`East US 2` equals `eastus2`).
    pub location: bool,
}

/// A cache of text derived from a field's paths: it takes no part in comparing fields.
#[derive(Debug, Clone, Default)]
struct ShownPaths(std::sync::OnceLock<Vec<String>>);

impl PartialEq for ShownPaths {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for ShownPaths {}

impl FieldRef {
    /// Resolve a field name against the alias table.
    pub fn resolve(text: &str, aliases: &AliasTable) -> Result<Self, String> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err("empty field name".into());
        }
        let lower = trimmed.to_ascii_lowercase();
        let simple = |path: &str, kind: FieldKind| -> Result<Self, String> {
            Ok(Self {
                text: trimmed.to_string(),
                kind,
                paths: vec![(String::new(), parse(path)?)],
                shown: ShownPaths::default(),
                full_name: false,
                location: false,
            })
        };
        match lower.as_str() {
            "type" | "name" | "kind" | "id" | "tags" | "identity.type" => {
                return simple(&lower_first(trimmed), FieldKind::Builtin)
            }
            "location" => {
                let mut f = simple("location", FieldKind::Builtin)?;
                f.location = true;
                return Ok(f);
            }
            "fullname" => {
                let mut f = simple("name", FieldKind::Builtin)?;
                f.full_name = true;
                return Ok(f);
            }
            _ => {}
        }
        if (lower.starts_with("tags.") || lower.starts_with("tags["))
            && !lower.starts_with("tags[*]")
        {
            // The tag name is everything after `tags.` or inside the brackets, dots included.
            let name =
                tag_name(trimmed).ok_or_else(|| format!("malformed tag field `{trimmed}`"))?;
            return Ok(Self {
                text: trimmed.to_string(),
                kind: FieldKind::Builtin,
                paths: vec![(
                    String::new(),
                    PropertyPath {
                        segments: vec![Segment::Key("tags".into()), Segment::Key(name)],
                    },
                )],
                shown: ShownPaths::default(),
                full_name: false,
                location: false,
            });
        }
        if !trimmed.contains('/') {
            return simple(trimmed, FieldKind::Path);
        }
        let entries = aliases.lookup(trimmed);
        if !entries.is_empty() {
            let mut paths = Vec::with_capacity(entries.len());
            for e in entries {
                paths.push((e.resource_type.to_ascii_lowercase(), parse(e.path)?));
            }
            return Ok(Self {
                text: trimmed.to_string(),
                kind: FieldKind::Alias,
                paths,
                shown: ShownPaths::default(),
                full_name: false,
                location: false,
            });
        }
        match aliases.fallback(trimmed) {
            Some((_, path)) => simple(&path, FieldKind::UnknownAlias).map(|mut f| {
                f.text = trimmed.to_string();
                f
            }),
            None => Err(format!(
                "`{trimmed}` is not a field name, a raw path or an alias"
            )),
        }
    }

    /// The path to read for a resource of type `resource_type`.
    pub fn path_for(&self, resource_type: Option<&str>) -> &PropertyPath {
        static EMPTY: PropertyPath = PropertyPath {
            segments: Vec::new(),
        };
        self.paths
            .get(self.path_index(resource_type))
            .map_or(&EMPTY, |(_, p)| p)
    }

    /// [`FieldRef::path_for`] as reasons show it.
    pub fn shown_path(&self, resource_type: Option<&str>) -> &str {
        self.shown
            .0
            .get_or_init(|| self.paths.iter().map(|(_, p)| p.display()).collect())
            .get(self.path_index(resource_type))
            .map_or("", String::as_str)
    }

    /// Which of `paths` a resource of type `resource_type` reads.
    fn path_index(&self, resource_type: Option<&str>) -> usize {
        if self.paths.len() > 1 {
            if let Some(t) = resource_type {
                if let Some(i) = self
                    .paths
                    .iter()
                    .position(|(ty, _)| ty.eq_ignore_ascii_case(t))
                {
                    return i;
                }
            }
        }
        0
    }

    /// True when the field selects a collection (`[*]`).
    pub fn is_collection(&self) -> bool {
        self.paths.iter().any(|(_, p)| p.has_wildcard())
    }
}

fn parse(path: &str) -> Result<PropertyPath, String> {
    PropertyPath::parse(path).map_err(|e| e.0)
}

/// `identity.Type` and friends: keep the user's casing but the lookup is case-insensitive anyway.
fn lower_first(s: &str) -> String {
    s.to_string()
}

/// The tag name in `tags.x`, `tags['x']`, `tags['''x''']`, `tags[x]`.
fn tag_name(field: &str) -> Option<String> {
    let rest = field.get(4..)?;
    if let Some(name) = rest.strip_prefix('.') {
        return Some(name.to_string());
    }
    let inner = rest.strip_prefix('[')?.strip_suffix(']')?;
    if let Some(q) = inner
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .filter(|_| inner.len() >= 2)
    {
        return Some(q.replace("''", "'"));
    }
    // `tags[]` arises from `concat('tags[', parameters('tagName'), ']')` with an empty default:
    // a tag with an empty name, which no resource carries.
    Some(inner.to_string())
}

/// The resource's full name: parent names and its own, from the resource id
/// (`/subscriptions/s/resourceGroups/g/providers/Microsoft.Sql/servers/a/databases/b` → `a/b`).
pub fn full_name(resource: &Value) -> Option<String> {
    if let Some(id) = resource_id(resource) {
        let lower = id.to_ascii_lowercase();
        if let Some(pos) = lower.rfind("/providers/") {
            let tail = id.get(pos + "/providers/".len()..)?;
            let parts: Vec<&str> = tail.split('/').filter(|s| !s.is_empty()).collect();
            // Namespace, then alternating type/name.
            let names: Vec<&str> = parts.iter().skip(2).step_by(2).copied().collect();
            if !names.is_empty() {
                return Some(names.join("/"));
            }
        }
    }
    resource_name(resource).map(str::to_string)
}

/// Read a non-collection field of `resource`. `None` when the property is absent.
pub fn read_single<'a>(
    field: &FieldRef,
    resource: &'a Value,
    rtype: Option<&str>,
) -> Option<Cow<'a, Value>> {
    if field.full_name {
        return full_name(resource).map(|s| Cow::Owned(Value::String(s)));
    }
    let value = resolve_single(resource, &field.path_for(rtype).segments)?;
    if field.location {
        if let Value::String(s) = value {
            return Some(Cow::Owned(Value::String(normalize_location(s))));
        }
    }
    Some(Cow::Borrowed(value))
}

/// The resource's `type`, if it has one.
pub fn resource_type(resource: &Value) -> Option<&str> {
    string_member(resource, "type")
}

/// The resource's `id`, if it has one. Like every ARM property name, `id` matches in any case.
pub fn resource_id(resource: &Value) -> Option<&str> {
    string_member(resource, "id")
}

/// The resource's `name`, if it has one.
pub fn resource_name(resource: &Value) -> Option<&str> {
    string_member(resource, "name")
}

fn string_member<'a>(resource: &'a Value, key: &str) -> Option<&'a str> {
    match resource {
        Value::Object(map) => get_member(map, key).and_then(Value::as_str),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resolves_documented_fields() {
        let t = AliasTable::bundled();
        let f = FieldRef::resolve("tags['Acct.CostCenter']", t).unwrap();
        assert_eq!(
            f.paths[0].1.segments[1],
            Segment::Key("Acct.CostCenter".into())
        );
        let g = FieldRef::resolve("tags.env.x", t).unwrap();
        assert_eq!(g.paths[0].1.segments[1], Segment::Key("env.x".into()));
        let h = FieldRef::resolve("tags['''q''']", t).unwrap();
        assert_eq!(h.paths[0].1.segments[1], Segment::Key("'q'".into()));
        let a = FieldRef::resolve(
            "Microsoft.Network/networkSecurityGroups/securityRules[*].destinationPortRange",
            t,
        )
        .unwrap();
        assert_eq!(a.kind, FieldKind::Alias);
        assert!(a.is_collection());
    }

    #[test]
    fn full_name_from_id() {
        let r = json!({"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Sql/servers/a/databases/b", "name": "b"});
        assert_eq!(full_name(&r).as_deref(), Some("a/b"));
    }
}
