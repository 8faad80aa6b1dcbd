//! The synthetic tenant generator (`azsecmap_core::sample`): determinism, the prefix and
//! chunking properties, JSON validity, type coverage, ARM shapes compared with the real
//! documents in `../shared/data/arm-resources`, misconfiguration rates, and a timing print.

mod common;

use common::{data_dir, json_files};
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::time::Instant;

use azsecmap_core::sample::{resource, resources, write_ndjson, write_range, Kind};
use serde_json::Value;

fn ndjson(n: usize, seed: u64) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let stats = write_ndjson(n, seed, &mut out)?;
    assert_eq!(stats.documents, n as u64);
    assert_eq!(stats.bytes, out.len() as u64);
    Ok(out)
}

fn digest(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

fn canonical(ty: &str) -> Option<Kind> {
    Kind::ALL
        .iter()
        .copied()
        .find(|k| k.type_name().eq_ignore_ascii_case(ty))
}

/// The generated kind of a document (None for a type the generator does not know).
fn kind_of(doc: &Value) -> Option<Kind> {
    canonical(doc.get("type")?.as_str()?)
}

fn by_kind(docs: &[Value]) -> HashMap<Kind, Vec<&Value>> {
    let mut m: HashMap<Kind, Vec<&Value>> = HashMap::new();
    for d in docs {
        assert!(kind_of(d).is_some(), "unknown type in {d}");
        if let Some(k) = kind_of(d) {
            m.entry(k).or_default().push(d);
        }
    }
    m
}

#[test]
fn same_seed_same_bytes_and_seeds_differ() {
    let a = ndjson(2_000, 42).unwrap();
    let b = ndjson(2_000, 42).unwrap();
    assert_eq!(digest(&a), digest(&b));
    assert_ne!(digest(&a), digest(&ndjson(2_000, 43).unwrap()));
}

#[test]
fn prefixes_and_chunks_agree() {
    let small = ndjson(1_234, 7).unwrap();
    let large = ndjson(3_000, 7).unwrap();
    assert!(
        large.starts_with(&small),
        "first 1,234 documents differ between n=1234 and n=3000"
    );
    // Chunks generated separately (as parallel workers would) concatenate to the same bytes.
    let mut chunked = Vec::new();
    let mut total = azsecmap_core::sample::SampleStats::default();
    for r in [0..777, 777..1_500, 1_500..3_000] {
        let mut buf = Vec::new();
        total.merge(&write_range(r, 7, &mut buf));
        chunked.extend_from_slice(&buf);
    }
    assert_eq!(digest(&chunked), digest(&large));
    assert_eq!(total.documents, 3_000);
    assert_eq!(total.bytes, large.len() as u64);
    // Values are the same documents.
    let values = resources(300, 7);
    for (line, v) in large.split(|b| *b == b'\n').zip(&values) {
        assert_eq!(&serde_json::from_slice::<Value>(line).unwrap(), v);
    }
    assert_eq!(resource(299, 7), values[299]);
}

/// Types whose documents have no `location` (as in ARM).
const NO_LOCATION: &[Kind] = &[
    Kind::Pricing,
    Kind::RoleAssignment,
    Kind::SqlAuditing,
    Kind::SqlFirewallRule,
    Kind::SecurityRule,
    Kind::DiagnosticSetting,
];

#[test]
fn every_line_is_a_resource_and_parents_come_first() {
    let n = 5_000;
    let out = ndjson(n, 3).unwrap();
    let text = std::str::from_utf8(&out).unwrap();
    assert!(text.ends_with('\n'));
    let mut seen: HashSet<String> = HashSet::new();
    let mut kinds: BTreeSet<&str> = BTreeSet::new();
    let mut subs: BTreeSet<String> = BTreeSet::new();
    let mut lines = 0;
    for line in text.lines() {
        lines += 1;
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        // Re-serialising gives the same length only if no object repeats a key.
        assert_eq!(
            serde_json::to_string(&v).unwrap().len(),
            line.len(),
            "duplicate key in {line}"
        );
        let id = v["id"].as_str().unwrap();
        assert!(id.starts_with("/subscriptions/"), "{id}");
        assert!(!v["name"].as_str().unwrap().is_empty());
        assert!(id.ends_with(v["name"].as_str().unwrap()), "{id}");
        let kind = kind_of(&v).unwrap();
        kinds.insert(kind.type_name());
        if NO_LOCATION.contains(&kind) {
            assert!(v.get("location").is_none(), "{id}");
        } else {
            assert!(
                v["location"].as_str().is_some_and(|l| !l.is_empty()),
                "{id} has no location"
            );
        }
        assert!(v["properties"].is_object(), "{id}");
        subs.insert(id.split('/').nth(2).unwrap().to_string());
        let lower = id.to_ascii_lowercase();
        assert!(seen.insert(lower.clone()), "duplicate id {id}");
        // The parent of a child or extension resource appeared earlier.
        let parent =
            if let Some(at) = lower.find("/providers/microsoft.insights/diagnosticsettings/") {
                Some(lower[..at].to_string())
            } else {
                let provider = lower.rfind("/providers/").unwrap_or(0);
                let segs: Vec<&str> = lower[provider..].split('/').collect();
                // "", providers, Namespace, type, name, childType, childName
                (segs.len() > 5).then(|| {
                    lower[..lower.rfind('/').unwrap()]
                        .rsplit_once('/')
                        .unwrap()
                        .0
                        .to_string()
                })
            };
        if let Some(p) = parent {
            assert!(seen.contains(&p), "{id} comes before its parent {p}");
        }
        if kind != Kind::Pricing && !lower.contains("/providers/microsoft.authorization/") {
            let rg = lower.split("/providers/").next().unwrap();
            if kind != Kind::ResourceGroup {
                assert!(seen.contains(rg), "{id} before its resource group");
            }
        }
    }
    assert_eq!(lines, n);
    assert!(kinds.len() >= 22, "only {} types: {kinds:?}", kinds.len());
    assert_eq!(kinds.len(), Kind::ALL.len(), "{kinds:?}");
    assert!(subs.len() >= 2, "{subs:?}");
}

#[test]
fn type_mix_at_ten_thousand() {
    let mut sink = std::io::sink();
    let stats = write_ndjson(10_000, 1, &mut sink).unwrap();
    println!("type mix at n=10,000 (seed 1):");
    let mut rows: Vec<(&str, u64)> = stats.by_type().into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    for (t, c) in &rows {
        println!("  {c:>6}  {t}");
    }
    println!(
        "  {} types, {} bytes, {:.0} bytes/document",
        rows.len(),
        stats.bytes,
        stats.bytes as f64 / 10_000.0
    );
    assert_eq!(rows.iter().map(|r| r.1).sum::<u64>(), 10_000);
    // Shape of a real tenant: many rules, disks, VMs, storage, web apps; few AKS and Redis.
    let c = |k: Kind| stats.count(k);
    assert!(c(Kind::SecurityRule) > c(Kind::VirtualMachine));
    assert!(c(Kind::Disk) > c(Kind::VirtualMachine));
    assert!(c(Kind::StorageAccount) > c(Kind::ManagedCluster) * 3);
    assert!(c(Kind::Site) > c(Kind::Redis) * 3);
    let per_doc = stats.bytes / 10_000;
    assert!(
        (1_200..3_000).contains(&per_doc),
        "{per_doc} bytes per document"
    );
}

// ---------------------------------------------------------------------------------------
// Shapes against the real ARM documents.

/// Property paths under `properties` to depth 2; array elements add `[*]`, not depth.
fn paths(v: &Value, prefix: &str, depth: usize, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = format!("{prefix}.{k}");
                out.insert(p.clone());
                if depth < 2 {
                    paths(x, &p, depth + 1, out);
                }
            }
        }
        Value::Array(xs) => {
            for x in xs {
                paths(x, &format!("{prefix}[*]"), depth, out);
            }
        }
        _ => {}
    }
}

