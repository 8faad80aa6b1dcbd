//! The control graph: frameworks contain families and controls, policies satisfy controls,
//! controls map to controls. Built from one or more [`CatalogDocument`]s (the bundled catalog
//! first, user additions after), then queried by [`query`].
//!
//! Node ids follow DESIGN.md: `framework:<ID>`, `<ID>:<CONTROL>`, `policy:<policy id>`.

mod bundled;
pub mod document;
pub mod error;
pub mod export;
pub mod query;
pub mod relationship;
pub mod tables;

use std::collections::{HashMap, HashSet};

use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;

pub use bundled::bundled_document_json;
pub use document::{CatalogDocument, ControlRecord, ControlRef, FrameworkRecord, MappingRecord};
pub use error::CatalogError;
pub use relationship::Relationship;

/// What a node stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeKind {
    /// A framework.
    Framework,
    /// A grouping inside a framework that is not itself a control (a NIST family, a
    /// benchmark section no initiative names).
    Family,
    /// A control (or enhancement / sub-requirement) the framework's catalog declares.
    Control,
    /// A control named only by a mapping or a satisfies record, not declared by any loaded
    /// framework catalog (e.g. NIST SP 800-53 Rev 4 ids in the MCSB crosswalk).
    ExternalControl,
    /// A policy definition.
    Policy,
}

impl NodeKind {
    /// The `kind` attribute used in exports.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Framework => "framework",
            NodeKind::Family => "family",
            NodeKind::Control => "control",
            NodeKind::ExternalControl => "external_control",
            NodeKind::Policy => "policy",
        }
    }

    /// True for controls, declared or not.
    pub fn is_control(self) -> bool {
        matches!(self, NodeKind::Control | NodeKind::ExternalControl)
    }
}

/// A node of the graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Node id (`framework:X`, `X:C`, `policy:P`).
    pub id: String,
    /// What it stands for.
    pub kind: NodeKind,
    /// The framework it belongs to (the framework's own id for a framework node).
    pub framework: Option<String>,
    /// The local id: control id inside the framework, framework id, or policy id.
    pub local: String,
    /// Title, when known.
    pub title: Option<String>,
    /// Framework version, or the default effect of a policy.
    pub version: Option<String>,
    /// Provenance of a framework's control list.
    pub source: Option<String>,
}

/// A published mapping as stored on a `maps_to` edge.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    /// Read "source REL target" along the edge direction.
    pub relationship: Relationship,
    /// Effective strength (stated, or the relationship's default).
    pub strength: f64,
    /// Whether the strength was stated by the publisher.
    pub strength_stated: bool,
    /// Why it holds.
    pub rationale: Option<String>,
    /// Who published it.
    pub provenance: Option<String>,
}

/// An edge of the graph.
#[derive(Debug, Clone, PartialEq)]
pub enum Edge {
    /// Framework → family/control, family → control, control → enhancement.
    Contains,
    /// Policy → control, as an initiative states it.
    Satisfies {
        /// Initiative display name.
        initiative: Option<String>,
        /// Initiative version.
        version: Option<String>,
        /// Effect the initiative assigns by default.
        effect: Option<String>,
    },
    /// Control → control published mapping.
    MapsTo(Mapping),
}

impl Edge {
    /// The `kind` attribute used in exports.
    pub fn kind(&self) -> &'static str {
        match self {
            Edge::Contains => "contains",
            Edge::Satisfies { .. } => "satisfies",
            Edge::MapsTo(_) => "maps_to",
        }
    }
}

/// The catalog as a graph, immutable once built.
#[derive(Debug, Default)]
pub struct ControlGraph {
    graph: DiGraph<Node, Edge>,
    by_id: HashMap<String, NodeIndex>,
    /// Framework ids in the order they were first seen.
    framework_order: Vec<String>,
    /// Frameworks some document declared (the others are only named by mappings).
    declared: HashSet<String>,
    merged: CatalogDocument,
}

fn framework_node_id(id: &str) -> String {
    format!("framework:{id}")
}

fn policy_node_id(id: &str) -> String {
    format!("policy:{id}")
}

