//! Data services: storage accounts, SQL servers (with auditing settings, databases and
//! firewall rules as children), Cosmos DB accounts, Redis caches, PostgreSQL flexible servers.

use super::common::{location_with, Doc, Kind};
use super::json::JsonWriter;
use super::layout::Block;

const FACTS: u64 = 0xDA7A;

/// Writes `"key": value` unless `value` is empty (the property is absent, as with older
/// api-versions).
pub fn opt(w: &mut JsonWriter, key: &str, value: &str) {
    if !value.is_empty() {
        w.ks(key, value);
    }
}

/// Storage account name of stack `s` (lower-case letters and digits, at most 24).
pub fn storage_name(blk: &Block, s: u8) -> String {
    format!("st{}{:08x}", blk.team, blk.tag(s, 0x57) & 0xffff_ffff)
}

/// A storage account.
pub fn storage(d: &mut Doc<'_>, s: u8) -> Kind {
    let blk = d.blk;
    let name = storage_name(blk, s);
    let id = blk.id("Microsoft.Storage/storageAccounts", &name);
    d.head(Kind::StorageAccount, &id, &name);
    let kind = d.rng.weighted(&[
        (85, "StorageV2"),
        (8, "Storage"),
        (3, "BlobStorage"),
        (2, "FileStorage"),
        (2, "BlockBlobStorage"),
    ]);
    d.w.ks("kind", kind);
    let loc = d.location_value();
    d.w.ks("location", loc);
    d.tags();
    let sku = d.rng.weighted(&[
        (40, "Standard_LRS"),
        (20, "Standard_GRS"),
        (15, "Standard_RAGRS"),
        (15, "Standard_ZRS"),
        (10, "Premium_LRS"),
    ]);
    d.w.ko("sku")
        .ks("name", sku)
        .ks(
            "tier",
            if sku.starts_with("Premium") {
                "Premium"
            } else {
                "Standard"
            },
        )
        .end();
    d.identity(22, 5, 2);
    let created = d.timestamp();
    let r = &mut d.rng;
    let https = r.pct(88);
    let tls = r.weighted(&[(78, "TLS1_2"), (10, "TLS1_0"), (5, "TLS1_1"), (7, "")]);
    let blob_public = r.weighted(&[(60, "false"), (20, "true"), (20, "")]);
    let deny = r.pct(40);
    let pna = r.weighted(&[(35, "Enabled"), (10, "Disabled"), (55, "")]);
    let shared_key = r.weighted(&[(25, "false"), (30, "true"), (45, "")]);
    let cmk = r.pct(15);
    let infra = r.pct(10);
    let cross = r.weighted(&[(10, "true"), (50, "false"), (40, "")]);
    let ip_rules = if deny { r.below(3) } else { 0 };
    let vnet_rule = deny && r.pct(50);
    let hns = r.pct(20);
    let sftp = hns && r.pct(20);
    let geo = sku.contains("GRS");
    let ips: Vec<String> = (0..ip_rules)
        .map(|_| {
            format!(
                "{}.{}.{}.{}",
                r.range(20, 210),
                r.below(256),
                r.below(256),
                r.range(1, 254)
            )
        })
        .collect();
    let w = &mut *d.w;
    w.ko("properties");
    w.ko("keyCreationTime")
        .ks("key1", &created)
        .ks("key2", &created)
        .end();
    w.ks("dnsEndpointType", "Standard");
    if sftp {
        w.kb("isSftpEnabled", true).kb("isLocalUserEnabled", true);
    }
    opt(w, "publicNetworkAccess", pna);
    if !cross.is_empty() {
        w.k("allowCrossTenantReplication").raw(cross);
    }
    opt(w, "minimumTlsVersion", tls);
    if !blob_public.is_empty() {
        w.k("allowBlobPublicAccess").raw(blob_public);
    }
    if !shared_key.is_empty() {
        w.k("allowSharedKeyAccess").raw(shared_key);
    }
    w.kb("isHnsEnabled", hns);
    w.ko("networkAcls").ks("bypass", "AzureServices");
    w.ka("virtualNetworkRules");
    if vnet_rule {
        w.obj().ks(
            "id",
            &super::network::app_subnet_id(blk).replace("snet-app", "snet-data"),
        );
        w.ks("action", "Allow").ks("state", "Succeeded").end();
    }
    w.end_arr().ka("ipRules");
    for ip in &ips {
        w.obj().ks("value", ip).ks("action", "Allow").end();
    }
    w.end_arr()
        .kempty("resourceAccessRules")
        .ks("defaultAction", if deny { "Deny" } else { "Allow" })
        .end();
    w.kb("supportsHttpsTrafficOnly", https);
    w.ko("encryption");
    if infra {
        w.kb("requireInfrastructureEncryption", true);
    }
    w.ko("services");
    for svc in ["file", "blob"] {
        w.ko(svc)
            .ks("keyType", "Account")
            .kb("enabled", true)
            .ks("lastEnabledTime", &created)
            .end();
    }
    w.end();
    if cmk {
        w.ks("keySource", "Microsoft.Keyvault")
            .ko("keyvaultproperties");
        w.kf(
            "keyvaulturi",
            format_args!("https://kv-{}-cmk.vault.azure.net", blk.team),
        );
        w.ks("keyname", "storage-cmk").ks("keyversion", "").end();
    } else {
        w.ks("keySource", "Microsoft.Storage");
    }
    w.end().ks("accessTier", "Hot");
    w.ko("primaryEndpoints");
    for ep in ["dfs", "web", "blob", "queue", "table", "file"] {
        w.kf(ep, format_args!("https://{name}.{ep}.core.windows.net/"));
    }
    if hns {
        let routes = [
            ("microsoftEndpoints", "microsoftrouting"),
            ("internetEndpoints", "internetrouting"),
        ];
        for (key, route) in routes {
            w.ko(key);
            for ep in ["dfs", "web", "blob"] {
                w.kf(
                    ep,
                    format_args!("https://{name}-{route}.{ep}.core.windows.net/"),
                );
            }
            w.end();
        }
    }
    w.end()
        .ks("provisioningState", "Succeeded")
        .ks("creationTime", &created);
    w.ks("primaryLocation", blk.region_name())
        .ks("statusOfPrimary", "available");
    if geo {
        w.ks("secondaryLocation", "northeurope")
            .ks("statusOfSecondary", "available");
        w.ko("geoReplicationStats")
            .ks("status", "Live")
            .ks("lastSyncTime", &created)
            .kb("canFailover", true)
            .end();
    }
    if hns {
        w.ko("routingPreference")
            .ks("routingChoice", "MicrosoftRouting");
        w.kb("publishMicrosoftEndpoints", false)
            .kb("publishInternetEndpoints", false)
            .end();
    }
    w.kb("isSkuConversionBlocked", false)
        .kb("accountMigrationInProgress", false);
    w.end().end();
    Kind::StorageAccount
}

