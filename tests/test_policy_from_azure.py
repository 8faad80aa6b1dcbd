"""`PolicyPack.from_azure` through the real PolicyClient against a fake HTTPS policy endpoint.

The fake (tests/fake_policy.py) serves a small estate: management group ``contoso`` (under
``contoso-root``) holding subscriptions S1 and S2; an initiative assigned at ``contoso`` built from
three of Microsoft's real built-in definitions (shared/data/azure-policy); a custom subscription
definition assigned at S1 with parameter values; a resource-group assignment with a notScope;
assignments below S1 and in S2; exemptions. Every test compares what was read with the server's
own data, so a lost page, a wrong parameter or a second fetch of one definition fails it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

pytest.importorskip("trustme", reason="trustme (test extra) makes the fake's TLS cert")
pytest.importorskip("azure.mgmt.resource.policy", reason="the azure extra is not installed")

import azsecmap
from azsecmap.cli import app
from azsecmap.resource_graph import DEFAULT_QUERY, RetryBudget

from .fake_arg import (
    FakeResourceGraph,
    Fault,
    Server,
    SleepLog,
    StaticTokenCredential,
    issue_tls,
)
from .fake_policy import FakePolicy, policy_handler

BUILTINS = Path(__file__).resolve().parents[2] / "shared" / "data" / "azure-policy"
if not BUILTINS.is_dir():  # pragma: no cover - depends on the checkout
    pytest.skip(
        "shared/data/azure-policy (Microsoft's built-in definitions) is absent: the fake's "
        "initiative is built from them",
        allow_module_level=True,
    )

TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.fake-policy-secret-41f0a2"
FAST = RetryBudget(max_retries=4, max_retry_seconds=20, backoff_base=0.02, backoff_max=0.2)
AUTHZ = "/providers/Microsoft.Authorization"
MG = "/providers/Microsoft.Management/managementGroups/contoso"
S1 = "/subscriptions/1a2b3c4d-0000-4000-8000-000000000001"
S2 = "/subscriptions/1a2b3c4d-0000-4000-8000-000000000002"
LOCATIONS = "e56962a6-4747-49cd-b67b-bf8b01975c4c"  # Allowed locations
HTTPS = "404c3081-a854-4457-ae30-26a93ef643f9"  # Secure transfer to storage accounts
TYPES = "a08ec900-254a-4555-9bf5-e42af04b5c5c"  # Allowed resource types
INITIATIVE = f"{MG}{AUTHZ}/policySetDefinitions/contoso-baseline"
REQUIRE_TAG = f"{S1}{AUTHZ}/policyDefinitions/require-tag"


def _builtin(path: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((BUILTINS / "policyDefinitions" / path).read_text("utf-8"))
    return doc


def _assignment(scope: str, name: str, definition: str, **props: Any) -> dict[str, Any]:
    params = {k: {"value": v} for k, v in props.pop("values", {}).items()}
    return {
        "id": f"{scope}{AUTHZ}/policyAssignments/{name}",
        "name": name,
        "type": "Microsoft.Authorization/policyAssignments",
        "properties": {
            "displayName": name.replace("-", " "),
            "policyDefinitionId": definition,
            "scope": scope,
            "notScopes": props.pop("not_scopes", []),
            "parameters": params,
            "enforcementMode": props.pop("mode", "Default"),
        },
    }


def _exemption(scope: str, name: str, assignment: str, category: str, refs: list[str]) -> Any:
    props: dict[str, Any] = {
        "policyAssignmentId": f"{assignment}",
        "exemptionCategory": category,
        "displayName": name,
    }
    if refs:
        props["policyDefinitionReferenceIds"] = refs
    return {
        "id": f"{scope}{AUTHZ}/policyExemptions/{name}",
        "name": name,
        "type": "Microsoft.Authorization/policyExemptions",
        "properties": props,
    }


def estate() -> FakePolicy:
    """The fake's data (fresh each call, so a test may alter its copy)."""
    initiative = {
        "id": INITIATIVE,
        "name": "contoso-baseline",
        "type": "Microsoft.Authorization/policySetDefinitions",
        "properties": {
            "displayName": "Contoso baseline",
            "policyType": "Custom",
            "parameters": {
                "allowedLocations": {"type": "Array", "defaultValue": ["westeurope"]},
                "storageEffect": {"type": "String", "defaultValue": "Audit"},
                "allowedTypes": {"type": "Array"},
                "typesEffect": {"type": "String", "defaultValue": "Audit"},
            },
            "policyDefinitions": [
                {
                    "policyDefinitionReferenceId": "allowed-locations",
                    "policyDefinitionId": f"{AUTHZ}/policyDefinitions/{LOCATIONS}",
                    "parameters": {
                        "listOfAllowedLocations": {"value": "[parameters('allowedLocations')]"},
                        "effect": {"value": "Audit"},
                    },
                },
                {
                    "policyDefinitionReferenceId": "storage-https",
                    "policyDefinitionId": f"{AUTHZ}/policyDefinitions/{HTTPS}",
                    "parameters": {"effect": {"value": "[parameters('storageEffect')]"}},
                },
                {
                    "policyDefinitionReferenceId": "allowed-types",
                    "policyDefinitionId": f"{AUTHZ}/policyDefinitions/{TYPES}",
                    "parameters": {
                        "listOfResourceTypesAllowed": {"value": "[parameters('allowedTypes')]"},
                        "effect": {"value": "[ parameters( 'typesEffect' ) ]"},
                    },
                },
            ],
        },
    }
    require_tag = {
        "id": REQUIRE_TAG,
        "name": "require-tag",
        "type": "Microsoft.Authorization/policyDefinitions",
        "properties": {
            "displayName": "Require a tag",
            "policyType": "Custom",
            "mode": "Indexed",
            "parameters": {
                "tagName": {"type": "String"},
                "effect": {"type": "String", "defaultValue": "Deny"},
            },
            "policyRule": {
                "if": {"field": "[concat('tags[', parameters('tagName'), ']')]", "exists": "false"},
                "then": {"effect": "[parameters('effect')]"},
            },
        },
    }
    definitions = [
        _builtin("General/AllowedLocations_Deny.json"),
        _builtin("Storage/Storage_AuditForHTTPSEnabled_Audit.json"),
        _builtin("General/AllowedResourceTypes_Deny.json"),
        initiative,
        require_tag,
    ]
    assignments = [
        _assignment(
            MG,
            "baseline",
            INITIATIVE,
            values={
                "allowedLocations": ["westeurope", "northeurope"],
                "storageEffect": "Deny",
                "allowedTypes": ["Microsoft.Storage/storageAccounts"],
            },
        ),
        _assignment(
            S1,
            "owner-tag",
            REQUIRE_TAG,
            values={"tagName": "costCenter", "effect": "Audit"},
            mode="DoNotEnforce",
        ),
        _assignment(
            f"{S1}/resourceGroups/rg-app",
            "rg-locations",
            f"{AUTHZ}/policyDefinitions/{LOCATIONS}",
            values={"listOfAllowedLocations": ["westeurope"], "effect": "Audit"},
            not_scopes=[
                f"{S1}/resourceGroups/rg-app/providers/Microsoft.Storage/storageAccounts/legacystore"
            ],
        ),
        _assignment(
            f"{S1}/resourceGroups/rg-other", "other-rg", f"{AUTHZ}/policyDefinitions/{HTTPS}"
        ),
        _assignment(
            S2,
            "s2-only",
            f"{AUTHZ}/policyDefinitions/{TYPES}",
            values={"listOfResourceTypesAllowed": ["Microsoft.Web/sites"]},
        ),
        _assignment(
            f"{S2}/resourceGroups/rg-broken",
            "broken",
            f"{S2}{AUTHZ}/policyDefinitions/deleted-definition",
        ),
    ]
    ids = {a["name"]: a["id"] for a in assignments}
    exemptions = [
        _exemption(
            f"{S1}/resourceGroups/rg-legacy",
            "legacy-https",
            ids["baseline"],
            "Waiver",
            ["storage-https"],
        ),
        _exemption(
            f"{S1}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/vm1",
            "vm1-tag",
            ids["owner-tag"],
            "Mitigated",
            [],
        ),
        _exemption(f"{S1}/resourceGroups/rg-other", "other-waiver", ids["other-rg"], "Waiver", []),
        _exemption(S2, "s2-waiver", ids["s2-only"], "Waiver", []),
    ]
    parents = {
        "contoso": "contoso-root",
        S1.split("/")[2]: "contoso",
        S2.split("/")[2]: "contoso",
    }
    return FakePolicy(TOKEN, parents, definitions, assignments, exemptions, page_size=2)


