"""Tally which policy-language features Azure's built-in policy definitions use.

Usage::

    python scripts/tally_builtins.py [DATA_DIR]

``DATA_DIR`` defaults to ``../shared/data`` (relative to the repository root). The
script reads ``DATA_DIR/azure-policy/policyDefinitions/**/*.json`` and the bundled
alias table ``frameworks/aliases.tsv.gz`` (built by ``scripts/build_alias_table.py``)
and writes ``docs/builtin-usage.md``.

What is counted:

* every definition: its ``mode``, grouped case-insensitively, with the lower-case
  spelling ``indexed`` reported on its own line;
* definitions whose mode is ``All`` or ``Indexed`` (any case) only, over their
  ``policyRule`` *without* the embedded ARM deployment template at
  ``then.details.deployment``:

  - condition operators (occurrences, split by where the condition sits: ``if``
    or ``then.details.existenceCondition``; and the number of definitions);
  - logical operators ``allOf`` / ``anyOf`` / ``not``;
  - ``count`` forms: field count or value count, with or without ``where``, and
    nested (a count inside another count's ``where``);
  - ``field`` forms (``type``, ``name``, ``tags['x']``, aliases, ``[*]`` depth, ...);
  - template functions: identifiers followed by ``(`` inside strings that start
    with ``[`` but not ``[[`` (quoted literals are skipped);
  - effects: the default value of the effect parameter, or the literal effect,
    case-normalised; and the keys of ``then.details`` per effect;
  - alias resolution: the distinct aliases used in ``field`` and in
    ``field('...')`` calls, looked up case-insensitively in the bundled table.

Object keys are matched case-insensitively, as Azure Policy does.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data"
ALIAS_TABLE = REPO_ROOT / "frameworks" / "aliases.tsv.gz"
TAG_SUPPORT = REPO_ROOT / "frameworks" / "tag-support.csv"
OUT_FILE = REPO_ROOT / "docs" / "builtin-usage.md"
DEFINITIONS = "azure-policy/policyDefinitions"
DATA_README = "README.md"

CONDITION_OPERATORS = [
    "equals",
    "notEquals",
    "like",
    "notLike",
    "match",
    "matchInsensitively",
    "notMatch",
    "notMatchInsensitively",
    "contains",
    "notContains",
    "in",
    "notIn",
    "containsKey",
    "notContainsKey",
    "less",
    "lessOrEquals",
    "greater",
    "greaterOrEquals",
    "exists",
]
OPERATOR_BY_LOWER = {name.lower(): name for name in CONDITION_OPERATORS}
LOGICAL_OPERATORS = ["allOf", "anyOf", "not"]
LOGICAL_BY_LOWER = {name.lower(): name for name in LOGICAL_OPERATORS}
EFFECTS = [
    "Append",
    "Audit",
    "AuditAction",
    "AuditIfNotExists",
    "Deny",
    "DenyAction",
    "DeployIfNotExists",
    "Disabled",
    "EnforceRegoPolicy",
    "EnforceSetting",
    "Manual",
    "Modify",
    "Mutate",
]
EFFECT_BY_LOWER = {name.lower(): name for name in EFFECTS}
FIELD_KEYWORDS = [
    "type",
    "name",
    "fullName",
    "kind",
    "location",
    "id",
    "identity.type",
    "identity.userAssignedIdentities",
    "tags",
]
KEYWORD_BY_LOWER = {name.lower(): name for name in FIELD_KEYWORDS}

QUOTED = re.compile(r"'(?:[^']|'')*'")
FUNCTION_CALL = re.compile(r"(?<![\w.])([A-Za-z_][A-Za-z0-9_]*)\s*\(")
FIELD_CALL = re.compile(r"(?<![\w.])field\s*\(\s*'((?:[^']|'')*)'\s*\)", re.IGNORECASE)
EFFECT_PARAMETER = re.compile(r"^\[\s*parameters\s*\(\s*'([^']*)'\s*\)\s*\]$", re.IGNORECASE)
COMMIT = re.compile(r"`([0-9a-f]{40})`")


def get_ci(obj: dict[str, Any], key: str) -> Any:
    """Value of ``key`` in ``obj``, matching the key case-insensitively."""
    lowered = key.lower()
    for candidate, value in obj.items():
        if candidate.lower() == lowered:
            return value
    return None


@dataclass
class DefinitionUsage:
    """What one definition uses (sets and counters are merged into the totals)."""

    operators: Counter[tuple[str, str]] = field(default_factory=Counter)
    odd_operator_spellings: Counter[str] = field(default_factory=Counter)
    logical: Counter[str] = field(default_factory=Counter)
    counts: Counter[str] = field(default_factory=Counter)
    operands: Counter[str] = field(default_factory=Counter)
    fields: Counter[str] = field(default_factory=Counter)
    star_depths: Counter[int] = field(default_factory=Counter)
    other_fields: Counter[str] = field(default_factory=Counter)
    functions: Counter[str] = field(default_factory=Counter)
    function_spellings: Counter[str] = field(default_factory=Counter)
    aliases: set[str] = field(default_factory=set)
    field_call_aliases: set[str] = field(default_factory=set)
    operation_aliases: set[str] = field(default_factory=set)


def classify_field(value: str) -> tuple[str, int]:
    """Category of a ``field`` operand and the number of ``[*]`` in it."""
    if value.startswith("[") and not value.startswith("[["):
        return "expression", 0
    lowered = value.lower()
    if lowered in KEYWORD_BY_LOWER:
        return KEYWORD_BY_LOWER[lowered], 0
    if lowered.startswith(("tags['", 'tags["')):
        return "tags['x']", 0
    if lowered.startswith("tags["):
        return "tags[x]", 0
    if lowered.startswith("tags."):
        return "tags.x", 0
    if lowered.startswith("identity.userassignedidentities"):
        return "identity.userAssignedIdentities", 0
    if "/" in value:
        depth = value.count("[*]")
        return ("alias with [*]" if depth else "alias"), depth
    return "other", 0


def template_strings(node: Any) -> Iterator[str]:
    """Every string value in ``node`` that is a template expression."""
    if isinstance(node, str):
        if node.startswith("[") and not node.startswith("[["):
            yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from template_strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from template_strings(item)


def scan_functions(rule: dict[str, Any], usage: DefinitionUsage) -> None:
    """Record template functions and ``field('...')`` aliases used in ``rule``."""
    for text in template_strings(rule):
        for match in FIELD_CALL.finditer(text):
            argument = match.group(1).replace("''", "'")
            if "/" in argument:
                usage.field_call_aliases.add(argument)
        stripped = QUOTED.sub("''", text)
        for match in FUNCTION_CALL.finditer(stripped):
            name = match.group(1)
            usage.functions[name.lower()] += 1
            usage.function_spellings[name] += 1


def walk_condition(node: Any, where: str, usage: DefinitionUsage, count_depth: int) -> None:
    """Walk a policy condition tree, recording operators, counts and fields."""
    if isinstance(node, list):
        for item in node:
            walk_condition(item, where, usage, count_depth)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        lowered = key.lower()
        if lowered in LOGICAL_BY_LOWER:
            usage.logical[LOGICAL_BY_LOWER[lowered]] += 1
            walk_condition(value, where, usage, count_depth)
        elif lowered in OPERATOR_BY_LOWER:
            canonical = OPERATOR_BY_LOWER[lowered]
            usage.operators[(canonical, where)] += 1
            if key != canonical:
                usage.odd_operator_spellings[key] += 1
        elif lowered == "field" and isinstance(value, str):
            usage.operands["field"] += 1
            record_field(value, usage)
        elif lowered == "value":
            usage.operands["value"] += 1
        elif lowered == "count" and isinstance(value, dict):
            usage.operands["count"] += 1
            record_count(value, where, usage, count_depth)


def record_field(value: str, usage: DefinitionUsage) -> None:
    """Classify one ``field`` operand."""
    category, depth = classify_field(value)
    usage.fields[category] += 1
    if depth:
        usage.star_depths[depth] += 1
    if category.startswith("alias"):
        usage.aliases.add(value)
    elif category in ("other", "expression"):
        usage.other_fields[value] += 1


def record_count(expr: dict[str, Any], where: str, usage: DefinitionUsage, depth: int) -> None:
    """Record the form of one ``count`` expression and walk its ``where``."""
    count_field = get_ci(expr, "field")
    condition = get_ci(expr, "where")
    kind = "field count" if count_field is not None else "value count"
    suffix = "with where" if condition is not None else "without where"
    usage.counts[f"{kind}, {suffix}"] += 1
    if depth > 0:
        usage.counts["nested (inside another count's where)"] += 1
    if isinstance(count_field, str):
        usage.operands["field"] += 1
        record_field(count_field, usage)
    if condition is not None:
        walk_condition(condition, where, usage, depth + 1)


def scan_operations(details: Any, usage: DefinitionUsage) -> None:
    """Record aliases named by ``field`` in modify operations or append details."""
    items = details if isinstance(details, list) else None
    if isinstance(details, dict):
        items = get_ci(details, "operations")
    if not isinstance(items, list):
        return
    for item in items:
        target = get_ci(item, "field") if isinstance(item, dict) else None
        if isinstance(target, str) and "/" in target and not target.startswith("["):
            usage.operation_aliases.add(target)


def rule_without_deployment(rule: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``rule`` without ``then.details.deployment``."""
    then = get_ci(rule, "then")
    if not isinstance(then, dict):
        return rule
    details = get_ci(then, "details")
    if not isinstance(details, dict):
        return rule
    new_details = {k: v for k, v in details.items() if k.lower() != "deployment"}
    new_then = {k: (new_details if k.lower() == "details" else v) for k, v in then.items()}
    return {k: (new_then if k.lower() == "then" else v) for k, v in rule.items()}


