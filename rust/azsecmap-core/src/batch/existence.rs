//! Existence conditions of `auditIfNotExists` and `deployIfNotExists`, across resources: the
//! related resources of `details.type` are looked up under the evaluated resource (child types
//! and extension resources such as diagnostic settings), else in its resource group (or the one
//! `resourceGroupName` names), or its subscription with `existenceScope: Subscription`; one of
//! them must meet `existenceCondition`. When the input holds no resource of the related type at
//! all, the answer is unknown, never a silent "compliant".

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use foldhash::HashMap;

use serde_json::Value;

use super::compact::CompactDocs;
use crate::compare::str_eq_ci;
use crate::field::{resource_id, resource_name, resource_type};
use crate::policy::ExistenceDef;
use crate::projection::Projection;
use crate::rule::eval::{Env, Evaluator};

/// The related resources of one type, indexed by where they sit.
#[derive(Debug, Default)]
pub struct TypeIndex {
    /// How many resources of the type the input holds.
    pub count: usize,
    /// By parent resource id (lower-cased): children and extension resources.
    pub by_parent: HashMap<String, Vec<u32>>,
    /// By (subscription, resource group), lower-cased.
    pub by_group: HashMap<(String, String), Vec<u32>>,
    /// By subscription, lower-cased.
    pub by_subscription: HashMap<String, Vec<u32>>,
    /// Some resource of the type is an extension resource (its id holds two `/providers/`).
    pub extension: bool,
}

/// Related-resource indexes for the types a pack's existence checks name.
#[derive(Debug, Default)]
pub struct RelatedIndex {
    /// By lower-cased resource type.
    pub types: HashMap<String, TypeIndex>,
}

/// The resources of the related types, kept apart from the resources being evaluated so that
/// a tenant can be evaluated block by block while existence checks see all of it.
#[derive(Debug)]
pub struct RelatedSet {
    /// The related resources (projected), as compact text: a tenant's related resources
    /// (diagnostic settings, auditing settings, extensions…) wait there until the input ends.
    pub docs: CompactDocs,
    /// Their index.
    pub index: RelatedIndex,
    types: Vec<String>,
    /// Unique per set, so that documents read back and remembered by a thread are never
    /// taken for another set's.
    serial: u64,
}

impl Default for RelatedSet {
    fn default() -> Self {
        Self::new(&[])
    }
}

/// Sets made so far (the next set's serial).
static SETS: AtomicU64 = AtomicU64::new(0);

/// Related resources a thread read back lately.
const RECENT: usize = 16;

thread_local! {
    /// (set serial, index, document) of the related resources this thread read back last:
    /// the existence policies of one resource mostly look at the same related resources
    /// (several diagnostic-settings policies for one vault).
    static RECENTLY_READ: RefCell<VecDeque<(u64, usize, Rc<Value>)>> =
        const { RefCell::new(VecDeque::new()) };
}

