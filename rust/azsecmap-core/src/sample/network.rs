//! Network resources: virtual networks with subnets, NSGs with embedded (and standalone copies
//! of) security rules, public IPs, application gateways and NICs.

use super::common::{Doc, Kind};
use super::json::JsonWriter;
use super::layout::{guid, Block};
use super::rng::SplitMix64;

const FACTS: u64 = 0xFAC7;
const SUBNETS: [&str; 6] = [
    "snet-app",
    "snet-data",
    "snet-web",
    "snet-pe",
    "GatewaySubnet",
    "AzureBastionSubnet",
];

/// NSG name of stack `s`.
pub fn nsg_name(blk: &Block, s: u8) -> String {
    format!("nsg-{}-{}-{s:02}", blk.team, blk.env)
}

/// VNet name of the block (stack `s`).
pub fn vnet_name(blk: &Block, s: u8) -> String {
    format!("vnet-{}-{}-{s:02}", blk.team, blk.env)
}

/// The subnet NICs and private endpoints of the block join (`snet-app` of its VNet, or of a
/// spoke VNet in a shared network group when the block has none).
pub fn app_subnet_id(blk: &Block) -> String {
    match blk.recipe.vnet_stack {
        Some(s) => format!(
            "{}/subnets/snet-app",
            blk.id("Microsoft.Network/virtualNetworks", &vnet_name(blk, s))
        ),
        None => format!(
            "/subscriptions/{}/resourceGroups/rg-network-spokes/providers/Microsoft.Network/virtualNetworks/vnet-spoke-{}/subnets/snet-app",
            blk.sub_id, blk.team
        ),
    }
}

fn second_octet(blk: &Block) -> u64 {
    (blk.index * 7 + 3) % 250
}

/// How many rules the NSG of stack `s` embeds (also bounds its standalone copies).
fn rule_count(blk: &Block, s: u8) -> u8 {
    blk.stack_rng(s, FACTS).range(2, 10) as u8
}

fn cidr(r: &mut SplitMix64) -> String {
    match r.below(3) {
        0 => format!("10.{}.{}.0/24", r.below(250), r.below(250)),
        1 => format!(
            "{}.{}.{}.0/24",
            r.range(20, 210),
            r.below(250),
            r.below(250)
        ),
        _ => format!(
            "{}.{}.{}.{}/32",
            r.range(20, 210),
            r.below(250),
            r.below(250),
            r.range(1, 250)
        ),
    }
}

/// Source prefix of an inbound rule: weights for CIDR, `VirtualNetwork`, `*`, `Internet`,
/// `0.0.0.0/0`.
fn source(r: &mut SplitMix64, weights: [u32; 5]) -> String {
    let [c, v, any, inet, zero] = weights;
    match r.weighted(&[(c, 0u8), (v, 1), (any, 2), (inet, 3), (zero, 4)]) {
        1 => "VirtualNetwork".into(),
        2 => "*".into(),
        3 => "Internet".into(),
        4 => "0.0.0.0/0".into(),
        _ => cidr(r),
    }
}

