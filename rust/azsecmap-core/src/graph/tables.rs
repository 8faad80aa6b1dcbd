//! Row-shaped summaries of the graph for listing: one row per framework, one per control.

use std::collections::HashSet;

use petgraph::Direction;

use super::{ControlGraph, Edge, NodeKind};
use crate::graph::error::CatalogError;

/// One framework and what the catalog holds for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameworkRow {
    /// Framework id.
    pub id: String,
    /// Title, when known.
    pub title: Option<String>,
    /// Version, when known.
    pub version: Option<String>,
    /// Provenance of the control list.
    pub source: Option<String>,
    /// True when a document declared its controls (false: only named by mappings).
    pub declared: bool,
    /// Declared controls.
    pub controls: usize,
    /// Family (grouping) nodes.
    pub families: usize,
    /// Controls only named by mappings or satisfies records.
    pub external_controls: usize,
    /// Distinct policies with a satisfies edge into the framework.
    pub policies: usize,
    /// Satisfies edges into the framework.
    pub satisfies: usize,
    /// Published mappings with an end in the framework.
    pub mappings: usize,
}

/// One control (or family) of a framework.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlRow {
    /// Node id `FRAMEWORK:CONTROL`.
    pub control: String,
    /// Local id.
    pub id: String,
    /// `control`, `family` or `external_control`.
    pub kind: &'static str,
    /// Title, when known.
    pub title: Option<String>,
    /// Parent node id (`framework:<ID>` for top-level nodes).
    pub parent: Option<String>,
    /// Depth below the framework node (1 = top level).
    pub depth: usize,
    /// Policies that satisfy it.
    pub policies: usize,
    /// Of those, the ones whose effect is not `manual`.
    pub automated_policies: usize,
}

impl ControlGraph {
    /// One row per framework, in first-seen order.
    pub fn framework_rows(&self) -> Vec<FrameworkRow> {
        self.framework_ids()
            .iter()
            .filter_map(|fw| {
                let n = self.node_index(&format!("framework:{fw}"))?;
                let node = self.node(n)?;
                let mut row = FrameworkRow {
                    id: fw.clone(),
                    title: node.title.clone(),
                    version: node.version.clone(),
                    source: node.source.clone(),
                    declared: self.is_declared(fw),
                    controls: 0,
                    families: 0,
                    external_controls: 0,
                    policies: 0,
                    satisfies: 0,
                    mappings: 0,
                };
                let mut policies = HashSet::new();
                for c in self.node_indices() {
                    let Some(cn) = self.node(c) else { continue };
                    if cn.framework.as_deref() != Some(fw.as_str()) {
                        continue;
                    }
                    match cn.kind {
                        NodeKind::Control => row.controls += 1,
                        NodeKind::Family => row.families += 1,
                        NodeKind::ExternalControl => row.external_controls += 1,
                        _ => continue,
                    }
                    for (_, other, e) in self.edges(c, Direction::Incoming) {
                        match e {
                            Edge::Satisfies { .. } => {
                                row.satisfies += 1;
                                policies.insert(other);
                            }
                            Edge::MapsTo(_) => row.mappings += 1,
                            Edge::Contains => {}
                        }
                    }
                    row.mappings += self
                        .edges(c, Direction::Outgoing)
                        .filter(|(_, _, e)| matches!(e, Edge::MapsTo(_)))
                        .count();
                }
                row.policies = policies.len();
                Some(row)
            })
            .collect()
    }

    /// Every control, family and external control of a framework, in catalog order.
    pub fn control_rows(&self, framework: &str) -> Result<Vec<ControlRow>, CatalogError> {
        if !self.framework_ids().iter().any(|f| f == framework) {
            return Err(CatalogError::UnknownFramework(framework.to_string()));
        }
        let mut rows = Vec::new();
        for n in self.node_indices() {
            let Some(node) = self.node(n) else { continue };
            if node.kind == NodeKind::Framework || node.framework.as_deref() != Some(framework) {
                continue;
            }
            let parent = self.parent_of(n);
            let mut depth = 0;
            let mut at = Some(n);
            while let Some(x) = at {
                depth += 1;
                at = self.parent_of(x).filter(|p| {
                    self.node(*p)
                        .is_some_and(|pn| pn.kind != NodeKind::Framework)
                });
                if depth > 64 {
                    break;
                }
            }
            let (mut policies, mut automated) = (0, 0);
            for (_, p, e) in self.edges(n, Direction::Incoming) {
                if let Edge::Satisfies { effect, .. } = e {
                    policies += 1;
                    let effect = effect
                        .clone()
                        .or_else(|| self.node(p).and_then(|x| x.version.clone()));
                    if effect.as_deref() != Some("manual") {
                        automated += 1;
                    }
                }
            }
            rows.push(ControlRow {
                control: node.id.clone(),
                id: node.local.clone(),
                kind: node.kind.as_str(),
                title: node.title.clone(),
                parent: parent.and_then(|p| self.node(p)).map(|p| p.id.clone()),
                depth,
                policies,
                automated_policies: automated,
            });
        }
        Ok(rows)
    }
}
