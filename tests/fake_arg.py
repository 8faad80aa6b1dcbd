"""A fake Azure Resource Graph endpoint for the tests: real HTTPS, real REST shapes, faults on cue.

It serves ``POST /providers/Microsoft.ResourceGraph/resources?api-version=...`` the way the
service does (``subscriptions``, ``managementGroups``, ``query``, ``options.$skipToken``,
``options.$top``, ``options.resultFormat`` in; ``totalRecords``, ``count``, ``resultTruncated``,
``$skipToken``, ``data`` and the per-user quota headers out), from a tenant held in memory and
sorted by id. It understands only the query shapes azsecmap sends (the default query, ordered by
id, optionally resumed with ``where id > '<id>'``) and answers anything else with 400.

Every request is recorded with its arrival time, so a test can check that the client waited as
long as the headers asked.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from azure.core.credentials import AccessToken

from azsecmap.resource_graph import DEFAULT_QUERY

PATH = "/providers/Microsoft.ResourceGraph/resources"
MAX_SUBSCRIPTIONS = 1000
_QUERY = re.compile(
    r"(?P<base>.*?)(?: \| where id > '(?P<after>(?:[^'\\]|\\.)*)')? \| order by id asc",
    re.DOTALL,
)


class StaticTokenCredential:
    """A `TokenCredential` that always returns the same bearer token."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.calls = 0

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.calls += 1
        return AccessToken(self.token, int(time.time()) + 3600)


@dataclass
class Fault:
    """What to do instead of (or on top of) answering a request.

    kind: ``"status"`` (answer ``status`` with ``headers``), ``"drop"`` (send the headers and part
    of the body, then close the socket), ``"slow"`` (sleep ``delay`` seconds, then answer),
    ``"expire"`` (reject the request's skip token, as an expired one, with 400).
    """

    kind: str
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    """One request as the server saw it."""

    at: float
    subscriptions: int
    query: str
    token: str | None
    status: int
    early: bool  # arrived before the time the server last told the client to wait for
    remaining: int = -1  # the quota the reply announced