def default_effect(props: dict[str, Any]) -> str:
    """The effect a definition has by default, case-normalised."""
    rule = get_ci(props, "policyRule") or {}
    then = get_ci(rule, "then") or {}
    effect = get_ci(then, "effect")
    if not isinstance(effect, str):
        return "(not a string)"
    match = EFFECT_PARAMETER.match(effect.strip())
    if match:
        parameters = get_ci(props, "parameters") or {}
        parameter = get_ci(parameters, match.group(1))
        if not isinstance(parameter, dict):
            return "(undeclared parameter)"
        default = get_ci(parameter, "defaultValue")
        if default is None:
            return "(no default)"
        effect = str(default)
    return EFFECT_BY_LOWER.get(effect.lower(), effect)


@dataclass
class Totals:
    """Corpus-wide tallies."""

    files: int = 0
    modes: Counter[str] = field(default_factory=Counter)
    evaluated: int = 0
    parameterised_effect: int = 0
    occurrences: dict[str, Counter[Any]] = field(default_factory=lambda: defaultdict(Counter))
    definitions: dict[str, Counter[Any]] = field(default_factory=lambda: defaultdict(Counter))
    effects: Counter[str] = field(default_factory=Counter)
    detail_keys: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    detail_shapes: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    odd_operator_spellings: Counter[str] = field(default_factory=Counter)
    function_spellings: Counter[str] = field(default_factory=Counter)
    other_fields: Counter[str] = field(default_factory=Counter)
    alias_users: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    field_operand_aliases: set[str] = field(default_factory=set)
    field_call_aliases: set[str] = field(default_factory=set)
    operation_aliases: set[str] = field(default_factory=set)

    def add(self, name: str, counter: Counter[Any]) -> None:
        """Merge one definition's counter into the occurrence and definition tallies."""
        self.occurrences[name].update(counter)
        self.definitions[name].update(counter.keys())


