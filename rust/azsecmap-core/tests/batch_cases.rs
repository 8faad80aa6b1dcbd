//! Runs the multi-resource case corpus (`tests/cases/batch/*.json`) through the batch engine:
//! resources go through the pack's projection, as in production. pytest runs the same files
//! through `azsecmap.evaluate`.

// Tests may abort on malformed fixtures.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{data_dir, repo_root};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use azsecmap_core::batch::store::ResourceStore;
use azsecmap_core::batch::{evaluate_pack, evaluate_stream, BatchOptions, PreparedPack};
use azsecmap_core::policy::PolicyDefinition;
use serde_json::Value;

/// The default pack's rule named `id`, as embedded in the library (not read from the tree).
fn bundled_rule(id: &str) -> Option<Value> {
    azsecmap_core::default_pack::default_rules()
        .iter()
        .filter_map(|(_, text)| serde_json::from_str::<Value>(text).ok())
        .find(|doc| doc["name"] == id)
}

fn run(case: &Value, data: Option<&Path>) -> Result<Option<Vec<String>>, String> {
    let policy = match (
        case.get("policy"),
        case.get("policy_file").and_then(Value::as_str),
    ) {
        _ if case.get("rule").is_some() => {
            let id = case["rule"].as_str().ok_or("`rule` is not a string")?;
            bundled_rule(id).ok_or_else(|| format!("no bundled rule `{id}`"))?
        }
        (Some(p), _) => p.clone(),
        (None, Some(rel)) => {
            let Some(d) = data else { return Ok(None) };
            serde_json::from_str(&std::fs::read_to_string(d.join(rel)).map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?
        }
        _ => return Err("no policy".into()),
    };
    let def = PolicyDefinition::from_value(&policy, "case").map_err(|e| e.to_string())?;
    let params = case
        .get("parameters")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let bound = def.bind(&params).map_err(|e| e.to_string())?;
    let pack = PreparedPack::new(vec![bound]);
    let mut ndjson = Vec::new();
    for r in case["resources"].as_array().ok_or("no resources")? {
        ndjson.extend(serde_json::to_vec(r).unwrap());
        ndjson.push(b'\n');
    }
    let mut store = ResourceStore::default();
    store.extend_ndjson(&ndjson, 1, &pack.projection);
    if !store.errors.is_empty() {
        return Err(format!("load errors: {:?}", store.errors));
    }
    let options = BatchOptions {
        include_not_applicable: true,
        ..BatchOptions::default()
    };
    let results =
        evaluate_pack(&pack, &store, &options, &AtomicBool::new(false)).map_err(|_| "cancelled")?;
    // The streaming path (one line per block, existence checks deferred) must agree.
    let mut streamed: Vec<(String, &'static str)> = Vec::new();
    evaluate_stream(
        &pack,
        &mut ndjson.as_slice(),
        1,
        &options,
        &AtomicBool::new(false),
        &mut |ids, r| {
            for i in 0..r.len() {
                let id = ids.get(r.resource[i] as usize).unwrap().0.to_string();
                streamed.push((id, r.state[i].as_str()));
            }
        },
    )
    .map_err(|e| e.to_string())?
    .map_err(|_| "cancelled")?;
    let mut in_memory: Vec<(String, &'static str)> = (0..results.len())
        .map(|i| {
            (
                store.docs[results.resource[i] as usize]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                results.state[i].as_str(),
            )
        })
        .collect();
    streamed.sort();
    in_memory.sort();
    if streamed != in_memory {
        return Ok(Some(vec![format!(
            "streaming disagrees: {streamed:?} vs {in_memory:?}"
        )]));
    }
    let expected = case["expected"].as_object().ok_or("no expected")?;
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for i in 0..results.len() {
        let doc = &store.docs[results.resource[i] as usize];
        let id = doc["id"].as_str().unwrap_or_default().to_string();
        let got = results.state[i].as_str();
        seen.insert(id.clone());
        match expected.get(&id).and_then(Value::as_str) {
            Some(want) if want == got => {}
            Some(want) => problems.push(format!(
                "`{id}`: expected {want}, got {got} ({})",
                results.reason[i].clone().unwrap_or_default()
            )),
            None => problems.push(format!("`{id}`: not in expected (got {got})")),
        }
    }
    for id in expected.keys() {
        if !seen.contains(id) {
            problems.push(format!("`{id}`: no result row"));
        }
    }
    Ok(Some(problems))
}

#[test]
fn batch_case_corpus() {
    // The batch corpus, and the default rule pack's cases (each names a bundled rule).
    let mut files: Vec<PathBuf> = ["tests/cases/batch", "tests/cases/rules"]
        .iter()
        .flat_map(|dir| {
            std::fs::read_dir(repo_root().join(dir))
                .map(|d| {
                    d.flatten()
                        .map(|e| e.path())
                        .filter(|p| p.extension().is_some_and(|x| x == "json"))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
        .collect();
    files.sort();
    let data = data_dir("azure-policy");
    let (mut passed, mut skipped) = (0, 0);
    let mut failures = Vec::new();
    for f in &files {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        for case in doc["cases"].as_array().unwrap() {
            let name = format!(
                "{}::{}",
                f.file_name().unwrap().to_string_lossy(),
                case["name"].as_str().unwrap_or("?")
            );
            match run(case, data.as_deref()) {
                Ok(None) => skipped += 1,
                Ok(Some(p)) if p.is_empty() => passed += 1,
                Ok(Some(p)) => failures.push(format!("{name}:\n    {}", p.join("\n    "))),
                Err(e) => failures.push(format!("{name}: {e}")),
            }
        }
    }
    println!(
        "batch corpus: {passed} passed, {} failed, {skipped} skipped (no ../shared/data)",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The type gate leaves results unchanged: resources of a type no policy can apply to keep
/// only `id` and `type` (see `batch::stream::tests`), and a document with two `type` members is
/// read whole, so the last `type` decides.
#[test]
fn type_gate_leaves_results_unchanged() {
    let def = PolicyDefinition::from_value(
        &serde_json::json!({"if": {"allOf": [
            {"field": "type", "equals": "Microsoft.Storage/storageAccounts"},
            {"field": "Microsoft.Storage/storageAccounts/supportsHttpsTrafficOnly", "equals": false}
        ]}, "then": {"effect": "audit"}}),
        "gate",
    )
    .unwrap();
    let pack = PreparedPack::new(vec![def.bind(&serde_json::Map::new()).unwrap()]);
    let ndjson = GATE_LINES.join("\n");
    let mut flagged: Vec<(String, String)> = Vec::new();
    let mut seen = 0u32;
    let options = BatchOptions::default();
    evaluate_stream(
        &pack,
        &mut ndjson.as_bytes(),
        1 << 20,
        &options,
        &AtomicBool::new(false),
        &mut |ids, r| {
            for &i in &r.resource {
                let (id, t) = ids.get(i as usize).unwrap();
                flagged.push((id.to_string(), t.to_string()));
            }
            seen += ids.len() as u32;
        },
    )
    .unwrap()
    .unwrap();
    assert_eq!(seen, 4);
    assert_eq!(
        flagged,
        [
            (
                "/s/sa".to_string(),
                "Microsoft.Storage/storageAccounts".to_string()
            ),
            (
                "/s/dup".to_string(),
                "Microsoft.Storage/storageAccounts".to_string()
            ),
        ]
    );
}

/// Documents for the type-gate tests: a storage account, two resources of types no policy can
/// apply to (with `type` before and after other members), and a document with two `type`
/// members.
const GATE_LINES: [&str; 4] = [
    r#"{"id":"/s/sa","type":"Microsoft.Storage/storageAccounts","properties":{"supportsHttpsTrafficOnly":false}}"#,
    r#"{"id":"/s/ra","properties":{"supportsHttpsTrafficOnly":false},"type":"Microsoft.Authorization/roleAssignments","name":"ra"}"#,
    r#"{"id":"/s/kv","type":"Microsoft.KeyVault/vaults","properties":{"supportsHttpsTrafficOnly":false},"tags":{"a":"b"}}"#,
    r#"{"id":"/s/dup","type":"Microsoft.KeyVault/vaults","properties":{"supportsHttpsTrafficOnly":false},"type":"Microsoft.Storage/storageAccounts"}"#,
];
