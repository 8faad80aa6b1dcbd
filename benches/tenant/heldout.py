"""Workload (h): a held-out check, independent of the sample tenant and of pack (a).

The issue's acceptance runs a tenant generator and a policy set that azsecmap was not built
around, with their own DuckDB translation, and asks that the non-compliant counts agree
exactly. This module is our own such check:

- `write_tenant` is a generator written here in plain Python. It shares no code with the
  Rust sample (`azsecmap sample`), and it follows conventions the sample does not: types
  lower-cased as Resource Graph returns them, enum values in any case, properties that are
  missing, `null` or empty, arrays of objects lacking the member a rule reads, and string
  padding with escapes and non-ASCII text. About a fifth of its resources are of types no
  policy targets, and the child resources existence checks look for come before or after
  their parents, named `Default`, `default` or `parent/default`.
- `PACK_H` holds 29 built-in definitions over 15 resource types, none of them in pack (a),
  three of them `auditIfNotExists` over child resources. Most of their types are not in the
  sample at all.
- `COLUMNS` and `RULES` translate the 29 rules into DuckDB SQL from the Azure Policy docs
  (missing operands, case-insensitive strings, `[*]` over an empty or missing array is true,
  `count` of a missing array is 0, `empty(null)` is true), for `peer_duckdb.run`.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from . import packs

PACK_H = (
    "Backup/RecoveryServices_PublicNetworkAccess_AuditDeny.json",
    "Backup/AzBackupRecoveryServicesVault_MUA_Audit.json",
    "Backup/RecoveryServices_Immutability_Audit.json",
    "Backup/RecoveryServices_PrivateEndpoint_Audit.json",
    "Search/DisableLocalAuth_AuditDeny.json",
    "Search/PrivateEndpoints_Audit.json",
    "Search/RequirePublicNetworkAccessDisabled_Deny.json",
    "Synapse/WorkspaceManagedVnet_Audit.json",
    "Synapse/Workspace_DataExfiltrationPrevention_Deny.json",
    "Azure Databricks/Databricks_DisablePublicIP_Audit.json",
    "Azure Databricks/AllowedDatabricksSkus_Audit.json",
    "SignalR/DisableLocalAuth_AuditDeny.json",
    "SignalR/PrivateEndpointEnabled_Audit_v2.json",
    "Internet of Things/IoTHub_DisablePublicNetworkAccess_AuditDeny.json",
    "Internet of Things/IotHub_CMKEncryptionEnabled.json",
    "Maps/RestrictCORSAccess_Audit.json",
    "Maps/BlockGlobalDataProcessing_Deny.json",
    "App Configuration/DisableLocalAuth_Audit.json",
    "Automation/Account_ManagedIdentity_Audit.json",
    "Batch/DisableLocalAuth_Audit.json",
    "App Service/HostingEnvironment_DisableTls_Audit.json",
    "App Service/HostingEnvironment_StrongestTLSCipher_Audit.json",
    "SQL/SqlManagedInstance_MiniumTLSVersion_Audit.json",
    "Container Registry/ACR_AnonymousPullDisabled_AuditDeny.json",
    "Cosmos DB/Cosmos_NetworkRulesNoAzureDatacenterAccess_Audit.json",
    "Key Vault/Should_Use_PrivateEndpoint_Audit.json",
    # auditIfNotExists over child resources
    "SQL/SqlManagedInstance_AdvancedDataSecurity_Audit.json",
    "SQL/VulnerabilityAssessmentOnManagedInstance_Audit.json",
    "Synapse/WorkspaceSqlAuditing_Audit.json",
)


def pack_h_files() -> list[Path]:
    return [packs.DEFINITIONS / rel for rel in PACK_H]


# --- the generator -------------------------------------------------------------------------

_REGIONS = ("eastus", "West Europe", "southeastasia", "UK South", "centralus", "japaneast")
_CIPHER_A = "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
_CIPHER_B = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"


class _Gen:
    """One seeded stream of choices; every helper draws from it in a fixed order."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def pick(self, *options: Any) -> Any:
        return self.r.choice(options)

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def cased(self, word: str) -> str:
        """`word` as written, lower-cased or upper-cased: rules compare strings ignoring case."""
        return self.pick(word, word, word.lower(), word.upper())

    def maybe(self, props: dict[str, Any], key: str, value: Any, nullable: bool = False) -> None:
        """Set `key` most of the time; leave it out (or write `null`) otherwise."""
        roll = self.r.random()
        if roll < 0.12:
            return
        if nullable and roll < 0.17:
            props[key] = None
            return
        props[key] = value

    def pe_connections(self, with_backup_ids: bool = False) -> list[dict[str, Any]]:
        out = []
        for i in range(self.pick(0, 0, 1, 1, 2, 3)):
            status = self.cased(self.pick("Approved", "Approved", "Pending", "Rejected"))
            name = f"pe{i}" + (self.pick(".backup.eus", ".site") if with_backup_ids else "")
            conn: dict[str, Any] = {
                "id": f"/subscriptions/x/privateEndpointConnections/{name}",
                "properties": {
                    "privateLinkServiceConnectionState": {
                        "status": status,
                        "description": "Auto-approved",
                    },
                    "provisioningState": self.pick("Succeeded", "Succeeded", "Failed"),
                },
            }
            if self.chance(0.1):
                del conn["properties"]["privateLinkServiceConnectionState"]
            out.append(conn)
        return out


