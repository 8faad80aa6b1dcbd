"""Bad input: a clear, located `AzsecmapError`, never a crash, a hang or a Rust panic.

Every error names the document at fault (`exc.file` when it came from a file) and, where a
place inside it is to blame, a JSON Pointer (`exc.pointer`); its message is one line.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import azsecmap
from azsecmap import (
    AzsecmapError,
    EvaluationError,
    PolicyError,
    ResourceError,
)

STORAGE = {
    "id": "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa",
    "type": "Microsoft.Storage/storageAccounts",
    "name": "sa",
    "location": "westeurope",
    "properties": {"supportsHttpsTrafficOnly": False, "flag": True, "text": "abc"},
}


def rule(condition: Any, effect: str = "audit") -> dict[str, Any]:
    return {"if": condition, "then": {"effect": effect}}


def whole(condition: Any, **props: Any) -> dict[str, Any]:
    """A definition in the shape Azure exports it."""
    return {
        "name": "bad-input",
        "properties": {"mode": "All", "policyRule": rule(condition), **props},
    }


def assert_one_line(exc: AzsecmapError) -> None:
    assert exc.message, exc
    assert "\n" not in str(exc), str(exc)
    assert exc.message[0].islower() or exc.message[0] in "`'\"", exc.message


def write(tmp_path: Path, name: str, data: Any) -> Path:
    p = tmp_path / name
    if isinstance(data, bytes):
        p.write_bytes(data)
    elif isinstance(data, str):
        p.write_text(data, encoding="utf-8")
    else:
        p.write_text(json.dumps(data), encoding="utf-8")
    return p


def not_chain_text(depth: int) -> str:
    """`{"if": {"not": {"not": ... {"field": "name", "equals": "sa"}}}}` as JSON text."""
    inner = '{"field": "name", "equals": "sa"}'
    return '{"if": ' + '{"not": ' * depth + inner + "}" * depth + ', "then": {"effect": "audit"}}'


def not_chain_dict(depth: int) -> dict[str, Any]:
    c: dict[str, Any] = {"field": "name", "equals": "sa"}
    for _ in range(depth):
        c = {"not": c}
    return rule(c)


# --- malformed documents -------------------------------------------------------------------


def test_malformed_policy_file_names_the_file(tmp_path: Path) -> None:
    p = write(tmp_path, "broken.json", '{"if": {"field": "name", "equals": ')
    with pytest.raises(PolicyError) as info:
        azsecmap.evaluate_policy(p, STORAGE)
    assert info.value.file == str(p)
    assert info.value.pointer == ""
    assert "json" in info.value.message.lower()
    assert_one_line(info.value)
    # the same through a str path and through Policy.from_json
    with pytest.raises(PolicyError) as info:
        azsecmap.Policy.from_json(str(p))
    assert info.value.file == str(p)


def test_malformed_resource_file_names_the_file(tmp_path: Path) -> None:
    r = write(tmp_path, "resource.json", '{"name": "sa", ')
    with pytest.raises(ResourceError) as info:
        azsecmap.evaluate_policy(rule({"field": "name", "equals": "sa"}), r)
    assert info.value.file == str(r)
    assert "json" in info.value.message.lower()
    assert_one_line(info.value)


def test_malformed_json_text_is_a_policy_error_without_file() -> None:
    with pytest.raises(PolicyError) as info:
        azsecmap.evaluate_policy('{"if": ', STORAGE)
    assert info.value.file is None
    assert_one_line(info.value)


def test_trailing_garbage_after_resource_json() -> None:
    with pytest.raises(ResourceError):
        azsecmap.evaluate_policy(rule({"field": "name", "equals": "sa"}), '{"name": "sa"} x')


def test_missing_file_names_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(PolicyError) as info:
        azsecmap.evaluate_policy(missing, STORAGE)
    assert info.value.file == str(missing)
    with pytest.raises(ResourceError) as rinfo:
        azsecmap.evaluate_policy(rule({"field": "name", "equals": "sa"}), missing)
    assert rinfo.value.file == str(missing)


# --- structural errors in the rule, with pointers ------------------------------------------


@pytest.mark.parametrize(
    ("condition", "pointer", "needle"),
    [
        pytest.param({"field": "name", "bogus": 1}, "/if/bogus", "bogus", id="unknown-operator"),
        pytest.param(
            {"field": "name", "equals": "a", "notEquals": "b"},
            "/if",
            "notEquals",
            id="two-operators",
        ),
        pytest.param(
            {"field": "name", "value": "x", "equals": "a"}, "/if", "value", id="field-and-value"
        ),
        pytest.param(
            {
                "count": {"field": "Microsoft.Storage/storageAccounts/networkAcls.ipRules"},
                "greater": 0,
            },
            "/if/count/field",
            "[*]",
            id="count-field-without-star",
        ),
        pytest.param({"allOf": {"field": "name", "equals": "a"}}, "/if/allOf", "allOf", id="allOf"),
        pytest.param({"anyOf": "x"}, "/if/anyOf", "anyOf", id="anyOf-string"),
        pytest.param({"field": "name", "in": "abc"}, "/if/in", "in", id="in-with-string"),
        pytest.param({"field": "name", "notIn": 5}, "/if/notIn", "notIn", id="notIn-with-number"),
        pytest.param({"field": "name", "exists": "maybe"}, "/if/exists", "maybe", id="exists"),
        pytest.param({"field": 5, "equals": "a"}, "/if/field", "field", id="field-number"),
        pytest.param({"not": [1]}, "/if/not", "object", id="not-array"),
        pytest.param(
            {"allOf": [{"field": "name", "equals": "sa"}, {"field": "name"}]},
            "/if/allOf/1",
            "operator",
            id="no-operator-nested",
        ),
        pytest.param(
            {"value": "[bogusFunction('a')]", "equals": "a"},
            "/if/value",
            "bogusfunction",
            id="unknown-function",
        ),
        pytest.param(
            {"value": "[concat('a']", "equals": "a"}, "/if/value", ")", id="unclosed-call"
        ),
        pytest.param(
            {"value": "[concat('a',)]", "equals": "a"}, "/if/value", "", id="dangling-comma"
        ),
        pytest.param({"value": "['abc]", "equals": "a"}, "/if/value", "string", id="unclosed-str"),
        pytest.param({"value": "[]", "equals": "a"}, "/if/value", "empty", id="empty-expression"),
        pytest.param(
            {"value": "[concat('a') extra]", "equals": "a"},
            "/if/value",
            "extra",
            id="text-after-expression",
        ),
    ],
)
def test_structural_error_has_pointer(condition: Any, pointer: str, needle: str) -> None:
    with pytest.raises(PolicyError) as info:
        azsecmap.evaluate_policy(rule(condition), STORAGE)
    exc = info.value
    assert not isinstance(exc, EvaluationError), exc
    assert exc.pointer == pointer, exc
    assert needle.lower() in exc.message.lower(), exc
    assert_one_line(exc)


def test_pointer_is_rooted_in_the_shape_given(tmp_path: Path) -> None:
    cond = {"allOf": [{"field": "name", "equals": "sa"}, {"field": "name", "bogus": 1}]}
    with pytest.raises(PolicyError) as info:
        azsecmap.evaluate_policy(whole(cond), STORAGE)
    assert info.value.pointer == "/properties/policyRule/if/allOf/1/bogus"
    with pytest.raises(PolicyError) as info:
        azsecmap.evaluate_policy(whole(cond)["properties"], STORAGE)
    assert info.value.pointer == "/policyRule/if/allOf/1/bogus"
    p = write(tmp_path, "def.json", whole(cond))
    with pytest.raises(PolicyError) as info:
        azsecmap.evaluate_policy(p, STORAGE)
    assert info.value.file == str(p)
    assert info.value.pointer == "/properties/policyRule/if/allOf/1/bogus"


def test_unknown_function_message_names_it() -> None:
    with pytest.raises(PolicyError) as info:
        azsecmap.evaluate_policy(rule({"value": "[frobnicate(1)]", "equals": 1}), STORAGE)
    assert "frobnicate" in info.value.message.lower()


def test_bracket_without_closing_bracket_is_a_literal() -> None:
    # ARM: only a string that starts with `[` AND ends with `]` is an expression, so
    # "[concat('a'" is the literal text, not a malformed expression.
    text = "[concat('a'"
    d = azsecmap.evaluate_policy(rule({"field": "name", "equals": text}), {**STORAGE, "name": text})
    assert d.matched
    d = azsecmap.evaluate_policy(rule({"value": text, "equals": text}), STORAGE)
    assert d.matched


def test_policy_without_then_or_rule() -> None:
    with pytest.raises(PolicyError) as info:
        azsecmap.evaluate_policy({"if": {"field": "name", "equals": "sa"}}, STORAGE)
    assert "then" in info.value.message
    with pytest.raises(PolicyError):
        azsecmap.evaluate_policy({"properties": {"mode": "All"}}, STORAGE)
    with pytest.raises(PolicyError):
        azsecmap.evaluate_policy([rule({"field": "name", "equals": "sa"})], STORAGE)


def test_undeclared_parameter_in_rule_points_at_its_use() -> None:
    with pytest.raises(PolicyError) as info:
        azsecmap.evaluate_policy(rule({"value": "[parameters('nope')]", "equals": "a"}), STORAGE)
    assert "nope" in info.value.message
    # the JSON path at fault is the expression that uses the parameter
    assert (info.value.pointer or "").startswith("/if"), info.value.pointer


# --- nesting depth -------------------------------------------------------------------------
#
# serde_json refuses documents nested beyond 128 levels (its default recursion limit); a
# `not` chain of depth n nests n + 2 objects, so up to 125 `not`s load. Microsoft's built-ins
# nest at most 23 levels (AzUpdateMgmtCenter_ScheduledPatching_DINE.json), so the limit leaves
# ample room; deeper documents must be refused with a clear error, not a stack overflow.


@pytest.mark.parametrize("depth", [1, 2, 63, 100, 125])
def test_nesting_within_the_limit_evaluates_correctly(depth: int) -> None:
    d = azsecmap.evaluate_policy(not_chain_text(depth), STORAGE)
    assert d.matched is (depth % 2 == 0)
    d = azsecmap.evaluate_policy(not_chain_dict(depth), STORAGE)
    assert d.matched is (depth % 2 == 0)


def _assert_too_deep(exc: AzsecmapError) -> None:
    assert exc.pointer == "", exc
    assert any(w in exc.message.lower() for w in ("deep", "recursion", "nest")), exc
    assert_one_line(exc)


@pytest.mark.parametrize("depth", [126, 1_000, 10_000])
def test_too_deep_policy_text_is_refused(depth: int) -> None:
    with pytest.raises(PolicyError) as info:
        azsecmap.evaluate_policy(not_chain_text(depth), STORAGE)
    _assert_too_deep(info.value)


def test_too_deep_policy_file_is_refused(tmp_path: Path) -> None:
    p = write(tmp_path, "deep.json", not_chain_text(10_000))
    with pytest.raises(PolicyError) as info:
        azsecmap.evaluate_policy(p, STORAGE)
    assert info.value.file == str(p)
    _assert_too_deep(info.value)
    pack = azsecmap.PolicyPack.from_files([p], skip_invalid=True)
    assert len(pack) == 0
    assert len(pack.errors) == 1
    assert pack.errors[0].file == str(p)


@pytest.mark.parametrize("depth", [200, 1_000, 10_000])
def test_too_deep_policy_dict_is_refused(depth: int) -> None:
    # json.dumps raises RecursionError on the deepest dicts; the API must not let it out
    with pytest.raises(PolicyError) as info:
        azsecmap.evaluate_policy(not_chain_dict(depth), STORAGE)
    _assert_too_deep(info.value)


@pytest.mark.parametrize("depth", [1_000, 10_000])
def test_too_deep_resource_is_refused(depth: int) -> None:
    text = '{"type": "x", "name": "sa", "properties": ' + '{"a": ' * depth + "1" + "}" * depth + "}"
    with pytest.raises(ResourceError) as info:
        azsecmap.evaluate_policy(rule({"field": "name", "equals": "sa"}), text)
    _assert_too_deep(info.value)


def test_deep_resource_within_the_limit_is_read() -> None:
    depth = 100
    doc: Any = 1
    for _ in range(depth):
        doc = {"a": doc}
    d = azsecmap.evaluate_policy(
        rule({"field": "properties" + ".a" * depth, "equals": 1}),
        {"type": "x", "name": "sa", "properties": doc},
    )
    assert d.matched


@pytest.mark.parametrize(
    "expression",
    [
        "[" + "concat(" * 10_000 + "'a'" + ")" * 10_000 + "]",
        "[" + "(" * 10_000 + "'a'" + ")" * 10_000 + "]",
        "[field('name')" + ".x" * 100_000 + "]",
        "[createArray(1)" + "[0]" * 100_000 + "]",
    ],
    ids=["nested-calls", "nested-parens", "property-chain", "index-chain"],
)
def test_deep_expression_is_refused(expression: str) -> None:
    with pytest.raises(PolicyError) as info:
        azsecmap.evaluate_policy(rule({"value": expression, "equals": "a"}), STORAGE)
    assert info.value.pointer == "/if/value"
    assert_one_line(info.value)
    assert len(str(info.value)) < 500


# --- huge strings --------------------------------------------------------------------------

HUNDRED_MB = 100 * 1024 * 1024


def test_100mb_string_in_policy_is_a_clear_error_or_a_correct_decision() -> None:
    big = "x" * HUNDRED_MB
    try:
        d = azsecmap.evaluate_policy(rule({"field": "name", "equals": big}), STORAGE)
    except PolicyError as exc:
        assert exc.pointer == "/if/equals", exc
        assert_one_line(exc)
        assert len(str(exc)) < 500  # the offending value is not echoed in full
    else:
        assert d.matched is False


def test_100mb_string_in_resource_subprocess() -> None:
    """Runs in a child so a crash or a runaway cannot take the test session with it."""
    script = textwrap.dedent(
        """
        import json, sys
        import azsecmap
        big = "x" * (100 * 1024 * 1024)
        res = {"type": "Microsoft.Storage/storageAccounts", "name": "sa",
               "location": "westeurope", "properties": {"blob": big}}
        text = json.dumps(res)
        out = {}
        d = azsecmap.evaluate_policy(
            {"if": {"field": "name", "equals": "sa"}, "then": {"effect": "audit"}}, text)
        out["other_field"] = [d.matched, d.effect]
        d = azsecmap.evaluate_policy(
            {"if": {"field": "properties.blob", "notEquals": "x"},
             "then": {"effect": "deny"}}, text)
        out["big_field"] = [d.matched, d.effect]
        out["longest_reason"] = max(len(r) for r in d.reasons)
        print(json.dumps(out))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["other_field"] == [True, "audit"]
    assert out["big_field"] == [True, "deny"]
    assert out["longest_reason"] < 2000  # reasons abbreviate the value


