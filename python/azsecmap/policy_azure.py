"""Reading what is assigned at an Azure scope through the real `azure-mgmt-resource-policy` client.

`PolicyPack.from_azure` is the public door; this module does the reading. It lists the policy
assignments at a scope (and those inherited into it), fetches every definition and initiative
they name once (in parallel threads), resolves each initiative member's parameters against the
assignment's values, and lists the exemptions at and below the scope. Requests are retried the
way `resource_graph` retries (429 with ``Retry-After``, 5xx, dropped connections, within a
`RetryBudget`), with the same client settings: azure-core's retries off and the authorization
header hidden from its loggers. See ``docs/policy-from-azure.md``.

Since ``azure-mgmt-resource`` 24 the policy operations live in the separate
``azure-mgmt-resource-policy`` package (same import path, ``azure.mgmt.resource.policy``). Its
client has no exemption operations, so exemptions are read with the same client's
``send_request`` (same pipeline, same credential) from the documented REST path.
"""

from __future__ import annotations

import copy
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import PolicyError
from .exemptions import Exemptions
from .policy import AssignedPolicy, Assignment, Policy, PolicyPack, _compile, _metadata_of
from .resource_graph import (
    TRANSIENT_STATUS,
    RetryBudget,
    _reply_of,
    _service_message,
    arm_client_kwargs,
    default_credential,
    parse_retry_after,
)

if TYPE_CHECKING:  # pragma: no cover
    from azure.core.credentials import TokenCredential

__all__ = ["EXEMPTIONS_API_VERSION", "parse_scope", "read_assigned_pack"]

log = logging.getLogger(__name__)

#: The policyExemptions REST API version read (the client package has no exemption operations).
EXEMPTIONS_API_VERSION = "2022-07-01-preview"

_SCOPE = re.compile(
    r"/subscriptions/(?P<sub>[^/]+)(?:/resourceGroups/(?P<rg>[^/]+))?"
    r"|/providers/Microsoft\.Management/managementGroups/(?P<mg>[^/]+)",
    re.IGNORECASE,
)
_DEFINITION = re.compile(
    r"(?:/subscriptions/(?P<sub>[^/]+)"
    r"|/providers/Microsoft\.Management/managementGroups/(?P<mg>[^/]+))?"
    r"/providers/Microsoft\.Authorization/(?P<kind>policyDefinitions|policySetDefinitions)"
    r"/(?P<name>[^/]+)",
    re.IGNORECASE,
)
_PARAMETER_REF = re.compile(r"\[\s*parameters\(\s*'([^']+)'\s*\)\s*\]", re.IGNORECASE)
# Any subscription id will do for built-in and management-group calls, which do not use it.
_NO_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"

T = TypeVar("T")


@dataclass(frozen=True)
class Scope:
    """A parsed scope: a management group, a subscription or a resource group."""

    text: str
    subscription: str | None = None
    resource_group: str | None = None
    management_group: str | None = None


def parse_scope(scope: str) -> Scope:
    """Parse ``/subscriptions/<id>[/resourceGroups/<rg>]`` or a management group scope.

    >>> parse_scope("/subscriptions/s1/resourceGroups/rg1").resource_group
    'rg1'
    >>> parse_scope("/providers/Microsoft.Management/managementGroups/corp").management_group
    'corp'
    """
    text = scope.strip().rstrip("/")
    m = _SCOPE.fullmatch(text)
    if m is None:
        raise ValueError(
            f"scope `{scope}` is not `/subscriptions/<id>`, `/subscriptions/<id>/resourceGroups/"
            "<rg>` or `/providers/Microsoft.Management/managementGroups/<mg>`"
        )
    return Scope(text, m.group("sub"), m.group("rg"), m.group("mg"))


class _Missing(Exception):
    """The service answered 404 for a definition."""


