//! Batch evaluation at tenant scale: a bound pack meets a resource store. Policies are indexed
//! by the resource types their applicability conditions allow, so each resource meets only the
//! policies that can apply; evaluation is data-parallel over resources (rayon); existence
//! checks look across the whole store. One failing pair becomes an `error` row, never a failed
//! batch.

pub mod applicability;
pub mod existence;
pub mod store;

use foldhash::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use serde_json::Value;

use crate::alias::AliasTable;
use crate::field::resource_type;
use crate::policy::BoundPolicy;
use crate::projection::Projection;
use crate::rule::eval::{Env, EvalOptions, Evaluator, Step};
use crate::rule::{Cond, CountSource, FieldSpec};
use applicability::{applies, type_probe, Considered};
use existence::{Existence, RelatedSet};
use store::ResourceStore;

/// A pair's compliance state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum State {
    /// Applicable, and the rule's condition does not hold (or the related resource exists).
    Compliant = 0,
    /// Applicable, and the rule's condition holds (or no related resource meets the check).
    NonCompliant = 1,
    /// The policy does not apply to the resource.
    NotApplicable = 2,
    /// The input lacks the evidence (no resource of the related type; a manual policy).
    Unknown = 3,
    /// Exempted.
    Exempt = 4,
    /// The pair failed to evaluate.
    Error = 5,
}

impl State {
    /// All states in code order.
    pub const ALL: [State; 6] = [
        State::Compliant,
        State::NonCompliant,
        State::NotApplicable,
        State::Unknown,
        State::Exempt,
        State::Error,
    ];

    /// The state's name in results.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Compliant => "compliant",
            State::NonCompliant => "non_compliant",
            State::NotApplicable => "not_applicable",
            State::Unknown => "unknown",
            State::Exempt => "exempt",
            State::Error => "error",
        }
    }
}

/// How a policy's effect is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EffectKind {
    Plain,
    Existence,
    Manual,
    Disabled,
}

/// One policy of a prepared pack.
#[derive(Debug)]
pub struct PackEntry {
    /// The bound policy.
    pub policy: BoundPolicy,
    considered: Considered,
    /// The resource type alone settles applicability ([`Considered::decided_by_type`]).
    by_type: bool,
    kind: EffectKind,
}

/// A policy that can apply to a resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Candidate {
    /// Index in the pack.
    policy: u32,
    /// Applicability is already known to hold for every resource of the type, so the
    /// per-resource applicability walk is skipped.
    settled: bool,
}

/// A bound pack ready to evaluate: its policies, and the paths they read.
#[derive(Debug)]
pub struct PreparedPack {
    /// The policies, in pack order.
    pub entries: Vec<PackEntry>,
    /// What to keep when loading resources for this pack.
    pub projection: Projection,
    /// Lower-cased related types named by existence checks.
    pub related_types: Vec<String>,
}

impl PreparedPack {
    /// Prepare bound policies for batch evaluation.
    pub fn new(policies: Vec<BoundPolicy>) -> Self {
        let mut projection = Projection::identity();
        let mut related_types = Vec::new();
        let mut entries = Vec::with_capacity(policies.len());
        for policy in policies {
            let kind = match policy.effect.as_str() {
                "auditifnotexists" | "deployifnotexists" if policy.existence.is_some() => {
                    EffectKind::Existence
                }
                "manual" => EffectKind::Manual,
                "disabled" => EffectKind::Disabled,
                _ => EffectKind::Plain,
            };
            add_paths(&policy.condition, &mut projection);
            for f in policy.definition.expression_fields.values() {
                for (_, p) in &f.paths {
                    projection.add(p);
                }
            }
            if let Some(x) = &policy.existence {
                if let Some(c) = &x.condition {
                    add_paths(c, &mut projection);
                }
                match &x.related_type {
                    crate::rule::Operand::Const(Value::String(t)) => {
                        let t = t.to_ascii_lowercase();
                        if !related_types.contains(&t) {
                            related_types.push(t);
                        }
                    }
                    _ => projection = Projection::everything(),
                }
            }
            let considered = Considered::of(&policy.condition);
            entries.push(PackEntry {
                by_type: considered.decided_by_type(&policy.condition),
                considered,
                kind,
                policy,
            });
        }
        Self {
            entries,
            projection,
            related_types,
        }
    }

