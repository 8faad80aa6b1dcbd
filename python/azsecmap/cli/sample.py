"""`azsecmap sample`: write the deterministic synthetic tenant."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from .. import _core
from ..errors import AzsecmapError


def sample(
    resources: Annotated[int, typer.Option("--resources", "-n", min=0, help="Resources to write.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="NDJSON file to write.")],
    seed: Annotated[
        int, typer.Option(min=0, help="Seed; the same seed gives the same tenant.")
    ] = 0,
) -> None:
    """Write a deterministic synthetic tenant (NDJSON, one resource per line).

    Example:

        azsecmap sample --resources 100000 --out tenant.ndjson --seed 0
    """
    try:
        docs, size, by_type = _core.write_sample(str(out), resources, seed)
    except AzsecmapError as exc:
        Console(stderr=True, soft_wrap=True).print(f"error: {escape(str(exc))} ({out})")
        raise typer.Exit(2) from None
    con = Console(highlight=False, soft_wrap=True)
    con.print(f"wrote {docs:,} resources ({size / 1e6:,.1f} MB) of {len(by_type)} types to {out}")
