//! A deterministic synthetic Azure tenant ("sample tenant") for benchmarks, demos and tests.
//!
//! [`write_ndjson`] writes `n` ARM resource documents, one compact JSON object per line;
//! [`resources`] returns the same documents as [`serde_json::Value`]s. Document `i` is a
//! function of `(seed, i)` alone ([`resource`]), so the first `k` documents are the same for
//! every `n >= k`, and disjoint index ranges can be generated in parallel ([`write_range`])
//! and concatenated. The hot path writes JSON text directly (no `Value` is built).
//!
//! # Layout
//! Documents come in blocks of 50; a block is one resource group: its
//! `Microsoft.Resources/subscriptions/resourceGroups` document first, then the resources of
//! one of six workload recipes (compute, web, data, kubernetes, integration, network hub),
//! parents before their children and diagnostic settings after the resource they monitor.
//! Blocks alternate between two subscriptions per 100,000 documents (one subscription per
//! 50,000, never fewer than two); the first block of each subscription also carries its 16
//! Defender plans (`/subscriptions/<sub>/providers/Microsoft.Security/pricings/<plan>`) and
//! subscription-scope role assignments. Optional children (a second data disk, a VM's second
//! extension, a database, a diagnostic setting) whose dice say "absent" give their slot to a
//! self-contained filler: an unattached disk, a role assignment, a public IP or a storage
//! account. Fillers are about a fifth of all documents; the filler storage accounts (about
//! 60% of all storage accounts) have no diagnostic setting, so the overall storage share is
//! about 12%, not the per-recipe 35%. About 2% of documents spell `type` in a casing seen in real data
//! (`Microsoft.Cache/Redis`, `Microsoft.ContainerService/ManagedClusters`, ...); ids keep the
//! canonical casing except that those AKS clusters also say `resourcegroups`. About 5% of
//! locations are display names (`West Europe`). Names are synthetic (`st<team><hex>`,
//! `kv-<team>-<n>`, `sql-<team>-<env>-<hex>`).
//!
//! # Misconfiguration rates
//! Each setting is drawn independently per resource. "absent" means the property is left out,
//! as older api-versions do; policies that test `exists` see those.
//!
//! | resource | setting | values (percent) |
//! | --- | --- | --- |
//! | storage | `supportsHttpsTrafficOnly` | true 88, **false 12** |
//! | storage | `minimumTlsVersion` | TLS1_2 78, **TLS1_0 10, TLS1_1 5**, absent 7 |
//! | storage | `allowBlobPublicAccess` | false 60, **true 20**, absent 20 |
//! | storage | `networkAcls.defaultAction` | Deny 40, **Allow 60** |
//! | storage | `publicNetworkAccess` | **Enabled 35**, Disabled 10, absent 55 |
//! | storage | `allowSharedKeyAccess` | false 25, **true 30**, absent 45 |
//! | storage | `allowCrossTenantReplication` | **true 10**, false 50, absent 40 |
//! | storage | `encryption.keySource` CMK / infrastructure encryption | 15 / 10 |
//! | key vault | `enableSoftDelete` | true 85, **false 5, absent 10** |
//! | key vault | `enablePurgeProtection` | true 45, **absent 55** |
//! | key vault | `enableRbacAuthorization` | true 50, **false 20, absent 30** |
//! | key vault | `publicNetworkAccess` | **Enabled 62**, Disabled 28, absent 10 |
//! | key vault | `networkAcls.defaultAction` | Deny 35, **Allow 45**, absent 20 |
//! | SQL server | `publicNetworkAccess` | **Enabled 65**, Disabled 35 |
//! | SQL server | `minimalTlsVersion` | 1.2 70, **1.0 8, 1.1 5, None 5**, absent 12 |
//! | SQL server | Entra admin / `azureADOnlyAuthentication` | 70 / 40 of those |
//! | SQL auditing | `state` | Enabled 75, **Disabled 25** |
//! | SQL firewall | first rule `0.0.0.0`–`0.0.0.0` / second rule `0.0.0.0`–`255.255.255.255` | 35 / 4 of servers |
//! | NSG rule | Allow, Inbound, source `*`/`Internet`/`0.0.0.0/0`, port 22, 3389 or `*` | about 7 of rules; about 35 of NSGs have one |
//! | NSG | embedded rules | 2–10; standalone copies of the first 2–4 |
//! | VNet subnet | bound to an NSG (non-gateway subnets, when the group has one) | 78 |
//! | VM | Linux `disablePasswordAuthentication` | true 75, **false 25** |
//! | VM | Windows `enableAutomaticUpdates` | true 80, **false 20** |
//! | VM | TrustedLaunch / `encryptionAtHost` / boot diagnostics | 45 / 15 / 80 |
//! | VM | unmanaged (VHD) OS disk | 3 |
//! | disk | `encryption.type` | platform key 80, customer key 12, both 3, **absent 5** |
//! | disk | `networkAccessPolicy` | **AllowAll 55**, DenyAll 20, AllowPrivate 10, absent 15 |
//! | disk | `publicNetworkAccess` | **Enabled 50**, Disabled 20, absent 30 |
//! | disk | Azure Disk Encryption settings | 8 |
//! | web app | `httpsOnly` | true 80, **false 20** |
//! | web app | `siteConfig.minTlsVersion` | **1.0 8, 1.1 5**, 1.2 80, 1.3 7 |
//! | web app | `siteConfig.ftpsState` | **AllAllowed 30**, FtpsOnly 35, Disabled 35 |
//! | web app | `http20Enabled` / `remoteDebuggingEnabled` / `clientCertEnabled` | 50 / **5** / 20 |
//! | web app | `publicNetworkAccess` | Enabled 40, Disabled 10, absent 50 |
//! | AKS | `enableRBAC` | true 90, **false 10** |
//! | AKS | `aadProfile` present (of RBAC clusters) | 65 |
//! | AKS | `apiServerAccessProfile` | **absent 45**, private 25, authorized IP ranges 30 |
//! | AKS | `networkPolicy` | **absent 35**, calico 35, azure 30 |
//! | AKS | `disableLocalAccounts` | true 30, **false 40, absent 30** |
//! | AKS | azurepolicy add-on / omsagent / Defender profile | 40 / 60 / 35 |
//! | Cosmos DB | `publicNetworkAccess` | **Enabled 60**, Disabled 40 |
//! | Cosmos DB | `disableLocalAuth` / `disableKeyBasedMetadataWriteAccess` | 25 / 30 |
//! | Cosmos DB | `minimalTlsVersion` | Tls12 75, **Tls 10, Tls11 5**, absent 10 |
//! | registry | `adminUserEnabled` | **true 25** |
//! | registry | `anonymousPullEnabled` / Premium share | **5** / 25 |
//! | Redis | `enableNonSslPort` | **true 10** |
//! | Redis | `minimumTlsVersion` | 1.2 77, **1.0 8, 1.1 5**, absent 10 |
//! | PostgreSQL | `network.publicNetworkAccess` | **Enabled 60**, Disabled 40 |
//! | PostgreSQL | Entra auth / geo-redundant backup / CMK | 35 / 35 / 15 |
//! | Event Hubs, Service Bus | `disableLocalAuth` | true 35, **false 65** |
//! | Event Hubs, Service Bus | `minimumTlsVersion` | 1.2 70, **1.0 10, 1.1 5**, absent 15 |
//! | Event Hubs, Service Bus | `publicNetworkAccess` | **Enabled 75**, Disabled 15, absent 10 |
//! | Cognitive Services | `disableLocalAuth` | true 30, **false 35, absent 35** |
//! | Cognitive Services | `publicNetworkAccess` | **Enabled 60**, Disabled 25, absent 15 |
//! | app gateway | WAF tier / WAF enabled (v1 config) / WAF policy (v2) | 50 / 85 / 60 |
//! | app gateway | `sslPolicy.minProtocolVersion` | **TLSv1_0 15, TLSv1_1 5**, TLSv1_2 80 |
//! | public IP | Basic SKU | 25 |
//! | NIC | `enableIPForwarding` / public IP | 5 / 15 |
//! | diagnostic setting | present on key vault, AKS, app gateway, SQL, NSG, storage (in recipes; about 12 overall), site | 60, 55, 50, 45, 40, 35, 30 |
//! | diagnostic setting | destination workspace / storage / event hub | 70 / 25 / 5 |
//! | Defender plan | `pricingTier` Standard | 15–65 by plan |
//! | role assignment | Owner / Contributor / Reader / User Access Administrator | 10 / 30 / 35 / 3 |
//! | any | `identity` system / user / both (else absent, 10% of those `None`) | e.g. VM 35/7/3, storage 22/5/2, web app 45/5/2, AKS 75/20/0 |

