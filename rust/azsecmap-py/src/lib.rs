//! The `azsecmap._core` extension: converts values, releases the GIL and maps errors.
//! No engine logic lives here.

mod batch;
mod catalog;

/// Parsing and dropping millions of small JSON trees is allocation-bound; mimalloc handles
/// that far better than the system allocator (measured in benches/RESULTS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::panic::{catch_unwind, AssertUnwindSafe};

use azsecmap_core::policy::{BoundPolicy, Mode, PolicyDefinition};
use azsecmap_core::{EvalOptions, PolicyError};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use serde_json::{json, Value};

/// Raise `azsecmap.errors.<class_name>(message, pointer=…)`.
pub(crate) fn raise(
    py: Python<'_>,
    class_name: &str,
    message: &str,
    pointer: Option<&str>,
) -> PyErr {
    let built = py
        .import("azsecmap.errors")
        .and_then(|m| m.getattr(class_name))
        .and_then(|cls| cls.call1((message, pointer)));
    match built {
        Ok(exc) => PyErr::from_value(exc),
        Err(e) => e,
    }
}

fn policy_err(py: Python<'_>, e: &PolicyError) -> PyErr {
    raise(py, "PolicyError", &e.message, Some(&e.pointer))
}

/// Run `f` without the GIL, turning a panic into an exception instead of an abort.
pub(crate) fn guarded<T: Send>(py: Python<'_>, f: impl FnOnce() -> T + Send) -> PyResult<T> {
    py.detach(|| catch_unwind(AssertUnwindSafe(f)))
        .map_err(|_| {
            PyRuntimeError::new_err(
                "internal error in the azsecmap engine (a bug: please report it)",
            )
        })
}

fn parse_json(py: Python<'_>, text: &str, what: &str, class_name: &str) -> PyResult<Value> {
    serde_json::from_str(text).map_err(|e| {
        let message = azsecmap_core::policy::json_error(&e)
            .replacen("JSON", &format!("{what} JSON"), 1)
            .replacen("the document", &format!("the {what}"), 1);
        raise(py, class_name, &message, Some(""))
    })
}

/// A compiled policy definition.
#[pyclass(module = "azsecmap._core", frozen)]
pub(crate) struct Policy {
    pub(crate) inner: PolicyDefinition,
}

#[pymethods]
impl Policy {
    /// Compile a definition from JSON text; `fallback_name` names it when it has no `name`.
    #[staticmethod]
    fn compile(py: Python<'_>, text: &str, fallback_name: &str) -> PyResult<Self> {
        let value = parse_json(py, text, "policy", "PolicyError")?;
        let fallback = fallback_name.to_string();
        let result = guarded(py, move || PolicyDefinition::from_value(&value, &fallback))?;
        result
            .map(|inner| Self { inner })
            .map_err(|e| policy_err(py, &e))
    }

    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }

    #[getter]
    fn display_name(&self) -> Option<&str> {
        self.inner.display_name.as_deref()
    }

    #[getter]
    fn mode(&self) -> &str {
        self.inner.mode.as_str()
    }

    /// True for resource-provider (data-plane) modes, which are recognised but not evaluated.
    #[getter]
    fn mode_supported(&self) -> bool {
        !matches!(self.inner.mode, Mode::ResourceProvider(_))
    }

    /// The effect under default parameter values, lower-case, when known without an assignment.
    #[getter]
    fn default_effect(&self) -> Option<String> {
        self.inner.default_effect()
    }

    #[getter]
    fn unknown_aliases(&self) -> Vec<String> {
        self.inner.unknown_aliases.clone()
    }

    /// `then.details` as JSON text, or None.
    #[getter]
    fn details_json(&self) -> Option<String> {
        self.inner.details.as_ref().map(Value::to_string)
    }

    /// Declared parameters as JSON text: `[{"name","type","default","allowed"}]`.
    #[getter]
    fn parameters_json(&self) -> String {
        let list: Vec<Value> = self
            .inner
            .parameters
            .iter()
            .map(|p| {
                json!({
                    "name": p.name,
                    "type": format!("{:?}", p.kind),
                    "default": p.default,
                    "allowed": p.allowed,
                })
            })
            .collect();
        Value::Array(list).to_string()
    }

    /// Bind assignment parameter values given as a JSON object text.
    fn bind(&self, py: Python<'_>, parameters_json: &str) -> PyResult<PyBoundPolicy> {
        let params = parse_json(py, parameters_json, "parameters", "PolicyError")?;
        let Value::Object(map) = params else {
            return Err(raise(
                py,
                "PolicyError",
                "parameters must be a JSON object",
                Some("/parameters"),
            ));
        };
        let def = &self.inner;
        let result = guarded(py, move || def.bind(&map))?;
        result
            .map(|inner| PyBoundPolicy { inner })
            .map_err(|e| policy_err(py, &e))
    }
}