/// Writes rule `k` of the NSG `nsg_id` (same bytes embedded or standalone, except `type`).
fn write_rule(w: &mut JsonWriter, blk: &Block, s: u8, k: u8, nsg_id: &str, ty: Option<&str>) {
    let mut r = blk.stack_rng(s, 0x100 + u64::from(k));
    #[derive(Clone, Copy, Default, PartialEq)]
    enum T {
        #[default]
        Https,
        Http,
        Ssh,
        Rdp,
        Mgmt,
        Db,
        App,
        Any,
        Lb,
        DenyIn,
        OutAllow,
        OutDeny,
    }
    let t = r.weighted(&[
        (18, T::Https),
        (7, T::Http),
        (12, T::Ssh),
        (8, T::Rdp),
        (5, T::Mgmt),
        (8, T::Db),
        (10, T::App),
        (4, T::Any),
        (6, T::Lb),
        (8, T::DenyIn),
        (8, T::OutAllow),
        (6, T::OutDeny),
    ]);
    let web = [20, 0, 30, 40, 10];
    let mgmt = [60, 15, 13, 8, 4];
    let (name, port, ports, src): (&str, &str, &[&str], String) = match t {
        T::Https => ("allow-https-in", "443", &[], source(&mut r, web)),
        T::Http => ("allow-http-in", "80", &[], source(&mut r, web)),
        T::Ssh => ("allow-ssh", "22", &[], source(&mut r, mgmt)),
        T::Rdp => ("allow-rdp", "3389", &[], source(&mut r, [60, 15, 12, 8, 5])),
        T::Mgmt => {
            let ps: &[&str] = if r.pct(50) {
                &["22", "3389"]
            } else {
                &["22", "443", "5985-5986"]
            };
            ("allow-mgmt", "", ps, source(&mut r, [70, 0, 30, 0, 0]))
        }
        T::Db => {
            let p = r.pick(&["1433", "5432", "3306", "6379", "27017"]);
            ("allow-db", p, &[], source(&mut r, [30, 60, 10, 0, 0]))
        }
        T::App => {
            if r.pct(50) {
                (
                    "allow-app",
                    "8000-8999",
                    &[],
                    source(&mut r, [40, 40, 20, 0, 0]),
                )
            } else {
                (
                    "allow-app-ports",
                    "",
                    &["8080", "8443"],
                    source(&mut r, [40, 40, 20, 0, 0]),
                )
            }
        }
        T::Any => ("allow-any-in", "*", &[], source(&mut r, [30, 50, 20, 0, 0])),
        T::Lb => ("allow-lb-probe", "*", &[], "AzureLoadBalancer".into()),
        T::DenyIn => ("deny-all-in", "*", &[], "*".into()),
        T::OutAllow => ("allow-azure-out", "443", &[], "VirtualNetwork".into()),
        T::OutDeny => ("deny-internet-out", "*", &[], "*".into()),
    };
    let outbound = matches!(t, T::OutAllow | T::OutDeny);
    let deny = matches!(t, T::DenyIn | T::OutDeny);
    let dest = match t {
        T::OutAllow => "AzureCloud",
        T::OutDeny => "Internet",
        _ => r.weighted(&[(60, "*"), (25, "VirtualNetwork"), (15, "10.0.0.0/8")]),
    };
    let prio = if deny {
        4000 + u64::from(k)
    } else {
        100 + 10 * u64::from(k)
    };
    w.obj().kf("name", format_args!("{name}-{k}"));
    w.kf("id", format_args!("{nsg_id}/securityRules/{name}-{k}"));
    if let Some(ty) = ty {
        w.ks("type", ty);
    }
    w.kf("etag", format_args!("W/\"{}\"", guid(r.next_u64())));
    w.ko("properties").ks("provisioningState", "Succeeded");
    let proto = if matches!(t, T::Lb | T::DenyIn | T::OutDeny | T::Any) {
        "*"
    } else {
        r.weighted(&[(75, "Tcp"), (20, "*"), (5, "Udp")])
    };
    w.ks("protocol", proto).ks("sourcePortRange", "*");
    if ports.is_empty() {
        w.ks("destinationPortRange", port);
    }
    w.ks("sourceAddressPrefix", &src)
        .ks("destinationAddressPrefix", dest);
    w.ks("access", if deny { "Deny" } else { "Allow" })
        .ku("priority", prio);
    w.ks("direction", if outbound { "Outbound" } else { "Inbound" });
    w.kempty("sourcePortRanges")
        .kstrs("destinationPortRanges", ports);
    w.kempty("sourceAddressPrefixes")
        .kempty("destinationAddressPrefixes");
    w.end().end();
}

/// Default rules every NSG carries (ARM-defined names; descriptions are our own words).
const DEFAULT_RULES: [(&str, &str, &str, &str, u64, &str); 6] = [
    (
        "AllowVnetInBound",
        "VirtualNetwork",
        "VirtualNetwork",
        "Allow",
        65000,
        "Inbound",
    ),
    (
        "AllowAzureLoadBalancerInBound",
        "AzureLoadBalancer",
        "*",
        "Allow",
        65001,
        "Inbound",
    ),
    ("DenyAllInBound", "*", "*", "Deny", 65500, "Inbound"),
    (
        "AllowVnetOutBound",
        "VirtualNetwork",
        "VirtualNetwork",
        "Allow",
        65000,
        "Outbound",
    ),
    (
        "AllowInternetOutBound",
        "*",
        "Internet",
        "Allow",
        65001,
        "Outbound",
    ),
    ("DenyAllOutBound", "*", "*", "Deny", 65500, "Outbound"),
];