def _resource(sub: str, rg: str, kind: str, name: str, location: str, **extra: Any) -> Any:
    return {
        "id": f"{sub}/resourceGroups/{rg}/providers/{kind}/{name}",
        "name": name,
        "type": kind,
        "location": location,
        "subscriptionId": sub.split("/")[2],
        "resourceGroup": rg,
        "tags": extra.pop("tags", {}),
        "properties": extra.pop("properties", {}),
    }


STORAGE = "Microsoft.Storage/storageAccounts"
RESOURCES = [
    _resource(S1, "rg-app", STORAGE, "appstore", "westeurope", tags={"costCenter": "42"},
              properties={"supportsHttpsTrafficOnly": False}),
    _resource(S1, "rg-app", STORAGE, "legacystore", "eastus",
              properties={"supportsHttpsTrafficOnly": True}),
    _resource(S1, "rg-app", "Microsoft.Compute/virtualMachines", "vm1", "eastus"),
    _resource(S1, "rg-legacy", STORAGE, "oldstore", "northeurope", tags={"costCenter": "7"},
              properties={"supportsHttpsTrafficOnly": False}),
    _resource(S1, "rg-other", STORAGE, "otherstore", "westeurope", tags={"costCenter": "9"},
              properties={"supportsHttpsTrafficOnly": False}),
    _resource(S2, "rg-web", "Microsoft.Web/sites", "site1", "eastus"),
]  # fmt: skip

