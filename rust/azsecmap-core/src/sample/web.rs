//! App Service: sites of kind `app`, `functionapp` and `app,linux`, and their `config/web`
//! children, which carry the same site configuration the site embeds.

use super::common::{location_with, Doc, Kind};
use super::data::opt;
use super::json::JsonWriter;
use super::layout::Block;

const FACTS: u64 = 0x5173;

/// What a site and its `config/web` child agree on.
struct SiteFacts {
    name: String,
    kind: &'static str,
    location: &'static str,
    min_tls: &'static str,
    scm_tls: &'static str,
    ftps: &'static str,
    http2: bool,
    remote_debug: bool,
    always_on: bool,
    http_logs: bool,
    stack: &'static str,
}

fn site_name_with(blk: &Block, s: u8, prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}-{:04x}",
        blk.team,
        blk.env,
        blk.tag(s, 0x5E) & 0xffff
    )
}

/// Site name of stack `s`.
pub fn site_name(blk: &Block, s: u8) -> String {
    facts(blk, s).name
}

fn facts(blk: &Block, s: u8) -> SiteFacts {
    let mut r = blk.stack_rng(s, FACTS);
    let kind = r.weighted(&[(55, "app"), (25, "functionapp"), (20, "app,linux")]);
    let prefix = if kind == "functionapp" { "func" } else { "app" };
    let name = site_name_with(blk, s, prefix);
    let linux = kind.contains("linux");
    SiteFacts {
        name,
        kind,
        location: location_with(blk, &mut r),
        min_tls: r.weighted(&[(8, "1.0"), (5, "1.1"), (80, "1.2"), (7, "1.3")]),
        scm_tls: r.weighted(&[(10, "1.0"), (90, "1.2")]),
        ftps: r.weighted(&[(30, "AllAllowed"), (35, "FtpsOnly"), (35, "Disabled")]),
        http2: r.pct(50),
        remote_debug: r.pct(5),
        always_on: r.pct(60),
        http_logs: r.pct(40),
        stack: if linux {
            r.pick(&[
                "PYTHON|3.11",
                "NODE|20-lts",
                "DOTNETCORE|8.0",
                "JAVA|17-java17",
            ])
        } else {
            ""
        },
    }
}

fn write_site_config(w: &mut JsonWriter, f: &SiteFacts) {
    w.ku("numberOfWorkers", 1)
        .kstrs("defaultDocuments", &["index.html", "hostingstart.html"]);
    w.ks("netFrameworkVersion", "v4.0")
        .ks("phpVersion", "")
        .ks("pythonVersion", "")
        .ks("nodeVersion", "");
    w.ks("powerShellVersion", "").ks("linuxFxVersion", f.stack);
    w.kb("requestTracingEnabled", false)
        .kb("remoteDebuggingEnabled", f.remote_debug);
    if f.remote_debug {
        w.ks("remoteDebuggingVersion", "VS2022");
    }
    w.kb("httpLoggingEnabled", f.http_logs)
        .kb("acrUseManagedIdentityCreds", false);
    w.ku("logsDirectorySizeLimit", 35)
        .kb("detailedErrorLoggingEnabled", false);
    w.kb("use32BitWorkerProcess", f.stack.is_empty())
        .kb("webSocketsEnabled", false);
    w.kb("alwaysOn", f.always_on)
        .ks("appCommandLine", "")
        .ks("managedPipelineMode", "Integrated");
    w.ka("virtualApplications")
        .obj()
        .ks("virtualPath", "/")
        .ks("physicalPath", "site\\wwwroot");
    w.kb("preloadEnabled", f.always_on).end().end_arr();
    w.ks("loadBalancing", "LeastRequests")
        .kb("autoHealEnabled", false)
        .ks("vnetName", "");
    w.kb("vnetRouteAllEnabled", false)
        .ku("vnetPrivatePortsCount", 0)
        .kb("http20Enabled", f.http2);
    w.ks("minTlsVersion", f.min_tls)
        .ks("scmMinTlsVersion", f.scm_tls)
        .ks("ftpsState", f.ftps);
    w.ku("functionAppScaleLimit", 0)
        .kb("functionsRuntimeScaleMonitoringEnabled", false);
    w.ku("minimumElasticInstanceCount", 0)
        .ko("azureStorageAccounts")
        .end();
}

