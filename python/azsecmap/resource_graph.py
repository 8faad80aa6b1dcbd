"""Reading a tenant from Azure Resource Graph through the real `azure-mgmt-resourcegraph` client.

The reader pages through one query per subscription batch, obeys the per-user quota headers,
retries transient faults within a budget, and appends every page as NDJSON to a temporary file
that becomes the source of a `Resources`: no step holds the whole tenant in one Python object.

Exactly-once: the query ends in ``order by id asc``. The reader remembers only the last id it
wrote; when a skip token is rejected (expired, or the service lost it) it asks again for the rows
after that id (``where id > '<last id>'``), so nothing is skipped and nothing is written twice.
See ``docs/resource-graph.md``.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import logging
import math
import os
import random
import re
import tempfile
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from .errors import ResourceError

if TYPE_CHECKING:  # pragma: no cover
    from azure.core.credentials import TokenCredential

__all__ = [
    "DEFAULT_QUERY",
    "MAX_SUBSCRIPTIONS_PER_REQUEST",
    "ReadProgress",
    "ResourceGraphError",
    "RetryBudget",
    "read_resource_graph",
]

log = logging.getLogger(__name__)

MAX_SUBSCRIPTIONS_PER_REQUEST = 1000
MAX_PAGE_SIZE = 1000

_COLUMNS = (
    "id, name, type, location, kind, tags, properties, sku, identity, zones, managedBy, plan, "
    "subscriptionId, resourceGroup, extendedLocation"
)
DEFAULT_QUERY = (
    f"resources | project {_COLUMNS} | union (resourcecontainers | where type in~ "
    "('microsoft.resources/subscriptions', 'microsoft.resources/subscriptions/resourcegroups') "
    f"| project {_COLUMNS})"
)
"""Every field a policy reads, from ``resources`` plus subscriptions and resource groups."""

_ORDER = " | order by id asc"
TRANSIENT_STATUS = frozenset({408, 500, 502, 503, 504})


class ResourceGraphError(ResourceError):
    """Reading from Resource Graph failed; ``progress`` says how far it got."""

    def __init__(self, message: str, progress: ReadProgress) -> None:
        super().__init__(message, None, None)
        self.progress = progress


@dataclass(frozen=True)
class RetryBudget:
    """How long to keep trying one request before giving up.

    Attributes:
        max_retries: failed attempts of one request (429, 5xx, broken connections) before raising;
            the count restarts after every page that arrives.
        max_retry_seconds: seconds one request may spend failing and waiting before raising.
        backoff_base: first backoff in seconds when the service names no wait; doubles each try.
        backoff_max: the longest single backoff.
        max_header_wait: the longest wait a header may ask for; a longer one raises instead.
    """

    max_retries: int = 8
    max_retry_seconds: float = 600.0
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    max_header_wait: float = 300.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full-jitter exponential backoff for the ``attempt``-th retry (1-based)."""
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return rng.uniform(ceiling / 2, ceiling)


@dataclass
class ReadProgress:
    """How far a read got: pages, resources, the last id written, the subscription batch."""

    pages: int = 0
    resources: int = 0
    last_id: str | None = None
    batch: int = 0
    batches: int = 0
    batch_subscriptions: int = 0
    retries: int = 0
    resumed: int = 0
    waits: list[tuple[str, float]] = field(default_factory=list)

    def describe(self) -> str:
        """One line for error messages."""
        last = f"`{self.last_id}`" if self.last_id else "none"
        scope = (
            f"subscription batch {self.batch} of {self.batches} "
            f"({self.batch_subscriptions} subscriptions)"
            if self.batch_subscriptions
            else f"batch {self.batch} of {self.batches}"
        )
        return f"read {self.pages} pages, {self.resources} resources, last id {last}, {scope}"


@dataclass
class _Reply:
    status: int
    headers: dict[str, str]
    body: dict[str, Any] | None


