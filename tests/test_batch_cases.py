"""The multi-resource case corpus (tests/cases/batch/*.json) through `azsecmap.evaluate`.

`cargo test -p azsecmap-core --test batch_cases` runs the same files through the Rust engine.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import azsecmap

from .conftest import CASES, data_dir

BATCH = CASES / "batch"


def load_cases() -> list[Any]:
    out = []
    for file in sorted(BATCH.glob("*.json")):
        for case in json.loads(file.read_text())["cases"]:
            out.append(pytest.param(case, id=f"{file.name}::{case['name']}"))
    return out


def _policy(case: dict[str, Any]) -> Any:
    if "policy" in case:
        return case["policy"]
    d = data_dir()
    if d is None:
        pytest.skip("policy_file needs ../shared/data, which is absent")
    return json.loads((d / case["policy_file"]).read_text())


@pytest.mark.parametrize("case", load_cases())
def test_batch_case(case: dict[str, Any]) -> None:
    pack = azsecmap.PolicyPack([azsecmap.Policy.from_json(_policy(case), name="case")])
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
