//! Documents a run must keep until the input ends (resources waiting for their existence
//! checks, and the related resources those checks look at), held as compact JSON text in one
//! buffer instead of as `serde_json::Value` trees. A tree costs a B-tree node of about 600
//! bytes per object however few members it holds, plus an allocation per string; the text of
//! a projected document is a few hundred bytes. A document is read back when it is needed.

use serde_json::Value;

use super::stream::Identities;
use crate::field::{resource_id, resource_type};
use crate::projection::Projection;

/// Projected documents as compact JSON, with the `id` and `type` of each (read without
/// parsing the text again).
#[derive(Debug, Default)]
pub struct CompactDocs {
    text: String,
    /// Where each document's text ends.
    ends: Vec<usize>,
    identities: Identities,
}

impl CompactDocs {
    /// Keep what `projection` keeps of `doc`.
    pub fn push(&mut self, doc: &Value, projection: &Projection) {
        let id = resource_id(doc).unwrap_or_default();
        let resource_type = resource_type(doc).unwrap_or_default();
        self.push_identified(doc, id, resource_type, projection);
    }

    /// [`CompactDocs::push`] for a document whose `id` and `type` the caller has read.
    pub fn push_identified(
        &mut self,
        doc: &Value,
        id: &str,
        resource_type: &str,
        projection: &Projection,
    ) {
        projection.write_kept(doc, &mut self.text);
        self.ends.push(self.text.len());
        self.identities.push(id, resource_type);
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when there is none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// `(id, type)` of document `i`.
    pub fn identity(&self, i: usize) -> Option<(&str, &str)> {
        self.identities.get(i)
    }

    /// The text of document `i`.
    pub fn text(&self, i: usize) -> Option<&str> {
        let start = match i.checked_sub(1) {
            Some(prev) => *self.ends.get(prev)?,
            None => 0,
        };
        self.text.get(start..*self.ends.get(i)?)
    }

    /// Document `i`, read back.
    pub fn get(&self, i: usize) -> Option<Value> {
        let text = self.text(i)?;
        crate::projection::parse_whole(text).or_else(|| serde_json::from_str(text).ok())
    }

    /// All the documents of `parts`, in order, in buffers allocated once.
    pub fn concat(parts: Vec<CompactDocs>) -> CompactDocs {
        let mut all = CompactDocs::default();
        all.text
            .reserve(parts.iter().map(|p| p.text.len()).sum::<usize>());
        all.ends
            .reserve(parts.iter().map(CompactDocs::len).sum::<usize>());
        all.identities.reserve(
            parts.iter().map(CompactDocs::len).sum(),
            parts.iter().map(|p| p.identities.text_len()).sum(),
        );
        for p in parts {
            all.append(p);
        }
        all
    }

    /// Move every document of `other` after these.
    pub fn append(&mut self, other: CompactDocs) {
        if self.is_empty() && self.text.capacity() < other.text.len() {
            *self = other;
            return;
        }
        let base = self.text.len();
        self.text.push_str(&other.text);
        self.ends.extend(other.ends.iter().map(|e| e + base));
        self.identities.append(other.identities);
    }

    /// The documents in runs of `size`: each run's documents read back, with their
    /// identities. Reading back runs on all cores.
    pub fn runs(&self, size: usize) -> impl Iterator<Item = (Vec<Value>, Identities)> + '_ {
        use rayon::prelude::*;
        let size = size.max(1);
        (0..self.len()).step_by(size).map(move |from| {
            let to = (from + size).min(self.len());
            let docs: Vec<Value> = (from..to)
                .into_par_iter()
                .with_min_len(256)
                .map(|i| self.get(i).unwrap_or(Value::Null))
                .collect();
            let mut ids = Identities::default();
            for i in from..to {
                let (id, t) = self.identity(i).unwrap_or_default();
                ids.push(id, t);
            }
            (docs, ids)
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_read_back_exactly_with_their_identities() {
        let docs = [
            json!({"id": "/s/a", "type": "T/a", "properties": {"n": 1.5e300, "big": u64::MAX,
                   "neg": -7, "s": "é\"\\\n\u{1}", "list": [null, true, {}], "x": 0.1}}),
            json!({"ID": "/s/b", "TYPE": "T/b"}),
            json!(3),
        ];
        let all = Projection::everything();
        let mut first = CompactDocs::default();
        first.push(&docs[0], &all);
        let mut second = CompactDocs::default();
        second.push(&docs[1], &all);
        second.push(&docs[2], &all);
        first.append(second);
        assert_eq!(first.len(), 3);
        for (i, d) in docs.iter().enumerate() {
            assert_eq!(first.get(i).as_ref(), Some(d));
        }
        assert_eq!(first.identity(0), Some(("/s/a", "T/a")));
        assert_eq!(first.identity(1), Some(("/s/b", "T/b")));
        assert_eq!(first.identity(2), Some(("", "")));
        assert_eq!(first.get(3), None);
        let runs: Vec<_> = first.runs(2).collect();
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].0, docs[..2].to_vec());
        assert_eq!(runs[1].0, docs[2..].to_vec());
        assert_eq!(runs[1].1.get(0), Some(("", "")));
    }
}
