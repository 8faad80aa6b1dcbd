"""The default rule pack (frameworks/rules, embedded in the extension): shape, metadata, the
facts it cites, and a run over the synthetic sample tenant.

Each rule's non-compliant and compliant examples are cases in tests/cases/rules/*.json, run by
tests/test_batch_cases.py and by `cargo test -p azsecmap-core --test batch_cases`.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import azsecmap
from azsecmap import _core

from .conftest import CASES, INITIATIVES, REPO

CONTROL_ID = {
    "MCSB_v1": r"[A-Z]{2}-\d{1,2}",
    "CIS_Azure_2.0.0": r"\d+(\.\d+){0,3}",
    "CIS_Azure_3.0.0": r"\d+(\.\d+){0,3}",
    "CIS_Controls_v8.1": r"\d+\.\d+",
    "NIST_SP_800-53_R5": r"[A-Z]{2}-\d+(\(\d+\))?",
    "PCI_DSS_v4.0.1": r"\d+(\.\d+){1,4}",
    "ISO_IEC_27001_2022": r"(A\.)?\d+(\.\d+){0,2}",
}
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SERVICES = {
    "ai", "aks", "appservice", "backup", "cache", "compute", "containerregistry", "cosmosdb",
    "defender", "identity", "keyvault", "messaging", "monitor", "network", "postgresql", "sql",
    "storage",
}  # fmt: skip

# Rules whose resource type the sample tenant (rust/azsecmap-core/src/sample) does not generate.
NOT_IN_SAMPLE = {
    "Microsoft.KeyVault/managedHSMs": "HSM pools are referenced by vaults but not generated",
    "Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies": "WAF policies are "
    "referenced by application gateways but not generated",
    "Microsoft.Network/frontdoorWebApplicationFirewallPolicies": "no Front Door in the sample",
    "Microsoft.Network/frontDoors": "no Front Door in the sample",
    "Microsoft.Network/azureFirewalls": "no hub firewall in the sample",
    "Microsoft.Network/firewallPolicies": "no hub firewall in the sample",
    "Microsoft.Network/ddosProtectionPlans": "DDoS plans are not generated",
    "Microsoft.Network/virtualNetworkGateways": "no VPN gateway in the sample",
    "Microsoft.Network/privateEndpoints": "private endpoints appear only as connections on "
    "their target resources",
    "Microsoft.Compute/virtualMachineScaleSets": "scale sets are named by VMs but not generated",
    "Microsoft.RecoveryServices/vaults": "no Recovery Services vault in the sample",
    "Microsoft.OperationalInsights/workspaces": "workspaces are referenced by diagnostic settings "
    "but not generated",
    "Microsoft.Authorization/roleDefinitions": "only role assignments are generated",
}


def doc_text() -> str:
    return (REPO / "docs" / "rule-pack.md").read_text()


@functools.cache
def pack() -> azsecmap.PolicyPack:
    return azsecmap.PolicyPack.builtin()


@functools.cache
def docs() -> dict[str, tuple[str, dict[str, Any]]]:
    """policy id -> (path under frameworks/rules, definition)."""
    out = {}
    for path, text in _core.builtin_rules():
        doc = json.loads(text)
        out[doc["name"]] = (path, doc)
    return out


def rule_types(rule: Any) -> set[str]:
    """The resource types a rule's `type` conditions name."""
    found: set[str] = set()
    if isinstance(rule, dict):
        if str(rule.get("field", "")).lower() == "type":
            for op in ("equals", "in"):
                v = rule.get(op)
                found.update([v] if isinstance(v, str) else v or [])
        for v in rule.values():
            found |= rule_types(v)
    elif isinstance(rule, list):
        for v in rule:
            found |= rule_types(v)
    return found


def rule_type(policy_id: str) -> str:
    (t,) = rule_types(docs()[policy_id][1]["properties"]["policyRule"]["if"])
    return t


