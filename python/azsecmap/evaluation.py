"""Batch evaluation: a policy pack over a set of resources, results as a Polars frame."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from . import _core
from .errors import AzsecmapError, PolicyError, ResourceError
from .exemptions import EXPIRED_SCHEMA, Exemptions, _distinct, apply_exemptions
from .policy import Assignment, PolicyPack
from .resources import LoadError, Resources
from .scoring import score_frame, summary_frame

if TYPE_CHECKING:
    from .catalog import Catalog

__all__ = [
    "STATES",
    "Evaluation",
    "EvaluationStream",
    "apply_assignment_scopes",
    "evaluate",
    "evaluate_batches",
]

STATES = ("compliant", "non_compliant", "not_applicable", "unknown", "exempt", "error")


@dataclass
class Evaluation:
    """The outcome of :func:`evaluate`.

    Attributes:
        results: one row per (resource, policy) pair: ``resource_id``, ``resource_type``,
            ``policy_id``, ``state``, ``effect``, ``reason`` (ids, states and effects
            categorical).
        load_errors: input lines or elements that were not resources.
        policy_errors: ``(policy id, message)`` for policies that could not be bound (for
            example a parameter without a value) or are not evaluated (data-plane modes).
        resource_count: resources evaluated.
        expired_exemptions: exemptions past their expiry that were therefore not applied
            (:meth:`with_exemptions`).
        only_failing: the results hold no compliant rows (``evaluate(only_failing=True)``),
            so they cannot be scored.
    """

    results: pl.DataFrame
    load_errors: list[LoadError] = field(default_factory=list)
    policy_errors: list[tuple[str, str]] = field(default_factory=list)
    resource_count: int = 0
    expired_exemptions: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema=EXPIRED_SCHEMA)
    )
    only_failing: bool = False

    def with_exemptions(
        self, exemptions: Exemptions, now: str | dt.datetime | None = None
    ) -> Evaluation:
        """A copy with `exemptions` applied (see :func:`azsecmap.exemptions.apply_exemptions`).

        Matching rows become ``exempt``; every row gains ``underlying_state``,
        ``exemption``, ``exemption_category`` and ``exemption_expires``. Exemptions whose
        expiry is at or before `now` (RFC 3339 or a datetime; default the current time) are
        not applied and are listed in :attr:`expired_exemptions`.
        """
        results, expired = apply_exemptions(self.results, exemptions, now)
        return dataclasses.replace(
            self,
            results=results,
            expired_exemptions=pl.concat([self.expired_exemptions, expired]),
        )

    def score(
        self,
        catalog: Catalog,
        framework: str,
        by: str | None = None,
        *,
        via: str | None = None,
        min_strength: float = 0.0,
        max_hops: int = 2,
    ) -> pl.DataFrame:
        """Roll the results up to the controls of `framework`.

        One row per declared control of `framework` (per group and control when `by` is
        ``"subscription"`` or ``"resource_group"``; the groups are those of the result rows'
        resource ids). Controls only a mapping names (``external_control``) are left out,
        unless the framework has nothing else.

        A resource's state for a control is the strongest state any of the control's
        policies gave it, and the control's state the strongest of its resources', by
        Azure's regulatory-compliance precedence: ``non_compliant`` > ``compliant`` >
        ``error`` > ``conflict`` > ``exempt`` > ``unknown``. (``conflict`` is Azure's state
        for a resource that two assignments of contradicting rules govern; the engine never
        produces it, imported results may.) ``not_applicable`` rows are not evidence.
        Controls with no automated policy are ``manual``; automated controls with no
        evidence (no policy of theirs applied to any resource, or none was in the pack) are
        ``no_evidence``.

        With `via`, framework `via`'s policies are the evidence: a policy counts for a
        control of `framework` when it satisfies a `via` control that a published mapping
        path (at most `max_hops` edges, strength at least `min_strength`) leads to it.
        Such rows have ``derived = True`` and ``strength`` = the strongest path; direct rows
        have ``derived = False`` and a null strength.

        Columns: [``subscription_id``, [``resource_group``]], ``control_id``, ``family``
        (top-level ancestor, null for a top-level control), ``state`` (Enum of
        :data:`azsecmap.scoring.CONTROL_STATES`), ``automated``, ``policies`` (policy ids
        the catalog links to it), distinct-resource counts ``compliant``,
        ``non_compliant``, ``error``, ``conflict``, ``exempt``, ``unknown`` (each resource
        once, in its state for the control), ``derived``, ``strength``, ``via_controls``
        (the `via` controls behind a derived row).

        >>> import azsecmap
        >>> cat = azsecmap.Catalog.from_documents([{"format": "azsecmap-catalog/1",
        ...     "frameworks": [{"id": "ACME", "controls": [{"id": "KV-1"}, {"id": "KV-2"}]}],
        ...     "satisfies": [{"policy": "kv-audit", "control": "ACME:KV-1", "effect": "audit"}]}])
        >>> rule = {"if": {"field": "type", "equals": "Microsoft.KeyVault/vaults"},
        ...         "then": {"effect": "audit"}}
        >>> pack = azsecmap.PolicyPack([azsecmap.Policy.from_json(rule, name="kv-audit")])
        >>> ev = azsecmap.evaluate(pack, azsecmap.Resources.sample(500, seed=1))
        >>> ev.score(cat, "ACME").select("control_id", "state", "non_compliant").rows()
        [('ACME:KV-1', 'non_compliant', 10), ('ACME:KV-2', 'manual', 0)]
        >>> for row in ev.summary(cat, "ACME").select("score", "numerator", "denominator").rows():
        ...     print(row)
        ('azure', 0.0, 1.0)
        ('strict', 0.0, 2.0)
        ('coverage', 1.0, 2.0)
        ('secure_score', 0.0, 1.0)
        """
        if self.only_failing:
            raise AzsecmapError(
                "these results were evaluated with `only_failing=True` and hold no compliant "
                "rows; evaluate without it to score"
            )
        return score_frame(
            self.results,
            catalog,
            framework,
            by=by,
            via=via,
            min_strength=min_strength,
            max_hops=max_hops,
        )

    def summary(
        self,
        catalog: Catalog | None = None,
        framework: str | None = None,
        by: str | None = None,
        *,
        via: str | None = None,
        weights: Mapping[str, float] | None = None,
    ) -> pl.DataFrame:
        """Without arguments: per policy, the number of rows in each state.

        With `catalog` and `framework`: the four framework scores, one row each (per group
        with `by`), columns [`by` columns], ``score``, ``value`` (percent, null when the
        denominator is 0), ``numerator``, ``denominator``, ``note``. Over the controls of
        :meth:`score`:

        - ``azure``: compliant + exempt + unknown controls / controls with evidence (Azure
          counts exempt and unknown as compliant; manual and no-evidence controls are left
          out, as Azure leaves out what has no resource).
        - ``strict``: compliant controls / all controls (manual, no-evidence, unknown and
          exempt are not compliant).
        - ``coverage``: controls with evidence / all controls.
        - ``secure_score``: Defender-style: each control with healthy (compliant) or
          unhealthy (non-compliant) resources earns weight * healthy / (healthy +
          unhealthy); the score is earned / sum of those controls' weights. Weight 1 per
          control unless `weights` (control id → weight) says otherwise.
        """
        if catalog is None and framework is None:
            if by is not None:
                raise AzsecmapError("`by` needs a catalog and a framework")
            return self._policy_counts()
        if catalog is None or framework is None:
            raise AzsecmapError("give both a catalog and a framework, or neither")
        return summary_frame(self.score(catalog, framework, by, via=via), by, weights)

    def _policy_counts(self) -> pl.DataFrame:
        counts = self.results.group_by("policy_id", "state").len()
        wide = counts.with_columns(pl.col("state").cast(pl.String)).pivot(
            on="state", index="policy_id", values="len"
        )
        for s in STATES:
            if s not in wide.columns:
                wide = wide.with_columns(pl.lit(0, dtype=pl.UInt32).alias(s))
        return wide.select("policy_id", *STATES).fill_null(0).sort("policy_id")


def evaluate(
    pack: PolicyPack,
    resources: Resources,
    parameters: Mapping[str, Any] | None = None,
    *,
    include_not_applicable: bool = False,
    only_failing: bool = False,
    reasons: bool = True,
    now: str | None = None,
    context: Mapping[str, Any] | None = None,
    exemptions: Exemptions | None = None,
) -> Evaluation:
    """Evaluate every policy of ``pack`` on every resource, in parallel, off the GIL.

    Args:
        pack: the policies.
        resources: the resources; loaded here through the pack's projection.
        parameters: values by parameter name, given to every policy that declares it; a key
            equal to a policy id with an object value sets that policy's own values. Policies
            from `PolicyPack.from_azure` are bound with their assigned values
            (`Policy.assigned`), which a per-policy object given here overrides key by key.
        include_not_applicable: also emit ``not_applicable`` rows (every pair appears).
        only_failing: keep only rows that are not ``compliant``/``not_applicable``.
        reasons: explain non-compliant rows (the deciding evaluation records its steps).
        now: the clock behind ``utcNow()`` (RFC 3339).
        context: ``resourceGroup``/``subscription``/``requestContext``/``policy`` overrides.
        exemptions: applied to the results (:meth:`Evaluation.with_exemptions`), with `now`
            as the clock for their expiry (for a pack read from Azure: ``pack.exemptions``).

    Rows of an assigned policy for resources outside its assignment's scope, or in one of its
    ``notScopes``, are left out (:func:`apply_assignment_scopes`).

    Ctrl-C interrupts the evaluation with ``KeyboardInterrupt``.
    """
    params_text, options_text = _encode(
        _with_assigned(pack, parameters), include_not_applicable, only_failing, reasons, now,
        context,
    )  # fmt: skip
    kind, source = resources._core_source()
    try:
        table, load_errors, policy_errors, count = _core.evaluate(
            [p._inner for p in pack], params_text, kind, source, options_text
        )
    except ResourceError as exc:
        raise exc.with_file(resources.origin) from None
    ev = Evaluation(
        results=apply_assignment_scopes(pl.DataFrame(table), pack, include_not_applicable),
        load_errors=[LoadError(line, msg) for line, msg in load_errors],
        policy_errors=list(policy_errors),
        resource_count=count,
        only_failing=only_failing,
    )
    return ev.with_exemptions(exemptions, now) if exemptions is not None else ev


def _encode(
    parameters: Mapping[str, Any] | None,
    include_not_applicable: bool,
    only_failing: bool,
    reasons: bool,
    now: str | None,
    context: Mapping[str, Any] | None,
) -> tuple[str, str]:
    try:
        params_text = json.dumps(dict(parameters or {}))
    except (TypeError, ValueError) as exc:
        raise PolicyError(f"parameters are not JSON-serialisable: {exc}", "/parameters") from None
    options: dict[str, Any] = dict(context or {})
    options.update(
        include_not_applicable=include_not_applicable,
        only_failing=only_failing,
        reasons=reasons,
    )
    if now is not None:
        options["now"] = now
    return params_text, json.dumps(options)


class EvaluationStream:
    """Results of :func:`evaluate_batches`, one Polars frame per block of input.

    Iterate it; when exhausted, :attr:`load_errors`, :attr:`policy_errors` and
    :attr:`resource_count` hold the totals, and :attr:`expired_exemptions` the exemptions
    not applied for being expired (``rows`` summed over the blocks). At most a few blocks of
    results are held at once.
    """

    def __init__(
        self,
        inner: Any,
        origin: str,
        exemptions: Exemptions | None = None,
        now: str | None = None,
    ) -> None:
        self._inner = inner
        self._origin = origin
        self._exemptions = exemptions
        self._now = now
        self.load_errors: list[LoadError] = []
        self.policy_errors: list[tuple[str, str]] = []
        self.resource_count = 0
        self.expired_exemptions = pl.DataFrame(schema=EXPIRED_SCHEMA)
        self._scoped: tuple[PolicyPack, bool] | None = None

    def __iter__(self) -> Iterator[pl.DataFrame]:
        # one clock for every block, so an exemption cannot expire halfway through a run
        clock = self._now or dt.datetime.now(dt.timezone.utc).isoformat()
        expired: list[pl.DataFrame] = []
        try:
            for table in self._inner:
                frame = pl.DataFrame(table)
                if self._scoped is not None:
                    frame = apply_assignment_scopes(frame, *self._scoped)
                if self._exemptions is not None:
                    frame, gone = apply_exemptions(frame, self._exemptions, clock)
                    expired.append(gone)
                yield frame
        except ResourceError as exc:
            raise exc.with_file(self._origin) from None
        if expired:
            keys = ["exemption", "kind", "source", "category", "expires"]
            self.expired_exemptions = (
                pl.concat(expired)
                .group_by(keys, maintain_order=True)
                .agg(pl.col("rows").sum())
                .select(list(EXPIRED_SCHEMA))
            )
        summary = self._inner.summary()
        if summary is not None:
            errors, self.policy_errors, self.resource_count = summary
            self.load_errors = [LoadError(line, msg) for line, msg in errors]


def evaluate_batches(
    pack: PolicyPack,
    resources: Resources,
    parameters: Mapping[str, Any] | None = None,
    *,
    include_not_applicable: bool = False,
    only_failing: bool = False,
    reasons: bool = True,
    now: str | None = None,
    context: Mapping[str, Any] | None = None,
    exemptions: Exemptions | None = None,
) -> EvaluationStream:
    """Like :func:`evaluate`, but yields results block by block for inputs whose results do
    not fit in memory. NDJSON sources only (files, records, the sample tenant).
    `exemptions` are applied to each block as :meth:`Evaluation.with_exemptions` does.

    >>> import azsecmap
    >>> pack = azsecmap.PolicyPack([azsecmap.Policy.from_json(
    ...     {"if": {"field": "type", "equals": "Microsoft.KeyVault/vaults"},
    ...      "then": {"effect": "audit"}}, name="kv")])
    >>> stream = evaluate_batches(pack, azsecmap.Resources.sample(2000, seed=1))
    >>> rows = sum(frame.height for frame in stream)
    >>> rows > 0, stream.resource_count
    (True, 2000)
    """
    params_text, options_text = _encode(
        _with_assigned(pack, parameters), include_not_applicable, only_failing, reasons, now,
        context,
    )  # fmt: skip
    kind, source = resources._core_source()
    inner = _core.evaluate_stream_start(
        [p._inner for p in pack], params_text, kind, source, options_text
    )
    stream = EvaluationStream(inner, resources.origin, exemptions, now)
    if pack.assignments:
        stream._scoped = (pack, include_not_applicable)
    return stream


def _with_assigned(
    pack: PolicyPack, parameters: Mapping[str, Any] | None
) -> Mapping[str, Any] | None:
    """The caller's parameters plus each assigned policy's values under its id.

    Assigned values go under the policy id, so they win over pack-level names; the caller's
    own per-policy object (same id) wins over the assigned values, key by key.
    """
    assigned = {p.id: p.assigned.parameters for p in pack if p.assigned is not None}
    if not assigned:
        return parameters
    out: dict[str, Any] = dict(parameters or {})
    for pid, values in assigned.items():
        own = out.get(pid)
        out[pid] = {**values, **own} if isinstance(own, Mapping) else dict(values)
    return out


def apply_assignment_scopes(
    results: pl.DataFrame, pack: PolicyPack, include_not_applicable: bool = False
) -> pl.DataFrame:
    """Leave out the rows of assigned policies whose resource the assignment does not cover.

    A row is outside when its resource is not at or below the assignment's subscription or
    resource-group scope, or is at or below one of its ``notScopes`` (Azure does not evaluate
    it). Such rows are dropped, or become ``not_applicable`` with `include_not_applicable`.
    Policies without an assignment, and management-group scopes, are left alone.
    """
    by_assignment: dict[str, tuple[Assignment, list[str]]] = {}
    for p in pack:
        if p.assigned is not None:
            a = p.assigned.assignment
            by_assignment.setdefault(a.id.lower(), (a, []))[1].append(p.id.lower())
    rules = [
        (a, ids)
        for a, ids in by_assignment.values()
        if a.not_scopes or a.scope.lower().startswith("/subscriptions/")
    ]
    if not rules or results.height == 0:
        return results
    res = _distinct(results, "resource_id", "_res", "_rid")
    pol = _distinct(results, "policy_id", "_pol", "_pid")
    rid = pl.col("_rid")

    def under(scope: str) -> pl.Expr:
        scope = scope.lower().rstrip("/")
        return (rid == scope) | rid.str.starts_with(scope + "/")

    outside: pl.Expr = pl.lit(False)
    for a, ids in rules:
        inside = under(a.scope) if a.scope.lower().startswith("/subscriptions/") else pl.lit(True)
        for n in a.not_scopes:
            inside = inside & ~under(n)
        codes_r = res.filter(~inside)["_res"].implode()
        codes_p = pol.filter(pl.col("_pid").is_in(ids))["_pol"].implode()
        outside = outside | (pl.col("_res").is_in(codes_r) & pl.col("_pol").is_in(codes_p))
    keyed = results.with_columns(
        pl.col("resource_id").to_physical().alias("_res"),
        pl.col("policy_id").to_physical().alias("_pol"),
    ).with_columns(outside.alias("_out"))
    if include_not_applicable:
        dtype = results.schema["state"]
        keyed = keyed.with_columns(
            pl.when(pl.col("_out"))
            .then(pl.lit("not_applicable"))
            .otherwise(pl.col("state").cast(pl.String))
            .cast(dtype)
            .alias("state")
        )
    else:
        keyed = keyed.filter(~pl.col("_out"))
    return keyed.drop("_res", "_pol", "_out")