/// A network security group with its rules embedded.
pub fn nsg(d: &mut Doc<'_>, s: u8) -> Kind {
    let blk = d.blk;
    let name = nsg_name(blk, s);
    let id = blk.id("Microsoft.Network/networkSecurityGroups", &name);
    d.head(Kind::NetworkSecurityGroup, &id, &name);
    d.location_tags();
    let etag = d.guid();
    let rg = d.guid();
    let w = &mut *d.w;
    w.kf("etag", format_args!("W/\"{etag}\""));
    w.ko("properties")
        .ks("provisioningState", "Succeeded")
        .ks("resourceGuid", &rg);
    w.ka("securityRules");
    for k in 0..rule_count(blk, s) {
        write_rule(w, blk, s, k, &id, None);
    }
    w.end_arr().ka("defaultSecurityRules");
    for (rn, src, dst, access, prio, dir) in DEFAULT_RULES {
        w.obj()
            .ks("name", rn)
            .kf("id", format_args!("{id}/defaultSecurityRules/{rn}"));
        w.ko("properties").ks("provisioningState", "Succeeded");
        w.kf(
            "description",
            format_args!(
                "platform default: {} {}",
                access.to_lowercase(),
                dir.to_lowercase()
            ),
        );
        w.ks("protocol", "*")
            .ks("sourcePortRange", "*")
            .ks("destinationPortRange", "*");
        w.ks("sourceAddressPrefix", src)
            .ks("destinationAddressPrefix", dst);
        w.ks("access", access)
            .ku("priority", prio)
            .ks("direction", dir);
        w.end().end();
    }
    w.end_arr();
    if let Some(v) = blk.recipe.vnet_stack {
        let vnet = blk.id("Microsoft.Network/virtualNetworks", &vnet_name(blk, v));
        w.ka("subnets")
            .obj()
            .kf("id", format_args!("{vnet}/subnets/snet-app"))
            .end()
            .end_arr();
    }
    w.kb("flushConnection", false).end().end();
    Kind::NetworkSecurityGroup
}

/// A standalone copy of rule `k` of the NSG in stack `s`, or a filler if it has fewer rules.
pub fn nsg_rule(d: &mut Doc<'_>, s: u8, k: u8) -> Option<Kind> {
    let blk = d.blk;
    if k >= rule_count(blk, s) {
        return None;
    }
    let nsg_id = blk.id("Microsoft.Network/networkSecurityGroups", &nsg_name(blk, s));
    let ty = if d.rng.pct(super::common::ODD_TYPE_PCT) {
        Kind::SecurityRule.odd_type_name()
    } else {
        Kind::SecurityRule.type_name()
    };
    write_rule(d.w, blk, s, k, &nsg_id, Some(ty));
    Some(Kind::SecurityRule)
}