struct SqlFacts {
    name: String,
    location: &'static str,
    dbs: u8,
    allow_azure: bool,
    allow_all: bool,
}

fn sql_facts(blk: &Block, s: u8) -> SqlFacts {
    let mut r = blk.stack_rng(s, FACTS);
    SqlFacts {
        name: sql_name(blk, s),
        location: location_with(blk, &mut r),
        dbs: r.range(1, 3) as u8,
        allow_azure: r.pct(35),
        allow_all: r.pct(4),
    }
}

/// SQL server name of stack `s`.
pub fn sql_name(blk: &Block, s: u8) -> String {
    format!(
        "sql-{}-{}-{:04x}",
        blk.team,
        blk.env,
        blk.tag(s, 0x5C) & 0xffff
    )
}

/// A SQL logical server.
pub fn sql_server(d: &mut Doc<'_>, s: u8) -> Kind {
    let blk = d.blk;
    let f = sql_facts(blk, s);
    let id = blk.id("Microsoft.Sql/servers", &f.name);
    d.head(Kind::SqlServer, &id, &f.name);
    d.w.ks("kind", "v12.0").ks("location", f.location);
    d.tags();
    d.identity(30, 5, 0);
    let sid = d.guid();
    let r = &mut d.rng;
    let pna = r.weighted(&[(65, "Enabled"), (35, "Disabled")]);
    let tls = r.weighted(&[(70, "1.2"), (8, "1.0"), (5, "1.1"), (5, "None"), (12, "")]);
    let aad = r.pct(70);
    let aad_only = aad && r.pct(40);
    let pe = pna == "Disabled" || r.pct(15);
    let synapse = r.pct(5);
    let w = &mut *d.w;
    w.ko("properties")
        .ks("administratorLogin", "sqladmin")
        .ks("version", "12.0")
        .ks("state", "Ready");
    w.kf(
        "fullyQualifiedDomainName",
        format_args!("{}.database.windows.net", f.name),
    );
    opt(w, "minimalTlsVersion", tls);
    w.ks("publicNetworkAccess", pna)
        .ks("restrictOutboundNetworkAccess", "Disabled");
    if synapse {
        w.ks("workspaceFeature", "Connected");
    }
    if aad {
        w.ko("administrators")
            .ks("administratorType", "ActiveDirectory")
            .ks("principalType", "Group");
        w.kf("login", format_args!("sg-{}-dba", blk.team))
            .ks("sid", &sid)
            .ks("tenantId", &blk.tenant_id);
        w.kb("azureADOnlyAuthentication", aad_only).end();
    }
    d.private_endpoints(&id, pe);
    d.w.end().end();
    Kind::SqlServer
}