/// Top-level keys an ARM document may carry.
const ENVELOPE: &[&str] = &[
    "id",
    "name",
    "type",
    "location",
    "tags",
    "kind",
    "sku",
    "identity",
    "properties",
    "etag",
    "eTag",
    "zones",
    "managedBy",
    "systemData",
    "plan",
    "resources",
];

/// Example paths the generator leaves out on purpose, with the reason.
const NOT_GENERATED: &[(&str, &str, &str)] = &[
    // Application gateway features that are rare and carry no security setting we model.
    (
        "Microsoft.Network/applicationGateways",
        "properties.urlPathMaps[*]",
        "path-based routing: rare; emitted as an empty array",
    ),
    (
        "Microsoft.Network/applicationGateways",
        "properties.rewriteRuleSets[*]",
        "header rewrites: emitted as an empty array",
    ),
    (
        "Microsoft.Network/applicationGateways",
        "properties.privateLinkConfigurations[*]",
        "private link frontends: emitted as an empty array",
    ),
    (
        "Microsoft.Network/applicationGateways",
        "properties.loadDistributionPolicies[*]",
        "preview feature: emitted as an empty array",
    ),
    (
        "Microsoft.Network/applicationGateways",
        "properties.trustedClientCertificates[*]",
        "mutual TLS: emitted as an empty array",
    ),
    (
        "Microsoft.Network/applicationGateways",
        "properties.sslProfiles[*]",
        "per-listener TLS profiles: the gateway-wide sslPolicy carries the TLS setting",
    ),
    (
        "Microsoft.Network/applicationGateways",
        "properties.redirectConfigurations[*]",
        "emitted as an empty array",
    ),
    (
        "Microsoft.Network/applicationGateways",
        "properties.probes[*]",
        "custom probes: emitted as an empty array",
    ),
    (
        "Microsoft.Network/applicationGateways",
        "properties.backendHttpSettingsCollection[*].properties",
        "nested deeper than the compared depth",
    ),
    // Redis: geo-replication links are rare.
    (
        "Microsoft.Cache/redis",
        "properties.linkedServers[*]",
        "geo-replication links: emitted as an empty array",
    ),
    // Virtual network: subnets' ipConfigurations back-references are omitted (NICs refer to subnets).
    (
        "Microsoft.Network/virtualNetworks",
        "properties.subnets[*].properties",
        "nested deeper than the compared depth",
    ),
];