def _recovery_vault(g: _Gen) -> tuple[dict[str, Any], dict[str, Any]]:
    p: dict[str, Any] = {"provisioningState": "Succeeded"}
    g.maybe(p, "publicNetworkAccess", g.cased(g.pick("Enabled", "Disabled")), nullable=True)
    sec: dict[str, Any] = {}
    g.maybe(sec, "multiUserAuthorization", g.cased(g.pick("Enabled", "Disabled", "Invalid")))
    if g.chance(0.7):
        state = g.cased(g.pick("Locked", "Unlocked", "Disabled"))
        sec["immutabilitySettings"] = {"state": state}
    if sec or g.chance(0.5):
        p["securitySettings"] = sec
    p["privateEndpointConnections"] = g.pe_connections(with_backup_ids=True)
    if g.chance(0.15):
        del p["privateEndpointConnections"]
    return p, {"sku": {"name": "RS0", "tier": "Standard"}}


def _search(g: _Gen) -> tuple[dict[str, Any], dict[str, Any]]:
    p: dict[str, Any] = {"replicaCount": g.pick(1, 2, 3), "hostingMode": "default"}
    g.maybe(p, "disableLocalAuth", g.pick(True, False))
    # Search writes these in lower case.
    g.maybe(p, "publicNetworkAccess", g.pick("enabled", "disabled", "Disabled"), nullable=True)
    p["privateEndpointConnections"] = g.pe_connections()
    return p, {"sku": {"name": g.pick("basic", "standard")}}


def _synapse(g: _Gen) -> tuple[dict[str, Any], dict[str, Any]]:
    p: dict[str, Any] = {"connectivityEndpoints": {"web": "https://web.azuresynapse.net"}}
    g.maybe(p, "managedVirtualNetwork", g.pick("default", "Default", "", "none"), nullable=True)
    if g.chance(0.7):
        ids = [f"{g.r.randrange(16**8):08x}-0000-4000-8000-000000000000"]
        p["managedVirtualNetworkSettings"] = {
            "preventDataExfiltration": g.pick(True, False),
            "allowedAadTenantIdsForLinking": g.pick([], [], ids, ids * 2),
        }
    return p, {"identity": {"type": "SystemAssigned"}}


def _databricks(g: _Gen) -> tuple[dict[str, Any], dict[str, Any]]:
    params: dict[str, Any] = {"prepareEncryption": {"type": "Bool", "value": False}}
    if g.chance(0.85):
        params["enableNoPublicIp"] = {"type": "Bool", "value": g.pick(True, True, False)}
    p = {
        "managedResourceGroupId": "/subscriptions/x/resourceGroups/databricks-rg",
        "parameters": params,
    }
    top: dict[str, Any] = {}
    if g.chance(0.9):
        top["sku"] = {"name": g.pick("premium", "Premium", "standard", "trial", "")}
    return p, top