def parse_timespan(text: str) -> float | None:
    """Seconds in a quota reset header (``hh:mm:ss``, optional fraction and ``d.`` days)."""
    m = re.fullmatch(r"\s*(?:(\d+)\.)?(\d+):(\d{1,2}):(\d{1,2}(?:\.\d+)?)\s*", text)
    if not m:
        return None
    days, hours, minutes, seconds = m.groups()
    return int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def parse_retry_after(text: str, now: float | None = None) -> float | None:
    """Seconds in a ``Retry-After`` header: delta seconds, or an HTTP date (wall clock)."""
    text = text.strip()
    try:
        value = float(text)
    except ValueError:
        pass
    else:
        return value if math.isfinite(value) and value >= 0 else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _kql_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _query_text(base: str, after: str | None) -> str:
    if after is None:
        return base + _ORDER
    return f"{base} | where id > {_kql_string(after)}{_ORDER}"


def _batches(items: Sequence[str], size: int) -> list[list[str]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


class _TempNdjson:
    """A temporary NDJSON file removed when its owner is collected (or the interpreter exits)."""

    def __init__(self) -> None:
        fd, self.path = tempfile.mkstemp(prefix="azsecmap-arg-", suffix=".ndjson")
        self.file: IO[bytes] | None = os.fdopen(fd, "wb")
        self._finalizer = weakref.finalize(self, _remove, self.path)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None

    def discard(self) -> None:
        self.close()
        self._finalizer()


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


class _Reader:
    def __init__(
        self,
        client: Any,
        query: str,
        scopes: list[tuple[str, list[str]]],
        page_size: int,
        budget: RetryBudget,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        rng: random.Random,
        on_page: Callable[[ReadProgress, int | None], None] | None,
    ) -> None:
        self.client = client
        self.query = query
        self.scopes = scopes
        self.page_size = page_size
        self.budget = budget
        self.sleep = sleep
        self.clock = clock
        self.rng = rng
        self.on_page = on_page
        self.progress = ReadProgress(batches=len(scopes))
        self.not_before = 0.0  # monotonic time before which the quota is spent

    # -- one request ----------------------------------------------------------------------
    def _send(self, scope: tuple[str, list[str]], query: str, token: str | None) -> _Reply:
        from azure.core.exceptions import (
            ClientAuthenticationError,
            DecodeError,
            HttpResponseError,
        )
        from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

        kind, names = scope
        options = QueryRequestOptions(
            skip_token=token, top=self.page_size, result_format="objectArray"
        )
        request = QueryRequest(
            query=query,
            subscriptions=names if kind == "subscriptions" else None,
            management_groups=names if kind == "managementGroups" else None,
            options=options,
        )

        def keep(pipeline_response: Any, deserialized: Any, _headers: Any) -> _Reply:
            raw = pipeline_response.http_response
            body = {
                "data": deserialized.data,
                "skipToken": deserialized.skip_token,
                "totalRecords": deserialized.total_records,
                "resultTruncated": deserialized.result_truncated,
            }
            return _Reply(raw.status_code, dict(raw.headers), body)

        try:
            reply: _Reply = self.client.resources(request, cls=keep)
            return reply
        except DecodeError:
            raise  # a body cut short or garbled: the caller retries it like a broken connection
        except ClientAuthenticationError as exc:
            if exc.response is not None and exc.status_code:
                return _reply_of(exc)
            # the credential could not get a token; its first line says which and why
            first = str(exc.message or exc).strip().splitlines()
            why = first[0] if first else type(exc).__name__
            raise self._fail(f"cannot get a token: {why}") from None
        except HttpResponseError as exc:
            if exc.response is None or not exc.status_code:
                raise
            return _reply_of(exc)

    def _quota(self, headers: dict[str, str]) -> float | None:
        lower = {k.lower(): v for k, v in headers.items()}
        remaining = lower.get("x-ms-user-quota-remaining")
        resets = lower.get("x-ms-user-quota-resets-after")
        reset_s = parse_timespan(resets) if resets else None
        try:
            left = int(remaining) if remaining is not None else None
        except ValueError:
            left = None
        if left is not None and left <= 0 and reset_s is not None:
            self.not_before = max(self.not_before, self.clock() + reset_s)
        return reset_s

    def _wait_quota(self) -> None:
        delay = self.not_before - self.clock()
        if delay > 0:
            self.progress.waits.append(("quota", delay))
            log.info("resource graph quota spent; waiting %.2fs for it to reset", delay)
            self.sleep(delay)

    def _fail(self, why: str) -> ResourceGraphError:
        return ResourceGraphError(
            f"resource graph read failed: {why}; {self.progress.describe()}", self.progress
        )

    def fetch(self, scope: tuple[str, list[str]], query: str, token: str | None) -> _Reply:
        """One page, retried within the budget. Returns a 200 reply, or a 400 for a token."""
        from azure.core.exceptions import DecodeError, ServiceRequestError, ServiceResponseError

        started = self.clock()
        attempt = 0
        while True:
            self._wait_quota()
            wait: float | None
            kind: str
            try:
                reply = self._send(scope, query, token)
            except (ServiceRequestError, ServiceResponseError, DecodeError) as exc:
                why = f"connection failed ({type(exc).__name__})"
                wait, kind = None, "connection"
            else:
                reset_s = self._quota(reply.headers)
                if reply.status == 200:
                    return reply
                if reply.status == 400 and token is not None:
                    return reply  # the caller recovers from a rejected skip token
                if reply.status == 429:
                    ra = {k.lower(): v for k, v in reply.headers.items()}.get("retry-after")
                    wait = parse_retry_after(ra) if ra else None
                    if wait is None:
                        wait = reset_s
                    why, kind = "throttled (HTTP 429)", "retry-after"
                elif reply.status in TRANSIENT_STATUS:
                    ra = {k.lower(): v for k, v in reply.headers.items()}.get("retry-after")
                    wait = parse_retry_after(ra) if ra else None
                    why, kind = f"HTTP {reply.status}", "retry-after"
                else:
                    raise self._fail(f"HTTP {reply.status} {_service_message(reply.body)}")
            attempt += 1
            self.progress.retries += 1
            if wait is None:
                wait, kind = self.budget.backoff(attempt, self.rng), "backoff"
            if wait > self.budget.max_header_wait:
                raise self._fail(f"{why}, and the service asks to wait {wait:.0f}s")
            spent = self.clock() - started
            if attempt > self.budget.max_retries:
                raise self._fail(f"{why} after {attempt - 1} retries")
            if spent + wait > self.budget.max_retry_seconds:
                raise self._fail(
                    f"{why}; retrying would pass the {self.budget.max_retry_seconds:g}s budget"
                )
            log.info("resource graph: %s; retry %d in %.2fs", why, attempt, wait)
            self.progress.waits.append((kind, wait))
            self.sleep(wait)

    # -- the whole read -------------------------------------------------------------------
    def rows(self) -> Iterator[list[dict[str, Any]]]:
        for index, scope in enumerate(self.scopes, start=1):
            self.progress.batch = index
            self.progress.batch_subscriptions = len(scope[1]) if scope[0] == "subscriptions" else 0
            yield from self._scope_rows(scope)

    def _scope_rows(self, scope: tuple[str, list[str]]) -> Iterator[list[dict[str, Any]]]:
        after: str | None = None  # last id written in this batch
        token: str | None = None
        query = _query_text(self.query, None)
        rejected_at: str | None = "\0"  # last id at which a token was rejected
        expected: int | None = None  # totalRecords of the current query's first page
        received = 0
        while True:
            reply = self.fetch(scope, query, token)
            if reply.status == 400:
                if rejected_at == after:
                    raise self._fail(
                        "the service rejected the skip token twice at the same row "
                        f"({_service_message(reply.body)})"
                    )
                rejected_at = after
                log.info("resource graph skip token rejected; resuming after the last id")
                self.progress.resumed += 1
                token = None
                query = _query_text(self.query, after)
                continue
            body = reply.body or {}
            lower = {k.lower(): v for k, v in reply.headers.items()}
            if lower.get("x-ms-tenant-subscription-limit-hit", "").lower() == "true":
                raise self._fail(
                    "the tenant has more subscriptions than one query may cover; "
                    "pass `subscriptions=` (they are read in batches of 1000)"
                )
            data = body.get("data")
            if not isinstance(data, list):
                raise self._fail("a page has no `data` array (is resultFormat objectArray?)")
            page = [row for row in data if not (isinstance(row, dict) and row.get("id") == after)]
            if page:
                last = page[-1].get("id")
                if not isinstance(last, str):
                    raise self._fail("a row has no string `id` (the query must project id)")
                after = last
            if token is None:
                total = body.get("totalRecords")
                expected, received = (total if isinstance(total, int) else None), 0
            received += len(data)
            self.progress.pages += 1
            yield page
            if self.on_page is not None:
                total = body.get("totalRecords")
                self.on_page(self.progress, total if isinstance(total, int) else None)
            token = body.get("skipToken")
            if not token:
                if body.get("resultTruncated") in (True, "true", "True"):
                    raise self._fail("the service truncated the result and gave no skip token")
                if expected is not None and received != expected:
                    # resources created or deleted while paging; the read is still consistent
                    log.warning(
                        "resource graph announced %d rows and sent %d (the tenant changed "
                        "during the read)",
                        expected,
                        received,
                    )
                return


def _reply_of(exc: Any) -> _Reply:
    """The status, headers and JSON body (if any) of a failed call's response."""
    resp = exc.response
    body: dict[str, Any] | None = None
    try:
        body = json.loads(resp.text())
    except (ValueError, TypeError):  # not JSON, or the body itself broke
        body = None
    return _Reply(int(exc.status_code), dict(resp.headers), body)


def _service_message(body: dict[str, Any] | None) -> str:
    err = (body or {}).get("error")
    if isinstance(err, dict):
        code = err.get("code", "")
        msg = str(err.get("message", "")).splitlines()[0] if err.get("message") else ""
        return f"`{code}`: {msg}".strip()
    return ""


def make_client(
    credential: TokenCredential | None, endpoint: str | None, client_kwargs: dict[str, Any]
) -> Any:
    """A `ResourceGraphClient` with azure-core's own retries off (the reader decides)."""
    try:
        from azure.mgmt.resourcegraph import ResourceGraphClient
    except ImportError:  # pragma: no cover - depends on the install
        raise ResourceError(
            "reading from Resource Graph needs `azure-mgmt-resourcegraph` and `azure-identity` "
            "(pip install 'azsecmap[azure]')"
        ) from None
    client = ResourceGraphClient(
        default_credential(credential), **arm_client_kwargs(endpoint, client_kwargs)
    )
    _skip_object_walk(client)
    return client


def default_credential(credential: TokenCredential | None) -> TokenCredential:
    """``credential``, or azure-identity's `DefaultAzureCredential` when it is None."""
    if credential is not None:
        return credential
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


def arm_client_kwargs(endpoint: str | None, client_kwargs: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for an ARM management client, shared by every azsecmap reader.

    azure-core's own retries are off (``retry_total=0``: the reader decides), ``endpoint``
    becomes ``base_url`` and the token scope, and both logging policies are replaced by ones
    that never see the authorization header. ``client_kwargs`` win over all of these.
    """
    kwargs = dict(client_kwargs)
    kwargs.setdefault("retry_total", 0)
    if endpoint is not None:
        endpoint = endpoint.rstrip("/")
        kwargs["base_url"] = endpoint
        kwargs.setdefault("credential_scopes", [f"{endpoint}/.default"])
    from azure.core.pipeline.policies import NetworkTraceLoggingPolicy
    from azure.mgmt.core.policies import ARMHttpLoggingPolicy

    kwargs.setdefault("http_logging_policy", _hide_authorization(ARMHttpLoggingPolicy)(**kwargs))
    kwargs.setdefault("logging_policy", _hide_authorization(NetworkTraceLoggingPolicy)(**kwargs))
    return kwargs


def _skip_object_walk(client: Any) -> None:
    """Let the SDK hand over `data` rows as json.loads made them.

    `QueryResponse.data` is typed ``object``, which the generated deserializer walks value by
    value, re-checking every string and number: two thirds of the client's time on a page of
    1,000 resources. Those values are already plain JSON types, so the walk is replaced by the
    identity. If a future SDK renames these internals, nothing changes but speed.
    """
    table = getattr(getattr(client, "_deserialize", None), "deserialize_type", None)
    if isinstance(table, dict) and "object" in table:
        table["object"] = _as_parsed


def _as_parsed(data: Any) -> Any:
    return data


def _hide_authorization(policy_cls: type[Any]) -> type[Any]:
    """A subclass of an azure-core logging policy that never sees the authorization header.

    azure-core's `HttpLoggingPolicy` prints the header's name with a redacted value, and its
    `NetworkTraceLoggingPolicy` (``logging_enable=True``) prints every request header verbatim,
    bearer token included. Both run after the authentication policy, so the header is taken out
    of the request while they log and put back before the request is sent.
    """

    class HidingAuthorization(policy_cls):  # type: ignore[misc]
        def on_request(self, request: Any) -> None:
            headers = request.http_request.headers
            hidden = {k: headers.pop(k) for k in list(headers) if k.lower() == "authorization"}
            try:
                super().on_request(request)
            finally:
                headers.update(hidden)

    HidingAuthorization.__name__ = f"{policy_cls.__name__}WithoutAuthorization"
    return HidingAuthorization


def read_resource_graph(
    credential: TokenCredential | None = None,
    subscriptions: Sequence[str] | None = None,
    management_groups: Sequence[str] | None = None,
    query: str | None = None,
    endpoint: str | None = None,
    *,
    page_size: int = MAX_PAGE_SIZE,
    progress: bool = False,
    retry: RetryBudget | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    seed: int | None = None,
    **client_kwargs: Any,
) -> tuple[_TempNdjson, ReadProgress]:
    """Read every row of ``query`` into a temporary NDJSON file.

    See `Resources.from_resource_graph` for the arguments; ``clock`` and ``seed`` (the backoff
    jitter) are there for tests.
    """
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    if subscriptions is not None and management_groups is not None:
        raise ValueError(
            "pass subscriptions or management_groups, not both (a resource in both would be read "
            "twice)"
        )
    scopes: list[tuple[str, list[str]]]
    if subscriptions is not None:
        subs = list(dict.fromkeys(s.strip().lower() for s in subscriptions if s.strip()))
        if not subs:
            raise ValueError("subscriptions is empty")
        scopes = [("subscriptions", b) for b in _batches(subs, MAX_SUBSCRIPTIONS_PER_REQUEST)]
    elif management_groups is not None:
        groups = list(dict.fromkeys(g.strip() for g in management_groups if g.strip()))
        if not groups:
            raise ValueError("management_groups is empty")
        scopes = [("managementGroups", groups)]
    else:
        scopes = [("tenant", [])]
    base = (query or DEFAULT_QUERY).strip()
    client = make_client(credential, endpoint, client_kwargs)
    out = _TempNdjson()
    bar = _ProgressBar() if progress else None
    reader = _Reader(
        client,
        base,
        scopes,
        page_size,
        retry or RetryBudget(),
        sleep,
        clock,
        random.Random(seed),
        bar.update if bar else None,
    )
    try:
        assert out.file is not None
        for page in reader.rows():
            if page:
                out.file.write(
                    "\n".join(json.dumps(r, separators=(",", ":")) for r in page).encode() + b"\n"
                )
                reader.progress.resources += len(page)
                reader.progress.last_id = page[-1]["id"]
        out.close()
    except BaseException:
        out.discard()
        raise
    finally:
        if bar is not None:
            bar.stop()
        close = getattr(client, "close", None)
        if close is not None:
            close()
    return out, reader.progress


class _ProgressBar:
    def __init__(self) -> None:
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("resource graph"),
            BarColumn(),
            TextColumn("{task.completed:,} resources, {task.fields[pages]} pages"),
            transient=False,
        )
        self._task = self._progress.add_task("read", total=None, pages=0)
        self._batch_totals: dict[int, int] = {}
        self._progress.start()

    def update(self, progress: ReadProgress, total: int | None) -> None:
        if total is not None and progress.batch not in self._batch_totals:
            self._batch_totals[progress.batch] = total
        self._progress.update(
            self._task,
            completed=progress.resources,
            total=sum(self._batch_totals.values()) or None,
            pages=progress.pages,
        )

    def stop(self) -> None:
        self._progress.stop()


def write_resource_graph(
    out: str | os.PathLike[str],
    credential: TokenCredential | None = None,
    subscriptions: Sequence[str] | None = None,
    management_groups: Sequence[str] | None = None,
    query: str | None = None,
    endpoint: str | None = None,
    **kwargs: Any,
) -> ReadProgress:
    """Read like `Resources.from_resource_graph` and keep the NDJSON at ``out``."""
    import shutil

    tmp, progress = read_resource_graph(
        credential, subscriptions, management_groups, query, endpoint, **kwargs
    )
    shutil.move(tmp.path, os.fspath(out))
    tmp.discard()
    return progress