# (resource name, policy id) → (state, effect when non-compliant) for S1 read with descendants:
# every pair not listed is absent (not applicable, or outside its assignment's scope).
EXPECTED = {
    ("appstore", "baseline:allowed-locations"): ("compliant", None),
    ("legacystore", "baseline:allowed-locations"): ("non_compliant", "audit"),
    ("vm1", "baseline:allowed-locations"): ("non_compliant", "audit"),
    ("oldstore", "baseline:allowed-locations"): ("compliant", None),
    ("otherstore", "baseline:allowed-locations"): ("compliant", None),
    ("site1", "baseline:allowed-locations"): ("non_compliant", "audit"),  # the MG covers S2
    ("appstore", "baseline:storage-https"): ("non_compliant", "deny"),  # storageEffect = Deny
    ("legacystore", "baseline:storage-https"): ("compliant", None),
    ("oldstore", "baseline:storage-https"): ("exempt", None),  # legacy-https waiver
    ("otherstore", "baseline:storage-https"): ("non_compliant", "deny"),
    # allowed types: an allowed type fails only the `type` condition, so it is not applicable
    # (as Azure counts it), not compliant
    ("vm1", "baseline:allowed-types"): ("non_compliant", "audit"),  # the initiative's default
    ("site1", "baseline:allowed-types"): ("non_compliant", "audit"),
    ("appstore", "owner-tag:require-tag"): ("compliant", None),
    ("legacystore", "owner-tag:require-tag"): ("non_compliant", "audit"),
    ("vm1", "owner-tag:require-tag"): ("exempt", None),  # vm1-tag, Mitigated
    ("oldstore", "owner-tag:require-tag"): ("compliant", None),
    ("otherstore", "owner-tag:require-tag"): ("compliant", None),
    ("appstore", f"rg-locations:{LOCATIONS}"): ("compliant", None),
    ("vm1", f"rg-locations:{LOCATIONS}"): ("non_compliant", "audit"),
    ("otherstore", f"other-rg:{HTTPS}"): ("exempt", None),  # other-waiver
}


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return issue_tls(tmp_path_factory.mktemp("tls-policy"))