/// The server's `auditingSettings/default` child.
pub fn sql_audit(d: &mut Doc<'_>, s: u8) -> Kind {
    let blk = d.blk;
    let f = sql_facts(blk, s);
    let id = format!(
        "{}/auditingSettings/default",
        blk.id("Microsoft.Sql/servers", &f.name)
    );
    d.head(Kind::SqlAuditing, &id, "default");
    let r = &mut d.rng;
    let on = r.pct(75);
    let to_monitor = on && r.pct(60);
    let to_storage = on && (!to_monitor || r.pct(30));
    let days = if on {
        r.pick(&[0u64, 30, 90, 90, 180, 365])
    } else {
        0
    };
    let w = &mut *d.w;
    w.ko("properties")
        .ks("state", if on { "Enabled" } else { "Disabled" });
    match (to_storage, blk.recipe.storage_stack) {
        (true, Some(st)) => {
            w.kf(
                "storageEndpoint",
                format_args!("https://{}.blob.core.windows.net/", storage_name(blk, st)),
            );
        }
        _ => {
            w.ks("storageEndpoint", "");
        }
    }
    w.ku("retentionDays", days).ka("auditActionsAndGroups");
    if on {
        w.s("SUCCESSFUL_DATABASE_AUTHENTICATION_GROUP")
            .s("FAILED_DATABASE_AUTHENTICATION_GROUP")
            .s("BATCH_COMPLETED_GROUP");
    }
    w.end_arr()
        .ks("storageAccountSubscriptionId", &blk.sub_id)
        .kb("isStorageSecondaryKeyInUse", false);
    w.kb("isAzureMonitorTargetEnabled", to_monitor)
        .kb("isManagedIdentityInUse", false)
        .end()
        .end();
    Kind::SqlAuditing
}