/// A virtual network with 2–6 subnets, most of them bound to one of the block's NSGs.
pub fn vnet(d: &mut Doc<'_>, s: u8) -> Kind {
    let blk = d.blk;
    let name = vnet_name(blk, s);
    let id = blk.id("Microsoft.Network/virtualNetworks", &name);
    d.head(Kind::VirtualNetwork, &id, &name);
    d.location_tags();
    let etag = d.guid();
    let rguid = d.guid();
    let oct = second_octet(blk);
    let n = d.rng.range(2, 6) as usize;
    let ddos = d.rng.pct(8);
    let w = &mut *d.w;
    w.kf("etag", format_args!("W/\"{etag}\""));
    w.ko("properties")
        .ks("provisioningState", "Succeeded")
        .ks("resourceGuid", &rguid);
    w.ko("addressSpace")
        .ka("addressPrefixes")
        .sf(format_args!("10.{oct}.0.0/16"))
        .end_arr()
        .end();
    w.ko("dhcpOptions").kempty("dnsServers").end();
    w.ka("subnets");
    let nsgs = &blk.recipe.nsg_stacks;
    for (k, sn) in SUBNETS.iter().take(n).enumerate() {
        w.obj()
            .ks("name", sn)
            .kf("id", format_args!("{id}/subnets/{sn}"));
        w.ks("type", "Microsoft.Network/virtualNetworks/subnets");
        w.ko("properties").ks("provisioningState", "Succeeded");
        w.kf("addressPrefix", format_args!("10.{oct}.{k}.0/24"));
        let gateway = sn.starts_with("Gateway");
        if !gateway && !nsgs.is_empty() && d.rng.pct(78) {
            let ns = nsgs.get(k % nsgs.len()).copied().unwrap_or(s);
            let nid = blk.id(
                "Microsoft.Network/networkSecurityGroups",
                &nsg_name(blk, ns),
            );
            w.kref("networkSecurityGroup", &nid);
        }
        if *sn == "snet-data" && d.rng.pct(50) {
            w.ka("serviceEndpoints")
                .obj()
                .ks("service", "Microsoft.Storage");
            w.kstrs("locations", &[blk.region_name()])
                .ks("provisioningState", "Succeeded");
            w.end().end_arr();
        }
        w.kempty("delegations");
        let pe = if *sn == "snet-pe" {
            "Disabled"
        } else {
            "Enabled"
        };
        w.ks("privateEndpointNetworkPolicies", pe);
        w.ks("privateLinkServiceNetworkPolicies", "Enabled");
        w.end().end();
    }
    w.end_arr()
        .kempty("virtualNetworkPeerings")
        .kb("enableDdosProtection", ddos);
    if ddos {
        let plan = format!(
            "/subscriptions/{}/resourceGroups/rg-network-hub/providers/Microsoft.Network/ddosProtectionPlans/ddos-plan",
            blk.sub_id
        );
        w.kref("ddosProtectionPlan", &plan);
    }
    w.end().end();
    Kind::VirtualNetwork
}

/// Public IP of stack `s`; `attached_to` is the ipConfiguration id when in use.
pub fn public_ip(d: &mut Doc<'_>, name: &str, attached_to: Option<&str>) -> Kind {
    let blk = d.blk;
    let id = blk.id("Microsoft.Network/publicIPAddresses", name);
    d.head(Kind::PublicIp, &id, name);
    d.location_tags();
    let standard = d.rng.pct(75);
    let etag = d.guid();
    let rguid = d.guid();
    let r = &mut d.rng;
    let ip = format!(
        "{}.{}.{}.{}",
        r.range(20, 210),
        r.below(256),
        r.below(256),
        r.range(1, 254)
    );
    let idle = r.pick(&[4u64, 4, 4, 10, 30]);
    let ddos = r.weighted(&[
        (88, "VirtualNetworkInherited"),
        (10, "Enabled"),
        (2, "Disabled"),
    ]);
    let zones = standard && r.pct(40);
    let routing_tag = r.pct(5);
    let w = &mut *d.w;
    w.ko("sku")
        .ks("name", if standard { "Standard" } else { "Basic" })
        .ks("tier", "Regional")
        .end();
    if zones {
        w.kstrs("zones", &["1", "2", "3"]);
    }
    w.kf("etag", format_args!("W/\"{etag}\""));
    w.ko("properties")
        .ks("provisioningState", "Succeeded")
        .ks("resourceGuid", &rguid);
    w.ks("ipAddress", &ip).ks("publicIPAddressVersion", "IPv4");
    w.ks(
        "publicIPAllocationMethod",
        if standard { "Static" } else { "Dynamic" },
    );
    w.ku("idleTimeoutInMinutes", idle);
    if let Some(cfg) = attached_to {
        w.kref("ipConfiguration", cfg);
    }
    w.ko("ddosSettings").ks("protectionMode", ddos);
    if ddos == "Enabled" {
        let plan = format!(
            "/subscriptions/{}/resourceGroups/rg-network-hub/providers/Microsoft.Network/ddosProtectionPlans/ddos-plan",
            blk.sub_id
        );
        w.kref("ddosProtectionPlan", &plan);
    }
    w.end().ka("ipTags");
    if routing_tag {
        w.obj()
            .ks("ipTagType", "RoutingPreference")
            .ks("tag", "Internet")
            .end();
    }
    w.end_arr().end().end();
    Kind::PublicIp
}

