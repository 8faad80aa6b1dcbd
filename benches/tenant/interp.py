"""A small pure-Python interpreter of the Azure Policy rule JSON: the pure-Python peer.

Generic over the constructs the 25 definitions of pack (a) use: `allOf`/`anyOf`/`not`,
`field` (top-level fields, aliases, `[*]` aliases), `value` and `count` (field count with and
without `where`), and the operators equals, notEquals, in, notIn, like, notLike, contains,
notContains, exists, less, lessOrEquals, greater, greaterOrEquals. Template expressions are
limited to `[parameters('x')]`, folded at compile time with the defaults. Alias → path comes
from the engine's alias table (`azsecmap._core.resolve_alias`), as the issue allows.

Semantics follow docs/grammar.md: strings compare ignoring case, `true` equals `"true"`, a
missing value makes the positive operators false and the negated ones true, a `[*]` field
condition must hold for every member (vacuously true when empty or missing).

Like the engine, a rule is compiled once into closures and each policy is only tried on the
resource types its leading `type` condition names.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable
from typing import Any

from azsecmap import _core

MISSING = object()
Pred = Callable[[dict[str, Any], list[Any]], bool]
Getter = Callable[[dict[str, Any], list[Any]], Any]

_TOP = {"type", "name", "kind", "location", "id", "tags"}
_PARAM = re.compile(r"\[parameters\('(\w+)'\)\]")


def _fold(v: Any) -> Any:
    return v.casefold() if isinstance(v, str) else v


def _scalar_eq(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return str(a).casefold() == str(b).casefold()
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold() == b.casefold()
    if isinstance(a, (int, float)) and isinstance(b, str):
        a, b = b, a
    if isinstance(a, str) and isinstance(b, (int, float)):
        try:
            return float(a) == float(b)
        except ValueError:
            return False
    return bool(a == b)


def _order(a: Any, b: Any) -> tuple[Any, Any]:
    if isinstance(a, (int, float)) and not isinstance(a, bool):
        return a, float(b)
    if isinstance(b, (int, float)) and not isinstance(b, bool):
        return float(a), b
    return str(a).casefold(), str(b).casefold()


def _like(pattern: str) -> Callable[[Any], bool]:
    rx = re.compile(fnmatch.translate(pattern.casefold()), re.S)
    return lambda v: isinstance(v, str) and rx.match(v.casefold()) is not None


def _contains(actual: Any, expected: Any) -> bool:
    if isinstance(actual, str):
        return str(expected).casefold() in actual.casefold()
    if isinstance(actual, list):
        return any(_scalar_eq(x, expected) for x in actual)
    if isinstance(actual, dict):
        return any(k.casefold() == str(expected).casefold() for k in actual)
    return False


def _truthy(v: Any) -> bool:
    return v is True or (isinstance(v, str) and v.casefold() == "true")


def _operator(op: str, expected: Any) -> Callable[[Any], bool]:
    """A test of one actual value (MISSING when absent)."""
    if op == "equals":
        return lambda v: v is not MISSING and _scalar_eq(v, expected)
    if op == "notequals":
        return lambda v: v is MISSING or not _scalar_eq(v, expected)
    if op == "in":
        return lambda v: v is not MISSING and any(_scalar_eq(v, e) for e in expected)
    if op == "notin":
        return lambda v: v is MISSING or not any(_scalar_eq(v, e) for e in expected)
    if op == "like":
        m = _like(expected)
        return lambda v: v is not MISSING and m(v)
    if op == "notlike":
        m = _like(expected)
        return lambda v: v is MISSING or not m(v)
    if op == "contains":
        return lambda v: v is not MISSING and _contains(v, expected)
    if op == "notcontains":
        return lambda v: v is MISSING or not _contains(v, expected)
    if op == "exists":
        want = _truthy(expected)
        return lambda v: (v is not MISSING and v is not None) == want
    cmp = {
        "less": lambda a, b: a < b,
        "lessorequals": lambda a, b: a <= b,
        "greater": lambda a, b: a > b,
        "greaterorequals": lambda a, b: a >= b,
    }.get(op)
    if cmp is None:
        raise NotImplementedError(f"operator `{op}`")

    def ordered(v: Any) -> bool:
        if v is MISSING or v is None:
            return False
        a, b = _order(v, expected)
        return bool(cmp(a, b))

    return ordered


def _walk(doc: Any, parts: list[str]) -> list[Any]:
    """Values at a dotted path; `x[*]` fans out. Absent steps give MISSING."""
    cur = [doc]
    for part in parts:
        star = part.endswith("[*]")
        key = part[:-3] if star else part
        nxt: list[Any] = []
        for o in cur:
            v = _get(o, key) if key else o
            if star:
                if isinstance(v, list):
                    nxt.extend(v)
            else:
                nxt.append(v)
        cur = nxt
    return cur


def _get(o: Any, key: str) -> Any:
    if not isinstance(o, dict):
        return MISSING
    v = o.get(key, MISSING)
    if v is MISSING:
        low = key.casefold()
        for k, x in o.items():
            if k.casefold() == low:
                return x
    return v


class Compiler:
    """Compiles one definition's `if` into a predicate over a parsed resource."""

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params
        self.alias_cache: dict[str, list[tuple[str, str]]] = {}

    def const(self, v: Any) -> Any:
        if isinstance(v, str):
            m = _PARAM.fullmatch(v)
            if m:
                return self.params[m.group(1)]
            if v.startswith("[") and not v.startswith("[["):
                raise NotImplementedError(f"expression `{v}`")
        return v

    def paths(self, field: str) -> list[tuple[str, str]]:
        if field not in self.alias_cache:
            if "/" in field:
                self.alias_cache[field] = [(t.casefold(), p) for t, p in _core.resolve_alias(field)]
            else:
                self.alias_cache[field] = [("", field)]
        return self.alias_cache[field]

    def cond(self, node: dict[str, Any]) -> Pred:
        low = {k.casefold(): v for k, v in node.items()}
        if "allof" in low:
            parts = [self.cond(c) for c in low["allof"]]
            return lambda r, s: all(p(r, s) for p in parts)
        if "anyof" in low:
            parts = [self.cond(c) for c in low["anyof"]]
            return lambda r, s: any(p(r, s) for p in parts)
        if "not" in low:
            inner = self.cond(low["not"])
            return lambda r, s: not inner(r, s)
        ops = [k for k in low if k not in ("field", "value", "count")]
        if len(ops) != 1:
            raise NotImplementedError(f"condition {node}")
        test = _operator(ops[0], self.const(low[ops[0]]))
        if "count" in low:
            counter = self.count(low["count"])
            return lambda r, s: test(counter(r, s))
        if "value" in low:
            result = test(self.const(low["value"]))
            return lambda r, s: result
        field = self.const(low["field"])
        if "[*]" in field:
            members = self.members(field)
            return lambda r, s: all(test(v) for v in members(r, s))
        get = self.getter(field)
        return lambda r, s: test(get(r, s))

    def resolve(self, field: str, resource: dict[str, Any]) -> str:
        paths = self.paths(field)
        if len(paths) == 1:
            return paths[0][1]
        rtype = str(resource.get("type", "")).casefold()
        for t, p in paths:
            if t == rtype:
                return p
        return paths[0][1]

    def _values(self, field: str, r: dict[str, Any], scope: list[Any]) -> list[Any]:
        if field.casefold() in _TOP:
            return [_get(r, field)]
        if field.casefold().startswith("tags."):
            return [_get(_get(r, "tags"), field[5:])]
        path = self.resolve(field, r)
        for prefix, member in reversed(scope):  # inside count.where: relative to the member
            if path.casefold() == prefix.casefold():
                return [member]
            if path.casefold().startswith(prefix.casefold() + "."):
                return _walk(member, path[len(prefix) + 1 :].split("."))
        return _walk(r, path.split("."))

    def getter(self, field: str) -> Getter:
        return lambda r, s: self._values(field, r, s)[0]

    def members(self, field: str) -> Callable[[dict[str, Any], list[Any]], list[Any]]:
        return lambda r, s: self._values(field, r, s)

    def count(self, spec: dict[str, Any]) -> Callable[[dict[str, Any], list[Any]], int]:
        low = {k.casefold(): v for k, v in spec.items()}
        if "field" not in low:
            raise NotImplementedError("value count")
        field = low["field"]
        if "where" not in low:
            return lambda r, s: len(self._values(field, r, s))
        where = self.cond(low["where"])

        def counted(r: dict[str, Any], s: list[Any]) -> int:
            prefix = self.resolve(field, r)
            n = 0
            for m in self._values(field, r, s):
                if where(r, [*s, (prefix, m)]):
                    n += 1
            return n

        return counted