def tally(data_dir: Path) -> Totals:
    """Read every built-in definition and tally what it uses."""
    totals = Totals()
    root = data_dir / DEFINITIONS
    for path in sorted(root.rglob("*.json")):
        relative = path.relative_to(root).as_posix()
        document = json.loads(path.read_text(encoding="utf-8"))
        props = document.get("properties", {})
        totals.files += 1
        mode = props.get("mode")
        totals.modes["(none)" if mode is None else str(mode)] += 1
        if not isinstance(mode, str) or mode.lower() not in ("all", "indexed"):
            continue
        totals.evaluated += 1
        rule = rule_without_deployment(get_ci(props, "policyRule") or {})
        usage = DefinitionUsage()
        walk_condition(get_ci(rule, "if"), "if", usage, 0)
        then = get_ci(rule, "then") or {}
        details = get_ci(then, "details")
        if isinstance(details, dict):
            existence = get_ci(details, "existenceCondition")
            if existence is not None:
                walk_condition(existence, "existenceCondition", usage, 0)
        scan_functions(rule, usage)
        scan_operations(details, usage)

        operators_total: Counter[str] = Counter()
        for (name, _where), number in usage.operators.items():
            operators_total[name] += number
        totals.add("operators", operators_total)
        totals.add("operators_where", usage.operators)
        totals.add("logical", usage.logical)
        totals.add("counts", usage.counts)
        if usage.counts:
            totals.add("counts", Counter({"any count": sum(usage.counts.values())}))
        totals.add("operands", usage.operands)
        totals.add("fields", usage.fields)
        totals.add("star_depths", usage.star_depths)
        totals.add("functions", usage.functions)
        totals.odd_operator_spellings.update(usage.odd_operator_spellings)
        totals.function_spellings.update(usage.function_spellings)
        totals.other_fields.update(usage.other_fields)
        for alias in usage.aliases | usage.field_call_aliases | usage.operation_aliases:
            totals.alias_users[alias].add(relative)
        totals.field_operand_aliases.update(a.lower() for a in usage.aliases)
        totals.operation_aliases.update(a.lower() for a in usage.operation_aliases)
        totals.field_call_aliases.update(a.lower() for a in usage.field_call_aliases)

        effect = default_effect(props)
        totals.effects[effect] += 1
        raw_effect = get_ci(then, "effect")
        if isinstance(raw_effect, str) and EFFECT_PARAMETER.match(raw_effect.strip()):
            totals.parameterised_effect += 1
        if isinstance(details, dict):
            totals.detail_shapes[effect]["object"] += 1
            totals.detail_keys[effect].update(details.keys())
        elif isinstance(details, list):
            totals.detail_shapes[effect]["list"] += 1
        else:
            totals.detail_shapes[effect]["none"] += 1
    return totals


