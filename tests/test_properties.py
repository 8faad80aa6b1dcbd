"""Property tests: invariants of the rule language that must hold for any input."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import azsecmap
from azsecmap import EvaluationError, PolicyError

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

NEGATION_PAIRS = [
    ("equals", "notEquals"),
    ("like", "notLike"),
    ("in", "notIn"),
    ("contains", "notContains"),
    ("containsKey", "notContainsKey"),
    ("match", "notMatch"),
    ("matchInsensitively", "notMatchInsensitively"),
]

TEXT = st.text(alphabet="abAB01#?.* -", max_size=6)
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-1000, max_value=1000),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False),
    TEXT,
)
VALUE = st.one_of(
    SCALAR,
    st.lists(SCALAR, max_size=3),
    st.dictionaries(st.text(alphabet="abAB", min_size=1, max_size=2), SCALAR, max_size=3),
)
PATTERN = st.text(alphabet="abAB01#?.*", max_size=5)


def operand_for(op: str) -> st.SearchStrategy[Any]:
    """Operands Azure accepts for `op` (plus a few it may refuse, which must refuse alike)."""
    base = op[3].lower() + op[4:] if op.startswith("not") and op[3].isupper() else op
    if base in ("like", "match", "matchInsensitively"):
        return PATTERN
    if base == "in":
        return st.lists(SCALAR, max_size=4)
    if base == "containsKey":
        return st.text(alphabet="abAB", max_size=2)
    return VALUE


def resource_with(value: Any, present: bool = True) -> dict[str, Any]:
    props: dict[str, Any] = {"other": 1}
    if present:
        props["v"] = value
    return {
        "id": "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Web/sites/app",
        "type": "Microsoft.Web/sites",
        "name": "app",
        "location": "westeurope",
        "tags": {"env": "prod"},
        "properties": props,
    }


def rule(condition: Any, effect: str = "audit") -> dict[str, Any]:
    return {"if": condition, "then": {"effect": effect}}


def outcome(policy: Any, resource: Any) -> tuple[Any, ...]:
    """(matched, effect), or the kind of error and its message (pointers differ by shape)."""
    try:
        d = azsecmap.evaluate_policy(policy, resource)
    except EvaluationError as exc:
        return ("evaluation-error", exc.message)
    except PolicyError as exc:
        return ("policy-error", exc.message)
    return (d.matched, d.effect)


@st.composite
def negation_case(draw: st.DrawFn) -> tuple[str, str, Any, Any, bool, str]:
    op, neg = draw(st.sampled_from(NEGATION_PAIRS))
    subject = draw(st.sampled_from(["field", "value"]))
    return op, neg, draw(operand_for(op)), draw(VALUE), draw(st.booleans()), subject


@SETTINGS
@given(negation_case())
def test_not_operator_is_the_negation(case: tuple[str, str, Any, Any, bool, str]) -> None:
    op, neg, operand, value, present, subject = case
    if subject == "field":
        res = resource_with(value, present)
        base: dict[str, Any] = {"field": "properties.v"}
    else:
        res = resource_with(None)
        base = {"value": value}
    pos = outcome(rule({**base, op: operand}), res)
    negd = outcome(rule({**base, neg: operand}), res)
    if isinstance(pos[0], str):
        # an error for one is an error for the other, of the same kind
        assert isinstance(negd[0], str) and negd[0] == pos[0], (pos, negd)
        return
    assert not isinstance(negd[0], str), (pos, negd)
    assert negd[0] is (not pos[0]), (op, operand, value, present, pos, negd)


@SETTINGS
@given(negation_case())
def test_not_wrapper_is_the_negation(case: tuple[str, str, Any, Any, bool, str]) -> None:
    op, _, operand, value, present, _ = case
    cond = {"field": "properties.v", op: operand}
    res = resource_with(value, present)
    pos = outcome(rule(cond), res)
    negd = outcome(rule({"not": cond}), res)
    if isinstance(pos[0], str):
        assert negd == pos
        return
    assert negd[0] is (not pos[0])


FIELDS = ["properties.v", "properties.other", "name", "location", "tags.env", "tags['env']", "type"]
OPS = [op for pair in NEGATION_PAIRS for op in pair] + [
    "exists",
    "less",
    "lessOrEquals",
    "greater",
    "greaterOrEquals",
]


@st.composite
def leaf(draw: st.DrawFn) -> dict[str, Any]:
    op = draw(st.sampled_from(OPS))
    if op == "exists":
        operand: Any = draw(st.booleans())
    elif op.startswith(("less", "greater")):
        operand = draw(st.one_of(st.integers(-10, 10), TEXT))
    else:
        operand = draw(operand_for(op))
    if draw(st.booleans()):
        return {"field": draw(st.sampled_from(FIELDS)), op: operand}
    return {"value": draw(st.one_of(VALUE, st.just("[field('name')]"))), op: operand}


CONDITION = st.recursive(
    leaf(),
    lambda c: st.one_of(
        c.map(lambda x: {"not": x}),
        st.lists(c, min_size=1, max_size=3).map(lambda xs: {"allOf": xs}),
        st.lists(c, min_size=1, max_size=3).map(lambda xs: {"anyOf": xs}),
    ),
    max_leaves=5,
)


@SETTINGS
@given(CONDITION, VALUE)
def test_double_not_is_identity(cond: dict[str, Any], value: Any) -> None:
    res = resource_with(value)
    assert outcome(rule({"not": {"not": cond}}), res) == outcome(rule(cond), res)


@SETTINGS
@given(CONDITION, VALUE)
def test_single_member_allof_anyof_is_identity(cond: dict[str, Any], value: Any) -> None:
    res = resource_with(value)
    expected = outcome(rule(cond), res)
    assert outcome(rule({"allOf": [cond]}), res) == expected
    assert outcome(rule({"anyOf": [cond]}), res) == expected


@SETTINGS
@given(CONDITION, VALUE, st.sampled_from(["audit", "Deny", "AuditIfNotExists", "Modify"]))
def test_three_definition_shapes_agree(cond: dict[str, Any], value: Any, effect: str) -> None:
    res = resource_with(value)
    bare = rule(cond, effect)
    props = {"mode": "All", "displayName": "shape", "policyRule": bare}
    whole = {"name": "shape", "properties": props}
    expected = outcome(bare, res)
    assert outcome(props, res) == expected
    assert outcome(whole, res) == expected
    assert outcome(json.dumps(whole), res) == expected
    if not isinstance(expected[0], str) and expected[0]:
        assert expected[1] == effect.lower()


@SETTINGS
@given(CONDITION, VALUE)
def test_evaluation_is_deterministic(cond: dict[str, Any], value: Any) -> None:
    res = resource_with(value)
    policy = rule(cond)
    try:
        compiled = azsecmap.Policy.from_json(policy)
    except PolicyError as exc:
        # compile errors are deterministic too
        try:
            azsecmap.Policy.from_json(policy)
        except PolicyError as again:
            assert (again.message, again.pointer) == (exc.message, exc.pointer)
        else:
            raise AssertionError("compiled the second time") from None
        return
    results = []
    for _ in range(3):
        try:
            results.append(compiled.evaluate(res))
        except EvaluationError as exc:
            results.append(("error", exc.message, exc.pointer))
    results.append(outcome(policy, res) if isinstance(results[0], tuple) else None)
    assert results[0] == results[1] == results[2]
    if isinstance(results[0], tuple):
        assert results[3] == ("evaluation-error", results[0][1])


ASCII_WORD = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", max_size=12
)


@st.composite
def case_variant(draw: st.DrawFn) -> tuple[str, str]:
    s = draw(ASCII_WORD)
    flips = draw(st.lists(st.booleans(), min_size=len(s), max_size=len(s)))
    return s, "".join(c.swapcase() if flips[i] else c for i, c in enumerate(s))


@SETTINGS
@given(case_variant())
def test_equals_is_ascii_case_insensitive(pair: tuple[str, str]) -> None:
    actual, expected = pair
    res = resource_with(actual)
    assert azsecmap.evaluate_policy(
        rule({"field": "properties.v", "equals": expected}), res
    ).matched
    assert not azsecmap.evaluate_policy(
        rule({"field": "properties.v", "notEquals": expected}), res
    ).matched
    assert azsecmap.evaluate_policy(rule({"field": "properties.v", "in": [expected]}), res).matched
    assert azsecmap.evaluate_policy(rule({"value": actual, "equals": expected}), res).matched
    # and a different string is never equal, whatever its case
    other = expected + "x"
    assert not azsecmap.evaluate_policy(
        rule({"field": "properties.v", "equals": other}), res
    ).matched
