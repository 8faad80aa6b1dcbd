//! Criterion benches for the engine, on a release build (`cargo bench -p azsecmap-core`).
//!
//! - `compile`: every built-in definition whose mode is `All` or `Indexed`, compiled from an
//!   already parsed `serde_json::Value` (`PolicyDefinition::from_value`) and from text
//!   (`from_json_str`, JSON parsing included). One iteration compiles the whole set.
//! - `evaluate`: the built-ins that bind with their defaults × the ARM resource documents in
//!   `arm-resources/`, keeping only the pairs whose `if` is evaluated (the mode applies, the
//!   effect is not `disabled`, no evaluation error); with and without reasons. `targeted` is
//!   the subset whose rule names the resource's type, the pairs that get past the type check.
//! - `focused`: hand-made single-pair cases that isolate one construct.
//!
//! The data is `$AZSECMAP_DATA` or `../shared/data` beside the repository. Without it, a
//! small embedded set of our own definitions and resources stands in, and the output says so.
//! At the end a summary gives each bench's median as ns per item and items per second.

// Benches may abort on setup failure (missing or malformed data): unwrap/expect/panic and
// indexing are fine here, unlike in the library.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::{data_dir, json_files};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use azsecmap_core::policy::{BoundPolicy, Mode, PolicyDefinition};
use azsecmap_core::EvalOptions;
use criterion::{criterion_group, Criterion, Throughput};
use serde_json::{json, Map, Value};

/// (group, id, items per iteration, what an item is) of every bench registered, for the summary.
static REGISTERED: Mutex<Vec<(String, String, u64, &'static str)>> = Mutex::new(Vec::new());

fn register(group: &str, id: &str, items: u64, unit: &'static str) {
    REGISTERED
        .lock()
        .unwrap()
        .push((group.to_string(), id.to_string(), items, unit));
}

/// Criterion's options that take a value (`--name value`), to tell them from the filter.
const VALUE_OPTIONS: &[&str] = &[
    "--save-baseline",
    "-s",
    "--baseline",
    "-b",
    "--baseline-lenient",
    "--load-baseline",
    "--sample-size",
    "--warm-up-time",
    "--measurement-time",
    "--nresamples",
    "--noise-threshold",
    "--confidence-level",
    "--significance-level",
    "--profile-time",
    "--plotting-backend",
    "--output-format",
    "--color",
    "-c",
    "--format",
];

/// Whether the command-line filter selects any of `ids` (`group/function`, matched as
/// Criterion does, by regex search). A group's setup (the whole corpus, ~10 s) is skipped when
/// none is selected, so `cargo bench -- focused` starts at once; Criterion still applies the
/// filter itself.
fn selected(ids: &[&str]) -> bool {
    let mut args = std::env::args().skip(1);
    let mut filters = Vec::new();
    while let Some(a) = args.next() {
        if a.starts_with('-') {
            if VALUE_OPTIONS.contains(&a.as_str()) {
                args.next();
            }
        } else {
            filters.push(a);
        }
    }
    filters.is_empty()
        || filters
            .iter()
            .any(|f| regex::Regex::new(f).map_or(true, |re| ids.iter().any(|id| re.is_match(id))))
}

/// A definition as loaded: its fallback name, its text and its parsed document.
struct Source {
    name: String,
    text: String,
    doc: Value,
}

struct Corpus {
    definitions: Vec<Source>,
    resources: Vec<(String, Value)>,
    embedded: bool,
}

fn load_corpus() -> Corpus {
    let Some(data) = data_dir("azure-policy") else {
        eprintln!(
            "NOTE: shared data not found (set AZSECMAP_DATA); benching a small EMBEDDED set of \
             our own definitions and resources instead of the built-ins"
        );
        return embedded_corpus();
    };
    let mut files = Vec::new();
    json_files(&data.join("azure-policy/policyDefinitions"), &mut files);
    files.sort();
    let mut definitions = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        let mode = doc
            .pointer("/properties/mode")
            .and_then(Value::as_str)
            .unwrap_or("");
        if mode.eq_ignore_ascii_case("all") || mode.eq_ignore_ascii_case("indexed") {
            let name = f.file_stem().unwrap().to_string_lossy().into_owned();
            definitions.push(Source { name, text, doc });
        }
    }
    // The 28 provider resource documents (the Resource Graph samples at the top are envelopes).
    let mut files = Vec::new();
    json_files(&data.join("arm-resources"), &mut files);
    files.sort();
    let root = data.join("arm-resources");
    let resources = files
        .into_iter()
        .filter(|f| f.parent() != Some(root.as_path()))
        .map(|f| {
            let doc: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
            let rel = f.strip_prefix(&root).unwrap().display().to_string();
            (rel, doc)
        })
        .collect();
    Corpus {
        definitions,
        resources,
        embedded: false,
    }
}