@pytest.fixture(scope="module")
def graph() -> FakeResourceGraph:
    rows = [(r["id"], r["subscriptionId"], json.dumps(r).encode()) for r in RESOURCES]
    return FakeResourceGraph(rows, TOKEN)


@pytest.fixture(scope="module")
def server(tls: dict[str, str], graph: FakeResourceGraph) -> Iterator[Server]:
    state = estate()
    srv = Server(graph, tls["chain"], tls["key"], handler=policy_handler(state, graph))
    srv.policy = state  # type: ignore[attr-defined]
    yield srv
    srv.close()


@pytest.fixture
def fake(server: Server) -> FakePolicy:
    state: FakePolicy = server.policy  # type: ignore[attr-defined]
    state.reset()
    server.state.reset()
    return state


def read(server: Server, tls: dict[str, str], scope: str = S1, **kw: Any) -> azsecmap.PolicyPack:
    kw.setdefault("retry", FAST)
    return azsecmap.PolicyPack.from_azure(
        StaticTokenCredential(TOKEN), scope, server.endpoint, connection_verify=tls["ca"], **kw
    )


def assignments_at(fake: FakePolicy, scope: str, descendants: bool = False) -> set[str]:
    """The assignment ids the server holds for a read at `scope`."""
    return {
        a["id"]
        for a in fake.assignments
        if fake.contains(a["properties"]["scope"], scope)
        or (descendants and fake.contains(scope, a["properties"]["scope"]))
    }


def test_pack_holds_exactly_the_assigned_policies_with_their_values(
    server: Server, fake: FakePolicy, tls: dict[str, str]
) -> None:
    pack = read(server, tls)
    assert {a.id for a in pack.assignments} == assignments_at(fake, S1)
    assert sorted(pack.ids()) == [
        "baseline:allowed-locations",
        "baseline:allowed-types",
        "baseline:storage-https",
        "owner-tag:require-tag",
    ]
    # the initiative's expressions resolved against the assignment's values (and, for
    # typesEffect, the initiative's own default); literals kept
    baseline = next(a for a in fake.assignments if a["name"] == "baseline")["properties"]
    given = {k: v["value"] for k, v in baseline["parameters"].items()}
    values = {p.id: p.assigned.parameters for p in pack if p.assigned is not None}
    assert values == {
        "baseline:allowed-locations": {
            "listOfAllowedLocations": given["allowedLocations"],
            "effect": "Audit",
        },
        "baseline:storage-https": {"effect": given["storageEffect"]},
        "baseline:allowed-types": {
            "listOfResourceTypesAllowed": given["allowedTypes"],
            "effect": "Audit",
        },
        "owner-tag:require-tag": {"tagName": "costCenter", "effect": "Audit"},
    }
    tag = pack["owner-tag:require-tag"]
    assert tag.assigned is not None
    assert tag.assigned.assignment.enforcement_mode == "DoNotEnforce"
    assert tag.assigned.reference_id is None and tag.assigned.definition_id == REQUIRE_TAG
    https = pack["baseline:storage-https"]
    assert https.assigned is not None and https.assigned.reference_id == "storage-https"
    assert https.assigned.definition_id == f"{AUTHZ}/policyDefinitions/{HTTPS}"
    assert https.source == https.assigned.definition_id
    assert (
        https.display_name
        == _builtin("Storage/Storage_AuditForHTTPSEnabled_Audit.json")["properties"]["displayName"]
    )
    # exemptions below S1 for an assignment that was not read cannot match: reported skipped
    assert [n.rsplit("/", 1)[-1] for n, _ in pack.exemptions.skipped] == ["other-waiver"]
    assert {e.name.rsplit("/", 1)[-1] for e in pack.exemptions} == {"legacy-https", "vm1-tag"}


def test_descendants_add_the_assignments_below_and_definitions_are_fetched_once(
    server: Server, fake: FakePolicy, tls: dict[str, str]
) -> None:
    pack = read(server, tls, descendants=True)
    assert {a.id for a in pack.assignments} == assignments_at(fake, S1, descendants=True)
    rg = next(a for a in pack.assignments if a.name == "rg-locations")
    assert rg.not_scopes == (f"{S1}/resourceGroups/rg-app/providers/{STORAGE}/legacystore",)
    # allowed-locations and storage-https are each assigned twice (initiative + directly)
    gets = [r.path.lower() for r in fake.requests if "Definitions/" in r.path]
    assert len(gets) == len(set(gets)) == 5
    assert len(pack) == 6