# --- encodings -----------------------------------------------------------------------------


def test_invalid_utf8_policy_file(tmp_path: Path) -> None:
    p = write(tmp_path, "latin1.json", b'{"if": {"field": "name", "equals": "caf\xe9"}}')
    with pytest.raises(PolicyError) as info:
        azsecmap.evaluate_policy(p, STORAGE)
    assert info.value.file == str(p)
    assert "utf-8" in info.value.message.lower()
    assert_one_line(info.value)


def test_invalid_utf8_resource_file(tmp_path: Path) -> None:
    r = write(tmp_path, "res.json", b'{"name": "\xff\xfe", "type": "x"}')
    with pytest.raises(ResourceError) as info:
        azsecmap.evaluate_policy(rule({"field": "name", "equals": "sa"}), r)
    assert info.value.file == str(r)
    assert "utf-8" in info.value.message.lower()


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    r = write(tmp_path, "bom.json", b"\xef\xbb\xbf" + json.dumps(STORAGE).encode())
    assert azsecmap.evaluate_policy(rule({"field": "name", "equals": "sa"}), r).matched


def test_lone_surrogates_are_clear_errors() -> None:
    cond = rule({"field": "name", "equals": "sa"})
    # a Python str holding a surrogate cannot become UTF-8: the codec error must not leak
    with pytest.raises(ResourceError):
        azsecmap.evaluate_policy(cond, '{"name": "\ud800"}')
    with pytest.raises(PolicyError):
        azsecmap.evaluate_policy('{"if": {"field": "name", "equals": "\ud800"}}', STORAGE)
    # inside a dict, json.dumps escapes it as \\ud800, which is not valid Unicode either
    with pytest.raises(ResourceError):
        azsecmap.evaluate_policy(cond, {**STORAGE, "name": "\ud800"})