class _Calls:
    """Runs one request (a callable) with retries within a `RetryBudget`; thread-safe."""

    def __init__(
        self,
        budget: RetryBudget,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        rng: random.Random,
    ) -> None:
        self.budget = budget
        self.sleep = sleep
        self.clock = clock
        self.rng = rng
        self.lock = threading.Lock()
        self.requests = 0
        self.retries = 0
        self.waits: list[tuple[str, float]] = []

    def __call__(self, what: str, request: Callable[[], T]) -> T:
        from azure.core.exceptions import (
            ClientAuthenticationError,
            DecodeError,
            HttpResponseError,
            ServiceRequestError,
            ServiceResponseError,
        )

        started = self.clock()
        attempt = 0
        while True:
            with self.lock:
                self.requests += 1
            wait: float | None = None
            try:
                return request()
            except (ServiceRequestError, ServiceResponseError, DecodeError) as exc:
                why, kind = f"connection failed ({type(exc).__name__})", "connection"
            except ClientAuthenticationError as exc:
                if exc.response is None or not exc.status_code:
                    first = str(exc.message or exc).strip().splitlines()
                    reason = first[0] if first else type(exc).__name__
                    raise PolicyError(f"{what}: cannot get a token: {reason}") from None
                reply = _reply_of(exc)
                raise PolicyError(
                    f"{what}: HTTP {reply.status} {_service_message(reply.body)}".rstrip()
                ) from None
            except HttpResponseError as exc:
                if exc.response is None or not exc.status_code:
                    raise PolicyError(f"{what}: {type(exc).__name__}") from None
                reply = _reply_of(exc)
                if reply.status == 404:
                    raise _Missing(_service_message(reply.body)) from None
                if reply.status != 429 and reply.status not in TRANSIENT_STATUS:
                    raise PolicyError(
                        f"{what}: HTTP {reply.status} {_service_message(reply.body)}".rstrip()
                    ) from None
                header = {k.lower(): v for k, v in reply.headers.items()}.get("retry-after")
                wait = parse_retry_after(header) if header else None
                why, kind = f"HTTP {reply.status}", "retry-after"
            attempt += 1
            if wait is None:
                with self.lock:
                    wait = self.budget.backoff(attempt, self.rng)
                kind = "backoff" if kind != "connection" else kind
            if wait > self.budget.max_header_wait:
                raise PolicyError(f"{what}: {why}, and the service asks to wait {wait:.0f}s")
            if attempt > self.budget.max_retries:
                raise PolicyError(f"{what}: {why} after {attempt - 1} retries")
            if self.clock() - started + wait > self.budget.max_retry_seconds:
                raise PolicyError(
                    f"{what}: {why}; retrying would pass the "
                    f"{self.budget.max_retry_seconds:g}s budget"
                )
            with self.lock:
                self.retries += 1
                self.waits.append((kind, wait))
            log.info("azure policy: %s: %s; retry %d in %.2fs", what, why, attempt, wait)
            self.sleep(wait)


