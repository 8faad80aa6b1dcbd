//! Batch bindings: load resources through a pack's projection, evaluate with the GIL released
//! (Ctrl-C honoured), and hand results to Python as an Arrow table (PyCapsule interface) that
//! `polars.DataFrame` wraps without copying.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arrow_array::builder::StringViewBuilder;
use arrow_array::types::{UInt32Type, UInt8Type};
use arrow_array::{ArrayRef, DictionaryArray, RecordBatch, StringArray, UInt32Array, UInt8Array};
use arrow_schema::{DataType, Field, Schema};
use azsecmap_core::batch::store::ResourceStore;
use azsecmap_core::batch::{
    evaluate_pack, evaluate_stream, BatchOptions, BatchResults, Cancelled, Identities,
    PreparedPack, State, StreamSummary,
};
use azsecmap_core::field::{resource_id, resource_type};
use azsecmap_core::policy::BoundPolicy;
use azsecmap_core::projection::Projection;
use azsecmap_core::sample::SampleReader;
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError};
use pyo3::prelude::*;
use pyo3_arrow::PyTable;
use serde_json::{Map, Value};

use crate::{options_from, raise, Policy};

/// Hand the memory freed while streaming (parsed blocks, buffers) back to the OS now, before
/// the caller builds its frame, instead of after mimalloc's purge delay.
#[allow(unsafe_code)]
fn release_free_memory() {
    // SAFETY: `mi_collect` takes no pointers and may be called from any thread at any time;
    // it only returns free pages of mimalloc's own heaps to the OS.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

/// Where resources come from.
#[derive(FromPyObject)]
pub enum Source {
    /// The synthetic sample tenant: `(resources, seed)`, generated as it is read. (Tried
    /// before `Bytes`, which a tuple of small integers would also fit.)
    Sample((usize, u64)),
    /// A file path.
    Path(String),
    /// NDJSON bytes held in memory.
    Bytes(Vec<u8>),
}

const BLOCK_BYTES: usize = 32 << 20;

/// Run `f` on a worker thread without the GIL; poll for Ctrl-C and set the cancel flag.
fn run_interruptible<T: Send>(
    py: Python<'_>,
    f: impl FnOnce(&AtomicBool) -> T + Send,
) -> PyResult<T> {
    let cancel = AtomicBool::new(false);
    let mut interrupted = false;
    let outcome = py.detach(|| {
        std::thread::scope(|scope| {
            let handle = scope.spawn(|| catch_unwind(AssertUnwindSafe(|| f(&cancel))));
            while !handle.is_finished() {
                std::thread::sleep(Duration::from_millis(20));
                if !interrupted && Python::attach(|py| py.check_signals()).is_err() {
                    interrupted = true;
                    cancel.store(true, Ordering::Relaxed);
                }
            }
            handle.join()
        })
    });
    if interrupted {
        return Err(PyKeyboardInterrupt::new_err("evaluation interrupted"));
    }
    match outcome {
        Ok(Ok(v)) => Ok(v),
        _ => Err(PyRuntimeError::new_err(
            "internal error in the azsecmap engine (a bug: please report it)",
        )),
    }
}

fn load(
    py: Python<'_>,
    kind: &str,
    source: &Source,
    projection: &Projection,
) -> PyResult<ResourceStore> {
    let mut store = ResourceStore::default();
    let result: Result<(), String> = match (kind, source) {
        ("ndjson", Source::Path(p)) => std::fs::File::open(p)
            .and_then(|mut f| store.read_ndjson(&mut f, projection, BLOCK_BYTES))
            .map_err(|e| format!("cannot read file: {e}")),
        ("ndjson", Source::Bytes(b)) => {
            store.extend_ndjson(b, 1, projection);
            Ok(())
        }
        ("sample", Source::Sample((n, seed))) => store
            .read_ndjson(&mut SampleReader::new(*n, *seed), projection, BLOCK_BYTES)
            .map_err(|e| e.to_string()),
        ("json", Source::Path(p)) => std::fs::read(p)
            .map_err(|e| format!("cannot read file: {e}"))
            .and_then(|bytes| store.extend_json(&bytes, projection)),
        ("json", Source::Bytes(b)) => store.extend_json(b, projection),
        _ => Err(format!("unknown resource source kind `{kind}`")),
    };
    match result {
        Ok(()) => Ok(store),
        Err(message) => Err(raise(py, "ResourceError", &message, Some(""))),
    }
}

type LoadErrors = Vec<(usize, String)>;

/// `(results table, load errors, policy errors, resources evaluated)`.
type EvaluateOutput = (PyTable, LoadErrors, Vec<(String, String)>, usize);

/// Load only the identity fields: `(ids, types, errors)`.
#[pyfunction]
pub fn load_identity(
    py: Python<'_>,
    kind: &str,
    source: Source,
) -> PyResult<(Vec<String>, Vec<String>, LoadErrors)> {
    let projection = Projection::identity();
    let store = {
        let kind = kind.to_string();
        run_interruptible(py, move |_| {
            Python::attach(|py| load(py, &kind, &source, &projection))
        })??
    };
    let get = |d, read: fn(&Value) -> Option<&str>| read(d).unwrap_or_default().to_string();
    let ids = store.docs.iter().map(|d| get(d, resource_id)).collect();
    let types = store.docs.iter().map(|d| get(d, resource_type)).collect();
    let errors = store
        .errors
        .into_iter()
        .map(|e| (e.line, e.message))
        .collect();
    Ok((ids, types, errors))
}

/// Bind each policy with the pack-level parameters it declares, plus any per-policy object
/// given under its id. Returns the bound policies and `(policy id, message)` for failures.
fn bind_all(
    policies: &[PyRef<'_, Policy>],
    params: &Map<String, Value>,
) -> (Vec<BoundPolicy>, Vec<(String, String)>) {
    let mut bound = Vec::with_capacity(policies.len());
    let mut errors = Vec::new();
    for p in policies {
        let def = &p.inner;
        if matches!(def.mode, azsecmap_core::policy::Mode::ResourceProvider(_)) {
            errors.push((
                def.name.clone(),
                format!(
                    "resource-provider mode `{}` is not evaluated",
                    def.mode.as_str()
                ),
            ));
            continue;
        }
        let mut mine = Map::new();
        for (k, v) in params {
            if def
                .parameters
                .iter()
                .any(|d| d.name.eq_ignore_ascii_case(k))
            {
                mine.insert(k.clone(), v.clone());
            }
        }
        if let Some(Value::Object(own)) = params.get(&def.name) {
            for (k, v) in own {
                mine.insert(k.clone(), v.clone());
            }
        }
        match def.bind(&mine) {
            Ok(b) => bound.push(b),
            Err(e) => errors.push((
                def.name.clone(),
                format!("{} (at `{}`)", e.message, e.pointer),
            )),
        }
    }
    (bound, errors)
}

/// A prepared pack, its options, and the policies that could not be bound.
type Prepared = (PreparedPack, BatchOptions, Vec<(String, String)>);

/// Parse parameters and options, bind the policies and prepare the pack.
fn prepare(
    py: Python<'_>,
    policies: Vec<PyRef<'_, Policy>>,
    parameters_json: &str,
    options_json: &str,
) -> PyResult<Prepared> {
    let params: Map<String, Value> = serde_json::from_str(parameters_json).map_err(|e| {
        raise(
            py,
            "PolicyError",
            &format!("parameters must be a JSON object: {e}"),
            Some("/parameters"),
        )
    })?;
    let options_value: Value = serde_json::from_str(options_json).unwrap_or(Value::Null);
    let flag = |k: &str, default: bool| {
        options_value
            .get(k)
            .and_then(Value::as_bool)
            .unwrap_or(default)
    };
    let options = BatchOptions {
        eval: options_from(py, &options_value)?,
        include_not_applicable: flag("include_not_applicable", false),
        only_failing: flag("only_failing", false),
        reasons: flag("reasons", true),
    };
    let (bound, policy_errors) = bind_all(&policies, &params);
    drop(policies);
    Ok((PreparedPack::new(bound), options, policy_errors))
}

/// Stream an NDJSON source (file, bytes or the sample) through the pack.
fn stream_source(
    pack: &PreparedPack,
    source: &Source,
    options: &BatchOptions,
    cancel: &AtomicBool,
    on_block: &mut (dyn FnMut(&Identities, BatchResults) + Send),
) -> StreamOutcome {
    match source {
        Source::Path(p) => std::fs::File::open(p).and_then(|mut f| {
            evaluate_stream(pack, &mut f, BLOCK_BYTES, options, cancel, on_block)
        }),
        Source::Bytes(b) => evaluate_stream(
            pack,
            &mut b.as_slice(),
            BLOCK_BYTES,
            options,
            cancel,
            on_block,
        ),
        Source::Sample((n, seed)) => evaluate_stream(
            pack,
            &mut SampleReader::new(*n, *seed),
            BLOCK_BYTES,
            options,
            cancel,
            on_block,
        ),
    }
}

type StreamOutcome = std::io::Result<Result<StreamSummary, Cancelled>>;

/// Evaluate policies on resources: `(table, load errors, policy errors, resource count)`.
/// NDJSON is evaluated block by block (streaming); a JSON array is read whole.
#[pyfunction]
#[pyo3(signature = (policies, parameters_json, kind, source, options_json))]
pub fn evaluate(
    py: Python<'_>,
    policies: Vec<PyRef<'_, Policy>>,
    parameters_json: &str,
    kind: &str,
    source: Source,
    options_json: &str,
) -> PyResult<EvaluateOutput> {
    let (pack, options, policy_errors) = prepare(py, policies, parameters_json, options_json)?;
    let schema = schema();
    if kind == "json" {
        let store = load(py, kind, &source, &pack.projection)?;
        let (results, store, pack) = run_interruptible(py, move |cancel| {
            let r = evaluate_pack(&pack, &store, &options, cancel);
            (r, store, pack)
        })?;
        let results =
            results.map_err(|_| PyKeyboardInterrupt::new_err("evaluation interrupted"))?;
        let ids = Identities::of_docs(&store.docs);
        let batch = to_batch(&results, &ids, &pack, &schema).map_err(arrow_err)?;
        let table = PyTable::try_new(vec![batch], schema)?;
        let count = store.docs.len();
        let errors = store
            .errors
            .into_iter()
            .map(|e| (e.line, e.message))
            .collect();
        drop((store.docs, results));
        release_free_memory();
        return Ok((table, errors, policy_errors, count));
    }
    let outcome = run_interruptible(py, |cancel| {
        let mut batches = Vec::new();
        let mut arrow_error = None;
        let mut on_block =
            |ids: &Identities, r: BatchResults| match to_batch(&r, ids, &pack, &schema) {
                Ok(b) => batches.push(b),
                Err(e) => arrow_error = Some(e),
            };
        let run = stream_source(&pack, &source, &options, cancel, &mut on_block);
        (run, batches, arrow_error)
    })?;
    let (run, batches, arrow_error) = outcome;
    if let Some(e) = arrow_error {
        return Err(arrow_err(e));
    }
    let summary = match run {
        Err(e) => {
            return Err(raise(
                py,
                "ResourceError",
                &format!("cannot read file: {e}"),
                Some(""),
            ))
        }
        Ok(Err(_)) => return Err(PyKeyboardInterrupt::new_err("evaluation interrupted")),
        Ok(Ok(s)) => s,
    };
    release_free_memory();
    let table = PyTable::try_new(batches, schema)?;
    let errors = summary
        .errors
        .into_iter()
        .map(|e| (e.line, e.message))
        .collect();
    Ok((table, errors, policy_errors, summary.resources))
}

fn arrow_err(e: arrow_schema::ArrowError) -> PyErr {
    PyRuntimeError::new_err(e.to_string())
}

/// Dictionary-encode `values(i)` for the keys in `keys_of`, deduplicating the dictionary.
/// Dictionary keys for one string column of a batch; values are borrowed from the documents
/// and policies for the batch's lifetime and copied once, into the Arrow array.
struct DictBuilder<'a> {
    lookup: foldhash::HashMap<&'a str, u32>,
    values: Vec<&'a str>,
}

impl<'a> DictBuilder<'a> {
    fn new() -> Self {
        Self {
            lookup: foldhash::HashMap::default(),
            values: Vec::new(),
        }
    }

    fn key(&mut self, value: &'a str) -> u32 {
        let next = u32::try_from(self.values.len()).unwrap_or(u32::MAX);
        let k = *self.lookup.entry(value).or_insert(next);
        if k == next {
            self.values.push(value);
        }
        k
    }

    fn finish(self, keys: Vec<u32>) -> Result<ArrayRef, arrow_schema::ArrowError> {
        let dict = DictionaryArray::<UInt32Type>::try_new(
            UInt32Array::from(keys),
            Arc::new(StringArray::from(self.values)),
        )?;
        Ok(Arc::new(dict))
    }
}

fn dict_type(key: DataType) -> DataType {
    DataType::Dictionary(Box::new(key), Box::new(DataType::Utf8))
}

fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("resource_id", dict_type(DataType::UInt32), false),
        Field::new("resource_type", dict_type(DataType::UInt32), false),
        Field::new("policy_id", dict_type(DataType::UInt32), false),
        Field::new("state", dict_type(DataType::UInt8), false),
        Field::new("effect", dict_type(DataType::UInt32), false),
        // A string view column: Polars keeps strings as views, so it takes this one without
        // rewriting every reason.
        Field::new("reason", DataType::Utf8View, true),
    ]))
}

