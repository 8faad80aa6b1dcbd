"""A fake Azure Policy endpoint (beside the fake Resource Graph): real HTTPS, real REST shapes.

It answers the GETs the ``azure-mgmt-resource-policy`` client and azsecmap send:

- ``{scope}/providers/Microsoft.Authorization/policyAssignments?api-version=..[&$filter=atScope()]``
  for a management group, subscription or resource group scope: with ``atScope()`` the
  assignments at the scope and above it, without a filter also those below it; paged with
  ``nextLink`` (``$skiptoken``), ``page_size`` items a page;
- ``[/subscriptions/{s} | /providers/Microsoft.Management/managementGroups/{mg}]
  /providers/Microsoft.Authorization/policy[Set]Definitions/{name}`` (built-ins without a
  prefix): the definition, or 404 ``PolicyDefinitionNotFound``;
- ``{scope}/providers/Microsoft.Authorization/policyExemptions``: exemptions at and above the
  scope, and below it without a filter; paged the same way.

POSTs go to the fake Resource Graph (`fake_arg`) when one is given, so one endpoint serves the
whole `azsecmap scan --resource-graph --assignments` run. Faults are chosen per request by
number or by a predicate over the path, as in `fake_arg` (``status`` or ``drop``).
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from .fake_arg import FakeResourceGraph, Fault, handler_for, send_json

_AUTHZ = "/providers/microsoft.authorization/"
_LIST = re.compile(
    r"(?P<scope>.*)/providers/Microsoft\.Authorization/(?P<what>policyAssignments|policyExemptions)",
    re.IGNORECASE,
)
_DEFINITION = re.compile(
    r"(?:/subscriptions/[^/]+|/providers/Microsoft\.Management/managementGroups/[^/]+)?"
    r"/providers/Microsoft\.Authorization/(?:policyDefinitions|policySetDefinitions)/[^/]+",
    re.IGNORECASE,
)
_MG = "/providers/microsoft.management/managementgroups/"


@dataclass
class Request:
    """One request as the server saw it."""

    at: float
    path: str
    query: dict[str, list[str]]
    status: int


class FakePolicy:
    """The policy state of a small tenant: management groups, assignments, definitions,
    exemptions; the fault schedule and the request log."""

    def __init__(
        self,
        token: str,
        parents: dict[str, str],
        definitions: list[dict[str, Any]],
        assignments: list[dict[str, Any]],
        exemptions: list[dict[str, Any]],
        page_size: int = 2,
    ) -> None:
        """``parents``: subscription id or management group name → its parent management group
        name (lower case; the root has none)."""
        self.token = token
        self.parents = {k.lower(): v.lower() for k, v in parents.items()}
        self.definitions = {d["id"].lower(): d for d in definitions}
        self.assignments = assignments
        self.exemptions = exemptions
        self.page_size = page_size
        self.lock = threading.Lock()
        self.reset()

    def reset(
        self,
        faults: dict[int, Fault] | None = None,
        fault_when: Callable[[int, str, dict[str, list[str]]], Fault | None] | None = None,
    ) -> None:
        """Clear the log and set the faults (by 1-based request number, or a predicate)."""
        with self.lock:
            self.faults = dict(faults or {})
            self.fault_when = fault_when
            self.requests: list[Request] = []

    # -- the scope tree -------------------------------------------------------------------
    def _groups_above(self, scope: str) -> list[str]:
        """Management groups containing ``scope`` (lower case), nearest first."""
        s = scope.lower()
        if s.startswith(_MG):
            node: str | None = s[len(_MG) :].split("/")[0]
        else:
            node = s.split("/")[2] if s.startswith("/subscriptions/") else None
        out = []
        while node is not None and node in self.parents:
            node = self.parents[node]
            out.append(node)
        return out

    def contains(self, outer: str, inner: str) -> bool:
        """True when scope ``inner`` is ``outer`` or below it."""
        o, i = outer.lower().rstrip("/"), inner.lower().rstrip("/")
        if i == o or i.startswith(o + "/"):
            return True
        if o.startswith(_MG):
            return o[len(_MG) :] in self._groups_above(i)
        return False

    # -- answering ------------------------------------------------------------------------
    def answer(self, path: str, query: dict[str, list[str]], base: str) -> tuple[int, Any]:
        m = _LIST.fullmatch(path)
        if m is not None:
            scope = m.group("scope")
            items = self.assignments if m.group("what").lower() == "policyassignments" else (
                self.exemptions
            )  # fmt: skip
            flt = (query.get("$filter") or [""])[0]
            if flt not in ("", "atScope()"):
                return 400, _error("InvalidFilter", f"Unsupported filter {flt}.")
            found = [
                x
                for x in items
                if self.contains(_scope_of(x), scope)
                or (not flt and self.contains(scope, _scope_of(x)))
            ]
            start = int((query.get("$skiptoken") or ["0"])[0])
            page = found[start : start + self.page_size]
            body: dict[str, Any] = {"value": page}
            if start + self.page_size < len(found):
                params = f"api-version={query['api-version'][0]}"
                if flt:
                    params += f"&$filter={quote(flt)}"
                body["nextLink"] = f"{base}{path}?{params}&$skiptoken={start + self.page_size}"
            return 200, body
        if _DEFINITION.fullmatch(path):
            found_def = self.definitions.get(path.lower())
            if found_def is None:
                return 404, _error(
                    "PolicyDefinitionNotFound",
                    f"The policy definition '{path}' could not be found.",
                )
            return 200, found_def
        return 404, _error("NotFound", "No such path.")


def _scope_of(obj: dict[str, Any]) -> str:
    rid = str(obj["id"])
    return rid[: rid.lower().index(_AUTHZ)]


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def policy_handler(
    state: FakePolicy, graph: FakeResourceGraph | None = None
) -> type[BaseHTTPRequestHandler]:
    """The handler class: GETs answered from ``state``, POSTs by the Resource Graph fake."""
    base: type[BaseHTTPRequestHandler] = (
        handler_for(graph) if graph is not None else BaseHTTPRequestHandler
    )

    class Handler(base):  # type: ignore[valid-type,misc]
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _reply(self, status: int, body: Any, headers: dict[str, str]) -> None:
            send_json(self, status, json.dumps(body).encode(), headers)

        def do_GET(self) -> None:
            now = time.monotonic()
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            if "api-version" not in query:
                self._reply(400, _error("MissingApiVersionParameter", "No api-version."), {})
                return
            if self.headers.get("Authorization") != f"Bearer {state.token}":
                self._reply(401, _error("AuthenticationFailed", "Bad or missing token."), {})
                return
            with state.lock:
                number = len(state.requests) + 1
                fault = state.faults.get(number)
                if fault is None and state.fault_when is not None:
                    fault = state.fault_when(number, parts.path, query)
                seen = Request(now, parts.path, query, 0)
                state.requests.append(seen)
            host = f"https://{self.headers.get('Host')}"
            if fault is not None and fault.kind == "status":
                seen.status = fault.status
                self._reply(
                    fault.status, _error("Injected", f"Injected {fault.status}."), fault.headers
                )
                return
            status, body = state.answer(parts.path, query, host)
            seen.status = status
            if fault is not None and fault.kind == "drop":
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload[: len(payload) // 3])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            self._reply(status, body, {})

    return Handler