impl RelatedSet {
    /// An empty set looking for `types` (lower-cased).
    pub fn new(types: &[String]) -> Self {
        Self {
            docs: CompactDocs::default(),
            index: RelatedIndex::build(&CompactDocs::default(), types),
            types: types.to_vec(),
            serial: SETS.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// Keep the documents of the related types among `docs`.
    pub fn collect(&mut self, docs: &[Value], projection: &Projection) {
        if self.types.is_empty() {
            return;
        }
        for d in docs {
            if resource_type(d).is_some_and(|t| is_related_type(&self.types, t)) {
                self.docs.push(d, projection);
            }
        }
    }

    /// Index what was collected.
    pub fn finish(&mut self) {
        self.index = RelatedIndex::build(&self.docs, &self.types);
    }

    /// Related resource `i`, read back (or remembered from a recent read by this thread).
    pub fn doc(&self, i: usize) -> Option<Rc<Value>> {
        let key = (self.serial, i);
        let remembered = RECENTLY_READ.with(|r| {
            let r = r.try_borrow().ok()?;
            r.iter()
                .find(|(s, j, _)| (*s, *j) == key)
                .map(|(_, _, d)| Rc::clone(d))
        });
        if remembered.is_some() {
            return remembered;
        }
        let doc = Rc::new(self.docs.get(i)?);
        RECENTLY_READ.with(|r| {
            if let Ok(mut r) = r.try_borrow_mut() {
                if r.len() == RECENT {
                    r.pop_front();
                }
                r.push_back((self.serial, i, Rc::clone(&doc)));
            }
        });
        Some(doc)
    }

    /// The related types looked for.
    pub fn types(&self) -> &[String] {
        &self.types
    }
}

/// `resource_type` (any case) is one of the related `types` existence checks look for.
pub(crate) fn is_related_type(types: &[String], resource_type: &str) -> bool {
    types.iter().any(|t| t.eq_ignore_ascii_case(resource_type))
}

/// The subscription id and resource group of a resource id (lower-cased; empty when absent).
pub fn scope_of(id: &str) -> (String, String) {
    let mut sub = String::new();
    let mut group = String::new();
    // Split as bytes: ids are short, and a byte loop beats a search call per segment.
    let mut parts = id.as_bytes().split(|b| *b == b'/');
    let lower = |p: Option<&[u8]>| {
        std::str::from_utf8(p.unwrap_or_default())
            .unwrap_or_default()
            .to_ascii_lowercase()
    };
    while let Some(p) = parts.next() {
        if p.eq_ignore_ascii_case(b"subscriptions") && sub.is_empty() {
            sub = lower(parts.next());
        } else if p.eq_ignore_ascii_case(b"resourceGroups") && group.is_empty() {
            group = lower(parts.next());
        }
    }
    (sub, group)
}

/// The id of the resource this one sits under: children drop their last type/name pair,
/// extension resources also drop `/providers/<namespace>`.
pub fn parent_id(id: &str) -> Option<String> {
    let trimmed = id.trim_end_matches('/');
    let mut segments: Vec<&str> = trimmed.split('/').collect();
    if segments.len() < 3 {
        return None;
    }
    segments.truncate(segments.len() - 2);
    if segments.len() >= 2 {
        let n = segments.len();
        if segments
            .get(n - 2)
            .is_some_and(|s| s.eq_ignore_ascii_case("providers"))
        {
            segments.truncate(n - 2);
        }
    }
    Some(segments.join("/").to_ascii_lowercase())
}

fn is_extension_id(id: &str) -> bool {
    id.to_ascii_lowercase().matches("/providers/").count() >= 2
}

impl RelatedIndex {
    /// Index the resources of `types` (lower-cased) among `docs`.
    pub fn build(docs: &CompactDocs, types: &[String]) -> Self {
        let mut index = Self::default();
        for t in types {
            index.types.entry(t.clone()).or_default();
        }
        if index.types.is_empty() {
            return index;
        }
        for i in 0..docs.len() {
            let Some((id, t)) = docs.identity(i) else {
                continue;
            };
            let Some(ti) = index.types.get_mut(&t.to_ascii_lowercase()) else {
                continue;
            };
            let Ok(i) = u32::try_from(i) else { continue };
            ti.count += 1;
            if is_extension_id(id) {
                ti.extension = true;
            }
            if let Some(parent) = parent_id(id) {
                ti.by_parent.entry(parent).or_default().push(i);
            }
            let (sub, group) = scope_of(id);
            ti.by_subscription.entry(sub.clone()).or_default().push(i);
            ti.by_group.entry((sub, group)).or_default().push(i);
        }
        index
    }
}

/// The outcome of an existence check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Existence {
    /// A related resource meets the condition.
    Found,
    /// None does; the message says what was looked for.
    Missing(String),
    /// The input holds no resource of the related type.
    Unknown(String),
}

/// Run the existence check of `spec` for `primary` (an evaluated, applicable resource).
pub fn check(
    spec: &ExistenceDef,
    primary: &Value,
    related: &RelatedSet,
    env: &Env<'_>,
    pointer: &str,
) -> Result<Existence, crate::EvaluationError> {
    let evaluator = Evaluator::new(env, primary);
    let related_type = match evaluator.eval_operand(&spec.related_type, pointer)? {
        Value::String(s) => s,
        other => {
            return Err(crate::EvaluationError::new(
                pointer,
                format!(
                    "`details.type` is `{}`, not a type",
                    crate::compare::brief(&other)
                ),
            ))
        }
    };
    let lower_type = related_type.to_ascii_lowercase();
    let docs = &related.docs;
    let Some(ti) = related.index.types.get(&lower_type).filter(|t| t.count > 0) else {
        return Ok(Existence::Unknown(format!(
            "the input holds no `{related_type}` resources, so the existence check cannot be decided"
        )));
    };
    let id = resource_id(primary).unwrap_or_default();
    let primary_type = resource_type(primary)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let under_resource = ti.extension || lower_type.starts_with(&format!("{primary_type}/"));
    let (sub, mut group) = scope_of(id);
    let scope = match &spec.existence_scope {
        Some(o) => evaluator.eval_operand(o, pointer)?,
        None => Value::Null,
    };
    let by_subscription = scope
        .as_str()
        .is_some_and(|s| s.eq_ignore_ascii_case("subscription"));
    if let Some(o) = &spec.resource_group_name {
        if let Value::String(g) = evaluator.eval_operand(o, pointer)? {
            group = g.to_ascii_lowercase();
        }
    }
    let empty = Vec::new();
    let candidates = if under_resource {
        ti.by_parent.get(&id.to_ascii_lowercase()).unwrap_or(&empty)
    } else if by_subscription {
        ti.by_subscription.get(&sub).unwrap_or(&empty)
    } else {
        ti.by_group.get(&(sub, group)).unwrap_or(&empty)
    };
    let wanted_name = match &spec.name {
        Some(o) => match evaluator.eval_operand(o, pointer)? {
            Value::String(s) => Some(s),
            _ => None,
        },
        None => None,
    };
    for &c in candidates {
        let c = c as usize;
        if !docs
            .identity(c)
            .is_some_and(|(_, t)| t.eq_ignore_ascii_case(&related_type))
        {
            continue;
        }
        let Some(doc) = related.doc(c) else {
            continue;
        };
        if let Some(name) = &wanted_name {
            if !name_matches(&doc, name) {
                continue;
            }
        }
        let ok = match &spec.condition {
            Some(cond) => Evaluator::for_related(env, &doc, primary).eval(cond, None)?,
            None => true,
        };
        if ok {
            return Ok(Existence::Found);
        }
    }
    let what = match &wanted_name {
        Some(n) => format!("`{related_type}` named `{n}`"),
        None => format!("`{related_type}`"),
    };
    let qualifier = if spec.condition.is_some() && !candidates.is_empty() {
        " meets the existence condition"
    } else {
        " exists"
    };
    let place = if under_resource {
        "under the resource"
    } else if by_subscription {
        "in the subscription"
    } else {
        "in the resource group"
    };
    Ok(Existence::Missing(format!(
        "no related {what} {place}{qualifier}"
    )))
}

/// A related resource's name matches `wanted`: its own name, or its full name when `wanted`
/// holds a `/` (`server/default`); a `?` segment matches any name (the docs' way to fetch
/// every child of one parent, e.g. `NetworkWatcher_eastus/?`).
fn name_matches(doc: &Value, wanted: &str) -> bool {
    let own = resource_name(doc).unwrap_or_default();
    let segments_match = |have: &str| {
        let h: Vec<&str> = have.split('/').collect();
        let w: Vec<&str> = wanted.split('/').collect();
        h.len() == w.len() && h.iter().zip(&w).all(|(a, b)| *b == "?" || str_eq_ci(a, b))
    };
    if wanted.contains('/') {
        crate::field::full_name(doc).is_some_and(|f| segments_match(&f)) || segments_match(own)
    } else {
        let last = own.rsplit('/').next().unwrap_or(own);
        wanted == "?" || str_eq_ci(last, wanted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Documents a thread remembers are told apart by set: index 0 of one set is never
    /// index 0 of another, even after the first set is gone.
    #[test]
    fn remembered_documents_belong_to_their_set() {
        let all = Projection::everything();
        let set_of = |name: &str| {
            let mut set = RelatedSet::new(&["a.b/c".to_string()]);
            set.collect(
                &[serde_json::json!({"id": format!("/s/{name}"), "type": "A.B/c"})],
                &all,
            );
            set.finish();
            set
        };
        let id = |d: Option<Rc<Value>>| d.map(|d| d["id"].as_str().unwrap_or("").to_string());
        let first = set_of("one");
        let second = set_of("two");
        for _ in 0..3 {
            assert_eq!(id(first.doc(0)).as_deref(), Some("/s/one"));
            assert_eq!(id(second.doc(0)).as_deref(), Some("/s/two"));
        }
        drop(first);
        let third = set_of("three");
        assert_eq!(id(third.doc(0)).as_deref(), Some("/s/three"));
        assert_eq!(third.doc(1), None);
    }

    #[test]
    fn parents_of_children_and_extensions() {
        let kv = "/subscriptions/S/resourceGroups/G/providers/Microsoft.KeyVault/vaults/kv1";
        assert_eq!(
            parent_id(&format!(
                "{kv}/providers/Microsoft.Insights/diagnosticSettings/d1"
            ))
            .as_deref(),
            Some(kv.to_ascii_lowercase().as_str())
        );
        let srv = "/subscriptions/S/resourceGroups/G/providers/Microsoft.Sql/servers/s1";
        assert_eq!(
            parent_id(&format!("{srv}/auditingSettings/default")).as_deref(),
            Some(srv.to_ascii_lowercase().as_str())
        );
        assert_eq!(scope_of(kv), ("s".into(), "g".into()));
        assert_eq!(
            scope_of("/SUBSCRIPTIONS/Ab/resourcegroups/Grüppe-É/x/y"),
            ("ab".into(), "grüppe-É".into())
        );
        assert_eq!(scope_of("/subscriptions"), (String::new(), String::new()));
        assert_eq!(scope_of("/providers/x"), (String::new(), String::new()));
    }
}