class _Session:
    """Policy clients (one per subscription the calls need) and the retrying caller."""

    def __init__(
        self,
        credential: TokenCredential,
        endpoint: str | None,
        client_kwargs: dict[str, Any],
        calls: _Calls,
        subscription: str | None,
    ) -> None:
        self.credential = credential
        self.kwargs = arm_client_kwargs(endpoint, client_kwargs)
        self.calls = calls
        self.home = subscription or _NO_SUBSCRIPTION
        self.clients: dict[str, Any] = {}
        self.lock = threading.Lock()

    def client(self, subscription: str | None = None) -> Any:
        from azure.mgmt.resource.policy import PolicyClient

        key = (subscription or self.home).lower()
        with self.lock:
            if key not in self.clients:
                self.clients[key] = PolicyClient(self.credential, key, **self.kwargs)
            return self.clients[key]

    def close(self) -> None:
        for c in self.clients.values():
            c.close()

    def paged(self, what: str, start: Callable[[], Any]) -> list[dict[str, Any]]:
        """Every item of an SDK pager as REST JSON; a failed page is fetched again alone."""
        out: list[dict[str, Any]] = []
        token: str | None = None
        while True:

            def one(after: str | None = token) -> tuple[list[dict[str, Any]], str | None]:
                pages = start().by_page(continuation_token=after)
                items = [_as_json(x) for x in next(pages)]
                return items, pages.continuation_token

            items, token = self.calls(what, one)
            out.extend(items)
            if not token:
                return out

    def assignments(self, scope: Scope, descendants: bool) -> list[dict[str, Any]]:
        ops = self.client(scope.subscription).policy_assignments
        flt = None if descendants else "atScope()"
        what = f"listing the policy assignments at `{scope.text}`"
        if scope.management_group is not None:
            mg = scope.management_group
            return self.paged(what, lambda: ops.list_for_management_group(mg, filter=flt))
        if scope.resource_group is not None:
            rg = scope.resource_group
            return self.paged(what, lambda: ops.list_for_resource_group(rg, filter=flt))
        return self.paged(what, lambda: ops.list(filter=flt))

    def definition(self, definition_id: str) -> dict[str, Any] | None:
        """A definition or initiative by id, as REST JSON; None when it does not exist."""
        m = _DEFINITION.fullmatch(definition_id)
        if m is None:
            return None
        name, sub, mg = m.group("name"), m.group("sub"), m.group("mg")
        ops = self.client(sub)
        ops = (
            ops.policy_set_definitions
            if m.group("kind").lower() == "policysetdefinitions"
            else ops.policy_definitions
        )

        def raw(pipeline_response: Any, _deserialized: Any, _headers: Any) -> dict[str, Any]:
            body: dict[str, Any] = pipeline_response.http_response.json()
            return body

        def get() -> dict[str, Any]:
            if mg is not None:
                got: dict[str, Any] = ops.get_at_management_group(mg, name, cls=raw)
            elif sub is not None:
                got = ops.get(name, cls=raw)
            else:
                got = ops.get_built_in(name, cls=raw)
            return got

        try:
            return self.calls(f"reading `{definition_id}`", get)
        except _Missing:
            return None

    def definitions(self, ids: Iterable[str], workers: int) -> dict[str, dict[str, Any] | None]:
        """Each id fetched once, in parallel; keys lower-cased."""
        unique = sorted({i.lower(): i for i in ids}.items())
        if not unique:
            return {}
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(unique)))) as pool:
            got = list(pool.map(lambda kv: self.definition(kv[1]), unique))
        return {k: v for (k, _), v in zip(unique, got, strict=True)}

    def exemptions(self, scope: Scope) -> list[dict[str, Any]]:
        from azure.core.rest import HttpRequest

        client = self.client(scope.subscription)
        params = {"api-version": EXEMPTIONS_API_VERSION}
        if scope.management_group is not None:
            params["$filter"] = "atScope()"  # management groups list only what applies to them
        first = HttpRequest(
            "GET",
            f"{scope.text}/providers/Microsoft.Authorization/policyExemptions",
            params=params,
        )
        out: list[dict[str, Any]] = []
        request: Any = first
        while request is not None:

            def one(req: Any = request) -> dict[str, Any]:
                resp = client.send_request(req)
                resp.raise_for_status()
                body: dict[str, Any] = resp.json()
                return body

            try:
                body = self.calls(f"listing the policy exemptions at `{scope.text}`", one)
            except _Missing:
                raise PolicyError(
                    f"listing the policy exemptions at `{scope.text}`: the scope does not exist"
                ) from None
            out.extend(x for x in body.get("value") or [] if isinstance(x, dict))
            link = body.get("nextLink")
            request = HttpRequest("GET", link) if link else None
        return out


def _as_json(item: Any) -> dict[str, Any]:
    as_dict = getattr(item, "as_dict", None)
    out: dict[str, Any] = as_dict() if callable(as_dict) else dict(item)
    return out


