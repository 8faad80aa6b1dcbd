//! How long each JSON parser takes to read every line of an NDJSON file on one thread, the
//! file already in memory: the floor under any evaluator that must report every line that is
//! not valid JSON. Prints the median of five passes per parser.

use std::time::{Duration, Instant};

use azsecmap_core::projection::{Projection, EVALUATION_FIELDS};
use serde::de::IgnoredAny;

/// The allocator the wheel uses, so that building the kept values costs what it costs there.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PASSES: usize = 5;

/// A parser under test: true when it read the line.
type Parse<'a> = &'a mut dyn FnMut(&[u8]) -> bool;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: azsecmap-parser-floor FILE.ndjson");
        std::process::exit(2);
    };
    let data = match std::fs::read(&path) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    let lines: Vec<&[u8]> = data
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    println!(
        "{path}: {} lines, {:.0} MB, one thread, median of {PASSES} passes",
        lines.len(),
        data.len() as f64 / 1e6
    );
    let ours = Projection::top_level(EVALUATION_FIELDS);
    let mut scratch: Vec<u8> = Vec::new();
    let mut buffers = simd_json::Buffers::new(4096);
    let parsers: [(&str, Parse<'_>); 4] = [
        ("azsecmap projection (id, type, name kept)", &mut |l| {
            ours.parse(l).is_ok()
        }),
        ("serde_json, validate only (IgnoredAny)", &mut |l| {
            serde_json::from_slice::<IgnoredAny>(l).is_ok()
        }),
        ("sonic-rs, validate only (IgnoredAny)", &mut |l| {
            sonic_rs::from_slice::<IgnoredAny>(l).is_ok()
        }),
        ("simd-json, tape of the whole document", &mut |l| {
            // simd-json parses in place: a copy per line, as a reader of shared blocks would.
            scratch.clear();
            scratch.extend_from_slice(l);
            simd_json::to_tape_with_buffers(&mut scratch, &mut buffers).is_ok()
        }),
    ];
    for (name, parse) in parsers {
        let mut times: Vec<Duration> = (0..PASSES)
            .map(|_| {
                let t = Instant::now();
                let ok = lines.iter().filter(|l| parse(l)).count();
                assert_eq!(ok, lines.len(), "{name}: a line failed to parse");
                t.elapsed()
            })
            .collect();
        times.sort();
        let median = times[PASSES / 2].as_secs_f64();
        println!(
            "{name:<44} {median:6.3} s  {:6.0} MB/s",
            data.len() as f64 / 1e6 / median
        );
    }
}
