//! Corpus test: every expression string in every built-in policy definition's `policyRule` (outside the
//! `then.details.deployment` template, which is deployed rather than evaluated) parses and validates.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{fold, is_pure, parse_template, validate, Expr, Template};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/azure-policy/policyDefinitions")
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}

/// Collect strings under `v`, skipping `then.details.deployment`.
fn strings<'a>(v: &'a Value, path: &mut Vec<String>, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| strings(x, path, out)),
        Value::Object(m) => {
            for (k, x) in m {
                let is_deployment = k == "deployment"
                    && path.len() >= 2
                    && path[path.len() - 2].eq_ignore_ascii_case("then")
                    && path[path.len() - 1].eq_ignore_ascii_case("details");
                if is_deployment {
                    continue;
                }
                path.push(k.clone());
                strings(x, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn calls(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Literal(_) => {}
        Expr::Member { target, .. } => calls(target, out),
        Expr::Index { target, index } => {
            calls(target, out);
            calls(index, out);
        }
        Expr::Call { name, args } => {
            out.push(name.clone());
            args.iter().for_each(|a| calls(a, out));
        }
    }
}

#[test]
fn every_builtin_policy_rule_expression_parses_and_validates() {
    let dir = data_dir();
    if !dir.is_dir() {
        println!(
            "skipped: built-in definitions not found at {} (shared data absent)",
            dir.display()
        );
        return;
    }
    let mut files = Vec::new();
    json_files(&dir, &mut files);
    files.sort();
    let mut parsed = 0usize;
    let mut failures = Vec::new();
    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        let Some(rule) = doc.pointer("/properties/policyRule") else {
            continue;
        };
        let mut out = Vec::new();
        strings(rule, &mut Vec::new(), &mut out);
        let mut used = std::collections::BTreeSet::new();
        for s in out {
            match parse_template(s) {
                Ok(Template::Expr(e)) => {
                    parsed += 1;
                    if let Err(err) = validate(&e) {
                        failures.push(format!("{}: {s}: {}", f.display(), err.message));
                    }
                    let mut names = Vec::new();
                    calls(&e, &mut names);
                    used.extend(names);
                    // folding with no parameters never panics and keeps the tree valid
                    let folded = fold(e.clone(), &|_| None);
                    assert!(validate(&folded).is_ok(), "fold broke {s}");
                    let _ = is_pure(&folded);
                }
                Ok(Template::Literal(_)) => {}
                Err(err) => failures.push(format!(
                    "{}: {s}: {} at {}",
                    f.display(),
                    err.message,
                    err.offset
                )),
            }
        }
        for n in used {
            *tally.entry(n).or_default() += 1;
        }
    }
    println!(
        "parsed and validated {parsed} expressions from {} definition files",
        files.len()
    );
    let mut by_count: Vec<_> = tally.iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (name, n) in by_count {
        println!("  {name:>18} {n}");
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(parsed > 1000, "suspiciously few expressions: {parsed}");
}
