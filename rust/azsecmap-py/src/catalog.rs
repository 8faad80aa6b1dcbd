//! Bindings for the control catalog: build the graph from JSON documents, answer queries
//! as JSON text (the Python facade turns it into Polars frames). Errors become
//! `azsecmap.CatalogError` with the file and the JSON pointer.

use azsecmap_core::graph::query::{MapHit, MapOptions};
use azsecmap_core::graph::{bundled_document_json, CatalogError, ControlGraph};
use pyo3::prelude::*;
use serde_json::{json, Value};

use crate::guarded;

fn catalog_err(py: Python<'_>, file: Option<&str>, e: &CatalogError) -> PyErr {
    let built = py
        .import("azsecmap.errors")
        .and_then(|m| m.getattr("CatalogError"))
        .and_then(|cls| cls.call1((e.message(), e.pointer(), file)));
    match built {
        Ok(exc) => PyErr::from_value(exc),
        Err(err) => err,
    }
}

fn hit_json(h: &MapHit) -> Value {
    let steps: Vec<Value> = h
        .steps
        .iter()
        .map(|s| {
            json!({
                "from": s.from, "to": s.to,
                "relationship": s.relationship.map_or("shares_policy", |r| r.as_str()),
                "strength": s.strength, "reversed": s.reversed,
                "provenance": s.provenance, "rationale": s.rationale,
            })
        })
        .collect();
    json!({
        "source": h.source,
        "target": h.target,
        "target_framework": h.target.split_once(':').map(|(f, _)| f),
        "relationship": h.relationship_str(),
        "strength": h.strength,
        "hops": h.hops(),
        "published": h.published,
        "path": h.path(),
        "steps": steps,
        "shared_policies": h.shared_policies,
    })
}

/// The control graph, immutable once built.
#[pyclass(module = "azsecmap._core", frozen)]
pub(crate) struct CatalogGraph {
    inner: ControlGraph,
}

#[pymethods]
impl CatalogGraph {
    /// Build from `(name, json_text)` documents, after the bundled catalog when
    /// `include_bundled`.
    #[staticmethod]
    fn build(py: Python<'_>, docs: Vec<(String, String)>, include_bundled: bool) -> PyResult<Self> {
        let result = guarded(py, move || {
            let mut all = Vec::with_capacity(docs.len() + 1);
            if include_bundled {
                let text = bundled_document_json().map_err(|e| ("<bundled>".to_string(), e))?;
                all.push(("<bundled>".to_string(), text));
            }
            all.extend(docs);
            ControlGraph::from_json_documents(&all)
        })?;
        result
            .map(|inner| Self { inner })
            .map_err(|(file, e)| catalog_err(py, Some(&file), &e))
    }

    /// The bundled catalog document as JSON text.
    #[staticmethod]
    fn bundled_json(py: Python<'_>) -> PyResult<String> {
        bundled_document_json().map_err(|e| catalog_err(py, Some("<bundled>"), &e))
    }

    /// One record per framework (JSON list).
    fn frameworks_json(&self) -> String {
        let rows: Vec<Value> = self
            .inner
            .framework_rows()
            .into_iter()
            .map(|r| {
                json!({
                    "framework": r.id, "title": r.title, "version": r.version,
                    "source": r.source, "declared": r.declared, "controls": r.controls,
                    "families": r.families, "external_controls": r.external_controls,
                    "policies": r.policies, "satisfies": r.satisfies, "mappings": r.mappings,
                })
            })
            .collect();
        Value::Array(rows).to_string()
    }

    /// One record per control, family or external control of `framework` (JSON list).
    fn controls_json(&self, py: Python<'_>, framework: &str) -> PyResult<String> {
        let rows = self
            .inner
            .control_rows(framework)
            .map_err(|e| catalog_err(py, None, &e))?;
        let rows: Vec<Value> = rows
            .into_iter()
            .map(|r| {
                json!({
                    "control": r.control, "id": r.id, "kind": r.kind, "title": r.title,
                    "parent": r.parent, "depth": r.depth, "policies": r.policies,
                    "automated_policies": r.automated_policies,
                })
            })
            .collect();
        Ok(Value::Array(rows).to_string())
    }

    /// Cross-map one control (JSON list of hits).
    fn map_json(
        &self,
        py: Python<'_>,
        control: &str,
        to: &str,
        min_strength: f64,
        max_hops: usize,
        include_derived: bool,
    ) -> PyResult<String> {
        let opts = MapOptions {
            min_strength,
            max_hops,
            include_derived,
        };
        let graph = &self.inner;
        let hits = guarded(py, move || graph.map(control, to, opts))?
            .map_err(|e| catalog_err(py, None, &e))?;
        Ok(Value::Array(hits.iter().map(hit_json).collect()).to_string())
    }

    /// Best mapping of every control of `a` into `b` (JSON list; `hit` is null when none).
    fn coverage_json(
        &self,
        py: Python<'_>,
        a: &str,
        b: &str,
        min_strength: f64,
        max_hops: usize,
        include_derived: bool,
    ) -> PyResult<String> {
        let opts = MapOptions {
            min_strength,
            max_hops,
            include_derived,
        };
        let graph = &self.inner;
        let rows = guarded(py, move || graph.coverage(a, b, opts))?
            .map_err(|e| catalog_err(py, None, &e))?;
        let rows: Vec<Value> = rows
            .iter()
            .map(|(c, h)| json!({"control": c, "hit": h.as_ref().map(hit_json)}))
            .collect();
        Ok(Value::Array(rows).to_string())
    }

    /// Declared controls of `framework` with no automated policy (JSON list).
    fn unautomated_json(&self, py: Python<'_>, framework: &str) -> PyResult<String> {
        let rows = self
            .inner
            .unautomated(framework)
            .map_err(|e| catalog_err(py, None, &e))?;
        let rows: Vec<Value> = rows
            .into_iter()
            .map(|r| {
                json!({"control": r.control, "title": r.title,
                       "manual_policies": r.manual_policies})
            })
            .collect();
        Ok(Value::Array(rows).to_string())
    }

    /// Nodes and edges (JSON `{"nodes": [...], "edges": [...]}`).
    fn node_link_json(&self, py: Python<'_>, include_derived: bool) -> PyResult<String> {
        let graph = &self.inner;
        guarded(py, move || graph.node_link(include_derived).to_string())
    }

    /// The merged catalog document (JSON text in the canonical format).
    fn document_json(&self) -> String {
        self.inner.document().to_json()
    }

    /// `(nodes, edges)`.
    fn size(&self) -> (usize, usize) {
        self.inner.size()
    }
}
