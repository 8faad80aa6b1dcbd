//! Platform services: key vaults, AKS clusters, container registries, Event Hubs and Service
//! Bus namespaces, Cognitive Services accounts.

use super::common::{Doc, Kind};
use super::data::opt;
use super::layout::Block;

/// Key vault name of stack `s` (`kv-<team>-<n>`, at most 22 characters).
pub fn vault_name(blk: &Block, s: u8) -> String {
    let t = blk.tag(s, 0x4B);
    format!("kv-{}-{:03}{:03}", blk.team, (t >> 8) % 1000, t & 0xff)
}

/// A key vault.
pub fn key_vault(d: &mut Doc<'_>, s: u8) -> Kind {
    let blk = d.blk;
    let name = vault_name(blk, s);
    let id = blk.id("Microsoft.KeyVault/vaults", &name);
    d.head(Kind::KeyVault, &id, &name);
    d.location_tags();
    let oid = d.guid();
    let r = &mut d.rng;
    let premium = r.pct(20);
    let soft = r.weighted(&[(85, "true"), (5, "false"), (10, "")]);
    let purge = r.pct(45);
    let rbac = r.weighted(&[(50, "true"), (20, "false"), (30, "")]);
    let pna = r.weighted(&[(62, "Enabled"), (28, "Disabled"), (10, "")]);
    let acl = r.weighted(&[(35, "Deny"), (45, "Allow"), (20, "")]);
    let for_deploy = r.pct(30);
    let for_disk = r.pct(40);
    let for_template = r.pct(35);
    let hsm = r.pct(5);
    let ip = acl == "Deny" && r.pct(50);
    let w = &mut *d.w;
    w.ko("properties")
        .ko("sku")
        .ks("family", "A")
        .ks("name", if premium { "premium" } else { "standard" })
        .end();
    w.ks("tenantId", &blk.tenant_id).ka("accessPolicies");
    if rbac != "true" {
        w.obj()
            .ks("tenantId", &blk.tenant_id)
            .ks("objectId", &oid)
            .ko("permissions");
        w.kstrs("keys", &["get", "list", "wrapKey", "unwrapKey"]);
        w.kstrs("secrets", &["get", "list", "set"])
            .kstrs("certificates", &["get", "list"])
            .end()
            .end();
    }
    w.end_arr();
    w.kb("enabledForDeployment", for_deploy)
        .kb("enabledForDiskEncryption", for_disk);
    w.kb("enabledForTemplateDeployment", for_template);
    if !soft.is_empty() {
        w.k("enableSoftDelete").raw(soft);
        if soft == "true" {
            w.ku("softDeleteRetentionInDays", 90);
        }
    }
    if !rbac.is_empty() {
        w.k("enableRbacAuthorization").raw(rbac);
    }
    if purge {
        w.kb("enablePurgeProtection", true);
    }
    if !acl.is_empty() {
        w.ko("networkAcls")
            .ks("bypass", "AzureServices")
            .ks("defaultAction", acl)
            .ka("ipRules");
        if ip {
            w.obj()
                .kf(
                    "value",
                    format_args!("{}.{}.0.0/24", 40 + blk.index % 100, s),
                )
                .end();
        }
        w.end_arr().kempty("virtualNetworkRules").end();
    }
    if hsm {
        w.ks(
            "hsmPoolResourceId",
            &blk.id(
                "Microsoft.KeyVault/managedHSMs",
                &format!("hsm-{}", blk.team),
            ),
        );
    }
    w.kf("vaultUri", format_args!("https://{name}.vault.azure.net/"))
        .ks("provisioningState", "Succeeded");
    opt(w, "publicNetworkAccess", pna);
    d.private_endpoints(&id, pna == "Disabled");
    d.w.end().end();
    Kind::KeyVault
}

/// AKS cluster name of stack `s`.
pub fn aks_name(blk: &Block, s: u8) -> String {
    format!("aks-{}-{}-{s:02}", blk.team, blk.env)
}

/// Container registry name of stack `s` (alphanumeric only).
pub fn registry_name(blk: &Block, s: u8) -> String {
    format!("cr{}{}{:04x}", blk.team, blk.env, blk.tag(s, 0xAC) & 0xffff)
}