fn not_generated(ty: &str, path: &str) -> bool {
    NOT_GENERATED
        .iter()
        .any(|(t, p, _)| t.eq_ignore_ascii_case(ty) && path.starts_with(p))
}

#[test]
fn shapes_match_the_arm_examples() {
    let Some(dir) = data_dir("arm-resources") else {
        println!("skipped: ../shared/data/arm-resources is absent (set AZSECMAP_DATA)");
        return;
    };
    let docs = resources(20_000, 11);
    let groups = by_kind(&docs);
    let mut files = Vec::new();
    json_files(&dir.join("arm-resources"), &mut files);
    files.sort();
    let mut checked = 0;
    let mut failures = Vec::new();
    for f in files {
        if f.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("resource-graph"))
        {
            continue;
        }
        let example: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        let ty = example["type"].as_str().unwrap();
        let kind =
            canonical(ty).unwrap_or_else(|| panic!("{}: type {ty} not generated", f.display()));
        let gen = groups
            .get(&kind)
            .unwrap_or_else(|| panic!("no {ty} generated"));
        let ty = kind.type_name();
        let mut keys: BTreeSet<String> = BTreeSet::new();
        let mut have: BTreeSet<String> = BTreeSet::new();
        for g in gen {
            for k in g.as_object().unwrap().keys() {
                assert!(
                    ENVELOPE.contains(&k.as_str()),
                    "{ty}: unexpected top-level key {k}"
                );
                keys.insert(k.clone());
            }
            paths(&g["properties"], "properties", 1, &mut have);
        }
        for k in example.as_object().unwrap().keys() {
            if !keys.contains(k) {
                failures.push(format!(
                    "{ty} ({}): top-level key {k} never generated",
                    f.display()
                ));
            }
        }
        let mut want = BTreeSet::new();
        paths(&example["properties"], "properties", 1, &mut want);
        for p in want {
            if !have.contains(&p) && !not_generated(ty, &p) {
                failures.push(format!(
                    "{ty} ({}): {p} never generated",
                    f.file_name().unwrap().to_string_lossy()
                ));
            }
        }
        checked += 1;
    }
    assert!(
        failures.is_empty(),
        "{} shape gaps:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked >= 25, "checked {checked} example files");
    println!(
        "shapes: {checked} example files matched ({} documented omissions)",
        NOT_GENERATED.len()
    );
}