/// Database `k` of the server in stack `s` (None when the server has fewer).
pub fn sql_database(d: &mut Doc<'_>, s: u8, k: u8) -> Option<Kind> {
    let blk = d.blk;
    let f = sql_facts(blk, s);
    if k >= f.dbs {
        return None;
    }
    let name = format!("sqldb-{}-{k}", blk.team);
    let id = format!(
        "{}/databases/{name}",
        blk.id("Microsoft.Sql/servers", &f.name)
    );
    d.head(Kind::SqlDatabase, &id, &name);
    d.w.ks("location", f.location);
    d.tags();
    let dbid = d.guid();
    let created = d.timestamp();
    let r = &mut d.rng;
    let (sku, tier, cap, vcore) = r.weighted(&[
        (40, ("GP_Gen5", "GeneralPurpose", 2u64, true)),
        (10, ("BC_Gen5", "BusinessCritical", 4, true)),
        (25, ("S0", "Standard", 10, false)),
        (10, ("P1", "Premium", 125, false)),
        (15, ("Basic", "Basic", 5, false)),
    ]);
    let redundancy = r.weighted(&[(50, "Geo"), (35, "Local"), (15, "Zone")]);
    let zr = r.pct(20);
    let ledger = r.pct(5);
    let w = &mut *d.w;
    w.ko("sku")
        .ks("name", sku)
        .ks("tier", tier)
        .ku("capacity", cap)
        .end();
    w.ks(
        "kind",
        if vcore {
            "v12.0,user,vcore"
        } else {
            "v12.0,user"
        },
    );
    w.ko("properties")
        .ks("collation", "SQL_Latin1_General_CP1_CI_AS")
        .ku("maxSizeBytes", 34_359_738_368);
    w.ks("status", "Online")
        .ks("databaseId", &dbid)
        .ks("creationDate", &created);
    w.kf("currentServiceObjectiveName", format_args!("{sku}_{cap}"))
        .kf("requestedServiceObjectiveName", format_args!("{sku}_{cap}"));
    w.ks("defaultSecondaryLocation", "northeurope")
        .ks("catalogCollation", "SQL_Latin1_General_CP1_CI_AS");
    w.ks("licenseType", "LicenseIncluded")
        .ku("maxLogSizeBytes", 104_857_600);
    w.kb("isInfraEncryptionEnabled", false)
        .kb("zoneRedundant", zr)
        .ks("readScale", "Disabled");
    w.ks("earliestRestoreDate", &created);
    w.kf("maintenanceConfigurationId", format_args!("/subscriptions/{}/providers/Microsoft.Maintenance/publicMaintenanceConfigurations/SQL_Default", blk.sub_id));
    w.ko("currentSku")
        .ks("name", sku)
        .ks("tier", tier)
        .ku("capacity", cap)
        .end();
    w.ks("currentBackupStorageRedundancy", redundancy)
        .ks("requestedBackupStorageRedundancy", redundancy);
    w.kb("isLedgerOn", ledger).end().end();
    Some(Kind::SqlDatabase)
}

/// Firewall rule `k` of the server in stack `s`.
pub fn sql_firewall(d: &mut Doc<'_>, s: u8, k: u8) -> Kind {
    let blk = d.blk;
    let f = sql_facts(blk, s);
    let server = blk.id("Microsoft.Sql/servers", &f.name);
    let r = &mut d.rng;
    let (name, start, end) = if k == 0 && f.allow_azure {
        (
            "AllowAllWindowsAzureIps".to_string(),
            "0.0.0.0".to_string(),
            "0.0.0.0".to_string(),
        )
    } else if k == 1 && f.allow_all {
        (
            "AllowAll".to_string(),
            "0.0.0.0".to_string(),
            "255.255.255.255".to_string(),
        )
    } else {
        let (a, b, c) = (r.range(20, 210), r.below(256), r.below(256));
        (
            format!("office-{k}"),
            format!("{a}.{b}.{c}.0"),
            format!("{a}.{b}.{c}.255"),
        )
    };
    let id = format!("{server}/firewallRules/{name}");
    d.head(Kind::SqlFirewallRule, &id, &name);
    d.w.ko("properties")
        .ks("startIpAddress", &start)
        .ks("endIpAddress", &end)
        .end()
        .end();
    Kind::SqlFirewallRule
}

/// Cosmos DB account name of stack `s`.
pub fn cosmos_name(blk: &Block, s: u8) -> String {
    format!(
        "cosmos-{}-{}-{:04x}",
        blk.team,
        blk.env,
        blk.tag(s, 0xC0) & 0xffff
    )
}

