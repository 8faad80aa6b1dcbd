"""Per-framework scores for outputs, the report and the scan summary: the per-control frame
of :meth:`Evaluation.score` and the four scores of :meth:`Evaluation.summary`, in the shape the
report and the CLI render."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from .catalog import Catalog
    from .evaluation import Evaluation

__all__ = ["FrameworkScores", "Score", "framework_scores"]

SCORE_LABELS = {
    "azure": "Azure-style",
    "strict": "Strict",
    "coverage": "Coverage",
    "secure_score": "Secure score",
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


def framework_scores(ev: Evaluation, catalog: Catalog, framework: str) -> FrameworkScores:
    """The per-control frame and the four scores of `framework` for `ev`. To count the
    controls a pack's own rules declare, pass ``catalog.with_pack(pack)`` (or
    ``catalog.with_policy_controls(info)`` for results read back from a file)."""
    controls = ev.score(catalog, framework)
    summary = ev.summary(catalog, framework)
    scores = [
        Score(str(r["score"]), float(r["numerator"]), float(r["denominator"]))
        for r in summary.iter_rows(named=True)
    ]
    return FrameworkScores(framework, controls, scores)
