//! The parts every generated document shares: the resource kinds with their `type` strings,
//! and [`Doc`], which writes the ARM envelope (id, name, type, location, tags, identity) and
//! carries the document's own random stream.

use super::json::JsonWriter;
use super::layout::{guid, Block, REGIONS};
use super::rng::SplitMix64;

macro_rules! kinds {
    ($($v:ident => $canon:literal, $odd:literal;)*) => {
        /// A generated resource type.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Kind {
            $(
                #[doc = $canon]
                $v,
            )*
        }

        impl Kind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [Kind] = &[$(Kind::$v),*];

            /// The canonical ARM `type`.
            pub fn type_name(self) -> &'static str {
                match self { $(Kind::$v => $canon,)* }
            }

            /// A casing variant seen in real data for the same type.
            pub fn odd_type_name(self) -> &'static str {
                match self { $(Kind::$v => $odd,)* }
            }
        }
    };
}

kinds! {
    ResourceGroup => "Microsoft.Resources/subscriptions/resourceGroups", "microsoft.resources/subscriptions/resourcegroups";
    Pricing => "Microsoft.Security/pricings", "Microsoft.Security/Pricings";
    RoleAssignment => "Microsoft.Authorization/roleAssignments", "Microsoft.Authorization/RoleAssignments";
    StorageAccount => "Microsoft.Storage/storageAccounts", "Microsoft.Storage/StorageAccounts";
    KeyVault => "Microsoft.KeyVault/vaults", "Microsoft.KeyVault/Vaults";
    SqlServer => "Microsoft.Sql/servers", "Microsoft.Sql/Servers";
    SqlDatabase => "Microsoft.Sql/servers/databases", "Microsoft.Sql/servers/Databases";
    SqlAuditing => "Microsoft.Sql/servers/auditingSettings", "Microsoft.Sql/servers/AuditingSettings";
    SqlFirewallRule => "Microsoft.Sql/servers/firewallRules", "Microsoft.Sql/servers/FirewallRules";
    NetworkSecurityGroup => "Microsoft.Network/networkSecurityGroups", "Microsoft.Network/NetworkSecurityGroups";
    SecurityRule => "Microsoft.Network/networkSecurityGroups/securityRules", "Microsoft.Network/networkSecurityGroups/SecurityRules";
    VirtualNetwork => "Microsoft.Network/virtualNetworks", "Microsoft.Network/VirtualNetworks";
    PublicIp => "Microsoft.Network/publicIPAddresses", "Microsoft.Network/PublicIPAddresses";
    ApplicationGateway => "Microsoft.Network/applicationGateways", "Microsoft.Network/ApplicationGateways";
    NetworkInterface => "Microsoft.Network/networkInterfaces", "Microsoft.Network/NetworkInterfaces";
    VirtualMachine => "Microsoft.Compute/virtualMachines", "Microsoft.Compute/VirtualMachines";
    VmExtension => "Microsoft.Compute/virtualMachines/extensions", "Microsoft.Compute/virtualMachines/Extensions";
    Disk => "Microsoft.Compute/disks", "Microsoft.Compute/Disks";
    Site => "Microsoft.Web/sites", "Microsoft.Web/Sites";
    SiteConfig => "Microsoft.Web/sites/config", "Microsoft.Web/sites/Config";
    ManagedCluster => "Microsoft.ContainerService/managedClusters", "Microsoft.ContainerService/ManagedClusters";
    CosmosAccount => "Microsoft.DocumentDB/databaseAccounts", "Microsoft.DocumentDb/databaseAccounts";
    Registry => "Microsoft.ContainerRegistry/registries", "Microsoft.ContainerRegistry/Registries";
    Redis => "Microsoft.Cache/redis", "Microsoft.Cache/Redis";
    Postgres => "Microsoft.DBforPostgreSQL/flexibleServers", "Microsoft.DBForPostgreSQL/flexibleServers";
    EventHubNamespace => "Microsoft.EventHub/namespaces", "Microsoft.EventHub/Namespaces";
    ServiceBusNamespace => "Microsoft.ServiceBus/namespaces", "Microsoft.ServiceBus/Namespaces";
    CognitiveAccount => "Microsoft.CognitiveServices/accounts", "Microsoft.CognitiveServices/Accounts";
    DiagnosticSetting => "Microsoft.Insights/diagnosticSettings", "microsoft.insights/diagnosticSettings";
}

