//! Reading only what a pack needs. A [`Projection`] is a trie of the property paths the
//! compiled policies read (plus the identity fields); parsing a document through it keeps those
//! paths and skips everything else without materialising it, so memory grows with what the
//! rules read, not with document size.

use std::fmt;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserializer;
use serde_json::{Map, Value};

use crate::path::{PropertyPath, Segment};

mod fast;
pub(crate) use fast::parse_whole;

/// Top-level fields a resource store always keeps: its identity columns.
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

/// Top-level fields evaluation itself reads whatever the rules say: `id` and `type` (rows,
/// scopes, applicability, template functions) and `name` (existence checks match related
/// resources by name; `fullName` falls back to it).
pub const EVALUATION_FIELDS: &[&str] = &["id", "type", "name"];

/// Up to this many member names a trie node is searched in one pass.
const FEW_CHILDREN: usize = 8;

#[derive(Debug, Clone, Default)]
struct Node {
    /// Keep this value whole (a path ends here).
    keep_all: bool,
    /// Object members to descend into, names lower-cased (ASCII), sorted by length then name
    /// so that a key is compared only with the names of its own length (a pack of hundreds of
    /// policies puts hundreds of names under `properties`).
    children: Vec<(String, Node)>,
    /// Array elements to descend into (`[*]` or an index).
    elements: Option<Box<Node>>,
    /// One bit per (length, first byte, last byte) of the member names, ASCII case folded:
    /// most keys of a document are not in the trie, and this turns them away before any name
    /// is compared.
    filter: [u64; 4],
}

/// The filter word and bit of a name, its ASCII letters folded to lower case.
#[inline]
fn filter_bit(name: &[u8]) -> (usize, u64) {
    let lower = |b: Option<&u8>| usize::from(b.map_or(0, u8::to_ascii_lowercase));
    let h = name.len().wrapping_mul(31) ^ lower(name.first()).wrapping_mul(7) ^ lower(name.last());
    ((h >> 6) & 3, 1u64 << (h & 63))
}

impl Node {
    /// Keep the node's value whole: its members and elements no longer matter.
    fn keep_whole(&mut self) {
        self.keep_all = true;
        self.children.clear();
        self.elements = None;
        self.filter = [0; 4];
    }

    fn child_mut(&mut self, key: &str) -> Option<&mut Node> {
        let lower = key.to_ascii_lowercase();
        let order = |k: &String| (k.len(), k.as_str()).cmp(&(lower.len(), lower.as_str()));
        let pos = match self.children.binary_search_by(|(k, _)| order(k)) {
            Ok(p) => p,
            Err(p) => {
                let (word, bit) = filter_bit(lower.as_bytes());
                if let Some(w) = self.filter.get_mut(word) {
                    *w |= bit;
                }
                self.children.insert(p, (lower, Node::default()));
                p
            }
        };
        self.children.get_mut(pos).map(|(_, n)| n)
    }

    /// The member node for a key given as raw bytes (not yet checked for UTF-8).
    #[inline]
    fn find_bytes(&self, key: &[u8]) -> Option<&Node> {
        let (word, bit) = filter_bit(key);
        if self.filter.get(word).is_some_and(|w| w & bit != 0) {
            // Names are stored lower-cased: compare each with the key's bytes folded.
            let same = |k: &[u8]| k.iter().zip(key).all(|(a, b)| *a == b.to_ascii_lowercase());
            let found = if self.children.len() <= FEW_CHILDREN {
                self.children
                    .iter()
                    .find(|(k, _)| k.len() == key.len() && same(k.as_bytes()))
            } else {
                // Many names: only those of the key's length.
                let from = self.children.partition_point(|(k, _)| k.len() < key.len());
                self.children
                    .get(from..)?
                    .iter()
                    .take_while(|(k, _)| k.len() == key.len())
                    .find(|(k, _)| same(k.as_bytes()))
            };
            if let Some((_, n)) = found {
                return Some(n);
            }
        }
        // A key that is not ASCII may still match once case-folded.
        if key.is_ascii() {
            return None;
        }
        std::str::from_utf8(key).ok().and_then(|k| self.find(k))
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
        Self::top_level(IDENTITY_FIELDS)
    }

