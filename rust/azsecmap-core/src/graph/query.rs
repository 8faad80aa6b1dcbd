//! Questions asked of the control graph: cross-map one control into another framework
//! (directly or through pivot frameworks), the best mapping of every control of one
//! framework into another, and the controls no automated policy checks.
//!
//! Path rules, written down in `docs/catalog.md`:
//! - a path follows published `maps_to` edges in either direction; walking an edge backwards
//!   reverses its relationship (subset ↔ superset);
//! - relationships compose with [`Relationship::compose`], strengths multiply;
//! - intermediate controls belong to neither the source's nor the target's framework, and a
//!   path never visits a control twice;
//! - the best path to a target is the strongest; ties go to fewer hops, then to the more
//!   precise relationship.
//!
//! Derived hits come after the published ones, only for targets no published path reaches,
//! flagged `published = false` with relationship `shares_policy`: a target control that
//! shares a policy with the source, or one reached by published mappings that start with a
//! single `shares_policy` step from the source to a control of a third framework. The
//! derived step does not count against `max_hops`; its strength is
//! [`SHARES_POLICY_WEIGHT`] × the Jaccard overlap of the two controls' policy sets.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use petgraph::graph::NodeIndex;
use petgraph::Direction;

use super::{ControlGraph, ControlRef, Edge, NodeKind, Relationship};
use crate::graph::error::CatalogError;

/// The weight of a `shares_policy` hit: its strength is this times the Jaccard overlap of
/// the two controls' policy sets, so it always ranks below an `intersect` mapping (0.5).
pub const SHARES_POLICY_WEIGHT: f64 = 0.3;

const EPS: f64 = 1e-12;

/// Options of [`ControlGraph::map`].
#[derive(Debug, Clone, Copy)]
pub struct MapOptions {
    /// Drop hits (and prune paths) weaker than this.
    pub min_strength: f64,
    /// Longest path, in mapping edges (1 = direct mappings only).
    pub max_hops: usize,
    /// Also return derived `shares_policy` hits.
    pub include_derived: bool,
}

impl Default for MapOptions {
    fn default() -> Self {
        Self {
            min_strength: 0.0,
            max_hops: 2,
            include_derived: true,
        }
    }
}

/// One step of an evidence path.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Control walked from.
    pub from: String,
    /// Control walked to.
    pub to: String,
    /// Relationship read `from REL to` (already reversed when `reversed`); `None` for a
    /// derived `shares_policy` step.
    pub relationship: Option<Relationship>,
    /// The edge's strength.
    pub strength: f64,
    /// True when the published mapping points the other way (`to → from`).
    pub reversed: bool,
    /// Who published the mapping.
    pub provenance: Option<String>,
    /// The mapping's rationale.
    pub rationale: Option<String>,
}

/// One answer of [`ControlGraph::map`].
#[derive(Debug, Clone, PartialEq)]
pub struct MapHit {
    /// Source control node id.
    pub source: String,
    /// Target control node id.
    pub target: String,
    /// Composed relationship; `None` for a derived hit (its path has a `shares_policy` step).
    pub relationship: Option<Relationship>,
    /// Product of the step strengths (or the `shares_policy` strength).
    pub strength: f64,
    /// False for derived `shares_policy` hits.
    pub published: bool,
    /// The steps, source first.
    pub steps: Vec<Step>,
    /// Policy ids behind the derived step (derived hits only).
    pub shared_policies: Vec<String>,
}

impl MapHit {
    /// The relationship word: `equal` … `intersect`, or `shares_policy`.
    pub fn relationship_str(&self) -> &'static str {
        self.relationship
            .map_or("shares_policy", Relationship::as_str)
    }

    /// Number of steps on the path (a derived `shares_policy` step counts as one).
    pub fn hops(&self) -> usize {
        self.steps.len()
    }

    /// Control node ids along the evidence path, source first.
    pub fn path(&self) -> Vec<String> {
        let mut out = vec![self.source.clone()];
        out.extend(self.steps.iter().map(|s| s.to.clone()));
        out
    }

    fn better_than(&self, other: &MapHit) -> bool {
        if (self.strength - other.strength).abs() > EPS {
            return self.strength > other.strength;
        }
        if self.hops() != other.hops() {
            return self.hops() < other.hops();
        }
        rank(self.relationship) < rank(other.relationship)
    }
}

