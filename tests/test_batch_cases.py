"""The multi-resource case corpora through `azsecmap.evaluate`: tests/cases/batch/*.json, and
tests/cases/rules/*.json, whose cases name a rule of the default pack (`"rule": "<policy id>"`).

`cargo test -p azsecmap-core --test batch_cases` runs the same files through the Rust engine.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest

import azsecmap

from .conftest import CASES, data_dir

BATCH = CASES / "batch"
RULES = CASES / "rules"


def load_cases() -> list[Any]:
    out = []
    for folder in (BATCH, RULES):
        for file in sorted(folder.glob("*.json")):
            for case in json.loads(file.read_text())["cases"]:
                out.append(pytest.param(case, id=f"{folder.name}/{file.name}::{case['name']}"))
    return out


@functools.cache
def _builtin_pack() -> azsecmap.PolicyPack:
    return azsecmap.PolicyPack.builtin()


def _policy(case: dict[str, Any]) -> azsecmap.Policy:
    if "rule" in case:
        return _builtin_pack()[case["rule"]]
    if "policy" in case:
        return azsecmap.Policy.from_json(case["policy"], name="case")
    d = data_dir()
    if d is None:
        pytest.skip("policy_file needs ../shared/data, which is absent")
    return azsecmap.Policy.from_json(json.loads((d / case["policy_file"]).read_text()), name="case")


@pytest.mark.parametrize("case", load_cases())
def test_batch_case(case: dict[str, Any]) -> None:
    pack = azsecmap.PolicyPack([_policy(case)])
    res = azsecmap.Resources.from_records(case["resources"])
    ev = azsecmap.evaluate(pack, res, case.get("parameters"), include_not_applicable=True)
    assert ev.load_errors == [] and ev.policy_errors == []
    got = dict(
        zip(
            ev.results["resource_id"].cast(str).to_list(),
            ev.results["state"].cast(str).to_list(),
            strict=True,
        )
    )
    assert got == case["expected"]


def test_batch_corpus_size() -> None:
    n = sum(len(json.loads(f.read_text())["cases"]) for f in BATCH.glob("*.json"))
    assert n >= 60, n