def load_alias_table(path: Path) -> tuple[set[str], dict[str, str]]:
    """Alias names (lower case) and resource types (lower case -> spelling) of the table."""
    names: set[str] = set()
    types: dict[str, str] = {}
    with gzip.open(path, "rt", encoding="utf-8", newline="\n") as handle:
        next(handle)
        for line in handle:
            resource_type, alias, _path = line.rstrip("\n").split("\t")
            names.add(alias.lower())
            types.setdefault(resource_type.lower(), resource_type)
    return names, types


def data_commit(data_dir: Path) -> str:
    """The azure-policy commit named in the data README."""
    text = (data_dir / DATA_README).read_text(encoding="utf-8")
    section = text.split("## azure-policy/", 1)[-1].split("\n## ", 1)[0]
    match = COMMIT.search(section)
    return match.group(1) if match else "(unknown)"


def table(headers: list[str], rows: Iterable[list[Any]]) -> list[str]:
    """A Markdown table; numeric columns are right-aligned."""
    rows = [[f"{cell:,}" if isinstance(cell, int) else str(cell) for cell in row] for row in rows]
    align = [
        "---:" if rows and all(_is_number(r[i]) for r in rows) else "---"
        for i in range(len(headers))
    ]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _is_number(text: str) -> bool:
    return text.replace(",", "").isdigit()


def md_code(text: str) -> str:
    """Inline code that survives a Markdown table cell."""
    return "`" + text.replace("|", "\\|").replace("`", "'") + "`"


def namespace(alias: str) -> str:
    """The provider namespace of an alias (the part before the first ``/``)."""
    return alias.split("/", 1)[0]


