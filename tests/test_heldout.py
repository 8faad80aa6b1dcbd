"""The held-out workload of issue 3's acceptance, at test size.

A tenant from a generator azsecmap was not built around (`benches/tenant/heldout.py`, plain
Python, Resource Graph conventions) and 29 built-in definitions outside pack (a), with a DuckDB
translation written from the docs. Every non-compliant (resource, policy) pair must agree, on
every loading path. The benchmark runs the same workload at N = 1,000,000
(`python -m benches.tenant.run --workload h`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from benches.tenant import heldout, packs, peer_duckdb

import azsecmap

N = 4_000


@pytest.fixture(scope="module")
def tenant(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> dict[str, Any]:
    path = heldout.write_tenant(N, tmp_path_factory.mktemp("heldout") / "t.ndjson", seed=7)
    pack = azsecmap.PolicyPack.from_files([str(p) for p in heldout.pack_h_files()])
    return {"path": path, "pack": pack}


def _non_compliant(frame: pl.DataFrame) -> set[tuple[str, str]]:
    nc = frame.filter(pl.col("state") == "non_compliant")
    return set(nc.select(pl.col("resource_id").cast(str), pl.col("policy_id").cast(str)).rows())


def test_pack_h_is_held_out_and_qualifies(shared_data: Path) -> None:
    assert not set(heldout.PACK_H) & set(packs.PACK_A)
    names = []
    for path, d in zip(
        heldout.pack_h_files(), packs.load_definitions(heldout.pack_h_files()), strict=True
    ):
        props = d["properties"]
        assert props["mode"] in ("All", "Indexed"), path
        assert packs.default_effect(d) in ("audit", "deny", "auditifnotexists"), path
        assert all("defaultValue" in v for v in (props.get("parameters") or {}).values()), path
        names.append(d["name"])
    assert sorted(names) == sorted(heldout.RULES)
    text = json.dumps(
        [d["properties"]["policyRule"] for d in packs.load_definitions(heldout.pack_h_files())]
    )
    constructs = ('"count"', "[*]", '"where"', '"value"', '"exists"', '"like"', "current(")
    for construct in (*constructs, '"existenceCondition"'):
        assert construct in text, construct


def test_generator_is_deterministic_and_mixed() -> None:
    a = list(heldout.resources(500, seed=3))
    assert a == list(heldout.resources(500, seed=3))
    assert a != list(heldout.resources(500, seed=4))
    types = [d["type"] for d in a]
    assert any(t != t.lower() for t in types) and any(t == t.lower() for t in types)
    assert len({t.lower() for t in types}) == 17 + 3  # and three child types


def test_non_compliant_pairs_agree_with_duckdb(tenant: dict[str, Any]) -> None:
    pytest.importorskip("duckdb", reason="the DuckDB peer needs the `bench` extra")
    ev = azsecmap.evaluate(tenant["pack"], azsecmap.Resources.from_ndjson(tenant["path"]))
    assert ev.load_errors == [] and ev.policy_errors == []
    states = ev.results["state"].cast(str)
    assert set(states.unique()) <= {"compliant", "non_compliant"}, states.value_counts()
    ours = _non_compliant(ev.results)
    duck = peer_duckdb.run(tenant["path"], columns=heldout.COLUMNS, rules=heldout.RULES)
    theirs = set(duck.select("resource_id", "policy_id").rows())
    by_policy = {p: sum(1 for _, q in ours if q == p) for p in heldout.RULES}
    assert ours == theirs, {
        "only azsecmap": sorted(ours - theirs)[:5],
        "only duckdb": sorted(theirs - ours)[:5],
    }
    # Each rule both passes and fails somewhere, so agreement is not vacuous.
    compliant = ev.results.filter(pl.col("state") == "compliant")["policy_id"].cast(str)
    for policy, count in by_policy.items():
        assert count > 0, policy
        assert policy in set(compliant), policy


def test_every_loading_path_gives_the_same_rows(tenant: dict[str, Any]) -> None:
    pack, path = tenant["pack"], tenant["path"]
    docs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]

    def rows(frame: pl.DataFrame) -> list[tuple[str, ...]]:
        cols = [pl.col(c).cast(str) for c in ("resource_id", "policy_id", "state")]
        return sorted(frame.select(cols).rows())

    from_file = rows(azsecmap.evaluate(pack, azsecmap.Resources.from_ndjson(path)).results)
    from_records = rows(azsecmap.evaluate(pack, azsecmap.Resources.from_records(docs)).results)
    streamed = rows(
        pl.concat(azsecmap.evaluate_batches(pack, azsecmap.Resources.from_ndjson(path)))
    )
    assert from_file == from_records == streamed
    assert len(from_file) > N // 2