fn embedded_corpus() -> Corpus {
    let docs = [
        ("secure-transfer", secure_transfer_rule()),
        ("nsg-any-inbound", nsg_wildcard_rule()),
        ("nsg-count-internet", nsg_count_rule()),
        ("value-functions", value_functions_rule()),
        (
            "allowed-locations",
            json!({"properties": {"mode": "Indexed", "parameters": {
                "listOfAllowedLocations": {"type": "Array", "defaultValue": ["westeurope", "northeurope"]},
                "effect": {"type": "String", "defaultValue": "Deny"}},
              "policyRule": {"if": {"allOf": [
                {"field": "location", "notIn": "[parameters('listOfAllowedLocations')]"},
                {"field": "location", "notEquals": "global"}]},
              "then": {"effect": "[parameters('effect')]"}}}}),
        ),
        (
            "require-tag",
            json!({"properties": {"mode": "Indexed", "parameters": {
                "tagName": {"type": "String", "defaultValue": "costCenter"}},
              "policyRule": {"if": {"field": "[concat('tags[', parameters('tagName'), ']')]", "exists": "false"},
              "then": {"effect": "audit"}}}}),
        ),
    ];
    let definitions = docs
        .into_iter()
        .map(|(name, doc)| Source {
            name: name.to_string(),
            text: doc.to_string(),
            doc,
        })
        .collect();
    let resources = vec![
        ("storage".to_string(), storage_account(false)),
        ("nsg-50".to_string(), nsg_with_rules(50)),
    ];
    Corpus {
        definitions,
        resources,
        embedded: true,
    }
}

// ---- focused cases ----------------------------------------------------------------------

fn secure_transfer_rule() -> Value {
    json!({"properties": {"mode": "Indexed", "policyRule": {
        "if": {"field": "Microsoft.Storage/storageAccounts/supportsHttpsTrafficOnly", "equals": "false"},
        "then": {"effect": "audit"}}}})
}

/// `[*]`: every inbound rule must come from somewhere other than `*` (true for all 50, so
/// every member is read).
fn nsg_wildcard_rule() -> Value {
    json!({"properties": {"mode": "All", "policyRule": {
        "if": {"field": "Microsoft.Network/networkSecurityGroups/securityRules[*].sourceAddressPrefix",
               "notEquals": "*"},
        "then": {"effect": "audit"}}}})
}

/// `count` with `where` over every member: the shape of "RDP/SSH from the Internet" rules.
fn nsg_count_rule() -> Value {
    json!({"properties": {"mode": "All", "policyRule": {
        "if": {"count": {
            "field": "Microsoft.Network/networkSecurityGroups/securityRules[*]",
            "where": {"allOf": [
                {"field": "Microsoft.Network/networkSecurityGroups/securityRules[*].access", "equals": "Allow"},
                {"field": "Microsoft.Network/networkSecurityGroups/securityRules[*].direction", "equals": "Inbound"},
                {"field": "Microsoft.Network/networkSecurityGroups/securityRules[*].sourceAddressPrefix",
                 "in": ["*", "Internet", "0.0.0.0/0"]}
            ]}},
            "greater": 0},
        "then": {"effect": "audit"}}}})
}

/// A `value` condition built from template functions over the resource and its context.
fn value_functions_rule() -> Value {
    json!({"properties": {"mode": "All", "parameters": {
            "prefix": {"type": "String", "defaultValue": "sto"}},
        "policyRule": {"if": {"allOf": [
            {"value": "[toLower(substring(field('name'), 0, 3))]", "equals": "[parameters('prefix')]"},
            {"value": "[length(split(field('id'), '/'))]", "greaterOrEquals": 9},
            {"value": "[concat(resourceGroup().name, '-', toUpper(field('location')))]", "notEquals": ""}
        ]},
        "then": {"effect": "audit"}}}})
}

fn storage_account(https_only: bool) -> Value {
    json!({
        "id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/providers/Microsoft.Storage/storageAccounts/sto8596",
        "name": "sto8596",
        "type": "Microsoft.Storage/storageAccounts",
        "location": "eastus2",
        "kind": "StorageV2",
        "sku": {"name": "Standard_GRS", "tier": "Standard"},
        "tags": {"key1": "value1"},
        "properties": {
            "supportsHttpsTrafficOnly": https_only,
            "minimumTlsVersion": "TLS1_2",
            "allowBlobPublicAccess": false,
            "networkAcls": {"bypass": "AzureServices", "defaultAction": "Allow", "ipRules": []}
        }
    })
}

