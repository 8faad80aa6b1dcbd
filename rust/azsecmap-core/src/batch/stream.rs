//! Streaming evaluation of NDJSON larger than memory. Each resource is parsed, decided and
//! freed in one pass while its document is still in cache; only its identity (`id`, `type`)
//! and its rows outlive that pass, except for resources existence checks still need.

use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use serde_json::Value;

use super::compact::CompactDocs;
use super::existence::RelatedSet;
use super::store::{self, LoadError};
use super::{evaluate_block, BatchOptions, BatchResults, Cancelled, Phase};
use super::{PreparedPack, Run, TypeTable};
use crate::field::{resource_id, resource_type};

/// What a streaming run produced besides its result blocks.
#[derive(Debug, Default)]
pub struct StreamSummary {
    /// Resources evaluated.
    pub resources: usize,
    /// Lines that were not resources.
    pub errors: Vec<LoadError>,
}

/// The `id` and `type` of each resource a block of results refers to: row resource index `r`
/// is entry `r`. One buffer holds the text, so a block costs no allocation per resource.
#[derive(Debug, Default, Clone)]
pub struct Identities {
    text: String,
    /// Where each entry's `id` ends and its `type` ends in `text`.
    ends: Vec<(usize, usize)>,
}

impl Identities {
    /// The identities of `docs`, in order (missing members read as empty).
    pub fn of_docs(docs: &[Value]) -> Self {
        let mut out = Self::default();
        for d in docs {
            out.push_doc(d);
        }
        out
    }

    /// Add the resource `doc`; returns its type, as read for the identity.
    pub fn push_doc<'d>(&mut self, doc: &'d Value) -> &'d str {
        let id = resource_id(doc).unwrap_or_default();
        let t = resource_type(doc).unwrap_or_default();
        self.push(id, t);
        t
    }

    /// Add one resource.
    pub fn push(&mut self, id: &str, resource_type: &str) {
        self.text.push_str(id);
        let id_end = self.text.len();
        self.text.push_str(resource_type);
        self.ends.push((id_end, self.text.len()));
    }

    /// `(id, type)` of entry `r`.
    pub fn get(&self, r: usize) -> Option<(&str, &str)> {
        let start = match r.checked_sub(1) {
            Some(prev) => self.ends.get(prev)?.1,
            None => 0,
        };
        let &(id_end, end) = self.ends.get(r)?;
        Some((self.text.get(start..id_end)?, self.text.get(id_end..end)?))
    }

    /// Number of resources.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Bytes of `id` and `type` text held.
    pub(crate) fn text_len(&self) -> usize {
        self.text.len()
    }

    /// True when there is none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub(crate) fn reserve(&mut self, entries: usize, text: usize) {
        self.ends.reserve(entries);
        self.text.reserve(text);
    }

    pub(crate) fn append(&mut self, other: Identities) {
        let base = self.text.len();
        self.text.push_str(&other.text);
        self.ends
            .extend(other.ends.iter().map(|&(i, e)| (i + base, e + base)));
    }
}

/// One part of a block after its single pass: rows and identities for the caller, and the
/// documents the run still needs.
#[derive(Default)]
struct Evaluated {
    results: BatchResults,
    identities: Identities,
    /// Resources some existence policy can apply to (decided in the deferred pass).
    deferred: CompactDocs,
    /// Resources of a type existence checks look for.
    related: CompactDocs,
    errors: Vec<LoadError>,
    /// Newlines in the part: the next part starts that many lines further.
    newlines: usize,
}

/// A block after its single pass. Its rows stay in parts, to be joined by whoever hands them
/// over while the next block is evaluated (joining them here kept a core idle).
#[derive(Default)]
struct Block {
    rows: Rows,
    resources: usize,
    deferred: CompactDocs,
    related: CompactDocs,
    errors: Vec<LoadError>,
    newlines: usize,
}

impl Block {
    /// The parts in order; bad lines are renumbered past the newlines of the parts before.
    fn of_parts(parts: Vec<Evaluated>) -> Block {
        let mut block = Block::default();
        let mut deferred = Vec::with_capacity(parts.len());
        let mut related = Vec::with_capacity(parts.len());
        for mut part in parts {
            for e in &mut part.errors {
                e.line += block.newlines;
            }
            block.newlines += part.newlines;
            block.resources += part.identities.len();
            block.rows.0.push((part.identities, part.results));
            deferred.push(part.deferred);
            related.push(part.related);
            block.errors.append(&mut part.errors);
        }
        block.deferred = CompactDocs::concat(deferred);
        block.related = CompactDocs::concat(related);
        block
    }
}

