"""Run one contender once over one NDJSON tenant and print one JSON line of figures.

`python -m benches.tenant.worker CONTENDER PATH [--workload a|b|h]`. Run in its own process by
`benches.tenant.run`, so the peak RSS it reports (VmHWM) is that contender's alone.
"""

from __future__ import annotations

import argparse
import collections
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CONTENDERS = (
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
# The options of the lean contenders: no reasons, only the rows that are not compliant.
LEAN: dict[str, Any] = {"reasons": False, "only_failing": True}


def peak_rss_bytes() -> int:
    """VmHWM of this process (falls back to ru_maxrss)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _read(path: str, _w: str) -> dict[str, Any]:
    # A buffer that stays in cache: with 16 MB or more, the copy out of the page cache went
    # through memory and one read of the same file took anywhere from 0.2 to 1.0 s.
    buf = bytearray(1 << 20)
    total = 0
    t0 = time.perf_counter()
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            total += n
    return {"total_s": time.perf_counter() - t0, "bytes": total}


def _orjson(path: str, _w: str) -> dict[str, Any]:
    import orjson

    t0 = time.perf_counter()
    n = 0
    with open(path, "rb") as f:
        for line in f:
            orjson.loads(line)
            n += 1
    return {"total_s": time.perf_counter() - t0, "resources": n}


def _polars_parse(path: str, _w: str) -> dict[str, Any]:
    from . import peer_polars

    t0 = time.perf_counter()
    df = peer_polars.load(path)
    return {"total_s": time.perf_counter() - t0, "resources": df.height}


def _azsecmap(path: str, workload: str, lean: bool = False) -> dict[str, Any]:
    import polars as pl

    import azsecmap

    from . import packs

    t0 = time.perf_counter()
    pack = azsecmap.PolicyPack.from_files([str(p) for p in packs.pack_files(workload)])
    t1 = time.perf_counter()
    ev = azsecmap.evaluate(pack, azsecmap.Resources.from_ndjson(path), **(LEAN if lean else {}))
    t2 = time.perf_counter()
    # The check runs after the clock stops; done lazily so that it does not copy the frame
    # and raise the peak RSS reported for the evaluation itself.
    nc = ev.results.lazy().filter(pl.col("state") == "non_compliant")
    counts = dict(nc.group_by("policy_id").len().collect().iter_rows())
    return {
        "compile_s": t1 - t0,
        "total_s": t2 - t1,
        "rows": ev.results.height,
        "resources": ev.resource_count,
        "policies": len(pack),
        "policy_errors": len(ev.policy_errors),
        "load_errors": len(ev.load_errors),
        "counts": {str(k): v for k, v in counts.items()},
        "states": {str(k): v for k, v in ev.results.get_column("state").value_counts().iter_rows()},
    }


def _azsecmap_parse(path: str, _w: str) -> dict[str, Any]:
    """The floor under azsecmap's own time: the same public calls with one policy whose type
    no resource has, so every line is still read, checked to be JSON and identified (bad lines
    must be reported), and nothing is evaluated."""
    import azsecmap

    rule = {
        "properties": {
            "displayName": "applies to no resource",
            "mode": "All",
            "policyRule": {
                "if": {"field": "type", "equals": "Azsecmap.Bench/nothing"},
                "then": {"effect": "audit"},
            },
        }
    }
    pack = azsecmap.PolicyPack([azsecmap.Policy.from_json(rule, name="parse-floor")])
    t0 = time.perf_counter()
    ev = azsecmap.evaluate(pack, azsecmap.Resources.from_ndjson(path), **LEAN)
    return {
        "total_s": time.perf_counter() - t0,
        "rows": ev.results.height,
        "resources": ev.resource_count,
        "load_errors": len(ev.load_errors),
    }


def _duckdb(path: str, workload: str) -> dict[str, Any]:
    import duckdb

    from . import heldout, peer_duckdb

    con = duckdb.connect()
    t0 = time.perf_counter()
    if workload == "h":
        pairs = peer_duckdb.run(path, con, heldout.COLUMNS, heldout.RULES)
    else:
        pairs = peer_duckdb.run(path, con)
    return {
        "total_s": time.perf_counter() - t0,
        "rows": pairs.height,
        "threads": con.sql("SELECT current_setting('threads')").fetchall()[0][0],
        "counts": peer_duckdb.counts(pairs),
    }


def _polars(path: str, _w: str) -> dict[str, Any]:
    from . import peer_polars

    t0 = time.perf_counter()
    df = peer_polars.load(path)
    t1 = time.perf_counter()
    pairs = peer_polars.evaluate(df)
    t2 = time.perf_counter()
    return {
        "load_s": t1 - t0,
        "eval_s": t2 - t1,
        "total_s": t2 - t0,
        "rows": pairs.height,
        "counts": peer_polars.counts(pairs),
    }


def _python(path: str, _w: str) -> dict[str, Any]:
    try:
        from orjson import loads
    except ImportError:  # pragma: no cover - the stdlib parser is slower still
        from json import loads

    from . import interp, packs

    t0 = time.perf_counter()
    it = interp.Interpreter(packs.load_definitions(packs.pack_a_files()))
    t1 = time.perf_counter()
    pairs: list[tuple[str, str]] = []
    parse = 0.0
    with open(path, "rb") as f:
        for line in f:
            a = time.perf_counter()
            doc = loads(line)
            parse += time.perf_counter() - a
            rid = doc["id"]
            pairs.extend((rid, name) for name in it.non_compliant(doc))
    t2 = time.perf_counter()
    counts = collections.Counter(name for _, name in pairs)
    return {
        "compile_s": t1 - t0,
        "load_s": parse,
        "eval_s": t2 - t1 - parse,
        "total_s": t2 - t1,
        "rows": len(pairs),
        "counts": dict(counts),
    }


def run_one(contender: str, path: str, workload: str = "a") -> dict[str, Any]:
    table: dict[str, Callable[[str, str], dict[str, Any]]] = {
        "baseline": lambda p, w: {"total_s": 0.0},
        "read": _read,
        "orjson": _orjson,
        "polars_parse": _polars_parse,
        "azsecmap": _azsecmap,
        "azsecmap_lean": lambda p, w: _azsecmap(p, w, lean=True),
        "azsecmap_parse": _azsecmap_parse,
        "duckdb": _duckdb,
        "polars": _polars,
        "python": _python,
    }
    out = table[contender](path, workload)
    out["contender"] = contender
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("contender", choices=CONTENDERS)
    ap.add_argument("path")
    ap.add_argument("--workload", default="a", choices=("a", "b", "h"))
    args = ap.parse_args()
    if args.contender == "baseline":  # what the interpreter and the imports cost
        import duckdb  # noqa: F401
        import polars  # noqa: F401

        import azsecmap  # noqa: F401
    out = run_one(args.contender, args.path, args.workload)
    out["peak_rss"] = peak_rss_bytes()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