def _types_of(node: Any) -> set[str] | None:
    """Types the rule can match, when every branch starts with a `type` test; else None."""
    if not isinstance(node, dict):
        return None
    low = {k.casefold(): v for k, v in node.items()}
    if "anyof" in low:
        out: set[str] = set()
        for c in low["anyof"]:
            t = _types_of(c)
            if t is None:
                return None
            out |= t
        return out
    if "allof" in low:
        for c in low["allof"]:
            t = _types_of(c)
            if t is not None:
                return t
        return None
    if low.get("field", "").casefold() == "type":
        if "equals" in low:
            return {low["equals"].casefold()}
        if "in" in low:
            return {x.casefold() for x in low["in"]}
    return None


class CompiledPolicy:
    def __init__(self, definition: dict[str, Any]) -> None:
        props = definition.get("properties", definition)
        self.name: str = definition["name"]
        self.mode: str = props.get("mode", "All")
        params = {k: v.get("defaultValue") for k, v in (props.get("parameters") or {}).items()}
        rule = props["policyRule"]
        compiler = Compiler(params)
        self.effect = str(compiler.const(rule["then"]["effect"])).casefold()
        self.types = _types_of(rule["if"])
        self.pred = compiler.cond(rule["if"])


class Interpreter:
    """Evaluate a list of definitions over parsed resources; non-compliant pairs out."""

    def __init__(self, definitions: Iterable[dict[str, Any]]) -> None:
        self.policies = [CompiledPolicy(d) for d in definitions]
        self.policies = [p for p in self.policies if p.effect != "disabled"]
        self.untyped = [p for p in self.policies if p.types is None]
        self.by_type: dict[str, list[CompiledPolicy]] = {}

    def candidates(self, rtype: str) -> list[CompiledPolicy]:
        got = self.by_type.get(rtype)
        if got is None:
            low = rtype.casefold()
            got = [p for p in self.policies if p.types is not None and low in p.types]
            got += self.untyped
            if low in (
                "microsoft.resources/subscriptions/resourcegroups",
                "microsoft.resources/subscriptions",
            ):
                got = [p for p in got if p.mode != "Indexed"]
            self.by_type[rtype] = got
        return got

    def non_compliant(self, resource: dict[str, Any]) -> list[str]:
        empty: list[Any] = []
        return [p.name for p in self.candidates(resource["type"]) if p.pred(resource, empty)]
