//! Helpers shared by the integration tests: where the repository and the public reference
//! data (`../shared/data`, or `$AZSECMAP_DATA`) are.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The reference data folder when it holds `needed` (e.g. `azure-policy`), else `None`.
pub fn data_dir(needed: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("AZSECMAP_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/data"));
    dir.join(needed).is_dir().then_some(dir)
}

/// Every `*.json` file below `dir`, recursively.
pub fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}
