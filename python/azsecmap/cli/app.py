"""Top-level Typer application and exit codes."""

from __future__ import annotations

import sys

import typer

from .exit_codes import ExitCode
from .frameworks import frameworks_app, map_control
from .graph import crosswalk, graph_app
from .policy import policy_app
from .resource_graph import resource_graph
from .results import diff, report
from .sample import sample
from .scan import scan

__all__ = ["ExitCode", "app", "main"]


app = typer.Typer(
    name="azsecmap",
    help="Evaluate Azure resources against Azure Policy rules offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("scan")(scan)
app.command("report")(report)
app.command("diff")(diff)
app.add_typer(policy_app, name="policy")
app.command("sample")(sample)
app.add_typer(frameworks_app, name="frameworks")
app.command("map")(map_control)
app.command("crosswalk")(crosswalk)
app.add_typer(graph_app, name="graph")
app.command("resource-graph")(resource_graph)


@app.callback()
def _root() -> None:
    """azsecmap: Azure Policy evaluation and compliance mapping, offline."""


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