    /// The policies that can apply to resources of `resource_type` (pack indices).
    fn candidates_for(&self, resource_type: &str, options: &EvalOptions) -> Vec<Candidate> {
        let probe = type_probe(resource_type);
        let mut out = Vec::new();
        for (i, e) in self.entries.iter().enumerate() {
            if e.kind == EffectKind::Disabled || mode_excludes(&e.policy, resource_type) {
                continue;
            }
            let env = env_for(&e.policy, options);
            let ev = Evaluator::new(&env, &probe);
            // Errors here are decided per resource later; keep the policy.
            let possible = applies(&e.policy.condition, e.considered.type_only(), &ev, true);
            if possible.as_ref().map_or(true, |&b| b) {
                if let Ok(policy) = u32::try_from(i) {
                    out.push(Candidate {
                        policy,
                        settled: e.by_type && possible.is_ok(),
                    });
                }
            }
        }
        out
    }
}

fn env_for<'p>(policy: &'p BoundPolicy, options: &'p EvalOptions) -> Env<'p> {
    Env {
        parameters: &policy.parameters,
        aliases: AliasTable::bundled(),
        options,
        fields: &policy.definition.expression_fields,
        definition_name: &policy.definition.name,
    }
}

/// Whether the mode, or the rule that `Microsoft.Resources` types other than subscriptions and
/// resource groups are never evaluated, keeps a policy off a type.
fn mode_excludes(policy: &BoundPolicy, resource_type: &str) -> bool {
    let lower = resource_type.to_ascii_lowercase();
    let resources_rp = lower.starts_with("microsoft.resources/")
        && lower != "microsoft.resources/subscriptions"
        && lower != "microsoft.resources/subscriptions/resourcegroups";
    resources_rp || policy.definition.mode.excludes(resource_type).is_some()
}

/// Add every property path a condition reads to the projection.
fn add_paths(cond: &Cond, projection: &mut Projection) {
    let add_field = |f: &FieldSpec, projection: &mut Projection| match f {
        FieldSpec::Resolved(r) => r.paths.iter().for_each(|(_, p)| projection.add(p)),
        FieldSpec::Dynamic(_) => *projection = Projection::everything(),
    };
    match cond {
        Cond::All(cs) | Cond::Any(cs) => cs.iter().for_each(|c| add_paths(c, projection)),
        Cond::Not(c) => add_paths(c, projection),
        Cond::Field(fc) => add_field(&fc.field, projection),
        Cond::Value(_) => {}
        Cond::Count(cc) => {
            if let CountSource::Field(f) = &cc.source {
                add_field(f, projection);
            }
            if let Some(w) = &cc.where_ {
                add_paths(w, projection);
            }
        }
    }
}

/// Options of a batch run.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Context and clock for expressions.
    pub eval: EvalOptions,
    /// Emit `not_applicable` rows for every pair that does not apply.
    pub include_not_applicable: bool,
    /// Keep only rows that are not `compliant` or `not_applicable`.
    pub only_failing: bool,
    /// Compute a reason for non-compliant rows (re-evaluates those pairs with tracing).
    pub reasons: bool,
}

impl Default for BatchOptions {
    fn default() -> Self {
        Self {
            eval: EvalOptions::default(),
            include_not_applicable: false,
            only_failing: false,
            reasons: true,
        }
    }
}

/// Results, column by column.
#[derive(Debug, Default)]
pub struct BatchResults {
    /// Index into the store's documents.
    pub resource: Vec<u32>,
    /// Index into the pack's policies.
    pub policy: Vec<u32>,
    /// The state.
    pub state: Vec<State>,
    /// Why (non-compliant, unknown, error, and not-applicable rows), else `None`.
    pub reason: Vec<Option<String>>,
}

impl BatchResults {
    fn push(&mut self, r: u32, p: u32, s: State, reason: Option<String>) {
        self.resource.push(r);
        self.policy.push(p);
        self.state.push(s);
        self.reason.push(reason);
    }

    fn append(&mut self, mut other: BatchResults) {
        self.resource.append(&mut other.resource);
        self.policy.append(&mut other.policy);
        self.state.append(&mut other.state);
        self.reason.append(&mut other.reason);
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.state.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.state.is_empty()
    }
}

