"""Batch evaluation: loading (bad lines, formats), the Polars results, and agreement with the
single-pair path on every pair of a sample tenant."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import azsecmap
from azsecmap import _core

REPO = Path(__file__).resolve().parent.parent

NSG = "Microsoft.Network/networkSecurityGroups/securityRules[*]"

RULES: list[dict[str, Any]] = [
    {  # field + parameterised effect
        "name": "t-https",
        "properties": {
            "mode": "Indexed",
            "parameters": {"effect": {"type": "String", "defaultValue": "Audit"}},
            "policyRule": {
                "if": {
                    "allOf": [
                        {"field": "type", "equals": "Microsoft.Storage/storageAccounts"},
                        {
                            "field": "Microsoft.Storage/storageAccounts/supportsHttpsTrafficOnly",
                            "notEquals": True,
                        },
                    ]
                },
                "then": {"effect": "[parameters('effect')]"},
            },
        },
    },
    {  # [*] and count over NSG rules
        "name": "t-nsg-open",
        "properties": {
            "mode": "All",
            "policyRule": {
                "if": {
                    "allOf": [
                        {"field": "type", "equals": "Microsoft.Network/networkSecurityGroups"},
                        {
                            "count": {
                                "field": NSG,
                                "where": {
                                    "allOf": [
                                        {
                                            "field": f"{NSG}.access",
                                            "equals": "Allow",
                                        },
                                        {
                                            "field": f"{NSG}.sourceAddressPrefix",
                                            "in": ["*", "Internet", "0.0.0.0/0"],
                                        },
                                    ]
                                },
                            },
                            "greater": 0,
                        },
                    ]
                },
                "then": {"effect": "audit"},
            },
        },
    },
    {  # existence: key vault diagnostic settings
        "name": "t-kv-diag",
        "properties": {
            "mode": "Indexed",
            "policyRule": {
                "if": {"field": "type", "equals": "Microsoft.KeyVault/vaults"},
                "then": {
                    "effect": "auditIfNotExists",
                    "details": {
                        "type": "Microsoft.Insights/diagnosticSettings",
                        "existenceCondition": {
                            "field": "Microsoft.Insights/diagnosticSettings/logs[*].enabled",
                            "equals": "true",
                        },
                    },
                },
            },
        },
    },
    {  # value condition with template functions, name-based
        "name": "t-web-tls",
        "properties": {
            "mode": "Indexed",
            "policyRule": {
                "if": {
                    "allOf": [
                        {"field": "type", "like": "Microsoft.Web/*"},
                        {"field": "kind", "notContains": "functionapp"},
                        {
                            "value": "[toLower(string(field('Microsoft.Web/sites/httpsOnly')))]",
                            "notEquals": "true",
                        },
                    ]
                },
                "then": {"effect": "deny"},
            },
        },
    },
]


@pytest.fixture(scope="module")
def tenant(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    path = tmp_path_factory.mktemp("tenant") / "tenant.ndjson"
    _core.write_sample(str(path), 3000, 7)
    docs = [json.loads(line) for line in path.read_text().splitlines()]
    return path, docs


def test_batch_agrees_with_single_pair_on_every_pair(
    tenant: tuple[Path, list[dict[str, Any]]],
) -> None:
    path, docs = tenant
    pack = azsecmap.PolicyPack([azsecmap.Policy.from_json(r) for r in RULES])
    ev = azsecmap.evaluate(
        pack, azsecmap.Resources.from_ndjson(path), include_not_applicable=True, reasons=False
    )
    assert ev.resource_count == len(docs) and ev.load_errors == []
    assert ev.results.height == len(docs) * len(RULES)
    states = {
        (r, p): s
        for r, p, s in ev.results.select(
            pl.col("resource_id").cast(str),
            pl.col("policy_id").cast(str),
            pl.col("state").cast(str),
        ).iter_rows()
    }
    checked = 0
    for policy in pack:
        existence = policy.default_effect == "auditifnotexists"
        for doc in docs:
            d = azsecmap.evaluate_policy(RULES[pack.ids().index(policy.id)], doc)
            state = states[(doc["id"], policy.id)]
            if existence:
                assert (state != "not_applicable") == d.matched, (doc["id"], policy.id, state)
            else:
                assert (state == "non_compliant") == d.matched, (doc["id"], policy.id, state)
                if not d.applicable:
                    assert state == "not_applicable"
            checked += 1
    assert checked == len(docs) * len(RULES)
    counts = dict(ev.results.group_by("state").len().cast({"state": str}).iter_rows())
    assert counts.get("non_compliant", 0) > 50 and counts.get("compliant", 0) > 50


def test_rule_pack_states_and_reasons_match_the_single_pair_path(
    tenant: tuple[Path, list[dict[str, Any]]],
) -> None:
    """The default rule pack on the sample: the batch shortcuts (applicability settled by the
    type index, reasons formatted from borrowed trace steps) change no state and no reason."""
    path, docs = tenant
    docs = docs[:900]
    sample = path.parent / "first-900.ndjson"
    sample.write_text("".join(json.dumps(d) + "\n" for d in docs))
    pack = azsecmap.PolicyPack.builtin()
    ev = azsecmap.evaluate(pack, azsecmap.Resources.from_ndjson(sample))
    rows = {
        (r, p): (s, why)
        for r, p, s, why in ev.results.select(
            pl.col("resource_id").cast(str),
            pl.col("policy_id").cast(str),
            pl.col("state").cast(str),
            "reason",
        ).iter_rows()
    }
    compared = explained = 0
    for policy in pack:
        if policy.default_effect in ("auditifnotexists", "deployifnotexists", "manual"):
            continue
        for doc in docs:
            d = policy.evaluate(doc)
            state, why = rows.get((doc["id"], policy.id), ("not_applicable", None))
            assert (state == "non_compliant") == d.matched, (doc["id"], policy.id, state)
            if not d.applicable:
                assert state == "not_applicable", (doc["id"], policy.id, state)
            if d.matched:
                texts = [x["text"] for x in d.details if x["subject"].lower() != "type"]
                texts = texts or [x["text"] for x in d.details]
                assert why == "; ".join(texts[:3]), (doc["id"], policy.id)
                explained += 1
            compared += 1
    assert compared > 50_000 and explained > 200, (compared, explained)


def test_results_schema_and_categoricals(tenant: tuple[Path, list[dict[str, Any]]]) -> None:
    path, _ = tenant
    pack = azsecmap.PolicyPack([azsecmap.Policy.from_json(r) for r in RULES])
    ev = azsecmap.evaluate(pack, azsecmap.Resources.from_ndjson(path))
    df = ev.results
    assert df.columns == ["resource_id", "resource_type", "policy_id", "state", "effect", "reason"]
    for c in ["resource_id", "resource_type", "policy_id", "state", "effect"]:
        assert df.schema[c] == pl.Categorical, c
    assert set(df["state"].cast(str).unique()) <= set(azsecmap.evaluation.STATES)
    assert "not_applicable" not in set(df["state"].cast(str))
    failing = df.filter(pl.col("state") == "non_compliant")
    assert failing["reason"].null_count() < failing.height  # reasons explain failures
    only = azsecmap.evaluate(pack, azsecmap.Resources.from_ndjson(path), only_failing=True)
    assert set(only.results["state"].cast(str)) <= {"non_compliant", "unknown", "error"}
    assert only.results.height == df.filter(pl.col("state") != "compliant").height
    summary = ev.summary()
    assert set(summary["policy_id"].cast(str)) == {r["name"] for r in RULES}


def test_sample_and_file_paths_agree(tenant: tuple[Path, list[dict[str, Any]]]) -> None:
    path, _ = tenant
    pack = azsecmap.PolicyPack([azsecmap.Policy.from_json(r) for r in RULES])
    a = azsecmap.evaluate(pack, azsecmap.Resources.from_ndjson(path)).results
    b = azsecmap.evaluate(pack, azsecmap.Resources.sample(3000, seed=7)).results
    assert a.cast(pl.String).sort(pl.all()).equals(b.cast(pl.String).sort(pl.all()))


def test_bad_lines_are_reported_and_the_rest_evaluated(tmp_path: Path) -> None:
    good = {
        "id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/a",
        "type": "Microsoft.Storage/storageAccounts",
        "name": "a",
        "properties": {"supportsHttpsTrafficOnly": False},
    }
    lines = [
        json.dumps(good),
        "",
        '{"id": "/x", "type": ',
        "[1, 2]",
        json.dumps({"id": "/y"}),
        json.dumps({**good, "id": good["id"].replace("/a", "/b"), "name": "b"}),
    ]
    f = tmp_path / "t.ndjson"
    f.write_text("\n".join(lines) + "\n")
    pack = azsecmap.PolicyPack([azsecmap.Policy.from_json(RULES[0])])
    ev = azsecmap.evaluate(pack, azsecmap.Resources.from_ndjson(f))
    assert [e.line for e in ev.load_errors] == [3, 4, 5]
    assert "type" in ev.load_errors[2].message
    assert ev.resource_count == 2
    assert ev.results["state"].cast(str).to_list() == ["non_compliant", "non_compliant"]
    res = azsecmap.Resources.from_ndjson(f)
    assert len(res) == 2 and [e.line for e in res.errors] == [3, 4, 5]


def test_json_array_and_resource_graph_page(tmp_path: Path) -> None:
    doc = {
        "id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/a",
        "type": "microsoft.storage/storageaccounts",
        "properties": {"supportsHttpsTrafficOnly": False},
    }
    (tmp_path / "a.json").write_text(json.dumps([doc, "oops"]))
    (tmp_path / "p.json").write_text(json.dumps({"totalRecords": 1, "data": [doc]}))
    pack = azsecmap.PolicyPack([azsecmap.Policy.from_json(RULES[0])])
    for name in ["a.json", "p.json"]:
        ev = azsecmap.evaluate(pack, azsecmap.Resources.from_json(tmp_path / name))
        assert ev.results["state"].cast(str).to_list() == ["non_compliant"], name
    assert [e.line for e in azsecmap.Resources.from_json(tmp_path / "a.json").errors] == [2]
    (tmp_path / "bad.json").write_text('{"rows": []}')
    with pytest.raises(azsecmap.ResourceError) as info:
        len(azsecmap.Resources.from_json(tmp_path / "bad.json"))
    assert info.value.file and info.value.file.endswith("bad.json")


def test_evaluation_errors_are_rows_not_failures() -> None:
    rule = {
        "if": {"value": "[substring(field('name'), 0, 3)]", "equals": "abc"},
        "then": {"effect": "audit"},
    }
    res = azsecmap.Resources.from_records(
        [
            {"id": "/s/a", "type": "Microsoft.Web/sites", "name": "ab"},
            {"id": "/s/b", "type": "Microsoft.Web/sites", "name": "abcd"},
        ]
    )
    ev = azsecmap.evaluate(azsecmap.PolicyPack([azsecmap.Policy.from_json(rule, name="r")]), res)
    got = dict(
        ev.results.select(pl.col("resource_id").cast(str), pl.col("state").cast(str)).iter_rows()
    )
    assert got == {"/s/a": "error", "/s/b": "non_compliant"}
    err = ev.results.filter(pl.col("state") == "error")["reason"][0]
    assert "substring" in err


def test_pack_parameters_and_policy_errors() -> None:
    needs = {
        "name": "needs-param",
        "properties": {
            "parameters": {"tag": {"type": "String"}},
            "policyRule": {
                "if": {"field": "[concat('tags[', parameters('tag'), ']')]", "exists": False},
                "then": {"effect": "audit"},
            },
        },
    }
    pack = azsecmap.PolicyPack(
        [azsecmap.Policy.from_json(needs), azsecmap.Policy.from_json(RULES[0])]
    )
    res = azsecmap.Resources.sample(200, seed=3)
    ev = azsecmap.evaluate(pack, res)
    assert [p for p, _ in ev.policy_errors] == ["needs-param"]
    ev2 = azsecmap.evaluate(pack, res, {"needs-param": {"tag": "env"}, "effect": "Deny"})
    assert ev2.policy_errors == []
    effects = dict(
        ev2.results.select(pl.col("policy_id").cast(str), pl.col("effect").cast(str))
        .unique()
        .iter_rows()
    )
    assert effects == {"needs-param": "audit", "t-https": "deny"}


def test_real_resource_graph_sample(shared_data: Path) -> None:
    page = shared_data / "arm-resources" / "resource-graph-sample-basic-query.json"
    res = azsecmap.Resources.from_json(page)
    assert len(res) == 3 and res.errors == []


def test_identity_keys_match_in_any_case(tmp_path: Path) -> None:
    """ARM property names are case-insensitive, `id` and `type` included: a resource written
    with `Id`/`TYPE` keeps its id in the results on every path, and existence checks find a
    related resource by its `ID`."""
    vault = "/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/kv1"
    docs = [
        {"Id": vault, "TYPE": "Microsoft.KeyVault/vaults", "Name": "kv1"},
        {
            "ID": f"{vault}/providers/Microsoft.Insights/diagnosticSettings/d1",
            "Type": "Microsoft.Insights/diagnosticSettings",
            "NAME": "d1",
            "Properties": {"logs": [{"enabled": True}]},
        },
    ]
    f = tmp_path / "t.ndjson"
    f.write_text("".join(json.dumps(d) + "\n" for d in docs))
    pack = azsecmap.PolicyPack([azsecmap.Policy.from_json(RULES[2])])
    frames = {
        "records": azsecmap.evaluate(pack, azsecmap.Resources.from_records(docs)).results,
        "ndjson": azsecmap.evaluate(pack, azsecmap.Resources.from_ndjson(f)).results,
        "stream": pl.concat(azsecmap.evaluate_batches(pack, azsecmap.Resources.from_ndjson(f))),
    }
    for path, frame in frames.items():
        rows = frame.select(pl.col("resource_id").cast(str), pl.col("state").cast(str)).rows()
        assert rows == [(vault, "compliant")], path
