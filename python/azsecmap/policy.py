"""Evaluating Azure Policy definitions: one policy on one resource, and packs of policies."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import polars as pl

from . import _core
from ._source import JsonSource, read_text, to_json_text
from .errors import AzsecmapError, PolicyError, ResourceError

if TYPE_CHECKING:  # pragma: no cover
    from azure.core.credentials import TokenCredential

    from .exemptions import Exemptions
    from .resource_graph import RetryBudget

__all__ = ["AssignedPolicy", "Assignment", "Decision", "Policy", "PolicyPack", "evaluate_policy"]

PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class Decision:
    """The outcome of one policy on one resource.

    Attributes:
        matched: the rule's ``if`` is true for the resource.
        effect: the resolved effect, lower-case (``"audit"``, ``"deny"``,
            ``"auditifnotexists"``…), or None when not matched.
        reasons: the conditions that decided the outcome, each with the property path,
            the actual value and the expected one.
        applicable: False when the policy's mode excludes the resource (then ``note`` says why).
        note: why the policy does not apply, when it does not.
        details: the reasons as dicts (``pointer``, ``subject``, ``path``, ``actual``,
            ``present``, ``operator``, ``expected``, ``result``, ``negated``, ``text``).
        warnings: things the caller should know that did not stop evaluation, such as an
            alias missing from the bundled table (read at the documented fallback path).
    """

    matched: bool
    effect: str | None
    reasons: list[str]
    applicable: bool = True
    note: str | None = None
    details: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Assignment:
    """An Azure Policy assignment, as `PolicyPack.from_azure` read it.

    Attributes:
        id: the assignment's resource id.
        name: its ``name`` (the last segment of ``id``).
        scope: where it is assigned (``/subscriptions/<id>``, ``.../resourceGroups/<rg>`` or
            ``/providers/Microsoft.Management/managementGroups/<mg>``).
        definition_id: the policy definition or initiative (policy set) it assigns.
        parameters: its parameter values by name (the ``value`` of each entry).
        not_scopes: scopes excluded from it; resources at or below them are not evaluated.
        enforcement_mode: ``Default`` or ``DoNotEnforce`` (recorded; compliance is evaluated
            either way, as Azure does).
        display_name: its display name, if any.
    """

    id: str
    name: str
    scope: str
    definition_id: str
    parameters: dict[str, Any] = field(default_factory=dict)
    not_scopes: tuple[str, ...] = ()
    enforcement_mode: str = "Default"
    display_name: str | None = None

    def covers(self, resource_id: str) -> bool:
        """True when the assignment applies to ``resource_id`` (in its scope, in no notScope).

        A management-group scope covers every resource: resource ids do not tell which
        management group a subscription is in.
        """
        rid = resource_id.lower()
        if self.scope.lower().startswith("/subscriptions/") and not _at_or_below(rid, self.scope):
            return False
        return not any(_at_or_below(rid, n) for n in self.not_scopes)


def _at_or_below(resource_id: str, scope: str) -> bool:
    scope = scope.lower().rstrip("/")
    return resource_id == scope or resource_id.startswith(scope + "/")


@dataclass(frozen=True)
class AssignedPolicy:
    """Ties a pack policy to the assignment that put it there.

    Attributes:
        assignment: the assignment.
        definition_id: the policy definition evaluated.
        reference_id: its ``policyDefinitionReferenceId`` in the assigned initiative; None when
            the assignment assigns the definition itself.
        parameters: the values the policy is evaluated with: the assignment's own values, or
            for an initiative member the initiative's member parameters resolved against them.
    """

    assignment: Assignment
    definition_id: str
    reference_id: str | None
    parameters: dict[str, Any] = field(default_factory=dict)


class Policy:
    """One compiled policy definition.

    >>> p = Policy.from_json({"if": {"field": "type", "equals": "Microsoft.Web/sites"},
    ...                       "then": {"effect": "audit"}}, name="web")
    >>> p.id, p.mode, p.default_effect
    ('web', 'All', 'audit')
    """

    __slots__ = ("_default_bound", "_inner", "assigned", "metadata", "source")

    def __init__(
        self,
        inner: _core.Policy,
        source: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        assigned: AssignedPolicy | None = None,
    ) -> None:
        self._inner = inner
        self.source = source
        #: the definition's ``properties.metadata`` object (empty when it has none)
        self.metadata: dict[str, Any] = dict(metadata or {})
        #: the assignment this policy came from (`PolicyPack.from_azure`), else None; its
        #: ``parameters`` are used by `evaluate` unless the caller overrides them
        self.assigned = assigned
        self._default_bound: _core.BoundPolicy | None = None

    @classmethod
    def from_json(cls, policy: JsonSource, name: str | None = None) -> Policy:
        """Compile a definition given as a dict, JSON text or a file path."""
        text, file = to_json_text(policy, PolicyError, "policy")
        fallback = name or (Path(file).stem if file else "policy")
        inner = _compile(text, fallback, file)
        return cls(inner, file, _metadata_of(json.loads(text)))

    @property
    def id(self) -> str:
        """The definition's ``name`` (a GUID for built-ins), else the file stem."""
        return self._inner.name

    @property
    def display_name(self) -> str | None:
        return self._inner.display_name

    @property
    def mode(self) -> str:
        return self._inner.mode

    @property
    def mode_supported(self) -> bool:
        """False for resource-provider (data-plane) modes such as ``Microsoft.Kubernetes.Data``."""
        return self._inner.mode_supported

    @property
    def default_effect(self) -> str | None:
        return self._inner.default_effect

    @property
    def unknown_aliases(self) -> list[str]:
        """Aliases not in the bundled table (read at the documented fallback path)."""
        return list(self._inner.unknown_aliases)

    @property
    def parameters(self) -> list[dict[str, Any]]:
        return list(json.loads(self._inner.parameters_json))

    @property
    def details(self) -> Any | None:
        d = self._inner.details_json
        return None if d is None else json.loads(d)

    def evaluate(
        self,
        resource: JsonSource,
        parameters: Mapping[str, Any] | None = None,
        *,
        now: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Decision:
        """Decide this policy for one resource. See :func:`evaluate_policy`."""
        if not self._inner.mode_supported:
            raise PolicyError(
                f"mode `{self.mode}` is a resource-provider (data-plane) mode, "
                "which azsecmap recognises but does not evaluate",
                "/properties/mode",
                self.source,
            )
        if self.assigned is not None:  # the assigned values, then the caller's on top
            parameters = {**self.assigned.parameters, **(parameters or {})}
        bound = self._bind(parameters)
        text, rfile = to_json_text(resource, ResourceError, "resource")
        options: dict[str, Any] = dict(context or {})
        if now is not None:
            options["now"] = now
        try:
            raw = bound.decide(text, json.dumps(options) if options else None)
        except ResourceError as exc:
            raise exc.with_file(rfile) if rfile else exc from None
        except PolicyError as exc:
            raise exc.with_file(self.source) if self.source else exc from None
        out = json.loads(raw)
        return Decision(
            matched=out["matched"],
            effect=out["effect"],
            reasons=[r["text"] for r in out["reasons"]],
            applicable=out["applicable"],
            note=out["note"],
            details=out["reasons"],
            warnings=[
                f"alias `{a}` is not in the bundled alias table; it was read at the fallback "
                "path under `properties`"
                for a in self.unknown_aliases
            ],
        )

    def _bind(self, parameters: Mapping[str, Any] | None) -> _core.BoundPolicy:
        if not parameters and self._default_bound is not None:
            return self._default_bound
        bound = self._bind_now(parameters)
        if not parameters:
            self._default_bound = bound
        return bound

    def _bind_now(self, parameters: Mapping[str, Any] | None) -> _core.BoundPolicy:
        try:
            params_text = json.dumps(dict(parameters or {}))
        except (TypeError, ValueError) as exc:
            raise PolicyError(
                f"parameters are not JSON-serialisable: {exc}", "/parameters"
            ) from None
        try:
            return self._inner.bind(params_text)
        except PolicyError as exc:
            raise exc.with_file(self.source) if self.source else exc from None

    def __repr__(self) -> str:
        return f"Policy(id={self.id!r}, mode={self.mode!r}, effect={self.default_effect!r})"


def _metadata_of(doc: Any) -> dict[str, Any]:
    """``properties.metadata`` of a whole definition, or ``metadata`` of its properties."""
    if not isinstance(doc, dict):
        return {}
    props = doc.get("properties", doc)
    meta = props.get("metadata") if isinstance(props, dict) else None
    return meta if isinstance(meta, dict) else {}


def _compile(text: str, fallback: str, file: str | None) -> _core.Policy:
    try:
        return _core.Policy.compile(text, fallback)
    except PolicyError as exc:
        raise exc.with_file(file) if file else exc from None


def evaluate_policy(
    policy: JsonSource,
    resource: JsonSource,
    parameters: Mapping[str, Any] | None = None,
    *,
    now: str | None = None,
    context: Mapping[str, Any] | None = None,
) -> Decision:
    """Evaluate one policy definition on one resource, the policy author's loop.

    Args:
        policy: a whole definition (``{"properties": {...}}``), its ``properties``, or a bare
            ``{"if": ..., "then": ...}`` rule; as a dict, JSON text or a file path.
        resource: an ARM resource document (dict, JSON text or file path).
        parameters: assignment parameter values by name (``{"effect": "Deny"}``); declared
            defaults fill the rest.
        now: the clock behind ``utcNow()``, as an RFC 3339 date-time (default: the real clock).
        context: overrides for ``resourceGroup()``, ``subscription()``, ``requestContext()`` and
            ``policy()`` (keys ``resourceGroup``, ``subscription``, ``requestContext``,
            ``policy``).

    Raises:
        PolicyError: the definition or a parameter value is unusable (names the JSON path),
            or the pair fails to evaluate (:class:`EvaluationError`).
        ResourceError: the resource is not a JSON object.

    >>> rule = {"if": {"field": "Microsoft.Storage/storageAccounts/supportsHttpsTrafficOnly",
    ...                "equals": False}, "then": {"effect": "Audit"}}
    >>> d = evaluate_policy(rule, {"type": "Microsoft.Storage/storageAccounts",
    ...                            "properties": {"supportsHttpsTrafficOnly": False}})
    >>> d.matched, d.effect
    (True, 'audit')
    """
    return Policy.from_json(policy).evaluate(resource, parameters, now=now, context=context)


class PolicyPack:
    """A set of compiled policy definitions.

    Bad files raise :class:`PolicyError` naming the file and JSON path, unless
    ``skip_invalid=True``: then they are collected in :attr:`errors` and the rest load.
    """

    def __init__(
        self,
        policies: Iterable[Policy],
        errors: Iterable[AzsecmapError] = (),
        *,
        assignments: Iterable[Assignment] = (),
        exemptions: Exemptions | None = None,
    ) -> None:
        self._policies = list(policies)
        self.errors: list[AzsecmapError] = list(errors)
        #: the assignments the pack was read from (`from_azure`), else empty
        self.assignments: list[Assignment] = list(assignments)
        #: the exemptions at the scope (`from_azure`), for ``evaluate(..., exemptions=)``
        self.exemptions: Exemptions | None = exemptions

    @classmethod
    def from_azure(
        cls,
        credential: TokenCredential | None = None,
        scope: str = "",
        endpoint: str | None = None,
        *,
        descendants: bool = False,
        retry: RetryBudget | None = None,
        sleep: Callable[[float], None] | None = None,
        workers: int = 8,
        **client_kwargs: Any,
    ) -> PolicyPack:
        """The policies assigned at an Azure scope, as Azure would evaluate them there.

        Reads, through the real ``azure-mgmt-resource-policy`` client, the assignments at
        ``scope`` and inherited into it (``$filter=atScope()``), each assignment's definition or
        initiative (built-in, subscription or management-group custom; each fetched once, in
        parallel) and, for initiatives, every member definition; and the exemptions at and
        below the scope. Every pack policy has the id ``<assignment name>:<reference id>``
        (initiative members) or ``<assignment name>:<definition name>`` and carries its
        :class:`AssignedPolicy` (`Policy.assigned`): `evaluate` binds it with the assigned
        values and leaves out resources outside the assignment's scope or in its notScopes.

        Args:
            credential: an azure-core ``TokenCredential``; ``DefaultAzureCredential()`` if None.
            scope: ``/subscriptions/<id>``, ``/subscriptions/<id>/resourceGroups/<rg>`` or
                ``/providers/Microsoft.Management/managementGroups/<mg>``.
            endpoint: the ARM endpoint (default ``https://management.azure.com``).
            descendants: also read the assignments below the scope (no ``$filter``), as for a
                scan of every resource in it.
            retry: the retry budget for each request (429, 5xx, dropped connections).
            sleep: how to wait (``time.sleep``); tests pass a recorder.
            workers: threads fetching definitions.
            **client_kwargs: passed to ``PolicyClient`` (e.g. ``connection_verify``).

        The exemptions are in :attr:`exemptions` (matched to the pack's policy ids); apply
        them with ``evaluate(pack, resources, exemptions=pack.exemptions)``.

        Raises:
            PolicyError: an assignment names a definition that does not exist or cannot be
                compiled (the message names the assignment), or a request failed beyond the
                retry budget.
        """
        from .policy_azure import read_assigned_pack

        return read_assigned_pack(
            credential,
            scope,
            endpoint,
            descendants=descendants,
            retry=retry,
            sleep=sleep,
            workers=workers,
            client_kwargs=client_kwargs,
        )

    @classmethod
    def from_files(cls, paths: Iterable[PathLike], *, skip_invalid: bool = False) -> PolicyPack:
        """Compile definition files; a file may hold one definition or a JSON list of them."""
        policies: list[Policy] = []
        errors: list[AzsecmapError] = []
        for path in paths:
            file = os.fspath(path)
            try:
                policies.extend(_load_file(file))
            except AzsecmapError as exc:
                if not skip_invalid:
                    raise
                errors.append(exc)
        return cls(policies, errors)

    @classmethod
    def from_dir(cls, path: PathLike, *, skip_invalid: bool = False) -> PolicyPack:
        """Compile every ``*.json`` file below ``path`` (sorted, recursively)."""
        root = Path(path)
        if not root.is_dir():
            raise PolicyError("not a directory", "", os.fspath(path))
        return cls.from_files(sorted(root.rglob("*.json")), skip_invalid=skip_invalid)

    @classmethod
    def builtin(cls) -> PolicyPack:
        """The bundled default rule pack: azsecmap's own definitions, embedded in the extension.

        Every rule's ``properties.metadata.azsecmap`` names the controls it gives evidence for,
        the Microsoft built-ins that check the same thing and a severity; see :meth:`metadata`.

        >>> pack = PolicyPack.builtin()
        >>> len(pack) >= 80
        True
        >>> pack["azsecmap-kv-001-soft-delete"].metadata["azsecmap"]["severity"]
        'high'
        """
        policies = []
        for path, text in _core.builtin_rules():
            source = f"<builtin>/frameworks/rules/{path}"
            inner = _compile(text, Path(path).stem, source)
            policies.append(Policy(inner, source, _metadata_of(json.loads(text))))
        return cls(policies)

    def metadata(self) -> pl.DataFrame:
        """One row per policy: its id, what it says about itself, and its control mappings.

        Columns: ``policy_id``, ``display_name``, ``category``, ``version``, ``mode``,
        ``default_effect``, ``severity`` (``high``/``medium``/``low`` or null), ``controls``
        (list of ``FRAMEWORK:CONTROL`` ids), ``builtin`` (list of Microsoft built-in definition
        GUIDs that check the same thing) and ``source`` (the file). A policy with no
        ``metadata.azsecmap`` block has empty lists and a null severity.

        >>> m = PolicyPack.builtin().metadata()
        >>> m.columns[:3]
        ['policy_id', 'display_name', 'category']
        >>> m.explode("controls").filter(pl.col("controls") == "MCSB_v1:DP-8").height > 0
        True
        """
        rows = []
        for p in self._policies:
            ours = p.metadata.get("azsecmap")
            ours = ours if isinstance(ours, dict) else {}
            rows.append(
                {
                    "policy_id": p.id,
                    "display_name": p.display_name,
                    "category": _str_or_none(p.metadata.get("category")),
                    "version": _str_or_none(p.metadata.get("version")),
                    "mode": p.mode,
                    "default_effect": p.default_effect,
                    "severity": _str_or_none(ours.get("severity")),
                    "controls": [str(c) for c in ours.get("controls") or []],
                    "builtin": [str(b) for b in ours.get("builtin") or []],
                    "source": p.source,
                }
            )
        schema: dict[str, pl.DataType] = {
            "policy_id": pl.String(),
            "display_name": pl.String(),
            "category": pl.String(),
            "version": pl.String(),
            "mode": pl.String(),
            "default_effect": pl.String(),
            "severity": pl.String(),
            "controls": pl.List(pl.String()),
            "builtin": pl.List(pl.String()),
            "source": pl.String(),
        }
        return pl.DataFrame(rows, schema=schema)

    def __len__(self) -> int:
        return len(self._policies)

    def __iter__(self) -> Iterator[Policy]:
        return iter(self._policies)

    def __getitem__(self, policy_id: str) -> Policy:
        for p in self._policies:
            if p.id == policy_id:
                return p
        raise KeyError(policy_id)

    def ids(self) -> list[str]:
        """Policy ids, in load order."""
        return [p.id for p in self._policies]

    def __repr__(self) -> str:
        return f"PolicyPack({len(self)} policies, {len(self.errors)} errors)"


def _str_or_none(v: Any) -> str | None:
    return None if v is None else str(v)


def _load_file(file: str) -> list[Policy]:
    text = read_text(file, PolicyError)
    stem = Path(file).stem
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PolicyError(
            f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", "", file
        ) from None
    except RecursionError:
        raise PolicyError("the document nests too deeply", "", file) from None
    if isinstance(doc, list):
        out = []
        for i, item in enumerate(doc):
            try:
                inner = _compile(json.dumps(item), f"{stem}#{i}", file)
                out.append(Policy(inner, file, _metadata_of(item)))
            except PolicyError as exc:
                exc.pointer = f"/{i}{exc.pointer or ''}"
                raise
        return out
    return [Policy(_compile(text, stem, file), file, _metadata_of(doc))]
