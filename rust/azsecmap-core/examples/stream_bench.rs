//! Times the streaming batch path on an NDJSON file without Python:
//! `cargo run --release -p azsecmap-core --example stream_bench -- PACK_LIST TENANT [REPEAT]`
//! where PACK_LIST is a text file with one definition path per line.

// A measuring tool: aborting on bad setup is fine.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use azsecmap_core::batch::{evaluate_stream, BatchOptions, PreparedPack};
use azsecmap_core::policy::PolicyDefinition;
use serde_json::Map;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let list = std::fs::read_to_string(&args[1]).unwrap();
    let tenant = &args[2];
    let repeat: usize = args.get(3).map_or(3, |s| s.parse().unwrap());
    let bound: Vec<_> = list
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|p| {
            let def =
                PolicyDefinition::from_json_str(&std::fs::read_to_string(p).unwrap(), "x").unwrap();
            // A definition with a required parameter and no default cannot bind without
            // values; the Python evaluation lists it among its policy errors and skips it too.
            def.bind(&Map::new()).ok()
        })
        .collect();
    let n_policies = bound.len();
    let pack = PreparedPack::new(bound);
    // AZSECMAP_BENCH_DEFAULTS=1 measures the default options (reasons, compliant rows).
    let defaults = std::env::var_os("AZSECMAP_BENCH_DEFAULTS").is_some();
    let options = BatchOptions {
        reasons: defaults,
        only_failing: !defaults,
        ..BatchOptions::default()
    };
    // AZSECMAP_BENCH_BLOCK_KB sets the block size (default: the Python binding's).
    let block_kb: usize =
        std::env::var("AZSECMAP_BENCH_BLOCK_KB").map_or(32 << 10, |s| s.parse().unwrap());
    let mut times = Vec::new();
    for _ in 0..repeat {
        let t0 = Instant::now();
        let mut rows = 0usize;
        let mut f = std::fs::File::open(tenant).unwrap();
        let summary = evaluate_stream(
            &pack,
            &mut f,
            block_kb << 10,
            &options,
            &AtomicBool::new(false),
            &mut |_, r| rows += r.len(),
        )
        .unwrap()
        .unwrap();
        let dt = t0.elapsed().as_secs_f64();
        println!(
            "{} resources × {n_policies} policies: {rows} rows in {dt:.3} s",
            summary.resources
        );
        times.push(dt);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "median {:.3} s, min {:.3} s",
        times[times.len() / 2],
        times[0]
    );
}