impl ControlGraph {
    /// Build the graph from documents; later documents add to and refine earlier ones
    /// (a later title or version replaces an earlier one, controls and edges accumulate,
    /// repeated edges are kept once).
    pub fn from_documents(docs: &[CatalogDocument]) -> Result<Self, CatalogError> {
        let merged = merge(docs);
        let mut g = Self {
            merged,
            ..Self::default()
        };
        let frameworks = g.merged.frameworks.clone();
        for fw in &frameworks {
            g.add_framework(fw)?;
        }
        let policies = g.merged.policies.clone();
        for p in &policies {
            g.policy_node(&p.id, p.effect.clone());
        }
        let satisfies = g.merged.satisfies.clone();
        for s in &satisfies {
            let control = g.control_node(&ControlRef::parse(&s.control)?);
            let policy = g.policy_node(&s.policy, None);
            g.graph.add_edge(
                policy,
                control,
                Edge::Satisfies {
                    initiative: s.initiative.clone(),
                    version: s.version.clone(),
                    effect: s.effect.clone(),
                },
            );
        }
        let mappings = g.merged.mappings.clone();
        for m in &mappings {
            let source = g.control_node(&ControlRef::parse(&m.source)?);
            let target = g.control_node(&ControlRef::parse(&m.target)?);
            let relationship: Relationship = m.relationship.parse()?;
            let mapping = Mapping {
                relationship,
                strength: m
                    .strength
                    .unwrap_or_else(|| relationship.default_strength()),
                strength_stated: m.strength.is_some(),
                rationale: m.rationale.clone(),
                provenance: m.provenance.clone(),
            };
            g.graph.add_edge(source, target, Edge::MapsTo(mapping));
        }
        Ok(g)
    }

    /// Build from JSON documents, each named for error messages.
    pub fn from_json_documents(docs: &[(String, String)]) -> Result<Self, (String, CatalogError)> {
        let parsed = docs
            .iter()
            .map(|(name, text)| CatalogDocument::from_json(text).map_err(|e| (name.clone(), e)))
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_documents(&parsed).map_err(|e| (String::from("<catalog>"), e))
    }

    /// The bundled catalog alone.
    pub fn bundled() -> Result<Self, CatalogError> {
        let text = bundled_document_json()?;
        Self::from_documents(&[CatalogDocument::from_json(&text)?])
    }

    fn add_framework(&mut self, fw: &FrameworkRecord) -> Result<(), CatalogError> {
        let fw_node = self.framework_node(&fw.id);
        self.declared.insert(fw.id.clone());
        if let Some(n) = self.graph.node_weight_mut(fw_node) {
            n.title.clone_from(&fw.title);
            n.version.clone_from(&fw.version);
            n.source.clone_from(&fw.source);
        }
        let mut parents: HashMap<String, Option<String>> = HashMap::new();
        for c in &fw.controls {
            self.local_node(&fw.id, &c.id, NodeKind::Control, c.title.clone());
            parents.insert(c.id.clone(), c.parent.clone());
        }
        for f in &fw.families {
            let id = format!("{}:{}", fw.id, f.id);
            if !self.by_id.contains_key(&id) {
                self.local_node(&fw.id, &f.id, NodeKind::Family, f.title.clone());
                parents.insert(f.id.clone(), f.parent.clone());
            }
        }
        // Link every declared node to its parent, creating implied families on the way.
        let mut pending: Vec<String> = fw
            .controls
            .iter()
            .chain(fw.families.iter())
            .map(|c| c.id.clone())
            .collect();
        let mut linked: HashSet<String> = HashSet::new();
        while let Some(local) = pending.pop() {
            if !linked.insert(local.clone()) {
                continue;
            }
            let explicit = parents.get(&local).cloned().flatten();
            if explicit.as_deref() == Some(local.as_str()) {
                return Err(CatalogError::invalid(
                    format!("/frameworks/{}", fw.id),
                    format!("control `{local}` names itself as its parent"),
                ));
            }
            let parent = explicit.or_else(|| {
                fw.infer_hierarchy
                    .then(|| document::implied_parent(&local).map(str::to_string))
                    .flatten()
            });
            let child = self.node_index(&format!("{}:{local}", fw.id));
            let parent_node = match parent {
                Some(p) => {
                    let pid = format!("{}:{p}", fw.id);
                    match self.by_id.get(&pid) {
                        Some(&n) => n,
                        None => {
                            let n = self.local_node(&fw.id, &p, NodeKind::Family, None);
                            pending.push(p);
                            n
                        }
                    }
                }
                None => fw_node,
            };
            if let Some(child) = child {
                self.graph.add_edge(parent_node, child, Edge::Contains);
            }
        }
        self.check_hierarchy(&fw.id)
    }

