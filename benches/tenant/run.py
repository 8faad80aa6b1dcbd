"""The whole-tenant benchmark of issue 3, as a script that prints a table.

    python -m benches.tenant.run --n 1000000 --workload a [--repeat 3] [--only azsecmap,duckdb]

Workloads (a) and (b) run on the sample tenant, (h) on the held-out tenant of
`benches.tenant.heldout`. Generates the tenant into /tmp (once per size and seed), runs every
contender `--repeat` times, each run in a fresh process (`benches.tenant.worker`), checks that
every peer finds the same per-policy non-compliant counts as azsecmap, and prints medians, peak
RSS and ratios. `--json FILE` also writes every run's figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from . import packs

ROOT = Path(__file__).resolve().parents[2]
WORKLOAD_A = (
    "baseline",
    "read",
    "orjson",
    "polars_parse",
    "azsecmap",
    "azsecmap_lean",
    "azsecmap_parse",
    "duckdb",
    "polars",
    "python",
)
WORKLOAD_B = ("baseline", "read", "azsecmap_parse", "azsecmap", "azsecmap_lean")
WORKLOAD_H = ("baseline", "read", "azsecmap_parse", "azsecmap", "azsecmap_lean", "duckdb")
PEERS = ("duckdb", "polars", "python")
# azsecmap's contenders that evaluate the workload's pack (azsecmap_parse evaluates nothing).
OURS = ("azsecmap", "azsecmap_lean")


def tenant(n: int, seed: int = 0, directory: str = "/tmp/azsecmap-bench") -> Path:
    """The sample tenant of `n` resources as NDJSON, written once by the CLI."""
    out = Path(directory) / f"tenant-{n}-s{seed}.ndjson"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".part")
        cmd = ["azsecmap", "sample", "--resources", str(n), "--out", str(tmp), "--seed", str(seed)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        tmp.rename(out)
    return out


def heldout_tenant(n: int, seed: int = 0, directory: str = "/tmp/azsecmap-bench") -> Path:
    """The held-out tenant of `n` resources, written once."""
    from . import heldout

    out = Path(directory) / f"heldout-{n}-s{seed}.ndjson"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        heldout.write_tenant(n, out.with_suffix(".part"), seed).rename(out)
    return out


def run_worker(contender: str, path: Path, workload: str) -> dict[str, Any]:
    cmd = [
        sys.executable,
        "-m",
        "benches.tenant.worker",
        contender,
        str(path),
        "--workload",
        workload,
    ]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT, env=env)
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_s"] = time.perf_counter() - t0
    return out


def check_counts(runs: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Assert that every peer's per-policy non-compliant counts equal azsecmap's."""
    ref = runs["azsecmap"][0]["counts"]
    checked = []
    for who in ("azsecmap_lean", *PEERS):
        for r in runs.get(who, []):
            got = {k: v for k, v in r["counts"].items() if v}
            want = {k: v for k, v in ref.items() if v}
            assert got == want, f"{who} disagrees with azsecmap: " + str(
                {
                    k: (want.get(k), got.get(k))
                    for k in set(got) | set(want)
                    if got.get(k) != want.get(k)
                }
            )
        if who in runs:
            checked.append(who)
    return checked


