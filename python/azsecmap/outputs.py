"""Writing and reading results: Parquet, CSV, JSON, NDJSON, OCSF Compliance Finding and SARIF.

Every write is atomic: the bytes go to a temporary file in the target's directory, are
flushed and fsynced, and the temporary file then replaces the target with :func:`os.replace`.
A run that dies half-way leaves the previous file (or none) and, on an ordinary error, no
temporary file either.

>>> import polars as pl, tempfile, pathlib
>>> df = pl.DataFrame({"resource_id": ["/r/1"], "resource_type": ["t"], "policy_id": ["p"],
...                    "state": ["non_compliant"], "effect": ["audit"], "reason": ["x"]})
>>> out = pathlib.Path(tempfile.mkdtemp()) / "results.ndjson"
>>> write_results(df, out)
'ndjson'
>>> read_results(out)["state"].to_list()
['non_compliant']
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import io
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Union, cast

import polars as pl

from .errors import ResourceError

if TYPE_CHECKING:
    from .catalog import Catalog
    from .evaluation import Evaluation
    from .policy import PolicyPack

__all__ = [
    "FORMATS",
    "PolicyInfo",
    "atomic_write",
    "format_for",
    "policy_info",
    "read_results",
    "to_ocsf",
    "to_sarif",
    "write_frame",
    "write_results",
]

PathLike = Union[str, "os.PathLike[str]"]

#: Every format :func:`write_results` knows; the first four also hold score frames.
FORMATS = ("parquet", "csv", "json", "ndjson", "ocsf", "ocsf-ndjson", "sarif")

# Longest suffix first, so `x.ocsf.json` is OCSF rather than plain JSON.
_SUFFIXES = (
    (".ocsf.ndjson", "ocsf-ndjson"),
    (".ocsf.jsonl", "ocsf-ndjson"),
    (".ocsf.json", "ocsf"),
    (".sarif.json", "sarif"),
    (".sarif", "sarif"),
    (".parquet", "parquet"),
    (".pq", "parquet"),
    (".csv", "csv"),
    (".ndjson", "ndjson"),
    (".jsonl", "ndjson"),
    (".json", "json"),
)

#: Key of the Parquet key-value metadata that carries :class:`PolicyInfo` and run facts.
PARQUET_META_KEY = "azsecmap"

OCSF_VERSION = "1.1.0"

# Our states in OCSF terms. compliance.status_id: 0 Unknown, 1 Pass, 2 Warning (no result for
# lack of information), 3 Fail, 99 Other. Finding status_id: 1 New, 3 Suppressed, 99 Other.
_OCSF_COMPLIANCE = {
    "compliant": (1, "Pass"),
    "non_compliant": (3, "Fail"),
    "unknown": (2, "Warning"),
    "exempt": (99, "Exempt"),
    "error": (0, "Unknown"),
    "not_applicable": (99, "Not applicable"),
}
_OCSF_SEVERITY = {"informational": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
_SARIF_LEVEL = {"high": "error", "critical": "error", "medium": "warning", "low": "note"}


class PolicyInfo(dict[str, dict[str, Any]]):
    """What outputs know about each policy, by policy id: ``title``, ``severity``
    (``high``/``medium``/``low`` or None), ``controls`` (``FRAMEWORK:CONTROL`` ids) and
    ``description``. Built by :func:`policy_info`; a plain dict works as well."""


def policy_info(pack: PolicyPack | None = None, catalog: Catalog | None = None) -> PolicyInfo:
    """Collect titles, severities and control ids per policy from a pack's metadata and the
    catalog's ``satisfies`` edges (either may be omitted)."""
    info = PolicyInfo()
    if pack is not None:
        meta = pack.metadata() if hasattr(pack, "metadata") else None
        if meta is not None:
            for row in meta.iter_rows(named=True):
                info[row["policy_id"]] = {
                    "title": row.get("display_name"),
                    "severity": row.get("severity"),
                    "controls": list(row.get("controls") or []),
                    "description": None,
                }
        else:
            for p in pack:
                info[p.id] = {"title": p.display_name, "severity": None, "controls": []}
    if catalog is not None:
        for edge in catalog.node_link()["edges"]:
            if edge.get("kind") != "satisfies":
                continue
            u, v = str(edge["u"]), str(edge["v"])
            policy, control = (u, v) if u.startswith("policy:") else (v, u)
            if not policy.startswith("policy:"):
                continue
            entry = info.setdefault(
                policy[len("policy:") :], {"title": None, "severity": None, "controls": []}
            )
            if control not in entry["controls"]:
                entry["controls"].append(control)
    return info