def _signalr(g: _Gen) -> tuple[dict[str, Any], dict[str, Any]]:
    p: dict[str, Any] = {"hostName": "x.service.signalr.net", "publicPort": 443}
    g.maybe(p, "disableLocalAuth", g.pick(True, False))
    p["privateEndpointConnections"] = g.pe_connections()
    return p, {"sku": {"name": "Standard_S1", "tier": "Standard"}, "kind": "SignalR"}


def _iothub(g: _Gen) -> tuple[dict[str, Any], dict[str, Any]]:
    p: dict[str, Any] = {"eventHubEndpoints": {"events": {"retentionTimeInDays": 1}}}
    g.maybe(p, "publicNetworkAccess", g.cased(g.pick("Enabled", "Disabled")), nullable=True)
    roll = g.r.random()
    if roll < 0.3:
        p["encryption"] = {"keySource": "Microsoft.Devices"}
    elif roll < 0.85:
        kvp = g.pick(
            [],
            [{"keyIdentifier": "https://kv1.vault.azure.net/keys/k1"}],
            [{"keyIdentifier": ""}],
            [{"identity": {"userAssignedIdentity": "/x/id1"}}],
        )
        p["encryption"] = {"keySource": "Microsoft.KeyVault", "keyVaultProperties": kvp}
    return p, {"sku": {"name": "S1", "tier": "Standard"}}


def _maps(g: _Gen) -> tuple[dict[str, Any], dict[str, Any]]:
    p: dict[str, Any] = {"uniqueId": f"{g.r.randrange(16**8):08x}"}
    roll = g.r.random()
    if roll < 0.15:
        pass  # no cors at all
    elif roll < 0.25:
        p["cors"] = {}
    else:
        p["cors"] = {
            "corsRules": g.pick(
                [],
                [{"allowedOrigins": ["https://contoso.com", "https://fabrikam.com"]}],
                [{"allowedOrigins": ["*"]}],
                [{"allowedOrigins": []}],
                [{}],
                [{"allowedOrigins": ["https://contoso.com"]}, {}],
                [{"allowedOrigins": ["https://a.example"]}, {"allowedOrigins": [""]}],
            )
        }
    if g.chance(0.8):
        p["locations"] = g.pick(
            [], [{"locationName": "East US"}], [{"locationName": "north europe"}]
        )
    return p, {"sku": {"name": "G2"}, "kind": "Gen2"}


def _app_configuration(g: _Gen) -> tuple[dict[str, Any], dict[str, Any]]:
    p: dict[str, Any] = {"endpoint": "https://x.azconfig.io"}
    g.maybe(p, "disableLocalAuth", g.pick(True, False))
    return p, {"sku": {"name": "standard"}}


def _automation(g: _Gen) -> tuple[dict[str, Any], dict[str, Any]]:
    top: dict[str, Any] = {}
    if g.chance(0.75):
        kind = g.pick("SystemAssigned", "UserAssigned", "SystemAssigned, UserAssigned", "None")
        top["identity"] = {"type": g.cased(kind)}
    return {"state": "Ok", "sku": {"name": "Basic"}}, top


def _batch(g: _Gen) -> tuple[dict[str, Any], dict[str, Any]]:
    p: dict[str, Any] = {"accountEndpoint": "x.batch.azure.com"}
    if g.chance(0.85):
        p["allowedAuthenticationModes"] = g.pick(
            [], ["AAD"], ["aad"], ["SharedKey", "AAD"], ["TaskAuthenticationToken"]
        )
    return p, {}