class FakeResourceGraph:
    """The server state: the tenant, the quota, the fault schedule and the request log."""

    def __init__(self, rows: list[tuple[str, str, bytes]], token: str) -> None:
        """``rows``: (resource id, subscription id, the row's JSON text) in any order."""
        rows = sorted(rows, key=lambda r: r[0])
        self.ids = [r[0] for r in rows]
        self.subs = [r[1].lower() for r in rows]
        self.lines = [r[2] for r in rows]
        self.all_subscriptions = sorted(set(self.subs))
        self.token = token
        self.lock = threading.Lock()
        self.reset()

    # -- configuration per test -----------------------------------------------------------
    def reset(
        self,
        faults: dict[int, Fault] | None = None,
        fault_when: Callable[[int, dict[str, Any]], Fault | None] | None = None,
        quota: int = 1000,
        window: float = 5.0,
        reset_format: Callable[[float], str] | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> None:
        """Clear the log and set the faults (by 1-based request number) and the quota."""
        with self.lock:
            self.faults = dict(faults or {})
            self.fault_when = fault_when
            self.quota = quota
            self.window = window
            self.window_start: float | None = None
            self.used = 0
            self.reset_format = reset_format or _timespan
            self.extra_headers = dict(extra_headers or {})
            self.requests: list[Seen] = []
            self.wait_until = 0.0
            self.expired: set[str] = set()

    # -- answering ------------------------------------------------------------------------
    def quota_headers(self, now: float) -> tuple[dict[str, str], bool]:
        """Charge one query to the window; return the headers and whether it was over quota."""
        if self.window_start is None or now >= self.window_start + self.window:
            self.window_start, self.used = now, 0
        over = self.used >= self.quota
        if not over:
            self.used += 1
        left = max(0, self.window_start + self.window - now)
        headers = {
            **self.extra_headers,
            "x-ms-user-quota-remaining": str(self.quota - self.used),
            "x-ms-user-quota-resets-after": self.reset_format(left),
        }
        if self.used >= self.quota:
            self.wait_until = max(self.wait_until, self.window_start + self.window)
        return headers, over

    def page(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """The status and JSON body for one well-formed request."""
        subs = body.get("subscriptions")
        if subs is not None and len(subs) > MAX_SUBSCRIPTIONS:
            return 400, _error(
                "BadRequest",
                f"The number of subscriptions ({len(subs)}) exceeds the limit of "
                f"{MAX_SUBSCRIPTIONS} per request.",
            )
        if body.get("managementGroups"):
            return 400, _error(
                "BadRequest", "This fake serves subscriptions, not management groups."
            )
        m = _QUERY.fullmatch(body.get("query", ""))
        if m is None or m.group("base") != DEFAULT_QUERY:
            return 400, _error("InvalidQuery", "Query shape not understood by the fake server.")
        after = m.group("after")
        if after is not None:
            after = after.replace("\\'", "'").replace("\\\\", "\\")
        options = body.get("options") or {}
        if options.get("resultFormat") != "objectArray":
            return 400, _error("BadRequest", "The fake server answers objectArray only.")
        top = int(options.get("$top") or 1000)
        if not 1 <= top <= 1000:
            return 400, _error("BadRequest", "$top must be between 1 and 1000.")
        token = options.get("$skipToken")
        start = 0 if after is None else bisect.bisect_right(self.ids, after)
        total_start = start
        if token:
            if token in self.expired:
                return 400, _expired()
            try:
                state = json.loads(bytes.fromhex(token))
                start = int(state["next"])
                assert state["q"] == body["query"]
            except (ValueError, KeyError, AssertionError):
                return 400, _error("BadRequest", "Malformed skip token.")
        wanted = {s.lower() for s in subs} if subs is not None else None
        rows: list[bytes] = []
        i = start
        while i < len(self.ids) and len(rows) < top:
            if wanted is None or self.subs[i] in wanted:
                rows.append(self.lines[i])
            i += 1
        # skip to the next match so the token is absent when the rows are exhausted
        while i < len(self.ids) and wanted is not None and self.subs[i] not in wanted:
            i += 1
        total = sum(
            1 for j in range(total_start, len(self.ids)) if wanted is None or self.subs[j] in wanted
        )
        out: dict[str, Any] = {
            "totalRecords": total,
            "count": len(rows),
            "resultTruncated": "false",
            "facets": [],
            "data": _RawRows(rows),
        }
        if i < len(self.ids):
            out["$skipToken"] = json.dumps({"q": body["query"], "next": i}).encode().hex()
        return 200, out


class _RawRows(list):  # type: ignore[type-arg]
    """Rows kept as the JSON text they were loaded from, spliced into the reply unparsed."""


def issue_tls(directory: Any) -> dict[str, str]:
    """A throw-away CA and a certificate for 127.0.0.1 written under `directory`: the CA file
    for the client (`connection_verify`), the chain and key for the server."""
    import trustme  # the test extra; imported here so this module loads without it

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    paths = {k: str(directory / f"{k}.pem") for k in ("ca", "chain", "key")}
    ca.cert_pem.write_to_path(paths["ca"])
    cert.private_key_pem.write_to_path(paths["key"])
    with open(paths["chain"], "wb") as f:
        for blob in cert.cert_chain_pems:
            f.write(blob.bytes())
    return paths


def send_json(
    handler: BaseHTTPRequestHandler, status: int, payload: bytes, headers: dict[str, str]
) -> None:
    """Write one JSON reply with its length and any extra headers."""
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json; charset=utf-8")
    handler.send_header("Content-Length", str(len(payload)))
    for k, v in headers.items():
        handler.send_header(k, v)
    handler.end_headers()
    handler.wfile.write(payload)


def encode(body: dict[str, Any]) -> bytes:
    """The JSON reply, with `_RawRows` spliced in as they are."""
    data = body.get("data")
    if not isinstance(data, _RawRows):
        return json.dumps(body).encode()
    head = json.dumps({k: v for k, v in body.items() if k != "data"}).encode()
    return head[:-1] + b', "data": [' + b",".join(data) + b"]}"


def _timespan(seconds: float) -> str:
    whole = int(seconds)
    frac = seconds - whole
    text = f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
    return text + f"{frac:.3f}"[1:] if frac else text


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _expired() -> dict[str, Any]:
    return {
        "error": {
            "code": "BadRequest",
            "message": "Please provide below info when asking for support: timestamp = now.",
            "details": [{"code": "InvalidSkipToken", "message": "The skip token has expired."}],
        }
    }


def handler_for(state: FakeResourceGraph) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep the test output clean

        def _send(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
            send_json(self, status, encode(body), headers)

        def do_POST(self) -> None:
            now = time.monotonic()
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            path, _, qs = self.path.partition("?")
            if path != PATH or "api-version=" not in qs:
                self._send(404, _error("NotFound", "No such path."), {})
                return
            if self.headers.get("Authorization") != f"Bearer {state.token}":
                self._send(401, _error("AuthenticationFailed", "Bad or missing token."), {})
                return
            try:
                body = json.loads(raw)
            except ValueError:
                self._send(400, _error("BadRequest", "Body is not JSON."), {})
                return
            with state.lock:
                number = len(state.requests) + 1
                early = now < state.wait_until - 0.005
                fault = state.faults.get(number)
                if fault is None and state.fault_when is not None:
                    fault = state.fault_when(number, body)
                quota, over = state.quota_headers(now)
                seen = Seen(
                    at=now,
                    subscriptions=len(body.get("subscriptions") or []),
                    query=body.get("query", ""),
                    token=(body.get("options") or {}).get("$skipToken"),
                    status=0,
                    early=early,
                )
                state.requests.append(seen)
                if over:
                    status, out = 429, _error("RateLimiting", "Too many requests.")
                    headers = {**quota, "Retry-After": str(max(1, round(state.wait_until - now)))}
                elif fault is not None and fault.kind == "status":
                    status, out = fault.status, _error("ServerError", f"Injected {fault.status}.")
                    headers = {**quota, **fault.headers}
                    if "Retry-After" in headers:
                        state.wait_until = max(
                            state.wait_until, now + _wait(headers["Retry-After"])
                        )
                elif fault is not None and fault.kind == "expire" and seen.token:
                    state.expired.add(seen.token)
                    status, out, headers = 400, _expired(), quota
                else:
                    status, out = state.page(body)
                    headers = quota
                seen.status = status
                seen.remaining = int(headers.get("x-ms-user-quota-remaining", -1))
            if fault is not None and fault.kind == "slow":
                time.sleep(fault.delay)
            if fault is not None and fault.kind == "drop" and status == 200:
                payload = encode(out)
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload[: len(payload) // 3])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            # the client may have given up waiting (the slow-page fault)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError, ssl.SSLError):
                self._send(status, out, headers)

    return Handler


def _wait(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        return parsedate_to_datetime(value).timestamp() - time.time()


def http_date(seconds_from_now: float) -> str:
    """An HTTP date ``seconds_from_now`` in the future."""
    return formatdate(time.time() + seconds_from_now, usegmt=True)


class Server:
    """The fake running on 127.0.0.1 over TLS in a background thread."""

    def __init__(
        self,
        state: FakeResourceGraph,
        cert_chain: str,
        key: str,
        handler: type[BaseHTTPRequestHandler] | None = None,
    ) -> None:
        """``handler``: the request handler class (default: the Resource Graph one)."""
        self.state = state
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler or handler_for(state))
        self.httpd.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert_chain, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.endpoint = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class SleepLog:
    """The `sleep` hook: really sleeps, and remembers every wait asked for."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        time.sleep(seconds)