/// Redis cache name of stack `s`.
pub fn redis_name(blk: &Block, s: u8) -> String {
    format!(
        "redis-{}-{}-{:04x}",
        blk.team,
        blk.env,
        blk.tag(s, 0x7D) & 0xffff
    )
}

/// A Cosmos DB account.
pub fn cosmos(d: &mut Doc<'_>, s: u8) -> Kind {
    let blk = d.blk;
    let name = cosmos_name(blk, s);
    let id = blk.id("Microsoft.DocumentDB/databaseAccounts", &name);
    d.head(Kind::CosmosAccount, &id, &name);
    let mongo = d.rng.pct(20);
    d.w.ks("kind", if mongo { "MongoDB" } else { "GlobalDocumentDB" });
    d.location_tags();
    d.identity(25, 5, 5);
    let instance = d.guid();
    let created = d.timestamp();
    let r = &mut d.rng;
    let pna = r.weighted(&[(60, "Enabled"), (40, "Disabled")]);
    let vnet_filter = r.pct(30);
    let local_auth_off = r.pct(25);
    let meta_lock = r.pct(30);
    let tls = r.weighted(&[(75, "Tls12"), (10, "Tls"), (5, "Tls11"), (10, "")]);
    let cmk = r.pct(15);
    let ip_rules = if pna == "Enabled" && r.pct(45) {
        r.range(1, 3)
    } else {
        0
    };
    let continuous = r.pct(30);
    let migrating = !continuous && r.pct(5);
    let region = blk.region_name();
    let w = &mut *d.w;
    w.ko("properties").ks("provisioningState", "Succeeded");
    w.kf(
        "documentEndpoint",
        format_args!("https://{name}.documents.azure.com:443/"),
    );
    w.ks("publicNetworkAccess", pna)
        .kb("enableAutomaticFailover", true)
        .kb("enableMultipleWriteLocations", false);
    w.kb("isVirtualNetworkFilterEnabled", vnet_filter)
        .ka("virtualNetworkRules");
    if vnet_filter {
        w.obj()
            .ks("id", &super::network::app_subnet_id(blk))
            .kb("ignoreMissingVNetServiceEndpoint", false)
            .end();
    }
    w.end_arr().ka("ipRules");
    for k in 0..ip_rules {
        w.obj()
            .kf(
                "ipAddressOrRange",
                format_args!("{}.{}.10.0/24", 40 + k * 3, blk.index % 250),
            )
            .end();
    }
    w.end_arr().ks("databaseAccountOfferType", "Standard");
    w.kb("disableKeyBasedMetadataWriteAccess", meta_lock)
        .kb("disableLocalAuth", local_auth_off);
    if cmk {
        w.kf(
            "keyVaultKeyUri",
            format_args!("https://kv-{}-cmk.vault.azure.net/keys/cosmos", blk.team),
        );
    }
    w.ks("defaultIdentity", "FirstPartyIdentity");
    w.ko("consistencyPolicy")
        .ks("defaultConsistencyLevel", "Session")
        .ku("maxIntervalInSeconds", 5);
    w.ku("maxStalenessPrefix", 100).end();
    for coll in ["writeLocations", "readLocations", "locations"] {
        w.ka(coll)
            .obj()
            .kf("id", format_args!("{name}-{region}"))
            .ks("locationName", region);
        w.kf(
            "documentEndpoint",
            format_args!("https://{name}-{region}.documents.azure.com:443/"),
        );
        w.ks("provisioningState", "Succeeded")
            .ku("failoverPriority", 0)
            .kb("isZoneRedundant", false);
        w.end().end_arr();
    }
    w.ka("failoverPolicies")
        .obj()
        .kf("id", format_args!("{name}-{region}"))
        .ks("locationName", region);
    w.ku("failoverPriority", 0).end().end_arr();
    d.private_endpoints(&id, pna == "Disabled");
    let w = &mut *d.w;
    w.kempty("cors")
        .kb("enableFreeTier", false)
        .ko("apiProperties");
    if mongo {
        w.ks("serverVersion", "4.2");
    }
    w.end()
        .kb("enableAnalyticalStorage", false)
        .kb("enableBurstCapacity", false);
    w.kb("enablePerRegionPerPartitionAutoscale", false);
    w.ko("analyticalStorageConfiguration")
        .ks("schemaType", "WellDefined")
        .end();
    w.ks("instanceId", &instance)
        .ks("createMode", "Default")
        .ko("backupPolicy");
    if continuous {
        w.ks("type", "Continuous")
            .ko("continuousModeProperties")
            .ks("tier", "Continuous7Days")
            .end();
    } else {
        w.ks("type", "Periodic")
            .ko("periodicModeProperties")
            .ku("backupIntervalInMinutes", 240);
        w.ku("backupRetentionIntervalInHours", 8)
            .ks("backupStorageRedundancy", "Geo")
            .end();
        if migrating {
            w.ko("migrationState")
                .ks("status", "InProgress")
                .ks("targetType", "Continuous");
            w.ks("startTime", &created).end();
        }
    }
    w.end()
        .ks("networkAclBypass", "None")
        .kempty("networkAclBypassResourceIds");
    w.ko("keysMetadata");
    for key in [
        "primaryMasterKey",
        "secondaryMasterKey",
        "primaryReadonlyMasterKey",
        "secondaryReadonlyMasterKey",
    ] {
        w.ko(key).ks("generationTime", &created).end();
    }
    w.end().kb("enablePartitionMerge", false);
    opt(w, "minimalTlsVersion", tls);
    w.end().end();
    Kind::CosmosAccount
}

