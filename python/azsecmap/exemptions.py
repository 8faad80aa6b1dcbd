"""Exemptions: Azure Policy exemption objects and our own YAML exceptions file.

An exemption turns matching result rows into ``exempt`` while keeping what the evaluation
said in ``underlying_state``. Expired exemptions are not applied; they are reported.
``docs/scoring.md`` describes the matching rules.

>>> import azsecmap
>>> ex = azsecmap.Exemptions.from_azure([{
...     "id": "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Authorization"
...           "/policyExemptions/legacy-kv",
...     "properties": {"policyAssignmentId": "/subscriptions/s1/providers/"
...                    "Microsoft.Authorization/policyAssignments/a1",
...                    "policyDefinitionReferenceIds": ["kv-purge"],
...                    "exemptionCategory": "Mitigated"}}])
>>> ex.frame()["scope"][0], ex.frame()["policies"][0].to_list(), ex.frame()["category"][0]
('/subscriptions/s1/resourcegroups/rg1', ['kv-purge'], 'mitigated')
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Union

import polars as pl

from .errors import ExemptionError

__all__ = ["Exemption", "ExemptionError", "Exemptions", "apply_exemptions", "parse_instant"]

PathLike = Union[str, "os.PathLike[str]"]

_MARKER = "/providers/microsoft.authorization/policyexemptions/"
_APPLICABLE = ["compliant", "non_compliant", "unknown", "error", "conflict"]

EXEMPTION_SCHEMA: dict[str, Any] = {
    "exemption": pl.String,
    "kind": pl.String,
    "source": pl.String,
    "scope": pl.String,
    "resource_glob": pl.String,
    "policies": pl.List(pl.String),
    "category": pl.String,
    "expires": pl.Datetime("us", "UTC"),
    "display_name": pl.String,
    "reason": pl.String,
    "owner": pl.String,
}


def parse_instant(
    value: str | dt.date | dt.datetime, *, pointer: str = "", file: str | None = None
) -> dt.datetime:
    """An aware UTC datetime from an RFC 3339 instant, a datetime or a date.

    A bare date means the end of that day in UTC: ``2026-06-30`` is valid through 30 June.
    A naive datetime is taken as UTC.
    """
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        start = dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)
        return start + dt.timedelta(days=1)
    else:
        text = value.strip()
        try:
            if len(text) == 10:
                return parse_instant(dt.date.fromisoformat(text))
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise ExemptionError(
                f"`{value}` is not a date or an RFC 3339 instant", pointer, file
            ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.astimezone(dt.timezone.utc)


@dataclass(frozen=True)
class Exemption:
    """One exemption, whichever file it came from.

    Attributes:
        name: the Azure exemption's resource id, or the exceptions file entry's ``name``
            (default ``<file>#/exceptions/<i>``).
        kind: ``azure`` or ``file``.
        source: the file it was read from, or ``<records>``.
        scope: Azure only: the scope (lower case) — resources at or below it match.
        resource_glob: exceptions file only: the resource id glob.
        policies: policy ids (or globs, exceptions file) it covers; None = every policy.
        category: ``waiver`` or ``mitigated``.
        expires: when it stops applying (UTC), or None.
    """

    name: str
    kind: str
    source: str
    scope: str | None = None
    resource_glob: str | None = None
    policies: tuple[str, ...] | None = None
    category: str = "waiver"
    expires: dt.datetime | None = None
    display_name: str | None = None
    reason: str | None = None
    owner: str | None = None

    def _resource_expr(self) -> pl.Expr:
        """True on resource ids (``_rid``, lower-cased) this exemption covers."""
        rid = pl.col("_rid")
        if self.scope is not None:
            return (rid == self.scope) | rid.str.starts_with(self.scope + "/")
        return rid.str.contains(_glob_regex(self.resource_glob or "*"))

    def _policy_expr(self) -> pl.Expr:
        """True on policy ids (``_pid``, lower-cased) this exemption covers."""
        pid = pl.col("_pid")
        if self.policies is None:
            return pl.lit(True)
        exact = [p.lower() for p in self.policies if not _is_glob(p)]
        which = pid.is_in(exact) if exact else pl.lit(False)
        for pat in (_glob_regex(p) for p in self.policies if _is_glob(p)):
            which = which | pid.str.contains(pat)
        return which


def _is_glob(text: str) -> bool:
    return "*" in text or "?" in text


def _glob_regex(glob: str) -> str:
    """A whole-string regex for `glob` over lower-cased text: ``*`` any run of characters
    (``/`` included), ``?`` one character, everything else literal."""
    parts = []
    for c in glob.lower():
        parts.append(".*" if c == "*" else "." if c == "?" else re.escape(c))
    return "^" + "".join(parts) + "$"


@dataclass
class Exemptions:
    """A set of exemptions, from Azure exemption objects and/or an exceptions file.

    Combine sets with ``+``. :attr:`skipped` lists ``(name, why)`` for exemptions that
    cannot match anything offline (a management-group scope).
    """

    items: list[Exemption] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    # --- construction -----------------------------------------------------------------

    @classmethod
    def load(cls, path: PathLike, **kwargs: Any) -> Exemptions:
        """Read a file of either kind: Azure exemption objects (a JSON list, or
        ``{"value": [...]}`` as the REST API pages them, or one object) or our exceptions
        file (YAML or JSON with ``exceptions``). `kwargs` go to :meth:`from_azure`."""
        name = str(path)
        data = _read(path)
        if isinstance(data, dict) and "exceptions" in data:
            return cls.from_exceptions(data, source=name)
        return cls.from_azure(data, source=name, **kwargs)

    @classmethod
    def from_azure(
        cls,
        objects: Any,
        *,
        source: str = "<records>",
        assignments: Mapping[str, str | Sequence[str]] | None = None,
        references: Mapping[str, str] | None = None,
    ) -> Exemptions:
        """Azure Policy exemption objects as the REST API or ``az policy exemption list``
        returns them: a list, ``{"value": [...]}``, one object, or a path to such JSON.

        The scope is the part of ``id`` before ``/providers/Microsoft.Authorization/
        policyExemptions/``. Policies: each ``policyDefinitionReferenceIds`` entry, mapped
        through `references` (reference id → policy id) when given, else taken as a policy
        id. Without reference ids the exemption covers the whole assignment: the policy ids
        `assignments` gives for ``policyAssignmentId`` (a definition id — its last segment
        is the policy id — or a list of them), else ``properties.policyDefinitionId`` when
        the object carries one, else every policy (offline, the pack plays the assignment).
        """
        if isinstance(objects, (str, os.PathLike)):
            source = str(objects)
            objects = _read(objects)
        single = isinstance(objects, dict) and "value" not in objects
        if isinstance(objects, dict) and isinstance(objects.get("value"), list):
            base, objects = "/value", objects["value"]
        elif single:
            base, objects = "", [objects]
        else:
            base = ""
        if not isinstance(objects, list):
            raise ExemptionError(
                'expected a list of policy exemptions or `{"value": [...]}`', "", source
            )
        assigned = {k.lower(): v for k, v in (assignments or {}).items()}
        refs = {k.lower(): v for k, v in (references or {}).items()}
        out = cls()
        for i, obj in enumerate(objects):
            out._add_azure(obj, "" if single else f"{base}/{i}", source, assigned, refs)
        return out

    def _add_azure(
        self, obj: Any, at: str, source: str, assigned: Mapping[str, Any], refs: Mapping[str, str]
    ) -> None:
        if not isinstance(obj, dict):
            raise ExemptionError("a policy exemption must be an object", at, source)
        rid = obj.get("id")
        if not isinstance(rid, str) or _MARKER not in rid.lower():
            raise ExemptionError(
                "`id` must be `<scope>/providers/Microsoft.Authorization/policyExemptions/<name>`",
                f"{at}/id",
                source,
            )
        scope = rid[: rid.lower().index(_MARKER)].rstrip("/").lower()
        props = obj.get("properties")
        if not isinstance(props, dict):
            raise ExemptionError(
                "a policy exemption needs `properties`", f"{at}/properties", source
            )
        category = props.get("exemptionCategory")
        if not isinstance(category, str) or category.lower() not in ("waiver", "mitigated"):
            raise ExemptionError(
                f"`exemptionCategory` must be `Waiver` or `Mitigated`, not `{category}`",
                f"{at}/properties/exemptionCategory",
                source,
            )
        expires = props.get("expiresOn")
        when = None
        if expires is not None:
            if not isinstance(expires, str):
                raise ExemptionError(
                    "`expiresOn` must be a string", f"{at}/properties/expiresOn", source
                )
            when = parse_instant(expires, pointer=f"{at}/properties/expiresOn", file=source)
        policies = self._azure_policies(props, at, source, assigned, refs)
        if not scope.startswith("/subscriptions/"):
            self.skipped.append(
                (
                    rid,
                    f"scope `{scope}` is not a subscription, resource group "
                    "or resource; resource ids do not tell membership of it",
                )
            )
            return
        self.items.append(
            Exemption(
                name=rid,
                kind="azure",
                source=source,
                scope=scope,
                policies=policies,
                category=category.lower(),
                expires=when,
                display_name=_str_or_none(props.get("displayName")),
                reason=_str_or_none(props.get("description")),
                owner=_str_or_none(
                    (props.get("metadata") or {}).get("requestedBy")
                    if isinstance(props.get("metadata"), dict)
                    else None
                ),
            )
        )

    @staticmethod
    def _azure_policies(
        props: Mapping[str, Any],
        at: str,
        source: str,
        assigned: Mapping[str, Any],
        refs: Mapping[str, str],
    ) -> tuple[str, ...] | None:
        ref_ids = props.get("policyDefinitionReferenceIds")
        if ref_ids:
            if not isinstance(ref_ids, list) or not all(isinstance(r, str) for r in ref_ids):
                raise ExemptionError(
                    "`policyDefinitionReferenceIds` must be a list of strings",
                    f"{at}/properties/policyDefinitionReferenceIds",
                    source,
                )
            return tuple(refs.get(r.lower(), r) for r in ref_ids)
        assignment = props.get("policyAssignmentId")
        if not isinstance(assignment, str) or not assignment:
            raise ExemptionError(
                "a policy exemption needs `policyAssignmentId`",
                f"{at}/properties/policyAssignmentId",
                source,
            )
        target = assigned.get(assignment.lower(), props.get("policyDefinitionId"))
        if target is None:
            return None
        ids = [target] if isinstance(target, str) else list(target)
        return tuple(str(t).rstrip("/").rsplit("/", 1)[-1] for t in ids)

    @classmethod
    def from_exceptions(cls, data: Any, *, source: str = "<records>") -> Exemptions:
        """Our exceptions file, already parsed (or a path to it): ``exceptions``, a list of
        ``resource`` (id glob), ``policy`` (id or glob), ``reason``, ``owner`` and optional
        ``expires``, ``category`` (default ``waiver``), ``name``. Checked against
        ``azsecmap/data/exceptions.schema.json``."""
        if isinstance(data, (str, os.PathLike)):
            source = str(data)
            data = _read(data)
        data = _dates_to_text(data)
        _validate(data, source)
        out = cls()
        for i, e in enumerate(data["exceptions"]):
            at = f"/exceptions/{i}"
            when = None
            if "expires" in e:
                when = parse_instant(e["expires"], pointer=f"{at}/expires", file=source)
            out.items.append(
                Exemption(
                    name=e.get("name", f"{source}#{at}"),
                    kind="file",
                    source=source,
                    resource_glob=e["resource"],
                    policies=None if e["policy"] == "*" else (e["policy"],),
                    category=e.get("category", "waiver").lower(),
                    expires=when,
                    reason=e["reason"],
                    owner=e["owner"],
                )
            )
        return out

    # --- queries ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Exemption]:
        return iter(self.items)

    def __add__(self, other: Exemptions) -> Exemptions:
        return Exemptions([*self.items, *other.items], [*self.skipped, *other.skipped])

    def frame(self) -> pl.DataFrame:
        """One row per exemption: ``exemption``, ``kind``, ``source``, ``scope``,
        ``resource_glob``, ``policies`` (null = every policy), ``category``, ``expires``,
        ``display_name``, ``reason``, ``owner``."""
        return pl.DataFrame([_row(e) for e in self.items], schema=EXEMPTION_SCHEMA, orient="row")

    def __repr__(self) -> str:
        return f"<Exemptions {len(self.items)} ({len(self.skipped)} skipped)>"


def _row(e: Exemption) -> tuple[Any, ...]:
    return (
        e.name,
        e.kind,
        e.source,
        e.scope,
        e.resource_glob,
        list(e.policies) if e.policies is not None else None,
        e.category,
        e.expires,
        e.display_name,
        e.reason,
        e.owner,
    )


def _str_or_none(v: Any) -> str | None:
    return v if isinstance(v, str) else None


def _dates_to_text(v: Any) -> Any:
    """YAML turns ``2026-06-30`` into a date; the schema speaks of strings."""
    if isinstance(v, dict):
        return {k: _dates_to_text(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_dates_to_text(x) for x in v]
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return v


@cache
def _schema() -> dict[str, Any]:
    text = resources.files("azsecmap").joinpath("data/exceptions.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _validate(doc: Any, source: str) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(doc), key=lambda e: (len(e.absolute_path), e.message))
    if errors:
        first = errors[0]
        pointer = "".join(
            "/" + str(p).replace("~", "~0").replace("/", "~1") for p in first.absolute_path
        )
        raise ExemptionError(f"schema violation: {first.message}", pointer, source)


def _read(path: PathLike) -> Any:
    p = Path(path)
    name = str(p)
    try:
        text = p.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ExemptionError(f"cannot read the file: {e}", "", name) from e
    if p.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            raise ExemptionError(f"invalid YAML{where}", "", name) from e
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ExemptionError(
            f"invalid JSON: {e.msg} (line {e.lineno}, column {e.colno})", "", name
        ) from e


EXPIRED_SCHEMA: dict[str, Any] = {
    "exemption": pl.String,
    "kind": pl.String,
    "source": pl.String,
    "category": pl.String,
    "expires": pl.Datetime("us", "UTC"),
    "rows": pl.Int64,
}


def apply_exemptions(
    results: pl.DataFrame,
    exemptions: Exemptions | Iterable[Exemption],
    now: str | dt.datetime | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return ``(results, expired)``.

    In `results`, rows in a state an exemption can cover (compliant, non_compliant,
    unknown, error, conflict — not not_applicable) that an unexpired exemption matches
    become ``exempt``; every row gains ``underlying_state`` (the state before exemptions),
    ``exemption``, ``exemption_category`` and ``exemption_expires`` (null when none
    applies). When several match, the first in order wins. Rows already exempt keep their
    earlier exemption columns if present.

    `expired`: one row per exemption whose ``expires`` is at or before `now` (default: the
    current time), with ``rows`` = how many result rows it would have covered.
    """
    items = list(exemptions)
    clock = parse_instant(now) if now is not None else dt.datetime.now(dt.timezone.utc)
    active = [e for e in items if e.expires is None or e.expires > clock]
    expired = [e for e in items if e.expires is not None and e.expires <= clock]

    frame = results
    if "underlying_state" not in frame.columns:
        frame = frame.with_columns(
            pl.col("state").alias("underlying_state"),
            pl.lit(None, dtype=pl.String).alias("exemption"),
            pl.lit(None, dtype=pl.String).alias("exemption_category"),
            pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("exemption_expires"),
        )
    # Match on the distinct resource and policy ids (lower-cased once each), then mark rows
    # by their categorical codes: no per-row string work.
    keyed = frame.with_columns(
        pl.col("resource_id").to_physical().alias("_res"),
        pl.col("policy_id").to_physical().alias("_pol"),
    )
    res = _distinct(frame, "resource_id", "_res", "_rid")
    pol = _distinct(frame, "policy_id", "_pol", "_pid")

    def rows_of(e: Exemption) -> pl.Expr:
        codes_r = res.filter(e._resource_expr())["_res"].implode()
        if e.policies is None:
            return pl.col("_res").is_in(codes_r)
        codes_p = pol.filter(e._policy_expr())["_pol"].implode()
        return pl.col("_res").is_in(codes_r) & pl.col("_pol").is_in(codes_p)

    open_rows = pl.col("state").cast(pl.String).is_in(_APPLICABLE)

    counts: list[int] = []
    if expired:
        counts = list(
            keyed.select(
                [(rows_of(e) & open_rows).sum().alias(str(i)) for i, e in enumerate(expired)]
            ).row(0)
        )
    report = pl.DataFrame(
        [
            (e.name, e.kind, e.source, e.category, e.expires, int(n))
            for e, n in zip(expired, counts, strict=False)
        ],
        schema=EXPIRED_SCHEMA,
        orient="row",
    )
    if not active:
        return frame, report

    index: pl.Expr = pl.lit(None, dtype=pl.Int32)
    for i, e in reversed(list(enumerate(active))):  # first match wins
        index = pl.when(rows_of(e)).then(pl.lit(i, dtype=pl.Int32)).otherwise(index)
    names = {i: e.name for i, e in enumerate(active)}
    categories = {i: e.category for i, e in enumerate(active)}
    expiries = {i: e.expires for i, e in enumerate(active)}
    state_dtype = frame.schema["state"]
    slot = pl.col("_hit")
    hit = slot.is_not_null()

    def pick(table: Mapping[int, Any], dtype: Any, current: str) -> pl.Expr:
        found = slot.replace_strict(table, default=None, return_dtype=dtype)
        return pl.when(hit).then(found).otherwise(pl.col(current)).alias(current)

    out = (
        keyed.with_columns(pl.when(open_rows).then(index).alias("_hit"))
        .with_columns(
            pl.when(hit)
            .then(pl.lit("exempt"))
            .otherwise(pl.col("state").cast(pl.String))
            .cast(state_dtype)
            .alias("state"),
            pick(names, pl.String, "exemption"),
            pick(categories, pl.String, "exemption_category"),
            pick(expiries, pl.Datetime("us", "UTC"), "exemption_expires"),
        )
        .drop("_res", "_pol", "_hit")
    )
    return out, report


def _distinct(frame: pl.DataFrame, column: str, code: str, text: str) -> pl.DataFrame:
    """The distinct values of `column`: their code (physical value) and lower-cased text."""
    return frame.select(pl.col(column).unique()).select(
        pl.col(column).to_physical().alias(code),
        pl.col(column).cast(pl.String).str.to_lowercase().alias(text),
    )