def test_listing_pages_across_next_link(
    server: Server, fake: FakePolicy, tls: dict[str, str]
) -> None:
    pack = read(server, tls, descendants=True)
    lists = [r for r in fake.requests if r.path.endswith("/policyAssignments")]
    # 4 assignments reach S1 (2 per page): two pages, the second by nextLink
    assert [r.query.get("$skiptoken") for r in lists] == [None, ["2"]]
    assert len(pack.assignments) == len(assignments_at(fake, S1, descendants=True)) == 4
    ex = [r for r in fake.requests if r.path.endswith("/policyExemptions")]
    assert len(ex) == 2  # three exemptions at and below S1, paged too
    assert len(pack.exemptions) + len(pack.exemptions.skipped) == 3


def test_429_and_503_while_listing_are_retried(
    server: Server, fake: FakePolicy, tls: dict[str, str]
) -> None:
    plain = read(server, tls, descendants=True)
    hits: dict[str, int] = {}

    def faults(number: int, path: str, query: dict[str, list[str]]) -> Fault | None:
        if not path.endswith("/policyAssignments"):
            return None
        key = (query.get("$skiptoken") or ["first"])[0]
        hits[key] = hits.get(key, 0) + 1
        if key == "first" and hits[key] == 1:
            return Fault("status", 503)
        if key == "2" and hits[key] == 1:
            return Fault("status", 429, {"Retry-After": "1"})
        return None

    fake.reset(fault_when=faults)
    sleep = SleepLog()
    pack = read(server, tls, descendants=True, sleep=sleep)
    assert pack.ids() == plain.ids()
    assert [p.assigned.parameters for p in pack if p.assigned] == [
        p.assigned.parameters for p in plain if p.assigned
    ]
    statuses = [
        (r.status, (r.query.get("$skiptoken") or [None])[0])
        for r in fake.requests
        if r.path.endswith("/policyAssignments")
    ]
    # the failed page, and only it, was asked again
    assert statuses == [(503, None), (200, None), (429, "2"), (200, "2")]
    assert 1.0 in sleep.waits  # Retry-After obeyed
    assert len(sleep.waits) == 2 and sleep.waits[0] <= FAST.backoff_base


def test_dropped_connection_on_a_definition_is_retried(
    server: Server, fake: FakePolicy, tls: dict[str, str]
) -> None:
    dropped: list[str] = []

    def drop_once(number: int, path: str, query: dict[str, list[str]]) -> Fault | None:
        if path.endswith("/contoso-baseline") and not dropped:
            dropped.append(path)
            return Fault("drop")
        return None

    fake.reset(fault_when=drop_once)
    pack = read(server, tls)
    assert dropped and len(pack) == 4
    gets = [r.path for r in fake.requests if r.path.endswith("/contoso-baseline")]
    assert len(gets) == 2


def test_missing_definition_raises_a_policy_error_naming_the_assignment(
    server: Server, fake: FakePolicy, tls: dict[str, str]
) -> None:
    with pytest.raises(azsecmap.PolicyError) as info:
        read(server, tls, f"{S2}/resourceGroups/rg-broken")
    message = str(info.value)
    assert f"{S2}/resourceGroups/rg-broken{AUTHZ}/policyAssignments/broken" in message
    assert "deleted-definition" in message and "does not exist" in message
    # a 404 is an answer, not a fault: asked once
    assert sum(r.path.endswith("/deleted-definition") for r in fake.requests) == 1


def test_faults_beyond_the_budget_raise_a_clear_error(
    server: Server, fake: FakePolicy, tls: dict[str, str]
) -> None:
    fake.reset(
        fault_when=lambda n, path, q: (
            Fault("status", 503) if "/policySetDefinitions/" in path else None
        )
    )
    with pytest.raises(azsecmap.PolicyError) as info:
        read(server, tls)
    assert str(info.value).startswith(f"reading `{INITIATIVE}`: HTTP 503 after 4 retries")
    assert sum("/policySetDefinitions/" in r.path for r in fake.requests) == 5


