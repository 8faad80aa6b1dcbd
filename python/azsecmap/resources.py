"""Resources to evaluate: NDJSON and JSON files, Resource Graph pages, in-memory records.

Nothing is parsed until needed, and then only what the policy pack reads: loading happens in
Rust, in parallel, through the pack's projection of property paths.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from . import _core
from .errors import ResourceError

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

    __slots__ = ("_identity", "_kind", "_source", "origin")

    _source: str | bytes | tuple[int, int]

    def __init__(self, kind: str, source: str | bytes | tuple[int, int], origin: str) -> None:
        self._kind = kind
        self._source = source
        self.origin = origin
        self._identity: tuple[list[str], list[str], list[LoadError]] | None = None

    @classmethod
    def from_ndjson(cls, path: str | os.PathLike[str]) -> Resources:
        """Resources from a file with one JSON resource per line."""
        return cls("ndjson", _existing(path), os.fspath(path))

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> Resources:
        """Resources from a JSON array, or a Resource Graph page ``{"data": [...]}``."""
        return cls("json", _existing(path), os.fspath(path))

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
