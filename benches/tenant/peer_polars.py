"""Peer: the 25 definitions of pack (a) hand-translated into Polars expressions.

`pl.read_ndjson` with an explicit schema holding only the properties the 25 rules read (the
same projection the engine makes), then one boolean expression per definition. Azure's
semantics are spelled out by hand: strings compare ignoring case, a missing value is null
(`exists: false` → `is_null`, negated operators → `fill_null(True)`), a `[*]` condition holds
for every member, `count` is a list length or a filtered list length. Parameters are folded to
their defaults.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

S = pl.String
B = pl.Boolean
_PEC = pl.List(
    pl.Struct(
        {"properties": pl.Struct({"privateLinkServiceConnectionState": pl.Struct({"status": S})})}
    )
)
SCHEMA = {
    "id": S,
    "type": S,
    "name": S,
    "kind": S,
    "zones": pl.List(S),
    "sku": pl.Struct({"name": S, "tier": S}),
    "properties": pl.Struct(
        {
            "minimumTlsVersion": S,
            "allowBlobPublicAccess": B,
            "allowSharedKeyAccess": B,
            "networkAcls": pl.Struct(
                {
                    "defaultAction": S,
                    "ipRules": pl.List(pl.Struct({"value": S})),
                    "virtualNetworkRules": pl.List(pl.Struct({"id": S})),
                }
            ),
            "createMode": S,
            "enableSoftDelete": B,
            "enableRbacAuthorization": B,
            "privateEndpointConnections": _PEC,
            "ipConfigurations": pl.List(
                pl.Struct({"properties": pl.Struct({"publicIPAddress": pl.Struct({"id": S})})})
            ),
            "enableIPForwarding": B,
            "httpsOnly": B,
            "hostingEnvironmentProfile": pl.Struct({"id": S}),
            "publicNetworkAccess": S,
            "minimalTlsVersion": S,
            "networkAccessPolicy": S,
            "storageProfile": pl.Struct({"osDisk": pl.Struct({"vhd": pl.Struct({"uri": S})})}),
            "virtualMachineProfile": pl.Struct(
                {
                    "storageProfile": pl.Struct(
                        {
                            "osDisk": pl.Struct(
                                {"vhdContainers": pl.List(S), "image": pl.Struct({"url": S})}
                            )
                        }
                    )
                }
            ),
            "publisher": S,
            "type": S,
            "isVirtualNetworkFilterEnabled": B,
            "ipRules": pl.List(pl.Struct({"ipAddressOrRange": S})),
            "ipRangeFilter": S,
            "adminUserEnabled": B,
            "agentPoolProfiles": pl.List(pl.Struct({"enableEncryptionAtHost": B})),
            "webApplicationFirewallConfiguration": pl.Struct({"enabled": B}),
            "frontendEndpoints": pl.List(
                pl.Struct(
                    {
                        "properties": pl.Struct(
                            {"webApplicationFirewallPolicyLink": pl.Struct({"id": S})}
                        )
                    }
                )
            ),
        }
    ),
}

T = pl.col("_t")
P = pl.col("properties")


def prop(*path: str) -> pl.Expr:
    e = P
    for p in path:
        e = e.struct.field(p)
    return e


def low(e: pl.Expr) -> pl.Expr:
    return e.str.to_lowercase()


def eq(e: pl.Expr, s: str) -> pl.Expr:
    """`equals` on a string: false when missing."""
    return (low(e) == s.lower()).fill_null(False)


def ne(e: pl.Expr, s: str) -> pl.Expr:
    """`notEquals` on a string: true when missing."""
    return (low(e) != s.lower()).fill_null(True)


def is_true(e: pl.Expr) -> pl.Expr:
    return e.fill_null(False)


def is_false(e: pl.Expr) -> pl.Expr:
    return (~e).fill_null(False)


def n(e: pl.Expr) -> pl.Expr:
    """A count over a possibly missing array (missing counts 0)."""
    return e.list.len().fill_null(0)


def approved(pec: pl.Expr) -> pl.Expr:
    status = (
        pl.element()
        .struct.field("properties")
        .struct.field("privateLinkServiceConnectionState")
        .struct.field("status")
    )
    return pec.list.eval((status.str.to_lowercase() == "approved").fill_null(False)).list.sum()


STORAGE = T == "microsoft.storage/storageaccounts"
KV = T == "microsoft.keyvault/vaults"
NIC = T == "microsoft.network/networkinterfaces"
WEB = T == "microsoft.web/sites"
SQL = T == "microsoft.sql/servers"
DISK = T == "microsoft.compute/disks"
KIND = low(pl.col("kind"))

RULES: dict[str, pl.Expr] = {
    # storage minimum TLS: notEquals TLS1_2 or missing
    "fe83a0eb-a853-422d-aac2-1bffd182c5d0": STORAGE & ne(prop("minimumTlsVersion"), "TLS1_2"),
    # storage public blob access
    "4fa4b6c0-31ca-4c0d-b10d-24b96f62a751": STORAGE
    & ~(
        low(pl.col("id")).str.contains("/resourcegroups/aro-", literal=True).fill_null(False)
        & (
            low(pl.col("name")).str.starts_with("cluster")
            | low(pl.col("name")).str.starts_with("imageregistry")
        ).fill_null(False)
    )
    & ~is_false(prop("allowBlobPublicAccess")),
    # storage shared key: missing, "" or true
    "8c6a50c6-9ffd-4ae7-986f-5fa6111f9a54": STORAGE & prop("allowSharedKeyAccess").fill_null(True),
    # storage network rules: default action not Deny, or ipRules non-empty
    "2a1a9cdf-e04d-429a-8416-3bfb72a1b26f": STORAGE
    & (ne(prop("networkAcls", "defaultAction"), "Deny") | (n(prop("networkAcls", "ipRules")) >= 1)),
    # storage geo-redundant sku
    "bf045164-79ba-4215-8f95-f8048dc1780b": STORAGE
    & ~low(pl.col("sku").struct.field("name"))
    .is_in(["standard_grs", "standard_ragrs", "standard_gzrs", "standard_ragzrs"])
    .fill_null(False),
    # storage VNet service endpoint: every virtualNetworkRules[*].id missing (vacuous if empty)
    "60d21c4f-21a3-4d94-85f4-b924e6aeeda4": STORAGE
    & (
        ne(prop("networkAcls", "defaultAction"), "Deny")
        | prop("networkAcls", "virtualNetworkRules")
        .list.eval(pl.element().struct.field("id").is_null())
        .list.all()
        .fill_null(True)
    ),
    # key vault soft delete
    "1e66c121-a66a-4b1f-9b83-0fd99bf0fc2d": KV
    & ~eq(prop("createMode"), "recover")
    & (~prop("enableSoftDelete")).fill_null(True),
    # key vault RBAC
    "12d4fa5e-1f9f-4c21-97a9-b99b3c6611b5": KV
    & ~eq(prop("createMode"), "recover")
    & (~prop("enableRbacAuthorization")).fill_null(True),
    # key vault private endpoint: missing or count 0
    "5f0bc445-3935-4915-9981-011aa2b46147": KV & (n(prop("privateEndpointConnections")) == 0),
    # NIC public IP: not (every ipConfigurations[*]...publicIpAddress.id notLike "*")
    "83a86a26-fd1f-447c-b59d-e51f44264114": NIC
    & prop("ipConfigurations")
    .list.eval(
        pl.element()
        .struct.field("properties")
        .struct.field("publicIPAddress")
        .struct.field("id")
        .is_not_null()
    )
    .list.any()
    .fill_null(False),
    # NIC IP forwarding
    "88c0b9da-ce96-4b03-9635-f29a937e2900": NIC & is_true(prop("enableIPForwarding")),
    # web app HTTPS only (not function apps)
    "a4af4a39-4135-47fb-b175-47fbdf85311d": WEB
    & ~KIND.str.contains("functionapp", literal=True).fill_null(False)
    & (~prop("httpsOnly")).fill_null(True),
    # web app public network access
    "1b5ef780-c53c-4a64-87f3-bb9c8c8094ba": WEB
    & prop("hostingEnvironmentProfile", "id").is_null()
    & ne(prop("publicNetworkAccess"), "Disabled"),
    # function app HTTPS only
    "6d555dd1-86f2-4f1c-8ed7-5abae7c6cbab": WEB
    & KIND.str.contains("functionapp", literal=True).fill_null(False)
    & ~KIND.str.contains("workflowapp", literal=True).fill_null(False)
    & ~KIND.str.contains("azurecontainerapps", literal=True).fill_null(False)
    & (~prop("httpsOnly")).fill_null(True),
    # SQL server TLS: missing or less than "1.2" (strings, ignoring case)
    "32e6bbec-16b6-44c2-be37-c5b672d103cf": SQL
    & (low(prop("minimalTlsVersion")) < "1.2").fill_null(True),
    # SQL server private endpoint: fewer than 1 approved connection
    "7698e800-9299-47a6-b3b6-5a0fee576eed": SQL
    & (approved(prop("privateEndpointConnections")).fill_null(0) < 1),
    # disk network access
    "8405fdab-1faf-48aa-b702-999c9c172094": DISK
    & ~low(prop("networkAccessPolicy")).is_in(["denyall", "allowprivate"]).fill_null(False)
    & ne(prop("publicNetworkAccess"), "Disabled"),
    # VM / VMSS unmanaged disks
    "06a78e20-9358-41c9-923c-fb736d382a4d": (
        (T == "microsoft.compute/virtualmachines")
        & prop("storageProfile", "osDisk", "vhd", "uri").is_not_null()
    )
    | (
        (T == "microsoft.compute/virtualmachinescalesets")
        & (
            prop("virtualMachineProfile", "storageProfile", "osDisk", "vhdContainers").is_not_null()
            | prop(
                "virtualMachineProfile", "storageProfile", "osDisk", "image", "url"
            ).is_not_null()
        )
    ),
    # disk zone resilience, allow = Both
    "344ea7ca-2ba8-4d68-859b-317239714b2c": DISK
    & ~low(pl.col("sku").struct.field("name")).str.ends_with("zrs").fill_null(False)
    & (n(pl.col("zones")) != 1),
    # legacy Log Analytics agent on Linux
    "d4b065e2-fbda-4461-a42c-b0346aeb12a0": (T == "microsoft.compute/virtualmachines/extensions")
    & eq(prop("publisher"), "Microsoft.EnterpriseCloud.Monitoring")
    & eq(prop("type"), "OmsAgentForLinux"),
    # Cosmos DB firewall
    "862e97cf-49fc-4a5c-9de4-40d4e2e7c8eb": (T == "microsoft.documentdb/databaseaccounts")
    & (prop("publicNetworkAccess").is_null() | eq(prop("publicNetworkAccess"), "Enabled"))
    & (~prop("isVirtualNetworkFilterEnabled")).fill_null(True)
    & (n(prop("ipRules")) == 0)
    & (prop("ipRangeFilter").is_null() | (prop("ipRangeFilter") == "")).fill_null(False)
    & (approved(prop("privateEndpointConnections")).fill_null(0) < 1),
    # ACR admin account
    "dc921057-6b28-4fbe-9b83-f7bec05db6c2": (T == "microsoft.containerregistry/registries")
    & is_true(prop("adminUserEnabled")),
    # AKS encryption at host: some pool with it missing or false
    "41425d9f-d1a5-499a-9932-f8ed8453932c": (T == "microsoft.containerservice/managedclusters")
    & prop("agentPoolProfiles")
    .list.eval((~pl.element().struct.field("enableEncryptionAtHost")).fill_null(True))
    .list.any()
    .fill_null(False),
    # WAF on Front Door / Application Gateway
    "be7ed5c8-2660-4136-8216-e6f3412ba909": (
        (T == "microsoft.network/frontdoors")
        & prop("frontendEndpoints")
        .list.eval(
            pl.element()
            .struct.field("properties")
            .struct.field("webApplicationFirewallPolicyLink")
            .struct.field("id")
            .is_null()
        )
        .list.all()
        .fill_null(True)
    )
    | (
        (T == "microsoft.network/applicationgateways")
        & prop("webApplicationFirewallConfiguration").is_null()
    ),
    # public IP zone resilience, allow = Both
    "682e4ab9-59fe-4871-9839-265b54c568c4": (T == "microsoft.network/publicipaddresses")
    & eq(pl.col("sku").struct.field("tier"), "Regional")
    & (n(pl.col("zones")) < 3)
    & (n(pl.col("zones")) != 1),
}


def load(path: str | Path) -> pl.DataFrame:
    return pl.read_ndjson(path, schema=SCHEMA)


def evaluate(df: pl.DataFrame) -> pl.DataFrame:
    """Non-compliant pairs: one row (resource_id, policy_id) each."""
    lf = df.lazy().with_columns(_t=low(pl.col("type")))
    flags = lf.select(
        pl.col("id").alias("resource_id"), *[e.alias(name) for name, e in RULES.items()]
    )
    return (
        flags.unpivot(index="resource_id", variable_name="policy_id", value_name="hit")
        .filter(pl.col("hit"))
        .select("resource_id", "policy_id")
        .collect()
    )


def counts(pairs: pl.DataFrame) -> dict[str, int]:
    return dict(pairs.group_by("policy_id").len().iter_rows())
