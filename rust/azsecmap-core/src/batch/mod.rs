//! Batch evaluation at tenant scale: a bound pack meets a resource store. Policies are indexed
//! by the resource types their applicability conditions allow, so each resource meets only the
//! policies that can apply; evaluation is data-parallel over resources (rayon); existence
//! checks look across the whole store. One failing pair becomes an `error` row, never a failed
//! batch.

pub mod applicability;
pub mod compact;
pub mod existence;
pub mod store;
mod stream;

use foldhash::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use rayon::prelude::*;
use serde_json::Value;

use crate::alias::AliasTable;
use crate::field::resource_type;
use crate::policy::BoundPolicy;
use crate::projection::{Projection, EVALUATION_FIELDS, IDENTITY_FIELDS};
use crate::rule::eval::{Env, EvalOptions, Evaluator, Step};
use crate::rule::{Cond, CountSource, FieldSpec};
use applicability::{applies, type_probe, Considered};
use existence::{Existence, RelatedSet};
use store::ResourceStore;
pub use stream::{evaluate_stream, Identities, StreamSummary};

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
    /// What to keep when loading resources for this pack into a store: the paths the
    /// policies read plus the identity columns.
    pub projection: Projection,
    /// What evaluation alone needs: the paths the policies read plus `id`, `type` and `name`.
    /// Streaming parses through it, since a streamed document only lives while it is decided.
    pub evaluation_projection: Projection,
    /// What the existence policies read, of the resources they apply to and of the related
    /// resources they look at: `id`, `type`, `name` and their paths. Streaming keeps those
    /// resources through it until the input ends.
    pub existence_projection: Projection,
    /// Lower-cased related types named by existence checks.
    pub related_types: Vec<String>,
}

