"""Per-framework scores for outputs, the report and the scan summary.

Uses ``Evaluation.score(catalog, framework)`` and ``Evaluation.summary(catalog, framework)``
(the roll-up of issue 5 item 1). Until that roll-up is merged into this branch, a small
interim roll-up below computes the same shape so the report and ``scan`` work end to end;
:data:`INTERIM` says which one ran. The interim one is removed when the roll-up lands.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from .catalog import Catalog
    from .evaluation import Evaluation

__all__ = ["INTERIM", "FrameworkScores", "Score", "framework_scores"]

#: True while the interim roll-up stands in for ``Evaluation.score``.
INTERIM: bool = False

SCORE_LABELS = {
    "azure": "Azure-style",
    "strict": "Strict",
    "coverage": "Coverage",
    "secure": "Secure score",
}


@dataclass(frozen=True)
class Score:
    """One framework score with its fraction: ``value = numerator / denominator``."""

    name: str
    numerator: float
    denominator: float

    @property
    def value(self) -> float | None:
        """The score in 0..1, or None when the denominator is zero."""
        return self.numerator / self.denominator if self.denominator else None

    @property
    def label(self) -> str:
        """A human name for the score."""
        return SCORE_LABELS.get(self.name, self.name)


@dataclass(frozen=True)
class FrameworkScores:
    """Per-control frame and the four scores of one framework."""

    framework: str
    controls: pl.DataFrame
    scores: list[Score]
    interim: bool


def _normalise_summary(raw: Any) -> list[Score]:
    """Accept the summary as a frame (one row per score, or one row with ``<name>_numerator``
    columns), a mapping ``name -> {numerator, denominator}``, or objects with those
    attributes."""
    out: list[Score] = []
    if isinstance(raw, pl.DataFrame):
        if "numerator" in raw.columns:
            key = next(c for c in ("score", "name", "metric", "kind") if c in raw.columns)
            for r in raw.iter_rows(named=True):
                out.append(Score(str(r[key]), float(r["numerator"]), float(r["denominator"])))
            return out
        row = raw.row(0, named=True)
        for name in SCORE_LABELS:
            if f"{name}_numerator" in row:
                out.append(
                    Score(name, float(row[f"{name}_numerator"]), float(row[f"{name}_denominator"]))
                )
        return out
    items = raw.items() if isinstance(raw, dict) else ((getattr(s, "name", ""), s) for s in raw)
    for name, s in items:
        num: Any = s["numerator"] if isinstance(s, dict) else s.numerator
        den: Any = s["denominator"] if isinstance(s, dict) else s.denominator
        out.append(Score(str(name), float(num), float(den)))
    return out


def framework_scores(
    ev: Evaluation,
    catalog: Catalog,
    framework: str,
    info: Mapping[str, Mapping[str, Any]] | None = None,
) -> FrameworkScores:
    """The per-control frame and the four scores of `framework` for `ev`. `info` (policy id →
    ``controls``) adds the rule pack's own control claims to the catalog's edges."""
    score: Any = getattr(ev, "score", None)
    if score is not None:
        summary: Any = ev.summary
        controls = score(catalog, framework)
        return FrameworkScores(
            framework, controls, _normalise_summary(summary(catalog, framework)), False
        )
    controls = _interim_controls(ev.results, catalog, framework, info or {})
    return FrameworkScores(framework, controls, _interim_summary(controls), True)


# --- interim roll-up (replaced by Evaluation.score once merged) ------------------------------


def _interim_controls(
    results: pl.DataFrame,
    catalog: Catalog,
    framework: str,
    info: Mapping[str, Mapping[str, Any]],
) -> pl.DataFrame:
    ctl = catalog.controls(framework, include_families=True)
    fam_of = {}
    for r in ctl.iter_rows(named=True):
        if r["kind"] == "family":
            continue
        parent = r["parent"] or ""
        fam_of[r["control"]] = parent.split(":", 1)[1] if ":" in parent else parent
    edges = catalog.node_link()["edges"]
    policies: dict[str, list[str]] = {c: [] for c in fam_of}
    for e in edges:
        if e.get("kind") == "satisfies":
            u, v = str(e["u"]), str(e["v"])
            pol, con = (u, v) if u.startswith("policy:") else (v, u)
            if con in policies:
                policies[con].append(pol.removeprefix("policy:"))
    for pid, meta in info.items():
        for con in meta.get("controls") or []:
            if con in policies:
                policies[con].append(pid)
    automated = {
        r["control"]: (r["automated_policies"] or 0) > 0 or bool(policies.get(r["control"]))
        for r in ctl.iter_rows(named=True)
    }
    per_pol = results.select(
        pl.col("policy_id").cast(pl.String),
        pl.col("resource_id").cast(pl.String),
        pl.col("state").cast(pl.String),
    )
    link = pl.DataFrame(
        [(c, p) for c, ps in policies.items() for p in ps],
        schema={"control_id": pl.String, "policy_id": pl.String},
        orient="row",
    )
    joined = link.join(per_pol, on="policy_id", how="inner")
    counts = joined.group_by("control_id", "state").agg(pl.col("resource_id").n_unique())
    tally: dict[str, dict[str, int]] = {}
    for r in counts.iter_rows(named=True):
        tally.setdefault(r["control_id"], {})[r["state"]] = r["resource_id"]
    rows = []
    for c, fam in fam_of.items():
        t = tally.get(c, {})
        n = {s: t.get(s, 0) for s in ("compliant", "non_compliant", "exempt", "unknown")}
        if not automated.get(c):
            state = "manual"
        elif n["non_compliant"]:
            state = "non_compliant"
        elif n["compliant"]:
            state = "compliant"
        elif n["exempt"]:
            state = "exempt"
        elif n["unknown"]:
            state = "unknown"
        else:
            state = "not_applicable"
        rows.append(
            {
                "control_id": c,
                "family": fam,
                "state": state,
                "automated": bool(automated.get(c)),
                "policies": sorted(set(policies[c])),
                **n,
                "derived": False,
                "strength": 1.0,
            }
        )
    schema: dict[str, Any] = {
        "control_id": pl.String,
        "family": pl.String,
        "state": pl.String,
        "automated": pl.Boolean,
        "policies": pl.List(pl.String),
        "compliant": pl.Int64,
        "non_compliant": pl.Int64,
        "exempt": pl.Int64,
        "unknown": pl.Int64,
        "derived": pl.Boolean,
        "strength": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema)


def _interim_summary(controls: pl.DataFrame) -> list[Score]:
    states = controls["state"].to_list()
    total = len(states)
    judged = [s for s in states if s != "not_applicable"]
    azure_ok = sum(s in ("compliant", "exempt", "unknown", "manual") for s in judged)
    strict_ok = sum(s in ("compliant", "exempt") for s in judged)
    evidence = sum(s in ("compliant", "non_compliant", "exempt") for s in states)
    secure_num = 0.0
    secure_den = 0
    for r in controls.iter_rows(named=True):
        healthy, unhealthy = r["compliant"], r["non_compliant"]
        if healthy + unhealthy:
            secure_num += healthy / (healthy + unhealthy)
            secure_den += 1
    return [
        Score("azure", azure_ok, len(judged)),
        Score("strict", strict_ok, len(judged)),
        Score("coverage", evidence, total),
        Score("secure", round(secure_num, 6), secure_den),
    ]