/// Event Hubs or Service Bus namespace name of stack `s`.
pub fn messaging_name(blk: &Block, s: u8, service_bus: bool) -> String {
    let (pre, tag) = if service_bus {
        ("sb", 0x5B)
    } else {
        ("evh", 0xE4)
    };
    format!(
        "{pre}-{}-{}-{:04x}",
        blk.team,
        blk.env,
        blk.tag(s, tag) & 0xffff
    )
}

/// An AKS managed cluster.
pub fn aks(d: &mut Doc<'_>, s: u8) -> Kind {
    let blk = d.blk;
    let name = aks_name(blk, s);
    let rgs = if d.rng.pct(super::common::ODD_TYPE_PCT) {
        "resourcegroups"
    } else {
        "resourceGroups"
    };
    let id = format!(
        "/subscriptions/{}/{rgs}/{}/providers/Microsoft.ContainerService/managedClusters/{name}",
        blk.sub_id, blk.rg
    );
    d.head(Kind::ManagedCluster, &id, &name);
    let loc = d.location_value();
    d.w.ks("location", loc);
    d.tags();
    d.identity(75, 20, 0);
    let etag = d.guid();
    let admin_group = d.guid();
    let r = &mut d.rng;
    let paid = r.pct(40);
    let version = r.weighted(&[
        (8, "1.25.11"),
        (12, "1.26.6"),
        (25, "1.28.9"),
        (30, "1.29.4"),
        (25, "1.30.3"),
    ]);
    let rbac = r.pct(90);
    let aad = rbac && r.pct(65);
    let azure_rbac = aad && r.pct(50);
    let local = r.weighted(&[(30, "true"), (40, "false"), (30, "")]);
    let api = r.weighted(&[(45, 0u8), (25, 1), (30, 2)]);
    let plugin = r.weighted(&[(35, "kubenet"), (65, "azure")]);
    let policy = r.weighted(&[(35, ""), (35, "calico"), (30, "azure")]);
    let azpolicy = r.pct(40);
    let oms = r.pct(60);
    let defender = r.pct(35);
    let des = r.pct(15);
    let ssh = r.pct(50);
    let pools = r.range(1, 3);
    let upgrade = r.pct(10);
    let channel = r.weighted(&[(40, "none"), (30, "patch"), (20, "stable"), (10, "rapid")]);
    let prefix = format!("{name}-dns");
    let ws = blk.workspace_id();
    let w = &mut *d.w;
    w.ks("eTag", &etag)
        .ko("sku")
        .ks("name", "Base")
        .ks("tier", if paid { "Standard" } else { "Free" })
        .end();
    w.ko("properties")
        .ks("provisioningState", "Succeeded")
        .ko("powerState")
        .ks("code", "Running")
        .end();
    w.ku("maxAgentPools", 100)
        .ks("kubernetesVersion", version)
        .ks("currentKubernetesVersion", version);
    w.ks("dnsPrefix", &prefix).kf(
        "fqdn",
        format_args!(
            "{prefix}-{:08x}.hcp.{}.azmk8s.io",
            blk.tag(s, 0xF9) & 0xffff_ffff,
            blk.region_name()
        ),
    );
    w.kf(
        "azurePortalFQDN",
        format_args!("{prefix}.portal.hcp.{}.azmk8s.io", blk.region_name()),
    );
    if api == 1 {
        w.kf(
            "privateFQDN",
            format_args!("{prefix}.privatelink.{}.azmk8s.io", blk.region_name()),
        );
    }
    w.ka("agentPoolProfiles");
    for p in 0..pools {
        w.obj()
            .kf("name", format_args!("pool{p}"))
            .ku("count", 3)
            .ks("vmSize", "Standard_D4s_v5");
        w.ku("osDiskSizeGB", 128)
            .ks("osDiskType", "Managed")
            .ks("kubeletDiskType", "OS")
            .ku("maxPods", 110);
        w.ks("type", "VirtualMachineScaleSets")
            .ks("osType", "Linux")
            .ks("osSKU", "Ubuntu");
        w.ks("mode", if p == 0 { "System" } else { "User" })
            .ks("provisioningState", "Succeeded");
        w.kf(
            "eTag",
            format_args!("{:08x}", blk.tag(s, 0xE7 + p) & 0xffff_ffff),
        );
        w.ks("orchestratorVersion", version)
            .ks("currentOrchestratorVersion", version);
        w.kstrs("availabilityZones", &["1", "2", "3"])
            .kb("enableNodePublicIP", false);
        w.kb("enableEncryptionAtHost", des).ks(
            "nodeImageVersion",
            "AKSUbuntu-2204gen2containerd-202405.03.0",
        );
        w.ko("upgradeSettings").ks("maxSurge", "33%").end();
        w.kf(
            "vnetSubnetID",
            format_args!("{}", super::network::app_subnet_id(blk)),
        )
        .end();
    }
    w.end_arr();
    if ssh {
        w.ko("linuxProfile")
            .ks("adminUsername", "azureuser")
            .ko("ssh")
            .ka("publicKeys")
            .obj();
        w.ks(
            "keyData",
            "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQD0synthetic",
        )
        .end()
        .end_arr()
        .end()
        .end();
    }
    w.ko("servicePrincipalProfile").ks("clientId", "msi").end();
    w.ko("addonProfiles")
        .ko("azurepolicy")
        .kb("enabled", azpolicy)
        .end();
    w.ko("omsagent").kb("enabled", oms);
    if oms {
        w.ko("config")
            .ks("logAnalyticsWorkspaceResourceID", &ws)
            .end();
    }
    w.end()
        .ko("azureKeyvaultSecretsProvider")
        .kb("enabled", true)
        .end()
        .end();
    w.kf(
        "nodeResourceGroup",
        format_args!("MC_{}_{name}_{}", blk.rg, blk.region_name()),
    );
    w.kb("enableRBAC", rbac);
    if aad {
        w.ko("aadProfile")
            .kb("managed", true)
            .kb("enableAzureRBAC", azure_rbac);
        w.kstrs("adminGroupObjectIDs", &[&admin_group])
            .ks("tenantID", &blk.tenant_id)
            .end();
    }
    if !local.is_empty() {
        w.k("disableLocalAccounts").raw(local);
    }
    if des {
        w.ks(
            "diskEncryptionSetID",
            &blk.id(
                "Microsoft.Compute/diskEncryptionSets",
                &format!("des-{}", blk.team),
            ),
        );
    }
    w.ko("networkProfile").ks("networkPlugin", plugin);
    opt(w, "networkPolicy", policy);
    if plugin == "kubenet" {
        w.ks("podCidr", "10.244.0.0/16")
            .kstrs("podCidrs", &["10.244.0.0/16"]);
    }
    w.ks("serviceCidr", "10.0.0.0/16")
        .ks("dnsServiceIP", "10.0.0.10")
        .ks("loadBalancerSku", "standard");
    w.ks("outboundType", "loadBalancer")
        .kstrs("serviceCidrs", &["10.0.0.0/16"])
        .kstrs("ipFamilies", &["IPv4"]);
    w.ko("loadBalancerProfile")
        .ko("managedOutboundIPs")
        .ku("count", 1)
        .end();
    w.ka("effectiveOutboundIPs").obj();
    w.kf("id", format_args!("/subscriptions/{}/resourceGroups/MC_{}_{name}_{}/providers/Microsoft.Network/publicIPAddresses/kubernetes-out", blk.sub_id, blk.rg, blk.region_name()));
    w.end()
        .end_arr()
        .ku("allocatedOutboundPorts", 0)
        .ku("idleTimeoutInMinutes", 30)
        .end()
        .end();
    match api {
        1 => {
            w.ko("apiServerAccessProfile")
                .kb("enablePrivateCluster", true)
                .ks("privateDNSZone", "system")
                .end();
        }
        2 => {
            w.ko("apiServerAccessProfile").kstrs(
                "authorizedIPRanges",
                &["203.0.113.0/24", "198.51.100.10/32"],
            );
            w.kb("enablePrivateCluster", false).end();
        }
        _ => {}
    }
    w.ko("securityProfile");
    if defender {
        w.ko("defender")
            .ks("logAnalyticsWorkspaceResourceId", &ws)
            .ko("securityMonitoring")
            .kb("enabled", true)
            .end()
            .end();
    }
    w.end().ko("oidcIssuerProfile").kb("enabled", true).end();
    w.ko("autoUpgradeProfile")
        .ks("upgradeChannel", channel)
        .end();
    if upgrade {
        w.ko("upgradeSettings")
            .ko("overrideSettings")
            .kb("forceUpgrade", false)
            .ks("until", "2025-06-01T00:00:00Z")
            .end()
            .end();
    }
    w.end().end();
    Kind::ManagedCluster
}