def test_bad_scope_is_refused_before_any_request(
    server: Server, fake: FakePolicy, tls: dict[str, str]
) -> None:
    with pytest.raises(ValueError, match="is not `/subscriptions/<id>`"):
        read(server, tls, "/subscriptions/x/resourceGroups")
    assert fake.requests == []


def _states(ev: azsecmap.Evaluation) -> dict[tuple[str, str], tuple[str, str | None]]:
    out = {}
    for rid, pid, state, effect in ev.results.select(
        pl.col("resource_id").cast(pl.String),
        pl.col("policy_id").cast(pl.String),
        pl.col("state").cast(pl.String),
        pl.col("effect").cast(pl.String),
    ).iter_rows():
        out[(rid.rsplit("/", 1)[-1], pid)] = (state, effect if state == "non_compliant" else None)
    return out


def test_evaluate_uses_the_assigned_values_scopes_and_exemptions(
    server: Server, fake: FakePolicy, tls: dict[str, str]
) -> None:
    pack = read(server, tls, descendants=True)
    res = azsecmap.Resources.from_records(RESOURCES)
    ev = azsecmap.evaluate(pack, res, exemptions=pack.exemptions)
    assert ev.policy_errors == []
    assert _states(ev) == EXPECTED
    # the block-by-block path agrees
    stream = azsecmap.evaluate_batches(pack, res, exemptions=pack.exemptions)
    frames = list(stream)
    assert _states(azsecmap.Evaluation(pl.concat(frames))) == EXPECTED
    # with every pair asked for, the rows outside an assignment's scope are not_applicable
    full = azsecmap.evaluate(pack, res, include_not_applicable=True)
    outside = full.results.filter(
        (pl.col("policy_id").cast(pl.String) == f"rg-locations:{LOCATIONS}")
        & pl.col("resource_id").cast(pl.String).str.ends_with("legacystore")
    )
    assert outside["state"].cast(pl.String).to_list() == ["not_applicable"]
    # Assignment.covers, the per-id form of the same rule, agrees on every pair
    by_id = {p.id: p.assigned.assignment for p in pack if p.assigned is not None}
    for rid, pid, state in full.results.select(
        pl.col("resource_id").cast(pl.String),
        pl.col("policy_id").cast(pl.String),
        pl.col("state").cast(pl.String),
    ).iter_rows():
        if not by_id[pid].covers(rid):
            assert state == "not_applicable", (rid, pid)
    ids = {r["name"]: r["id"] for r in RESOURCES}
    assert all(by_id[pid].covers(ids[name]) for name, pid in EXPECTED)
    assert not by_id[f"rg-locations:{LOCATIONS}"].covers(ids["legacystore"])  # its notScope
    assert not by_id["owner-tag:require-tag"].covers(ids["site1"])  # another subscription
    # a caller's per-policy values still win over the assigned ones
    wider = azsecmap.evaluate(
        pack, res, {"owner-tag:require-tag": {"tagName": "missing"}}, exemptions=pack.exemptions
    )
    tag = {k: v for k, v in _states(wider).items() if k[1] == "owner-tag:require-tag"}
    assert tag["appstore", "owner-tag:require-tag"] == ("non_compliant", "audit")
    # one policy on one resource is bound with its assigned values too
    vm1 = next(r for r in RESOURCES if r["name"] == "vm1")
    decision = pack["owner-tag:require-tag"].evaluate(vm1)
    assert decision.effect == "audit" and "tags[costCenter]" in decision.reasons[0]