/// Rows and the identities their resource indices point into, one pair per part.
#[derive(Default)]
struct Rows(Vec<(Identities, BatchResults)>);

impl Rows {
    /// One pair, in vectors allocated once at their final size (growing them part by part
    /// copied each block's rows several times and faulted in fresh pages on every copy).
    fn join(self) -> (Identities, BatchResults) {
        let parts = self.0;
        let mut identities = Identities::default();
        let mut results = BatchResults::default();
        results.reserve(parts.iter().map(|(_, r)| r.len()).sum());
        identities.reserve(
            parts.iter().map(|(i, _)| i.len()).sum(),
            parts.iter().map(|(i, _)| i.text_len()).sum(),
        );
        for (ids, rows) in parts {
            let offset = u32::try_from(identities.len()).unwrap_or(u32::MAX);
            results.append(rows, offset);
            identities.append(ids);
        }
        (identities, results)
    }
}

/// Deferred resources read back and decided at a time.
const DEFERRED_RUN: usize = 16_384;

/// Bytes of a block per task (cut at a line end): enough to amortise scheduling, small enough
/// to balance the cores. Each task finds its own lines, so no pass over the block is serial.
/// Tests use tiny parts so that their blocks hold many.
const BYTES_PER_TASK: usize = if cfg!(test) { 64 } else { 512 << 10 };

/// Parse, decide and free every resource of an NDJSON block (`line`: its first line number),
/// in parallel. Existence policies are left for the deferred pass.
fn evaluate_lines(
    pack: &PreparedPack,
    types: &TypeTable<'_>,
    block: &[u8],
    line: usize,
    related: &RelatedSet,
    options: &BatchOptions,
    cancel: &AtomicBool,
) -> Result<Block, Cancelled> {
    let gate = |t: &str| types.needed(t);
    let run = Run {
        pack,
        related,
        options,
        phase: Phase::Stream,
    };
    let whole = Run {
        phase: Phase::All,
        ..run
    };
    let parts: Vec<Evaluated> = store::parts_of(block, BYTES_PER_TASK)
        .par_iter()
        .map(|part| {
            if cancel.load(Ordering::Relaxed) {
                return Err(Cancelled);
            }
            let mut out = Evaluated::default();
            // Room for the part's resources as ARM exports run (a kilobyte or more a line, a
            // sixth of it id and type), so the buffers seldom grow by copying.
            let resources = part.len() / 1024 + 1;
            out.identities.reserve(resources, part.len() / 6);
            out.results.reserve(resources);
            let mut local = types.local();
            // Line numbers count from the block's first line; the parts before this one are
            // added once all are done.
            out.newlines = store::for_each_line(part, line, |n, bytes| {
                let projection = &pack.evaluation_projection;
                let doc = match store::parse_line(projection, bytes, n, Some(&gate)) {
                    Ok(doc) => doc,
                    Err(e) => return out.errors.push(e),
                };
                // Checked through `identity`, which hands back the `id` and `type` it found.
                let (id, t) = match store::identity(&doc) {
                    Ok(identity) => identity,
                    Err(message) => return out.errors.push(LoadError { line: n, message }),
                };
                let Ok(r) = u32::try_from(out.identities.len()) else {
                    return;
                };
                out.identities.push(id, t);
                let info = local.get(t);
                // A resource no existence policy applies to is decided whole now.
                let deferred = info.deferred && run.existence_applies(&info.candidates, &doc, t);
                let decider = if deferred { &run } else { &whole };
                decider.decide_resource(&info.candidates, r, &doc, t, &mut out.results);
                if deferred {
                    out.deferred
                        .push_identified(&doc, id, t, &pack.existence_projection);
                }
                if info.related {
                    out.related
                        .push_identified(&doc, id, t, &pack.existence_projection);
                }
            });
            Ok(out)
        })
        .collect::<Result<_, Cancelled>>()?;
    Ok(Block::of_parts(parts))
}