    /// Only the given top-level members.
    pub fn top_level(fields: &[&str]) -> Self {
        let mut p = Self {
            root: Node::default(),
            everything: false,
        };
        for f in fields {
            p.add_member(f);
        }
        p
    }

    /// Keep the top-level member `key` whole.
    pub fn add_member(&mut self, key: &str) {
        if self.everything {
            return;
        }
        if let Some(node) = self.root.child_mut(key) {
            node.keep_whole();
        }
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
        node.keep_whole();
    }

    /// Parse one JSON document through the projection.
    pub fn parse(&self, bytes: &[u8]) -> Result<Value, serde_json::Error> {
        self.parse_gated(bytes, None)
    }

    /// Parse one resource document through the projection. When `gate` says the resource's
    /// type is not needed, only its `id` and `type` are kept (decided as soon as `type` is
    /// read, so the members after it are skipped without being built).
    pub fn parse_gated(
        &self,
        bytes: &[u8],
        gate: Option<TypeGate<'_>>,
    ) -> Result<Value, serde_json::Error> {
        // Most documents take the fast reader; anything it is unsure of (an error, deep
        // nesting, a second `type`) is read by serde_json, whose answer stands.
        // A line checked for UTF-8 as a whole (SIMD, a few bytes per cycle) is read as text.
        let text = simdutf8::basic::from_utf8(bytes).ok();
        if let Some(v) = text.and_then(|t| fast::parse(&self.root, t, gate)) {
            return Ok(v);
        }
        self.parse_serde(bytes, text, gate)
    }

    /// [`Projection::parse_gated`] through serde_json alone; `text` is `bytes` when they are
    /// UTF-8. Text is read as such, so serde_json does not check every kept string again; a
    /// line that is not UTF-8 is read as bytes, and only the strings it keeps must be valid.
    fn parse_serde(
        &self,
        bytes: &[u8],
        text: Option<&str>,
        gate: Option<TypeGate<'_>>,
    ) -> Result<Value, serde_json::Error> {
        let parse = |gate: Option<TypeGate<'_>>| match text {
            Some(text) => self.parse_from(serde_json::Deserializer::from_str(text), gate),
            None => self.parse_from(serde_json::Deserializer::from_slice(bytes), gate),
        };
        match parse(gate) {
            // A second `type` member: the gate may have dropped members the last one needs.
            Err(e) if gate.is_some() && e.to_string().starts_with(DUPLICATE_TYPE) => parse(None),
            other => other,
        }
    }

    fn parse_from<'de, R: serde_json::de::Read<'de>>(
        &self,
        mut de: serde_json::Deserializer<R>,
        gate: Option<TypeGate<'_>>,
    ) -> Result<Value, serde_json::Error> {
        let v = Pruned {
            node: &self.root,
            gate,
        }
        .deserialize(&mut de)?;
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

impl Projection {
    /// Write what the projection keeps of `doc` as compact JSON: the text
    /// [`Projection::parse`] would give for the document `doc` came from, provided it was
    /// read through this projection or a wider one.
    pub fn write_kept(&self, doc: &Value, out: &mut String) {
        write_pruned(Some(&self.root), doc, out);
    }
}

/// Write `v` as compact JSON, keeping only what `node` keeps (`None`: everything).
fn write_pruned(node: Option<&Node>, v: &Value, out: &mut String) {
    let node = node.filter(|n| !n.keep_all);
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            use std::fmt::Write;
            let _ = write!(out, "{n}");
        }
        Value::String(s) => write_json_str(s, out),
        Value::Array(items) => {
            out.push('[');
            // An array whose elements the projection does not descend into is kept empty,
            // as parsing through it keeps it.
            let elements = match node {
                Some(n) => n.elements.as_deref().map(Some),
                None => Some(None),
            };
            if let Some(elements) = elements {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_pruned(elements, item, out);
                }
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            let mut first = true;
            for (k, item) in members {
                let child = match node {
                    Some(n) => match n.find_bytes(k.as_bytes()) {
                        Some(c) => Some(c),
                        None => continue,
                    },
                    None => None,
                };
                if !first {
                    out.push(',');
                }
                first = false;
                write_json_str(k, out);
                out.push(':');
                write_pruned(child, item, out);
            }
            out.push('}');
        }
    }
}

