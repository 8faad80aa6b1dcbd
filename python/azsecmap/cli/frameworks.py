"""`azsecmap frameworks …` and `azsecmap map …`: list, show and import frameworks, and
cross-map one control. A thin shell over :mod:`azsecmap.catalog`."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from ..catalog import Catalog, import_file
from ..errors import AzsecmapError

#: Options shared by `map` and `crosswalk`.
MinStrength = Annotated[float, typer.Option(help="Drop weaker mappings.")]
MaxHops = Annotated[int, typer.Option(help="Longest published path.")]
PublishedOnly = Annotated[
    bool, typer.Option("--published-only", help="Leave out derived shares_policy rows.")
]

frameworks_app = typer.Typer(help="Framework catalogs: list, show, import.", no_args_is_help=True)


class OutputFormat(str, Enum):
    """How `map` prints its rows."""

    table = "table"
    csv = "csv"
    json = "json"


def _fail(exc: Exception) -> typer.Exit:
    Console(stderr=True, soft_wrap=True).print(f"error: {escape(str(exc))}")
    return typer.Exit(2)


def _table(df: pl.DataFrame, title: str | None = None) -> Table:
    t = Table(title=title, show_lines=False)
    for i, c in enumerate(df.columns):
        t.add_column(c, overflow="fold", no_wrap=i == 0)
    for row in df.iter_rows():
        t.add_row(*("" if v is None else escape(str(v)) for v in row))
    return t


@frameworks_app.command("list")
def list_frameworks() -> None:
    """List the frameworks of the bundled catalog plus your imports.

    Example:

        azsecmap frameworks list
    """
    try:
        df = Catalog.builtin().frameworks()
    except AzsecmapError as exc:
        raise _fail(exc) from None
    cols = ["framework", "title", "version", "controls", "policies", "satisfies", "mappings"]
    Console(highlight=False, soft_wrap=True).print(_table(df.select(cols)))


@frameworks_app.command("show")
def show(
    framework: Annotated[str, typer.Argument(help="Framework id, e.g. NIST_SP_800-53_R5.")],
    tree: Annotated[bool, typer.Option("--tree", help="Print the control hierarchy.")] = False,
) -> None:
    """Show the controls of FRAMEWORK.

    Example:

        azsecmap frameworks show NIST_SP_800-53_R5 --tree
    """
    try:
        df = Catalog.builtin().controls(framework, include_families=tree)
    except AzsecmapError as exc:
        raise _fail(exc) from None
    out = Console(highlight=False, soft_wrap=True)
    if not tree:
        cols = ["id", "title", "parent", "policies", "automated_policies"]
        out.print(_table(df.select(cols), title=framework))
        return
    root = Tree(framework)
    nodes: dict[str, Tree] = {f"framework:{framework}": root}
    for row in df.sort("depth", maintain_order=True).iter_rows(named=True):
        label = row["id"] + (f"  {row['title']}" if row["title"] else "")
        if row["kind"] == "family":
            label = f"[bold]{escape(label)}[/bold]"
        else:
            label = escape(label) + f"  ({row['policies']} policies)"
        parent = nodes.get(row["parent"] or "", root)
        nodes[row["control"]] = parent.add(label)
    out.print(root)


@frameworks_app.command("import")
def import_(
    file: Annotated[
        Path, typer.Argument(help="Initiative JSON, OSCAL JSON, crosswalk CSV or our YAML/JSON.")
    ],
    framework: Annotated[
        str | None,
        typer.Option(help="Framework id, when the file does not tell it (initiative, OSCAL)."),
    ] = None,
    definitions: Annotated[
        Path | None,
        typer.Option(help="Folder of policy definitions, to record each policy's default effect."),
    ] = None,
) -> None:
    """Normalise FILE into the user catalog directory ($AZSECMAP_CATALOG_DIR).

    Example:

        azsecmap frameworks import my-framework.yaml
    """
    try:
        out = import_file(file, framework=framework, definitions=definitions)
    except AzsecmapError as exc:
        raise _fail(exc) from None
    typer.echo(f"imported {file} -> {out}")


def map_control(
    control: Annotated[str, typer.Argument(help="Control id FRAMEWORK:CONTROL.")],
    to: Annotated[str, typer.Option("--to", help="Target framework id.")],
    min_strength: MinStrength = 0.0,
    max_hops: MaxHops = 2,
    published_only: PublishedOnly = False,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = (
        OutputFormat.table
    ),
) -> None:
    """Cross-map CONTROL into framework --to, with relationship, strength and evidence.

    Example:

        azsecmap map PCI_DSS_v4.0.1:1.2.1 --to NIST_SP_800-53_R5
    """
    try:
        df = Catalog.builtin().map(
            control,
            to=to,
            min_strength=min_strength,
            max_hops=max_hops,
            include_derived=not published_only,
        )
    except AzsecmapError as exc:
        raise _fail(exc) from None
    if fmt is OutputFormat.json:
        typer.echo(json.dumps(df.to_dicts(), indent=2))
        return
    flat = df.with_columns(
        pl.col("path").list.join(" > "),
        pl.col("provenance").list.join(" | "),
        pl.col("shared_policies").list.join(" "),
    )
    if fmt is OutputFormat.csv:
        typer.echo(flat.write_csv(), nl=False)
        return
    cols = ["target", "relationship", "strength", "hops", "published", "evidence"]
    out = Console(highlight=False, soft_wrap=True)
    if df.is_empty():
        out.print(f"no mapping of {escape(control)} into {escape(to)}")
        return
    out.print(_table(flat.select(cols).with_columns(pl.col("strength").round(4)), title=control))
