//! Every public built-in definition whose mode is `All` or `Indexed` compiles, and binds with
//! its default parameter values when every parameter has one. Needs `../shared/data`; prints
//! a reason and passes vacuously when it is absent (pytest runs the same check and skips).

// Tests may abort on malformed fixtures.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{data_dir, json_files};

use azsecmap_core::policy::{Mode, PolicyDefinition};
use serde_json::{Map, Value};

#[test]
fn all_and_indexed_builtins_compile() {
    let Some(data) = data_dir("azure-policy") else {
        println!("skipped: ../shared/data is absent (set AZSECMAP_DATA)");
        return;
    };
    let mut files = Vec::new();
    json_files(&data.join("azure-policy/policyDefinitions"), &mut files);
    files.sort();
    let (mut in_scope, mut compiled, mut bound, mut data_plane, mut other) = (0, 0, 0, 0, 0);
    let mut failures = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        let mode = doc["properties"]["mode"]
            .as_str()
            .unwrap_or("")
            .to_ascii_lowercase();
        let stem = f.file_stem().unwrap().to_string_lossy().to_string();
        if mode != "all" && mode != "indexed" {
            // Static (no mode) and data-plane definitions: they must compile too, but are not
            // the figure the README states.
            match PolicyDefinition::from_value(&doc, &stem) {
                Ok(d) if matches!(d.mode, Mode::ResourceProvider(_)) => data_plane += 1,
                Ok(_) => other += 1,
                Err(e) => failures.push(format!("{}: {e}", f.display())),
            }
            continue;
        }
        in_scope += 1;
        match PolicyDefinition::from_value(&doc, &stem) {
            Ok(def) => {
                compiled += 1;
                if def.parameters.iter().all(|p| p.default.is_some()) {
                    match def.bind(&Map::new()) {
                        Ok(_) => bound += 1,
                        Err(e) => failures.push(format!("{} (bind defaults): {e}", f.display())),
                    }
                }
            }
            Err(e) => failures.push(format!("{}: {e}", f.display())),
        }
    }
    println!(
        "built-ins: {compiled}/{in_scope} All/Indexed definitions compile ({bound} bound with defaults); \
         also compiled {other} without a mode and {data_plane} data-plane (recognised, not evaluated)"
    );
    assert!(
        in_scope > 2000,
        "found only {in_scope} All/Indexed definitions"
    );
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