/// One record batch for the rows of `results`, whose resource indices point into `ids`.
fn to_batch(
    results: &BatchResults,
    ids_of: &Identities,
    pack: &PreparedPack,
    schema: &Arc<Schema>,
) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let n = results.len();
    let mut ids = DictBuilder::new();
    let mut types = DictBuilder::new();
    let mut id_key: Vec<Option<(u32, u32)>> = vec![None; ids_of.len()];
    let mut policy_ids = DictBuilder::new();
    let mut effects = DictBuilder::new();
    let policy_key: Vec<(u32, u32)> = pack
        .entries
        .iter()
        .map(|e| {
            (
                policy_ids.key(&e.policy.definition.name),
                effects.key(&e.policy.effect),
            )
        })
        .collect();
    let mut k_id = Vec::with_capacity(n);
    let mut k_type = Vec::with_capacity(n);
    let mut k_policy = Vec::with_capacity(n);
    let mut k_effect = Vec::with_capacity(n);
    for (&r, &p) in results.resource.iter().zip(&results.policy) {
        let (ki, kt) = match id_key.get_mut(r as usize) {
            Some(Some(k)) => *k,
            Some(slot) => {
                let (id, resource_type) = ids_of.get(r as usize).unwrap_or_default();
                let k = (ids.key(id), types.key(resource_type));
                *slot = Some(k);
                k
            }
            None => (0, 0),
        };
        k_id.push(ki);
        k_type.push(kt);
        let (kp, ke) = policy_key.get(p as usize).copied().unwrap_or((0, 0));
        k_policy.push(kp);
        k_effect.push(ke);
    }
    let states: Vec<&str> = State::ALL.iter().map(|s| s.as_str()).collect();
    let state = DictionaryArray::<UInt8Type>::try_new(
        UInt8Array::from(results.state.iter().map(|s| *s as u8).collect::<Vec<u8>>()),
        Arc::new(StringArray::from(states)),
    )?;
    // Reasons repeat heavily (the same deciding values on many resources): equal texts share
    // one copy in the view buffers, which Polars takes as they are.
    let mut reason = StringViewBuilder::with_capacity(n).with_deduplicate_strings();
    for r in &results.reason {
        match r {
            Some(text) => reason.try_append_value(text)?,
            None => reason.append_null(),
        }
    }
    let reason = reason.finish();
    let columns: Vec<ArrayRef> = vec![
        ids.finish(k_id)?,
        types.finish(k_type)?,
        policy_ids.finish(k_policy)?,
        Arc::new(state),
        effects.finish(k_effect)?,
        Arc::new(reason),
    ];
    RecordBatch::try_new(schema.clone(), columns)
}