/// A container registry.
pub fn registry(d: &mut Doc<'_>, s: u8) -> Kind {
    let blk = d.blk;
    let name = registry_name(blk, s);
    let id = blk.id("Microsoft.ContainerRegistry/registries", &name);
    d.head(Kind::Registry, &id, &name);
    d.location_tags();
    let created = d.timestamp();
    let r = &mut d.rng;
    let sku = r.weighted(&[(40, "Basic"), (35, "Standard"), (25, "Premium")]);
    let premium = sku == "Premium";
    let admin = r.pct(25);
    let pna = if premium && r.pct(40) {
        "Disabled"
    } else {
        "Enabled"
    };
    let deny = premium && r.pct(40);
    let anon = r.pct(5);
    let cmk = premium && r.pct(40);
    let export = !(premium && r.pct(10));
    let w = &mut *d.w;
    w.ko("sku").ks("name", sku).ks("tier", sku).end();
    w.ko("properties")
        .kf("loginServer", format_args!("{name}.azurecr.io"))
        .ks("creationDate", &created);
    w.ks("provisioningState", "Succeeded")
        .kb("adminUserEnabled", admin);
    w.ko("networkRuleSet")
        .ks("defaultAction", if deny { "Deny" } else { "Allow" })
        .kempty("ipRules")
        .end();
    w.ko("policies")
        .ko("quarantinePolicy")
        .ks("status", "disabled")
        .end();
    w.ko("trustPolicy")
        .ks("type", "Notary")
        .ks("status", "disabled")
        .end();
    w.ko("retentionPolicy")
        .ku("days", 7)
        .ks("lastUpdatedTime", &created)
        .ks("status", "disabled")
        .end();
    w.ko("exportPolicy")
        .ks("status", if export { "enabled" } else { "disabled" })
        .end();
    w.ko("azureADAuthenticationAsArmPolicy")
        .ks("status", "enabled")
        .end()
        .end();
    w.ko("encryption")
        .ks("status", if cmk { "enabled" } else { "disabled" })
        .end();
    w.k("status")
        .null()
        .kb("dataEndpointEnabled", false)
        .kempty("dataEndpointHostNames");
    d.private_endpoints(&id, pna == "Disabled");
    let w = &mut *d.w;
    w.ks("publicNetworkAccess", pna)
        .ks("networkRuleBypassOptions", "AzureServices");
    w.ks(
        "zoneRedundancy",
        if premium { "Enabled" } else { "Disabled" },
    )
    .kb("anonymousPullEnabled", anon);
    w.end().end();
    Kind::Registry
}