def test_non_json_values_in_a_dict() -> None:
    cond = rule({"field": "name", "equals": "sa"})
    with pytest.raises(ResourceError):
        azsecmap.evaluate_policy(cond, {**STORAGE, "x": float("nan")})
    with pytest.raises(ResourceError):
        azsecmap.evaluate_policy(cond, {**STORAGE, "x": object()})
    with pytest.raises(PolicyError):
        azsecmap.evaluate_policy(cond, STORAGE, {"x": {1, 2}})


# --- resource shapes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "resource",
    [[STORAGE], "[1, 2]", ["sa"], 5, b"{}", ""],
    ids=["list", "array-text", "list-of-str", "int", "bytes", "empty-str"],
)
def test_resource_that_is_not_an_object(resource: Any) -> None:
    with pytest.raises(ResourceError) as info:
        azsecmap.evaluate_policy(rule({"field": "name", "equals": "sa"}), resource)
    assert_one_line(info.value)


@pytest.mark.parametrize("content", ['"sa"', "[]", "[{}]", "42", "null"])
def test_resource_file_that_is_not_an_object(tmp_path: Path, content: str) -> None:
    r = write(tmp_path, "r.json", content)
    with pytest.raises(ResourceError) as info:
        azsecmap.evaluate_policy(rule({"field": "name", "equals": "sa"}), r)
    assert info.value.file == str(r)
    assert "object" in info.value.message