/// `(documents, bytes, counts by type)` of a written sample.
type SampleOutput = (u64, u64, Vec<(String, u64)>);

/// Write the sample tenant of `n` resources (seed `seed`) as NDJSON to `path`, generating in
/// parallel; returns `(documents, bytes, counts by type)`.
#[pyfunction]
pub fn write_sample(py: Python<'_>, path: &str, n: usize, seed: u64) -> PyResult<SampleOutput> {
    use rayon::prelude::*;
    use std::io::Write;
    let path = path.to_string();
    let outcome = run_interruptible(
        py,
        move |cancel| -> std::io::Result<azsecmap_core::sample::SampleStats> {
            let file = std::fs::File::create(&path)?;
            let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
            let mut stats = azsecmap_core::sample::SampleStats::default();
            const CHUNK: usize = 4096;
            let mut start = 0;
            while start < n {
                if cancel.load(Ordering::Relaxed) {
                    return Err(std::io::Error::other("interrupted"));
                }
                let end = (start + CHUNK * 32).min(n);
                let parts: Vec<(Vec<u8>, azsecmap_core::sample::SampleStats)> = (start..end)
                    .step_by(CHUNK)
                    .collect::<Vec<_>>()
                    .into_par_iter()
                    .map(|s| {
                        let mut buf = Vec::new();
                        let st = azsecmap_core::sample::write_range(
                            s..(s + CHUNK).min(end),
                            seed,
                            &mut buf,
                        );
                        (buf, st)
                    })
                    .collect();
                for (buf, st) in parts {
                    out.write_all(&buf)?;
                    stats.merge(&st);
                }
                start = end;
            }
            out.flush()?;
            Ok(stats)
        },
    )?;
    let stats = outcome.map_err(|e| {
        raise(
            py,
            "ResourceError",
            &format!("cannot write the sample: {e}"),
            Some(""),
        )
    })?;
    let by_type = stats
        .by_type()
        .into_iter()
        .map(|(t, c)| (t.to_string(), c))
        .collect();
    Ok((stats.documents, stats.bytes, by_type))
}

