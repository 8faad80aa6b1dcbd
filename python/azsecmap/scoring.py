"""Roll evaluation results up through the catalog: per-control states and framework scores.

Everything here is Polars expressions over the result frame; the only Python loops run over
catalog controls (hundreds), never over result rows. ``docs/scoring.md`` is the reference for
every rule below.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING

import polars as pl

from .errors import AzsecmapError

if TYPE_CHECKING:
    from .catalog import Catalog

__all__ = [
    "CONTROL_STATES",
    "EVIDENCE_STATES",
    "PRECEDENCE",
    "SCORES",
    "group_columns",
    "score_frame",
    "summary_frame",
]

#: Per-resource states that are evidence, strongest first. A resource's state for a control
#: is the first of these any of the control's policies gave it; a control's state is the
#: first any of its resources has. Azure documents the order non-compliant, compliant,
#: conflict, exempt, unknown for regulatory-compliance controls; `error` goes after compliant
#: as in the roll-up ranking of Azure's compliance-states page (docs/scoring.md). `conflict`
#: is kept for results imported from Azure (the engine never produces it).
PRECEDENCE: tuple[str, ...] = (
    "non_compliant",
    "compliant",
    "error",
    "conflict",
    "exempt",
    "unknown",
)
EVIDENCE_STATES = PRECEDENCE

#: Every value of the per-control ``state`` column.
CONTROL_STATES: tuple[str, ...] = (*PRECEDENCE, "no_evidence", "manual")

#: Rows of :func:`summary_frame`, in order.
SCORES: tuple[str, ...] = ("azure", "strict", "coverage", "secure_score")

_RANK = {s: len(PRECEDENCE) - i for i, s in enumerate(PRECEDENCE)}  # higher wins
_COUNTED = ("compliant", "non_compliant", "error", "conflict", "exempt", "unknown")

_SUB = r"(?i)^/subscriptions/([^/]+)"
_RG = r"(?i)^/subscriptions/[^/]+/resourcegroups/([^/]+)"


def group_columns(by: str | None) -> list[str]:
    """The columns a ``by`` split adds: none, ``subscription_id``, or ``subscription_id``
    and ``resource_group`` (a resource group name is unique only inside its subscription)."""
    if by is None:
        return []
    if by == "subscription":
        return ["subscription_id"]
    if by == "resource_group":
        return ["subscription_id", "resource_group"]
    raise AzsecmapError(f"`by` must be None, `subscription` or `resource_group`, not `{by}`")


def _with_groups(frame: pl.DataFrame, by: str | None) -> pl.DataFrame:
    """Add the ``by`` columns, taken from ``resource_id`` and lower-cased (Azure ids are
    case-insensitive). Subscription-level resources have a null ``resource_group``."""
    cols = group_columns(by)
    if not cols:
        return frame
    rid = pl.col("resource_id").cast(pl.String)
    # "" stands for "none" while joining (null keys never join); _restore_nulls undoes it
    exprs = [rid.str.extract(_SUB, 1).str.to_lowercase().fill_null("").alias("subscription_id")]
    if "resource_group" in cols:
        exprs.append(
            rid.str.extract(_RG, 1).str.to_lowercase().fill_null("").alias("resource_group")
        )
    return frame.with_columns(exprs)


def _restore_nulls(keys: list[str]) -> list[pl.Expr]:
    return [pl.when(pl.col(k) == "").then(None).otherwise(pl.col(k)).alias(k) for k in keys]


# --- the catalog side ---------------------------------------------------------------------


def _control_table(catalog: Catalog, framework: str) -> pl.DataFrame:
    """``control_id`` and ``family`` (local id of the top-level ancestor; null for a
    top-level control) for every declared control of `framework`, in catalog order; for a
    framework no document declares, the external controls mappings name."""
    every = catalog.controls(framework, include_families=True)
    if every.height == 0:
        raise AzsecmapError(f"framework `{framework}` has no controls in this catalog")
    parent = dict(zip(every["control"], every["parent"], strict=True))
    local = dict(zip(every["control"], every["id"], strict=True))
    declared = every.filter(pl.col("kind") == "control")
    if declared.height == 0:  # a framework only mappings name, e.g. NIST SP 800-53 R4
        declared = every.filter(pl.col("kind") == "external_control")
    top: dict[str, str | None] = {}
    for node in declared["control"]:
        up = parent.get(node)
        chain = node
        while up is not None and up in parent:  # stops at the framework node
            chain, up = up, parent.get(up)
        top[node] = local[chain] if chain != node else None
    return pl.DataFrame(
        {"control_id": list(top), "family": list(top.values())},
        schema={"control_id": pl.String, "family": pl.String},
    )


def _satisfies(catalog: Catalog, framework: str | None = None) -> pl.DataFrame:
    """Every ``satisfies`` edge: ``policy_id``, ``control_id``, ``effect`` (read from the
    graph once per catalog: a catalog does not change)."""
    df = _SATISFIES.get(catalog)
    if df is None:
        df = _SATISFIES[catalog] = _read_satisfies(catalog)
    if framework is not None:
        df = df.filter(pl.col("control_id").str.starts_with(framework + ":"))
    return df


def _read_satisfies(catalog: Catalog) -> pl.DataFrame:
    edges = [
        (e["u"].removeprefix("policy:"), e["v"], e.get("effect"))
        for e in catalog.node_link()["edges"]
        if e.get("kind") == "satisfies"
    ]
    return pl.DataFrame(
        edges,
        schema={"policy_id": pl.String, "control_id": pl.String, "effect": pl.String},
        orient="row",
    )


def _evidence_edges(
    catalog: Catalog, framework: str, via: str | None, min_strength: float, max_hops: int
) -> pl.DataFrame:
    """Policy → control edges the roll-up follows: ``control_id``, ``policy_id``, ``effect``,
    ``strength`` (null when direct) and ``via_controls``.

    Direct: the framework's own ``satisfies`` edges. Through `via`: a policy counts for
    control *b* when it satisfies a control *a* of `via` that a published mapping path
    (:meth:`Catalog.map` with ``include_derived=False``) leads from *a* to *b*; the edge's
    strength is the strongest such path.
    """
    direct = _satisfies(catalog, framework if via is None else via)
    if via is None:
        return direct.with_columns(
            pl.lit(None, dtype=pl.Float64).alias("strength"),
            pl.lit(None, dtype=pl.List(pl.String)).alias("via_controls"),
        )
    hops: list[tuple[str, str, float]] = []
    for source in catalog.controls(via)["control"]:
        hits = catalog.map(
            source,
            to=framework,
            min_strength=min_strength,
            max_hops=max_hops,
            include_derived=False,
        )
        hops.extend(zip([source] * hits.height, hits["target"], hits["strength"], strict=True))
    mapped = pl.DataFrame(
        hops,
        schema={"source": pl.String, "target": pl.String, "strength": pl.Float64},
        orient="row",
    )
    return (
        direct.join(mapped, left_on="control_id", right_on="source")
        .group_by("target", "policy_id")
        .agg(
            pl.col("effect").first(),
            pl.col("strength").max(),
            pl.col("control_id").unique().sort().alias("via_controls"),
        )
        .rename({"target": "control_id"})
    )


# --- the roll-up ----------------------------------------------------------------------------


def _worst_states(results: pl.DataFrame, edges: pl.DataFrame) -> pl.DataFrame:
    """Per (control, resource) with evidence, the strongest state's ``rank``.

    Works on the physical codes of the categorical id columns (a string column is its own
    code), so no per-row string is built: policy ids are translated to controls on the
    distinct policies, and rows meet them in an integer join.
    """
    rows = results.select(
        pl.col("resource_id").to_physical().alias("_res"),
        pl.col("policy_id").to_physical().alias("_pol"),
        pl.col("state").replace_strict(_RANK, default=None, return_dtype=pl.Int8).alias("rank"),
    ).filter(pl.col("rank").is_not_null())
    policies = (
        results.select(pl.col("policy_id").unique())
        .select(
            pl.col("policy_id").to_physical().alias("_pol"),
            pl.col("policy_id").cast(pl.String),
        )
        .join(edges.select("policy_id", "control_id"), on="policy_id")
        .drop("policy_id")
    )
    return rows.join(policies, on="_pol").group_by("control_id", "_res").agg(pl.col("rank").max())


def _resource_groups(results: pl.DataFrame, by: str | None) -> pl.DataFrame:
    """``_res`` (resource id code) and the ``by`` columns, one row per distinct resource."""
    unique = results.select(pl.col("resource_id").unique())
    return _with_groups(
        unique.with_columns(pl.col("resource_id").to_physical().alias("_res")), by
    ).drop("resource_id")


_SATISFIES: weakref.WeakKeyDictionary[Catalog, pl.DataFrame] = weakref.WeakKeyDictionary()


def score_frame(
    results: pl.DataFrame,
    catalog: Catalog,
    framework: str,
    *,
    by: str | None = None,
    via: str | None = None,
    min_strength: float = 0.0,
    max_hops: int = 2,
) -> pl.DataFrame:
    """The per-control frame of :meth:`Evaluation.score` (see there for the columns)."""
    keys = group_columns(by)
    controls = _control_table(catalog, framework)
    edges = _evidence_edges(catalog, framework, via, min_strength, max_hops)
    per_control = edges.group_by("control_id").agg(
        pl.col("policy_id").unique().sort().alias("policies"),
        (pl.col("effect").fill_null("").str.to_lowercase() != "manual").any().alias("automated"),
        pl.col("strength").max(),
        pl.col("via_controls").explode().drop_nulls().unique().sort(),
    )
    base = controls.join(per_control, on="control_id", how="left").with_columns(
        pl.col("policies").fill_null(pl.lit([], dtype=pl.List(pl.String))),
        pl.col("automated").fill_null(False),
        pl.col("via_controls").fill_null(pl.lit([], dtype=pl.List(pl.String))),
        pl.lit(via is not None).alias("derived"),
    )

    worst = _worst_states(results, edges)
    if keys:
        groups = _resource_groups(results, by)
        worst = worst.join(groups, on="_res")
        grid = groups.select(keys).unique().sort(keys).join(base, how="cross")
    else:
        grid = base
    counts = worst.group_by(*keys, "control_id").agg(
        pl.col("rank").max().alias("top"),
        *[(pl.col("rank") == _RANK[s]).sum().cast(pl.Int64).alias(s) for s in _COUNTED],
    )
    out = grid.join(counts, on=[*keys, "control_id"], how="left")
    name_of = {rank: state for state, rank in _RANK.items()}
    state = (
        pl.when(~pl.col("automated"))
        .then(pl.lit("manual"))
        .when(pl.col("top").is_null())
        .then(pl.lit("no_evidence"))
        .otherwise(pl.col("top").replace_strict(name_of, return_dtype=pl.String))
    )
    return out.select(
        *_restore_nulls(keys),
        "control_id",
        "family",
        state.cast(pl.Enum(CONTROL_STATES)).alias("state"),
        "automated",
        "policies",
        *[pl.col(s).fill_null(0) for s in _COUNTED],
        "derived",
        "strength",
        "via_controls",
    )


def summary_frame(
    scores: pl.DataFrame,
    by: str | None = None,
    weights: Mapping[str, float] | None = None,
) -> pl.DataFrame:
    """The four framework scores from a per-control frame (see :meth:`Evaluation.summary`)."""
    keys = group_columns(by)
    w: pl.Expr
    if weights:
        table = pl.DataFrame(
            {"control_id": list(weights), "weight": [float(v) for v in weights.values()]},
            schema={"control_id": pl.String, "weight": pl.Float64},
        )
        scores = scores.join(table, on="control_id", how="left")
        w = pl.col("weight").fill_null(1.0)
    else:
        w = pl.lit(1.0)
    state = pl.col("state").cast(pl.String)
    evidence = state.is_in(list(PRECEDENCE))
    counted_ok = state.is_in(["compliant", "exempt", "unknown"])
    scored = (pl.col("compliant") + pl.col("non_compliant")) > 0
    healthy = pl.col("compliant") / (pl.col("compliant") + pl.col("non_compliant"))
    totals: list[tuple[str, pl.Expr, pl.Expr, str]] = [
        (
            "azure",
            counted_ok.sum(),
            evidence.sum(),
            "controls compliant, exempt or unknown / controls with evidence (Azure's rule)",
        ),
        (
            "strict",
            (state == "compliant").sum(),
            pl.len(),
            "controls compliant / every control, manual and no-evidence ones included",
        ),
        (
            "coverage",
            evidence.sum(),
            pl.len(),
            "controls with evidence / every control",
        ),
        (
            "secure_score",
            pl.when(scored).then(w * healthy).otherwise(0.0).sum(),
            pl.when(scored).then(w).otherwise(0.0).sum(),
            "sum of weight x healthy/(healthy+unhealthy) / sum of weights, controls with "
            "healthy or unhealthy resources",
        ),
    ]
    parts = []
    for name, num, den, note in totals:
        agg = [num.cast(pl.Float64).alias("numerator"), den.cast(pl.Float64).alias("denominator")]
        part = scores.group_by(keys, maintain_order=True).agg(agg) if keys else scores.select(agg)
        parts.append(part.with_columns(pl.lit(name).alias("score"), pl.lit(note).alias("note")))
    out = pl.concat(parts)
    value = (
        pl.when(pl.col("denominator") > 0)
        .then(100.0 * pl.col("numerator") / pl.col("denominator"))
        .otherwise(None)
    )
    out = out.select(*keys, "score", value.alias("value"), "numerator", "denominator", "note")
    if keys:
        order = pl.col("score").replace_strict({s: i for i, s in enumerate(SCORES)})
        out = out.sort([*keys, order], nulls_last=True)
    return out