fn rank(r: Option<Relationship>) -> u8 {
    r.map_or(u8::MAX, Relationship::precision_rank)
}

/// A row of [`ControlGraph::unautomated`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnautomatedControl {
    /// Control node id.
    pub control: String,
    /// Title, when known.
    pub title: Option<String>,
    /// Policies that satisfy it with a `manual` effect (attestation only).
    pub manual_policies: usize,
}

/// The two ends of a query.
struct Ends<'a> {
    source: &'a str,
    source_fw: &'a str,
    target_fw: &'a str,
}

/// A path under construction; `relationship` is `None` once a derived step is on it.
struct Partial {
    node: NodeIndex,
    relationship: Option<Relationship>,
    strength: f64,
    steps: Vec<Step>,
    visited: Vec<NodeIndex>,
}

impl ControlGraph {
    fn control_index(&self, control: &str) -> Result<NodeIndex, CatalogError> {
        ControlRef::parse(control)?;
        self.node_index(control)
            .filter(|&n| self.node(n).is_some_and(|x| x.framework.is_some()))
            .filter(|&n| self.node(n).is_some_and(|x| x.kind != NodeKind::Framework))
            .ok_or_else(|| CatalogError::UnknownControl(control.to_string()))
    }

    fn check_framework(&self, framework: &str) -> Result<(), CatalogError> {
        if self.framework_ids().iter().any(|f| f == framework) {
            Ok(())
        } else {
            Err(CatalogError::UnknownFramework(framework.to_string()))
        }
    }

    fn framework_of(&self, n: NodeIndex) -> Option<&str> {
        self.node(n).and_then(|x| x.framework.as_deref())
    }

    /// Map one control (`FRAMEWORK:CONTROL`) into `to_framework`: published mappings,
    /// direct and through pivot frameworks, best path per target control, strongest first;
    /// then, when asked for, derived hits for the targets no published path reaches.
    pub fn map(
        &self,
        control: &str,
        to_framework: &str,
        opts: MapOptions,
    ) -> Result<Vec<MapHit>, CatalogError> {
        let start = self.control_index(control)?;
        self.check_framework(to_framework)?;
        let source_fw = self.framework_of(start).unwrap_or_default().to_string();
        let origin = Partial {
            node: start,
            relationship: Some(Relationship::Equal),
            strength: 1.0,
            steps: Vec::new(),
            visited: vec![start],
        };
        let ends = Ends {
            source: control,
            source_fw: &source_fw,
            target_fw: to_framework,
        };
        let mut hits: Vec<MapHit> = self.walk(origin, &ends, opts).into_values().collect();
        sort_hits(&mut hits);
        if opts.include_derived {
            let reached: BTreeSet<String> = hits.iter().map(|h| h.target.clone()).collect();
            let mut derived = self.derived_hits(start, &ends, opts);
            derived.retain(|h| !reached.contains(&h.target));
            sort_hits(&mut derived);
            hits.extend(derived);
        }
        Ok(hits)
    }