/// A public IP in its own stack (half attached to a NIC, the rest unattached).
pub fn standalone_ip(d: &mut Doc<'_>, s: u8) -> Kind {
    let blk = d.blk;
    let name = format!("pip-{}-{}-{s:02}", blk.team, blk.env);
    let cfg = d.rng.pct(50).then(|| {
        format!(
            "{}/ipConfigurations/ipconfig1",
            blk.id(
                "Microsoft.Network/networkInterfaces",
                &format!("nic-edge-{s:02}")
            )
        )
    });
    public_ip(d, &name, cfg.as_deref())
}

/// Application gateway name of stack `s`.
pub fn appgw_name(blk: &Block, s: u8) -> String {
    format!("agw-{}-{}-{s:02}", blk.team, blk.env)
}

/// The public IP in front of the application gateway of stack `s`.
pub fn appgw_ip(d: &mut Doc<'_>, s: u8) -> Kind {
    let gw = appgw_name(d.blk, s);
    let cfg = format!(
        "{}/frontendIPConfigurations/appGwPublicFrontendIp",
        d.blk.id("Microsoft.Network/applicationGateways", &gw)
    );
    public_ip(d, &format!("pip-{gw}"), Some(&cfg))
}

fn child(w: &mut JsonWriter, gw: &str, coll: &str, name: &str) {
    w.obj()
        .ks("name", name)
        .kf("id", format_args!("{gw}/{coll}/{name}"));
    w.kf("etag", format_args!("W/\"{coll}-{name}\""));
}

