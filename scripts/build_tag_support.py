"""Build ``frameworks/tag-support.csv``: which Azure resource types support tags.

Usage::

    python scripts/build_tag_support.py [SOURCE] [OUT_FILE] [OLDER_SOURCE]

``SOURCE`` (the current revision of the page) is either

* ``scripts/data/tag-support-facts.txt`` (the default): facts extracted from
  Microsoft's page "Tag support for Azure resources", one provider namespace per
  ``## <Namespace>`` line followed by ``<type>[/<child>...] Y|N`` lines, in the
  page's order and spelling (see ``frameworks/TAG-SUPPORT.md``); or
* the page's Markdown source itself (a file ending in ``.md``, e.g.
  ``articles/azure-resource-manager/management/tag-support.md`` from the
  ``MicrosoftDocs/azure-docs`` repository), whose tables
  ``| Resource type | Supports tags | Tag in cost report |`` are read directly.

``OLDER_SOURCE`` (default ``scripts/data/tag-support-facts-older.txt``; ``-`` for none)
holds facts from older revisions of the same page, in the same two forms. In the
facts form, a line ``# revision: ...`` starts a block naming the revision it was
read from; blocks come newest first. Other lines starting with a single ``#`` are
comments. A qualified answer on the page ("Yes, but limited ...") counts as yes.

Output: CSV with header ``resource_type,supports_tags,source``; ``resource_type`` is
``<Namespace>/<type>[/<child>...]`` spelled as on the page, ``supports_tags`` is
``true`` or ``false``, ``source`` is ``current`` (from ``SOURCE``) or ``older`` (from
``OLDER_SOURCE``). Every type of the current page is written with its current
answer; a type of an older revision is added only when no type of the current page
has the same name ignoring case, and the newest older block that lists it wins.
Rows are sorted case-insensitively (then by code point). Within one revision, a
type listed twice with the same answer is written once and conflicting answers stop
the script. Lookups against this table should ignore case, as ARM does.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO_ROOT / "scripts" / "data" / "tag-support-facts.txt"
DEFAULT_OLDER = REPO_ROOT / "scripts" / "data" / "tag-support-facts-older.txt"
DEFAULT_OUT = REPO_ROOT / "frameworks" / "tag-support.csv"
HEADER = "resource_type,supports_tags,source"

HEADING = re.compile(r"^##\s+(\S+)\s*$")
FACT = re.compile(r"^(\S+)\s+([YN])$")
MD_HEADING = re.compile(r"^##\s+(.+?)\s*$")
NAMESPACE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+)+$")
MD_ROW = re.compile(r"^>?\s*\|\s*([^|]+?)\s*\|\s*(Yes|No)(?:,[^|]*)?\s*\|\s*(?:Yes|No)[^|]*\|\s*$")
REVISION = re.compile(r"^#\s*revision:\s*(.+?)\s*$")

Rows = list[tuple[str, bool]]


def parse_facts_blocks(text: str) -> list[tuple[str, Rows]]:
    """Parse the compact facts format into (revision, rows) blocks, in file order.

    Rows before any ``# revision:`` line form a block with an empty revision name.
    """
    blocks: list[tuple[str, Rows]] = [("", [])]
    namespace: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        revision = REVISION.match(line)
        if revision:
            blocks.append((revision.group(1), []))
            namespace = None
            continue
        if line.startswith("#") and not line.startswith("##"):
            continue
        heading = HEADING.match(line)
        if heading:
            namespace = heading.group(1)
            continue
        fact = FACT.match(line)
        if not fact or namespace is None:
            raise ValueError(f"line {number}: cannot parse {line!r}")
        blocks[-1][1].append((f"{namespace}/{fact.group(1)}", fact.group(2) == "Y"))
    return [block for block in blocks if block[0] or block[1]]


def parse_facts(text: str) -> Rows:
    """Parse the compact facts format into (resource_type, supports_tags) pairs."""
    return [row for _, rows in parse_facts_blocks(text) for row in rows]


def parse_markdown(text: str) -> Rows:
    """Parse the page's Markdown source into (resource_type, supports_tags) pairs."""
    rows: Rows = []
    namespace: str | None = None
    for line in text.splitlines():
        heading = MD_HEADING.match(line.strip())
        if heading:
            title = heading.group(1)
            namespace = title if NAMESPACE.match(title) else None
            continue
        row = MD_ROW.match(line.strip())
        if row and namespace is not None and row.group(1) != "Resource type":
            child = "/".join(part.strip() for part in row.group(1).split("/"))
            rows.append((f"{namespace}/{child}", row.group(2) == "Yes"))
    return rows


