"""Resources to evaluate: NDJSON and JSON files, Resource Graph pages, in-memory records.

Nothing is parsed until needed, and then only what the policy pack reads: loading happens in
Rust, in parallel, through the pack's projection of property paths.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from . import _core
from .errors import ResourceError

if TYPE_CHECKING:  # pragma: no cover
    from azure.core.credentials import TokenCredential

    from .resource_graph import ReadProgress, RetryBudget

__all__ = ["LoadError", "Resources"]


@dataclass(frozen=True)
class LoadError:
    """A line (NDJSON) or element (JSON array) that is not a resource; the others still load."""

    line: int
    message: str


class Resources:
    """A set of Azure resources, read lazily from a file or held as records.

    >>> res = Resources.from_records([
    ...     {"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Web/sites/a",
    ...      "type": "Microsoft.Web/sites", "name": "a"},
    ...     "not a resource",
    ... ])
    >>> len(res), [e.line for e in res.errors]
    (1, [2])
    """

    __slots__ = ("_identity", "_keepalive", "_kind", "_source", "origin", "read_progress")

    _source: str | bytes | tuple[int, int]

    def __init__(self, kind: str, source: str | bytes | tuple[int, int], origin: str) -> None:
        self._kind = kind
        self._source = source
        self.origin = origin
        self._identity: tuple[list[str], list[str], list[LoadError]] | None = None
        self._keepalive: object = None  # owns a temporary source file, removed with this object
        self.read_progress: ReadProgress | None = None

    @classmethod
    def from_ndjson(cls, path: str | os.PathLike[str]) -> Resources:
        """Resources from a file with one JSON resource per line."""
        return cls("ndjson", _existing(path), os.fspath(path))

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> Resources:
        """Resources from a JSON array, or a Resource Graph page ``{"data": [...]}``."""
        return cls("json", _existing(path), os.fspath(path))

    @classmethod
    def from_resource_graph(
        cls,
        credential: TokenCredential | None = None,
        subscriptions: Iterable[str] | None = None,
        management_groups: Iterable[str] | None = None,
        query: str | None = None,
        endpoint: str | None = None,
        *,
        page_size: int = 1000,
        progress: bool = False,
        retry: RetryBudget | None = None,
        sleep: Callable[[float], None] | None = None,
        **client_kwargs: Any,
    ) -> Resources:
        """Every resource a Resource Graph query returns, read page by page.

        Args:
            credential: an azure-core ``TokenCredential``; ``DefaultAzureCredential()`` if None.
            subscriptions: subscription ids to read (batched 1,000 per request); the whole
                tenant the credential can see if both this and ``management_groups`` are None.
            management_groups: management group names to read instead of subscriptions.
            query: a KQL query returning an ``id`` column, without its own ``order by``; the
                default reads every field policies use (`azsecmap.resource_graph.DEFAULT_QUERY`).
            endpoint: the ARM endpoint (default ``https://management.azure.com``); the token
                scope follows it unless ``credential_scopes`` is given.
            page_size: rows per page (at most 1,000).
            progress: show a progress bar (resources and pages so far) on the terminal.
            retry: the retry budget (`azsecmap.resource_graph.RetryBudget`).
            sleep: how to wait (``time.sleep``); tests pass a recorder.
            **client_kwargs: passed to ``ResourceGraphClient`` (e.g. ``connection_verify``,
                ``read_timeout``, ``proxies``). azure-core's own retries are off
                (``retry_total=0``) unless given here: then both retry, azure-core inside.

        Pages are appended to a temporary NDJSON file that this object owns and removes when it
        is collected. ``read_progress`` records pages, retries, resumptions and every wait.

        Raises:
            ResourceGraphError: (a `ResourceError`) when a fault outlasts the retry budget or the
                service refuses the request; the message says how far the read got.
        """
        from .resource_graph import read_resource_graph

        extra: dict[str, Any] = {} if sleep is None else {"sleep": sleep}
        out, read = read_resource_graph(
            credential,
            list(subscriptions) if subscriptions is not None else None,
            list(management_groups) if management_groups is not None else None,
            query,
            endpoint,
            page_size=page_size,
            progress=progress,
            retry=retry,
            **extra,
            **client_kwargs,
        )
        res = cls("ndjson", out.path, f"<resource graph: {read.resources} resources>")
        res._keepalive = out
        res.read_progress = read
        return res

    @classmethod
    def sample(cls, n: int, seed: int = 0) -> Resources:
        """A deterministic synthetic tenant of ``n`` resources (realistic ARM shapes for 29
        security-relevant types, with related resources and realistic misconfiguration rates).
        Documents are generated as they are read, so even millions never sit in memory.

        >>> res = Resources.sample(500, seed=1)
        >>> len(res), res.ids()[0] == Resources.sample(500, seed=1).ids()[0]
        (500, True)
        """
        if n < 0 or seed < 0:
            raise ValueError("n and seed must be non-negative")
        return cls("sample", (n, seed), f"<sample n={n} seed={seed}>")

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> Resources:
        """Resources from in-memory dicts (for example Resource Graph rows)."""
        lines = []
        for i, record in enumerate(records, start=1):
            try:
                lines.append(json.dumps(record, allow_nan=False))
            except (TypeError, ValueError, RecursionError) as exc:
                raise ResourceError(
                    f"record {i} is not JSON-serialisable: {exc}", f"/{i - 1}"
                ) from None
        return cls("ndjson", "\n".join(lines).encode(), "<records>")

    def _load_identity(self) -> tuple[list[str], list[str], list[LoadError]]:
        if self._identity is None:
            try:
                ids, types, errors = _core.load_identity(self._kind, self._source)
            except ResourceError as exc:
                raise exc.with_file(self.origin) from None
            self._identity = (ids, types, [LoadError(line, msg) for line, msg in errors])
        return self._identity

    def __len__(self) -> int:
        return len(self._load_identity()[0])

    def ids(self) -> pl.Series:
        """The resource ids, in input order."""
        return pl.Series("resource_id", self._load_identity()[0], dtype=pl.String)

    def types(self) -> pl.Series:
        """The resource types, in input order."""
        return pl.Series("resource_type", self._load_identity()[1], dtype=pl.String)

    @property
    def errors(self) -> list[LoadError]:
        """Lines or elements that are not resources, with their line numbers."""
        return list(self._load_identity()[2])

    def _core_source(self) -> tuple[str, str | bytes | tuple[int, int]]:
        return self._kind, self._source

    def __repr__(self) -> str:
        return f"Resources({self._kind}, {self.origin!r})"


def _existing(path: str | os.PathLike[str]) -> str:
    p = Path(path)
    if not p.is_file():
        raise ResourceError("no such file", "", os.fspath(path))
    return os.fspath(p)