/// A Redis cache.
pub fn redis(d: &mut Doc<'_>, s: u8) -> Kind {
    let blk = d.blk;
    let name = redis_name(blk, s);
    let id = blk.id("Microsoft.Cache/redis", &name);
    d.head(Kind::Redis, &id, &name);
    d.location_tags();
    d.identity(15, 0, 0);
    let r = &mut d.rng;
    let (sku, family, cap) = r.weighted(&[
        (30, ("Basic", "C", 1u64)),
        (50, ("Standard", "C", 1)),
        (20, ("Premium", "P", 1)),
    ]);
    let non_ssl = r.pct(10);
    let tls = r.weighted(&[(77, "1.2"), (8, "1.0"), (5, "1.1"), (10, "")]);
    let injected = sku == "Premium" && r.pct(40);
    let pna = if injected {
        "Disabled"
    } else {
        r.weighted(&[(70, "Enabled"), (30, "Disabled")])
    };
    let no_keys = r.pct(15);
    let aad = r.pct(30);
    let w = &mut *d.w;
    if sku == "Premium" {
        w.kstrs("zones", &["1", "2"]);
    }
    w.ko("properties")
        .ks("provisioningState", "Succeeded")
        .ks("redisVersion", "6.0");
    w.ko("sku")
        .ks("name", sku)
        .ks("family", family)
        .ku("capacity", cap)
        .end();
    w.kb("enableNonSslPort", non_ssl);
    opt(w, "minimumTlsVersion", tls);
    w.ku("replicasPerMaster", 1)
        .ku("replicasPerPrimary", 1)
        .ks("updateChannel", "Stable");
    w.ks("zonalAllocationPolicy", "Automatic");
    w.ko("redisConfiguration")
        .ks("maxmemory-policy", "volatile-lru");
    w.ks("aad-enabled", if aad { "true" } else { "false" })
        .end();
    w.kb("disableAccessKeyAuthentication", no_keys);
    w.kf("hostName", format_args!("{name}.redis.cache.windows.net"))
        .ku("port", 6379)
        .ku("sslPort", 6380);
    if injected {
        w.ks(
            "subnetId",
            &super::network::app_subnet_id(blk).replace("snet-app", "snet-data"),
        );
    }
    w.kempty("linkedServers").ka("instances");
    for k in 0..2u64 {
        w.obj()
            .ku("sslPort", 15000 + k)
            .ku("nonSslPort", 13000 + k)
            .kb("isMaster", k == 0)
            .kb("isPrimary", k == 0)
            .end();
    }
    w.end_arr().ks("publicNetworkAccess", pna);
    d.private_endpoints(&id, pna == "Disabled" && !injected);
    d.w.end().end();
    Kind::Redis
}

