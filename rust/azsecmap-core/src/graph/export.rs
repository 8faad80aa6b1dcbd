//! The graph as plain node and edge records (node-link JSON), the shape `to_networkx`,
//! GraphML export and other tools consume. Attribute names follow DESIGN.md: every node and
//! edge has `kind`; `maps_to` edges carry `relationship`, `strength` and `source`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use super::query::SHARES_POLICY_WEIGHT;
use super::{ControlGraph, Edge, NodeKind};

impl ControlGraph {
    /// `{"nodes": [...], "edges": [...]}`; a node record has `id` and its attributes, an edge
    /// record has its endpoints as `u` and `v` and its attributes (for `maps_to`, `source` is
    /// the publisher, as DESIGN.md names it). Parallel published mappings between the same two
    /// controls are folded into one edge (the strongest; `source` lists every publisher,
    /// `; `-separated), since a simple directed graph holds one edge per ordered pair. With
    /// `include_derived`, every pair of controls of different frameworks that share a policy
    /// and have no direct published mapping gets one `shares_policy` edge.
    pub fn node_link(&self, include_derived: bool) -> Value {
        let mut nodes = Vec::new();
        for n in self.node_indices() {
            let Some(node) = self.node(n) else { continue };
            let mut attrs = Map::new();
            attrs.insert("id".into(), json!(node.id));
            attrs.insert("kind".into(), json!(node.kind.as_str()));
            match node.kind {
                NodeKind::Framework => {
                    attrs.insert("framework".into(), json!(node.local));
                    attrs.insert("declared".into(), json!(self.is_declared(&node.local)));
                    put(&mut attrs, "version", node.version.as_ref());
                    put(&mut attrs, "source", node.source.as_ref());
                }
                NodeKind::Policy => {
                    attrs.insert("policy".into(), json!(node.local));
                    put(&mut attrs, "effect", node.version.as_ref());
                }
                _ => {
                    put(&mut attrs, "framework", node.framework.as_ref());
                    attrs.insert("control".into(), json!(node.local));
                }
            }
            put(&mut attrs, "title", node.title.as_ref());
            nodes.push(Value::Object(attrs));
        }

        let mut edges = Vec::new();
        let mut maps: BTreeMap<(String, String), Map<String, Value>> = BTreeMap::new();
        let mut mapped_pairs: BTreeSet<(String, String)> = BTreeSet::new();
        for (s, t, e) in self.all_edges() {
            let (Some(sn), Some(tn)) = (self.node(s), self.node(t)) else {
                continue;
            };
            let mut attrs = Map::new();
            attrs.insert("u".into(), json!(sn.id));
            attrs.insert("v".into(), json!(tn.id));
            attrs.insert("kind".into(), json!(e.kind()));
            match e {
                Edge::Contains => edges.push(Value::Object(attrs)),
                Edge::Satisfies {
                    initiative,
                    version,
                    effect,
                } => {
                    put(&mut attrs, "initiative", initiative.as_ref());
                    put(&mut attrs, "version", version.as_ref());
                    put(&mut attrs, "effect", effect.as_ref());
                    edges.push(Value::Object(attrs));
                }
                Edge::MapsTo(m) => {
                    mapped_pairs.insert(ordered(&sn.id, &tn.id));
                    let provenance = m.provenance.clone().unwrap_or_default();
                    let key = (sn.id.clone(), tn.id.clone());
                    if let Some(existing) = maps.get_mut(&key) {
                        let old = existing
                            .get("strength")
                            .and_then(Value::as_f64)
                            .unwrap_or(0.0);
                        let sources = existing
                            .get("source")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string();
                        if m.strength > old {
                            existing.insert("relationship".into(), json!(m.relationship.as_str()));
                            existing.insert("strength".into(), json!(m.strength));
                        }
                        if !sources.split("; ").any(|x| x == provenance) {
                            existing
                                .insert("source".into(), json!(format!("{sources}; {provenance}")));
                        }
                        continue;
                    }
                    attrs.insert("relationship".into(), json!(m.relationship.as_str()));
                    attrs.insert("strength".into(), json!(m.strength));
                    attrs.insert("strength_stated".into(), json!(m.strength_stated));
                    put(&mut attrs, "rationale", m.rationale.as_ref());
                    attrs.insert("published".into(), json!(true));
                    attrs.insert("source".into(), json!(provenance));
                    maps.insert(key, attrs);
                }
            }
        }
        edges.extend(maps.into_values().map(Value::Object));
        if include_derived {
            edges.extend(self.shares_policy_edges(&mapped_pairs));
        }
        json!({"nodes": nodes, "edges": edges})
    }