/// A policy with its parameter values bound.
#[pyclass(module = "azsecmap._core", name = "BoundPolicy", frozen)]
struct PyBoundPolicy {
    inner: BoundPolicy,
}

#[pymethods]
impl PyBoundPolicy {
    /// The resolved effect, lower-case.
    #[getter]
    fn effect(&self) -> &str {
        &self.inner.effect
    }

    /// Decide one resource (JSON text). `options_json` may set `now` (RFC 3339),
    /// `resourceGroup`, `subscription`, `requestContext`, `policy`. Returns the decision as
    /// JSON text: `{"matched","effect","applicable","note","reasons":[…]}`.
    #[pyo3(signature = (resource_json, options_json=None))]
    fn decide(
        &self,
        py: Python<'_>,
        resource_json: &str,
        options_json: Option<&str>,
    ) -> PyResult<String> {
        let resource = parse_json(py, resource_json, "resource", "ResourceError")?;
        if !resource.is_object() {
            return Err(raise(
                py,
                "ResourceError",
                "a resource must be a JSON object",
                Some(""),
            ));
        }
        let options = match options_json {
            Some(text) => options_from(py, &parse_json(py, text, "options", "AzsecmapError")?)?,
            None => EvalOptions::default(),
        };
        let bound = &self.inner;
        let outcome = guarded(py, move || bound.decide(&resource, &options, true))?;
        match outcome {
            Ok(d) => {
                let reasons: Vec<Value> = d
                    .reasons
                    .iter()
                    .map(|r| {
                        json!({
                            "pointer": r.pointer,
                            "subject": r.subject,
                            "path": r.path,
                            "actual": r.actual,
                            "present": r.actual.is_some(),
                            "operator": r.operator,
                            "expected": r.expected,
                            "result": r.result,
                            "negated": r.negated,
                            "text": r.to_string(),
                        })
                    })
                    .collect();
                Ok(json!({
                    "matched": d.matched,
                    "effect": d.effect,
                    "applicable": d.applicable,
                    "note": d.note,
                    "reasons": reasons,
                })
                .to_string())
            }
            Err(e) => Err(raise(py, "EvaluationError", &e.message, Some(&e.pointer))),
        }
    }
}

pub(crate) fn options_from(py: Python<'_>, v: &Value) -> PyResult<EvalOptions> {
    let mut options = EvalOptions::default();
    let Value::Object(map) = v else {
        return Ok(options);
    };
    let get = |k: &str| map.get(k).filter(|x| !x.is_null()).cloned();
    if let Some(Value::String(now)) = get("now") {
        options.now = chrono_parse(&now).ok_or_else(|| {
            raise(
                py,
                "AzsecmapError",
                &format!("`now` must be an RFC 3339 date-time, got `{now}`"),
                None,
            )
        })?;
    }
    options.resource_group = get("resourceGroup");
    options.subscription = get("subscription");
    options.request_context = get("requestContext");
    options.policy = get("policy");
    Ok(options)
}

fn chrono_parse(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    azsecmap_core::compare::parse_datetime(s)
}

/// Number of aliases in the bundled table.
#[pyfunction]
fn alias_count() -> usize {
    azsecmap_core::alias::AliasTable::bundled().len()
}

/// Resolve an alias: list of `(resource_type, path)`.
#[pyfunction]
fn resolve_alias(alias: &str) -> Vec<(String, String)> {
    azsecmap_core::alias::AliasTable::bundled()
        .lookup(alias)
        .iter()
        .map(|e| (e.resource_type.to_string(), e.path.to_string()))
        .collect()
}

/// The bundled default rule pack: `(path under frameworks/rules, definition JSON)`, sorted.
#[pyfunction]
fn builtin_rules() -> Vec<(&'static str, &'static str)> {
    azsecmap_core::default_pack::default_rules().to_vec()
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Policy>()?;
    m.add_class::<PyBoundPolicy>()?;
    m.add_function(wrap_pyfunction!(alias_count, m)?)?;
    m.add_function(wrap_pyfunction!(resolve_alias, m)?)?;
    m.add_function(wrap_pyfunction!(builtin_rules, m)?)?;
    m.add_function(wrap_pyfunction!(batch::evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(batch::load_identity, m)?)?;
    m.add_function(wrap_pyfunction!(batch::write_sample, m)?)?;
    m.add_function(wrap_pyfunction!(batch::evaluate_stream_start, m)?)?;
    m.add_class::<batch::ResultStream>()?;
    m.add_class::<catalog::CatalogGraph>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
