"""Batch evaluation: a policy pack over a set of resources, results as a Polars frame."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from . import _core
from .errors import PolicyError, ResourceError
from .policy import PolicyPack
from .resources import LoadError, Resources

__all__ = ["STATES", "Evaluation", "EvaluationStream", "evaluate", "evaluate_batches"]

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
    """

    results: pl.DataFrame
    load_errors: list[LoadError] = field(default_factory=list)
    policy_errors: list[tuple[str, str]] = field(default_factory=list)
    resource_count: int = 0

    def summary(self) -> pl.DataFrame:
        """Per policy, the number of rows in each state."""
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
) -> Evaluation:
    """Evaluate every policy of ``pack`` on every resource, in parallel, off the GIL.

    Args:
        pack: the policies.
        resources: the resources; loaded here through the pack's projection.
        parameters: values by parameter name, given to every policy that declares it; a key
            equal to a policy id with an object value sets that policy's own values.
        include_not_applicable: also emit ``not_applicable`` rows (every pair appears).
        only_failing: keep only rows that are not ``compliant``/``not_applicable``.
        reasons: explain non-compliant rows (costs a second pass over those pairs).
        now: the clock behind ``utcNow()`` (RFC 3339).
        context: ``resourceGroup``/``subscription``/``requestContext``/``policy`` overrides.

    Ctrl-C interrupts the evaluation with ``KeyboardInterrupt``.
    """
    params_text, options_text = _encode(
        parameters, include_not_applicable, only_failing, reasons, now, context
    )
    kind, source = resources._core_source()
    try:
        table, load_errors, policy_errors, count = _core.evaluate(
            [p._inner for p in pack], params_text, kind, source, options_text
        )
    except ResourceError as exc:
        raise exc.with_file(resources.origin) from None
    return Evaluation(
        results=pl.DataFrame(table),
        load_errors=[LoadError(line, msg) for line, msg in load_errors],
        policy_errors=list(policy_errors),
        resource_count=count,
    )


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
    :attr:`resource_count` hold the totals. At most a few blocks of results are held at once.
    """

    def __init__(self, inner: Any, origin: str) -> None:
        self._inner = inner
        self._origin = origin
        self.load_errors: list[LoadError] = []
        self.policy_errors: list[tuple[str, str]] = []
        self.resource_count = 0

    def __iter__(self) -> Iterator[pl.DataFrame]:
        try:
            for table in self._inner:
                yield pl.DataFrame(table)
        except ResourceError as exc:
            raise exc.with_file(self._origin) from None
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
) -> EvaluationStream:
    """Like :func:`evaluate`, but yields results block by block for inputs whose results do
    not fit in memory. NDJSON sources only (files, records, the sample tenant).

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
        parameters, include_not_applicable, only_failing, reasons, now, context
    )
    kind, source = resources._core_source()
    inner = _core.evaluate_stream_start(
        [p._inner for p in pack], params_text, kind, source, options_text
    )
    return EvaluationStream(inner, resources.origin)