def _assignment(raw: dict[str, Any]) -> Assignment:
    rid = str(raw.get("id") or "")
    props = raw.get("properties") or {}
    marker = "/providers/microsoft.authorization/policyassignments/"
    scope = props.get("scope")
    if not scope:
        at = rid.lower().find(marker)
        scope = rid[:at] if at >= 0 else ""
    values = {
        k: v.get("value") if isinstance(v, dict) else v
        for k, v in (props.get("parameters") or {}).items()
    }
    return Assignment(
        id=rid,
        name=str(raw.get("name") or rid.rsplit("/", 1)[-1]),
        scope=str(scope),
        definition_id=str(props.get("policyDefinitionId") or ""),
        parameters=values,
        not_scopes=tuple(str(s).rstrip("/") for s in props.get("notScopes") or []),
        enforcement_mode=str(props.get("enforcementMode") or "Default"),
        display_name=props.get("displayName"),
    )


def _initiative_values(assignment: Assignment, initiative: dict[str, Any]) -> dict[str, Any]:
    """The initiative's parameter values (lower-cased names): assigned, else declared default."""
    declared = (initiative.get("properties") or {}).get("parameters") or {}
    given = {k.lower(): v for k, v in assignment.parameters.items()}
    out: dict[str, Any] = {}
    for name, decl in declared.items():
        if name.lower() in given:
            out[name.lower()] = given[name.lower()]
        elif isinstance(decl, dict) and "defaultValue" in decl:
            out[name.lower()] = decl["defaultValue"]
    return out


def _member_values(
    member: dict[str, Any], values: dict[str, Any], assignment: Assignment, reference: str
) -> dict[str, Any]:
    """A member's parameter values: ``[parameters('x')]`` resolved against the initiative's."""
    out: dict[str, Any] = {}
    for name, entry in (member.get("parameters") or {}).items():
        value = entry.get("value") if isinstance(entry, dict) else entry
        if isinstance(value, str):
            m = _PARAMETER_REF.fullmatch(value.strip())
            if m is not None:
                if m.group(1).lower() in values:
                    out[name] = values[m.group(1).lower()]
                continue  # unset: the member's own default applies
            if value.startswith("[["):
                value = value[1:]  # an escaped literal
            elif value.startswith("[") and value.endswith("]"):
                raise PolicyError(
                    f"assignment `{assignment.id}`: member `{reference}` sets parameter "
                    f"`{name}` to the expression `{value}`, which azsecmap cannot resolve "
                    "(only `[parameters('name')]` is supported)"
                )
        out[name] = value
    return out


def _compile_assigned(
    raw: dict[str, Any], policy_id: str, assigned: AssignedPolicy, definition_id: str
) -> Policy:
    doc = copy.copy(raw)
    doc["name"] = policy_id  # results name the assignment, not only the definition
    try:
        inner = _compile(json.dumps(doc), policy_id, definition_id)
    except PolicyError as exc:
        exc.message = f"assignment `{assigned.assignment.id}`: {exc.message}"
        raise
    return Policy(inner, definition_id, _metadata_of(raw), assigned)