    /// Published paths from `origin` (which may already carry a derived first step), best
    /// hit per target control.
    fn walk(
        &self,
        origin: Partial,
        ends: &Ends<'_>,
        opts: MapOptions,
    ) -> BTreeMap<NodeIndex, MapHit> {
        let mut best: BTreeMap<NodeIndex, MapHit> = BTreeMap::new();
        let mut best_at: HashMap<NodeIndex, (f64, u8)> = HashMap::new();
        let derived_prefix = origin.steps.len();
        let mut frontier = vec![origin];
        for hop in 1..=opts.max_hops {
            let mut next = Vec::new();
            for p in &frontier {
                for (walked, to, m, reversed) in self.mapping_edges(p.node) {
                    if p.visited.contains(&to) {
                        continue;
                    }
                    let strength = p.strength * m.strength;
                    if strength + EPS < opts.min_strength {
                        continue;
                    }
                    let to_fw = self.framework_of(to).unwrap_or_default();
                    let relationship = p.relationship.map(|r| r.compose(walked));
                    let mut steps = p.steps.clone();
                    steps.push(Step {
                        from: self.id_of(p.node),
                        to: self.id_of(to),
                        relationship: Some(walked),
                        strength: m.strength,
                        reversed,
                        provenance: m.provenance.clone(),
                        rationale: m.rationale.clone(),
                    });
                    if to_fw == ends.target_fw {
                        let hit = MapHit {
                            source: ends.source.to_string(),
                            target: self.id_of(to),
                            relationship,
                            strength,
                            published: derived_prefix == 0,
                            steps,
                            shared_policies: Vec::new(),
                        };
                        let replace = best.get(&to).is_none_or(|old| hit.better_than(old));
                        if replace {
                            best.insert(to, hit);
                        }
                    } else if to_fw != ends.source_fw && hop < opts.max_hops {
                        let rank = rank(relationship);
                        let improves = best_at.get(&to).is_none_or(|&(s, r)| {
                            strength > s + EPS || ((strength - s).abs() <= EPS && rank < r)
                        });
                        if improves {
                            best_at.insert(to, (strength, rank));
                            let mut visited = p.visited.clone();
                            visited.push(to);
                            next.push(Partial {
                                node: to,
                                relationship,
                                strength,
                                steps,
                                visited,
                            });
                        }
                    }
                }
            }
            frontier = next;
        }
        best
    }

    /// Derived hits: controls of the target framework that share a policy with the source,
    /// and targets reached by published paths that start with one `shares_policy` step from
    /// the source to a control of a third framework.
    fn derived_hits(&self, start: NodeIndex, ends: &Ends<'_>, opts: MapOptions) -> Vec<MapHit> {
        let mut best: BTreeMap<NodeIndex, MapHit> = BTreeMap::new();
        let offer = |best: &mut BTreeMap<NodeIndex, MapHit>, at: NodeIndex, hit: MapHit| {
            if best.get(&at).is_none_or(|old| hit.better_than(old)) {
                best.insert(at, hit);
            }
        };
        let source_id = self.id_of(start);
        for (c, common, strength) in self.policy_neighbours(start) {
            if strength + EPS < opts.min_strength {
                continue;
            }
            let c_fw = self.framework_of(c).unwrap_or_default();
            if c_fw == ends.source_fw {
                continue;
            }
            let shared: Vec<String> = common
                .iter()
                .filter_map(|&p| self.node(p).map(|x| x.local.clone()))
                .collect();
            let step = Step {
                from: source_id.clone(),
                to: self.id_of(c),
                relationship: None,
                strength,
                reversed: false,
                provenance: Some(format!(
                    "derived: {} shared polic{}",
                    shared.len(),
                    if shared.len() == 1 { "y" } else { "ies" }
                )),
                rationale: None,
            };
            if c_fw == ends.target_fw {
                let hit = MapHit {
                    source: ends.source.to_string(),
                    target: self.id_of(c),
                    relationship: None,
                    strength,
                    published: false,
                    steps: vec![step],
                    shared_policies: shared,
                };
                offer(&mut best, c, hit);
                continue;
            }
            let pivot = Partial {
                node: c,
                relationship: None,
                strength,
                steps: vec![step],
                visited: vec![start, c],
            };
            for (at, mut hit) in self.walk(pivot, ends, opts) {
                hit.shared_policies.clone_from(&shared);
                offer(&mut best, at, hit);
            }
        }
        best.into_values().collect()
    }

    /// Controls sharing at least one policy with `start`: (control, shared policies,
    /// `shares_policy` strength).
    fn policy_neighbours(&self, start: NodeIndex) -> Vec<(NodeIndex, BTreeSet<NodeIndex>, f64)> {
        let mine = self.policies_of(start);
        let mut shared: BTreeMap<NodeIndex, BTreeSet<NodeIndex>> = BTreeMap::new();
        for &p in &mine {
            for (_, c, e) in self.edges(p, Direction::Outgoing) {
                if c != start && matches!(e, Edge::Satisfies { .. }) {
                    shared.entry(c).or_default().insert(p);
                }
            }
        }
        shared
            .into_iter()
            .map(|(c, common)| {
                let union = mine.union(&self.policies_of(c)).count().max(1);
                #[allow(clippy::cast_precision_loss)]
                let strength = SHARES_POLICY_WEIGHT * common.len() as f64 / union as f64;
                (c, common, strength)
            })
            .collect()
    }