/// An NSG with `n` security rules, none of them open to `*`.
fn nsg_with_rules(n: usize) -> Value {
    let base = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/providers/Microsoft.Network/networkSecurityGroups/nsg1";
    let rules: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "name": format!("rule{i}"),
                "id": format!("{base}/securityRules/rule{i}"),
                "properties": {
                    "protocol": "Tcp",
                    "sourcePortRange": "*",
                    "destinationPortRange": format!("{}", 1000 + i),
                    "sourceAddressPrefix": format!("10.0.{i}.0/24"),
                    "destinationAddressPrefix": "*",
                    "access": if i % 2 == 0 { "Allow" } else { "Deny" },
                    "priority": 100 + i,
                    "direction": "Inbound"
                }
            })
        })
        .collect();
    json!({
        "id": base,
        "name": "nsg1",
        "type": "Microsoft.Network/networkSecurityGroups",
        "location": "westeurope",
        "properties": {"securityRules": rules}
    })
}

fn bind_defaults(doc: &Value, name: &str) -> BoundPolicy {
    PolicyDefinition::from_value(doc, name)
        .unwrap()
        .bind(&Map::new())
        .unwrap()
}

// ---- benches ----------------------------------------------------------------------------

fn bench_compile(c: &mut Criterion) {
    if !selected(&["compile/from_value", "compile/from_json_str"]) {
        return;
    }
    let corpus = load_corpus();
    let n = corpus.definitions.len() as u64;
    let failures = corpus
        .definitions
        .iter()
        .filter(|s| PolicyDefinition::from_value(&s.doc, &s.name).is_err())
        .count();
    eprintln!(
        "compile: {n} All/Indexed definitions{} ({failures} fail to compile; their cost counts too)",
        if corpus.embedded { " (EMBEDDED set)" } else { "" }
    );
    let mut g = c.benchmark_group("compile");
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(n));
    register("compile", "from_value", n, "definition");
    g.bench_function("from_value", |b| {
        b.iter(|| {
            for s in &corpus.definitions {
                let _ = black_box(PolicyDefinition::from_value(black_box(&s.doc), &s.name));
            }
        });
    });
    register("compile", "from_json_str", n, "definition");
    g.bench_function("from_json_str", |b| {
        b.iter(|| {
            for s in &corpus.definitions {
                let _ = black_box(PolicyDefinition::from_json_str(black_box(&s.text), &s.name));
            }
        });
    });
    g.finish();
}

fn bench_evaluate(c: &mut Criterion) {
    if !selected(&[
        "evaluate/all_pairs_reasons_off",
        "evaluate/all_pairs_reasons_on",
        "evaluate/targeted_reasons_off",
        "evaluate/targeted_reasons_on",
    ]) {
        return;
    }
    let corpus = load_corpus();
    let options = EvalOptions::default();
    let mut bound = Vec::new();
    let mut needs_params = 0;
    for s in &corpus.definitions {
        let Ok(def) = PolicyDefinition::from_value(&s.doc, &s.name) else {
            continue;
        };
        if matches!(def.mode, Mode::ResourceProvider(_)) {
            continue;
        }
        match def.bind(&Map::new()) {
            Ok(b) => {
                // The rule's text, lower-cased, to find the pairs whose rule names the type.
                let rule = s
                    .doc
                    .pointer("/properties/policyRule/if")
                    .map(|v| v.to_string().to_ascii_lowercase())
                    .unwrap_or_default();
                bound.push((b, rule));
            }
            Err(_) => needs_params += 1,
        }
    }
    let (mut skipped_mode, mut skipped_disabled, mut errors) = (0usize, 0usize, 0usize);
    let mut pairs: Vec<(&BoundPolicy, &Value)> = Vec::new();
    let mut targeted: Vec<(&BoundPolicy, &Value)> = Vec::new();
    let mut matched = 0usize;
    for (b, rule) in &bound {
        for (_, r) in &corpus.resources {
            match b.decide(r, &options, false) {
                Ok(d) if !d.applicable => skipped_mode += 1,
                Ok(d) if d.note.is_some() => skipped_disabled += 1,
                Ok(d) => {
                    matched += usize::from(d.matched);
                    pairs.push((b, r));
                    let ty = r
                        .get("type")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_ascii_lowercase();
                    if !ty.is_empty() && rule.contains(&format!("\"{ty}")) {
                        targeted.push((b, r));
                    }
                }
                Err(_) => errors += 1,
            }
        }
    }
    eprintln!(
        "evaluate: {} definitions bind with defaults ({needs_params} need parameter values) x {} \
         resources{}: {} pairs evaluated ({matched} matched), {} whose rule names the resource \
         type; left out: {skipped_mode} not applicable (mode), {skipped_disabled} effect \
         disabled, {errors} evaluation errors",
        bound.len(),
        corpus.resources.len(),
        if corpus.embedded {
            " (EMBEDDED set)"
        } else {
            ""
        },
        pairs.len(),
        targeted.len(),
    );

    let mut g = c.benchmark_group("evaluate");
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8));
    for (set_name, set) in [("all_pairs", &pairs), ("targeted", &targeted)] {
        if set.is_empty() {
            continue;
        }
        let n = set.len() as u64;
        g.throughput(Throughput::Elements(n));
        for reasons in [false, true] {
            let id = format!("{set_name}_reasons_{}", if reasons { "on" } else { "off" });
            register("evaluate", &id, n, "pair");
            g.bench_function(id.as_str(), |b| {
                b.iter(|| {
                    for (p, r) in set.iter() {
                        let _ = black_box(p.decide(black_box(r), &options, reasons));
                    }
                });
            });
        }
    }
    g.finish();
}