def _ase(g: _Gen) -> tuple[dict[str, Any], dict[str, Any]]:
    settings = []
    if g.chance(0.6):
        settings.append(
            {"name": g.pick("DisableTls1.0", "disabletls1.0"), "value": g.pick("1", "1", "0")}
        )
    if g.chance(0.5):
        suites = g.pick(
            f"{_CIPHER_A},{_CIPHER_B}",
            f"{_CIPHER_B},{_CIPHER_A}",
            f"{_CIPHER_A},{_CIPHER_B},TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            _CIPHER_A,
        )
        settings.append({"name": "FrontEndSSLCipherSuiteOrder", "value": suites})
    if g.chance(0.3):
        settings.append({"name": "InternalEncryption", "value": "true"})
    p = {"clusterSettings": settings, "internalLoadBalancingMode": "Web, Publishing"}
    top: dict[str, Any] = {}
    if g.chance(0.9):
        top["kind"] = g.pick("ASEV3", "ASEV2", "asev3", "ASE")
    return p, top


def _sql_mi(g: _Gen) -> tuple[dict[str, Any], dict[str, Any]]:
    p: dict[str, Any] = {"vCores": g.pick(4, 8), "licenseType": "LicenseIncluded"}
    g.maybe(p, "minimalTlsVersion", g.pick("1.0", "1.1", "1.2", "1.2", "None"))
    return p, {"sku": {"name": "GP_Gen5", "tier": "GeneralPurpose"}}


def _registry(g: _Gen) -> tuple[dict[str, Any], dict[str, Any]]:
    p: dict[str, Any] = {"loginServer": "x.azurecr.io", "adminUserEnabled": False}
    g.maybe(p, "anonymousPullEnabled", g.pick(True, False, False))
    return p, {"sku": {"name": g.pick("Basic", "Premium")}}


def _cosmos(g: _Gen) -> tuple[dict[str, Any], dict[str, Any]]:
    p: dict[str, Any] = {"databaseAccountOfferType": "Standard"}
    if g.chance(0.8):
        p["ipRules"] = g.pick(
            [],
            [{"ipAddressOrRange": "0.0.0.0"}],
            [{"ipAddressOrRange": "13.91.0.0/16"}, {"ipAddressOrRange": "0.0.0.0"}],
            [{"ipAddressOrRange": "104.42.195.92"}],
            [{}],
        )
    # "10.0.0.0/8" holds "0.0.0.0" as a substring, so `contains` matches it too.
    g.maybe(p, "ipRangeFilter", g.pick("", "104.42.195.92", "0.0.0.0", "10.0.0.0/8"), True)
    return p, {"kind": "GlobalDocumentDB"}


def _key_vault(g: _Gen) -> tuple[dict[str, Any], dict[str, Any]]:
    p: dict[str, Any] = {
        "tenantId": "00000000-0000-0000-0000-000000000000",
        "sku": {"name": "standard"},
    }
    p["privateEndpointConnections"] = g.pe_connections()
    if g.chance(0.1):
        del p["privateEndpointConnections"]
    return p, {}


def _children(g: _Gen, rtype: str, parent: str) -> list[tuple[str, str, dict[str, Any]]]:
    """Child resources existence checks look for: `(type, name, properties)`. Names come as
    ARM writes them (`Default`), in other cases, or as Resource Graph's `parent/child`; some
    children have another name, which must not satisfy a check for `default`."""
    out: list[tuple[str, str, dict[str, Any]]] = []

    def named(wanted: str) -> str:
        return g.pick(wanted, wanted.lower(), f"{parent}/{wanted}")

    def with_state(segment: str, wanted: str, present: float) -> None:
        """A child `wanted` with a `state` (often), and a decoy of another name (sometimes)."""
        if g.chance(present):
            state = g.pick("Enabled", "Disabled", "enabled")
            out.append((segment, named(wanted), {"state": state}))
        if g.chance(0.15):
            out.append((segment, "Other", {"state": "Enabled"}))

    if rtype == "Microsoft.Sql/managedInstances":
        with_state("securityAlertPolicies", "Default", 0.8)
        if g.chance(0.7):
            scans = {} if g.chance(0.15) else {"recurringScans": {"isEnabled": g.pick(True, False)}}
            out.append(("vulnerabilityAssessments", named("Default"), scans))
    elif rtype == "Microsoft.Synapse/workspaces":
        with_state("auditingSettings", "default", 0.75)
    return out