impl Kind {
    /// Position in [`Kind::ALL`].
    pub fn ordinal(self) -> usize {
        self as usize
    }
}

/// Percent of documents whose `type` uses the odd casing.
pub const ODD_TYPE_PCT: u32 = 2;

/// One document being written: the block context, the document's own random stream, and the
/// output writer.
pub struct Doc<'a> {
    /// The block (resource group) the document belongs to.
    pub blk: &'a Block,
    /// The document's random stream (a function of seed and index).
    pub rng: SplitMix64,
    /// Where the JSON goes.
    pub w: &'a mut JsonWriter,
}

impl Doc<'_> {
    /// Opens the document and writes `id`, `name` and `type`.
    pub fn head(&mut self, kind: Kind, id: &str, name: &str) {
        let ty = if self.rng.pct(ODD_TYPE_PCT) {
            kind.odd_type_name()
        } else {
            kind.type_name()
        };
        self.w.obj().ks("id", id).ks("name", name).ks("type", ty);
    }

    /// A location value: mostly the group's region, sometimes another; a few display names.
    pub fn location_value(&mut self) -> &'static str {
        location_with(self.blk, &mut self.rng)
    }

    /// `"location": ...`.
    pub fn location(&mut self) {
        let loc = self.location_value();
        self.w.ks("location", loc);
    }

    /// `"location"` then `"tags"`, the usual pair after the type.
    pub fn location_tags(&mut self) {
        self.location();
        self.tags();
        self.system_data();
    }

    /// `"systemData"` on 60% of documents (newer api-versions return it).
    pub fn system_data(&mut self) {
        if !self.rng.pct(60) {
            return;
        }
        let created = self.timestamp();
        let modified = self.timestamp();
        let r = &mut self.rng;
        let (by, by_type) = if r.pct(60) {
            (format!("{}@contoso.example", self.blk.team), "User")
        } else {
            (guid(r.next_u64()), "Application")
        };
        let w = &mut *self.w;
        w.ko("systemData")
            .ks("createdBy", &by)
            .ks("createdByType", by_type);
        w.ks("createdAt", &created).ks("lastModifiedBy", &by);
        w.ks("lastModifiedByType", by_type)
            .ks("lastModifiedAt", &modified)
            .end();
    }

    /// `"tags": {...}` with 0–6 tags; `env`, `owner`, `costCenter` are the common ones.
    pub fn tags(&mut self) {
        let r = &mut self.rng;
        let w = &mut *self.w;
        let blk = self.blk;
        w.ko("tags");
        let mut n = 0;
        if r.pct(60) {
            let k = if r.pct(10) { "Environment" } else { "env" };
            w.ks(k, blk.env);
            n += 1;
        }
        if r.pct(45) {
            w.kf("owner", format_args!("{}@contoso.example", blk.team));
            n += 1;
        }
        if r.pct(35) {
            w.kf("costCenter", format_args!("CC-{}", 1000 + r.below(90) * 10));
            n += 1;
        }
        let extra: [(&str, u32); 5] = [
            ("app", 35),
            ("team", 30),
            ("project", 20),
            ("dataClassification", 15),
            ("createdBy", 10),
        ];
        for (k, p) in extra {
            if n < 6 && r.pct(p) {
                match k {
                    "dataClassification" => {
                        w.ks(
                            k,
                            r.pick(&["public", "internal", "confidential", "restricted"]),
                        );
                    }
                    "createdBy" => {
                        w.ks(k, r.pick(&["terraform", "bicep", "portal", "pipeline"]));
                    }
                    _ => {
                        w.kf(k, format_args!("{}-{}", blk.team, r.below(20)));
                    }
                }
                n += 1;
            }
        }
        w.end();
    }

    /// `"identity"` per the percentages (system, user, both); otherwise omitted or `None`.
    pub fn identity(&mut self, system: u32, user: u32, both: u32) {
        let roll = self.rng.below(100) as u32;
        let (sys, usr) = if roll < system {
            (true, false)
        } else if roll < system + user {
            (false, true)
        } else if roll < system + user + both {
            (true, true)
        } else {
            if self.rng.pct(10) {
                self.w.ko("identity").ks("type", "None").end();
            }
            return;
        };
        let ty = match (sys, usr) {
            (true, true) => "SystemAssigned, UserAssigned",
            (true, false) => "SystemAssigned",
            _ => "UserAssigned",
        };
        let w = &mut *self.w;
        w.ko("identity").ks("type", ty);
        if sys {
            w.ks("principalId", &guid(self.rng.next_u64()));
            w.ks("tenantId", &self.blk.tenant_id);
        }
        if usr {
            w.ko("userAssignedIdentities");
            let uami = format!(
                "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-{}-{}",
                self.blk.rg_id, self.blk.team, self.blk.env
            );
            w.ko(&uami);
            w.ks("principalId", &guid(self.rng.next_u64()));
            w.ks("clientId", &guid(self.rng.next_u64()));
            w.end().end();
        }
        w.end();
    }

    /// A timestamp within 2019–2025 (ISO 8601, UTC, 7 fractional digits as ARM prints).
    pub fn timestamp(&mut self) -> String {
        let r = &mut self.rng;
        format!(
            "{}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z",
            r.range(2019, 2025),
            r.range(1, 12),
            r.range(1, 28),
            r.below(24),
            r.below(60),
            r.below(60),
            r.below(10_000_000)
        )
    }

    /// A fresh GUID from the document stream.
    pub fn guid(&mut self) -> String {
        guid(self.rng.next_u64())
    }

    /// `"privateEndpointConnections": [...]` with one approved connection when `on`.
    pub fn private_endpoints(&mut self, parent_id: &str, on: bool) {
        let w = &mut *self.w;
        w.ka("privateEndpointConnections");
        if on {
            let leaf = parent_id.rsplit('/').next().unwrap_or("res");
            // `.../providers/<Namespace>/<type>/<name>` -> `<Namespace>/<type>`.
            let provider = parent_id.rsplit_once("/providers/").map_or("", |(_, p)| p);
            let parent_type = provider.rsplit_once('/').map_or(provider, |(t, _)| t);
            w.obj().kf(
                "id",
                format_args!("{parent_id}/privateEndpointConnections/pe-{leaf}"),
            );
            w.kf("name", format_args!("pe-{leaf}"));
            w.kf(
                "type",
                format_args!("{parent_type}/privateEndpointConnections"),
            );
            w.ko("properties");
            let pe = self
                .blk
                .id("Microsoft.Network/privateEndpoints", &format!("pe-{leaf}"));
            w.kref("privateEndpoint", &pe);
            w.ko("privateLinkServiceConnectionState")
                .ks("status", "Approved");
            w.ks("description", "Auto-approved")
                .ks("actionsRequired", "None")
                .end();
            w.ks("provisioningState", "Succeeded").end().end();
        }
        w.end_arr();
    }
}

/// A location drawn from `r`: 90% the group's region, else any; 5% as a display name.
pub fn location_with(blk: &Block, r: &mut SplitMix64) -> &'static str {
    let region = if r.pct(90) {
        blk.region
    } else {
        r.below(REGIONS.len() as u64) as usize
    };
    let (short, display) = REGIONS
        .get(region)
        .copied()
        .unwrap_or(("westeurope", "West Europe"));
    if r.pct(5) {
        display
    } else {
        short
    }
}
