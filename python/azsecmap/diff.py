"""What changed between two scans: new, fixed and unchanged findings.

A finding is a non-compliant (resource, policy) pair, keyed by ``resource_id`` and
``policy_id``. It is *new* when the newer results have it and the older do not, *fixed* when
only the older have it, *unchanged* when both do.

>>> import polars as pl
>>> old = pl.DataFrame({"resource_id": ["a", "b"], "policy_id": ["p", "p"],
...                     "state": ["non_compliant", "non_compliant"]})
>>> new = pl.DataFrame({"resource_id": ["b", "c"], "policy_id": ["p", "p"],
...                     "state": ["non_compliant", "non_compliant"]})
>>> d = diff_results(old, new)
>>> d.counts()
{'new': 1, 'fixed': 1, 'unchanged': 1}
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from .evaluation import Evaluation

__all__ = ["FindingsDiff", "diff_results"]

_KEY = ["resource_id", "policy_id"]


@dataclass(frozen=True)
class FindingsDiff:
    """The outcome of :func:`diff_results`.

    Attributes:
        frame: one row per finding in either input: ``change`` (``new``, ``fixed``,
            ``unchanged``), ``resource_id``, ``policy_id``, ``resource_type``, ``reason``
            (from the newer results when present, else the older), sorted by change, policy
            and resource.
    """

    frame: pl.DataFrame

    def of(self, change: str) -> pl.DataFrame:
        """The rows of one kind of change."""
        return self.frame.filter(pl.col("change") == change)

    @property
    def new(self) -> pl.DataFrame:
        """Findings only the newer results have."""
        return self.of("new")

    @property
    def fixed(self) -> pl.DataFrame:
        """Findings only the older results have."""
        return self.of("fixed")

    @property
    def unchanged(self) -> pl.DataFrame:
        """Findings both have."""
        return self.of("unchanged")

    def counts(self) -> dict[str, int]:
        """How many findings of each kind."""
        return {k: self.of(k).height for k in ("new", "fixed", "unchanged")}


def _findings(results: pl.DataFrame | Evaluation) -> pl.DataFrame:
    df = results.results if isinstance(results, Evaluation) else results
    extra = [c for c in ("resource_type", "reason") if c in df.columns]
    return (
        df.filter(pl.col("state").cast(pl.String) == "non_compliant")
        .select(
            pl.col("resource_id").cast(pl.String),
            pl.col("policy_id").cast(pl.String),
            *(pl.col(c).cast(pl.String) for c in extra),
        )
        .with_columns(
            pl.lit(None, dtype=pl.String).alias(c)
            for c in ("resource_type", "reason")
            if c not in extra
        )
        .unique(subset=_KEY, keep="first")
    )


def diff_results(old: pl.DataFrame | Evaluation, new: pl.DataFrame | Evaluation) -> FindingsDiff:
    """Compare the non-compliant pairs of two results frames (or evaluations)."""
    a, b = _findings(old), _findings(new)
    change = (
        pl.when(pl.col("_in_old") & pl.col("_in_new"))
        .then(pl.lit("unchanged"))
        .when(pl.col("_in_new"))
        .then(pl.lit("new"))
        .otherwise(pl.lit("fixed"))
    )
    marked_a = a.with_columns(pl.lit(True).alias("_in_old"))
    marked_b = b.with_columns(pl.lit(True).alias("_in_new"))
    joined = marked_a.join(marked_b, on=_KEY, how="full", coalesce=True, suffix="_new")
    frame = joined.select(
        change.alias("change"),
        *_KEY,
        pl.coalesce("resource_type_new", "resource_type").alias("resource_type"),
        pl.coalesce("reason_new", "reason").alias("reason"),
    )
    order = pl.col("change").replace_strict({"new": 0, "fixed": 1, "unchanged": 2}, default=3)
    frame = frame.sort(order, "policy_id", "resource_id")
    return FindingsDiff(frame)