impl PreparedPack {
    /// Prepare bound policies for batch evaluation.
    pub fn new(policies: Vec<BoundPolicy>) -> Self {
        let mut projection = Projection::top_level(EVALUATION_FIELDS);
        let mut existence_projection = Projection::top_level(EVALUATION_FIELDS);
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
            let reads = |projection: &mut Projection| {
                add_paths(&policy.condition, projection);
                for f in policy.definition.expression_fields.values() {
                    for (_, p) in &f.paths {
                        projection.add(p);
                    }
                }
                if let Some(c) = policy.existence.as_ref().and_then(|x| x.condition.as_ref()) {
                    add_paths(c, projection);
                }
            };
            reads(&mut projection);
            if let Some(x) = &policy.existence {
                reads(&mut existence_projection);
                match &x.related_type {
                    crate::rule::Operand::Const(Value::String(t)) => {
                        let t = t.to_ascii_lowercase();
                        if !related_types.contains(&t) {
                            related_types.push(t);
                        }
                    }
                    _ => {
                        projection = Projection::everything();
                        existence_projection = Projection::everything();
                    }
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
        let mut store_projection = projection.clone();
        for f in IDENTITY_FIELDS {
            store_projection.add_member(f);
        }
        Self {
            entries,
            projection: store_projection,
            evaluation_projection: projection,
            existence_projection,
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

    /// Make room for `rows` more rows.
    pub(crate) fn reserve(&mut self, rows: usize) {
        self.resource.reserve(rows);
        self.policy.reserve(rows);
        self.state.reserve(rows);
        self.reason.reserve(rows);
    }

    /// Add `other`'s rows, whose resource indices count from `offset`.
    fn append(&mut self, mut other: BatchResults, offset: u32) {
        if offset == 0 {
            self.resource.append(&mut other.resource);
        } else {
            self.resource
                .extend(other.resource.iter().map(|r| r.saturating_add(offset)));
        }
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
    related.collect(&store.docs, &pack.existence_projection);
    related.finish();
    let types = TypeTable::new(pack, &options.eval);
    evaluate_block(
        pack,
        &store.docs,
        &related,
        &types,
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

/// What a resource type means for a run, worked out once per type.
#[derive(Debug)]
pub(crate) struct TypeInfo {
    /// The policies that can apply to it.
    candidates: Vec<Candidate>,
    /// Some existence policy can apply, so its resources wait for the deferred pass.
    deferred: bool,
    /// Existence checks look for resources of this type.
    related: bool,
}

impl TypeInfo {
    /// Whether its resources must be read through the whole projection: some policy can
    /// apply, or existence checks look for them. Any other resource produces no pair to
    /// decide, so parsing keeps only its `id` and `type`.
    fn needed(&self) -> bool {
        self.related || !self.candidates.is_empty()
    }
}

/// [`TypeInfo`] per resource type, filled as types are met and shared by every thread of a
/// run (the parse gate and the evaluation read the same answers).
pub(crate) struct TypeTable<'p> {
    pack: &'p PreparedPack,
    options: &'p EvalOptions,
    known: RwLock<HashMap<String, Arc<TypeInfo>>>,
}

impl<'p> TypeTable<'p> {
    pub(crate) fn new(pack: &'p PreparedPack, options: &'p EvalOptions) -> Self {
        Self {
            pack,
            options,
            known: RwLock::new(HashMap::default()),
        }
    }

    /// The answers for `resource_type`.
    pub(crate) fn get(&self, resource_type: &str) -> Arc<TypeInfo> {
        if let Some(known) = self
            .known
            .read()
            .ok()
            .and_then(|m| m.get(resource_type).cloned())
        {
            return known;
        }
        let pack = self.pack;
        let candidates = pack.candidates_for(resource_type, self.options);
        let info = Arc::new(TypeInfo {
            deferred: candidates.iter().any(|c| {
                pack.entries
                    .get(c.policy as usize)
                    .is_some_and(|e| e.kind == EffectKind::Existence)
            }),
            related: existence::is_related_type(&pack.related_types, resource_type),
            candidates,
        });
        if let Ok(mut m) = self.known.write() {
            m.insert(resource_type.to_string(), Arc::clone(&info));
        }
        info
    }

    /// [`TypeInfo::needed`] for `resource_type`, without cloning the shared answer.
    pub(crate) fn needed(&self, resource_type: &str) -> bool {
        let known = self
            .known
            .read()
            .ok()
            .and_then(|m| m.get(resource_type).map(|i| i.needed()));
        known.unwrap_or_else(|| self.get(resource_type).needed())
    }

    /// A per-thread view that asks the shared table once per type.
    pub(crate) fn local(&self) -> LocalTypes<'_, 'p> {
        LocalTypes {
            table: self,
            seen: hashbrown::HashMap::default(),
        }
    }
}

/// One thread's cache over a [`TypeTable`]: no lock and no reference count per resource.
pub(crate) struct LocalTypes<'t, 'p> {
    table: &'t TypeTable<'p>,
    seen: hashbrown::HashMap<String, Arc<TypeInfo>, foldhash::fast::RandomState>,
}

impl LocalTypes<'_, '_> {
    pub(crate) fn get(&mut self, resource_type: &str) -> &TypeInfo {
        let table = self.table;
        self.seen
            .entry_ref(resource_type)
            .or_insert_with(|| table.get(resource_type))
    }
}

/// Evaluate `pack` on one block of resources; existence checks look in `related`. Row
/// resource indices are positions in `docs`.
pub(crate) fn evaluate_block(
    pack: &PreparedPack,
    docs: &[Value],
    related: &RelatedSet,
    types: &TypeTable<'_>,
    options: &BatchOptions,
    phase: Phase,
    cancel: &AtomicBool,
) -> Result<BatchResults, Cancelled> {
    let run = Run {
        pack,
        related,
        options,
        phase,
    };
    let chunks: Vec<BatchResults> = docs
        .par_chunks(1024)
        .enumerate()
        .map(|(chunk_no, chunk)| {
            if cancel.load(Ordering::Relaxed) {
                return Err(Cancelled);
            }
            let mut out = BatchResults::default();
            let mut local = types.local();
            for (j, doc) in chunk.iter().enumerate() {
                let Ok(r) = u32::try_from(chunk_no * 1024 + j) else {
                    continue;
                };
                let t = resource_type(doc).unwrap_or_default();
                run.decide_resource(&local.get(t).candidates, r, doc, t, &mut out);
            }
            Ok(out)
        })
        .collect::<Result<Vec<_>, Cancelled>>()?;
    let mut results = BatchResults::default();
    for c in chunks {
        results.append(c, 0);
    }
    Ok(results)
}

/// What every pair of one evaluation pass shares.
struct Run<'r> {
    pack: &'r PreparedPack,
    /// Where existence checks look.
    related: &'r RelatedSet,
    options: &'r BatchOptions,
    /// Which policies this pass decides.
    phase: Phase,
}

impl Run<'_> {
    /// Whether some existence policy among `candidates` applies to `doc`: its `if` holds, or
    /// cannot be evaluated (the deferred pass reports the error). Only then must the resource
    /// wait until every related resource has been seen.
    fn existence_applies(&self, candidates: &[Candidate], doc: &Value, t: &str) -> bool {
        candidates.iter().any(|c| {
            let Some(entry) = self.pack.entries.get(c.policy as usize) else {
                return false;
            };
            if entry.kind != EffectKind::Existence {
                return false;
            }
            let env = env_for(&entry.policy, &self.options.eval);
            let ev = Evaluator::with_type(&env, doc, Some(t));
            !matches!(ev.eval(&entry.policy.condition, None), Ok(false))
        })
    }

    /// Decide the pairs of one resource (row index `r`, type `t`) that the phase covers and
    /// add the rows the options keep to `out`.
    fn decide_resource(
        &self,
        candidates: &[Candidate],
        r: u32,
        doc: &Value,
        t: &str,
        out: &mut BatchResults,
    ) {
        let options = self.options;
        if options.include_not_applicable && self.phase != Phase::Deferred {
            for p in (0..self.pack.entries.len()).filter_map(|i| u32::try_from(i).ok()) {
                if !candidates.iter().any(|c| c.policy == p) {
                    out.push(r, p, State::NotApplicable, None);
                }
            }
        }
        for &Candidate { policy: p, settled } in candidates {
            let Some(entry) = self.pack.entries.get(p as usize) else {
                continue;
            };
            let existence = entry.kind == EffectKind::Existence;
            match self.phase {
                Phase::Stream if existence => continue,
                Phase::Deferred if !existence => continue,
                _ => {}
            }
            let (state, reason) = decide(entry, settled, doc, t, self.related, options);
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
                Ok(true) if options.reasons => ev.trace(&policy.condition).map(|(m, steps)| {
                    if m {
                        (
                            State::NonCompliant,
                            Some(render_steps(&steps, ev.resource_type())),
                        )
                    } else {
                        (State::Compliant, None)
                    }
                }),
                Ok(true) => ev.eval(&policy.condition, None).map(|m| {
                    let state = if m {
                        State::NonCompliant
                    } else {
                        State::Compliant
                    };
                    (state, None)
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

/// The deciding conditions of a matched pair, as one line: at most three trace steps, `type`
/// checks left out when others decided too.
fn render_steps(steps: &[Step<'_>], resource_type: Option<&str>) -> String {
    let mut deciding: Vec<&Step<'_>> = steps.iter().filter(|s| !s.is_type_check()).collect();
    if deciding.is_empty() {
        deciding = steps.iter().collect();
    }
    let mut text = String::with_capacity(384);
    for (i, step) in deciding.iter().take(3).enumerate() {
        if i > 0 {
            text.push_str("; ");
        }
        step.write_to(&mut text, resource_type);
    }
    text
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