/// An application gateway (v1/v2, WAF on some, TLS policy, HTTP or HTTPS listeners).
pub fn appgw(d: &mut Doc<'_>, s: u8) -> Kind {
    let blk = d.blk;
    let name = appgw_name(blk, s);
    let id = blk.id("Microsoft.Network/applicationGateways", &name);
    d.head(Kind::ApplicationGateway, &id, &name);
    d.location_tags();
    let r = &mut d.rng;
    let (sku, tier) = r.weighted(&[
        (45, ("WAF_v2", "WAF_v2")),
        (40, ("Standard_v2", "Standard_v2")),
        (10, ("Standard_Medium", "Standard")),
        (5, ("WAF_Medium", "WAF")),
    ]);
    let waf = tier.starts_with("WAF");
    let v2 = tier.ends_with("v2");
    let https = r.pct(70);
    let tls = r.weighted(&[(15, "TLSv1_0"), (5, "TLSv1_1"), (80, "TLSv1_2")]);
    let waf_on = waf && r.pct(85);
    let waf_policy = waf && v2 && r.pct(60);
    let prevention = r.pct(50);
    let http2 = r.pct(60);
    let etag = guid(r.next_u64());
    let rguid = guid(r.next_u64());
    let w = &mut *d.w;
    w.kf("etag", format_args!("W/\"{etag}\""));
    if v2 {
        w.kstrs("zones", &["1", "2", "3"]);
    }
    w.ko("properties")
        .ks("provisioningState", "Succeeded")
        .ks("resourceGuid", &rguid);
    w.ko("sku").ks("name", sku).ks("tier", tier);
    if !v2 {
        w.ku("capacity", 2);
    }
    w.end().ks("operationalState", "Running");
    w.ka("gatewayIPConfigurations");
    child(w, &id, "gatewayIPConfigurations", "appGatewayIpConfig");
    let subnet = app_subnet_id(blk).replace("snet-app", "snet-web");
    w.ko("properties")
        .ks("provisioningState", "Succeeded")
        .kref("subnet", &subnet)
        .end()
        .end();
    w.end_arr().ka("sslCertificates");
    if https {
        child(w, &id, "sslCertificates", "cert-frontend");
        w.ko("properties").ks("provisioningState", "Succeeded");
        let kv = format!(
            "https://kv-{}-{}.vault.azure.net/secrets/agw-cert",
            blk.team, blk.env
        );
        w.ks("keyVaultSecretId", &kv).end().end();
    }
    w.end_arr()
        .kempty("trustedRootCertificates")
        .kempty("trustedClientCertificates");
    w.kempty("authenticationCertificates")
        .ka("frontendIPConfigurations");
    child(w, &id, "frontendIPConfigurations", "appGwPublicFrontendIp");
    w.ko("properties")
        .ks("provisioningState", "Succeeded")
        .ks("privateIPAllocationMethod", "Dynamic");
    let pip = blk.id(
        "Microsoft.Network/publicIPAddresses",
        &format!("pip-{name}"),
    );
    w.kref("publicIPAddress", &pip).end().end();
    w.end_arr().ka("frontendPorts");
    for (pn, port) in [("port_80", 80), ("port_443", 443)] {
        child(w, &id, "frontendPorts", pn);
        w.ko("properties")
            .ks("provisioningState", "Succeeded")
            .ku("port", port)
            .end()
            .end();
    }
    w.end_arr().ka("backendAddressPools");
    child(w, &id, "backendAddressPools", "pool-app");
    w.ko("properties")
        .ks("provisioningState", "Succeeded")
        .ka("backendAddresses");
    w.obj()
        .kf(
            "fqdn",
            format_args!("app-{}-{}.azurewebsites.net", blk.team, blk.env),
        )
        .end();
    w.end_arr().end().end();
    w.end_arr().ka("backendHttpSettingsCollection");
    child(w, &id, "backendHttpSettingsCollection", "settings-app");
    w.ko("properties")
        .ks("provisioningState", "Succeeded")
        .ku("port", 443)
        .ks("protocol", "Https");
    w.ks("cookieBasedAffinity", "Disabled")
        .ku("requestTimeout", 30)
        .kb("pickHostNameFromBackendAddress", true);
    w.end().end();
    w.end_arr().ka("httpListeners");
    let (lname, proto, port) = if https {
        ("listener-https", "Https", "port_443")
    } else {
        ("listener-http", "Http", "port_80")
    };
    child(w, &id, "httpListeners", lname);
    w.ko("properties").ks("provisioningState", "Succeeded");
    w.kref(
        "frontendIPConfiguration",
        &format!("{id}/frontendIPConfigurations/appGwPublicFrontendIp"),
    );
    w.kref("frontendPort", &format!("{id}/frontendPorts/{port}"))
        .ks("protocol", proto);
    if https {
        w.kref(
            "sslCertificate",
            &format!("{id}/sslCertificates/cert-frontend"),
        );
    }
    w.kb("requireServerNameIndication", false).end().end();
    w.end_arr().kempty("urlPathMaps").ka("requestRoutingRules");
    child(w, &id, "requestRoutingRules", "rule-app");
    w.ko("properties")
        .ks("provisioningState", "Succeeded")
        .ks("ruleType", "Basic")
        .ku("priority", 100);
    w.kref("httpListener", &format!("{id}/httpListeners/{lname}"));
    w.kref(
        "backendAddressPool",
        &format!("{id}/backendAddressPools/pool-app"),
    );
    w.kref(
        "backendHttpSettings",
        &format!("{id}/backendHttpSettingsCollection/settings-app"),
    );
    w.end().end();
    w.end_arr()
        .kempty("rewriteRuleSets")
        .kempty("probes")
        .kempty("redirectConfigurations");
    w.ko("sslPolicy");
    if tls == "TLSv1_2" && v2 {
        w.ks("policyType", "Predefined")
            .ks("policyName", "AppGwSslPolicy20220101");
    } else {
        w.ks("policyType", "Custom").ks("minProtocolVersion", tls);
        w.kstrs(
            "cipherSuites",
            &[
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            ],
        );
    }
    w.end().kempty("sslProfiles");
    if waf && !waf_policy {
        w.ko("webApplicationFirewallConfiguration")
            .kb("enabled", waf_on);
        w.ks(
            "firewallMode",
            if prevention {
                "Prevention"
            } else {
                "Detection"
            },
        );
        w.ks("ruleSetType", "OWASP")
            .ks("ruleSetVersion", "3.2")
            .kempty("disabledRuleGroups");
        w.kb("requestBodyCheck", true)
            .ku("maxRequestBodySizeInKb", 128)
            .ku("fileUploadLimitInMb", 100);
        w.end();
    }
    if waf_policy {
        let pol = blk.id(
            "Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies",
            &format!("wafpol-{}", blk.team),
        );
        w.kref("firewallPolicy", &pol);
    }
    if v2 {
        w.ko("autoscaleConfiguration")
            .ku("minCapacity", 1)
            .ku("maxCapacity", 10)
            .end();
    }
    w.kb("enableHttp2", http2)
        .kempty("privateLinkConfigurations");
    w.kempty("privateEndpointConnections")
        .kempty("loadDistributionPolicies");
    w.ko("globalConfiguration")
        .kb("enableRequestBuffering", true)
        .kb("enableResponseBuffering", true)
        .end();
    w.end().end();
    Kind::ApplicationGateway
}