/// The evaluation was interrupted through the cancel flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled;

/// Evaluate every policy of `pack` on every resource of `store` (all in memory).
pub fn evaluate_pack(
    pack: &PreparedPack,
    store: &ResourceStore,
    options: &BatchOptions,
    cancel: &AtomicBool,
) -> Result<BatchResults, Cancelled> {
    let mut related = RelatedSet::new(&pack.related_types);
    related.collect(&store.docs);
    related.finish();
    let mut types = TypeIndex::default();
    evaluate_block(
        pack,
        &store.docs,
        &related,
        &mut types,
        options,
        Phase::All,
        cancel,
    )
}

/// Which policies a block evaluation decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Every policy.
    All,
    /// Streaming, first pass: every policy but the existence ones that apply to the type
    /// (those wait until every related resource has been seen).
    Stream,
    /// Streaming, last pass: only the deferred existence policies.
    Deferred,
}

/// Candidate policies per resource type, filled as types are met.
#[derive(Debug, Default)]
pub struct TypeIndex {
    by_type: HashMap<String, Vec<Candidate>>,
}

/// Evaluate `pack` on one block of resources; existence checks look in `related`. Row
/// resource indices are positions in `docs`.
pub fn evaluate_block(
    pack: &PreparedPack,
    docs: &[Value],
    related: &RelatedSet,
    types: &mut TypeIndex,
    options: &BatchOptions,
    phase: Phase,
    cancel: &AtomicBool,
) -> Result<BatchResults, Cancelled> {
    for doc in docs {
        let t = resource_type(doc).unwrap_or_default();
        if !types.by_type.contains_key(t) {
            types
                .by_type
                .insert(t.to_string(), pack.candidates_for(t, &options.eval));
        }
    }
    let by_type = &types.by_type;
    let all: Vec<u32> = (0..pack.entries.len())
        .filter_map(|i| u32::try_from(i).ok())
        .collect();
    let chunks: Vec<BatchResults> = docs
        .par_chunks(1024)
        .enumerate()
        .map(|(chunk_no, chunk)| {
            let mut out = BatchResults::default();
            if cancel.load(Ordering::Relaxed) {
                return Err(Cancelled);
            }
            for (j, doc) in chunk.iter().enumerate() {
                let Ok(r) = u32::try_from(chunk_no * 1024 + j) else {
                    continue;
                };
                let t = resource_type(doc).unwrap_or_default();
                let candidates = by_type.get(t).map_or(&[][..], Vec::as_slice);
                if options.include_not_applicable && phase != Phase::Deferred {
                    for &p in &all {
                        if !candidates.iter().any(|c| c.policy == p) {
                            out.push(r, p, State::NotApplicable, None);
                        }
                    }
                }
                for &Candidate { policy: p, settled } in candidates {
                    let Some(entry) = pack.entries.get(p as usize) else {
                        continue;
                    };
                    let existence = entry.kind == EffectKind::Existence;
                    match phase {
                        Phase::Stream if existence => continue,
                        Phase::Deferred if !existence => continue,
                        _ => {}
                    }
                    let (state, reason) = decide(entry, settled, doc, t, related, options);
                    let keep = match state {
                        State::NotApplicable => options.include_not_applicable,
                        State::Compliant => !options.only_failing,
                        _ => true,
                    };
                    if keep {
                        out.push(r, p, state, reason);
                    }
                }
            }
            Ok(out)
        })
        .collect::<Result<Vec<_>, Cancelled>>()?;
    let mut results = BatchResults::default();
    for c in chunks {
        results.append(c);
    }
    Ok(results)
}

impl TypeIndex {
    /// True when an existence policy can apply to the type of `doc` (so the document must be
    /// kept for the deferred pass). Call after the block holding `doc` was evaluated.
    pub fn needs_existence(&self, pack: &PreparedPack, doc: &Value) -> bool {
        let t = resource_type(doc).unwrap_or_default();
        self.by_type.get(t).is_some_and(|c| {
            c.iter().any(|c| {
                pack.entries
                    .get(c.policy as usize)
                    .is_some_and(|e| e.kind == EffectKind::Existence)
            })
        })
    }
}