def test_pack_size_names_and_layout() -> None:
    p = pack()
    assert len(p) >= 80, len(p)
    ids = p.ids()
    assert len(ids) == len(set(ids)), "duplicate rule names"
    assert set(ids) == set(docs())
    on_disk = sorted(
        f.relative_to(REPO / "frameworks" / "rules").as_posix()
        for f in (REPO / "frameworks" / "rules").rglob("*.json")
    )
    assert on_disk == sorted(path for path, _ in docs().values()), "wheel is stale: rebuild"
    for policy_id, (path, _) in docs().items():
        service, file = path.split("/")
        assert service in SERVICES, path
        assert file == f"{policy_id}.json", path
        assert re.fullmatch(r"azsecmap-[a-z0-9]+-[a-z0-9]+(-[a-z0-9]+)+", policy_id), policy_id
    assert {path.split("/")[0] for path, _ in docs().values()} == SERVICES


def test_every_rule_compiles_with_known_aliases() -> None:
    for policy in pack():
        assert policy.mode in ("All", "Indexed"), policy.id
        assert policy.mode_supported
        assert policy.unknown_aliases == [], (policy.id, policy.unknown_aliases)
        assert policy.default_effect in ("audit", "auditifnotexists"), policy.id
        if policy.default_effect == "auditifnotexists":
            assert policy.details and policy.details.get("type"), policy.id


@pytest.mark.parametrize("policy_id", sorted(docs()))
def test_definition_shape(policy_id: str) -> None:
    _, doc = docs()[policy_id]
    props = doc["properties"]
    assert props["displayName"] and len(props["displayName"]) <= 128
    description = props["description"]
    assert 0 < description.count(". ") + 1 <= 2 and description.endswith("."), description
    meta = props["metadata"]
    assert meta["version"] == "1.0.0" and meta["category"]
    ours = meta["azsecmap"]
    assert set(ours) == {"controls", "builtin", "severity"}
    assert ours["severity"] in ("high", "medium", "low")
    assert ours["controls"], "every rule gives evidence for at least one control"
    assert len(ours["controls"]) == len(set(ours["controls"]))
    assert all(GUID.fullmatch(g) for g in ours["builtin"]), ours["builtin"]
    effect = props["parameters"]["effect"]
    assert effect["type"] == "String"
    assert effect["defaultValue"] in ("Audit", "AuditIfNotExists")
    assert (
        effect["defaultValue"] in effect["allowedValues"] and "Disabled" in effect["allowedValues"]
    )
    assert props["policyRule"]["then"]["effect"] == "[parameters('effect')]"
    assert len(rule_types(props["policyRule"]["if"])) == 1, "one resource type per rule"


def test_control_ids_are_well_formed() -> None:
    for policy_id, (_, doc) in docs().items():
        for control in doc["properties"]["metadata"]["azsecmap"]["controls"]:
            framework, _, cid = control.partition(":")
            assert framework in CONTROL_ID, (policy_id, control)
            assert re.fullmatch(CONTROL_ID[framework], cid), (policy_id, control)


@functools.cache
def initiative(data: Path, framework: str) -> tuple[set[str], dict[str, set[str]]]:
    """(declared control ids, built-in GUID -> control ids it is grouped under)."""
    file, prefix = INITIATIVES[framework]
    props = json.loads((data / "azure-policy/policySetDefinitions" / file).read_text())[
        "properties"
    ]
    groups = {
        g["name"][len(prefix) :]
        for g in props["policyDefinitionGroups"]
        if g["name"].startswith(prefix)
    }
    members: dict[str, set[str]] = {}
    for ref in props["policyDefinitions"]:
        guid = ref["policyDefinitionId"].rsplit("/", 1)[-1]
        for g in ref.get("groupNames") or []:
            if g.startswith(prefix):
                members.setdefault(guid, set()).add(g[len(prefix) :])
    return groups, members


def test_controls_exist_in_the_initiatives(shared_data: Path) -> None:
    missing = []
    for policy_id, (_, doc) in docs().items():
        for control in doc["properties"]["metadata"]["azsecmap"]["controls"]:
            framework, _, cid = control.partition(":")
            if cid not in initiative(shared_data, framework)[0]:
                missing.append((policy_id, control))
    assert missing == []


def test_controls_carry_the_builtins_initiative_edges(shared_data: Path) -> None:
    """Where a built-in is grouped under a control, the rule claims that control too."""
    gaps = []
    for policy_id, (_, doc) in docs().items():
        ours = doc["properties"]["metadata"]["azsecmap"]
        for framework in INITIATIVES:
            _, members = initiative(shared_data, framework)
            for guid in ours["builtin"]:
                for cid in members.get(guid, ()):
                    if f"{framework}:{cid}" not in ours["controls"]:
                        gaps.append((policy_id, guid, f"{framework}:{cid}"))
    assert gaps == []


