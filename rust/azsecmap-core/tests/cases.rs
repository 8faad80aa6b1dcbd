//! Runs the shared case corpus (`tests/cases/**/*.json` at the repository root) through the
//! engine. pytest runs the same files through the Python API.

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

use azsecmap_core::policy::PolicyDefinition;
use azsecmap_core::EvalOptions;
use serde_json::{Map, Value};

fn case_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            // Multi-resource cases (batch, and the default rule pack's) have their own runner.
            if p.file_name().is_some_and(|n| n == "batch" || n == "rules") {
                continue;
            }
            case_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
}

/// RFC 7386 JSON merge patch.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in patch_map {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

enum Outcome {
    Decided {
        matched: bool,
        effect: Option<String>,
    },
    PolicyError(String),
    EvalError(String),
}

fn run_case(case: &Value, data: Option<&Path>) -> Result<Option<Outcome>, String> {
    let load = |key: &str| -> Result<Option<Value>, String> {
        match case.get(key).and_then(Value::as_str) {
            None => Ok(None),
            Some(rel) => {
                let Some(d) = data else {
                    return Err("skip".into());
                };
                let text =
                    std::fs::read_to_string(d.join(rel)).map_err(|e| format!("{rel}: {e}"))?;
                serde_json::from_str(&text)
                    .map(Some)
                    .map_err(|e| format!("{rel}: {e}"))
            }
        }
    };
    let policy = match case.get("policy") {
        Some(p) => p.clone(),
        None => match load("policy_file") {
            Ok(Some(p)) => p,
            Ok(None) => return Err("case has no policy".into()),
            Err(e) if e == "skip" => return Ok(None),
            Err(e) => return Err(e),
        },
    };
    let mut resource = match case.get("resource") {
        Some(r) => r.clone(),
        None => match load("resource_file") {
            Ok(Some(r)) => r,
            Ok(None) => return Err("case has no resource".into()),
            Err(e) if e == "skip" => return Ok(None),
            Err(e) => return Err(e),
        },
    };
    if let Some(patch) = case.get("resource_patch") {
        merge_patch(&mut resource, patch);
    }
    let params = case
        .get("parameters")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut options = EvalOptions::default();
    if let Some(now) = case.get("now").and_then(Value::as_str) {
        options.now = chrono::DateTime::parse_from_rfc3339(now)
            .map_err(|e| format!("bad `now`: {e}"))?
            .with_timezone(&chrono::Utc);
    }
    let def = match PolicyDefinition::from_value(&policy, "case") {
        Ok(d) => d,
        Err(e) => return Ok(Some(Outcome::PolicyError(e.to_string()))),
    };
    if let azsecmap_core::policy::Mode::ResourceProvider(m) = &def.mode {
        return Ok(Some(Outcome::PolicyError(format!("unsupported mode {m}"))));
    }
    let bound = match def.bind(&params) {
        Ok(b) => b,
        Err(e) => return Ok(Some(Outcome::PolicyError(e.to_string()))),
    };
    Ok(Some(match bound.decide(&resource, &options, true) {
        Ok(d) => Outcome::Decided {
            matched: d.matched,
            effect: d.effect,
        },
        Err(e) => Outcome::EvalError(e.to_string()),
    }))
}

#[test]
fn case_corpus() {
    let mut files = Vec::new();
    case_files(&repo_root().join("tests/cases"), &mut files);
    let data = data_dir("azure-policy");
    let (mut passed, mut skipped) = (0usize, 0usize);
    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let doc: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let cases = doc["cases"]
            .as_array()
            .unwrap_or_else(|| panic!("{}: no `cases`", file.display()));
        for case in cases {
            let name = format!(
                "{}::{}",
                file.strip_prefix(repo_root()).unwrap_or(file).display(),
                case["name"].as_str().unwrap_or("?")
            );
            let expected = &case["expected"];
            let outcome = match run_case(case, data.as_deref()) {
                Ok(None) => {
                    skipped += 1;
                    continue;
                }
                Ok(Some(o)) => o,
                Err(e) => {
                    failures.push(format!("{name}: bad case: {e}"));
                    continue;
                }
            };
            let ok = match (&outcome, expected.get("error").and_then(Value::as_str)) {
                (Outcome::PolicyError(_), Some("policy")) => true,
                (Outcome::EvalError(_), Some("evaluation")) => true,
                (Outcome::Decided { matched, effect }, None) => {
                    expected["matched"].as_bool() == Some(*matched)
                        && expected["effect"].as_str().map(str::to_ascii_lowercase) == *effect
                }
                _ => false,
            };
            if ok {
                passed += 1;
            } else {
                let got = match outcome {
                    Outcome::Decided { matched, effect } => {
                        format!("matched={matched} effect={effect:?}")
                    }
                    Outcome::PolicyError(e) => format!("policy error: {e}"),
                    Outcome::EvalError(e) => format!("evaluation error: {e}"),
                };
                failures.push(format!("{name}: expected {expected}, got {got}"));
            }
        }
    }
    println!(
        "case corpus: {passed} passed, {} failed, {skipped} skipped (no ../shared/data)",
        failures.len()
    );
    if data.is_none() {
        println!("skipped cases need ../shared/data (set AZSECMAP_DATA to point elsewhere)");
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