/// Decide one pair (`settled`: the type index already knows the policy applies).
fn decide(
    entry: &PackEntry,
    settled: bool,
    doc: &Value,
    rtype: &str,
    related: &RelatedSet,
    options: &BatchOptions,
) -> (State, Option<String>) {
    let policy = &entry.policy;
    let env = env_for(policy, &options.eval);
    let ev = Evaluator::with_type(&env, doc, Some(rtype));
    let pointer = policy.definition.rule_pointer.as_str();
    if entry.considered.has_location
        && rtype.eq_ignore_ascii_case("microsoft.resources/subscriptions")
    {
        return (
            State::NotApplicable,
            Some("a policy with a `location` condition does not apply to subscriptions".into()),
        );
    }
    let result = match entry.kind {
        EffectKind::Disabled => {
            return (
                State::NotApplicable,
                Some("the effect is `disabled`".into()),
            )
        }
        EffectKind::Existence => match ev.eval(&policy.condition, None) {
            Ok(false) => return (State::NotApplicable, None),
            Ok(true) => {
                let Some(spec) = &policy.existence else {
                    return (
                        State::Error,
                        Some("existence effect without `details`".into()),
                    );
                };
                existence::check(spec, doc, related, &env, pointer).map(|x| match x {
                    Existence::Found => (State::Compliant, None),
                    Existence::Missing(m) => (State::NonCompliant, Some(m)),
                    Existence::Unknown(m) => (State::Unknown, Some(m)),
                })
            }
            Err(e) => Err(e),
        },
        EffectKind::Manual | EffectKind::Plain => {
            let applicable = if settled {
                Ok(true)
            } else {
                applies(&policy.condition, entry.considered, &ev, true)
            };
            match applicable {
                Ok(false) => return (State::NotApplicable, None),
                Err(e) => Err(e),
                Ok(true) if entry.kind == EffectKind::Manual => Ok(manual_state(policy)),
                Ok(true) => ev.eval(&policy.condition, None).map(|m| {
                    if m {
                        let reason = options.reasons.then(|| explain(policy, doc, &options.eval));
                        (State::NonCompliant, reason.flatten())
                    } else {
                        (State::Compliant, None)
                    }
                }),
            }
        }
    };
    result.unwrap_or_else(|e| {
        (
            State::Error,
            Some(format!("{} (at `{}`)", e.message, e.pointer)),
        )
    })
}

/// The deciding conditions of a matched pair, as one line (at most three, `type` checks left
/// out when others decided too). The pair is evaluated again with tracing; applicability was
/// settled by the caller.
fn explain(policy: &BoundPolicy, doc: &Value, options: &EvalOptions) -> Option<String> {
    let env = env_for(policy, options);
    let ev = Evaluator::new(&env, doc);
    let (_, steps) = ev.trace(&policy.condition).ok()?;
    let mut deciding: Vec<&Step<'_>> = steps.iter().filter(|s| !s.is_type_check()).collect();
    if deciding.is_empty() {
        deciding = steps.iter().collect();
    }
    let mut text = String::with_capacity(384);
    for (i, step) in deciding.iter().take(3).enumerate() {
        if i > 0 {
            text.push_str("; ");
        }
        step.write_to(&mut text, ev.resource_type());
    }
    Some(text)
}

/// A manual policy's state: its `details.defaultState` (effect-manual docs: `Unknown` unless
/// the definition says otherwise), since compliance is attested, not read from resources.
fn manual_state(policy: &BoundPolicy) -> (State, Option<String>) {
    let default = policy
        .definition
        .details
        .as_ref()
        .and_then(|d| d.as_object())
        .and_then(|d| {
            d.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("defaultState"))
        })
        .and_then(|(_, v)| v.as_str())
        .map(str::to_ascii_lowercase);
    let why = "a manual policy: compliance is attested, not evaluated from resource state";
    match default.as_deref() {
        Some("compliant") => (State::Compliant, None),
        Some("noncompliant") => (
            State::NonCompliant,
            Some(format!("{why}; its default state is non-compliant")),
        ),
        _ => (State::Unknown, Some(why.to_string())),
    }
}

