//! Reading only what a pack needs. A [`Projection`] is a trie of the property paths the
//! compiled policies read (plus the identity fields); parsing a document through it keeps those
//! paths and skips everything else without materialising it, so memory grows with what the
//! rules read, not with document size.

use std::fmt;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserializer;
use serde_json::{Map, Value};

use crate::path::{PropertyPath, Segment};

/// Top-level fields always kept: the identity columns results and scoping need.
pub const IDENTITY_FIELDS: &[&str] = &[
    "id",
    "type",
    "name",
    "location",
    "kind",
    "tags",
    "subscriptionId",
    "resourceGroup",
];

#[derive(Debug, Clone, Default)]
struct Node {
    /// Keep this value whole (a path ends here).
    keep_all: bool,
    /// Object members to descend into, names lower-cased (ASCII).
    children: Vec<(String, Node)>,
    /// Array elements to descend into (`[*]` or an index).
    elements: Option<Box<Node>>,
}

impl Node {
    fn child_mut(&mut self, key: &str) -> Option<&mut Node> {
        let lower = key.to_ascii_lowercase();
        let pos = match self.children.iter().position(|(k, _)| *k == lower) {
            Some(p) => p,
            None => {
                self.children.push((lower, Node::default()));
                self.children.len() - 1
            }
        };
        self.children.get_mut(pos).map(|(_, n)| n)
    }

    fn find(&self, key: &str) -> Option<&Node> {
        self.children
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, n)| n)
            .or_else(|| {
                if key.is_ascii() {
                    return None;
                }
                let folded = key.to_lowercase();
                self.children
                    .iter()
                    .find(|(k, _)| *k == folded)
                    .map(|(_, n)| n)
            })
    }
}

/// The set of property paths to keep when parsing resources.
#[derive(Debug, Clone)]
pub struct Projection {
    root: Node,
    everything: bool,
}

impl Default for Projection {
    fn default() -> Self {
        Self::identity()
    }
}

impl Projection {
    /// Only the identity fields.
    pub fn identity() -> Self {
        let mut p = Self {
            root: Node::default(),
            everything: false,
        };
        for f in IDENTITY_FIELDS {
            if let Some(node) = p.root.child_mut(f) {
                node.keep_all = true;
            }
        }
        p
    }

    /// Keep whole documents (a pack whose field names are only known at run time).
    pub fn everything() -> Self {
        Self {
            root: Node {
                keep_all: true,
                ..Node::default()
            },
            everything: true,
        }
    }

    /// True when documents are kept whole.
    pub fn is_everything(&self) -> bool {
        self.everything
    }

    /// Add a path; its whole value (object, array or scalar) is kept.
    pub fn add(&mut self, path: &PropertyPath) {
        if self.everything {
            return;
        }
        let mut node = &mut self.root;
        for segment in &path.segments {
            if node.keep_all {
                return;
            }
            let next = match segment {
                Segment::Key(k) => node.child_mut(k),
                Segment::Wildcard | Segment::Index(_) => {
                    Some(&mut **node.elements.get_or_insert_with(Box::default))
                }
            };
            let Some(next) = next else { return };
            node = next;
        }
        node.keep_all = true;
        node.children.clear();
        node.elements = None;
    }

    /// Parse one JSON document through the projection.
    pub fn parse(&self, bytes: &[u8]) -> Result<Value, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let v = Pruned(&self.root).deserialize(&mut de)?;
        de.end()?;
        Ok(v)
    }

    /// Parse a JSON array of documents, or a Resource Graph page `{"data": [...]}`, calling
    /// `each` with every element (kept paths only).
    pub fn parse_many(
        &self,
        bytes: &[u8],
        each: &mut dyn FnMut(Value),
    ) -> Result<(), serde_json::Error> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        de.deserialize_any(Container {
            node: &self.root,
            each,
        })?;
        de.end()
    }
}

struct Pruned<'n>(&'n Node);

impl<'de> DeserializeSeed<'de> for Pruned<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        if self.0.keep_all {
            return serde::Deserialize::deserialize(d);
        }
        d.deserialize_any(PrunedVisitor(self.0))
    }
}

struct PrunedVisitor<'n>(&'n Node);

impl<'de> Visitor<'de> for PrunedVisitor<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        match &self.0.elements {
            Some(node) => {
                while let Some(v) = seq.next_element_seed(Pruned(node))? {
                    out.push(v);
                }
            }
            None => while seq.next_element::<IgnoredAny>()?.is_some() {},
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<KeyRef<'de>>()? {
            match self.0.find(&key.0) {
                Some(child) => {
                    let v = map.next_value_seed(Pruned(child))?;
                    out.insert(key.0.into_owned(), v);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(out))
    }
}

/// An object key, borrowed from the input when it holds no escapes, so skipped members cost
/// no allocation.
struct KeyRef<'de>(std::borrow::Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for KeyRef<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyRef<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<KeyRef<'de>, E> {
                Ok(KeyRef(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<KeyRef<'de>, E> {
                Ok(KeyRef(std::borrow::Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<KeyRef<'de>, E> {
                Ok(KeyRef(std::borrow::Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

struct Container<'n, 'f> {
    node: &'n Node,
    each: &'f mut dyn FnMut(Value),
}

impl<'de> Visitor<'de> for Container<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of resources or an object with a `data` array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element_seed(Pruned(self.node))? {
            (self.each)(v);
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut found = false;
        while let Some(key) = map.next_key::<KeyRef<'de>>()? {
            if key.0.eq_ignore_ascii_case("data") && !found {
                found = true;
                map.next_value_seed(DataSeed {
                    node: self.node,
                    each: &mut *self.each,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        if found {
            Ok(())
        } else {
            Err(serde::de::Error::custom(
                "the object has no `data` array of resources",
            ))
        }
    }
}

struct DataSeed<'n, 'f> {
    node: &'n Node,
    each: &'f mut dyn FnMut(Value),
}

impl<'de> DeserializeSeed<'de> for DataSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(Container {
            node: self.node,
            each: self.each,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_only_projected_paths() {
        let mut p = Projection::identity();
        p.add(&PropertyPath::parse("properties.securityRules[*].properties.access").unwrap());
        p.add(&PropertyPath::parse("properties.flag").unwrap());
        let doc = br#"{"id":"/x","type":"T","Properties":{"flag":true,"big":{"a":[1,2,3]},
            "securityRules":[{"name":"r","properties":{"access":"Allow","other":1}}]},"extra":"x"}"#;
        let v = p.parse(doc).unwrap();
        assert_eq!(
            v,
            json!({"id":"/x","type":"T","Properties":{"flag":true,
                "securityRules":[{"properties":{"access":"Allow"}}]}})
        );
    }

    #[test]
    fn parses_arrays_and_resource_graph_pages() {
        let p = Projection::identity();
        let mut n = 0;
        p.parse_many(
            br#"{"totalRecords":2,"data":[{"id":"a","x":1},{"id":"b"}]}"#,
            &mut |_| n += 1,
        )
        .unwrap();
        p.parse_many(br#"[{"id":"a"},{"id":"b"},{"id":"c"}]"#, &mut |_| n += 1)
            .unwrap();
        assert_eq!(n, 5);
        assert!(p.parse_many(br#"{"rows":[]}"#, &mut |_| {}).is_err());
    }
}
