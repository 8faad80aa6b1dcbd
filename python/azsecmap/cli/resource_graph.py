"""`azsecmap resource-graph`: read a live tenant from Azure Resource Graph into NDJSON.

Kept apart from `scan` on purpose: the file it writes is what `scan --resources` reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from ..errors import AzsecmapError


def resource_graph(
    out: Annotated[Path, typer.Option("--out", "-o", help="NDJSON file to write.")],
    subscription: Annotated[
        list[str] | None,
        typer.Option("--subscription", "-s", help="Subscription id (repeatable)."),
    ] = None,
    management_group: Annotated[
        list[str] | None,
        typer.Option("--management-group", "-m", help="Management group name (repeatable)."),
    ] = None,
    endpoint: Annotated[
        str | None, typer.Option(help="ARM endpoint (default https://management.azure.com).")
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Read every resource the signed-in identity can see (DefaultAzureCredential)."""
    from ..resource_graph import write_resource_graph

    err = Console(stderr=True, soft_wrap=True)
    try:
        read = write_resource_graph(
            out,
            None,
            subscription or None,
            management_group or None,
            None,
            endpoint,
            progress=progress,
        )
    except (AzsecmapError, ValueError) as exc:
        err.print(f"error: {escape(str(exc))}")
        raise typer.Exit(2) from None
    Console(highlight=False, soft_wrap=True).print(
        f"wrote {read.resources:,} resources ({read.pages} pages, {read.retries} retries) to {out}"
    )