/// What a streaming run produced besides its result blocks.
#[derive(Debug, Default)]
pub struct StreamSummary {
    /// Resources evaluated.
    pub resources: usize,
    /// Lines that were not resources.
    pub errors: Vec<store::LoadError>,
}

/// Evaluate NDJSON from `reader` block by block without holding the tenant in memory: each
/// block is parsed through the pack's projection, evaluated, and handed to `on_block` with its
/// documents; resources that existence policies apply to are kept (projected) until every
/// related resource has been seen, then evaluated and handed over last.
///
/// Reading, parsing and evaluating overlap: a reader thread fills the next block while block
/// k+1 is parsed and block k evaluated (both in parallel on rayon's pool).
pub fn evaluate_stream(
    pack: &PreparedPack,
    reader: &mut (dyn std::io::Read + Send),
    block_bytes: usize,
    options: &BatchOptions,
    cancel: &AtomicBool,
    on_block: &mut (dyn FnMut(&[Value], BatchResults) + Send),
) -> Result<Result<StreamSummary, Cancelled>, std::io::Error> {
    let mut related = RelatedSet::new(&pack.related_types);
    let mut types = TypeIndex::default();
    let mut deferred: Vec<Value> = Vec::new();
    let mut summary = StreamSummary::default();
    let mut cancelled = false;
    let (tx, rx) = std::sync::mpsc::sync_channel::<(Vec<u8>, usize)>(1);
    let (recycle_tx, recycle_rx) = std::sync::mpsc::channel::<Vec<u8>>();
    let needed = NeededTypes::new(pack, &options.eval);
    let gate = |t: &str| needed.get(t);
    let parse = |block: &[u8], line: usize| {
        let mut st = ResourceStore::default();
        st.extend_ndjson_gated(block, line, &pack.projection, Some(&gate));
        st
    };
    let read_result = std::thread::scope(|scope| {
        let reader_thread = scope.spawn(move || {
            store::for_each_owned_block(reader, block_bytes, &recycle_rx, &mut |block, line| {
                tx.send((block, line)).is_ok()
            })
        });
        let mut pending: Option<ResourceStore> = None;
        let finish_block = |st: ResourceStore, types: &mut TypeIndex, related: &mut RelatedSet| {
            related.collect(&st.docs);
            let r = evaluate_block(
                pack,
                &st.docs,
                related,
                types,
                options,
                Phase::Stream,
                cancel,
            );
            (r, st)
        };
        let mut handle = |out: Option<(Result<BatchResults, Cancelled>, ResourceStore)>,
                          types: &TypeIndex,
                          deferred: &mut Vec<Value>,
                          summary: &mut StreamSummary|
         -> bool {
            let Some((r, mut st)) = out else { return true };
            summary.resources += st.docs.len();
            summary.errors.append(&mut st.errors);
            let Ok(r) = r else { return false };
            on_block(&st.docs, r);
            let docs = std::mem::take(&mut st.docs);
            if pack.related_types.is_empty() {
                drop_in_parallel(docs);
            } else {
                let (keep, rest): (Vec<Value>, Vec<Value>) = docs
                    .into_iter()
                    .partition(|d| types.needs_existence(pack, d));
                deferred.extend(keep);
                drop_in_parallel(rest);
            }
            true
        };
        for (block, line) in rx.iter() {
            let prev = pending.take();
            // Block k is evaluated and handed over (`on_block`, which may be serial work such
            // as building Arrow arrays) while block k+1 is parsed: rayon lends the idle core
            // to whichever side still has work.
            let (parsed, going) = rayon::join(
                || parse(&block, line),
                || {
                    let done = prev.map(|st| finish_block(st, &mut types, &mut related));
                    handle(done, &types, &mut deferred, &mut summary)
                },
            );
            // Give the buffer back to the reader; if it has finished, just free it.
            let _ = recycle_tx.send(block);
            if !going {
                cancelled = true;
                break;
            }
            pending = Some(parsed);
        }
        if !cancelled {
            if let Some(st) = pending.take() {
                let done = finish_block(st, &mut types, &mut related);
                if !handle(Some(done), &types, &mut deferred, &mut summary) {
                    cancelled = true;
                }
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
        match evaluate_block(
            pack,
            &deferred,
            &related,
            &mut types,
            options,
            Phase::Deferred,
            cancel,
        ) {
            Ok(r) => on_block(&deferred, r),
            Err(c) => return Ok(Err(c)),
        }
        drop_in_parallel(deferred);
    }
    Ok(Ok(summary))
}

/// Which resource types a run must read in full: those some policy can apply to, and the
/// related types existence checks look for. Any other resource produces no pair to decide, so
/// parsing keeps only its `id` and `type`. Answers are cached per type, shared by the parsing
/// threads.
struct NeededTypes<'p> {
    pack: &'p PreparedPack,
    options: &'p EvalOptions,
    known: std::sync::RwLock<HashMap<String, bool>>,
}

impl<'p> NeededTypes<'p> {
    fn new(pack: &'p PreparedPack, options: &'p EvalOptions) -> Self {
        Self {
            pack,
            options,
            known: std::sync::RwLock::new(HashMap::default()),
        }
    }

    fn get(&self, resource_type: &str) -> bool {
        if let Some(&known) = self
            .known
            .read()
            .ok()
            .as_ref()
            .and_then(|m| m.get(resource_type))
        {
            return known;
        }
        let lower = resource_type.to_ascii_lowercase();
        let needed = self.pack.related_types.contains(&lower)
            || !self
                .pack
                .candidates_for(resource_type, self.options)
                .is_empty();
        if let Ok(mut m) = self.known.write() {
            m.insert(resource_type.to_string(), needed);
        }
        needed
    }
}

/// Free a block of documents on all cores (freeing millions of small trees is not free).
fn drop_in_parallel(docs: Vec<Value>) {
    docs.into_par_iter().with_min_len(512).for_each(drop);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;
    use crate::policy::PolicyDefinition;
    use serde_json::Map;
    use std::io::Read;

    fn bound(doc: &Value, name: &str) -> BoundPolicy {
        PolicyDefinition::from_value(doc, name)
            .unwrap()
            .bind(&Map::new())
            .unwrap()
    }

    /// A candidate marked `settled` skips the per-resource applicability walk; on real
    /// resources that walk must then always have said "applies".
    #[test]
    fn settled_candidates_always_apply() {
        let mut policies: Vec<BoundPolicy> = crate::default_pack::default_rules()
            .iter()
            .map(|(path, text)| bound(&serde_json::from_str(text).unwrap(), path))
            .collect();
        // A type compared with an expression that reads another field: never settled.
        policies.push(bound(
            &serde_json::json!({"properties": {"mode": "All", "policyRule": {
                "if": {"allOf": [
                    {"field": "type", "notEquals": "[concat(field('kind'), '/x')]"},
                    {"field": "location", "equals": "westeurope"}]},
                "then": {"effect": "audit"}}}}),
            "type-from-expression",
        ));
        let pack = PreparedPack::new(policies);
        let options = EvalOptions::default();
        let mut text = String::new();
        crate::sample::SampleReader::new(4000, 11)
            .read_to_string(&mut text)
            .unwrap();
        let (mut settled, mut walked) = (0usize, 0usize);
        let mut by_type: HashMap<String, Vec<Candidate>> = HashMap::default();
        for line in text.lines() {
            let doc: Value = serde_json::from_str(line).unwrap();
            let t = resource_type(&doc).unwrap_or_default().to_string();
            let candidates = by_type
                .entry(t.clone())
                .or_insert_with(|| pack.candidates_for(&t, &options));
            for c in candidates.iter() {
                let entry = &pack.entries[c.policy as usize];
                if entry.policy.definition.name == "type-from-expression" {
                    assert!(!c.settled);
                }
                if !c.settled {
                    walked += 1;
                    continue;
                }
                settled += 1;
                let env = env_for(&entry.policy, &options);
                let ev = Evaluator::with_type(&env, &doc, Some(&t));
                let applies = applies(&entry.policy.condition, entry.considered, &ev, true);
                assert!(
                    matches!(applies, Ok(true)),
                    "{} on {t}: {applies:?}",
                    entry.policy.definition.name
                );
            }
        }
        assert!(
            settled > 1000 && walked > 100,
            "settled {settled}, walked {walked}"
        );
    }
}