def _unrelated(g: _Gen) -> tuple[dict[str, Any], dict[str, Any]]:
    return {"provisioningState": "Succeeded", "recordSets": g.r.randrange(40)}, {}


_TYPES: tuple[tuple[str, Any, int], ...] = (
    ("Microsoft.RecoveryServices/vaults", _recovery_vault, 6),
    ("Microsoft.Search/searchServices", _search, 6),
    ("Microsoft.Synapse/workspaces", _synapse, 5),
    ("Microsoft.Databricks/workspaces", _databricks, 5),
    ("Microsoft.SignalRService/SignalR", _signalr, 5),
    ("Microsoft.Devices/IotHubs", _iothub, 6),
    ("Microsoft.Maps/accounts", _maps, 6),
    ("Microsoft.AppConfiguration/configurationStores", _app_configuration, 5),
    ("Microsoft.Automation/automationAccounts", _automation, 5),
    ("Microsoft.Batch/batchAccounts", _batch, 5),
    ("Microsoft.Web/hostingEnvironments", _ase, 5),
    ("Microsoft.Sql/managedInstances", _sql_mi, 5),
    ("Microsoft.ContainerRegistry/registries", _registry, 5),
    ("Microsoft.DocumentDB/databaseAccounts", _cosmos, 6),
    ("Microsoft.KeyVault/vaults", _key_vault, 5),
    ("Microsoft.Network/privateDnsZones", _unrelated, 10),
    ("Microsoft.ManagedIdentity/userAssignedIdentities", _unrelated, 10),
)


def resources(n: int, seed: int = 0) -> Any:
    """Yield `n` resources (dicts), child resources included, deterministic for a seed."""
    g = _Gen(seed)
    names = [t for t, _, _ in _TYPES]
    weights = [w for _, _, w in _TYPES]
    build = {t: f for t, f, _ in _TYPES}
    emitted = 0
    i = 0
    while emitted < n:
        rtype = g.r.choices(names, weights)[0]
        props, top = build[rtype](g)
        sub = f"{i % 7:08d}-aaaa-4bbb-8ccc-{i % 7:012d}"
        rg = f"rg-{g.pick('prod', 'dev', 'shared')}-{i % 50}"
        name = f"{rtype.rsplit('/', 1)[-1].lower()[:6]}{i}"
        i += 1
        # Padding a rule never reads: escapes, non-ASCII text, nested objects.
        props["notes"] = g.pick(
            "owned by team \u00e9quipe-r\u00e9seau",
            'path C:\\data\\logs and a "quoted" word',
            "plain text " * g.r.randrange(1, 8),
        )
        props["creationTime"] = f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00.000Z"
        doc: dict[str, Any] = {
            "id": f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{rtype}/{name}",
            "name": name,
            # Resource Graph returns types lower-cased; ARM as registered.
            "type": rtype.lower() if g.chance(0.5) else rtype,
            "location": g.pick(*_REGIONS),
            "resourceGroup": rg,
            "subscriptionId": sub,
            "properties": props,
        }
        if g.chance(0.7):
            doc["tags"] = g.pick({}, {"env": "prod"}, {"cost-center": "cc-17", "owner": "ops"})
        elif g.chance(0.3):
            doc["tags"] = None
        doc.update(top)
        children = [
            {
                "id": f"{doc['id']}/{segment}/{child.rsplit('/', 1)[-1]}",
                "name": child,
                "type": f"{rtype}/{segment}",
                "resourceGroup": rg,
                "subscriptionId": sub,
                "properties": child_props,
            }
            for segment, child, child_props in _children(g, rtype, name)
        ]
        # A child may come before its parent: the existence check must not depend on order.
        batch = [*children, doc] if g.chance(0.3) else [doc, *children]
        batch = batch[: n - emitted]
        yield from batch
        emitted += len(batch)


def write_tenant(n: int, path: str | Path, seed: int = 0) -> Path:
    """Write `n` held-out resources to `path` as NDJSON."""
    out = Path(path)
    with out.open("w", encoding="utf-8") as f:
        for doc in resources(n, seed):
            f.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":")))
            f.write("\n")
    return out