    fn id_of(&self, n: NodeIndex) -> String {
        self.node(n).map(|x| x.id.clone()).unwrap_or_default()
    }

    /// Published mappings touching `n`, as (relationship read from `n`, other end, mapping,
    /// walked backwards).
    fn mapping_edges(&self, n: NodeIndex) -> Vec<(Relationship, NodeIndex, &super::Mapping, bool)> {
        let mut out = Vec::new();
        for (_, other, e) in self.edges(n, Direction::Outgoing) {
            if let Edge::MapsTo(m) = e {
                out.push((m.relationship, other, m, false));
            }
        }
        for (_, other, e) in self.edges(n, Direction::Incoming) {
            if let Edge::MapsTo(m) = e {
                out.push((m.relationship.reverse(), other, m, true));
            }
        }
        out
    }

    /// Policies that satisfy a control.
    pub fn policies_of(&self, control: NodeIndex) -> BTreeSet<NodeIndex> {
        self.edges(control, Direction::Incoming)
            .filter(|(_, _, e)| matches!(e, Edge::Satisfies { .. }))
            .map(|(_, p, _)| p)
            .collect()
    }

    /// Declared controls of a framework, in catalog order.
    pub fn controls_of(&self, framework: &str) -> Result<Vec<NodeIndex>, CatalogError> {
        self.check_framework(framework)?;
        Ok(self
            .node_indices()
            .filter(|&n| {
                self.node(n).is_some_and(|x| {
                    x.kind.is_control() && x.framework.as_deref() == Some(framework)
                })
            })
            .collect())
    }

    /// For every declared control of `a`, its best mapping into `b` (a published one when
    /// any exists, else the strongest derived one), or `None`.
    pub fn coverage(
        &self,
        a: &str,
        b: &str,
        opts: MapOptions,
    ) -> Result<Vec<(String, Option<MapHit>)>, CatalogError> {
        self.check_framework(b)?;
        let mut out = Vec::new();
        for n in self.controls_of(a)? {
            let Some(node) = self.node(n) else { continue };
            if node.kind != NodeKind::Control && self.is_declared(a) {
                continue;
            }
            let hits = self.map(&node.id, b, opts)?;
            out.push((node.id.clone(), hits.into_iter().next()));
        }
        Ok(out)
    }

    /// Declared controls of a framework that no automated policy satisfies: no `satisfies`
    /// edge at all, or only ones whose effect is `manual`. A policy of unknown effect counts
    /// as automated.
    pub fn unautomated(&self, framework: &str) -> Result<Vec<UnautomatedControl>, CatalogError> {
        let mut out = Vec::new();
        for n in self.controls_of(framework)? {
            let Some(node) = self.node(n) else { continue };
            if node.kind != NodeKind::Control {
                continue;
            }
            let mut automated = 0usize;
            let mut manual = 0usize;
            for (_, p, e) in self.edges(n, Direction::Incoming) {
                if let Edge::Satisfies { effect, .. } = e {
                    let effect = effect
                        .clone()
                        .or_else(|| self.node(p).and_then(|x| x.version.clone()));
                    if effect.as_deref() == Some("manual") {
                        manual += 1;
                    } else {
                        automated += 1;
                    }
                }
            }
            if automated == 0 {
                out.push(UnautomatedControl {
                    control: node.id.clone(),
                    title: node.title.clone(),
                    manual_policies: manual,
                });
            }
        }
        Ok(out)
    }
}