@functools.cache
def builtin_definitions(data: Path) -> dict[str, str]:
    """GUID -> policyRule JSON text, lower-cased, for every built-in definition."""
    out = {}
    for f in (data / "azure-policy/policyDefinitions").rglob("*.json"):
        try:
            d = json.loads(f.read_text(encoding="utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(d, dict) and "name" in d:
            rule = d.get("properties", {}).get("policyRule", {})
            out[d["name"]] = json.dumps(rule).lower()
    return out


def test_builtins_exist_and_check_the_same_type(shared_data: Path) -> None:
    defs = builtin_definitions(shared_data)
    problems = []
    for policy_id, (_, doc) in docs().items():
        for guid in doc["properties"]["metadata"]["azsecmap"]["builtin"]:
            if guid not in defs:
                problems.append((policy_id, guid, "not a built-in"))
            elif rule_type(policy_id).lower() not in defs[guid]:
                problems.append((policy_id, guid, f"does not mention {rule_type(policy_id)}"))
    assert problems == []
    with_builtin = sum(
        bool(d["properties"]["metadata"]["azsecmap"]["builtin"]) for _, d in docs().values()
    )
    assert with_builtin >= len(docs()) * 2 // 3, with_builtin


def test_every_rule_has_failing_and_passing_cases() -> None:
    states: dict[str, set[str]] = {}
    for file in (CASES / "rules").glob("*.json"):
        for case in json.loads(file.read_text())["cases"]:
            assert case["rule"] in docs(), case["name"]
            states.setdefault(case["rule"], set()).update(case["expected"].values())
    lacking = {
        pid: sorted(states.get(pid, set()))
        for pid in docs()
        if not {"compliant", "non_compliant"} <= states.get(pid, set())
    }
    assert lacking == {}


def test_metadata_frame() -> None:
    m = pack().metadata()
    assert m.schema == pl.Schema(
        {
            "policy_id": pl.String,
            "display_name": pl.String,
            "category": pl.String,
            "version": pl.String,
            "mode": pl.String,
            "default_effect": pl.String,
            "severity": pl.String,
            "controls": pl.List(pl.String),
            "builtin": pl.List(pl.String),
            "source": pl.String,
        }
    )
    assert m.height == len(pack()) and m["policy_id"].to_list() == pack().ids()
    assert m.filter(pl.col("controls").list.len() == 0).height == 0
    row = m.filter(pl.col("policy_id") == "azsecmap-st-001-secure-transfer").row(0, named=True)
    assert row["builtin"] == ["404c3081-a854-4457-ae30-26a93ef643f9"]
    assert "MCSB_v1:DP-3" in row["controls"] and row["severity"] == "high"
    assert row["source"].endswith("frameworks/rules/storage/azsecmap-st-001-secure-transfer.json")
    frameworks = set(m.explode("controls")["controls"].str.split(":").list.first())
    assert frameworks == set(INITIATIVES), "every framework gets evidence from the pack"


def test_metadata_of_a_pack_without_ours() -> None:
    rule = {"if": {"field": "type", "equals": "Microsoft.Web/sites"}, "then": {"effect": "audit"}}
    m = azsecmap.PolicyPack([azsecmap.Policy.from_json(rule, name="plain")]).metadata()
    assert m.row(0, named=True) | {"source": None} == {
        "policy_id": "plain",
        "display_name": None,
        "category": None,
        "version": None,
        "mode": "All",
        "default_effect": "audit",
        "severity": None,
        "controls": [],
        "builtin": [],
        "source": None,
    }


def test_pack_over_the_sample_tenant() -> None:
    ev = azsecmap.evaluate(pack(), azsecmap.Resources.sample(20_000), reasons=False)
    assert ev.load_errors == [] and ev.policy_errors == []
    summary = ev.summary()
    assert summary.filter(pl.col("error") > 0).height == 0, summary.filter(pl.col("error") > 0)
    applied = set(summary["policy_id"].to_list())
    idle = {pid: rule_type(pid) for pid in docs() if pid not in applied}
    # Exactly the rules whose type the sample does not generate apply to nothing.
    expected_idle = {pid for pid in docs() if rule_type(pid) in NOT_IN_SAMPLE}
    assert set(idle) == expected_idle, set(idle) ^ expected_idle
    # The sample's misconfigurations are found: most applicable rules flag something.
    flagged = summary.filter(pl.col("non_compliant") > 0).height
    assert flagged >= len(applied) * 3 // 4, (flagged, len(applied))
    # Existence rules see their related types in the sample, so none is left unknown.
    assert summary.filter(pl.col("unknown") > 0).height == 0, summary.filter(pl.col("unknown") > 0)
    # docs/rule-pack.md records these counts (scripts/rule_pack_report.py); keep it true.
    measured = {
        r["policy_id"]: f"{r['non_compliant']:,} / {r['compliant'] + r['non_compliant']:,}"
        for r in summary.with_columns(pl.col("policy_id").cast(pl.String)).iter_rows(named=True)
    }
    documented = dict(
        re.findall(r"^\| `(azsecmap-[^`]+)` \|.*\| ([0-9,]+ / [0-9,]+|—) \|$", doc_text(), re.M)
    )
    assert set(documented) == set(docs())
    assert {k: v for k, v in documented.items() if v != "—"} == measured


def test_cases_discriminate() -> None:
    """Each rule's cases fail for the rule with its `if` negated, so they pin the condition."""
    for file in sorted((CASES / "rules").glob("*.json")):
        for case in json.loads(file.read_text())["cases"]:
            doc = json.loads(json.dumps(docs()[case["rule"]][1]))
            rule = doc["properties"]["policyRule"]
            if "allOf" in rule["if"]:  # keep the type guard, negate the rest
                guard, *rest = rule["if"]["allOf"]
                rule["if"] = {"allOf": [guard, {"not": {"allOf": rest}}]}
            else:
                rule["if"] = {"not": rule["if"]}
            flipped = azsecmap.PolicyPack([azsecmap.Policy.from_json(doc)])
            ev = azsecmap.evaluate(
                flipped,
                azsecmap.Resources.from_records(case["resources"]),
                include_not_applicable=True,
            )
            got = dict(
                zip(
                    ev.results["resource_id"].cast(str).to_list(),
                    ev.results["state"].cast(str).to_list(),
                    strict=True,
                )
            )
            assert got != case["expected"], case["name"]


# Microsoft's published ARM examples (../shared/data/arm-resources) and what our rules say about
# them: (file, rule, matched). The README of that folder lists each example's misconfigurations.
ARM_EXAMPLES = [
    (
        "Microsoft.Storage/storageAccounts/storage-get-properties.json",
        "st-001-secure-transfer",
        True,
    ),
    (
        "Microsoft.Storage/storageAccounts/storage-get-properties.json",
        "st-004-network-default-deny",
        True,
    ),
    (
        "Microsoft.Storage/storageAccounts/storage-get-properties-cmk.json",
        "st-008-customer-managed-key",
        False,
    ),
    ("Microsoft.KeyVault/vaults/vault-get.json", "kv-001-soft-delete", True),
    ("Microsoft.KeyVault/vaults/vault-list-item-premium.json", "kv-001-soft-delete", False),
    (
        "Microsoft.Sql/servers/auditingSettings/server-blob-auditing-get.json",
        "sql-006-audit-retention",
        False,
    ),
    (
        "Microsoft.Sql/servers/firewallRules/firewall-rule-get.json",
        "sql-008-firewall-azure-services",
        True,
    ),
    (
        "Microsoft.Sql/servers/firewallRules/firewall-rule-get.json",
        "sql-007-firewall-not-internet",
        False,
    ),
    ("Microsoft.Network/networkSecurityGroups/nsg-get.json", "nsg-001-no-internet-ssh", False),
    ("Microsoft.Network/networkSecurityGroups/nsg-get.json", "nsg-003-no-internet-any-port", False),
    ("Microsoft.Network/applicationGateways/appgw-get.json", "agw-002-minimum-tls", True),
    ("Microsoft.Compute/virtualMachines/vm-get.json", "vm-004-windows-automatic-updates", True),
    ("Microsoft.Compute/virtualMachines/vm-get.json", "vm-003-linux-ssh-keys-only", False),
    ("Microsoft.Web/sites/webapp-get.json", "app-001-https-only", True),
    ("Microsoft.ContainerService/managedClusters/aks-get.json", "aks-001-rbac", True),
    (
        "Microsoft.ContainerRegistry/registries/registry-get.json",
        "acr-001-admin-user-disabled",
        False,
    ),
    ("Microsoft.ContainerRegistry/registries/registry-get.json", "acr-003-public-network", True),
    ("Microsoft.Cache/redis/redis-get.json", "redis-001-tls-only", True),
    (
        "Microsoft.ServiceBus/namespaces/namespace-list-item-standard.json",
        "sb-001-minimum-tls",
        False,
    ),
    (
        "Microsoft.ServiceBus/namespaces/namespace-list-item-premium.json",
        "sb-001-minimum-tls",
        True,
    ),
    (
        "Microsoft.Insights/diagnosticSettings/diagnostic-setting-get.json",
        "diag-001-central-destination",
        False,
    ),
    (
        "Microsoft.Authorization/roleAssignments/role-assignment-get.json",
        "iam-001-no-direct-user-owner",
        False,
    ),
]


@pytest.mark.parametrize(("file", "rule", "matched"), ARM_EXAMPLES)
def test_rules_on_published_arm_examples(
    shared_data: Path, file: str, rule: str, matched: bool
) -> None:
    resource = json.loads((shared_data / "arm-resources" / file).read_text())
    decision = pack()[f"azsecmap-{rule}"].evaluate(resource)
    assert decision.applicable
    assert decision.matched is matched, decision.reasons


# Issue 4, item 4: the services the Azure security architecture names, and how a rule shows it
# covers one (a resource type its `if` names, or for cross-cutting concerns a property it reads).
SERVICES_COVERED = {
    "Key Vault": {"Microsoft.KeyVault/vaults"},
    "Managed HSM": {"Microsoft.KeyVault/managedHSMs"},
    "Storage": {"Microsoft.Storage/storageAccounts"},
    "SQL": {"Microsoft.Sql/servers", "Microsoft.Sql/servers/firewallRules"},
    "PostgreSQL": {"Microsoft.DBforPostgreSQL/flexibleServers"},
    "Cosmos DB": {"Microsoft.DocumentDB/databaseAccounts"},
    "NSGs": {"Microsoft.Network/networkSecurityGroups"},
    "public IPs": {"Microsoft.Network/publicIPAddresses"},
    "Azure Firewall": {"Microsoft.Network/azureFirewalls", "Microsoft.Network/firewallPolicies"},
    "DDoS protection plans": {"Microsoft.Network/ddosProtectionPlans"},
    "VPN gateways": {"Microsoft.Network/virtualNetworkGateways"},
    "Front Door WAF": {"Microsoft.Network/frontDoors"},
    "Application Gateway WAF": {"Microsoft.Network/applicationGateways"},
    "private endpoints": {"Microsoft.Network/privateEndpoints"},
    "compute": {"Microsoft.Compute/virtualMachines"},
    "disks": {"Microsoft.Compute/disks"},
    "App Service": {"Microsoft.Web/sites"},
    "AKS": {"Microsoft.ContainerService/managedClusters"},
    "Container Registry": {"Microsoft.ContainerRegistry/registries"},
    "Backup": {"Microsoft.RecoveryServices/vaults"},
    "Log Analytics": {"Microsoft.OperationalInsights/workspaces"},
    "Defender for Cloud plans": {"Microsoft.Security/pricings"},
    "role assignments": {"Microsoft.Authorization/roleAssignments"},
}
CROSS_CUTTING = {
    "diagnostic settings": '"type": "Microsoft.Insights/diagnosticSettings"',
    "confidential computing": "ConfidentialVM",
    "encryption at rest": "encryption",
    "managed identities": '"identity.type"',
    "local auth disabled": "disableLocalAuth",
    "private link": "privateEndpointConnections[*]",
}


def test_pack_covers_the_named_services() -> None:
    types = {rule_type(pid) for pid in docs()}
    assert {s: t for s, t in SERVICES_COVERED.items() if not t & types} == {}
    texts = [json.dumps(doc["properties"]["policyRule"]) for _, doc in docs().values()]
    counts = {c: sum(needle in t for t in texts) for c, needle in CROSS_CUTTING.items()}
    assert min(counts.values()) >= 1, counts
    assert counts["diagnostic settings"] >= 8 and counts["private link"] >= 4, counts