# --- [*] over something that is not an array ------------------------------------------------
#
# Documented choice: `[*]` over a non-array (or absent) value is an empty collection. A field
# condition over it is then vacuously true (it holds for every one of zero members) and a
# count over it is 0.

NOT_ARRAY = {
    **STORAGE,
    "properties": {"supportsHttpsTrafficOnly": True, "networkAcls": {"ipRules": "oops"}},
}


@pytest.mark.parametrize(
    "field",
    [
        "Microsoft.Storage/storageAccounts/networkAcls.ipRules[*].value",
        "Microsoft.Storage/storageAccounts/supportsHttpsTrafficOnly[*]",
        "properties.networkAcls.ipRules[*]",
        "properties.networkAcls[*].x",
    ],
)
def test_star_over_non_array_is_an_empty_collection(field: str) -> None:
    for op, val in [("equals", "x"), ("notEquals", "x"), ("like", "nothing*")]:
        d = azsecmap.evaluate_policy(rule({"field": field, op: val}), NOT_ARRAY)
        assert d.matched, (field, op, d.reasons)
    count_field = field.split("[*]")[0] + "[*]"
    d = azsecmap.evaluate_policy(rule({"count": {"field": count_field}, "equals": 0}), NOT_ARRAY)
    assert d.matched, d.reasons
    d = azsecmap.evaluate_policy(
        rule(
            {
                "count": {"field": count_field, "where": {"field": field, "equals": "x"}},
                "greater": 0,
            }
        ),
        NOT_ARRAY,
    )
    assert not d.matched, d.reasons


