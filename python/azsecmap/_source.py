"""Turning the many forms a caller may pass (dict, JSON text, path) into JSON text."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Union

from .errors import AzsecmapError

JsonSource = Union[dict[str, Any], list[Any], str, "os.PathLike[str]"]

MAX_FILE_BYTES = 256 * 1024 * 1024  # one policy or resource document; larger is refused


def read_text(path: str | os.PathLike[str], error: type[AzsecmapError]) -> str:
    """Read a UTF-8 JSON file, raising `error` naming the file on any failure."""
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise error(f"cannot read file: {exc.strerror or exc}", "", str(p)) from None
    if size > MAX_FILE_BYTES:
        raise error(f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB", "", str(p))
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise error(f"cannot read file: {exc.strerror or exc}", "", str(p)) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"file is not valid UTF-8 (byte {exc.start})", "", str(p)) from None


def to_json_text(obj: Any, error: type[AzsecmapError], what: str) -> tuple[str, str | None]:
    """Return (JSON text, source file or None) for a dict/list, JSON text, or a path."""
    if isinstance(obj, (dict, list)):
        try:
            return json.dumps(obj, allow_nan=False), None
        except RecursionError:
            raise error(f"the {what} nests too deeply", "") from None
        except (TypeError, ValueError) as exc:
            raise error(f"the {what} is not JSON-serialisable: {exc}", "") from None
    if isinstance(obj, os.PathLike):
        return read_text(obj, error), os.fspath(obj)
    if isinstance(obj, str):
        stripped = obj.lstrip()
        if stripped.startswith(("{", "[")):
            try:
                obj.encode("utf-8")
            except UnicodeEncodeError as exc:
                # A lone surrogate cannot cross into Rust: say so, do not leak the codec error.
                raise error(
                    f"the {what} JSON text is not valid Unicode (a lone surrogate at index "
                    f"{exc.start})",
                    "",
                ) from None
            return obj, None
        if not stripped:
            raise error(f'expected a {what} as a dict, JSON text or a file path, got `""`', "")
        return read_text(obj, error), obj
    raise error(
        f"expected a {what} as a dict, JSON text or a file path, got {type(obj).__name__}", ""
    )