# --- the DuckDB translation ----------------------------------------------------------------

_PE = (
    "STRUCT(id VARCHAR, properties STRUCT(provisioningState VARCHAR,"
    " privateLinkServiceConnectionState STRUCT(status VARCHAR)))[]"
)
COLUMNS = {
    "id": "VARCHAR",
    "type": "VARCHAR",
    "name": "VARCHAR",
    "kind": "VARCHAR",
    "sku": "STRUCT(name VARCHAR)",
    "identity": "STRUCT(type VARCHAR)",
    "properties": "STRUCT("
    + ", ".join(
        [
            "publicNetworkAccess VARCHAR",
            "securitySettings STRUCT(multiUserAuthorization VARCHAR,"
            " immutabilitySettings STRUCT(state VARCHAR))",
            f"privateEndpointConnections {_PE}",
            "disableLocalAuth BOOLEAN",
            "managedVirtualNetwork VARCHAR",
            "managedVirtualNetworkSettings STRUCT(allowedAadTenantIdsForLinking VARCHAR[])",
            "parameters STRUCT(enableNoPublicIp STRUCT(value BOOLEAN))",
            "encryption STRUCT(keyVaultProperties STRUCT(keyIdentifier VARCHAR)[])",
            "cors STRUCT(corsRules STRUCT(allowedOrigins VARCHAR[])[])",
            "locations STRUCT(locationName VARCHAR)[]",
            "allowedAuthenticationModes VARCHAR[]",
            "clusterSettings STRUCT(name VARCHAR, value VARCHAR)[]",
            "minimalTlsVersion VARCHAR",
            "anonymousPullEnabled BOOLEAN",
            "ipRules STRUCT(ipAddressOrRange VARCHAR)[]",
            "ipRangeFilter VARCHAR",
            "state VARCHAR",
            "recurringScans STRUCT(isEnabled BOOLEAN)",
        ]
    )
    + ")",
}


def _count(array: str, where: str) -> str:
    """`count` of `array`'s members meeting `where` (over `x`); a missing array counts 0."""
    return f"coalesce(len(list_filter({array}, lambda x: coalesce({where}, false))), 0)"


def _approved(extra: str = "") -> str:
    where = "lower(x.properties.privateLinkServiceConnectionState.status) = 'approved'" + extra
    return _count("p.privateEndpointConnections", where)


def _not_equals(value: str, literal: str) -> str:
    """`notEquals` a string: true when missing or null."""
    return f"coalesce(lower({value}) <> '{literal.lower()}', true)"


def _not_true(value: str) -> str:
    """`notEquals: true` on a boolean: true unless the value is `true`."""
    return f"coalesce({value} <> true, true)"


def _no_child(child_type: str, name: str, where: str) -> str:
    """`auditIfNotExists` over a child type: no child of the resource (`o`) named `name` (its
    own name, the last part of `parent/child`, any case) meets `where` (over `c`)."""
    segment = child_type.rsplit("/", 1)[-1].lower()
    # The parent's id is the child's without its last two segments: an equality DuckDB can
    # turn into a hash join (a prefix test would compare every pair).
    parent = "lower(regexp_replace(c.id, '/[^/]+/[^/]+$', ''))"
    return (
        f"NOT EXISTS (SELECT 1 FROM r AS c WHERE c.t = '{child_type.lower()}'"
        f" AND {parent} = lower(o.id)"
        f" AND lower(string_split(c.id, '/')[-2]) = '{segment}'"
        f" AND lower(string_split(c.name, '/')[-1]) = '{name.lower()}'"
        f" AND coalesce({where}, false))"
    )


def _is(resource_type: str) -> str:
    return f"t = '{resource_type.lower()}'"