# --- evaluation errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "pointer"),
    [
        pytest.param(
            {"value": "[substring('abc', 1, 10)]", "equals": "a"}, "/if", id="substring-range"
        ),
        pytest.param({"value": True, "less": 5}, "/if", id="less-bool-number"),
        pytest.param(
            {"field": "Microsoft.Storage/storageAccounts/supportsHttpsTrafficOnly", "less": 5},
            "/if",
            id="less-field-bool",
        ),
        pytest.param(
            {
                "allOf": [
                    {"field": "name", "equals": "sa"},
                    {"value": "[substring('abc', 1, 10)]", "equals": "a"},
                ]
            },
            "/if/allOf/1",
            id="nested",
        ),
        pytest.param({"value": "[div(1, 0)]", "equals": 1}, "/if", id="div-zero"),
        pytest.param({"value": "[add(9223372036854775807, 1)]", "equals": 1}, "/if", id="overflow"),
        pytest.param({"value": "[createArray(1)[5]]", "equals": 1}, "/if", id="index-range"),
        pytest.param({"value": "[padLeft('a', 2000000000)]", "equals": 1}, "/if", id="padLeft"),
    ],
)
def test_evaluation_error_has_condition_pointer(condition: Any, pointer: str) -> None:
    with pytest.raises(EvaluationError) as info:
        azsecmap.evaluate_policy(rule(condition), STORAGE)
    assert isinstance(info.value, PolicyError)
    assert info.value.pointer == pointer, info.value
    assert_one_line(info.value)