def summarise(runs: dict[str, list[dict[str, Any]]], n: int, size: int) -> list[str]:
    med = {who: statistics.median(r["total_s"] for r in rs) for who, rs in runs.items()}
    rss = {who: max(r["peak_rss"] for r in rs) for who, rs in runs.items()}
    policies = runs["azsecmap"][0]["policies"] if "azsecmap" in runs else 25
    lines = [
        f"N = {n:,} resources, {size / 1e6:,.0f} MB NDJSON, {policies} policies, "
        f"{len(next(iter(runs.values())))} runs each (medians; peak RSS = max VmHWM)",
        "",
        "| contender | time (s) | load / evaluate (s) | pairs/s | peak RSS (MB) | "
        "this ÷ azsecmap |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    base = med.get("azsecmap")
    for who, rs in runs.items():
        t = med[who]
        split = ""
        if "load_s" in rs[0] and "eval_s" in rs[0]:
            split = (
                f"{statistics.median(r['load_s'] for r in rs):.2f} / "
                f"{statistics.median(r['eval_s'] for r in rs):.2f}"
            )
        elif who in OURS and "azsecmap_parse" in med:
            # Loading and evaluating are one pass: the floor stands for the load.
            floor = med["azsecmap_parse"]
            split = f"{floor:.2f}* / {t - floor:.2f}"
        pairs = f"{n * policies / t:,.0f}" if who in (*OURS, *PEERS) else ""
        ratio = f"{t / base:.2f}" if base and t > 0 else ""
        lines.append(f"| {who} | {t:.2f} | {split} | {pairs} | {rss[who] / 1e6:,.0f} | {ratio} |")
    if "azsecmap_parse" in med and any(who in med for who in OURS):
        lines += [
            "",
            "\\* azsecmap loads and evaluates in one pass; its load is taken as the median of "
            "azsecmap_parse (the same calls with a pack that applies to no resource) and its "
            "evaluation as the rest.",
        ]
    a = runs.get("azsecmap", [{}])[0]
    if a:
        lines += [
            "",
            f"azsecmap: compile {statistics.median(r['compile_s'] for r in runs['azsecmap']):.2f}"
            f" s (not in the time above), {a['rows']:,} rows, states {a['states']}, "
            f"{a['policy_errors']} policy errors, {a['load_errors']} load errors",
        ]
    for who in ("duckdb", "polars", "python", "read", "orjson", "polars_parse", "azsecmap_parse"):
        if who in med and base:
            lines.append(
                f"azsecmap end-to-end vs {who}: {med[who] / base:.2f}x "
                f"({'faster' if med[who] > base else 'slower'})"
            )
    if "read" in med and base:
        lines.append(f"azsecmap time / read time = {base / med['read']:.2f}")
    if "azsecmap_parse" in med and "read" in med:
        lines.append(
            f"azsecmap_parse (read, check and identify every line; evaluate nothing) / read time"
            f" = {med['azsecmap_parse'] / med['read']:.2f}"
        )
    if "azsecmap" in rss:
        lines.append(f"azsecmap peak RSS / NDJSON size = {rss['azsecmap'] / size:.3f}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workload", choices=("a", "b", "h"), default="a")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", help="comma-separated contenders (default: all for the workload)")
    ap.add_argument("--json", help="write every run's figures here")
    args = ap.parse_args()
    if not packs.have_data():
        sys.exit(f"the built-in definitions are not at {packs.DATA} (set AZSECMAP_DATA)")
    contenders = {"a": WORKLOAD_A, "b": WORKLOAD_B, "h": WORKLOAD_H}[args.workload]
    if args.only:
        contenders = tuple(c for c in contenders if c in args.only.split(","))
    if args.workload == "a":
        packs.check_pack_a()
    elif args.workload == "b":
        _, stats = packs.pack_b_files()
        print(f"pack (b): {stats}")
    path = heldout_tenant(args.n, args.seed) if args.workload == "h" else tenant(args.n, args.seed)
    size = path.stat().st_size
    runs: dict[str, list[dict[str, Any]]] = {c: [] for c in contenders}
    for i in range(args.repeat):  # interleaved, so drift on the shared host hits all alike
        for c in contenders:
            r = run_worker(c, path, args.workload)
            runs[c].append(r)
            print(
                f"run {i + 1} {c}: {r['total_s']:.2f} s, {r['peak_rss'] / 1e6:,.0f} MB",
                file=sys.stderr,
            )
    if "azsecmap" in runs:
        print("counts agree with azsecmap:", ", ".join(check_counts(runs)) or "(no peers)")
    print("\n".join(summarise(runs, args.n, size)))
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=1))


if __name__ == "__main__":
    main()
