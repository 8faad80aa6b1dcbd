"""`azsecmap policy …`: test one policy against one resource."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from ..errors import AzsecmapError
from ..policy import evaluate_policy

policy_app = typer.Typer(help="Work with policy definitions.", no_args_is_help=True)


def parse_assignments(items: list[str]) -> dict[str, Any]:
    """Parse `-p name=value` options; a value that is valid JSON is taken as JSON."""
    out: dict[str, Any] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"expected name=value, got `{item}`", param_hint="-p")
        try:
            out[name] = json.loads(raw)
        except json.JSONDecodeError:
            out[name] = raw
    return out


@policy_app.command("test")
def test(
    policy: Annotated[Path, typer.Argument(help="Policy definition file (JSON).")],
    resource: Annotated[Path, typer.Argument(help="ARM resource document (JSON).")],
    param: Annotated[
        list[str] | None,
        typer.Option("-p", "--param", help="Parameter value, name=value (JSON or text)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the decision as JSON.")] = False,
    now: Annotated[
        str | None, typer.Option(help="Clock for utcNow(), RFC 3339 (default: now).")
    ] = None,
) -> None:
    """Evaluate POLICY on RESOURCE and print matched, effect and the reasons.

    Example:

        azsecmap policy test examples/storage-secure-transfer.json examples/storage-account.json
    """
    err = Console(stderr=True, soft_wrap=True)
    try:
        params = parse_assignments(param or [])
        decision = evaluate_policy(policy, resource, params, now=now)
    except typer.BadParameter as exc:
        err.print(f"error: {escape(str(exc))}")
        raise typer.Exit(2) from None
    except AzsecmapError as exc:
        err.print(f"error: {escape(str(exc))}")
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "matched": decision.matched,
                    "effect": decision.effect,
                    "applicable": decision.applicable,
                    "note": decision.note,
                    "reasons": decision.details,
                    "warnings": decision.warnings,
                },
                indent=2,
            )
        )
        return
    out = Console(highlight=False, soft_wrap=True)
    out.print(f"matched: {'yes' if decision.matched else 'no'}")
    out.print(f"effect:  {decision.effect or '-'}")
    if decision.note:
        out.print(f"note:    {escape(decision.note)}")
    for w in decision.warnings:
        out.print(f"warning: {escape(w)}")
    if decision.reasons:
        out.print("reasons:")
        for r in decision.reasons:
            out.print(f"  - {escape(r)}")
