//! Governance and monitoring documents: resource groups, role assignments (subscription and
//! resource-group scope), Defender for Cloud pricings, and diagnostic settings as extension
//! resources under the resource they monitor.

use super::common::{Doc, Kind};
use super::layout::{Block, Target};
use super::rng::SplitMix64;

/// The resource group document of the block.
pub fn resource_group(d: &mut Doc<'_>) -> Kind {
    let blk = d.blk;
    d.head(Kind::ResourceGroup, &blk.rg_id, &blk.rg);
    d.w.ks("location", blk.region_name());
    d.tags();
    d.w.ko("properties")
        .ks("provisioningState", "Succeeded")
        .end()
        .end();
    Kind::ResourceGroup
}

/// Defender plans with the share of subscriptions (percent) that run them on `Standard`.
const PLANS: [(&str, u32); 16] = [
    ("VirtualMachines", 65),
    ("SqlServers", 55),
    ("AppServices", 50),
    ("StorageAccounts", 60),
    ("SqlServerVirtualMachines", 40),
    ("KubernetesService", 30),
    ("ContainerRegistry", 30),
    ("KeyVaults", 55),
    ("Dns", 25),
    ("Arm", 50),
    ("OpenSourceRelationalDatabases", 35),
    ("CosmosDbs", 30),
    ("Containers", 55),
    ("CloudPosture", 45),
    ("Api", 15),
    ("AI", 20),
];

/// Defender plan `p` of the block's subscription.
pub fn pricing(d: &mut Doc<'_>, p: u8) -> Kind {
    let blk = d.blk;
    let (plan, std_pct) = PLANS
        .get(usize::from(p))
        .copied()
        .unwrap_or(("VirtualMachines", 65));
    let id = format!(
        "/subscriptions/{}/providers/Microsoft.Security/pricings/{plan}",
        blk.sub_id
    );
    d.head(Kind::Pricing, &id, plan);
    let standard = d.rng.pct(std_pct);
    let since = d.timestamp();
    let w = &mut *d.w;
    w.ko("properties")
        .ks("pricingTier", if standard { "Standard" } else { "Free" });
    if standard {
        match plan {
            "VirtualMachines" => {
                w.ks("subPlan", if d.rng.pct(60) { "P2" } else { "P1" });
            }
            "StorageAccounts" => {
                w.ks("subPlan", "DefenderForStorageV2");
            }
            "KeyVaults" => {
                w.ks("subPlan", "PerKeyVault");
            }
            _ => {}
        }
        w.ks("enablementTime", &since);
    }
    if matches!(plan, "KubernetesService" | "ContainerRegistry" | "Dns") {
        w.kb("deprecated", true);
    }
    w.ks("freeTrialRemainingTime", "PT0S").end().end();
    Kind::Pricing
}

/// Well-known built-in role definition ids with a weight.
const ROLES: [(u32, &str); 7] = [
    (10, "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"), // Owner
    (30, "b24988ac-6180-42a0-ab88-20f7382dd24c"), // Contributor
    (35, "acdd72a7-3385-48ef-bd42-f606fba81ae7"), // Reader
    (3, "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"),  // User Access Administrator
    (8, "00482a5a-887f-4fb3-b363-3b7fe8e74483"),  // Key Vault Administrator
    (8, "ba92f5b4-2d11-453d-a403-e96b0029c9fe"),  // Storage Blob Data Contributor
    (6, "4633458b-17de-408a-b874-0445c86b69e6"),  // Key Vault Secrets User
];

/// A role assignment at subscription scope (`sub_scope`) or at the block's resource group.
pub fn role_assignment(d: &mut Doc<'_>, sub_scope: bool) -> Kind {
    let blk = d.blk;
    let name = d.guid();
    let scope = if sub_scope {
        format!("/subscriptions/{}", blk.sub_id)
    } else {
        blk.rg_id.clone()
    };
    let id = format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}");
    d.head(Kind::RoleAssignment, &id, &name);
    let principal = d.guid();
    let created = d.timestamp();
    let creator = d.guid();
    let r = &mut d.rng;
    let role = r.weighted(&ROLES);
    let ptype = r.weighted(&[(40, "User"), (25, "Group"), (35, "ServicePrincipal")]);
    let w = &mut *d.w;
    w.ko("properties");
    w.kf(
        "roleDefinitionId",
        format_args!(
            "/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{role}",
            blk.sub_id
        ),
    );
    w.ks("principalId", &principal)
        .ks("principalType", ptype)
        .ks("scope", &scope);
    w.k("condition").null().k("conditionVersion").null();
    w.ks("createdOn", &created)
        .ks("updatedOn", &created)
        .ks("createdBy", &creator)
        .ks("updatedBy", &creator);
    w.k("delegatedManagedIdentityResourceId")
        .null()
        .k("description")
        .null();
    w.end().end();
    Kind::RoleAssignment
}

/// Percent of resources of each target type that have a diagnostic setting.
pub fn diag_share(t: Target) -> u32 {
    match t {
        Target::KeyVault => 60,
        Target::Aks => 55,
        Target::AppGateway => 50,
        Target::SqlServer => 45,
        Target::Nsg => 40,
        Target::Storage | Target::Cosmos | Target::Registry => 35,
        Target::Site | Target::EventHub | Target::ServiceBus => 30,
        Target::Redis => 25,
    }
}

