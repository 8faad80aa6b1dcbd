"""The shared case corpus (tests/cases/**/*.json) through the public Python API.

`cargo test -p azsecmap-core --test cases` runs the same files through the Rust engine.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

import azsecmap
from azsecmap.errors import EvaluationError, PolicyError

from .conftest import CASES, data_dir

# Multi-resource corpora with their own runner (tests/test_batch_cases.py).
MULTI_RESOURCE = {"batch", "rules"}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def load_cases() -> list[Any]:
    params = []
    for file in sorted(CASES.rglob("*.json")):
        if MULTI_RESOURCE & set(file.relative_to(CASES).parts):
            continue
        for case in json.loads(file.read_text())["cases"]:
            rel = file.relative_to(CASES)
            params.append(pytest.param(case, id=f"{rel}::{case['name']}"))
    return params


def _load(case: dict[str, Any], inline: str, file_key: str) -> Any:
    if inline in case:
        return case[inline]
    d = data_dir()
    if d is None:
        pytest.skip(f"{file_key} needs ../shared/data, which is absent")
    return json.loads((d / case[file_key]).read_text())


@pytest.mark.parametrize("case", load_cases())
def test_case(case: dict[str, Any]) -> None:
    policy = _load(case, "policy", "policy_file")
    resource = _load(case, "resource", "resource_file")
    if "resource_patch" in case:
        resource = merge_patch(resource, case["resource_patch"])
    expected = case["expected"]
    kwargs = {"now": case["now"]} if "now" in case else {}
    if expected.get("error") == "policy":
        with pytest.raises(PolicyError) as info:
            azsecmap.evaluate_policy(policy, resource, case.get("parameters"), **kwargs)
        assert not isinstance(info.value, EvaluationError), info.value
        return
    if expected.get("error") == "evaluation":
        with pytest.raises(EvaluationError):
            azsecmap.evaluate_policy(policy, resource, case.get("parameters"), **kwargs)
        return
    d = azsecmap.evaluate_policy(policy, resource, case.get("parameters"), **kwargs)
    assert (d.matched, d.effect) == (expected["matched"], expected["effect"]), d.reasons


def test_corpus_is_large_enough() -> None:
    n = sum(
        len(json.loads(f.read_text())["cases"])
        for f in CASES.rglob("*.json")
        if not MULTI_RESOURCE & set(f.relative_to(CASES).parts)
    )
    assert n >= 150, n


def test_case_names_unique_per_file() -> None:
    for f in CASES.rglob("*.json"):
        names = [c["name"] for c in json.loads(f.read_text())["cases"]]
        assert len(names) == len(set(names)), f


def test_reasons_name_path_and_values() -> None:
    rule = {
        "if": {
            "field": "Microsoft.Storage/storageAccounts/supportsHttpsTrafficOnly",
            "equals": False,
        },
        "then": {"effect": "audit"},
    }
    d = azsecmap.evaluate_policy(
        rule,
        {
            "type": "Microsoft.Storage/storageAccounts",
            "properties": {"supportsHttpsTrafficOnly": False},
        },
    )
    (reason,) = d.details
    assert reason["path"] == "properties.supportsHttpsTrafficOnly"
    assert reason["actual"] is False and reason["expected"] is False
    assert "supportsHttpsTrafficOnly" in d.reasons[0]