/// An App Service site with its embedded `siteConfig`.
pub fn site(d: &mut Doc<'_>, s: u8) -> Kind {
    let blk = d.blk;
    let f = facts(blk, s);
    let id = blk.id("Microsoft.Web/sites", &f.name);
    d.head(Kind::Site, &id, &f.name);
    d.w.ks("kind", f.kind).ks("location", f.location);
    d.tags();
    d.identity(45, 5, 2);
    let modified = d.timestamp();
    let r = &mut d.rng;
    let https_only = r.pct(80);
    let client_cert = r.pct(20);
    let pna = r.weighted(&[(40, "Enabled"), (10, "Disabled"), (50, "")]);
    let vnet = r.pct(30);
    let aca = r.pct(3);
    let verification = r.next_u64();
    let (a, b) = (r.range(20, 200), r.below(250));
    let w = &mut *d.w;
    let host = format!("{}.azurewebsites.net", f.name);
    w.ko("properties")
        .ks("state", "Running")
        .kstrs("hostNames", &[&host]);
    w.ks("repositorySiteName", &f.name)
        .ks("usageState", "Normal")
        .kb("enabled", true);
    w.ka("enabledHostNames")
        .s(&host)
        .sf(format_args!("{}.scm.azurewebsites.net", f.name))
        .end_arr();
    w.ks("availabilityState", "Normal").ka("hostNameSslStates");
    w.obj()
        .ks("name", &host)
        .ks("sslState", "Disabled")
        .ks("hostType", "Standard")
        .end();
    w.obj()
        .kf("name", format_args!("{}.scm.azurewebsites.net", f.name))
        .ks("sslState", "Disabled");
    w.ks("hostType", "Repository").end().end_arr();
    w.ks(
        "serverFarmId",
        &blk.id(
            "Microsoft.Web/serverfarms",
            &format!("asp-{}-{}", blk.team, blk.env),
        ),
    );
    w.kb("reserved", f.kind.contains("linux"))
        .kb("isXenon", false)
        .kb("hyperV", false);
    w.ks("lastModifiedTimeUtc", &modified)
        .kb("vnetRouteAllEnabled", vnet);
    w.kb("vnetImagePullEnabled", false)
        .kb("vnetContentShareEnabled", false);
    if vnet {
        w.ks(
            "virtualNetworkSubnetId",
            &super::network::app_subnet_id(blk).replace("snet-app", "snet-web"),
        );
    }
    w.ko("siteConfig");
    write_site_config(w, &f);
    w.end();
    w.kb("scmSiteAlsoStopped", false)
        .kb("clientAffinityEnabled", true)
        .kb("clientCertEnabled", client_cert);
    w.ks("clientCertMode", "Required")
        .kb("hostNamesDisabled", false);
    w.kf(
        "customDomainVerificationId",
        format_args!("{verification:016X}{:016X}", verification.rotate_left(29)),
    );
    w.kf(
        "outboundIpAddresses",
        format_args!("{a}.{b}.1.10,{a}.{b}.1.11"),
    );
    w.kf(
        "possibleOutboundIpAddresses",
        format_args!("{a}.{b}.1.10,{a}.{b}.1.11,{a}.{b}.1.12"),
    );
    w.ku(
        "containerSize",
        if f.kind == "functionapp" { 1536 } else { 0 },
    )
    .ku("dailyMemoryTimeQuota", 0);
    w.ks("resourceGroup", &blk.rg)
        .ks("defaultHostName", &host)
        .kb("httpsOnly", https_only);
    w.ks("redundancyMode", "None")
        .kb("storageAccountRequired", false);
    w.ks("keyVaultReferenceIdentity", "SystemAssigned");
    opt(w, "publicNetworkAccess", pna);
    if aca {
        w.ks("workloadProfileName", "Consumption")
            .ko("resourceConfig")
            .k("cpu")
            .raw("1.0");
        w.ks("memory", "2.0Gi").end();
    }
    w.end().end();
    Kind::Site
}

/// The `config/web` child of the site in stack `s`.
pub fn site_config(d: &mut Doc<'_>, s: u8) -> Kind {
    let blk = d.blk;
    let f = facts(blk, s);
    let id = format!("{}/config/web", blk.id("Microsoft.Web/sites", &f.name));
    d.head(Kind::SiteConfig, &id, "web");
    d.w.ks("kind", f.kind)
        .ks("location", f.location)
        .ko("properties");
    write_site_config(d.w, &f);
    d.w.end().end();
    Kind::SiteConfig
}