/// A PostgreSQL flexible server.
pub fn postgres(d: &mut Doc<'_>, s: u8) -> Kind {
    let blk = d.blk;
    let name = format!(
        "psql-{}-{}-{:04x}",
        blk.team,
        blk.env,
        blk.tag(s, 0x95) & 0xffff
    );
    let id = blk.id("Microsoft.DBforPostgreSQL/flexibleServers", &name);
    d.head(Kind::Postgres, &id, &name);
    d.location_tags();
    let created = d.timestamp();
    let r = &mut d.rng;
    let (sku, tier) = r.weighted(&[
        (30, ("Standard_B1ms", "Burstable")),
        (55, ("Standard_D4ds_v5", "GeneralPurpose")),
        (15, ("Standard_E4ds_v5", "MemoryOptimized")),
    ]);
    let private = r.pct(40);
    let pna = if private { "Disabled" } else { "Enabled" };
    let aad = r.pct(35);
    let pwd = !aad || r.pct(60);
    let geo = r.pct(35);
    let cmk = r.pct(15);
    let ha = r.weighted(&[(60, "Disabled"), (30, "ZoneRedundant"), (10, "SameZone")]);
    let version = r.weighted(&[(10, "11"), (5, "12"), (25, "14"), (30, "15"), (30, "16")]);
    let w = &mut *d.w;
    w.ko("sku").ks("name", sku).ks("tier", tier).end();
    w.ko("properties")
        .ko("replica")
        .ks("role", "Primary")
        .ku("capacity", 5)
        .end();
    w.ko("storage")
        .ks("type", "")
        .ku("iops", 500)
        .ks("tier", "P10")
        .ku("storageSizeGB", 128);
    w.ks("autoGrow", "Disabled").end();
    w.ko("network").ks("publicNetworkAccess", pna);
    if private {
        w.ks(
            "delegatedSubnetResourceId",
            &super::network::app_subnet_id(blk).replace("snet-app", "snet-data"),
        );
    }
    w.end().kempty("privateEndpointConnections");
    w.ko("dataEncryption")
        .ks(
            "type",
            if cmk {
                "AzureKeyVault"
            } else {
                "SystemManaged"
            },
        )
        .end();
    w.ko("authConfig").ks(
        "activeDirectoryAuth",
        if aad { "Enabled" } else { "Disabled" },
    );
    w.ks("passwordAuth", if pwd { "Enabled" } else { "Disabled" });
    if aad {
        w.ks("tenantId", &blk.tenant_id);
    }
    w.end().kf(
        "fullyQualifiedDomainName",
        format_args!("{name}.postgres.database.azure.com"),
    );
    w.ks("version", version)
        .ks("minorVersion", "4")
        .ks("administratorLogin", "pgadmin")
        .ks("state", "Ready");
    w.ks("availabilityZone", "1");
    w.ko("backup").ku("backupRetentionDays", 7).ks(
        "geoRedundantBackup",
        if geo { "Enabled" } else { "Disabled" },
    );
    w.ks("earliestRestoreDate", &created).end();
    w.ko("highAvailability")
        .ks("mode", ha)
        .ks(
            "state",
            if ha == "Disabled" {
                "NotEnabled"
            } else {
                "Healthy"
            },
        )
        .end();
    w.ko("maintenanceWindow")
        .ks("customWindow", "Disabled")
        .ku("dayOfWeek", 0)
        .ku("startHour", 0);
    w.ku("startMinute", 0).end();
    w.ks("replicationRole", "Primary")
        .ku("replicaCapacity", 5)
        .end()
        .end();
    Kind::Postgres
}