/// Evaluate NDJSON from `reader` block by block without holding the tenant in memory. Each
/// resource is parsed through the pack's projection, decided and freed in one pass; every
/// block's rows go to `on_block` with the identities their resource indices point into.
/// Resources that existence policies apply to are kept (projected) until every related
/// resource has been seen, then decided and handed over last.
///
/// Reading, evaluating and handing over overlap: a reader thread fills the next block while
/// block k+1 is evaluated and block k handed over (`on_block` may be serial work such as
/// building Arrow arrays; rayon lends the idle core to whichever side still has work).
pub fn evaluate_stream(
    pack: &PreparedPack,
    reader: &mut (dyn std::io::Read + Send),
    block_bytes: usize,
    options: &BatchOptions,
    cancel: &AtomicBool,
    on_block: &mut (dyn FnMut(&Identities, BatchResults) + Send),
) -> Result<Result<StreamSummary, Cancelled>, std::io::Error> {
    let types = TypeTable::new(pack, &options.eval);
    let mut related = RelatedSet::new(&pack.related_types);
    let mut deferred = CompactDocs::default();
    let mut summary = StreamSummary::default();
    let mut cancelled = false;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(1);
    let (recycle_tx, recycle_rx) = std::sync::mpsc::channel::<Vec<u8>>();
    let read_result = std::thread::scope(|scope| {
        let reader_thread = scope.spawn(move || {
            store::for_each_owned_block(reader, block_bytes, &recycle_rx, &mut |block| {
                tx.send(block).is_ok()
            })
        });
        let mut pending: Option<Rows> = None;
        let mut line = 1;
        for block in rx.iter() {
            let prev = pending.take();
            let (evaluated, ()) = rayon::join(
                || evaluate_lines(pack, &types, &block, line, &related, options, cancel),
                || {
                    if let Some(rows) = prev {
                        let (ids, results) = rows.join();
                        on_block(&ids, results);
                    }
                },
            );
            // Give the buffer back to the reader; if it has finished, just free it.
            let _ = recycle_tx.send(block);
            let Ok(mut e) = evaluated else {
                cancelled = true;
                break;
            };
            line += e.newlines;
            summary.resources += e.resources;
            summary.errors.append(&mut e.errors);
            related.docs.append(std::mem::take(&mut e.related));
            deferred.append(std::mem::take(&mut e.deferred));
            pending = Some(e.rows);
        }
        if let Some(rows) = pending.take() {
            if !cancelled {
                let (ids, results) = rows.join();
                on_block(&ids, results);
            }
        }
        drop(rx);
        reader_thread
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the reader thread failed")))
    });
    if cancelled {
        return Ok(Err(Cancelled));
    }
    read_result?;
    if !deferred.is_empty() {
        related.finish();
        // Read back and decided a run at a time, so their trees never all exist at once; a
        // run's rows are handed over while the next run is decided.
        let mut pending: Option<(Identities, BatchResults)> = None;
        for (docs, identities) in deferred.runs(DEFERRED_RUN) {
            let prev = pending.take();
            let (decided, ()) = rayon::join(
                || {
                    let decided = evaluate_block(
                        pack,
                        &docs,
                        &related,
                        &types,
                        options,
                        Phase::Deferred,
                        cancel,
                    );
                    drop_in_parallel(docs);
                    decided
                },
                || {
                    if let Some((ids, results)) = prev {
                        on_block(&ids, results);
                    }
                },
            );
            match decided {
                Ok(r) => pending = Some((identities, r)),
                Err(c) => return Ok(Err(c)),
            }
        }
        if let Some((ids, results)) = pending {
            on_block(&ids, results);
        }
    }
    Ok(Ok(summary))
}