/// Write `s` as a JSON string; most strings need no escape and are copied whole.
fn write_json_str(s: &str, out: &mut String) {
    out.push('"');
    // Folded without stopping early, so the check runs many bytes at a time.
    let needs_escape = |b: &u8| u8::from(*b < 0x20 || *b == b'"' || *b == b'\\');
    if s.as_bytes().iter().map(needs_escape).fold(0, |a, b| a | b) == 0 {
        out.push_str(s);
    } else {
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if u32::from(c) < 0x20 => {
                    use std::fmt::Write;
                    let _ = write!(out, "\\u{:04x}", u32::from(c));
                }
                c => out.push(c),
            }
        }
    }
    out.push('"');
}

/// Whether a resource of a given type must be read through the whole projection (`true`) or
/// only for its `id` and `type` (`false`).
pub type TypeGate<'g> = &'g (dyn Fn(&str) -> bool + Sync);

/// Error text that makes [`Projection::parse_gated`] read a document again without its gate.
const DUPLICATE_TYPE: &str = "a second `type` member";

/// `id` or `type` (any case): what a resource the type gate turns away keeps.
fn is_identity_key(k: &str) -> bool {
    k.eq_ignore_ascii_case("id") || k.eq_ignore_ascii_case("type")
}

/// A value read through a trie node; `gate` only at the document root.
struct Pruned<'n, 'g> {
    node: &'n Node,
    gate: Option<TypeGate<'g>>,
}

impl<'n> Pruned<'n, '_> {
    fn new(node: &'n Node) -> Self {
        Self { node, gate: None }
    }
}

impl<'de> DeserializeSeed<'de> for Pruned<'_, '_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        if self.node.keep_all {
            return serde::Deserialize::deserialize(d);
        }
        d.deserialize_any(PrunedVisitor(self))
    }
}

struct PrunedVisitor<'n, 'g>(Pruned<'n, 'g>);

impl<'de> Visitor<'de> for PrunedVisitor<'_, '_> {
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
        match &self.0.node.elements {
            Some(node) => {
                while let Some(v) = seq.next_element_seed(Pruned::new(node))? {
                    out.push(v);
                }
            }
            None => while seq.next_element::<IgnoredAny>()?.is_some() {},
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let Pruned { node, gate } = self.0;
        let mut out = Map::new();
        // Set once the gate has said this resource's type is not needed.
        let mut lean = false;
        let mut seen_type = false;
        while let Some(key) = map.next_key::<KeyBytes<'de>>()? {
            let Some(child) = node.find_bytes(&key.0) else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            let key = key.into_string()?;
            if lean && !is_identity_key(&key) {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let v = map.next_value_seed(Pruned::new(child))?;
            if let Some(gate) = gate.filter(|_| key.eq_ignore_ascii_case("type")) {
                if seen_type {
                    return Err(serde::de::Error::custom(DUPLICATE_TYPE));
                }
                seen_type = true;
                lean = v.as_str().is_some_and(|t| !gate(t));
            }
            out.insert(key, v);
        }
        if lean {
            out.retain(|k, _| is_identity_key(k));
        }
        Ok(Value::Object(out))
    }
}

/// An object key as raw bytes, borrowed from the input when it holds no escapes. Keys of
/// members that are skipped are never checked for UTF-8 nor copied.
struct KeyBytes<'de>(std::borrow::Cow<'de, [u8]>);

impl KeyBytes<'_> {
    fn into_string<E: serde::de::Error>(self) -> Result<String, E> {
        String::from_utf8(self.0.into_owned())
            .map_err(|_| E::custom("invalid UTF-8 in an object key"))
    }
}