def test_evaluation_error_names_the_policy_file(tmp_path: Path) -> None:
    p = write(tmp_path, "p.json", whole({"value": True, "less": 5}))
    with pytest.raises(EvaluationError) as info:
        azsecmap.evaluate_policy(p, STORAGE)
    assert info.value.file == str(p)
    assert info.value.pointer == "/properties/policyRule/if"


# --- parameters ----------------------------------------------------------------------------

PARAMETERISED = {
    "properties": {
        "mode": "All",
        "parameters": {
            "effect": {
                "type": "String",
                "allowedValues": ["Audit", "Deny", "Disabled"],
                "defaultValue": "Audit",
            },
            "count": {"type": "Integer", "defaultValue": 3},
            "locations": {"type": "Array"},
        },
        "policyRule": {
            "if": {"field": "location", "notIn": "[parameters('locations')]"},
            "then": {"effect": "[parameters('effect')]"},
        },
    }
}


@pytest.mark.parametrize(
    ("params", "name"),
    [
        pytest.param({"locations": "westeurope"}, "locations", id="array-given-string"),
        pytest.param({"locations": ["x"], "count": "3"}, "count", id="integer-given-string"),
        pytest.param({"locations": ["x"], "count": True}, "count", id="integer-given-bool"),
        pytest.param({"locations": ["x"], "count": 3.5}, "count", id="integer-given-float"),
        pytest.param({"locations": ["x"], "effect": 5}, "effect", id="string-given-number"),
        pytest.param({"locations": ["x"], "effect": "audit"}, "effect", id="allowed-case"),
        pytest.param({"locations": ["x"], "effect": "Modify"}, "effect", id="not-allowed"),
        pytest.param({"locations": ["x"], "nope": 1}, "nope", id="undeclared"),
        pytest.param({}, "locations", id="missing-required"),
        pytest.param(None, "locations", id="none-given"),
    ],
)
def test_bad_parameter_names_it(params: Any, name: str, tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as info:
        azsecmap.evaluate_policy(PARAMETERISED, STORAGE, params)
    exc = info.value
    assert not isinstance(exc, EvaluationError)
    assert exc.pointer == f"/parameters/{name}", exc
    assert name in exc.message
    assert_one_line(exc)
    p = write(tmp_path, "params.json", PARAMETERISED)
    with pytest.raises(PolicyError) as info:
        azsecmap.evaluate_policy(p, STORAGE, params)
    assert info.value.file == str(p)


def test_good_parameters_are_accepted() -> None:
    d = azsecmap.evaluate_policy(PARAMETERISED, STORAGE, {"locations": ["eastus"]})
    assert (d.matched, d.effect) == (True, "audit")
    d = azsecmap.evaluate_policy(
        PARAMETERISED, STORAGE, {"locations": ["eastus"], "effect": "Deny", "count": 4}
    )
    assert (d.matched, d.effect) == (True, "deny")


# --- a subprocess: pathological input never kills the interpreter ---------------------------


def test_pathological_inputs_do_not_kill_the_interpreter() -> None:
    script = textwrap.dedent(
        """
        import sys
        import azsecmap
        depth = 10_000
        deep = ('{"if": ' + '{"not": ' * depth + '{"field": "name", "equals": "a"}'
                + '}' * depth + ', "then": {"effect": "audit"}}')
        cases = [
            (deep, {"name": "a"}),
            ({"if": {"value": "[" + "concat(" * 50000 + "'a'" + ")" * 50000 + "]",
                     "equals": "a"}, "then": {"effect": "audit"}}, {"name": "a"}),
            ({"if": {"field": "name", "match": "#" * 100000}, "then": {"effect": "audit"}},
             {"name": "a"}),
            ({"if": {"field": "name", "like": "*a" * 10000}, "then": {"effect": "audit"}},
             {"name": "a" * 10000 + "b"}),
            ({"if": {"field": "name", "equals": "a"}, "then": {"effect": "audit"}},
             '{"name": ' + '[' * 100000 + ']' * 100000 + '}'),
        ]
        errors = 0
        for policy, resource in cases:
            try:
                azsecmap.evaluate_policy(policy, resource)
            except azsecmap.AzsecmapError:
                errors += 1
        sys.exit(1 if errors else 0)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode in (0, 1), (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