// ---------------------------------------------------------------------------------------
// Misconfiguration rates.

fn share<'a>(docs: &[&'a Value], pred: impl Fn(&'a Value) -> bool) -> f64 {
    docs.iter().filter(|d| pred(d)).count() as f64 / docs.len().max(1) as f64
}

fn within(name: &str, x: f64, lo: f64, hi: f64, report: &mut Vec<String>) {
    println!(
        "  {name:<58} {:>5.1}%  (band {:.0}-{:.0}%)",
        x * 100.0,
        lo * 100.0,
        hi * 100.0
    );
    if !(lo..=hi).contains(&x) {
        report.push(format!("{name}: {:.3} outside {lo}..{hi}", x));
    }
}

fn mgmt_open(rule: &Value) -> bool {
    let p = &rule["properties"];
    let src = p["sourceAddressPrefix"].as_str().unwrap_or("");
    let open_src = matches!(src, "*" | "Internet" | "0.0.0.0/0" | "Any");
    let ports: Vec<&str> = std::iter::once(p["destinationPortRange"].as_str().unwrap_or(""))
        .chain(
            p["destinationPortRanges"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| x.as_str()),
        )
        .collect();
    let mgmt = ports.iter().any(|x| matches!(*x, "*" | "22" | "3389"));
    p["access"] == "Allow" && p["direction"] == "Inbound" && open_src && mgmt
}

