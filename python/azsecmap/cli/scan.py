"""`azsecmap scan`: evaluate a tenant, score frameworks, write results and a report."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from .._scores import FrameworkScores
from ..catalog import Catalog
from ..errors import AzsecmapError
from ..exemptions import Exemptions
from ..outputs import FORMATS, format_for, write_results
from ..policy import PolicyPack
from ..report import render, write_report
from ..resources import Resources
from ..scan import DEFAULT_FRAMEWORKS, FAIL_ORDER, ScanOutcome, load_resources, rows_at_or_worse
from ..scan import run_scan as run_scan_library
from .exit_codes import ExitCode

FailState = Enum("FailState", {s: s for s in FAIL_ORDER}, type=str)  # type: ignore[misc]

DEFAULT_SAMPLE = 3000
DEFAULT_REPORT = Path("azsecmap-report.html")


def fail(message: str) -> typer.Exit:
    """Print one `error:` line on stderr and return the input-error exit."""
    Console(stderr=True, soft_wrap=True, highlight=False).print(f"error: {escape(message)}")
    return typer.Exit(ExitCode.INPUT_ERROR)


def _amount(x: float) -> str:
    """A count as an integer; a weighted sum (the secure score's) with one decimal."""
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"


def scores_table(scores: list[FrameworkScores]) -> Table:
    """Per framework, the four scores with numerators and denominators."""
    t = Table(title="Framework scores")
    t.add_column("framework", no_wrap=True)
    names = [s.label for s in scores[0].scores] if scores else []
    for n in names:
        t.add_column(n, justify="right")
    t.add_column("controls", justify="right")
    for fs in scores:
        cells = []
        for s in fs.scores:
            pct = "n/a" if s.value is None else f"{100 * s.value:.1f}%"
            cells.append(f"{pct} ({_amount(s.numerator)}/{_amount(s.denominator)})")
        t.add_row(escape(fs.framework), *cells, str(fs.controls.height))
    return t


def failing_table(outcome: ScanOutcome, top: int = 10) -> Table:
    """The policies with the most non-compliant resources."""
    res = outcome.evaluation.results
    df = (
        res.filter(pl.col("state").cast(pl.String) == "non_compliant")
        .group_by(pl.col("policy_id").cast(pl.String))
        .agg(pl.col("resource_id").n_unique().alias("resources"))
        .sort(["resources", "policy_id"], descending=[True, False])
        .head(top)
    )
    t = Table(title=f"Top {top} failing policies")
    t.add_column("policy", overflow="fold")
    t.add_column("severity")
    t.add_column("non-compliant resources", justify="right")
    for pid, n in df.iter_rows():
        meta = outcome.info.get(pid, {})
        title = meta.get("title") or pid
        t.add_row(escape(f"{title} ({pid})"), escape(str(meta.get("severity") or "-")), f"{n:,}")
    return t


def _azure_inputs(ctx: typer.Context) -> tuple[Any, dict[str, Any]]:
    """The credential and client options for live reads.

    Normally ``(None, {})``: the readers use `DefaultAzureCredential`. A program that runs the
    CLI in-process (our tests, an embedding tool) may pass ``obj={"credential": ...,
    "client_kwargs": {...}}`` to Click; there is no option or environment variable for it.
    """
    obj = ctx.obj if isinstance(ctx.obj, dict) else {}
    return obj.get("credential"), dict(obj.get("client_kwargs") or {})


def scan(
    ctx: typer.Context,
    resources: Annotated[
        Path | None,
        typer.Option("--resources", "-r", help="Resources file: NDJSON (.ndjson) or JSON."),
    ] = None,
    sample: Annotated[
        int | None,
        typer.Option("--sample", "-n", min=1, help="Scan a synthetic tenant of N resources."),
    ] = None,
    policies: Annotated[
        Path | None,
        typer.Option(
            "--policies", "-P", help="Folder of policy definitions (default: built-in pack)."
        ),
    ] = None,
    framework: Annotated[
        list[str] | None,
        typer.Option(
            "--framework", "-f", help="Framework to score (repeatable).", show_default=False
        ),
    ] = None,
    exemptions: Annotated[
        Path | None, typer.Option("--exemptions", help="Exemptions file (Azure JSON or YAML).")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the results here.")] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", help=f"Results format: {', '.join(FORMATS)} (default: from --out)."
        ),
    ] = None,
    report: Annotated[
        Path, typer.Option("--report", help="Write the HTML report here.")
    ] = DEFAULT_REPORT,
    no_report: Annotated[bool, typer.Option("--no-report", help="Do not write a report.")] = False,
    fail_on: Annotated[
        FailState | None,
        typer.Option("--fail-on", help="Exit 1 when any result is in this state or worse."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    resource_graph: Annotated[
        bool,
        typer.Option(
            "--resource-graph", help="Read the resources from Azure Resource Graph (live)."
        ),
    ] = False,
    subscription: Annotated[
        list[str] | None,
        typer.Option(
            "--subscription", "-s", help="With --resource-graph: subscription id (repeatable)."
        ),
    ] = None,
    management_group: Annotated[
        list[str] | None,
        typer.Option(
            "--management-group",
            "-m",
            help="With --resource-graph: management group name (repeatable).",
        ),
    ] = None,
    assignments: Annotated[
        str | None,
        typer.Option(
            "--assignments",
            help="With --resource-graph: evaluate the policies assigned at this scope "
            "(and below it) instead of a pack, with their exemptions.",
        ),
    ] = None,
    endpoint: Annotated[
        str | None,
        typer.Option(help="ARM endpoint for live reads (default https://management.azure.com)."),
    ] = None,
) -> None:
    """Evaluate resources against a policy pack and score compliance frameworks.

    With no resource option, scans a bundled synthetic tenant with the built-in rule pack, so a
    first run needs no Azure account. Prints the four scores per framework (with numerators and
    denominators) and the top failing policies, and writes an HTML report.

    Example:

        azsecmap scan -r tenant.ndjson -f PCI_DSS_v4.0.1 -o results.parquet --fail-on non_compliant

    Live: ``--resource-graph [-s SUB ...] [--assignments /subscriptions/SUB]`` reads the
    resources from Resource Graph and, with --assignments, evaluates what is assigned at (and
    below) that scope with its exemptions, signed in with DefaultAzureCredential.
    """
    if sum(x is not None for x in (resources, sample)) + resource_graph > 1:
        raise fail("give one of --resources, --sample and --resource-graph, not both")
    if not resource_graph:
        for name, given in (
            ("--subscription", subscription),
            ("--management-group", management_group),
            ("--assignments", assignments),
            ("--endpoint", endpoint),
        ):
            if given:
                raise fail(f"{name} reads live from Azure: add --resource-graph")
    if assignments is not None and policies is not None:
        raise fail("give --policies or --assignments, not both")
    if out is not None:
        try:
            fmt = format_for(out, fmt)
        except ValueError as exc:
            raise fail(str(exc)) from None
    frameworks = list(framework or DEFAULT_FRAMEWORKS)
    con = Console(highlight=False, soft_wrap=True)
    credential, client_kwargs = _azure_inputs(ctx)
    try:
        if resource_graph:
            res = Resources.from_resource_graph(
                credential,
                subscription or None,
                management_group or None,
                endpoint=endpoint,
                progress=not quiet,
                **client_kwargs,
            )
        elif resources is not None:
            res = load_resources(resources)
        else:
            res = Resources.sample(sample or DEFAULT_SAMPLE)
        if assignments is not None:
            pack = PolicyPack.from_azure(
                credential, assignments, endpoint, descendants=True, **client_kwargs
            )
        elif policies is not None:
            pack = PolicyPack.from_dir(policies)
        else:
            pack = PolicyPack.builtin()
        if policies is not None and len(pack) == 0:
            raise fail(f"no policy definitions (*.json) in {policies}")
        ex = Exemptions.load(exemptions) if exemptions is not None else None
        if pack.exemptions is not None:
            ex = pack.exemptions if ex is None else pack.exemptions + ex
        catalog = Catalog.builtin()
        known = set(catalog.frameworks()["framework"].to_list())
        unknown = [f for f in frameworks if f not in known]
        if unknown:
            raise fail(f"unknown framework `{unknown[0]}` (see `azsecmap frameworks list`)")
        total = len(res)
        if total == 0:
            origin = str(resources) if resources is not None else res.origin
            errs = res.errors
            why = f": line {errs[0].line}: {errs[0].message}" if errs else ""
            raise fail(f"no resources in {origin}{why}")
        with Progress(
            SpinnerColumn(),
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[rows]:,} results"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
            disable=quiet,
        ) as progress:
            task = progress.add_task(f"evaluating {total:,} resources", total=None, rows=0)

            def tick(frame: pl.DataFrame) -> None:
                progress.update(
                    task, advance=1, rows=progress.tasks[0].fields["rows"] + frame.height
                )

            outcome = run_scan_library(pack, res, catalog, frameworks, exemptions=ex, on_batch=tick)
    except (AzsecmapError, ValueError) as exc:
        raise fail(str(exc)) from None
    ev = outcome.evaluation
    con.print(
        f"scanned {ev.resource_count:,} resources with {len(pack)} policies: "
        f"{ev.results.height:,} results"
        + (f", {len(ev.load_errors)} unreadable input lines" if ev.load_errors else "")
    )
    con.print(scores_table(outcome.scores))
    con.print(failing_table(outcome))
    if out is not None:
        write_results(ev, out, fmt, info=outcome.info)
        con.print(f"results ({fmt}): {out}")
    if not no_report:
        write_report(render(ev, catalog, frameworks, info=outcome.info), report)
        con.print(f"report: {report}")
    if fail_on is not None:
        n = rows_at_or_worse(ev.results, fail_on.value)
        if n:
            con.print(f"{n:,} results are {fail_on.value} or worse (--fail-on)")
            raise typer.Exit(ExitCode.FINDINGS)