/// Free documents on all cores (freeing millions of small trees is not free).
fn drop_in_parallel(docs: Vec<Value>) {
    docs.into_par_iter().with_min_len(512).for_each(drop);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::batch::evaluate_pack;
    use crate::batch::store::ResourceStore;
    use crate::policy::PolicyDefinition;

    fn pack(rules: &[serde_json::Value]) -> PreparedPack {
        let bound = rules
            .iter()
            .enumerate()
            .map(|(i, r)| {
                PolicyDefinition::from_value(r, &format!("p{i}"))
                    .unwrap()
                    .bind(&serde_json::Map::new())
                    .unwrap()
            })
            .collect();
        PreparedPack::new(bound)
    }

    #[test]
    fn identities_keep_order_across_appends() {
        let mut a = Identities::default();
        a.push("/s/a", "T/a");
        a.push("", "T/empty-id");
        let mut b = Identities::default();
        b.push("/s/ü", "T/b");
        a.append(b);
        assert_eq!(a.len(), 3);
        assert_eq!(a.get(0), Some(("/s/a", "T/a")));
        assert_eq!(a.get(1), Some(("", "T/empty-id")));
        assert_eq!(a.get(2), Some(("/s/ü", "T/b")));
        assert_eq!(a.get(3), None);
        let docs = [
            serde_json::json!({"id": "/x", "TYPE": "T/x"}),
            serde_json::json!(1),
        ];
        let of = Identities::of_docs(&docs);
        assert_eq!(
            (of.get(0), of.get(1)),
            (Some(("/x", "T/x")), Some(("", "")))
        );
    }

    /// The gate the stream parses with: types no policy can apply to keep only `id` and
    /// `type`, wherever `type` sits; a document with two `type` members is read whole.
    #[test]
    fn gate_keeps_only_identity_for_unneeded_types() {
        let pack = pack(&[serde_json::json!({"if": {"allOf": [
            {"field": "type", "equals": "Microsoft.Storage/storageAccounts"},
            {"field": "Microsoft.Storage/storageAccounts/supportsHttpsTrafficOnly", "equals": false}
        ]}, "then": {"effect": "audit"}})]);
        let options = BatchOptions::default();
        let types = TypeTable::new(&pack, &options.eval);
        let gate = |t: &str| types.needed(t);
        let lines = [
            r#"{"id":"/s/sa","type":"Microsoft.Storage/storageAccounts","properties":{"supportsHttpsTrafficOnly":false}}"#,
            r#"{"id":"/s/ra","properties":{"x":1},"type":"Microsoft.Authorization/roleAssignments","name":"ra"}"#,
            r#"{"id":"/s/kv","type":"Microsoft.KeyVault/vaults","properties":{"x":1},"tags":{"a":"b"}}"#,
            r#"{"id":"/s/dup","type":"Microsoft.KeyVault/vaults","properties":{"supportsHttpsTrafficOnly":false},"type":"Microsoft.Storage/storageAccounts"}"#,
        ];
        let mut store = ResourceStore::default();
        store.extend_ndjson_gated(
            lines.join("\n").as_bytes(),
            1,
            &pack.evaluation_projection,
            Some(&gate),
        );
        let docs = &store.docs;
        assert_eq!(docs.len(), 4);
        assert_eq!(docs[0]["properties"]["supportsHttpsTrafficOnly"], false);
        for lean in [&docs[1], &docs[2]] {
            let keys: Vec<&String> = lean.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["id", "type"], "{lean}");
        }
        assert_eq!(docs[3]["type"], "Microsoft.Storage/storageAccounts");
        assert_eq!(docs[3]["properties"]["supportsHttpsTrafficOnly"], false);
    }

    type Rows = Vec<(String, crate::batch::State)>;

    /// `(id, state)` of every row, streamed and from a store.
    fn both_paths(pack: &PreparedPack, lines: &str) -> (Rows, Rows) {
        both_paths_with(pack, lines, &BatchOptions::default())
    }

    fn both_paths_with(pack: &PreparedPack, lines: &str, options: &BatchOptions) -> (Rows, Rows) {
        let cancel = AtomicBool::new(false);
        let mut streamed = Vec::new();
        evaluate_stream(
            pack,
            &mut lines.as_bytes(),
            1,
            options,
            &cancel,
            &mut |ids, r| {
                for i in 0..r.len() {
                    let (id, _) = ids.get(r.resource[i] as usize).unwrap();
                    streamed.push((id.to_string(), r.state[i]));
                }
            },
        )
        .unwrap()
        .unwrap();
        let mut store = ResourceStore::default();
        store.extend_ndjson(lines.as_bytes(), 1, &pack.projection);
        let whole = evaluate_pack(pack, &store, options, &cancel).unwrap();
        let in_memory: Rows = (0..whole.len())
            .map(|i| {
                let doc = &store.docs[whole.resource[i] as usize];
                (doc["id"].as_str().unwrap().to_string(), whole.state[i])
            })
            .collect();
        (streamed, in_memory)
    }

    /// Streaming parses only what evaluation reads; `resourceGroup()` carries the resource's
    /// location, so a rule that reads it alone keeps `location` and both paths agree.
    #[test]
    fn streaming_keeps_what_template_functions_read() {
        let pack = pack(&[serde_json::json!({
            "if": {"value": "[resourceGroup().location]", "equals": "westeurope"},
            "then": {"effect": "audit"}
        })]);
        let lines = [
            r#"{"id":"/subscriptions/s/resourceGroups/g/providers/A.B/c/x","type":"A.B/c","location":"westeurope","tags":{"a":"b"}}"#,
            r#"{"id":"/subscriptions/s/resourceGroups/g/providers/A.B/c/y","type":"A.B/c","location":"eastus"}"#,
        ]
        .join("\n");
        let (streamed, in_memory) = both_paths(&pack, &lines);
        use crate::batch::State;
        assert_eq!(
            in_memory,
            [
                (
                    "/subscriptions/s/resourceGroups/g/providers/A.B/c/x".to_string(),
                    State::NonCompliant
                ),
                (
                    "/subscriptions/s/resourceGroups/g/providers/A.B/c/y".to_string(),
                    State::Compliant
                ),
            ]
        );
        assert_eq!(streamed, in_memory);
        let mut lean = ResourceStore::default();
        lean.extend_ndjson(lines.as_bytes(), 1, &pack.evaluation_projection);
        let keys: Vec<&String> = lean.docs[1].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["id", "location", "type"]);
    }

    /// Resources waiting for their existence checks, and the related resources, are kept as
    /// compact text through the existence policies' own projection: what the `if`, `details`
    /// expressions (`[field()]` of the evaluated resource) and `existenceCondition` read must
    /// all survive it, wherever the parent and its children sit in the input.
    #[test]
    fn existence_checks_read_what_their_policies_name_after_the_stream() {
        let pack = pack(&[
            serde_json::json!({
                "if": {"allOf": [
                    {"field": "type", "equals": "A.B/c"},
                    {"field": "properties.tier", "equals": "Premium"}
                ]},
                "then": {"effect": "auditIfNotExists", "details": {
                    "type": "A.B/c/children",
                    "name": "[field('properties.childName')]",
                    "existenceCondition": {"allOf": [
                        {"field": "properties.state", "equals": "Enabled"},
                        {"field": "properties.level", "equals": "[field('properties.wanted')]"}
                    ]}
                }}
            }),
            serde_json::json!({
                "if": {"field": "properties.other", "exists": true},
                "then": {"effect": "audit"}
            }),
        ]);
        let kept = pack
            .existence_projection
            .parse(br#"{"id":"i","type":"t","name":"n","properties":{"tier":1,"other":2}}"#)
            .unwrap();
        assert_eq!(
            kept,
            serde_json::json!({"id":"i","type":"t","name":"n","properties":{"tier":1}})
        );
        let c = "/subscriptions/s/resourceGroups/g/providers/A.B/c";
        let lines = [
            format!(r#"{{"id":"{c}/x/children/kid","name":"kid","type":"A.B/c/children","properties":{{"state":"Enabled","level":"h\"i\u00e9","other":1}}}}"#),
            format!(r#"{{"id":"{c}/x","name":"x","type":"A.B/c","properties":{{"tier":"Premium","childName":"kid","wanted":"h\"i\u00e9","other":"big"}}}}"#),
            format!(r#"{{"id":"{c}/y","name":"y","type":"a.b/C","properties":{{"tier":"Premium","childName":"KID","wanted":"low"}}}}"#),
            format!(r#"{{"id":"{c}/y/children/kid","name":"kid","type":"A.B/c/children","properties":{{"state":"Enabled","level":"low"}}}}"#),
            format!(r#"{{"id":"{c}/z","name":"z","type":"A.B/c","properties":{{"tier":"Standard","childName":"kid"}}}}"#),
            format!(r#"{{"id":"{c}/w","name":"w","type":"A.B/c","properties":{{"tier":"Premium","childName":"none","wanted":"low"}}}}"#),
            format!(r#"{{"id":"{c}/w/children/kid","name":"kid","type":"A.B/c/children","properties":{{"state":"Enabled","level":"low"}}}}"#),
            format!(r#"{{"id":"{c}/v","name":"v","type":"A.B/c","properties":{{"tier":"Premium","childName":"kid","wanted":"low"}}}}"#),
            format!(r#"{{"id":"{c}/v/children/kid","name":"kid","type":"A.B/c/children","properties":{{"state":"Disabled","level":"low"}}}}"#),
        ]
        .join("\n");
        let (streamed, in_memory) = both_paths(&pack, &lines);
        use crate::batch::State::{Compliant, NonCompliant};
        // (resource, existence policy's state or `None` when it does not apply, audit's state)
        let expected = [
            ("x/children/kid", None, NonCompliant),
            ("x", Some(Compliant), NonCompliant),
            ("y", Some(Compliant), Compliant),
            ("y/children/kid", None, Compliant),
            ("z", None, Compliant),
            ("w", Some(NonCompliant), Compliant),
            ("w/children/kid", None, Compliant),
            ("v", Some(NonCompliant), Compliant),
            ("v/children/kid", None, Compliant),
        ];
        let mut want: Rows = Vec::new();
        for (r, existence, audit) in expected {
            want.extend(existence.map(|s| (format!("{c}/{r}"), s)));
            want.push((format!("{c}/{r}"), audit));
        }
        let sorted = |mut rows: Rows| {
            rows.sort_by(|a, b| a.0.cmp(&b.0).then((a.1 as u8).cmp(&(b.1 as u8))));
            rows
        };
        want = sorted(want);
        assert_eq!(sorted(in_memory.clone()), want);
        assert_eq!(sorted(streamed), want);
        // `z` and the children are decided during the stream (no existence `if` holds for
        // them): their not-applicable rows are there all the same.
        let options = BatchOptions {
            include_not_applicable: true,
            ..BatchOptions::default()
        };
        let (streamed, in_memory) = both_paths_with(&pack, &lines, &options);
        let not_applicable = |rows: &Rows| {
            let mut ids: Vec<String> = rows
                .iter()
                .filter(|(_, s)| *s == crate::batch::State::NotApplicable)
                .map(|(id, _)| id.clone())
                .collect();
            ids.sort();
            ids
        };
        let mut want_na: Vec<String> = ["z", "x/children/kid", "y/children/kid"]
            .iter()
            .chain(&["w/children/kid", "v/children/kid"])
            .map(|r| format!("{c}/{r}"))
            .collect();
        want_na.sort();
        assert_eq!(not_applicable(&in_memory), want_na);
        assert_eq!(sorted(streamed), sorted(in_memory));
    }

    /// An existence policy whose related type is an expression names no related type up
    /// front; streaming still defers its resources and decides them as the in-memory path does
    /// (before, it gave no row at all).
    #[test]
    fn existence_with_an_expression_type_is_decided_when_streaming() {
        let pack = pack(&[serde_json::json!({
            "if": {"field": "type", "equals": "Microsoft.Storage/storageAccounts"},
            "then": {"effect": "auditIfNotExists", "details": {
                "type": "[if(equals(field('name'), 'sa'), 'Microsoft.Insights/diagnosticSettings', 'Microsoft.Insights/other')]",
                "existenceCondition": {"field": "name", "equals": "d"}
            }}
        })]);
        assert!(pack.related_types.is_empty());
        let lines = [
            r#"{"id":"/s/sa","type":"Microsoft.Storage/storageAccounts","name":"sa"}"#,
            r#"{"id":"/s/sa/providers/Microsoft.Insights/diagnosticSettings/d","type":"Microsoft.Insights/diagnosticSettings","name":"d"}"#,
        ]
        .join("\n");
        let (streamed, in_memory) = both_paths(&pack, &lines);
        assert_eq!(in_memory.len(), 1, "{in_memory:?}");
        assert_eq!(streamed, in_memory);
    }

    /// Bad lines are reported with their line numbers whatever the block size (blank lines
    /// count; the last line may lack its newline), and every good line is evaluated.
    #[test]
    fn bad_lines_keep_their_numbers_across_blocks() {
        let pack = pack(&[serde_json::json!({
            "if": {"field": "type", "equals": "Microsoft.Storage/storageAccounts"},
            "then": {"effect": "audit"}
        })]);
        let good =
            |i: usize| format!(r#"{{"id":"/s/sa{i}","type":"Microsoft.Storage/storageAccounts"}}"#);
        let mut text = String::new();
        let mut bad = Vec::new();
        for n in 1..=60 {
            match n % 7 {
                0 => {
                    text.push_str("{\"id\": \"/x\", \"type\": ");
                    bad.push(n);
                }
                3 => text.push_str("   "),
                _ => text.push_str(&good(n)),
            }
            if n < 60 {
                text.push('\n');
            }
        }
        for block in [1, 10, 100, 1 << 20] {
            let mut rows = 0;
            let summary = evaluate_stream(
                &pack,
                &mut text.as_bytes(),
                block,
                &BatchOptions::default(),
                &AtomicBool::new(false),
                &mut |_, r| rows += r.len(),
            )
            .unwrap()
            .unwrap();
            let lines: Vec<usize> = summary.errors.iter().map(|e| e.line).collect();
            assert_eq!(lines, bad, "block {block}");
            assert_eq!(summary.resources, 60 - bad.len() - 9, "block {block}");
            assert_eq!(rows, summary.resources, "block {block}");
        }
    }
}