/// `(load errors, policy errors, resources evaluated)` of a finished stream.
type StreamSummaryOut = (LoadErrors, Vec<(String, String)>, usize);

enum StreamMsg {
    Batch(RecordBatch),
    Done(Result<(LoadErrors, usize), String>),
}

/// Results delivered block by block while the evaluation runs on a worker thread; a bounded
/// channel keeps at most a few blocks of results in memory.
#[pyclass(module = "azsecmap._core")]
pub struct ResultStream {
    rx: std::sync::Mutex<std::sync::mpsc::Receiver<StreamMsg>>,
    cancel: Arc<AtomicBool>,
    schema: Arc<Schema>,
    policy_errors: Vec<(String, String)>,
    done: Option<(LoadErrors, usize)>,
}

#[pymethods]
impl ResultStream {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// The next block of results as an Arrow table, or `StopIteration` at the end.
    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<PyTable>> {
        if self.done.is_some() {
            return Ok(None);
        }
        let rx = &self.rx;
        let msg = py.detach(|| loop {
            let guard = match rx.lock() {
                Ok(g) => g,
                Err(_) => return None,
            };
            match guard.recv_timeout(Duration::from_millis(50)) {
                Ok(m) => return Some(Ok(m)),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    drop(guard);
                    if Python::attach(|py| py.check_signals()).is_err() {
                        return Some(Err(()));
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return None,
            }
        });
        match msg {
            Some(Ok(StreamMsg::Batch(b))) => {
                Ok(Some(PyTable::try_new(vec![b], self.schema.clone())?))
            }
            Some(Ok(StreamMsg::Done(Ok(summary)))) => {
                self.done = Some(summary);
                Ok(None)
            }
            Some(Ok(StreamMsg::Done(Err(e)))) => {
                self.done = Some((Vec::new(), 0));
                Err(raise(py, "ResourceError", &e, Some("")))
            }
            Some(Err(())) => {
                self.cancel.store(true, Ordering::Relaxed);
                Err(PyKeyboardInterrupt::new_err("evaluation interrupted"))
            }
            None => Err(PyRuntimeError::new_err(
                "internal error in the azsecmap engine (the worker stopped)",
            )),
        }
    }

    /// `(load errors, policy errors, resources evaluated)`, once the stream is exhausted.
    fn summary(&self) -> Option<StreamSummaryOut> {
        self.done
            .as_ref()
            .map(|(e, n)| (e.clone(), self.policy_errors.clone(), *n))
    }
}

impl Drop for ResultStream {
    fn drop(&mut self) {
        // Stop the worker if the caller abandons the stream.
        self.cancel.store(true, Ordering::Relaxed);
    }
}

/// Start a streaming evaluation of NDJSON (file, bytes or sample); see [`ResultStream`].
#[pyfunction]
#[pyo3(signature = (policies, parameters_json, kind, source, options_json))]
pub fn evaluate_stream_start(
    py: Python<'_>,
    policies: Vec<PyRef<'_, Policy>>,
    parameters_json: &str,
    kind: &str,
    source: Source,
    options_json: &str,
) -> PyResult<ResultStream> {
    if kind != "ndjson" && kind != "sample" {
        return Err(raise(
            py,
            "ResourceError",
            "streaming needs NDJSON input (a file, records or the sample)",
            Some(""),
        ));
    }
    let (pack, options, policy_errors) = prepare(py, policies, parameters_json, options_json)?;
    let schema = schema();
    let (tx, rx) = std::sync::mpsc::sync_channel::<StreamMsg>(2);
    let cancel = Arc::new(AtomicBool::new(false));
    let worker_cancel = cancel.clone();
    let worker_schema = schema.clone();
    std::thread::spawn(move || {
        let run = catch_unwind(AssertUnwindSafe(|| {
            let mut on_block = |ids: &Identities, r: BatchResults| {
                if let Ok(b) = to_batch(&r, ids, &pack, &worker_schema) {
                    // A closed channel means the caller went away; the cancel flag stops us.
                    let _ = tx.send(StreamMsg::Batch(b));
                }
            };
            let outcome = stream_source(&pack, &source, &options, &worker_cancel, &mut on_block);
            match outcome {
                Ok(Ok(s)) => Ok((
                    s.errors.into_iter().map(|e| (e.line, e.message)).collect(),
                    s.resources,
                )),
                Ok(Err(_)) => Err("evaluation cancelled".to_string()),
                Err(e) => Err(format!("cannot read file: {e}")),
            }
        }));
        let done = run.unwrap_or_else(|_| Err("internal error in the azsecmap engine".to_string()));
        let _ = tx.send(StreamMsg::Done(done));
    });
    Ok(ResultStream {
        rx: std::sync::Mutex::new(rx),
        cancel,
        schema,
        policy_errors,
        done: None,
    })
}