def read_assigned_pack(
    credential: TokenCredential | None,
    scope: str,
    endpoint: str | None = None,
    *,
    descendants: bool = False,
    retry: RetryBudget | None = None,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    seed: int | None = None,
    workers: int = 8,
    client_kwargs: dict[str, Any] | None = None,
) -> PolicyPack:
    """See `PolicyPack.from_azure`; ``clock`` and ``seed`` (backoff jitter) are for tests."""
    where = parse_scope(scope)
    try:
        import azure.mgmt.resource.policy  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the install
        raise PolicyError(
            "reading policy assignments needs `azure-mgmt-resource-policy` and `azure-identity` "
            "(pip install 'azsecmap[azure]')"
        ) from None
    calls = _Calls(retry or RetryBudget(), sleep or time.sleep, clock, random.Random(seed))
    session = _Session(
        default_credential(credential), endpoint, dict(client_kwargs or {}), calls,
        where.subscription,
    )  # fmt: skip
    try:
        assignments = [_assignment(a) for a in session.assignments(where, descendants)]
        found = session.definitions((a.definition_id for a in assignments), workers)
        members = [
            str(m.get("policyDefinitionId") or "")
            for raw in found.values()
            if raw is not None
            for m in (raw.get("properties") or {}).get("policyDefinitions") or []
        ]
        found.update(session.definitions((m for m in members if m.lower() not in found), workers))
        exemption_objects = session.exemptions(where)
    finally:
        session.close()

    policies: list[Policy] = []
    refs_of: dict[str, dict[str, str]] = {}
    ids_of: dict[str, list[str]] = {}
    seen: set[str] = set()
    for a in assignments:
        raw = found.get(a.definition_id.lower())
        if raw is None:
            raise PolicyError(
                f"assignment `{a.id}` assigns `{a.definition_id}`, which does not exist "
                "or cannot be read"
            )
        refs = refs_of.setdefault(a.id.lower(), {})
        ids = ids_of.setdefault(a.id.lower(), [])
        if _DEFINITION.fullmatch(a.definition_id) and "/policysetdefinitions/" in (
            a.definition_id.lower()
        ):
            values = _initiative_values(a, raw)
            for i, m in enumerate((raw.get("properties") or {}).get("policyDefinitions") or []):
                ref = str(m.get("policyDefinitionReferenceId") or i)
                mid = str(m.get("policyDefinitionId") or "")
                member = found.get(mid.lower())
                if member is None:
                    raise PolicyError(
                        f"assignment `{a.id}`: initiative `{a.definition_id}` member `{ref}` "
                        f"refers to `{mid}`, which does not exist or cannot be read"
                    )
                pid = _unique(f"{a.name}:{ref}", seen)
                refs[ref.lower()] = pid
                ids.append(pid)
                assigned = AssignedPolicy(a, mid, ref, _member_values(m, values, a, ref))
                policies.append(_compile_assigned(member, pid, assigned, mid))
        else:
            pid = _unique(f"{a.name}:{a.definition_id.rsplit('/', 1)[-1]}", seen)
            ids.append(pid)
            assigned = AssignedPolicy(a, a.definition_id, None, dict(a.parameters))
            policies.append(_compile_assigned(raw, pid, assigned, a.definition_id))

    exemptions = _exemptions(exemption_objects, ids_of, refs_of, where.text)
    log.info(
        "azure policy: %d assignments, %d policies, %d exemptions (%d requests, %d retries)",
        len(assignments),
        len(policies),
        len(exemptions),
        calls.requests,
        calls.retries,
    )
    return PolicyPack(policies, assignments=assignments, exemptions=exemptions)


def _unique(policy_id: str, seen: set[str]) -> str:
    """``policy_id``, or with ``#2``, ``#3``… when two assignments share a name."""
    out, n = policy_id, 1
    while out.lower() in seen:
        n += 1
        out = f"{policy_id}#{n}"
    seen.add(out.lower())
    return out


def _exemptions(
    objects: list[dict[str, Any]],
    ids_of: dict[str, list[str]],
    refs_of: dict[str, dict[str, str]],
    scope: str,
) -> Exemptions:
    """Each exemption matched to the pack policies of its own assignment."""
    out = Exemptions()
    source = f"azure:{scope}"
    for obj in objects:
        props = obj.get("properties") or {}
        aid = str(props.get("policyAssignmentId") or "").lower()
        ids, refs = ids_of.get(aid), refs_of.get(aid, {})
        if ids is None:
            out.skipped.append(
                (
                    str(obj.get("id")),
                    f"its assignment `{props.get('policyAssignmentId')}` was not read at the scope",
                )
            )
            continue
        out = out + Exemptions.from_azure(
            [obj], source=source, assignments={aid: ids}, references=refs
        )
    return out