fn bench_focused(c: &mut Criterion) {
    let options = EvalOptions::default();
    let storage = storage_account(false);
    let nsg = nsg_with_rules(50);
    let cases: [(&str, BoundPolicy, &Value, bool); 4] = [
        (
            "field_equals",
            bind_defaults(&secure_transfer_rule(), "secure-transfer"),
            &storage,
            true,
        ),
        (
            "wildcard_50",
            bind_defaults(&nsg_wildcard_rule(), "nsg-any-inbound"),
            &nsg,
            true,
        ),
        (
            "count_where_50",
            bind_defaults(&nsg_count_rule(), "nsg-count-internet"),
            &nsg,
            false,
        ),
        (
            "value_functions",
            bind_defaults(&value_functions_rule(), "value-functions"),
            &storage,
            true,
        ),
    ];
    let mut g = c.benchmark_group("focused");
    g.sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .throughput(Throughput::Elements(1));
    for (name, policy, resource, expect) in &cases {
        // A bench that measures an error path or the wrong branch measures nothing useful.
        let d = policy.decide(resource, &options, false).unwrap();
        assert_eq!(d.matched, *expect, "{name}: unexpected outcome {d:?}");
        for reasons in [false, true] {
            let id = format!("{name}_reasons_{}", if reasons { "on" } else { "off" });
            register("focused", &id, 1, "pair");
            g.bench_function(id.as_str(), |b| {
                b.iter(|| black_box(policy.decide(black_box(resource), &options, reasons)));
            });
        }
    }
    g.finish();
}

// ---- summary ----------------------------------------------------------------------------

fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
        .join("criterion")
}

/// Print each bench's median per item, from the estimates Criterion wrote in this run.
fn summary(started: SystemTime) {
    let dir = criterion_dir();
    let mut lines = Vec::new();
    for (group, id, items, unit) in REGISTERED.lock().unwrap().iter() {
        let file = dir.join(group).join(id).join("new/estimates.json");
        let fresh = std::fs::metadata(&file)
            .and_then(|m| m.modified())
            .is_ok_and(|t| t >= started);
        if !fresh {
            continue; // filtered out, or run with --test/--list
        }
        let est: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let Some(median_ns) = est
            .pointer("/median/point_estimate")
            .and_then(Value::as_f64)
        else {
            continue;
        };
        let per = median_ns / *items as f64;
        lines.push(format!(
            "{:<40} {:>7} {unit}s  median {:>12}/iter  {:>10.0} ns/{unit}  {:>12.0} {unit}s/s",
            format!("{group}/{id}"),
            items,
            fmt_ns(median_ns),
            per,
            1e9 / per,
        ));
    }
    if !lines.is_empty() {
        println!("\nsummary (medians, one core):");
        for l in lines {
            println!("  {l}");
        }
    }
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

criterion_group!(benches, bench_compile, bench_evaluate, bench_focused);

fn main() {
    let started = SystemTime::now();
    benches();
    Criterion::default().configure_from_args().final_summary();
    summary(started);
}