impl<'de> serde::Deserialize<'de> for KeyBytes<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyBytes<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_bytes<E>(self, v: &'de [u8]) -> Result<KeyBytes<'de>, E> {
                Ok(KeyBytes(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<KeyBytes<'de>, E> {
                Ok(KeyBytes(std::borrow::Cow::Owned(v.to_vec())))
            }
            fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<KeyBytes<'de>, E> {
                Ok(KeyBytes(std::borrow::Cow::Owned(v)))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<KeyBytes<'de>, E> {
                Ok(KeyBytes(std::borrow::Cow::Borrowed(v.as_bytes())))
            }
            fn visit_str<E>(self, v: &str) -> Result<KeyBytes<'de>, E> {
                Ok(KeyBytes(std::borrow::Cow::Owned(v.as_bytes().to_vec())))
            }
        }
        d.deserialize_bytes(V)
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
        while let Some(v) = seq.next_element_seed(Pruned::new(self.node))? {
            (self.each)(v);
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut found = false;
        while let Some(key) = map.next_key::<KeyBytes<'de>>()? {
            if key.0.eq_ignore_ascii_case(b"data") && !found {
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

    /// Writing what a projection keeps of a wider document gives the text whose parse equals
    /// parsing the original through the projection: names in any case, arrays the projection
    /// does not descend into (kept empty), escapes, control characters, non-ASCII, numbers.
    #[test]
    fn written_text_reads_back_as_the_projection_parses() {
        let mut p = Projection::top_level(EVALUATION_FIELDS);
        p.add(&PropertyPath::parse("properties.rules[*].on").unwrap());
        p.add(&PropertyPath::parse("properties.Tags").unwrap());
        p.add(&PropertyPath::parse("properties.list").unwrap());
        p.add(&PropertyPath::parse("properties.skipped.inner").unwrap());
        let docs = [
            r#"{"ID":"/s/\"q\"\\b","type":"T","Name":"caf\u00e9 \ud83d\ude00 \u0001\n\t","x":1}"#,
            r#"{"id":"/s/2","PROPERTIES":{"rules":[{"on":true,"off":1},{"ON":null},3],
                "tags":{"a":[1.5e300,-7,0.1,18446744073709551615]},"list":[[],{}],
                "skipped":[1,2],"other":{"deep":[1]}}}"#,
            r#"{"properties":{"rules":{"on":1},"list":"s","skipped":{"inner":{"z":[]},"no":1}}}"#,
            r#"[1,{"id":"x"}]"#,
            r#""just a string""#,
        ];
        let everything = Projection::everything();
        for text in docs {
            let whole = everything.parse(text.as_bytes()).unwrap();
            let mut out = String::new();
            p.write_kept(&whole, &mut out);
            let back: Value = serde_json::from_str(&out).unwrap();
            assert_eq!(back, p.parse(text.as_bytes()).unwrap(), "{text} -> {out}");
            let mut all = String::new();
            everything.write_kept(&whole, &mut all);
            assert_eq!(serde_json::from_str::<Value>(&all).unwrap(), whole);
        }
    }

    /// A line that is UTF-8 throughout and one that is not give the same answers: invalid
    /// bytes in a skipped string are not looked at; in a kept string they are an error.
    #[test]
    fn utf8_is_checked_only_where_a_value_is_kept() {
        let p = Projection::identity();
        let text = "{\"id\":\"/s/\u{e9}\",\"type\":\"T\",\"notes\":\"caf\u{e9}\"}";
        let mut skipped_bad = text.as_bytes().to_vec();
        let mut kept_bad = skipped_bad.clone();
        // Overwrite the 2-byte `é` of the skipped `notes`, then of the kept `id`, with 0xff 0xfe.
        let at = |v: &[u8], from: usize| v.windows(2).skip(from).position(|w| w == [0xc3, 0xa9]);
        let notes = at(&skipped_bad, 20).unwrap() + 20;
        skipped_bad.splice(notes..notes + 2, [0xff, 0xfe]);
        let id = at(&kept_bad, 0).unwrap();
        kept_bad.splice(id..id + 2, [0xff, 0xfe]);
        let good = p.parse(text.as_bytes()).unwrap();
        assert_eq!(good, json!({"id": "/s/\u{e9}", "type": "T"}));
        assert_eq!(
            p.parse(&skipped_bad).unwrap(),
            json!({"id": "/s/\u{e9}", "type": "T"})
        );
        assert!(p.parse(&kept_bad).is_err());
    }
}