/// An Event Hubs (`service_bus == false`) or Service Bus namespace.
pub fn messaging(d: &mut Doc<'_>, s: u8, service_bus: bool) -> Kind {
    let blk = d.blk;
    let (kind, ns) = if service_bus {
        (Kind::ServiceBusNamespace, "Microsoft.ServiceBus/namespaces")
    } else {
        (Kind::EventHubNamespace, "Microsoft.EventHub/namespaces")
    };
    let name = messaging_name(blk, s, service_bus);
    let id = blk.id(ns, &name);
    let r = &mut d.rng;
    let (sku, cap) = r.weighted(&[
        (15, ("Basic", 1u64)),
        (65, ("Standard", 1)),
        (20, ("Premium", 1)),
    ]);
    d.head(kind, &id, &name);
    d.w.ko("sku")
        .ks("name", sku)
        .ks("tier", sku)
        .ku("capacity", cap)
        .end();
    d.location_tags();
    d.identity(25, 5, 3);
    let created = d.timestamp();
    let r = &mut d.rng;
    let local = r.pct(35);
    let tls = r.weighted(&[(70, "1.2"), (10, "1.0"), (5, "1.1"), (15, "")]);
    let pna = r.weighted(&[(75, "Enabled"), (15, "Disabled"), (10, "")]);
    let cmk = sku == "Premium" && r.pct(40);
    let zr = sku == "Premium" || r.pct(30);
    let cluster = !service_bus && r.pct(3);
    let w = &mut *d.w;
    w.ko("properties");
    opt(w, "minimumTlsVersion", tls);
    opt(w, "publicNetworkAccess", pna);
    w.kb("disableLocalAuth", local).kb("zoneRedundant", zr);
    if service_bus {
        if sku == "Premium" {
            w.ku("premiumMessagingPartitions", 1);
        }
    } else {
        w.kb("isAutoInflateEnabled", false)
            .ku("maximumThroughputUnits", 0)
            .kb("kafkaEnabled", sku != "Basic");
    }
    if cmk {
        let uami = format!(
            "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-{}-{}",
            blk.rg_id, blk.team, blk.env
        );
        w.ko("encryption")
            .ks("keySource", "Microsoft.KeyVault")
            .ka("keyVaultProperties")
            .obj();
        w.ks("keyName", "msg-cmk").kf(
            "keyVaultUri",
            format_args!("https://kv-{}-cmk.vault.azure.net", blk.team),
        );
        w.ks("keyVersion", "")
            .ko("identity")
            .ks("userAssignedIdentity", &uami)
            .end()
            .end()
            .end_arr();
        w.kb("requireInfrastructureEncryption", false).end();
    }
    d.private_endpoints(&id, pna == "Disabled");
    let w = &mut *d.w;
    w.ks("provisioningState", "Succeeded")
        .ks("status", "Active");
    if cluster {
        w.ks(
            "clusterArmId",
            &blk.id("Microsoft.EventHub/clusters", &format!("evhc-{}", blk.team)),
        );
    }
    w.kf("metricId", format_args!("{}:{}", blk.sub_id, name))
        .ks("createdAt", &created)
        .ks("updatedAt", &created);
    w.kf(
        "serviceBusEndpoint",
        format_args!("https://{name}.servicebus.windows.net:443/"),
    )
    .end()
    .end();
    kind
}

