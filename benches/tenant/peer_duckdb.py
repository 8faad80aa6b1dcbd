"""Peer: the 25 definitions of pack (a) hand-translated into DuckDB SQL.

`read_json` with explicit column types holding only what the rules read, then one `WHERE`
per definition, `UNION ALL`-ed into (resource_id, policy_id) rows and handed to Polars.
Semantics as in `peer_polars`: `lower()` for case-insensitive strings, `IS NULL` for missing,
`coalesce` for the value a missing operand takes, list functions for `[*]` and `count`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

_PEC = "STRUCT(properties STRUCT(privateLinkServiceConnectionState STRUCT(status VARCHAR)))[]"
COLUMNS = {
    "id": "VARCHAR",
    "type": "VARCHAR",
    "name": "VARCHAR",
    "kind": "VARCHAR",
    "zones": "VARCHAR[]",
    "sku": "STRUCT(name VARCHAR, tier VARCHAR)",
    "properties": "STRUCT("
    + ", ".join(
        [
            "minimumTlsVersion VARCHAR",
            "allowBlobPublicAccess BOOLEAN",
            "allowSharedKeyAccess BOOLEAN",
            "networkAcls STRUCT(defaultAction VARCHAR, ipRules STRUCT(value VARCHAR)[],"
            " virtualNetworkRules STRUCT(id VARCHAR)[])",
            "createMode VARCHAR",
            "enableSoftDelete BOOLEAN",
            "enableRbacAuthorization BOOLEAN",
            f"privateEndpointConnections {_PEC}",
            "ipConfigurations STRUCT(properties STRUCT(publicIPAddress STRUCT(id VARCHAR)))[]",
            "enableIPForwarding BOOLEAN",
            "httpsOnly BOOLEAN",
            "hostingEnvironmentProfile STRUCT(id VARCHAR)",
            "publicNetworkAccess VARCHAR",
            "minimalTlsVersion VARCHAR",
            "networkAccessPolicy VARCHAR",
            "storageProfile STRUCT(osDisk STRUCT(vhd STRUCT(uri VARCHAR)))",
            "virtualMachineProfile STRUCT(storageProfile STRUCT(osDisk STRUCT("
            "vhdContainers VARCHAR[], image STRUCT(url VARCHAR))))",
            "publisher VARCHAR",
            "type VARCHAR",
            "isVirtualNetworkFilterEnabled BOOLEAN",
            "ipRules STRUCT(ipAddressOrRange VARCHAR)[]",
            "ipRangeFilter VARCHAR",
            "adminUserEnabled BOOLEAN",
            "agentPoolProfiles STRUCT(enableEncryptionAtHost BOOLEAN)[]",
            "webApplicationFirewallConfiguration STRUCT(enabled BOOLEAN)",
            "frontendEndpoints STRUCT(properties STRUCT(webApplicationFirewallPolicyLink"
            " STRUCT(id VARCHAR)))[]",
        ]
    )
    + ")",
}

_APPROVED = (
    "coalesce(len(list_filter(p.privateEndpointConnections, lambda x: "
    "lower(x.properties.privateLinkServiceConnectionState.status) = 'approved')), 0)"
)

# policy name -> WHERE clause over `t` (lower-case type), `p` (properties) and the top columns
RULES: dict[str, str] = {
    "fe83a0eb-a853-422d-aac2-1bffd182c5d0": "t = 'microsoft.storage/storageaccounts'"
    " AND coalesce(lower(p.minimumTlsVersion) <> 'tls1_2', true)",
    "4fa4b6c0-31ca-4c0d-b10d-24b96f62a751": "t = 'microsoft.storage/storageaccounts'"
    " AND NOT coalesce(contains(lower(id), '/resourcegroups/aro-')"
    " AND (lower(name) LIKE 'cluster%' OR lower(name) LIKE 'imageregistry%'), false)"
    " AND NOT coalesce(p.allowBlobPublicAccess = false, false)",
    "8c6a50c6-9ffd-4ae7-986f-5fa6111f9a54": "t = 'microsoft.storage/storageaccounts'"
    " AND coalesce(p.allowSharedKeyAccess, true)",
    "2a1a9cdf-e04d-429a-8416-3bfb72a1b26f": "t = 'microsoft.storage/storageaccounts'"
    " AND (coalesce(lower(p.networkAcls.defaultAction) <> 'deny', true)"
    " OR coalesce(len(p.networkAcls.ipRules), 0) >= 1)",
    "bf045164-79ba-4215-8f95-f8048dc1780b": "t = 'microsoft.storage/storageaccounts'"
    " AND NOT coalesce(lower(sku.name) IN"
    " ('standard_grs', 'standard_ragrs', 'standard_gzrs', 'standard_ragzrs'), false)",
    "60d21c4f-21a3-4d94-85f4-b924e6aeeda4": "t = 'microsoft.storage/storageaccounts'"
    " AND (coalesce(lower(p.networkAcls.defaultAction) <> 'deny', true)"
    " OR coalesce(len(list_filter(p.networkAcls.virtualNetworkRules,"
    " lambda x: x.id IS NOT NULL)) = 0, true))",
    "1e66c121-a66a-4b1f-9b83-0fd99bf0fc2d": "t = 'microsoft.keyvault/vaults'"
    " AND NOT coalesce(lower(p.createMode) = 'recover', false)"
    " AND coalesce(NOT p.enableSoftDelete, true)",
    "12d4fa5e-1f9f-4c21-97a9-b99b3c6611b5": "t = 'microsoft.keyvault/vaults'"
    " AND NOT coalesce(lower(p.createMode) = 'recover', false)"
    " AND coalesce(NOT p.enableRbacAuthorization, true)",
    "5f0bc445-3935-4915-9981-011aa2b46147": "t = 'microsoft.keyvault/vaults'"
    " AND coalesce(len(p.privateEndpointConnections), 0) = 0",
    "83a86a26-fd1f-447c-b59d-e51f44264114": "t = 'microsoft.network/networkinterfaces'"
    " AND coalesce(len(list_filter(p.ipConfigurations,"
    " lambda x: x.properties.publicIPAddress.id IS NOT NULL)) > 0, false)",
    "88c0b9da-ce96-4b03-9635-f29a937e2900": "t = 'microsoft.network/networkinterfaces'"
    " AND coalesce(p.enableIPForwarding, false)",
    "a4af4a39-4135-47fb-b175-47fbdf85311d": "t = 'microsoft.web/sites'"
    " AND NOT coalesce(contains(lower(kind), 'functionapp'), false)"
    " AND coalesce(NOT p.httpsOnly, true)",
    "1b5ef780-c53c-4a64-87f3-bb9c8c8094ba": "t = 'microsoft.web/sites'"
    " AND p.hostingEnvironmentProfile.id IS NULL"
    " AND coalesce(lower(p.publicNetworkAccess) <> 'disabled', true)",
    "6d555dd1-86f2-4f1c-8ed7-5abae7c6cbab": "t = 'microsoft.web/sites'"
    " AND coalesce(contains(lower(kind), 'functionapp'), false)"
    " AND NOT coalesce(contains(lower(kind), 'workflowapp'), false)"
    " AND NOT coalesce(contains(lower(kind), 'azurecontainerapps'), false)"
    " AND coalesce(NOT p.httpsOnly, true)",
    "32e6bbec-16b6-44c2-be37-c5b672d103cf": "t = 'microsoft.sql/servers'"
    " AND coalesce(lower(p.minimalTlsVersion) < '1.2', true)",
    "7698e800-9299-47a6-b3b6-5a0fee576eed": f"t = 'microsoft.sql/servers' AND {_APPROVED} < 1",
    "8405fdab-1faf-48aa-b702-999c9c172094": "t = 'microsoft.compute/disks'"
    " AND NOT coalesce(lower(p.networkAccessPolicy) IN ('denyall', 'allowprivate'), false)"
    " AND coalesce(lower(p.publicNetworkAccess) <> 'disabled', true)",
    "06a78e20-9358-41c9-923c-fb736d382a4d": "(t = 'microsoft.compute/virtualmachines'"
    " AND p.storageProfile.osDisk.vhd.uri IS NOT NULL)"
    " OR (t = 'microsoft.compute/virtualmachinescalesets'"
    " AND (p.virtualMachineProfile.storageProfile.osDisk.vhdContainers IS NOT NULL"
    " OR p.virtualMachineProfile.storageProfile.osDisk.image.url IS NOT NULL))",
    "344ea7ca-2ba8-4d68-859b-317239714b2c": "t = 'microsoft.compute/disks'"
    " AND NOT coalesce(ends_with(lower(sku.name), 'zrs'), false)"
    " AND coalesce(len(zones), 0) <> 1",
    "d4b065e2-fbda-4461-a42c-b0346aeb12a0": "t = 'microsoft.compute/virtualmachines/extensions'"
    " AND coalesce(lower(p.publisher) = 'microsoft.enterprisecloud.monitoring', false)"
    " AND coalesce(lower(p.type) = 'omsagentforlinux', false)",
    "862e97cf-49fc-4a5c-9de4-40d4e2e7c8eb": "t = 'microsoft.documentdb/databaseaccounts'"
    " AND coalesce(lower(p.publicNetworkAccess) = 'enabled', true)"
    " AND coalesce(NOT p.isVirtualNetworkFilterEnabled, true)"
    " AND coalesce(len(p.ipRules), 0) = 0"
    " AND coalesce(p.ipRangeFilter = '', true)"
    f" AND {_APPROVED} < 1",
    "dc921057-6b28-4fbe-9b83-f7bec05db6c2": "t = 'microsoft.containerregistry/registries'"
    " AND coalesce(p.adminUserEnabled, false)",
    "41425d9f-d1a5-499a-9932-f8ed8453932c": "t = 'microsoft.containerservice/managedclusters'"
    " AND coalesce(len(list_filter(p.agentPoolProfiles,"
    " lambda x: coalesce(NOT x.enableEncryptionAtHost, true))) > 0, false)",
    "be7ed5c8-2660-4136-8216-e6f3412ba909": "(t = 'microsoft.network/frontdoors'"
    " AND coalesce(len(list_filter(p.frontendEndpoints, lambda x:"
    " x.properties.webApplicationFirewallPolicyLink.id IS NOT NULL)) = 0, true))"
    " OR (t = 'microsoft.network/applicationgateways'"
    " AND p.webApplicationFirewallConfiguration IS NULL)",
    "682e4ab9-59fe-4871-9839-265b54c568c4": "t = 'microsoft.network/publicipaddresses'"
    " AND coalesce(lower(sku.tier) = 'regional', false)"
    " AND coalesce(len(zones), 0) < 3 AND coalesce(len(zones), 0) <> 1",
}


def _columns_sql(columns: dict[str, str]) -> str:
    return "{" + ", ".join(f"'{k}': '{v}'" for k, v in columns.items()) + "}"


def query(
    path: str | Path, columns: dict[str, str] | None = None, rules: dict[str, str] | None = None
) -> str:
    """The whole workload as one SQL statement (pack (a) unless `columns`/`rules` are given)."""
    columns = columns or COLUMNS
    rules = rules or RULES
    top = ", ".join(k for k in columns if k not in ("type", "properties"))
    src = (
        f"SELECT {top}, properties AS p, lower(type) AS t "
        f"FROM read_json('{path}', format = 'newline_delimited', "
        f"columns = {_columns_sql(columns)})"
    )
    arms = [
        f"SELECT id AS resource_id, '{name}' AS policy_id FROM r AS o WHERE {where}"
        for name, where in rules.items()
    ]
    return f"WITH r AS MATERIALIZED ({src})\n" + "\nUNION ALL\n".join(arms)


def run(
    path: str | Path,
    con: Any = None,
    columns: dict[str, str] | None = None,
    rules: dict[str, str] | None = None,
) -> pl.DataFrame:
    """Non-compliant pairs (resource_id, policy_id), load and evaluation in one query."""
    import duckdb

    con = con or duckdb.connect()
    # the Arrow PyCapsule stream: no pyarrow needed
    return pl.DataFrame(con.sql(query(path, columns, rules)))


def counts(pairs: pl.DataFrame) -> dict[str, int]:
    return dict(pairs.group_by("policy_id").len().iter_rows())