fn target_id(blk: &Block, t: Target, s: u8) -> String {
    use super::{data, network, platform};
    match t {
        Target::Storage => blk.id(
            "Microsoft.Storage/storageAccounts",
            &data::storage_name(blk, s),
        ),
        Target::KeyVault => blk.id("Microsoft.KeyVault/vaults", &platform::vault_name(blk, s)),
        Target::SqlServer => blk.id("Microsoft.Sql/servers", &data::sql_name(blk, s)),
        Target::Nsg => blk.id(
            "Microsoft.Network/networkSecurityGroups",
            &network::nsg_name(blk, s),
        ),
        Target::AppGateway => blk.id(
            "Microsoft.Network/applicationGateways",
            &network::appgw_name(blk, s),
        ),
        Target::Aks => blk.id(
            "Microsoft.ContainerService/managedClusters",
            &platform::aks_name(blk, s),
        ),
        Target::Site => blk.id("Microsoft.Web/sites", &super::web::site_name(blk, s)),
        Target::Cosmos => blk.id(
            "Microsoft.DocumentDB/databaseAccounts",
            &data::cosmos_name(blk, s),
        ),
        Target::Redis => blk.id("Microsoft.Cache/redis", &data::redis_name(blk, s)),
        Target::EventHub => blk.id(
            "Microsoft.EventHub/namespaces",
            &platform::messaging_name(blk, s, false),
        ),
        Target::ServiceBus => blk.id(
            "Microsoft.ServiceBus/namespaces",
            &platform::messaging_name(blk, s, true),
        ),
        Target::Registry => blk.id(
            "Microsoft.ContainerRegistry/registries",
            &platform::registry_name(blk, s),
        ),
    }
}

fn categories(t: Target) -> &'static [&'static str] {
    match t {
        Target::KeyVault => &["AuditEvent", "AzurePolicyEvaluationDetails"],
        Target::SqlServer => &["SQLSecurityAuditEvents", "DevOpsOperationsAudit"],
        Target::Nsg => &[
            "NetworkSecurityGroupEvent",
            "NetworkSecurityGroupRuleCounter",
        ],
        Target::Aks => &["kube-apiserver", "kube-audit", "kube-audit-admin", "guard"],
        Target::Site => &[
            "AppServiceHTTPLogs",
            "AppServiceConsoleLogs",
            "AppServiceAuditLogs",
        ],
        Target::AppGateway => &[
            "ApplicationGatewayAccessLog",
            "ApplicationGatewayFirewallLog",
        ],
        Target::Cosmos => &["DataPlaneRequests", "ControlPlaneRequests"],
        Target::EventHub | Target::ServiceBus => &["OperationalLogs", "RuntimeAuditLogs"],
        Target::Redis => &["ConnectedClientList"],
        Target::Registry => &[
            "ContainerRegistryLoginEvents",
            "ContainerRegistryRepositoryEvents",
        ],
        Target::Storage => &[],
    }
}

fn retention(w: &mut super::json::JsonWriter, r: &mut SplitMix64) {
    let on = r.pct(20);
    w.ko("retentionPolicy")
        .kb("enabled", on)
        .ku("days", if on { 90 } else { 0 })
        .end();
}

/// A diagnostic setting on the target of stack `s`; `None` when this one has none.
pub fn diagnostic_setting(d: &mut Doc<'_>, t: Target, s: u8) -> Option<Kind> {
    if !d.rng.pct(diag_share(t)) {
        return None;
    }
    let blk = d.blk;
    let parent = target_id(blk, t, s);
    let r = &mut d.rng;
    let dest = r.weighted(&[(70, 0u8), (25, 1), (5, 2)]);
    let name = match dest {
        0 if r.pct(30) => "setbypolicy",
        0 => "to-log-analytics",
        1 => "to-storage",
        _ => "to-event-hub",
    };
    let id = format!("{parent}/providers/Microsoft.Insights/diagnosticSettings/{name}");
    d.head(Kind::DiagnosticSetting, &id, name);
    let r = &mut d.rng;
    let w = &mut *d.w;
    w.ko("properties");
    match (dest, blk.recipe.storage_stack) {
        (1, Some(st)) => {
            w.ks("storageAccountId", &target_id(blk, Target::Storage, st));
        }
        (1, None) => {
            w.kf("storageAccountId", format_args!("/subscriptions/{}/resourceGroups/rg-platform-logs/providers/Microsoft.Storage/storageAccounts/stlogs{:08x}", blk.sub_id, blk.sub));
        }
        (2, _) => {
            w.kf("eventHubAuthorizationRuleId", format_args!("/subscriptions/{}/resourceGroups/rg-platform-logs/providers/Microsoft.EventHub/namespaces/evh-siem/authorizationrules/RootManageSharedAccessKey", blk.sub_id));
            w.ks("eventHubName", "diagnostics");
        }
        _ => {
            w.ks("workspaceId", &blk.workspace_id());
            if r.pct(40) {
                w.ks("logAnalyticsDestinationType", "Dedicated");
            }
        }
    }
    if r.pct(2) {
        w.kf("marketplacePartnerId", format_args!("/subscriptions/{}/resourceGroups/rg-platform-logs/providers/Microsoft.Datadog/monitors/dd-main", blk.sub_id));
    }
    w.ka("metrics")
        .obj()
        .ks("category", "AllMetrics")
        .kb("enabled", r.pct(85));
    retention(w, r);
    w.end().end_arr().ka("logs");
    let cats = categories(t);
    if !cats.is_empty() {
        let style = r.weighted(&[(50, 0u8), (15, 1), (35, 2)]);
        match style {
            0 | 1 => {
                w.obj()
                    .ks(
                        "categoryGroup",
                        if style == 0 { "allLogs" } else { "audit" },
                    )
                    .kb("enabled", r.pct(95));
                retention(w, r);
                w.end();
            }
            _ => {
                for c in cats {
                    w.obj().ks("category", c).kb("enabled", r.pct(90));
                    retention(w, r);
                    w.end();
                }
            }
        }
    }
    w.end_arr().end().end();
    Some(Kind::DiagnosticSetting)
}