mod common;
mod compute;
mod data;
mod governance;
pub mod json;
mod layout;
mod network;
mod platform;
pub mod rng;
mod web;

use std::collections::BTreeMap;
use std::io::Write;
use std::ops::Range;

use common::Doc;
pub use common::Kind;
use json::JsonWriter;
pub use layout::BLOCK_LEN;
use layout::{Block, Slot};
use rng::{key, SplitMix64};

/// Counts of what a generation run wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SampleStats {
    /// Documents (lines) written.
    pub documents: u64,
    /// Bytes written, newlines included.
    pub bytes: u64,
    counts: Vec<u64>,
}

impl SampleStats {
    /// Documents of `kind` written.
    pub fn count(&self, kind: Kind) -> u64 {
        self.counts.get(kind.ordinal()).copied().unwrap_or(0)
    }

    /// Documents per canonical `type` (types with no document are left out).
    pub fn by_type(&self) -> BTreeMap<&'static str, u64> {
        Kind::ALL
            .iter()
            .map(|k| (k.type_name(), self.count(*k)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// Adds another run's counts (for chunks generated in parallel).
    pub fn merge(&mut self, other: &SampleStats) {
        self.documents += other.documents;
        self.bytes += other.bytes;
        for k in Kind::ALL {
            self.bump(*k, other.count(*k));
        }
    }

    fn bump(&mut self, kind: Kind, by: u64) {
        if self.counts.len() < Kind::ALL.len() {
            self.counts.resize(Kind::ALL.len(), 0);
        }
        if let Some(c) = self.counts.get_mut(kind.ordinal()) {
            *c += by;
        }
    }
}

/// Generates consecutive documents, reusing the block context across a block.
struct Generator {
    seed: u64,
    block: Option<Block>,
}

impl Generator {
    fn new(seed: u64) -> Self {
        Self { seed, block: None }
    }

    /// Appends document `i` and a newline to `w`.
    fn emit(&mut self, i: usize, w: &mut JsonWriter) -> Kind {
        let b = (i / BLOCK_LEN) as u64;
        let o = i % BLOCK_LEN;
        let blk = match &mut self.block {
            Some(blk) if blk.index == b => blk,
            slot => slot.insert(Block::new(self.seed, b)),
        };
        let mut d = Doc {
            blk,
            rng: SplitMix64::new(key(&[self.seed, b, o as u64, 0xD0C])),
            w,
        };
        let kind = document(&mut d, o);
        d.w.newline();
        kind
    }
}

fn document(d: &mut Doc<'_>, o: usize) -> Kind {
    let slot = d.blk.slot(o);
    let made = match slot {
        Slot::ResourceGroup => Some(governance::resource_group(d)),
        Slot::Pricing(p) => Some(governance::pricing(d, p)),
        Slot::SubRoleAssignment(_) => Some(governance::role_assignment(d, true)),
        Slot::RoleAssignment => Some(governance::role_assignment(d, false)),
        Slot::Filler => None,
        Slot::Storage(s) => Some(data::storage(d, s)),
        Slot::KeyVault(s) => Some(platform::key_vault(d, s)),
        Slot::SqlServer(s) => Some(data::sql_server(d, s)),
        Slot::SqlAudit(s) => Some(data::sql_audit(d, s)),
        Slot::SqlDatabase(s, k) => data::sql_database(d, s, k),
        Slot::SqlFirewall(s, k) => Some(data::sql_firewall(d, s, k)),
        Slot::Nsg(s) => Some(network::nsg(d, s)),
        Slot::NsgRule(s, k) => network::nsg_rule(d, s, k),
        Slot::Vnet(s) => Some(network::vnet(d, s)),
        Slot::PublicIp(s) => Some(if is_appgw_stack(d.blk, s) {
            network::appgw_ip(d, s)
        } else {
            network::standalone_ip(d, s)
        }),
        Slot::AppGateway(s) => Some(network::appgw(d, s)),
        Slot::Nic(s) => Some(network::nic(d, s)),
        Slot::Vm(s) => Some(compute::vm(d, s)),
        Slot::VmExtension(s, k) => compute::extension(d, s, k),
        Slot::OsDisk(s) => compute::vm_disk(d, s, None),
        Slot::DataDisk(s, k) => compute::vm_disk(d, s, Some(k)),
        Slot::Site(s) => Some(web::site(d, s)),
        Slot::SiteConfig(s) => Some(web::site_config(d, s)),
        Slot::Aks(s) => Some(platform::aks(d, s)),
        Slot::Cosmos(s) => Some(data::cosmos(d, s)),
        Slot::Registry(s) => Some(platform::registry(d, s)),
        Slot::Redis(s) => Some(data::redis(d, s)),
        Slot::Postgres(s) => Some(data::postgres(d, s)),
        Slot::EventHub(s) => Some(platform::messaging(d, s, false)),
        Slot::ServiceBus(s) => Some(platform::messaging(d, s, true)),
        Slot::Cognitive(s) => Some(platform::cognitive(d, s)),
        Slot::Diag(t, s) => governance::diagnostic_setting(d, t, s),
    };
    made.unwrap_or_else(|| filler(d, o))
}

fn is_appgw_stack(blk: &Block, s: u8) -> bool {
    blk.recipe.slots.contains(&Slot::AppGateway(s))
}

/// A self-contained document for a slot whose optional resource is absent.
fn filler(d: &mut Doc<'_>, o: usize) -> Kind {
    // INVARIANT: recipe stacks stay below 128, so filler stacks (128 + offset) never collide.
    let stack = 128 + (o % 100) as u8;
    match d.rng.weighted(&[(30, 0u8), (25, 1), (20, 2), (25, 3)]) {
        0 => compute::orphan_disk(d, d.blk.tag(stack, 0xD15C)),
        1 => governance::role_assignment(d, false),
        2 => network::standalone_ip(d, stack),
        _ => data::storage(d, stack),
    }
}

/// Appends documents `range` (one per line) to `buf`; concatenating the output of adjacent
/// ranges gives the same bytes as one call over their union.
pub fn write_range(range: Range<usize>, seed: u64, buf: &mut Vec<u8>) -> SampleStats {
    let mut g = Generator::new(seed);
    let mut w = JsonWriter::with_capacity(4096);
    let mut stats = SampleStats::default();
    for i in range {
        w.clear();
        let kind = g.emit(i, &mut w);
        stats.bump(kind, 1);
        stats.documents += 1;
        stats.bytes += w.len() as u64;
        buf.extend_from_slice(w.as_bytes());
    }
    stats
}

/// Writes documents `0..n` of the tenant for `seed` as NDJSON to `out`.
pub fn write_ndjson(n: usize, seed: u64, out: &mut dyn Write) -> std::io::Result<SampleStats> {
    const FLUSH_AT: usize = 1 << 20;
    let mut g = Generator::new(seed);
    let mut w = JsonWriter::with_capacity(FLUSH_AT + 64 * 1024);
    let mut stats = SampleStats::default();
    for i in 0..n {
        let before = w.len();
        let kind = g.emit(i, &mut w);
        stats.bump(kind, 1);
        stats.documents += 1;
        stats.bytes += (w.len() - before) as u64;
        if w.len() >= FLUSH_AT {
            out.write_all(w.as_bytes())?;
            w.clear();
        }
    }
    if !w.is_empty() {
        out.write_all(w.as_bytes())?;
    }
    // Sizes the per-kind counters even when `n` is 0, so `by_type` and `merge` see zeros.
    stats.bump(Kind::ResourceGroup, 0);
    Ok(stats)
}

/// Document `i` of the tenant for `seed` (independent of how many documents are generated).
pub fn resource(i: usize, seed: u64) -> serde_json::Value {
    let mut w = JsonWriter::with_capacity(4096);
    Generator::new(seed).emit(i, &mut w);
    parse(w.as_bytes())
}

/// Documents `0..n` of the tenant for `seed`, as values (the same documents
/// [`write_ndjson`] writes).
pub fn resources(n: usize, seed: u64) -> Vec<serde_json::Value> {
    let mut g = Generator::new(seed);
    let mut w = JsonWriter::with_capacity(4096);
    (0..n)
        .map(|i| {
            w.clear();
            g.emit(i, &mut w);
            parse(w.as_bytes())
        })
        .collect()
}

fn parse(line: &[u8]) -> serde_json::Value {
    // INVARIANT: the writer only emits valid JSON; the tests parse every line of large runs,
    // so a `Null` here would surface there rather than be silently consumed.
    serde_json::from_slice(line).unwrap_or(serde_json::Value::Null)
}

/// Reads a sample tenant as NDJSON bytes, generating documents as they are read, so a large
/// tenant streams into the evaluator without ever being held whole.
pub struct SampleReader {
    next: usize,
    n: usize,
    seed: u64,
    buf: Vec<u8>,
    pos: usize,
}

impl SampleReader {
    /// A reader over documents `0..n` of the tenant `seed`.
    pub fn new(n: usize, seed: u64) -> Self {
        Self {
            next: 0,
            n,
            seed,
            buf: Vec::new(),
            pos: 0,
        }
    }
}

impl std::io::Read for SampleReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos >= self.buf.len() {
            if self.next >= self.n {
                return Ok(0);
            }
            let end = (self.next + 4096).min(self.n);
            self.buf.clear();
            self.pos = 0;
            write_range(self.next..end, self.seed, &mut self.buf);
            self.next = end;
        }
        let avail = self.buf.get(self.pos..).unwrap_or_default();
        let k = avail.len().min(out.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..k), avail.get(..k)) {
            dst.copy_from_slice(src);
        }
        self.pos += k;
        Ok(k)
    }
}