def render(totals: Totals, data_dir: Path, alias_table: Path) -> str:
    """The Markdown report."""
    alias_names, alias_types = load_alias_table(alias_table)
    occ, defs = totals.occurrences, totals.definitions
    out: list[str] = []
    out += [
        "# What Azure's built-in policy definitions use",
        "",
        (
            "Generated by `python scripts/tally_builtins.py` (default data directory "
            "`../shared/data`); do not edit by hand. Data: the built-in definitions of "
            f"`Azure/azure-policy` at commit `{data_commit(data_dir)}` as copied into "
            "`shared/data/azure-policy/policyDefinitions/`; alias table: "
            "`frameworks/aliases.tsv.gz` (see `frameworks/ALIASES.md`)."
        ),
        "",
        (
            "Object keys are compared case-insensitively, as Azure Policy does. Unless a "
            "section says otherwise it counts only the definitions whose mode is `All` or "
            "`Indexed` (any case) and looks at their `policyRule` without the embedded ARM "
            'template at `then.details.deployment`. "Occurrences" counts every place a '
            'feature appears; "definitions" counts the definitions that use it at least once.'
        ),
        "",
        "## Modes (all definition files)",
        "",
    ]
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    for mode, number in totals.modes.items():
        groups[mode.lower()][mode] += number
    mode_rows: list[list[Any]] = []
    for key in sorted(groups, key=lambda k: (-sum(groups[k].values()), k)):
        spellings = groups[key]
        main = max(spellings, key=lambda s: (spellings[s], s))
        mode_rows.append(
            [md_code(main) if main != "(none)" else "(no mode)", sum(spellings.values())]
        )
        for spelling, number in sorted(spellings.items()):
            if spelling != main:
                mode_rows.append([f"  of which spelled {md_code(spelling)}", number])
    out += table(["mode", "definitions"], mode_rows)
    out += [
        (
            f"{totals.files:,} definition files; {totals.evaluated:,} have mode `All` or "
            "`Indexed` and are the subject of the rest of this page."
        ),
        "",
        "## Condition operators",
        "",
    ]
    where = occ["operators_where"]
    operator_rows = [
        [
            md_code(name),
            occ["operators"][name],
            where[(name, "if")],
            where[(name, "existenceCondition")],
            defs["operators"][name],
        ]
        for name in sorted(occ["operators"], key=lambda n: (-occ["operators"][n], n))
    ]
    unused = [md_code(n) for n in CONDITION_OPERATORS if n not in occ["operators"]]
    out += table(
        ["operator", "occurrences", "in `if`", "in `existenceCondition`", "definitions"],
        operator_rows,
    )
    out += [f"Not used: {', '.join(unused) if unused else 'none'}."]
    if totals.odd_operator_spellings:
        spelled = ", ".join(
            f"{md_code(k)} ({v})" for k, v in sorted(totals.odd_operator_spellings.items())
        )
        out += [f"Operator keys not in their documented casing: {spelled}."]
    out += ["", "Operands of conditions (`count` also counts its own `field`):", ""]
    out += table(
        ["operand", "occurrences", "definitions"],
        [[md_code(k), occ["operands"][k], defs["operands"][k]] for k in sorted(occ["operands"])],
    )
    out += ["## Logical operators", ""]
    out += table(
        ["operator", "occurrences", "definitions"],
        [[md_code(k), occ["logical"][k], defs["logical"][k]] for k in LOGICAL_OPERATORS],
    )
    out += ["## `count` expressions", ""]
    count_keys = [
        "any count",
        "field count, with where",
        "field count, without where",
        "value count, with where",
        "value count, without where",
        "nested (inside another count's where)",
    ]
    out += table(
        ["form", "occurrences", "definitions"],
        [[k, occ["counts"][k], defs["counts"][k]] for k in count_keys],
    )
    out += ["## `field` forms", ""]
    field_order = [
        *FIELD_KEYWORDS,
        "tags['x']",
        "tags.x",
        "tags[x]",
        "alias",
        "alias with [*]",
        "expression",
        "other",
    ]
    out += table(
        ["form", "occurrences", "definitions"],
        [
            [
                md_code(k) if k not in ("alias", "alias with [*]", "expression", "other") else k,
                occ["fields"][k],
                defs["fields"][k],
            ]
            for k in field_order
        ],
    )
    out += ["`[*]` depth of aliases (number of `[*]` in one field path):", ""]
    out += table(
        ["`[*]` count", "occurrences", "definitions"],
        [[k, occ["star_depths"][k], defs["star_depths"][k]] for k in sorted(occ["star_depths"])],
    )
    if totals.other_fields:
        listed = ", ".join(
            f"{md_code(k)} ({v})"
            for k, v in sorted(totals.other_fields.items(), key=lambda i: (-i[1], i[0]))
        )
        out += [f"`expression` and `other` field values (occurrences): {listed}.", ""]
    out += [
        "## Template functions",
        "",
        (
            "Identifiers followed by `(` in strings that start with `[` (not `[[`), "
            "quoted literals skipped; names compared case-insensitively and shown in "
            "their most frequent spelling."
        ),
        "",
    ]
    spelling: dict[str, str] = {}
    for name, _number in sorted(totals.function_spellings.items(), key=lambda i: (-i[1], i[0])):
        spelling.setdefault(name.lower(), name)
    functions = occ["functions"]
    out += table(
        ["function", "definitions", "occurrences"],
        [
            [md_code(spelling[k]), defs["functions"][k], functions[k]]
            for k in sorted(functions, key=lambda n: (-defs["functions"][n], n))
        ],
    )
    out += [
        "## Effects",
        "",
        (
            f"Default value of the effect parameter ({totals.parameterised_effect:,} "
            "definitions parameterise the effect) or the literal effect, case-normalised."
        ),
        "",
    ]
    out += table(
        ["effect", "definitions"],
        [[md_code(k), v] for k, v in sorted(totals.effects.items(), key=lambda i: (-i[1], i[0]))],
    )
    out += [
        "### `then.details` keys per effect",
        "",
        (
            "Keys of `then.details` when it is an object (`deployment` included here), "
            "grouped by the default effect; `details` shape = object / list / absent."
        ),
        "",
    ]
    detail_rows: list[list[Any]] = []
    for effect in sorted(totals.effects, key=lambda e: (-totals.effects[e], e)):
        shapes = totals.detail_shapes[effect]
        shape = ", ".join(f"{k} {v:,}" for k, v in sorted(shapes.items()))
        keys = ", ".join(
            f"{md_code(k)} {v:,}"
            for k, v in sorted(totals.detail_keys[effect].items(), key=lambda i: (-i[1], i[0]))
        )
        detail_rows.append([md_code(effect), totals.effects[effect], shape, keys or "-"])
    out += table(["effect", "definitions", "details shape", "keys (definitions)"], detail_rows)
    out += render_aliases(totals, alias_names, alias_types)
    return "\n".join(out).rstrip("\n") + "\n"