/// The NIC of the VM in stack `s`.
pub fn nic_name(blk: &Block, s: u8) -> String {
    format!("nic-{}-{s:02}", super::compute::vm_name(blk, s))
}

/// A VM's network interface; some have a public IP or their own NSG.
pub fn nic(d: &mut Doc<'_>, s: u8) -> Kind {
    let blk = d.blk;
    let name = nic_name(blk, s);
    let id = blk.id("Microsoft.Network/networkInterfaces", &name);
    d.head(Kind::NetworkInterface, &id, &name);
    d.location_tags();
    let etag = d.guid();
    let rguid = d.guid();
    let r = &mut d.rng;
    let host = r.range(4, 250);
    let public = r.pct(15);
    let own_nsg = r.pct(40);
    let fwd = r.pct(5);
    let accel = r.pct(55);
    let mac = r.next_u64();
    let w = &mut *d.w;
    w.kf("etag", format_args!("W/\"{etag}\""));
    w.ko("properties")
        .ks("provisioningState", "Succeeded")
        .ks("resourceGuid", &rguid);
    w.ka("ipConfigurations").obj().ks("name", "ipconfig1");
    w.kf("id", format_args!("{id}/ipConfigurations/ipconfig1"));
    w.ks(
        "type",
        "Microsoft.Network/networkInterfaces/ipConfigurations",
    );
    w.ko("properties").ks("provisioningState", "Succeeded");
    w.kf(
        "privateIPAddress",
        format_args!("10.{}.0.{host}", second_octet(blk)),
    );
    w.ks("privateIPAllocationMethod", "Dynamic")
        .kref("subnet", &app_subnet_id(blk));
    if public {
        w.kref(
            "publicIPAddress",
            &blk.id(
                "Microsoft.Network/publicIPAddresses",
                &format!("pip-{name}"),
            ),
        );
    }
    w.kb("primary", true)
        .ks("privateIPAddressVersion", "IPv4")
        .end()
        .end()
        .end_arr();
    w.ko("dnsSettings")
        .kempty("dnsServers")
        .kempty("appliedDnsServers")
        .end();
    w.kf(
        "macAddress",
        format_args!(
            "00-0D-3A-{:02X}-{:02X}-{:02X}",
            (mac >> 16) & 0xff,
            (mac >> 8) & 0xff,
            mac & 0xff
        ),
    );
    w.kb("enableAcceleratedNetworking", accel)
        .kb("enableIPForwarding", fwd);
    if own_nsg {
        w.kref(
            "networkSecurityGroup",
            &blk.id(
                "Microsoft.Network/networkSecurityGroups",
                &format!("{name}-nsg"),
            ),
        );
    }
    w.kb("primary", true);
    let vm = blk.id(
        "Microsoft.Compute/virtualMachines",
        &super::compute::vm_name(blk, s),
    );
    w.kref("virtualMachine", &vm)
        .ks("nicType", "Standard")
        .end()
        .end();
    Kind::NetworkInterface
}
