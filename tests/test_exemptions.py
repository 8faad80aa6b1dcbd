"""Exemptions: Azure Policy exemption objects, our exceptions file, applying them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import azsecmap
from azsecmap import Catalog, Evaluation, ExemptionError, Exemptions

from .conftest import evaluation_of

NOW = "2026-05-01T00:00:00Z"
AUTH = "/providers/Microsoft.Authorization"
ASSIGNMENT = f"/subscriptions/s1{AUTH}/policyAssignments/baseline"


def rid(sub: str, rg: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Foo/things/{name}"


def exemption(scope: str, name: str = "ex1", **props: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "policyAssignmentId": ASSIGNMENT,
        "exemptionCategory": "Waiver",
    }
    body.update(props)
    return {
        "id": f"{scope}{AUTH}/policyExemptions/{name}",
        "name": name,
        "type": "Microsoft.Authorization/policyExemptions",
        "properties": body,
    }


ROWS = [
    (rid("s1", "rg1", "a"), "p1", "non_compliant"),
    (rid("s1", "rg1", "a"), "p2", "compliant"),
    (rid("s1", "rg10", "b"), "p1", "non_compliant"),  # rg10 is not below rg1
    (rid("s1", "rg2", "c"), "p1", "unknown"),
    (rid("s2", "rg1", "d"), "p1", "non_compliant"),
    (rid("s1", "rg1", "e"), "p1", "not_applicable"),
]


def states(ev: Evaluation) -> list[str]:
    return [str(s) for s in ev.results["state"]]


def test_resource_group_scope_matches_only_below_it() -> None:
    ex = Exemptions.from_azure([exemption("/subscriptions/S1/resourceGroups/RG1")])
    ev = evaluation_of(ROWS).with_exemptions(ex, now=NOW)
    assert states(ev) == [
        "exempt", "exempt", "non_compliant", "unknown", "non_compliant", "not_applicable",
    ]  # fmt: skip
    r = ev.results
    assert r["underlying_state"].cast(pl.String).to_list() == [s for _, _, s in ROWS]
    assert r["exemption"].to_list()[:3] == [
        f"/subscriptions/S1/resourceGroups/RG1{AUTH}/policyExemptions/ex1",
    ] * 2 + [None]
    assert r["exemption_category"].to_list()[:3] == ["waiver", "waiver", None]


def test_subscription_and_resource_scopes() -> None:
    sub = Exemptions.from_azure({"value": [exemption("/subscriptions/s2")]})
    assert states(evaluation_of(ROWS).with_exemptions(sub, now=NOW))[4] == "exempt"
    one = Exemptions.from_azure([exemption(rid("s1", "rg2", "c"))])
    assert states(evaluation_of(ROWS).with_exemptions(one, now=NOW)) == [
        "non_compliant", "compliant", "non_compliant", "exempt", "non_compliant",
        "not_applicable",
    ]  # fmt: skip


def test_reference_ids_limit_the_policies() -> None:
    ex = Exemptions.from_azure(
        [exemption("/subscriptions/s1", policyDefinitionReferenceIds=["P2"])]
    )
    assert states(evaluation_of(ROWS).with_exemptions(ex, now=NOW))[:2] == [
        "non_compliant",
        "exempt",
    ]
    # reference ids of an initiative translated to policy ids
    mapped = Exemptions.from_azure(
        [exemption("/subscriptions/s1", policyDefinitionReferenceIds=["ref-one"])],
        references={"REF-ONE": "p1"},
    )
    assert states(evaluation_of(ROWS).with_exemptions(mapped, now=NOW))[:2] == [
        "exempt",
        "compliant",
    ]


def test_without_reference_ids_the_assignment_decides() -> None:
    whole = Exemptions.from_azure([exemption("/subscriptions/s1/resourceGroups/rg1")])
    assert whole.frame()["policies"].to_list() == [None]  # every policy of the pack
    given = Exemptions.from_azure(
        [exemption("/subscriptions/s1/resourceGroups/rg1")],
        assignments={ASSIGNMENT: "/providers/Microsoft.Authorization/policyDefinitions/p2"},
    )
    assert given.frame()["policies"].to_list() == [["p2"]]
    assert states(evaluation_of(ROWS).with_exemptions(given, now=NOW))[:2] == [
        "non_compliant",
        "exempt",
    ]
    carried = Exemptions.from_azure(
        [exemption("/subscriptions/s1", policyDefinitionId="/x/policyDefinitions/p1")]
    )
    assert carried.frame()["policies"].to_list() == [["p1"]]


def test_waiver_and_mitigated_are_both_exempt_and_told_apart() -> None:
    ex = Exemptions.from_azure(
        [
            exemption("/subscriptions/s1/resourceGroups/rg1", "w"),
            exemption("/subscriptions/s1/resourceGroups/rg2", "m", exemptionCategory="Mitigated"),
        ]
    )
    ev = evaluation_of(ROWS).with_exemptions(ex, now=NOW)
    r = ev.results
    assert r["exemption_category"].to_list() == [
        "waiver", "waiver", None, "mitigated", None, None,
    ]  # fmt: skip
    assert r.filter(pl.col("exemption_category") == "mitigated")["state"].cast(
        pl.String
    ).to_list() == ["exempt"]


def test_expired_exemptions_do_not_apply_and_are_reported() -> None:
    ex = Exemptions.from_azure(
        [
            exemption(
                "/subscriptions/s1/resourceGroups/rg1", "old", expiresOn="2026-04-30T23:59:59Z"
            ),
            exemption("/subscriptions/s2", "live", expiresOn="2026-05-01T00:00:01Z"),
        ]
    )
    ev = evaluation_of(ROWS).with_exemptions(ex, now=NOW)
    assert states(ev)[:2] == ["non_compliant", "compliant"]
    assert states(ev)[4] == "exempt"
    assert ev.results["exemption_expires"][4] == dt.datetime(
        2026, 5, 1, 0, 0, 1, tzinfo=dt.timezone.utc
    )
    expired = ev.expired_exemptions
    assert expired["exemption"].to_list() == [
        f"/subscriptions/s1/resourceGroups/rg1{AUTH}/policyExemptions/old"
    ]
    assert expired["rows"].to_list() == [2]  # rows it would have covered (not the n/a one)
    # a later clock expires the second one too
    later = evaluation_of(ROWS).with_exemptions(ex, now=dt.datetime(2027, 1, 1))
    assert set(states(later)) == {"non_compliant", "compliant", "unknown", "not_applicable"}
    assert later.expired_exemptions.height == 2


def test_management_group_scope_is_skipped_with_a_reason() -> None:
    mg = "/providers/Microsoft.Management/managementGroups/corp"
    ex = Exemptions.from_azure([exemption(mg)])
    assert len(ex) == 0
    assert "managementgroups/corp" in ex.skipped[0][1]


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, "utf-8")
    return p


EXCEPTIONS = """\
format: azsecmap-exceptions/1
exceptions:
  - resource: "/subscriptions/*/resourceGroups/RG1/*"
    policy: p1
    reason: legacy estate, replacement planned
    owner: platform-team@example.com
    expires: 2026-05-01
  - name: all-p-in-rg2
    resource: "/subscriptions/s1/resourcegroups/rg2/*"
    policy: "p?"
    reason: sandbox
    owner: alice
    category: mitigated