def render_aliases(totals: Totals, alias_names: set[str], alias_types: dict[str, str]) -> list[str]:
    """The alias-resolution section."""
    by_lower: dict[str, set[str]] = defaultdict(set)
    users: dict[str, set[str]] = defaultdict(set)
    for alias, files in totals.alias_users.items():
        by_lower[alias.lower()].add(alias)
        users[alias.lower()] |= files
    resolved = sorted(k for k in by_lower if k in alias_names)
    missing = sorted(k for k in by_lower if k not in alias_names)
    namespaces = {t.split("/", 1)[0].lower() for t in alias_types}
    out = [
        "## Aliases against the bundled table",
        "",
        (
            "Distinct aliases (case-insensitive) used as a `field` operand, in a `count` "
            "field, as the argument of a `field('...')` call, or as the `field` of a modify "
            "operation or append detail, by `All`/`Indexed` definitions; looked up by "
            "case-insensitive exact name in `frameworks/aliases.tsv.gz`. The `field` forms "
            "table above counts condition operands only."
        ),
        "",
    ]
    out += table(
        ["", "aliases"],
        [
            ["distinct aliases used", len(by_lower)],
            ["  resolve in the bundled table", len(resolved)],
            ["  do not resolve", len(missing)],
            [
                "  used in conditions (`field` operand or `count` field)",
                sum(1 for k in by_lower if k in totals.field_operand_aliases),
            ],
            ["  used in `field('...')` calls", len(totals.field_call_aliases)],
            [
                "  used as the `field` of modify operations or append details",
                len(totals.operation_aliases),
            ],
            [
                "  used only outside conditions",
                sum(1 for k in by_lower if k not in totals.field_operand_aliases),
            ],
        ],
    )
    if missing:
        out += ["Aliases that do not resolve, with the definitions that use them:", ""]
        out += table(
            ["alias", "definitions"],
            [
                [md_code(min(by_lower[k])), "<br>".join(md_code(f) for f in sorted(users[k]))]
                for k in missing
            ],
        )
    ns_counter: Counter[str] = Counter()
    ns_spelling: dict[str, str] = {}
    for spellings in by_lower.values():
        ns = namespace(min(spellings))
        ns_counter[ns.lower()] += 1
        ns_spelling.setdefault(ns.lower(), ns)
    no_type = []
    for key in sorted(by_lower):
        alias = min(by_lower[key])
        segments = key.split("/")
        prefixes = ["/".join(segments[:n]) for n in range(len(segments) - 1, 1, -1)]
        if not any(p in alias_types for p in prefixes):
            no_type.append(alias)
    out += [
        "### Namespaces of the aliases used",
        "",
        (
            'Aliases per provider namespace; "known namespace" says whether the bundled '
            "table has any resource type in that namespace."
        ),
        "",
    ]
    out += table(
        ["namespace", "aliases used", "known namespace"],
        [
            [md_code(ns_spelling[k]), v, "yes" if k in namespaces else "no"]
            for k, v in sorted(ns_counter.items(), key=lambda i: (-i[1], i[0]))
        ],
    )
    out += [
        (
            "Aliases used whose name has no resource type of the bundled table as a "
            "`/`-prefix (namespace-level aliases such as `Microsoft.Compute/imagePublisher`, "
            "or aliases of types the table does not know):"
        ),
        "",
    ]
    out += [
        f"- {md_code(a)}" + ("" if a.lower() in alias_names else " (not in the table)")
        for a in no_type
    ] or ["- none"]
    return [*out, "", *render_tag_support(by_lower, alias_types)]


