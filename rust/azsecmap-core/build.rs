//! Embeds the default rule pack (`frameworks/rules/**/*.json` at the repository root) into the
//! library: writes `$OUT_DIR/default_rules.rs`, a sorted table of `(relative path, JSON text)`
//! built from `include_str!`, so the wheel carries the rules and needs no data files at run time.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    // A directory added later must re-run this script too.
    println!("cargo:rerun-if-changed={}", dir.display());
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            println!("cargo:rerun-if-changed={}", path.display());
            out.push(path);
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let root = manifest.join("../../frameworks/rules");
    // A build without the rules (an sdist missing `frameworks/`) must fail, not ship an empty pack.
    if !root.is_dir() {
        return Err(format!("the default rule pack is missing: `{}`", root.display()).into());
    }
    let mut files = Vec::new();
    collect(&root, &mut files)?;
    files.sort();
    let mut code = String::from("&[\n");
    for file in &files {
        let rel = file
            .strip_prefix(&root)?
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let abs = file.canonicalize()?;
        writeln!(
            code,
            "    ({rel:?}, include_str!({:?})),",
            abs.to_string_lossy()
        )?;
    }
    code.push(']');
    let out = PathBuf::from(std::env::var("OUT_DIR")?).join("default_rules.rs");
    std::fs::write(out, code)?;
    Ok(())
}