    /// Every node of a framework must reach the framework node through `contains`.
    fn check_hierarchy(&self, framework: &str) -> Result<(), CatalogError> {
        for n in self.graph.node_indices() {
            let Some(node) = self.graph.node_weight(n) else {
                continue;
            };
            if node.kind != NodeKind::Control || node.framework.as_deref() != Some(framework) {
                continue;
            }
            let mut seen = HashSet::new();
            let mut at = n;
            loop {
                if !seen.insert(at) {
                    return Err(CatalogError::invalid(
                        format!("/frameworks/{framework}"),
                        format!("the parents of `{}` form a cycle", node.local),
                    ));
                }
                match self.parent_of(at) {
                    Some(p) => at = p,
                    None => break,
                }
            }
        }
        Ok(())
    }

    fn framework_node(&mut self, id: &str) -> NodeIndex {
        let node_id = framework_node_id(id);
        if let Some(&n) = self.by_id.get(&node_id) {
            return n;
        }
        self.framework_order.push(id.to_string());
        self.insert(Node {
            id: node_id,
            kind: NodeKind::Framework,
            framework: Some(id.to_string()),
            local: id.to_string(),
            title: None,
            version: None,
            source: None,
        })
    }

    fn local_node(
        &mut self,
        framework: &str,
        local: &str,
        kind: NodeKind,
        title: Option<String>,
    ) -> NodeIndex {
        let node_id = format!("{framework}:{local}");
        if let Some(&n) = self.by_id.get(&node_id) {
            if let Some(node) = self.graph.node_weight_mut(n) {
                if title.is_some() {
                    node.title = title;
                }
            }
            return n;
        }
        self.insert(Node {
            id: node_id,
            kind,
            framework: Some(framework.to_string()),
            local: local.to_string(),
            title,
            version: None,
            source: None,
        })
    }

    /// The node of a control, created as an external control when no catalog declares it.
    fn control_node(&mut self, r: &ControlRef) -> NodeIndex {
        if let Some(&n) = self.by_id.get(&r.node_id()) {
            return n;
        }
        let fw = self.framework_node(&r.framework);
        let n = self.local_node(&r.framework, &r.control, NodeKind::ExternalControl, None);
        self.graph.add_edge(fw, n, Edge::Contains);
        n
    }

    fn policy_node(&mut self, id: &str, effect: Option<String>) -> NodeIndex {
        let node_id = policy_node_id(id);
        if let Some(&n) = self.by_id.get(&node_id) {
            if let (Some(node), Some(e)) = (self.graph.node_weight_mut(n), effect) {
                node.version = Some(e);
            }
            return n;
        }
        self.insert(Node {
            id: node_id,
            kind: NodeKind::Policy,
            framework: None,
            local: id.to_string(),
            title: None,
            version: effect,
            source: None,
        })
    }

    fn insert(&mut self, node: Node) -> NodeIndex {
        let id = node.id.clone();
        let n = self.graph.add_node(node);
        self.by_id.insert(id, n);
        n
    }

    /// The node index of a node id.
    pub fn node_index(&self, id: &str) -> Option<NodeIndex> {
        self.by_id.get(id).copied()
    }

    /// The node at an index.
    pub fn node(&self, n: NodeIndex) -> Option<&Node> {
        self.graph.node_weight(n)
    }

    /// The parent (through `contains`) of a node.
    pub fn parent_of(&self, n: NodeIndex) -> Option<NodeIndex> {
        self.graph
            .edges_directed(n, Direction::Incoming)
            .find(|e| matches!(e.weight(), Edge::Contains))
            .map(|e| e.source())
    }

    /// Edges leaving (`Outgoing`) or entering (`Incoming`) a node, with the other end.
    pub fn edges(
        &self,
        n: NodeIndex,
        dir: Direction,
    ) -> impl Iterator<Item = (EdgeIndex, NodeIndex, &Edge)> + '_ {
        self.graph.edges_directed(n, dir).map(move |e| {
            let other = if dir == Direction::Outgoing {
                e.target()
            } else {
                e.source()
            };
            (e.id(), other, e.weight())
        })
    }

    /// Every node index, in insertion order.
    pub fn node_indices(&self) -> impl Iterator<Item = NodeIndex> + '_ {
        self.graph.node_indices()
    }

    /// Every edge as (source, target, edge).
    pub fn all_edges(&self) -> impl Iterator<Item = (NodeIndex, NodeIndex, &Edge)> + '_ {
        self.graph
            .edge_references()
            .map(|e| (e.source(), e.target(), e.weight()))
    }

    /// Framework ids in first-seen order.
    pub fn framework_ids(&self) -> &[String] {
        &self.framework_order
    }

    /// True when some document declared the framework's controls.
    pub fn is_declared(&self, framework: &str) -> bool {
        self.declared.contains(framework)
    }

    /// The merged document the graph was built from (what `to_json` writes).
    pub fn document(&self) -> &CatalogDocument {
        &self.merged
    }

    /// Number of nodes and edges.
    pub fn size(&self) -> (usize, usize) {
        (self.graph.node_count(), self.graph.edge_count())
    }
}