def alias_resource_type(alias: str, alias_types: dict[str, str]) -> str | None:
    """Longest resource type of the alias table that is a ``/``-prefix of ``alias``."""
    segments = alias.lower().split("/")
    for end in range(len(segments) - 1, 1, -1):
        candidate = "/".join(segments[:end])
        if candidate in alias_types:
            return alias_types[candidate]
    return None


def render_tag_support(by_lower: dict[str, set[str]], alias_types: dict[str, str]) -> list[str]:
    """Resource types of the aliases used, looked up in ``frameworks/tag-support.csv``."""
    if not TAG_SUPPORT.exists():
        return []
    support: dict[str, bool] = {}
    with TAG_SUPPORT.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            support[row["resource_type"].lower()] = row["supports_tags"] == "true"
    types: dict[str, str] = {}
    for spellings in by_lower.values():
        resource_type = alias_resource_type(min(spellings), alias_types)
        if resource_type is not None:
            types.setdefault(resource_type.lower(), resource_type)
    listed_true = sorted(t for t in types if support.get(t) is True)
    listed_false = sorted(t for t in types if support.get(t) is False)
    unlisted = sorted(t for t in types if t not in support)
    out = [
        "### Resource types of the aliases used, against the tag-support table",
        "",
        (
            "Each alias's resource type (the longest type of the alias table that prefixes "
            "it), looked up case-insensitively in `frameworks/tag-support.csv` (see "
            "`frameworks/TAG-SUPPORT.md`). Under `mode: Indexed`, types that do not support "
            "tags and location are skipped, so definitions written against them must use "
            "`All`."
        ),
        "",
    ]
    out += table(
        ["", "resource types"],
        [
            ["resource types reached through the aliases used", len(types)],
            ["  listed as supporting tags", len(listed_true)],
            ["  listed as not supporting tags", len(listed_false)],
            ["  not listed on the page", len(unlisted)],
        ],
    )
    out += [
        "Listed as not supporting tags: "
        + ", ".join(md_code(types[t]) for t in listed_false)
        + ".",
        "",
    ]
    out += ["Not listed on the page: " + ", ".join(md_code(types[t]) for t in unlisted) + ".", ""]
    return out


def main(argv: list[str]) -> int:
    """Command-line entry point."""
    data_dir = Path(argv[1]) if len(argv) > 1 else DEFAULT_DATA_DIR
    totals = tally(data_dir)
    OUT_FILE.parent.mkdir(parents=True, exist_ok=True)
    OUT_FILE.write_text(render(totals, data_dir, ALIAS_TABLE), encoding="utf-8")
    print(f"{totals.files} files, {totals.evaluated} All/Indexed; wrote {OUT_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
