"""Build the bundled Azure Policy alias table ``frameworks/aliases.tsv.gz``.

Usage::

    python scripts/build_alias_table.py [DATA_DIR] [OUT_FILE]

``DATA_DIR`` defaults to ``../shared/data`` (relative to the repository root) and
``OUT_FILE`` to ``frameworks/aliases.tsv.gz``.

Sources (both under ``DATA_DIR/aliases/``):

* ``policy-aliases-by-type.csv.gz`` -- the newer table, with header
  ``resource_type,alias,default_path``. It is authoritative: every row is kept.
* ``policy-aliases.csv.gz`` -- the older two-column ``alias,path`` table (no header,
  CRLF). Only rows whose alias name does not occur in the newer table (compared
  case-insensitively) are added: these are retired aliases that some built-in
  definitions still reference. Their ``resource_type`` is the longest
  ``/``-separated prefix of the alias that is a resource type of the newer table
  (case-insensitive; the newer table's spelling is used), else the alias without
  its last ``/`` segment (one spelling per such derived type: the most frequent).

Output: gzip (mtime 0, no file name in the header) of UTF-8 text with LF line
endings, header ``resource_type<TAB>alias<TAB>path``, then the distinct rows
sorted by (resource_type, alias, path) in code-point order. Original casing is
kept. Running the script twice yields byte-identical files.
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data"
DEFAULT_OUT = REPO_ROOT / "frameworks" / "aliases.tsv.gz"
NEW_TABLE = "aliases/policy-aliases-by-type.csv.gz"
OLD_TABLE = "aliases/policy-aliases.csv.gz"
HEADER = ("resource_type", "alias", "path")

Row = tuple[str, str, str]


def read_new_table(path: Path) -> list[Row]:
    """Read the by-type table as (resource_type, alias, default_path) rows."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        if header != ["resource_type", "alias", "default_path"]:
            raise ValueError(f"unexpected header in {path}: {header}")
        return [(r[0], r[1], r[2]) for r in reader if r]


def read_old_table(path: Path) -> list[tuple[str, str]]:
    """Read the older header-less ``alias,path`` table (CRLF line endings)."""
    text = gzip.decompress(path.read_bytes()).decode("utf-8")
    rows: list[tuple[str, str]] = []
    for line in text.splitlines():
        if not line:
            continue
        alias, sep, alias_path = line.partition(",")
        if not sep:
            raise ValueError(f"malformed line in {path}: {line!r}")
        rows.append((alias, alias_path))
    return rows


def derive_resource_type(alias: str, types_by_lower: dict[str, str]) -> str:
    """Longest known resource-type prefix of ``alias``, else the alias minus its last segment."""
    segments = alias.split("/")
    for end in range(len(segments) - 1, 1, -1):
        candidate = "/".join(segments[:end]).lower()
        if candidate in types_by_lower:
            return types_by_lower[candidate]
    return "/".join(segments[:-1])


def unify_fallback_casing(rows: list[Row], types_by_lower: dict[str, str]) -> list[Row]:
    """Give each fallback-derived resource type one spelling.

    The older table spells some retired types in several ways
    (``Microsoft.Insights/alertrules``, ``microsoft.insights/alertrules``, ...). A
    derived type is not source data, so each case-insensitive group gets the
    spelling that most of its aliases imply (ties: the code-point-smallest one).
    """
    votes: dict[str, Counter[str]] = {}
    for resource_type, _alias, _path in rows:
        if resource_type.lower() not in types_by_lower:
            votes.setdefault(resource_type.lower(), Counter())[resource_type] += 1
    chosen = {
        key: min(counter.items(), key=lambda item: (-item[1], item[0]))[0]
        for key, counter in votes.items()
    }
    return [(chosen.get(t.lower(), t), alias, path) for t, alias, path in rows]


def build_rows(data_dir: Path) -> tuple[list[Row], dict[str, int]]:
    """Merge both tables; return the sorted distinct rows and some statistics."""
    new_rows = read_new_table(data_dir / NEW_TABLE)
    old_rows = read_old_table(data_dir / OLD_TABLE)

    types_by_lower: dict[str, str] = {}
    for resource_type, _alias, _path in new_rows:
        types_by_lower.setdefault(resource_type.lower(), resource_type)
    new_alias_names = {alias.lower() for _type, alias, _path in new_rows}

    retired: list[Row] = []
    derived_from_prefix = 0
    for alias, alias_path in old_rows:
        if alias.lower() in new_alias_names:
            continue
        resource_type = derive_resource_type(alias, types_by_lower)
        if resource_type.lower() in types_by_lower:
            derived_from_prefix += 1
        retired.append((resource_type, alias, alias_path))
    retired = unify_fallback_casing(retired, types_by_lower)

    rows = sorted(set(new_rows) | set(retired))
    stats = {
        "new_rows": len(new_rows),
        "old_rows": len(old_rows),
        "retired_rows": len(retired),
        "retired_aliases": len({alias.lower() for _t, alias, _p in retired}),
        "retired_type_from_known_prefix": derived_from_prefix,
        "retired_type_from_fallback": len(retired) - derived_from_prefix,
        "rows": len(rows),
        "resource_types": len({t.lower() for t, _a, _p in rows}),
        "distinct_aliases": len({a.lower() for _t, a, _p in rows}),
    }
    return rows, stats


def write_table(rows: list[Row], out_file: Path) -> None:
    """Write the rows as a reproducible gzip of TSV text."""
    for row in rows:
        if any("\t" in value or "\n" in value or "\r" in value for value in row):
            raise ValueError(f"value not representable in TSV: {row!r}")
    text = "".join("\t".join(row) + "\n" for row in [HEADER, *rows])
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        gz.write(text.encode("utf-8"))
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_bytes(buffer.getvalue())


def main(argv: list[str]) -> int:
    """Command-line entry point."""
    data_dir = Path(argv[1]) if len(argv) > 1 else DEFAULT_DATA_DIR
    out_file = Path(argv[2]) if len(argv) > 2 else DEFAULT_OUT
    rows, stats = build_rows(data_dir)
    write_table(rows, out_file)
    for key, value in stats.items():
        print(f"{key}: {value}")
    print(f"wrote {out_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
