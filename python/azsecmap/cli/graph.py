"""`azsecmap crosswalk A B` and `azsecmap graph export`: whole-catalog outputs."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.console import Console
from rich.markup import escape

from ..catalog import Catalog
from ..errors import AzsecmapError
from .frameworks import MaxHops, MinStrength, PublishedOnly

graph_app = typer.Typer(help="The control graph as a whole.", no_args_is_help=True)


class GraphFormat(str, Enum):
    """Export formats of `graph export`."""

    graphml = "graphml"
    json = "json"


def _fail(exc: Exception) -> typer.Exit:
    Console(stderr=True, soft_wrap=True).print(f"error: {escape(str(exc))}")
    return typer.Exit(2)


def crosswalk(
    a: Annotated[str, typer.Argument(help="Source framework id.")],
    b: Annotated[str, typer.Argument(help="Target framework id.")],
    out: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    min_strength: MinStrength = 0.0,
    max_hops: MaxHops = 2,
    published_only: PublishedOnly = False,
) -> None:
    """Write the best mapping of every control of A into B as CSV (empty target: none).

    Example:

        azsecmap crosswalk MCSB_v1 NIST_SP_800-53_R5 --out mcsb-to-nist.csv
    """
    try:
        df = Catalog.builtin().coverage(
            a, b, min_strength=min_strength, max_hops=max_hops, include_derived=not published_only
        )
    except AzsecmapError as exc:
        raise _fail(exc) from None
    df.with_columns(pl.col("path").list.join(" > ")).write_csv(out)
    mapped = df.filter(pl.col("target").is_not_null()).height
    typer.echo(f"{out}: {df.height} controls of {a}, {mapped} mapped into {b}")


@graph_app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="File to write.")],
    fmt: Annotated[GraphFormat, typer.Option("--format", help="graphml or json.")] = (
        GraphFormat.graphml
    ),
    include_derived: Annotated[
        bool, typer.Option("--include-derived", help="Add shares_policy edges (GraphML only).")
    ] = False,
) -> None:
    """Export the catalog: GraphML (nodes and edges) or JSON (the catalog document).

    Example:

        azsecmap graph export --format graphml --out catalog.graphml
    """
    try:
        cat = Catalog.builtin()
        if fmt is GraphFormat.graphml:
            cat.to_graphml(out, include_derived=include_derived)
        else:
            cat.to_json(out)
    except AzsecmapError as exc:
        raise _fail(exc) from None
    typer.echo(f"wrote {out}")