_RSV = _is("Microsoft.RecoveryServices/vaults")
_SEARCH = _is("Microsoft.Search/searchServices")
_SYNAPSE = _is("Microsoft.Synapse/workspaces")
_DATABRICKS = _is("Microsoft.Databricks/workspaces")
_SIGNALR = _is("Microsoft.SignalRService/SignalR")
_IOT = _is("Microsoft.Devices/IotHubs")
_MAPS = _is("Microsoft.Maps/accounts")
_ASE = _is("Microsoft.Web/hostingEnvironments") + " AND coalesce(lower(kind) LIKE 'ase%', false)"
_ORIGINS = "flatten(list_transform(p.cors.corsRules, lambda r: coalesce(r.allowedOrigins, [])))"

# policy name -> WHERE clause over `t` (lower-case type), `p` (properties) and the top columns
RULES: dict[str, str] = {
    "9ebbbba3-4d65-4da9-bb67-b22cfaaff090": f"{_RSV} AND "
    + _not_equals("p.publicNetworkAccess", "Disabled"),
    "c7031eab-0fc0-4cd9-acd0-4497bd66d91a": f"{_RSV} AND "
    + _not_equals("p.securitySettings.multiUserAuthorization", "Enabled"),
    # notIn [Locked, Unlocked] OR (checkLockedImmutabilityOnly = true AND notEquals Locked)
    "d6f6f560-14b7-49a4-9fc8-d2c3a9807868": f"{_RSV} AND ("
    "coalesce(lower(p.securitySettings.immutabilitySettings.state) NOT IN ('locked', 'unlocked'),"
    " true) OR " + _not_equals("p.securitySettings.immutabilitySettings.state", "Locked") + ")",
    "deeddb44-9f94-4903-9fa0-081d524406e3": f"{_RSV} AND "
    + _approved(
        " AND lower(x.properties.provisioningState) = 'succeeded'"
        " AND contains(lower(x.id), '.backup')"
    )
    + " < 1",
    "6300012e-e9a4-4649-b41f-a85f5c43be91": f"{_SEARCH} AND " + _not_true("p.disableLocalAuth"),
    "0fda3595-9f2b-4592-8675-4231d6fa82fe": f"{_SEARCH} AND {_approved()} < 1",
    "ee980b6d-0eca-4501-8d54-f6290fd512c3": f"{_SEARCH} AND "
    + _not_equals("p.publicNetworkAccess", "Disabled"),
    "2d9dbfa3-927b-4cf0-9d0f-08747f971650": f"{_SYNAPSE} AND "
    + _not_equals("p.managedVirtualNetwork", "default"),
    # every tenant id is notIn the empty default list, so the count is the array's length
    "3a003702-13d2-4679-941b-937e58c443f0": f"{_SYNAPSE} AND coalesce(len("
    "p.managedVirtualNetworkSettings.allowedAadTenantIdsForLinking), 0) > 0",
    # the boolean true equals the string "true"
    "51c1490f-3319-459c-bbbc-7f391bbed753": f"{_DATABRICKS} AND "
    + _not_true("p.parameters.enableNoPublicIp.value"),
    # notEquals Premium, and empty(field(sku.name)) is false (a missing name is empty)
    "2cc2c3b5-c2f8-45aa-a9e6-f90d85ae8352": f"{_DATABRICKS} AND "
    + _not_equals("sku.name", "Premium")
    + " AND coalesce(sku.name <> '', false)",
    "f70eecba-335d-4bbc-81d5-5b17b03d498f": f"{_SIGNALR} AND " + _not_true("p.disableLocalAuth"),
    "2393d2cf-a342-44cd-a2e2-fe0188fd1234": f"{_SIGNALR} AND {_approved()} < 1",
    "2d6830fb-07eb-48e7-8c4d-2a442b35f0fb": f"{_IOT} AND "
    + _not_equals("p.publicNetworkAccess", "Disabled"),
    "2d7e144b-159c-44fc-95c1-ac3dbf5e6e54": f"{_IOT} AND "
    + _count("p.encryption.keyVaultProperties", "x.keyIdentifier <> ''")
    + " <= 0",
    # allowedOrigins exists false over corsRules[*] holds when no rule has allowedOrigins
    # (also for a missing or empty corsRules); or some origin is "*" or "".
    "50553764-7777-43cf-bf12-8647e0b9ba01": f"{_MAPS} AND ("
    + _count("p.cors.corsRules", "x.allowedOrigins IS NOT NULL")
    + " = 0 OR "
    + _count(_ORIGINS, "x IN ('*', '')")
    + " > 0)",
    # every location is notIn the empty default list
    "c707daa0-b93b-454d-9e1e-8ac59866316c": f"{_MAPS} AND coalesce(len(p.locations), 0) > 0",
    "b08ab3ca-1062-4db3-8803-eec9cae605d6": _is("Microsoft.AppConfiguration/configurationStores")
    + " AND "
    + _not_true("p.disableLocalAuth"),
    "dea83a72-443c-4292-83d5-54a2f98749c0": _is("Microsoft.Automation/automationAccounts")
    + " AND (identity.type IS NULL OR contains(lower(identity.type), 'none'))",
    "6f68b69f-05fe-49cd-b361-777ee9ca7e35": _is("Microsoft.Batch/batchAccounts")
    + " AND (p.allowedAuthenticationModes IS NULL OR "
    + _count("p.allowedAuthenticationModes", "lower(x) <> 'aad'")
    + " > 0)",
    "d6545c6b-dd9d-4265-91e6-0b451e2f1c50": f"{_ASE} AND "
    + _count("p.clusterSettings", "lower(x.name) = 'disabletls1.0' AND x.value = '1'")
    + " < 1",
    # Its `less(length(field('…clusterSettings[*].value')), 80)` always holds: inside `where`,
    # field() of an array alias returns an array, here of the one current member's value
    # (author-policies-for-arrays, "The field() function inside where conditions"), so
    # length() is 1, not the length of the cipher list.
    "817dcf37-e83d-4999-a472-644eada2ea1e": f"{_ASE} AND "
    + _count(
        "p.clusterSettings",
        "contains(lower(x.name), 'frontendsslciphersuiteorder')"
        f" AND contains(lower(x.value), '{_CIPHER_A.lower()}')"
        f" AND contains(lower(x.value), '{_CIPHER_B.lower()}')",
    )
    + " < 1",
    "a8793640-60f7-487c-b5c3-1d37215905c4": _is("Microsoft.Sql/managedInstances")
    + " AND "
    + _not_equals("p.minimalTlsVersion", "1.2"),
    "9f2dea28-e834-476c-99c5-3507b4728395": _is("Microsoft.ContainerRegistry/registries")
    + " AND coalesce(p.anonymousPullEnabled, false)",
    "12339a85-a25c-4f17-9f82-4766f13f5c4c": _is("Microsoft.DocumentDB/databaseAccounts")
    + " AND ("
    + _count("p.ipRules", "x.ipAddressOrRange = '0.0.0.0'")
    + " >= 1 OR coalesce(contains(p.ipRangeFilter, '0.0.0.0'), false))",
    "a6abeaec-4d90-4a02-805f-6b26c4d3fbe9": _is("Microsoft.KeyVault/vaults")
    + f" AND {_approved()} < 1",
    "abfb7388-5bf4-4ad7-ba99-2cd2f41cebb9": _is("Microsoft.Sql/managedInstances")
    + " AND "
    + _no_child(
        "Microsoft.Sql/managedInstances/securityAlertPolicies",
        "Default",
        "lower(c.p.state) = 'enabled'",
    ),
    # the boolean true equals the string "True"
    "1b7aa243-30e4-4c9e-bca8-d0d3022b634a": _is("Microsoft.Sql/managedInstances")
    + " AND "
    + _no_child(
        "Microsoft.Sql/managedInstances/vulnerabilityAssessments",
        "default",
        "c.p.recurringScans.isEnabled",
    ),
    # the `setting` parameter defaults to "enabled"
    "e04e5000-cd89-451d-bb21-a14d24ff9c73": _is("Microsoft.Synapse/workspaces")
    + " AND "
    + _no_child(
        "Microsoft.Synapse/workspaces/auditingSettings", "default", "lower(c.p.state) = 'enabled'"
    ),
}