def deduplicate(rows: Rows) -> dict[str, bool]:
    """Keep one row per exact type name; fail on conflicting answers."""
    result: dict[str, bool] = {}
    for resource_type, supports in rows:
        if result.get(resource_type, supports) != supports:
            raise ValueError(f"conflicting answers for {resource_type}")
        result[resource_type] = supports
    return result


def read_blocks(source: Path) -> list[tuple[str, Rows]]:
    """Read a source file (facts or ``.md``) into (revision, rows) blocks."""
    text = source.read_text(encoding="utf-8")
    if source.suffix.lower() == ".md":
        return [(source.name, parse_markdown(text))]
    return parse_facts_blocks(text)


def merge(
    current: dict[str, bool], older_blocks: list[dict[str, bool]]
) -> dict[str, tuple[bool, str]]:
    """Current types as they are; older types only where no earlier source has the name.

    Names are compared ignoring case; ``older_blocks`` are newest first.
    """
    table = {name: (supports, "current") for name, supports in current.items()}
    seen = {name.lower() for name in current}
    for block in older_blocks:
        added: set[str] = set()
        for name, supports in block.items():
            if name.lower() in seen:
                continue
            table[name] = (supports, "older")
            added.add(name.lower())
        seen |= added
    return table


def write_csv(table: dict[str, tuple[bool, str]], out_file: Path) -> None:
    """Write the table sorted case-insensitively, LF line endings."""
    ordered = sorted(table, key=lambda name: (name.lower(), name))
    lines = [HEADER]
    for name in ordered:
        supports, source = table[name]
        lines.append(f"{name},{'true' if supports else 'false'},{source}")
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")


def main(argv: list[str]) -> int:
    """Command-line entry point."""
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    out_file = Path(argv[2]) if len(argv) > 2 else DEFAULT_OUT
    older_arg = argv[3] if len(argv) > 3 else str(DEFAULT_OLDER)
    current_rows = [row for _, rows in read_blocks(source) for row in rows]
    current = deduplicate(current_rows)
    older_blocks = [] if older_arg == "-" else read_blocks(Path(older_arg))
    older = [(revision, deduplicate(rows)) for revision, rows in older_blocks]
    table = merge(current, [block for _, block in older])
    write_csv(table, out_file)

    namespaces = {name.split("/", 1)[0].lower() for name in current}
    print(
        f"current: rows read: {len(current_rows)}; types: {len(current)}; "
        f"namespaces: {len(namespaces)}"
    )
    current_lower = {name.lower(): supports for name, supports in current.items()}
    for revision, block in older:
        both = [name for name in block if name.lower() in current_lower]
        differ = sum(1 for name in both if current_lower[name.lower()] != block[name])
        print(
            f"older revision {revision or '(unnamed)'}: types: {len(block)}; "
            f"also on the current page: {len(both)} ({differ} with another answer)"
        )
    added = [name for name, (_, origin) in table.items() if origin == "older"]
    added_yes = sum(1 for name in added if table[name][0])
    print(
        f"added from older revisions: {len(added)} (support tags: {added_yes}; "
        f"do not: {len(added) - added_yes}); new namespaces: "
        f"{len({n.split('/', 1)[0].lower() for n in added} - namespaces)}"
    )
    yes = sum(1 for supports, _ in table.values() if supports)
    print(
        f"total types: {len(table)}; support tags: {yes}; do not: {len(table) - yes}; "
        f"namespaces: {len({name.split('/', 1)[0].lower() for name in table})}"
    )
    lowered: dict[str, set[bool]] = {}
    for name, (supports, _) in table.items():
        lowered.setdefault(name.lower(), set()).add(supports)
    case_clashes = sum(1 for answers in lowered.values() if len(answers) > 1)
    print(
        f"types differing only in case: {len(table) - len(lowered)}; "
        f"with conflicting answers: {case_clashes}"
    )
    print(f"wrote {out_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