    fn shares_policy_edges(&self, mapped: &BTreeSet<(String, String)>) -> Vec<Value> {
        // policy sets per control, then every pair of controls that meet at a policy
        let mut policies_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut controls_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (s, t, e) in self.all_edges() {
            if let (Edge::Satisfies { .. }, Some(p), Some(c)) = (e, self.node(s), self.node(t)) {
                policies_of
                    .entry(c.id.clone())
                    .or_default()
                    .insert(p.local.clone());
                controls_of
                    .entry(p.local.clone())
                    .or_default()
                    .insert(c.id.clone());
            }
        }
        let framework = |id: &str| id.split_once(':').map(|(f, _)| f.to_string());
        let mut pairs: BTreeSet<(String, String)> = BTreeSet::new();
        for controls in controls_of.values() {
            for a in controls {
                for b in controls
                    .range::<String, _>((std::ops::Bound::Excluded(a), std::ops::Bound::Unbounded))
                {
                    if framework(a) != framework(b) && !mapped.contains(&ordered(a, b)) {
                        pairs.insert((a.clone(), b.clone()));
                    }
                }
            }
        }
        let empty = BTreeSet::new();
        pairs
            .into_iter()
            .map(|(a, b)| {
                let pa = policies_of.get(&a).unwrap_or(&empty);
                let pb = policies_of.get(&b).unwrap_or(&empty);
                let common = pa.intersection(pb).count();
                let union = pa.union(pb).count().max(1);
                #[allow(clippy::cast_precision_loss)]
                let strength = SHARES_POLICY_WEIGHT * common as f64 / union as f64;
                json!({
                    "u": a, "v": b, "kind": "shares_policy",
                    "relationship": "shares_policy", "strength": strength,
                    "published": false, "shared_policies": common,
                    "source": "derived: both controls are satisfied by the same policy",
                })
            })
            .collect()
    }
}

fn ordered(a: &str, b: &str) -> (String, String) {
    if a <= b {
        (a.to_string(), b.to_string())
    } else {
        (b.to_string(), a.to_string())
    }
}

fn put(attrs: &mut Map<String, Value>, key: &str, value: Option<&String>) {
    if let Some(v) = value {
        attrs.insert(key.to_string(), json!(v));
    }
}

#[cfg(test)]
mod tests {
    use crate::graph::{CatalogDocument, ControlGraph};
    use serde_json::Value;

    fn edges_of_kind<'a>(v: &'a Value, kind: &str) -> Vec<&'a Value> {
        v["edges"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == kind)
            .collect()
    }

    #[test]
    fn node_link_folds_parallel_mappings_and_keeps_derived_apart() {
        let doc = CatalogDocument::from_json(
            r#"{"format":"azsecmap-catalog/1",
              "frameworks":[{"id":"A","controls":[{"id":"1"}]},{"id":"B","controls":[{"id":"1"},{"id":"2"}]}],
              "satisfies":[{"policy":"p","control":"A:1"},{"policy":"p","control":"B:2"}],
              "mappings":[
                {"source":"A:1","target":"B:1","relationship":"intersect","provenance":"x"},
                {"source":"A:1","target":"B:1","relationship":"equal","provenance":"y"}]}"#,
        )
        .unwrap();
        let g = ControlGraph::from_documents(&[doc]).unwrap();
        let plain = g.node_link(false);
        let maps = edges_of_kind(&plain, "maps_to");
        assert_eq!(maps.len(), 1);
        assert_eq!(maps[0]["relationship"], "equal");
        assert_eq!(maps[0]["strength"], 1.0);
        assert_eq!(maps[0]["source"], "x; y");
        assert!(edges_of_kind(&plain, "shares_policy").is_empty());
        let derived = g.node_link(true);
        let shares = edges_of_kind(&derived, "shares_policy");
        assert_eq!(shares.len(), 1);
        assert_eq!(shares[0]["u"], "A:1");
        assert_eq!(shares[0]["v"], "B:2");
        assert_eq!(shares[0]["published"], false);
        let kinds: Vec<&str> = plain["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds.iter().filter(|k| **k == "policy").count(), 1);
        assert_eq!(kinds.iter().filter(|k| **k == "framework").count(), 2);
    }
}
