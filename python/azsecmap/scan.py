"""One scan, end to end: resources and a pack in, an evaluation and framework scores out.

The library half of ``azsecmap scan``; the command only parses options and renders.

>>> import azsecmap
>>> outcome = run_scan(azsecmap.PolicyPack.builtin(), azsecmap.Resources.sample(300, seed=2),
...                    azsecmap.Catalog.builtin(include_user=False), ["MCSB_v1"])
>>> outcome.evaluation.resource_count, [s.name for s in outcome.scores[0].scores]
(300, ['azure', 'strict', 'coverage', 'secure_score'])
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from ._scores import FrameworkScores, framework_scores
from .catalog import Catalog
from .errors import ResourceError
from .evaluation import Evaluation, evaluate, evaluate_batches
from .exemptions import Exemptions
from .outputs import PolicyInfo, policy_info
from .policy import PolicyPack
from .resources import Resources

__all__ = [
    "DEFAULT_FRAMEWORKS",
    "FAIL_ORDER",
    "ScanOutcome",
    "assigned_controls",
    "load_resources",
    "rows_at_or_worse",
    "run_scan",
]

#: Frameworks scored when none is named.
DEFAULT_FRAMEWORKS = ("MCSB_v1", "NIST_SP_800-53_R5", "PCI_DSS_v4.0.1", "CIS_Azure_3.0.0")

#: Result states from least to most severe, for ``--fail-on``: failing on a state also fails
#: on every state after it (an evaluation error is worse than a finding: nothing was checked).
FAIL_ORDER = ("compliant", "exempt", "unknown", "non_compliant", "error")


@dataclass
class ScanOutcome:
    """What :func:`run_scan` returns: the evaluation, scores per framework, policy info."""

    evaluation: Evaluation
    scores: list[FrameworkScores]
    info: PolicyInfo


def load_resources(path: str | os.PathLike[str]) -> Resources:
    """Resources from a file: NDJSON (``.ndjson``, ``.jsonl``) or JSON (anything else: an
    array or a Resource Graph page)."""
    name = os.fspath(path).lower()
    if not Path(path).is_file():
        raise ResourceError("no such file", "", os.fspath(path))
    if name.endswith((".ndjson", ".jsonl")):
        return Resources.from_ndjson(path)
    return Resources.from_json(path)


def assigned_controls(pack: PolicyPack, catalog: Catalog) -> dict[str, dict[str, Any]]:
    """For each assigned policy (id ``<assignment>:<reference>``), the controls the catalog
    links to its definition (by the definition's name, a GUID for built-ins), in the shape
    `Catalog.with_policy_controls` takes. Empty for a pack not read from Azure."""
    assigned = [p for p in pack if p.assigned is not None]
    if not assigned:
        return {}
    linked: dict[str, list[str]] = {}
    for e in catalog.node_link()["edges"]:
        if e["kind"] == "satisfies":
            linked.setdefault(e["u"], []).append(e["v"])
    out: dict[str, dict[str, Any]] = {}
    for p in assigned:
        definition = p.assigned.definition_id if p.assigned is not None else ""
        controls = linked.get(f"policy:{definition.rstrip('/').rsplit('/', 1)[-1]}")
        if controls:
            out[p.id] = {
                "controls": sorted(controls),
                "effect": p.default_effect,
                "source": p.source,
            }
    return out


def rows_at_or_worse(results: pl.DataFrame, state: str) -> int:
    """How many result rows are in `state` or a more severe one (see :data:`FAIL_ORDER`)."""
    if state not in FAIL_ORDER:
        raise ValueError(f"unknown state `{state}` (one of {', '.join(FAIL_ORDER)})")
    worse = list(FAIL_ORDER[FAIL_ORDER.index(state) :])
    return results.filter(pl.col("state").cast(pl.String).is_in(worse)).height


def run_scan(
    pack: PolicyPack,
    resources: Resources,
    catalog: Catalog,
    frameworks: Sequence[str],
    *,
    exemptions: Exemptions | None = None,
    on_batch: Callable[[pl.DataFrame], None] | None = None,
) -> ScanOutcome:
    """Evaluate `pack` on `resources` and score each framework.

    NDJSON sources (files, records, the sample tenant) are evaluated block by block through
    :func:`evaluate_batches`, calling `on_batch` with each block's results (a progress bar
    hooks in there); JSON files are evaluated in one call.
    """
    if resources._kind == "json":
        ev = evaluate(pack, resources, exemptions=exemptions)
        if on_batch is not None:
            on_batch(ev.results)
    else:
        stream = evaluate_batches(pack, resources, exemptions=exemptions)
        frames = []
        for frame in stream:
            frames.append(frame)
            if on_batch is not None:
                on_batch(frame)
        results = pl.concat(frames, how="vertical_relaxed") if frames else None
        if results is None:
            empty = evaluate(pack, Resources.from_records([]))
            results = empty.results
        ev = Evaluation(
            results=results,
            load_errors=stream.load_errors,
            policy_errors=stream.policy_errors,
            resource_count=stream.resource_count,
            expired_exemptions=stream.expired_exemptions,
        )
    info = policy_info(pack, catalog)
    # The controls our own rules declare count as evidence next to the initiatives' edges, and
    # an assigned policy (`PolicyPack.from_azure`) gives evidence where its definition does.
    scored_with = catalog.with_pack(pack).with_policy_controls(assigned_controls(pack, catalog))
    scores = [framework_scores(ev, scored_with, fw) for fw in frameworks]
    return ScanOutcome(ev, scores, info)