/// A Cognitive Services / Azure AI account.
pub fn cognitive(d: &mut Doc<'_>, s: u8) -> Kind {
    let blk = d.blk;
    let name = format!(
        "cog-{}-{}-{:04x}",
        blk.team,
        blk.env,
        blk.tag(s, 0xC6) & 0xffff
    );
    let id = blk.id("Microsoft.CognitiveServices/accounts", &name);
    d.head(Kind::CognitiveAccount, &id, &name);
    let r = &mut d.rng;
    let kind = r.weighted(&[
        (35, "OpenAI"),
        (25, "CognitiveServices"),
        (12, "TextAnalytics"),
        (10, "FormRecognizer"),
        (10, "ComputerVision"),
        (8, "SpeechServices"),
    ]);
    let sku = if r.pct(10) { "F0" } else { "S0" };
    d.w.ko("sku").ks("name", sku).end().ks("kind", kind);
    d.location_tags();
    let etag = d.guid();
    d.w.kf("etag", format_args!("\"{etag}\""));
    d.identity(35, 5, 0);
    let created = d.timestamp();
    let r = &mut d.rng;
    let sub_domain = r.pct(75);
    let local = r.weighted(&[(30, "true"), (35, "false"), (35, "")]);
    let pna = r.weighted(&[(60, "Enabled"), (25, "Disabled"), (15, "")]);
    let deny = r.pct(25);
    let cmk = r.pct(10);
    let outbound = r.pct(10);
    let w = &mut *d.w;
    w.ko("properties");
    if sub_domain {
        w.kf(
            "endpoint",
            format_args!("https://{name}.cognitiveservices.azure.com/"),
        )
        .ks("customSubDomainName", &name);
    } else {
        w.kf(
            "endpoint",
            format_args!("https://{}.api.cognitive.microsoft.com/", blk.region_name()),
        );
    }
    w.ks("provisioningState", "Succeeded")
        .ks("dateCreated", &created);
    opt(w, "publicNetworkAccess", pna);
    if !local.is_empty() {
        w.k("disableLocalAuth").raw(local);
    }
    w.ko("networkAcls")
        .ks("defaultAction", if deny { "Deny" } else { "Allow" })
        .kempty("ipRules");
    w.kempty("virtualNetworkRules")
        .end()
        .kb("restrictOutboundNetworkAccess", outbound);
    if cmk {
        w.ko("encryption")
            .ks("keySource", "Microsoft.KeyVault")
            .ko("keyVaultProperties");
        w.ks("keyName", "cog-cmk").kf(
            "keyVaultUri",
            format_args!("https://kv-{}-cmk.vault.azure.net/", blk.team),
        );
        w.end().end();
    }
    d.private_endpoints(&id, pna == "Disabled");
    d.w.end().end();
    Kind::CognitiveAccount
}