def test_scan_scores_assigned_policies_by_their_definitions_controls(
    server: Server, fake: FakePolicy, tls: dict[str, str]
) -> None:
    pack = read(server, tls, descendants=True)
    catalog = azsecmap.Catalog.builtin(include_user=False)
    linked = catalog.controls_of(HTTPS)
    assert "MCSB_v1:DP-3" in linked  # the built-in's own edge, from Microsoft's initiative
    outcome = azsecmap.run_scan(
        pack,
        azsecmap.Resources.from_records(RESOURCES),
        catalog,
        ["MCSB_v1"],
        exemptions=pack.exemptions,
    )
    dp3 = (
        outcome.scores[0].controls.filter(pl.col("control_id") == "MCSB_v1:DP-3").row(0, named=True)
    )
    # appstore and otherstore fail storage-https (Deny); oldstore is exempt from it, and
    # otherstore is exempt from other-rg's copy: the worst state per resource counts
    assert (dp3["state"], dp3["non_compliant"], dp3["exempt"]) == ("non_compliant", 2, 1)
    assert {"baseline:storage-https", f"other-rg:{HTTPS}"} <= set(dp3["policies"])


def test_no_token_in_logs_errors_or_output(
    server: Server,
    fake: FakePolicy,
    tls: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    pack = read(server, tls, logging_enable=True)
    fake.reset(fault_when=lambda n, path, q: Fault("status", 500))
    with pytest.raises(azsecmap.PolicyError) as info:
        read(server, tls, logging_enable=True)
    out = capfd.readouterr()
    written = "\n".join(
        [caplog.text, out.out, out.err, str(info.value), repr(info.value), repr(pack)]
    )
    assert "Request URL" in caplog.text  # azure-core's HTTP logging did run
    assert "policyAssignments" in caplog.text
    assert TOKEN not in written and TOKEN[-12:] not in written
    assert "Bearer" not in written
    # the header itself, in any dump style (the URLs do say Microsoft.Authorization)
    assert not re.search(r"""['"]?authorization['"]?\s*[:=]""", written, re.IGNORECASE)


# -- the CLI -----------------------------------------------------------------------------


def test_cli_scan_reads_resource_graph_and_assignments(
    server: Server, fake: FakePolicy, tls: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "results.csv"
    obj = {
        "credential": StaticTokenCredential(TOKEN),
        "client_kwargs": {"connection_verify": tls["ca"]},
    }
    args = [
        "scan", "--resource-graph", "--subscription", S1.split("/")[2],
        "--subscription", S2.split("/")[2], "--assignments", S1,
        "--endpoint", server.endpoint, "--out", str(out), "--no-report", "--quiet",
    ]  # fmt: skip
    result = CliRunner().invoke(app, args, obj=obj)
    assert result.exit_code == 0, result.output
    assert "scanned 6 resources with 6 policies" in result.output
    written = pl.read_csv(out)
    got = {
        (rid.rsplit("/", 1)[-1], pid): state
        for rid, pid, state in written.select("resource_id", "policy_id", "state").iter_rows()
    }
    assert got == {k: v[0] for k, v in EXPECTED.items()}
    assert server.state.requests and all(
        r.query.startswith(DEFAULT_QUERY) for r in server.state.requests
    )
    assert TOKEN not in result.output

    failing = CliRunner().invoke(app, [*args, "--fail-on", "non_compliant"], obj=obj)
    assert failing.exit_code == 1, failing.output


def test_cli_resource_graph_options_are_checked(tmp_path: Path) -> None:
    runner = CliRunner()
    both = runner.invoke(app, ["scan", "--resource-graph", "--sample", "10"])
    assert both.exit_code == 2 and "not both" in both.output
    stray = runner.invoke(app, ["scan", "--subscription", "s1", "--no-report"])
    assert stray.exit_code == 2 and "--resource-graph" in stray.output
    assignments = runner.invoke(app, ["scan", "--assignments", "/nowhere", "--no-report"])
    assert assignments.exit_code == 2 and "--resource-graph" in assignments.output


def test_cli_without_credentials_exits_2(
    server: Server, fake: FakePolicy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_USERNAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "EnvironmentCredential")
    out = tmp_path / "r.csv"
    result = CliRunner().invoke(
        app,
        ["scan", "--resource-graph", "--assignments", S1, "--endpoint", server.endpoint,
         "--out", str(out), "--no-report", "-q"],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "cannot get a token" in result.output
    assert not out.exists() and fake.requests == [] and server.state.requests == []