#[test]
fn misconfiguration_rates_fall_in_their_bands() {
    let docs = resources(20_000, 5);
    let g = by_kind(&docs);
    let k = |kind: Kind| g.get(&kind).cloned().unwrap_or_default();
    let mut bad = Vec::new();
    let r = &mut bad;
    println!("misconfiguration rates at n=20,000 (seed 5):");
    let st = k(Kind::StorageAccount);
    within(
        "storage supportsHttpsTrafficOnly=false",
        share(&st, |d| {
            d["properties"]["supportsHttpsTrafficOnly"] == false
        }),
        0.07,
        0.18,
        r,
    );
    within(
        "storage minimumTlsVersion TLS1_0/TLS1_1",
        share(&st, |d| {
            matches!(
                d["properties"]["minimumTlsVersion"].as_str(),
                Some("TLS1_0" | "TLS1_1")
            )
        }),
        0.10,
        0.21,
        r,
    );
    within(
        "storage allowBlobPublicAccess=true",
        share(&st, |d| d["properties"]["allowBlobPublicAccess"] == true),
        0.14,
        0.27,
        r,
    );
    within(
        "storage networkAcls.defaultAction=Allow",
        share(&st, |d| {
            d["properties"]["networkAcls"]["defaultAction"] == "Allow"
        }),
        0.50,
        0.70,
        r,
    );
    let kv = k(Kind::KeyVault);
    within(
        "key vault enablePurgeProtection absent",
        share(&kv, |d| {
            d["properties"].get("enablePurgeProtection").is_none()
        }),
        0.45,
        0.65,
        r,
    );
    within(
        "key vault soft delete not true",
        share(&kv, |d| d["properties"]["enableSoftDelete"] != true),
        0.09,
        0.22,
        r,
    );
    within(
        "key vault publicNetworkAccess=Enabled",
        share(&kv, |d| d["properties"]["publicNetworkAccess"] == "Enabled"),
        0.52,
        0.72,
        r,
    );
    let sites = k(Kind::Site);
    within(
        "web app httpsOnly=false",
        share(&sites, |d| d["properties"]["httpsOnly"] == false),
        0.14,
        0.27,
        r,
    );
    within(
        "web app ftpsState=AllAllowed",
        share(&sites, |d| {
            d["properties"]["siteConfig"]["ftpsState"] == "AllAllowed"
        }),
        0.23,
        0.37,
        r,
    );
    let cfgs = k(Kind::SiteConfig);
    within(
        "site config minTlsVersion < 1.2",
        share(&cfgs, |d| {
            matches!(
                d["properties"]["minTlsVersion"].as_str(),
                Some("1.0" | "1.1")
            )
        }),
        0.08,
        0.19,
        r,
    );
    let audits = k(Kind::SqlAuditing);
    within(
        "SQL auditing state=Disabled",
        share(&audits, |d| d["properties"]["state"] == "Disabled"),
        0.15,
        0.35,
        r,
    );
    let sql = k(Kind::SqlServer);
    within(
        "SQL publicNetworkAccess=Enabled",
        share(&sql, |d| {
            d["properties"]["publicNetworkAccess"] == "Enabled"
        }),
        0.52,
        0.78,
        r,
    );
    let nsgs = k(Kind::NetworkSecurityGroup);
    within(
        "NSG with an Internet-open SSH/RDP rule",
        share(&nsgs, |d| {
            d["properties"]["securityRules"]
                .as_array()
                .unwrap()
                .iter()
                .any(mgmt_open)
        }),
        0.12,
        0.45,
        r,
    );
    let rules = k(Kind::SecurityRule);
    within(
        "standalone rule open to Internet on 22/3389/*",
        share(&rules, mgmt_open),
        0.02,
        0.12,
        r,
    );
    let disks = k(Kind::Disk);
    within(
        "disk without encryption.type",
        share(&disks, |d| d["properties"].get("encryption").is_none()),
        0.02,
        0.09,
        r,
    );
    within(
        "disk networkAccessPolicy=AllowAll",
        share(&disks, |d| {
            d["properties"]["networkAccessPolicy"] == "AllowAll"
        }),
        0.45,
        0.65,
        r,
    );
    let aks = k(Kind::ManagedCluster);
    within(
        "AKS enableRBAC=false",
        share(&aks, |d| d["properties"]["enableRBAC"] == false),
        0.02,
        0.22,
        r,
    );
    within(
        "AKS without apiServerAccessProfile",
        share(&aks, |d| {
            d["properties"].get("apiServerAccessProfile").is_none()
        }),
        0.30,
        0.60,
        r,
    );
    let acr = k(Kind::Registry);
    within(
        "registry adminUserEnabled=true",
        share(&acr, |d| d["properties"]["adminUserEnabled"] == true),
        0.12,
        0.40,
        r,
    );
    let redis = k(Kind::Redis);
    within(
        "redis enableNonSslPort=true",
        share(&redis, |d| d["properties"]["enableNonSslPort"] == true),
        0.02,
        0.22,
        r,
    );
    let vms = k(Kind::VirtualMachine);
    within(
        "Linux VM with password authentication",
        share(&vms, |d| {
            d["properties"]["osProfile"]["linuxConfiguration"]["disablePasswordAuthentication"]
                == false
        }),
        0.08,
        0.24,
        r,
    );
    // Diagnostic settings: share of key vaults that have one.
    let diag_parents: HashSet<String> = k(Kind::DiagnosticSetting)
        .iter()
        .map(|d| {
            let id = d["id"].as_str().unwrap();
            id[..id.find("/providers/Microsoft.Insights/").unwrap()].to_ascii_lowercase()
        })
        .collect();
    within(
        "key vaults with a diagnostic setting",
        share(&kv, |d| {
            diag_parents.contains(&d["id"].as_str().unwrap().to_ascii_lowercase())
        }),
        0.50,
        0.70,
        r,
    );
    within(
        "storage accounts with a diagnostic setting (fillers have none)",
        share(&st, |d| {
            diag_parents.contains(&d["id"].as_str().unwrap().to_ascii_lowercase())
        }),
        0.05,
        0.25,
        r,
    );
    within(
        "NSGs with a diagnostic setting",
        share(&nsgs, |d| {
            diag_parents.contains(&d["id"].as_str().unwrap().to_ascii_lowercase())
        }),
        0.30,
        0.50,
        r,
    );
    let all: Vec<&Value> = docs.iter().collect();
    within(
        "odd `type` casing (all documents)",
        share(&all, |d| {
            canonical(d["type"].as_str().unwrap()).unwrap().type_name() != d["type"]
        }),
        0.01,
        0.035,
        r,
    );
    within(
        "display-name locations",
        share(&all, |d| {
            d["location"].as_str().is_some_and(|l| l.contains(' '))
        }),
        0.02,
        0.08,
        r,
    );
    let pricing = k(Kind::Pricing);
    within(
        "Defender plans on Free",
        share(&pricing, |d| d["properties"]["pricingTier"] == "Free"),
        0.30,
        0.80,
        r,
    );
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn identities_tags_and_references_are_well_formed() {
    let docs = resources(5_000, 9);
    let mut identity_types: BTreeMap<String, usize> = BTreeMap::new();
    let mut tag_counts = [0usize; 7];
    for d in &docs {
        if let Some(i) = d.get("identity") {
            let t = i["type"].as_str().unwrap().to_string();
            if t.contains("UserAssigned") {
                assert!(
                    i["userAssignedIdentities"]
                        .as_object()
                        .is_some_and(|m| !m.is_empty()),
                    "{d}"
                );
            }
            *identity_types.entry(t).or_default() += 1;
        }
        if let Some(t) = d.get("tags").and_then(Value::as_object) {
            assert!(t.len() <= 6);
            tag_counts[t.len()] += 1;
        }
    }
    assert!(identity_types.len() >= 4, "{identity_types:?}");
    assert!(tag_counts.iter().all(|c| *c > 0), "{tag_counts:?}");
    // Standalone NSG rules are copies of the embedded ones.
    let ids: HashMap<&str, &Value> = docs
        .iter()
        .map(|d| (d["id"].as_str().unwrap(), d))
        .collect();
    let mut compared = 0;
    for d in docs
        .iter()
        .filter(|d| kind_of(d) == Some(Kind::SecurityRule))
    {
        let id = d["id"].as_str().unwrap();
        let nsg = ids[&id[..id.find("/securityRules/").unwrap()]];
        let embedded = nsg["properties"]["securityRules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == d["id"])
            .unwrap();
        assert_eq!(embedded["properties"], d["properties"]);
        compared += 1;
    }
    assert!(compared > 100);
}

#[test]
fn throughput() {
    let n = if cfg!(debug_assertions) {
        10_000
    } else {
        100_000
    };
    let mut sink = std::io::sink();
    let t = Instant::now();
    let stats = write_ndjson(n, 1, &mut sink).unwrap();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "throughput ({}): n={n}: {:.3} s, {:.0} resources/s, {:.1} MB/s, {:.0} bytes/resource",
        if cfg!(debug_assertions) {
            "debug build, not meaningful"
        } else {
            "release"
        },
        secs,
        n as f64 / secs,
        stats.bytes as f64 / 1e6 / secs,
        stats.bytes as f64 / n as f64
    );
}
