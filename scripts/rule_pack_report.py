"""Regenerate the rule table in ``docs/rule-pack.md`` from the bundled default rule pack.

Usage::

    python scripts/rule_pack_report.py [--resources N] [--seed S] [--check]

Evaluates ``PolicyPack.builtin()`` over the synthetic sample tenant
(``Resources.sample(N, seed=S)``, default 20,000 resources, seed 0) and writes, between the
``<!-- rule-table -->`` markers of ``docs/rule-pack.md``, one row per rule: id, service, what it
checks, controls, Microsoft built-in equivalents, and the non-compliant / applicable counts
measured on the sample. ``--check`` exits 1 when the file would change (for CI).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl

import azsecmap

DOC = Path(__file__).resolve().parent.parent / "docs" / "rule-pack.md"
START, END = "<!-- rule-table:start -->", "<!-- rule-table:end -->"


def table(n: int, seed: int) -> str:
    pack = azsecmap.PolicyPack.builtin()
    meta = pack.metadata()
    ev = azsecmap.evaluate(pack, azsecmap.Resources.sample(n, seed=seed), reasons=False)
    counts = ev.summary().with_columns(pl.col("policy_id").cast(pl.String))
    rows = meta.join(counts, on="policy_id", how="left").fill_null(0)
    lines = [
        f"Measured with `python scripts/rule_pack_report.py --resources {n} --seed {seed}` "
        f"(`Resources.sample({n}, seed={seed})`): {ev.resource_count:,} resources, "
        f"{ev.results.height:,} applicable (resource, rule) pairs, "
        f"{int(counts['non_compliant'].sum()):,} non-compliant, "
        f"{int(counts['error'].sum())} errors. `—` = the sample has no resource of the "
        "rule's type.",
        "",
        "| rule | service | checks | controls | built-in equivalents "
        "| non-compliant / applicable |",
        "| --- | --- | --- | --- | --- | ---: |",
    ]
    for r in rows.iter_rows(named=True):
        service = Path(r["source"]).parent.name
        applicable = r["compliant"] + r["non_compliant"] + r["unknown"] + r["error"]
        measured = f"{r['non_compliant']:,} / {applicable:,}" if applicable else "—"
        builtins = ", ".join(f"`{g}`" for g in r["builtin"]) or "none"
        lines.append(
            f"| `{r['policy_id']}` | {service} | {r['display_name']} | "
            f"{', '.join(r['controls'])} | {builtins} | {measured} |"
        )
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resources", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    text = DOC.read_text()
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{START}\n{table(args.resources, args.seed)}\n{END}{tail}"
    if args.check:
        return int(new != text)
    DOC.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