fn sort_hits(hits: &mut [MapHit]) {
    hits.sort_by(|a, b| {
        b.strength
            .total_cmp(&a.strength)
            .then(a.hops().cmp(&b.hops()))
            .then(rank(a.relationship).cmp(&rank(b.relationship)))
            .then(a.target.cmp(&b.target))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::CatalogDocument;

    fn graph(json: &str) -> ControlGraph {
        ControlGraph::from_documents(&[CatalogDocument::from_json(json).unwrap()]).unwrap()
    }

    const SMALL: &str = r#"{"format":"azsecmap-catalog/1",
      "frameworks":[
        {"id":"A","controls":[{"id":"1"},{"id":"2"},{"id":"3"}]},
        {"id":"P","controls":[{"id":"x"},{"id":"y"}]},
        {"id":"B","controls":[{"id":"u"},{"id":"v"},{"id":"w"}]}],
      "satisfies":[
        {"policy":"p1","control":"A:1"},{"policy":"p1","control":"B:w"},
        {"policy":"p2","control":"A:1"},{"policy":"p2","control":"B:u"},
        {"policy":"p3","control":"A:2","effect":"manual"}],
      "mappings":[
        {"source":"A:1","target":"P:x","relationship":"subset","strength":0.9,"provenance":"f1"},
        {"source":"B:u","target":"P:x","relationship":"superset","strength":0.5,"provenance":"f2"},
        {"source":"A:1","target":"B:v","relationship":"intersect","provenance":"f3"},
        {"source":"P:y","target":"A:1","relationship":"equal"}]}"#;

    #[test]
    fn direct_and_transitive_paths_compose() {
        let g = graph(SMALL);
        let hits = g.map("A:1", "B", MapOptions::default()).unwrap();
        let published: Vec<_> = hits.iter().filter(|h| h.published).collect();
        assert_eq!(published.len(), 2);
        // A:1 subset P:x, and P:x subset B:u (the published B:u superset P:x walked back).
        let u = published.iter().find(|h| h.target == "B:u").unwrap();
        assert_eq!(u.relationship, Some(Relationship::Subset));
        assert!((u.strength - 0.45).abs() < 1e-9);
        assert_eq!(u.path(), vec!["A:1", "P:x", "B:u"]);
        assert!(u.steps[1].reversed);
        assert_eq!(u.steps[1].relationship, Some(Relationship::Subset));
        assert_eq!(u.steps[1].provenance.as_deref(), Some("f2"));
        let v = published.iter().find(|h| h.target == "B:v").unwrap();
        assert_eq!(v.relationship, Some(Relationship::Intersect));
        assert!((v.strength - 0.5).abs() < 1e-9);
        // strongest first
        assert_eq!(published[0].target, "B:v");
    }

    #[test]
    fn shares_policy_is_derived_and_kept_apart() {
        let g = graph(SMALL);
        let hits = g.map("A:1", "B", MapOptions::default()).unwrap();
        let derived: Vec<_> = hits.iter().filter(|h| !h.published).collect();
        // B:u is reached by a published path, so only B:w comes back as shares_policy.
        assert_eq!(derived.len(), 1);
        assert_eq!(derived[0].target, "B:w");
        assert_eq!(derived[0].relationship_str(), "shares_policy");
        assert!(derived[0].relationship.is_none());
        assert_eq!(derived[0].shared_policies, vec!["p1"]);
        assert_eq!(derived[0].path(), vec!["A:1", "B:w"]);
        assert_eq!(derived[0].steps[0].relationship, None);
        // A:1 has {p1,p2}, B:w has {p1}: Jaccard 1/2.
        assert!((derived[0].strength - SHARES_POLICY_WEIGHT / 2.0).abs() < 1e-9);
        let none = MapOptions {
            include_derived: false,
            ..MapOptions::default()
        };
        assert!(g.map("A:1", "B", none).unwrap().iter().all(|h| h.published));
    }

    #[test]
    fn derived_first_step_bridges_to_published_paths() {
        // C:1 shares policy q with A:1 only; no published mapping touches C.
        let g = graph(
            r#"{"format":"azsecmap-catalog/1",
              "frameworks":[{"id":"A","controls":[{"id":"1"}]},{"id":"B","controls":[{"id":"v"}]},
                            {"id":"C","controls":[{"id":"1"}]}],
              "satisfies":[{"policy":"q","control":"C:1"},{"policy":"q","control":"A:1"}],
              "mappings":[{"source":"A:1","target":"B:v","relationship":"equal"}]}"#,
        );
        let hits = g.map("C:1", "B", MapOptions::default()).unwrap();
        assert_eq!(hits.len(), 1);
        let h = &hits[0];
        assert!(!h.published);
        assert_eq!(h.relationship_str(), "shares_policy");
        assert_eq!(h.path(), vec!["C:1", "A:1", "B:v"]);
        assert_eq!(h.shared_policies, vec!["q"]);
        assert!((h.strength - SHARES_POLICY_WEIGHT).abs() < 1e-9);
        let only_published = MapOptions {
            include_derived: false,
            ..MapOptions::default()
        };
        assert!(g.map("C:1", "B", only_published).unwrap().is_empty());
    }

    #[test]
    fn limits_prune_paths() {
        let g = graph(SMALL);
        let direct = MapOptions {
            max_hops: 1,
            include_derived: false,
            ..MapOptions::default()
        };
        let hits = g.map("A:1", "B", direct).unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].target, "B:v");
        let strong = MapOptions {
            min_strength: 0.49,
            include_derived: false,
            ..MapOptions::default()
        };
        let hits = g.map("A:1", "B", strong).unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].target, "B:v");
    }

    #[test]
    fn reversed_query_reverses_relationship() {
        let g = graph(SMALL);
        let opts = MapOptions {
            include_derived: false,
            ..MapOptions::default()
        };
        let back = g.map("B:u", "A", opts).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].relationship, Some(Relationship::Superset));
        assert_eq!(back[0].path(), vec!["B:u", "P:x", "A:1"]);
    }

    #[test]
    fn unknown_things_are_typed_errors() {
        let g = graph(SMALL);
        let o = MapOptions::default();
        assert_eq!(
            g.map("A:9", "B", o).unwrap_err(),
            CatalogError::UnknownControl("A:9".into())
        );
        assert_eq!(
            g.map("A:1", "Z", o).unwrap_err(),
            CatalogError::UnknownFramework("Z".into())
        );
        assert_eq!(
            g.map("A1", "B", o).unwrap_err(),
            CatalogError::BadControlId("A1".into())
        );
    }

    #[test]
    fn coverage_and_unautomated() {
        let g = graph(SMALL);
        let cov = g.coverage("A", "B", MapOptions::default()).unwrap();
        assert_eq!(cov.len(), 3);
        assert_eq!(cov[0].1.as_ref().unwrap().target, "B:v");
        assert!(cov[1].1.is_none() && cov[2].1.is_none());
        let un = g.unautomated("A").unwrap();
        let ids: Vec<_> = un.iter().map(|u| u.control.as_str()).collect();
        assert_eq!(ids, vec!["A:2", "A:3"]);
        assert_eq!(un[0].manual_policies, 1);
    }

    #[test]
    fn hierarchy_is_inferred_and_families_synthesised() {
        let g = graph(
            r#"{"format":"azsecmap-catalog/1","frameworks":[{"id":"N",
              "families":[{"id":"AC","title":"Access Control"}],
              "controls":[{"id":"AC-2"},{"id":"AC-2(1)"},{"id":"SC-7(3)"}]}]}"#,
        );
        let parent = |id: &str| {
            let n = g.node_index(id).unwrap();
            g.node(g.parent_of(n).unwrap()).unwrap().id.clone()
        };
        assert_eq!(parent("N:AC-2(1)"), "N:AC-2");
        assert_eq!(parent("N:AC-2"), "N:AC");
        assert_eq!(parent("N:AC"), "framework:N");
        assert_eq!(parent("N:SC-7(3)"), "N:SC-7");
        let sc7 = g.node(g.node_index("N:SC-7").unwrap()).unwrap();
        assert_eq!(sc7.kind, NodeKind::Family);
        assert_eq!(parent("N:SC"), "framework:N");
    }

    #[test]
    fn parent_cycles_are_rejected() {
        let doc = CatalogDocument::from_json(
            r#"{"format":"azsecmap-catalog/1","frameworks":[{"id":"N",
              "controls":[{"id":"a","parent":"b"},{"id":"b","parent":"a"}]}]}"#,
        )
        .unwrap();
        let err = ControlGraph::from_documents(&[doc]).unwrap_err();
        assert!(err.to_string().contains("cycle"), "{err}");
    }
}