"""


def test_exceptions_file_globs(tmp_path: Path) -> None:
    path = write(tmp_path, "exceptions.yaml", EXCEPTIONS)
    ex = Exemptions.load(path)
    frame = ex.frame()
    assert frame["exemption"].to_list() == [f"{path}#/exceptions/0", "all-p-in-rg2"]
    # a bare date is valid through that day (UTC)
    assert frame["expires"][0] == dt.datetime(2026, 5, 2, tzinfo=dt.timezone.utc)
    ev = evaluation_of(ROWS).with_exemptions(ex, now=NOW)
    # `*` crosses `/`, matching is case-insensitive; rg10 is not rg1/
    assert states(ev) == [
        "exempt", "compliant", "non_compliant", "exempt", "exempt", "not_applicable",
    ]  # fmt: skip
    assert ev.results["exemption_category"].to_list()[3] == "mitigated"
    assert ev.expired_exemptions.height == 0
    after = evaluation_of(ROWS).with_exemptions(ex, now="2026-05-02T00:00:00Z")
    assert after.expired_exemptions["exemption"].to_list() == [f"{path}#/exceptions/0"]


def test_both_kinds_combine_and_first_wins(tmp_path: Path) -> None:
    yaml_ex = Exemptions.load(write(tmp_path, "e.yaml", EXCEPTIONS))
    azure = Exemptions.from_azure([exemption("/subscriptions/s1/resourceGroups/rg1", "az")])
    ev = evaluation_of(ROWS).with_exemptions(azure + yaml_ex, now=NOW)
    assert ev.results["exemption"][0].endswith("/az")
    assert ev.results["exemption"][4].endswith("#/exceptions/0")


def test_azure_file_formats(tmp_path: Path) -> None:
    body = [exemption("/subscriptions/s1")]
    listed = Exemptions.load(write(tmp_path, "list.json", json.dumps(body)))
    paged = Exemptions.load(write(tmp_path, "paged.json", json.dumps({"value": body})))
    assert listed.frame().equals(paged.frame().with_columns(source=listed.frame()["source"]))
    assert listed.frame()["scope"].to_list() == ["/subscriptions/s1"]


@pytest.mark.parametrize(
    ("name", "text", "message", "pointer"),
    [
        ("bad.yaml", "exceptions: [\n  {resource: x", "invalid YAML (line", ""),
        ("bad.json", "{", "invalid JSON", ""),
        (
            "owner.yaml",
            "exceptions:\n  - {resource: '*', policy: p1, reason: r}\n",
            "'owner' is a required property",
            "/exceptions/0",
        ),
        (
            "date.yaml",
            "exceptions:\n  - {resource: '*', policy: p1, reason: r, owner: o, expires: soon}\n",
            "does not match",
            "/exceptions/0/expires",
        ),
        (
            "extra.yaml",
            "exceptions:\n  - {resource: '*', policy: p1, reason: r, owner: o, typo: 1}\n",
            "Additional properties",
            "/exceptions/0",
        ),
        (
            "id.json",
            json.dumps([{"id": "/subscriptions/s1/whatever", "properties": {}}]),
            "`id` must be",
            "/0/id",
        ),
        (
            "category.json",
            json.dumps({"value": [exemption("/subscriptions/s1", exemptionCategory="Maybe")]}),
            "`exemptionCategory` must be",
            "/value/0/properties/exemptionCategory",
        ),
        (
            "expiry.json",
            json.dumps([exemption("/subscriptions/s1", expiresOn="next tuesday")]),
            "`next tuesday` is not a date",
            "/0/properties/expiresOn",
        ),
        (
            "single.json",
            json.dumps(exemption("/subscriptions/s1", exemptionCategory="waived")),
            "`exemptionCategory` must be",
            "/properties/exemptionCategory",
        ),
        (
            "value.json",
            json.dumps({"value": "nope"}),
            "expected a list of policy exemptions",
            "",
        ),
        (
            "assignment.json",
            json.dumps([exemption("/subscriptions/s1", policyAssignmentId=None)]),
            "needs `policyAssignmentId`",
            "/0/properties/policyAssignmentId",
        ),
    ],
)
def test_bad_files_name_the_file_and_the_path(
    tmp_path: Path, name: str, text: str, message: str, pointer: str
) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(ExemptionError) as info:
        Exemptions.load(path)
    err = info.value
    assert isinstance(err, azsecmap.AzsecmapError)
    assert message in err.message
    assert err.file == str(path)
    assert (err.pointer or "") == pointer
    assert str(path) in str(err)


def test_missing_file() -> None:
    with pytest.raises(ExemptionError, match="cannot read the file"):
        Exemptions.load("/nonexistent/exceptions.yaml")


# --- end to end: evaluate(..., exemptions=) and the scores ----------------------------------

KV_PURGE = {
    "if": {
        "allOf": [
            {"field": "type", "equals": "Microsoft.KeyVault/vaults"},
            {"field": "Microsoft.KeyVault/vaults/enablePurgeProtection", "notEquals": True},
        ]
    },
    "then": {"effect": "audit"},
}


def test_evaluate_applies_exemptions_and_scores_see_them(tmp_path: Path) -> None:
    pack = azsecmap.PolicyPack([azsecmap.Policy.from_json(KV_PURGE, name="kv-purge")])
    kv = "/subscriptions/s1/resourceGroups/{}/providers/Microsoft.KeyVault/vaults/{}"
    records = [
        {"id": kv.format("prod", "a"), "type": "Microsoft.KeyVault/vaults",
         "properties": {"enablePurgeProtection": True}},
        {"id": kv.format("legacy", "b"), "type": "Microsoft.KeyVault/vaults",
         "properties": {"enablePurgeProtection": False}},
    ]  # fmt: skip
    ex = Exemptions.from_exceptions(
        {
            "exceptions": [
                {
                    "resource": "*/resourceGroups/legacy/*",
                    "policy": "kv-purge",
                    "reason": "decommissioning",
                    "owner": "bob",
                    "expires": "2026-12-31",
                }
            ]
        }
    )
    plain = azsecmap.evaluate(pack, azsecmap.Resources.from_records(records), now=NOW)
    ev = azsecmap.evaluate(pack, azsecmap.Resources.from_records(records), now=NOW, exemptions=ex)
    by_id = dict(
        zip(
            ev.results["resource_id"].cast(pl.String),
            ev.results["state"].cast(pl.String),
            strict=True,
        )
    )
    assert by_id[kv.format("legacy", "b")] == "exempt"
    assert by_id[kv.format("prod", "a")] == "compliant"
    under = ev.results.filter(pl.col("state") == "exempt")["underlying_state"]
    assert under.cast(pl.String).to_list() == ["non_compliant"]
    assert plain.results["state"].cast(pl.String).sort().to_list() == [
        "compliant",
        "non_compliant",
    ]

    cat = Catalog.from_documents(
        [
            {
                "format": "azsecmap-catalog/1",
                "frameworks": [{"id": "K", "title": "k", "controls": [{"id": "KV-1"}]}],
                "satisfies": [{"policy": "kv-purge", "control": "K:KV-1", "effect": "audit"}],
            }
        ]
    )
    before = ev_row(plain.score(cat, "K"))
    after = ev_row(ev.score(cat, "K"))
    assert (before["state"], before["non_compliant"]) == ("non_compliant", 1)
    assert (after["state"], after["compliant"], after["exempt"]) == ("compliant", 1, 1)
    scores = {r["score"]: r["value"] for r in ev.summary(cat, "K").to_dicts()}
    assert scores["azure"] == 100.0 and scores["secure_score"] == 100.0


def ev_row(frame: pl.DataFrame) -> dict[str, Any]:
    (row,) = frame.to_dicts()
    return row


def test_exempt_only_control_is_exempt_and_azure_counts_it() -> None:
    cat = Catalog.from_documents(
        [
            {
                "format": "azsecmap-catalog/1",
                "frameworks": [{"id": "K", "title": "k", "controls": [{"id": "KV-1"}]}],
                "satisfies": [{"policy": "p1", "control": "K:KV-1", "effect": "audit"}],
            }
        ]
    )
    ev = evaluation_of([(rid("s1", "rg1", "a"), "p1", "non_compliant")]).with_exemptions(
        Exemptions.from_azure([exemption("/subscriptions/s1")]), now=NOW
    )
    assert ev_row(ev.score(cat, "K"))["state"] == "exempt"
    got = {r["score"]: (r["numerator"], r["denominator"]) for r in ev.summary(cat, "K").to_dicts()}
    assert got["azure"] == (1.0, 1.0)
    assert got["strict"] == (0.0, 1.0)
    assert got["secure_score"] == (0.0, 0.0)


# --- invariants -----------------------------------------------------------------------------


ALL_STATES = ["compliant", "non_compliant", "unknown", "error", "not_applicable", "exempt"]
pairs = st.lists(
    st.tuples(
        st.sampled_from(["s1", "s2"]),
        st.sampled_from(["rg1", "rg10", "RG2"]),
        st.sampled_from(["a", "b"]),
        st.sampled_from(["p1", "p2", "p3"]),
        st.sampled_from(ALL_STATES),
    ),
    max_size=20,
    unique_by=lambda t: t[:4],
)
scopes = st.lists(
    st.tuples(
        st.sampled_from(["/subscriptions/s1", "/subscriptions/S1/resourceGroups/rg1",
                         "/subscriptions/s2/resourceGroups/rg2"]),
        st.one_of(st.none(), st.lists(st.sampled_from(["p1", "p2", "P3"]), min_size=1)),
        st.sampled_from([None, "2026-04-01T00:00:00Z", "2026-06-01T00:00:00Z"]),
    ),
    max_size=4,
)  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(pairs, scopes)
def test_exemptions_only_turn_matching_open_rows_exempt(
    rows: list[tuple[str, str, str, str, str]],
    specs: list[tuple[str, list[str] | None, str | None]],
) -> None:
    objects = []
    for i, (scope, refs, expires) in enumerate(specs):
        props: dict[str, Any] = {"expiresOn": expires} if expires else {}
        if refs:
            props["policyDefinitionReferenceIds"] = refs
        objects.append(exemption(scope, f"e{i}", **props))
    ex = Exemptions.from_azure(objects)
    triples = [(rid(s, g, r), p, state) for s, g, r, p, state in rows]
    ev = evaluation_of(triples).with_exemptions(ex, now=NOW)
    out = ev.results.to_dicts()
    assert len(out) == len(triples)
    for (res, pol, before), row in zip(triples, out, strict=True):
        assert row["underlying_state"] == before
        live = [
            o for o, (scope, refs, expires) in zip(objects, specs, strict=True)
            if (expires is None or expires > NOW)
            and (res.lower() + "/").startswith(scope.lower() + "/")
            and (refs is None or pol in [r.lower() for r in refs])
        ]  # fmt: skip
        if before in ("compliant", "non_compliant", "unknown", "error") and live:
            assert row["state"] == "exempt"
            assert row["exemption"] == live[0]["id"]
        else:
            assert row["state"] == before
            assert row["exemption"] is None
    expired = {o["id"] for o, (_, _, e) in zip(objects, specs, strict=True) if e and e <= NOW}
    assert set(ev.expired_exemptions["exemption"]) == expired


def test_streamed_blocks_get_the_same_exemptions() -> None:
    """evaluate_batches applies exemptions block by block; concatenated, the blocks equal
    evaluate(); the expired report sums its rows over the blocks."""
    rule = {"if": {"field": "type", "equals": "Microsoft.Storage/storageAccounts"},
            "then": {"effect": "audit"}}  # fmt: skip
    pack = azsecmap.PolicyPack([azsecmap.Policy.from_json(rule, name="st-audit")])
    res = azsecmap.Resources.sample(60_000, seed=3)  # several 32 MB blocks
    whole = azsecmap.evaluate(pack, res, now=NOW)
    sub = "/".join(str(whole.results["resource_id"][0]).split("/")[:3])
    ex = Exemptions.from_azure(
        [
            exemption(sub, "live"),
            exemption("/subscriptions/" + sub.split("/")[2], "gone", expiresOn="2026-01-01"),
        ]
    )
    direct = whole.with_exemptions(ex, now=NOW)
    stream = azsecmap.evaluate_batches(pack, res, now=NOW, exemptions=ex)
    blocks = list(stream)
    assert len(blocks) > 1
    streamed = pl.concat(blocks).with_columns(pl.col(pl.Categorical).cast(pl.String))
    expected = direct.results.with_columns(pl.col(pl.Categorical).cast(pl.String))
    key = ["resource_id", "policy_id"]
    assert streamed.sort(key).equals(expected.sort(key))
    assert (expected["state"] == "exempt").sum() > 0
    assert stream.expired_exemptions.select("exemption", "rows").rows() == (
        direct.expired_exemptions.select("exemption", "rows").rows()
    )
