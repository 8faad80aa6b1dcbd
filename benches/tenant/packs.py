"""The two policy packs of issue 3, read from Microsoft's public built-ins.

Workload (a): 25 built-in definitions, fixed by name below so that the hand-translated peers
match them. `check_pack_a` re-verifies the selection rules of the issue on the files.
Workload (b): every `All`/`Indexed` built-in that CIS Azure 2.0.0, NIST SP 800-53 R5,
PCI DSS v4.0.1 or the Microsoft cloud security benchmark references.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("AZSECMAP_DATA", ROOT.parent / "shared" / "data"))
DEFINITIONS = DATA / "azure-policy" / "policyDefinitions"
INITIATIVES = DATA / "azure-policy" / "policySetDefinitions"

# Chosen from the 171 built-ins that qualify (mode All/Indexed, effect audit/deny by default,
# every parameter defaulted, a `type` condition naming a type of the sample tenant) for spread
# over types and constructs: plain fields, `[*]` fields, `count` with and without `where`,
# `value` over parameters, like/notLike/in/notIn/contains/notContains/less/greater/exists.
PACK_A = (
    "Storage/StorageAccountMinimumTLSVersion_Audit.json",
    "Storage/ASC_Storage_DisallowPublicBlobAccess_Audit.json",
    "Storage/StorageAccountAllowSharedKeyAccess_Audit.json",
    "Storage/StorageAccountOnlyVnetRulesEnabled_Audit.json",
    "Storage/GeoRedundant_StorageAccounts_Audit.json",
    "Network/VirtualNetworkServiceEndpoint_StorageAccount_Audit.json",
    "Key Vault/SoftDeleteMustBeEnabled_Audit.json",
    "Key Vault/Should_Use_RBAC.json",
    "Key Vault/PrivateEndpointEnabled_Audit.json",
    "Network/NetworkPublicIPNic_Deny.json",
    "Network/NetworkIPForwardingNic_Deny.json",
    "App Service/Webapp_AuditHTTP_Audit.json",
    "App Service/WebApp_PublicNetworkAccess_Audit.json",
    "App Service/FunctionApp_AuditHTTP_Audit.json",
    "SQL/SqlServer_MiniumTLSVersion_Audit.json",
    "SQL/SqlServer_PrivateEndpoint_Audit.json",
    "Compute/Disks_ExportLimitNetworkAccess_Audit.json",
    "Compute/VMRequireManagedDisk_Audit.json",
    "Resilience/Compute_disks_ZoneResilient_Audit.json",
    "Monitoring/LogAnalyticsExtension_Linux_VM_Deny.json",
    "Cosmos DB/Cosmos_NetworkRulesExist_Audit.json",
    "Container Registry/ACR_AdminAccountDisabled_AuditDeny.json",
    "Kubernetes/AKS_EncryptionAtHost_Deny.json",
    "Network/EnabledWAF_Deny.json",
    "Resilience/Network_publicipaddresses_ZoneResilient_Audit.json",
)

FRAMEWORK_INITIATIVES = (
    "Regulatory Compliance/CISv2_0_0.json",
    "Regulatory Compliance/NIST_SP_800-53_R5.json",
    "Regulatory Compliance/PCI_DSS_v4.0.1.json",
    "Security Center/AzureSecurityCenter.json",
)


def have_data() -> bool:
    return DEFINITIONS.is_dir() and INITIATIVES.is_dir()


def pack_a_files() -> list[Path]:
    return [DEFINITIONS / rel for rel in PACK_A]


def load_definitions(paths: list[Path]) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in paths]


def default_effect(definition: dict[str, Any]) -> str:
    props = definition.get("properties", definition)
    effect = props["policyRule"]["then"]["effect"]
    m = re.fullmatch(r"\[parameters\('(\w+)'\)\]", effect)
    if m:
        effect = props["parameters"][m.group(1)]["defaultValue"]
    return str(effect).lower()


def check_pack_a() -> None:
    """Fail loudly if a file of pack (a) stops meeting the issue's selection rules."""
    text = ""
    for path, d in zip(pack_a_files(), load_definitions(pack_a_files()), strict=True):
        props = d["properties"]
        assert props["mode"] in ("All", "Indexed"), path
        assert default_effect(d) in ("audit", "deny"), path
        params = props.get("parameters") or {}
        assert all("defaultValue" in v for v in params.values()), path
        text += json.dumps(props["policyRule"]["if"])
    assert len(PACK_A) == 25
    assert '"count"' in text and "[*]" in text


def pack_b_files() -> tuple[list[Path], dict[str, int]]:
    """Definition files referenced by the four framework initiatives (mode All/Indexed), and
    how many distinct definitions each initiative and the union reference."""
    by_name: dict[str, tuple[Path, str]] = {}
    for path in DEFINITIONS.rglob("*.json"):
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(d, dict) and "name" in d:
            by_name[d["name"].lower()] = (path, d.get("properties", {}).get("mode", "All"))
    stats: dict[str, int] = {}
    wanted: set[str] = set()
    unresolved = 0
    for rel in FRAMEWORK_INITIATIVES:
        init = json.loads((INITIATIVES / rel).read_text(encoding="utf-8"))
        names = {
            ref["policyDefinitionId"].rsplit("/", 1)[-1].lower()
            for ref in init["properties"]["policyDefinitions"]
        }
        stats[Path(rel).stem] = len(names)
        unresolved += len([n for n in names if n not in by_name])
        wanted |= names
    chosen = sorted(
        by_name[n][0] for n in wanted if n in by_name and by_name[n][1] in ("All", "Indexed")
    )
    stats["union"] = len(wanted)
    stats["unresolved"] = len([n for n in wanted if n not in by_name])
    stats["other_modes"] = len(
        [n for n in wanted if n in by_name and by_name[n][1] not in ("All", "Indexed")]
    )
    stats["all_indexed"] = len(chosen)
    return chosen, stats


def pack_files(workload: str) -> list[Path]:
    if workload == "a":
        return pack_a_files()
    if workload == "b":
        return pack_b_files()[0]
    if workload == "h":
        from . import heldout

        return heldout.pack_h_files()
    raise ValueError(f"unknown workload `{workload}`")