def format_for(path: PathLike, fmt: str | None = None) -> str:
    """The output format: `fmt` when given, else from the file name's extension.

    Raises:
        ValueError: unknown format or extension.
    """
    if fmt is not None:
        f = fmt.lower()
        if f not in FORMATS:
            raise ValueError(f"unknown format `{fmt}` (one of {', '.join(FORMATS)})")
        return f
    name = os.fspath(path).lower()
    for suffix, f in _SUFFIXES:
        if name.endswith(suffix):
            return f
    raise ValueError(
        f"cannot tell the format of `{os.fspath(path)}` from its extension; pass a format "
        f"(one of {', '.join(FORMATS)})"
    )


@contextlib.contextmanager
def atomic_write(path: PathLike) -> Iterator[IO[bytes]]:
    """Open a temporary file beside `path` for binary writing; on a clean exit flush, fsync and
    rename it over `path`; on an exception remove it and leave `path` untouched."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    # The rename itself is durable only once the directory entry is on disk.
    with contextlib.suppress(OSError):
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def _flat_for_csv(df: pl.DataFrame) -> pl.DataFrame:
    """CSV holds no nested values: lists and structs become JSON text, categoricals text."""
    exprs = []
    for name, dtype in df.schema.items():
        if isinstance(dtype, (pl.List, pl.Array, pl.Struct)):
            exprs.append(
                pl.col(name).map_elements(
                    lambda v: json.dumps(v.to_list() if hasattr(v, "to_list") else v),
                    return_dtype=pl.String,
                )
            )
        elif isinstance(dtype, (pl.Categorical, pl.Enum)):
            exprs.append(pl.col(name).cast(pl.String))
    return df.with_columns(exprs) if exprs else df


def write_frame(
    df: pl.DataFrame,
    path: PathLike,
    fmt: str | None = None,
    *,
    metadata: Mapping[str, Any] | None = None,
) -> str:
    """Write any frame (results or scores) as Parquet, CSV, JSON (an array of row objects) or
    NDJSON, atomically. `metadata` is stored in Parquet's key-value metadata under
    ``azsecmap`` (JSON); other formats ignore it. Returns the format used."""
    f = format_for(path, fmt)
    if f not in ("parquet", "csv", "json", "ndjson"):
        raise ValueError(f"format `{f}` holds results only, not arbitrary frames")
    with atomic_write(path) as fh:
        if f == "parquet":
            kv = {PARQUET_META_KEY: json.dumps(dict(metadata))} if metadata else None
            df.write_parquet(fh, metadata=kv)
        elif f == "csv":
            _flat_for_csv(df).write_csv(fh)
        elif f == "json":
            df.write_json(cast(io.IOBase, fh))
        else:
            df.write_ndjson(fh)
    return f


def _results_of(ev: Evaluation | pl.DataFrame) -> pl.DataFrame:
    return ev if isinstance(ev, pl.DataFrame) else ev.results


def write_results(
    ev: Evaluation | pl.DataFrame,
    path: PathLike,
    fmt: str | None = None,
    *,
    info: Mapping[str, Mapping[str, Any]] | None = None,
    time: _dt.datetime | None = None,
) -> str:
    """Write an evaluation's results in any of :data:`FORMATS`, atomically.

    `info` (see :func:`policy_info`) gives titles, severities and controls to OCSF and SARIF,
    and is kept in Parquet's metadata so a report can be drawn from the file later. Returns the
    format used."""
    results = _results_of(ev)
    f = format_for(path, fmt)
    if f in ("parquet", "csv", "json", "ndjson"):
        meta: dict[str, Any] = {"policies": dict(info or {})}
        count = getattr(ev, "resource_count", None)
        if count is not None:
            meta["resource_count"] = count
        return write_frame(results, path, f, metadata=meta)
    with atomic_write(path) as fh:
        if f == "sarif":
            fh.write(json.dumps(to_sarif(results, info=info), indent=1).encode())
        elif f == "ocsf":
            fh.write(b"[")
            for i, event in enumerate(to_ocsf(results, info=info, time=time)):
                fh.write((b",\n" if i else b"\n") + json.dumps(event).encode())
            fh.write(b"\n]\n")
        else:
            for event in to_ocsf(results, info=info, time=time):
                fh.write(json.dumps(event).encode() + b"\n")
    return f


def read_metadata(path: PathLike) -> dict[str, Any]:
    """The ``azsecmap`` metadata of a Parquet results file (empty for other formats)."""
    if format_for(path) != "parquet":
        return {}
    kv = pl.read_parquet_metadata(Path(path))
    raw = kv.get(PARQUET_META_KEY)
    loaded: dict[str, Any] = json.loads(raw) if raw else {}
    return loaded


_RESULT_COLUMNS = ("resource_id", "resource_type", "policy_id", "state", "effect", "reason")


def read_results(path: PathLike, fmt: str | None = None) -> pl.DataFrame:
    """Read a results file written by :func:`write_results` in any format, as a frame with at
    least ``resource_id``, ``policy_id`` and ``state``. SARIF holds only non-compliant pairs.

    Raises:
        ResourceError: the file is missing or not a results file of that format.
    """
    p = Path(path)
    if not p.is_file():
        raise ResourceError("no such file", "", os.fspath(path))
    try:
        f = format_for(p, fmt)
    except ValueError as exc:
        raise ResourceError(str(exc), "", os.fspath(path)) from None
    try:
        if f == "parquet":
            df = pl.read_parquet(p)
        elif f == "csv":
            df = pl.read_csv(p, infer_schema=False)
        elif f == "json":
            df = pl.read_json(p)
        elif f == "ndjson":
            df = pl.read_ndjson(p)
        elif f == "sarif":
            df = _from_sarif(json.loads(p.read_bytes()))
        else:
            text = p.read_text("utf-8")
            events = (
                json.loads(text)
                if f == "ocsf"
                else [json.loads(line) for line in text.splitlines() if line.strip()]
            )
            df = _from_ocsf(events)
    except (pl.exceptions.PolarsError, OSError, ValueError, KeyError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ResourceError(f"not a {f} results file: {first}", "", os.fspath(path)) from None
    missing = [c for c in ("resource_id", "policy_id", "state") if c not in df.columns]
    if missing:
        raise ResourceError(
            f"not a results file: no column {', '.join(f'`{c}`' for c in missing)}",
            "",
            os.fspath(path),
        )
    return df.with_columns(pl.col(c).cast(pl.String) for c in df.columns if c in _RESULT_COLUMNS)


# --- OCSF ------------------------------------------------------------------------------------


def _iso(t: _dt.datetime) -> str:
    return t.astimezone(_dt.timezone.utc).isoformat().replace("+00:00", "Z")


def _version() -> str:
    from . import __version__

    return str(__version__)


def to_ocsf(
    results: pl.DataFrame,
    *,
    info: Mapping[str, Mapping[str, Any]] | None = None,
    time: _dt.datetime | None = None,
    include_not_applicable: bool = False,
) -> Iterator[dict[str, Any]]:
    """One OCSF 1.1 Compliance Finding event (class 2003, category 2) per result row.

    States map onto ``compliance.status_id`` as compliant → 1 Pass, non_compliant → 3 Fail,
    unknown → 2 Warning (no result for lack of evidence), error → 0 Unknown, exempt → 99 Other
    (``status`` "Exempt", finding ``status_id`` 3 Suppressed). The policy is the finding's
    analytic (type Rule) and the compliance ``control``; the controls it gives evidence for are
    ``requirements`` and their frameworks ``standards``. Severity comes from `info`
    (high → 4, medium → 3, low → 2; 0 Unknown when not known). ``not_applicable`` rows are
    skipped unless asked for.
    """
    info = info or {}
    now = time or _dt.datetime.now(_dt.timezone.utc)
    stamp_ms = int(now.timestamp() * 1000)
    version = _version()
    for row in results.iter_rows(named=True):
        state = str(row["state"])
        if state == "not_applicable" and not include_not_applicable:
            continue
        pid, rid = str(row["policy_id"]), str(row["resource_id"])
        meta = info.get(pid, {})
        controls = [str(c) for c in meta.get("controls") or []]
        standards = sorted({c.split(":", 1)[0] for c in controls}) or ["azsecmap"]
        sev = str(meta.get("severity") or "").lower()
        severity_id = _OCSF_SEVERITY.get(sev, 0)
        comp_id, comp_name = _OCSF_COMPLIANCE.get(state, (99, state))
        fstatus_id, fstatus = (3, "Suppressed") if state == "exempt" else (1, "New")
        title = meta.get("title") or pid
        rtype = row.get("resource_type")
        event: dict[str, Any] = {
            "activity_id": 1,
            "activity_name": "Create",
            "category_uid": 2,
            "category_name": "Findings",
            "class_uid": 2003,
            "class_name": "Compliance Finding",
            "type_uid": 2003 * 100 + 1,
            "type_name": "Compliance Finding: Create",
            "severity_id": severity_id,
            "severity": {0: "Unknown", 1: "Informational", 2: "Low", 3: "Medium", 4: "High"}.get(
                severity_id, "Critical"
            ),
            "status_id": fstatus_id,
            "status": fstatus,
            "time": stamp_ms,
            "time_dt": _iso(now),
            "message": f"{title}: {comp_name.lower()} for {rid}",
            "metadata": {
                "version": OCSF_VERSION,
                "product": {"name": "azsecmap", "vendor_name": "azsecmap", "version": version},
            },
            "finding_info": {
                "uid": f"{pid}|{rid}",
                "title": title,
                "analytic": {"uid": pid, "name": title, "type_id": 1, "type": "Rule"},
            },
            "compliance": {
                "control": pid,
                "requirements": controls,
                "standards": standards,
                "status_id": comp_id,
                "status": comp_name,
            },
            "resources": [
                {
                    "uid": rid,
                    "type": None if rtype is None else str(rtype),
                    "name": rid.rstrip("/").rsplit("/", 1)[-1],
                    "cloud_partition": "AzureCloud",
                }
            ],
            "cloud": {"provider": "Azure"},
            "unmapped": {"azsecmap_state": state, "effect": row.get("effect")},
        }
        if row.get("reason"):
            event["compliance"]["status_detail"] = str(row["reason"])
        yield event


def _from_ocsf(events: Iterable[Mapping[str, Any]]) -> pl.DataFrame:
    rows = []
    for e in events:
        res = (e.get("resources") or [{}])[0]
        rows.append(
            {
                "resource_id": res["uid"],
                "resource_type": res.get("type"),
                "policy_id": e["finding_info"]["analytic"]["uid"],
                "state": (e.get("unmapped") or {}).get("azsecmap_state")
                or {3: "non_compliant", 1: "compliant", 2: "unknown"}.get(
                    e["compliance"]["status_id"], "error"
                ),
                "reason": e["compliance"].get("status_detail"),
            }
        )
    return pl.DataFrame(
        rows,
        schema={c: pl.String for c in ("resource_id", "resource_type", "policy_id", "state")}
        | {"reason": pl.String},
    )


# --- SARIF -----------------------------------------------------------------------------------

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def to_sarif(
    results: pl.DataFrame, *, info: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """A SARIF 2.1.0 log: one run, a rule per policy that appears in `results`, a result per
    non-compliant (resource, policy) pair with the resource id as its logical location.
    The level follows the policy's severity (high → error, medium → warning, low → note;
    warning when unknown)."""
    info = info or {}
    policies = sorted({str(p) for p in results["policy_id"].cast(pl.String).unique().to_list()})
    index = {p: i for i, p in enumerate(policies)}
    rules = []
    for p in policies:
        meta = info.get(p, {})
        rule: dict[str, Any] = {
            "id": p,
            "name": p,
            "shortDescription": {"text": meta.get("title") or p},
            "properties": {"controls": list(meta.get("controls") or [])},
        }
        if meta.get("severity"):
            rule["properties"]["severity"] = meta["severity"]
        level = _SARIF_LEVEL.get(str(meta.get("severity") or "").lower(), "warning")
        rule["defaultConfiguration"] = {"level": level}
        rules.append(rule)
    out = []
    failing = results.filter(pl.col("state").cast(pl.String) == "non_compliant")
    for row in failing.iter_rows(named=True):
        pid, rid = str(row["policy_id"]), str(row["resource_id"])
        meta = info.get(pid, {})
        text = f"{meta.get('title') or pid}: {row.get('reason') or 'non-compliant'}"
        out.append(
            {
                "ruleId": pid,
                "ruleIndex": index[pid],
                "level": rules[index[pid]]["defaultConfiguration"]["level"],
                "kind": "fail",
                "message": {"text": text},
                "locations": [
                    {
                        "logicalLocations": [
                            {
                                "fullyQualifiedName": rid,
                                "name": rid.rstrip("/").rsplit("/", 1)[-1],
                                "kind": "resource",
                            }
                        ]
                    }
                ],
                "partialFingerprints": {"azsecmapPair/v1": f"{pid}|{rid}"},
                "properties": {"resourceType": row.get("resource_type")},
            }
        )
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "azsecmap",
                        "version": _version(),
                        "rules": rules,
                    }
                },
                "results": out,
            }
        ],
    }


def _from_sarif(log: Mapping[str, Any]) -> pl.DataFrame:
    rows = []
    for run in log["runs"]:
        for r in run.get("results", []):
            loc = r["locations"][0]["logicalLocations"][0]
            rows.append(
                {
                    "resource_id": loc["fullyQualifiedName"],
                    "resource_type": (r.get("properties") or {}).get("resourceType"),
                    "policy_id": r["ruleId"],
                    "state": "non_compliant" if r.get("kind", "fail") == "fail" else "compliant",
                    "reason": r["message"]["text"],
                }
            )
    return pl.DataFrame(
        rows,
        schema={c: pl.String for c in ("resource_id", "resource_type", "policy_id")}
        | {"state": pl.String, "reason": pl.String},
    )
