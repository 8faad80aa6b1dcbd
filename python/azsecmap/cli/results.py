"""`azsecmap report` and `azsecmap diff`: work with results files written by `scan --out`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..catalog import Catalog
from ..diff import diff_results
from ..errors import AzsecmapError
from ..evaluation import Evaluation
from ..outputs import read_metadata, read_results, write_frame
from ..report import render, write_report
from .exit_codes import ExitCode
from .scan import fail


def report(
    results: Annotated[Path, typer.Argument(help="Results file (Parquet, CSV, JSON or NDJSON).")],
    framework: Annotated[
        list[str], typer.Option("--framework", "-f", help="Framework to score (repeatable).")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="HTML file to write.")] = Path(
        "report.html"
    ),
) -> None:
    """Render a self-contained HTML report (scores, heatmaps, top failures, exemptions,
    coverage) from a results file and the bundled catalog.

    Example:

        azsecmap report results.parquet -f NIST_SP_800-53_R5 -f PCI_DSS_v4.0.1 --out report.html
    """
    try:
        df = read_results(results)
        meta = read_metadata(results)
        catalog = Catalog.builtin()
        known = set(catalog.frameworks()["framework"].to_list())
        for f in framework:
            if f not in known:
                raise fail(f"unknown framework `{f}` (see `azsecmap frameworks list`)")
        ev = Evaluation(results=df, resource_count=int(meta.get("resource_count") or 0))
        text = render(ev, catalog, framework, info=meta.get("policies") or {})
    except AzsecmapError as exc:
        raise fail(str(exc)) from None
    write_report(text, out)
    Console(highlight=False, soft_wrap=True).print(f"report: {out}")


def diff(
    old: Annotated[Path, typer.Argument(help="Older results file (any results format).")],
    new: Annotated[Path, typer.Argument(help="Newer results file.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the changes (csv/json/ndjson/parquet)."),
    ] = None,
    fail_on_new: Annotated[
        bool, typer.Option("--fail-on-new", help="Exit 1 when there are new findings.")
    ] = False,
    limit: Annotated[int, typer.Option(help="Rows to print per kind of change.")] = 20,
) -> None:
    """Compare two scans: findings (non-compliant resource/policy pairs) that are new, fixed or
    unchanged.

    Example:

        azsecmap diff last-week.parquet today.parquet --out changes.csv --fail-on-new
    """
    try:
        d = diff_results(read_results(old), read_results(new))
    except AzsecmapError as exc:
        raise fail(str(exc)) from None
    con = Console(highlight=False, soft_wrap=True)
    counts = d.counts()
    t = Table(
        title=f"{counts['new']} new, {counts['fixed']} fixed, {counts['unchanged']} unchanged"
    )
    for c in ("change", "policy_id", "resource_id"):
        t.add_column(c, overflow="fold")
    style = {"new": "red", "fixed": "green", "unchanged": "dim"}
    for kind in ("new", "fixed"):
        for row in d.of(kind).head(limit).iter_rows(named=True):
            t.add_row(
                f"[{style[kind]}]{kind}[/]", escape(row["policy_id"]), escape(row["resource_id"])
            )
    con.print(t)
    if out is not None:
        try:
            write_frame(d.frame, out)
        except ValueError as exc:
            raise fail(str(exc)) from None
        con.print(f"changes: {out}")
    if fail_on_new and counts["new"]:
        raise typer.Exit(ExitCode.FINDINGS)