/// Merge documents: frameworks by id (controls and families by local id, later non-empty
/// fields win), policies by id, satisfies by (policy, control), mappings by
/// (source, target, relationship, provenance). First-seen order is kept.
fn merge(docs: &[CatalogDocument]) -> CatalogDocument {
    let mut out = CatalogDocument {
        format: document::FORMAT.to_string(),
        ..CatalogDocument::default()
    };
    let mut fw_at: HashMap<String, usize> = HashMap::new();
    let mut policy_at: HashMap<String, usize> = HashMap::new();
    let mut sat_seen: HashSet<(String, String)> = HashSet::new();
    let mut map_seen: HashSet<(String, String, String, Option<String>)> = HashSet::new();
    for doc in docs {
        for fw in &doc.frameworks {
            match fw_at.get(&fw.id).and_then(|&i| out.frameworks.get_mut(i)) {
                Some(existing) => merge_framework(existing, fw),
                None => {
                    fw_at.insert(fw.id.clone(), out.frameworks.len());
                    out.frameworks.push(fw.clone());
                }
            }
        }
        for p in &doc.policies {
            match policy_at.get(&p.id).and_then(|&i| out.policies.get_mut(i)) {
                Some(existing) => {
                    if p.effect.is_some() {
                        existing.effect.clone_from(&p.effect);
                    }
                }
                None => {
                    policy_at.insert(p.id.clone(), out.policies.len());
                    out.policies.push(p.clone());
                }
            }
        }
        for s in &doc.satisfies {
            if sat_seen.insert((s.policy.clone(), s.control.clone())) {
                out.satisfies.push(s.clone());
            }
        }
        for m in &doc.mappings {
            let key = (
                m.source.clone(),
                m.target.clone(),
                m.relationship.clone(),
                m.provenance.clone(),
            );
            if map_seen.insert(key) {
                out.mappings.push(m.clone());
            }
        }
    }
    out
}

fn merge_framework(into: &mut FrameworkRecord, from: &FrameworkRecord) {
    if from.title.is_some() {
        into.title.clone_from(&from.title);
    }
    if from.version.is_some() {
        into.version.clone_from(&from.version);
    }
    if from.source.is_some() {
        into.source.clone_from(&from.source);
    }
    into.infer_hierarchy = into.infer_hierarchy && from.infer_hierarchy;
    merge_records(&mut into.controls, &from.controls);
    merge_records(&mut into.families, &from.families);
}

fn merge_records(into: &mut Vec<ControlRecord>, from: &[ControlRecord]) {
    let mut at: HashMap<String, usize> = into
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.clone(), i))
        .collect();
    for c in from {
        match at.get(&c.id).and_then(|&i| into.get_mut(i)) {
            Some(existing) => {
                if c.title.is_some() {
                    existing.title.clone_from(&c.title);
                }
                if c.parent.is_some() {
                    existing.parent.clone_from(&c.parent);
                }
            }
            None => {
                at.insert(c.id.clone(), into.len());
                into.push(c.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::query::MapOptions;
    use super::*;

    #[test]
    fn bundled_catalog_loads_and_maps_mcsb_to_rev5_through_rev4() {
        let g = ControlGraph::bundled().unwrap();
        for fw in [
            "MCSB_v1",
            "CIS_Azure_2.0.0",
            "CIS_Azure_3.0.0",
            "CIS_Controls_v8.1",
            "NIST_SP_800-53_R5",
            "PCI_DSS_v4.0.1",
            "ISO_IEC_27001_2022",
        ] {
            assert!(g.is_declared(fw), "{fw} is not declared");
        }
        let ac2 = g
            .node(g.node_index("NIST_SP_800-53_R5:AC-2").unwrap())
            .unwrap();
        assert_eq!(ac2.title.as_deref(), Some("Account Management"));
        let opts = MapOptions {
            include_derived: false,
            ..MapOptions::default()
        };
        let hits = g.map("MCSB_v1:NS-1", "NIST_SP_800-53_R5", opts).unwrap();
        assert!(!hits.is_empty());
        for h in &hits {
            assert_eq!(h.hops(), 2);
            let pivot = &h.path()[1];
            assert!(pivot.starts_with("NIST_SP_800-53_R4:"), "{pivot}");
        }
    }
}
