//! Where each document sits in the synthetic tenant: index `i` maps to block `i / BLOCK_LEN`
//! (one resource group) and a slot in that block's recipe. Everything a document needs to
//! know about its neighbours (parent names, the subnet it joins) is recomputed from
//! `(seed, block, stack)` hashes, so any document can be generated alone and in any order.

use std::sync::OnceLock;

use super::rng::{key, SplitMix64};

/// Documents per block; every block is one resource group and its contents.
pub const BLOCK_LEN: usize = 50;
/// Blocks per pair of subscriptions: 100,000 documents share two subscriptions, alternating
/// block by block, so every prefix of the output spans at least two subscriptions.
pub const BLOCKS_PER_PAIR: u64 = 2_000;

/// What a resource group is for; picks its recipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flavor {
    /// The first block of a subscription: Defender pricings and subscription role assignments.
    SubHead,
    /// VMs with disks, NICs, extensions, a VNet and NSGs.
    #[default]
    Compute,
    /// App Service sites and their supporting services.
    Web,
    /// SQL, Cosmos DB, PostgreSQL, Redis.
    Data,
    /// AKS clusters with a registry.
    Kubernetes,
    /// Messaging and AI services.
    Integration,
    /// Hub networking: NSGs, application gateways, public IPs.
    NetworkHub,
}

impl Flavor {
    /// The workload word used in resource-group names.
    pub fn word(self) -> &'static str {
        match self {
            Flavor::SubHead => "platform",
            Flavor::Compute => "app",
            Flavor::Web => "web",
            Flavor::Data => "data",
            Flavor::Kubernetes => "aks",
            Flavor::Integration => "int",
            Flavor::NetworkHub => "hub",
        }
    }
}

/// A resource a diagnostic setting can be attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A storage account.
    Storage,
    /// A key vault.
    KeyVault,
    /// A SQL logical server.
    SqlServer,
    /// A network security group.
    Nsg,
    /// An AKS cluster.
    Aks,
    /// An App Service site.
    Site,
    /// A Cosmos DB account.
    Cosmos,
    /// An application gateway.
    AppGateway,
    /// An Event Hubs namespace.
    EventHub,
    /// A Redis cache.
    Redis,
    /// A Service Bus namespace.
    ServiceBus,
    /// A container registry.
    Registry,
}

/// One position in a block recipe. `u8` payloads are the stack (a parent and its children
/// share one) and, for children, the child ordinal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// The resource group itself.
    ResourceGroup,
    /// A Defender for Cloud plan at subscription scope.
    Pricing(u8),
    /// A role assignment at subscription scope.
    SubRoleAssignment(u8),
    /// A role assignment at resource-group scope.
    RoleAssignment,
    /// A self-contained resource (orphan disk, role assignment, public IP, storage account).
    Filler,
    /// A storage account.
    Storage(u8),
    /// A key vault.
    KeyVault(u8),
    /// A SQL server.
    SqlServer(u8),
    /// The server's `auditingSettings/default`.
    SqlAudit(u8),
    /// A database of the server.
    SqlDatabase(u8, u8),
    /// A firewall rule of the server.
    SqlFirewall(u8, u8),
    /// A network security group.
    Nsg(u8),
    /// A standalone copy of one of the NSG's rules.
    NsgRule(u8, u8),
    /// A virtual network.
    Vnet(u8),
    /// A public IP address.
    PublicIp(u8),
    /// An application gateway (its public IP shares the stack).
    AppGateway(u8),
    /// A VM's network interface.
    Nic(u8),
    /// A virtual machine.
    Vm(u8),
    /// A VM extension child.
    VmExtension(u8, u8),
    /// A VM's OS disk.
    OsDisk(u8),
    /// A VM's data disk.
    DataDisk(u8, u8),
    /// An App Service site.
    Site(u8),
    /// The site's `config/web` child.
    SiteConfig(u8),
    /// An AKS cluster.
    Aks(u8),
    /// A Cosmos DB account.
    Cosmos(u8),
    /// A container registry.
    Registry(u8),
    /// A Redis cache.
    Redis(u8),
    /// A PostgreSQL flexible server.
    Postgres(u8),
    /// An Event Hubs namespace.
    EventHub(u8),
    /// A Service Bus namespace.
    ServiceBus(u8),
    /// A Cognitive Services account.
    Cognitive(u8),
    /// A diagnostic setting on the target of the given stack.
    Diag(Target, u8),
}

/// A block's fixed sequence of `BLOCK_LEN` slots, parents before children.
#[derive(Debug, Default)]
pub struct Recipe {
    /// The slots, exactly `BLOCK_LEN` of them.
    pub slots: Vec<Slot>,
    /// Stacks holding an NSG (the VNet's subnets point at them).
    pub nsg_stacks: Vec<u8>,
    /// The stack of the block's VNet, if it has one.
    pub vnet_stack: Option<u8>,
    /// The stack of the block's first storage account, if any (boot diagnostics, logs).
    pub storage_stack: Option<u8>,
}

struct Builder {
    r: Recipe,
    next: u8,
}

impl Builder {
    fn new() -> Self {
        let mut b = Self {
            r: Recipe::default(),
            next: 0,
        };
        b.r.slots.push(Slot::ResourceGroup);
        b
    }
    fn stack(&mut self) -> u8 {
        self.next = self.next.wrapping_add(1);
        self.next
    }
    fn push(&mut self, s: Slot) -> &mut Self {
        self.r.slots.push(s);
        self
    }
    fn roles(&mut self, n: u8) -> &mut Self {
        (0..n).for_each(|_| self.r.slots.push(Slot::RoleAssignment));
        self
    }
    fn with_diag(&mut self, t: Target, s: u8, slot: Slot) -> &mut Self {
        self.push(slot).push(Slot::Diag(t, s))
    }
    fn storage(&mut self) -> &mut Self {
        let s = self.stack();
        self.r.storage_stack.get_or_insert(s);
        self.with_diag(Target::Storage, s, Slot::Storage(s))
    }
    fn kv(&mut self) -> &mut Self {
        let s = self.stack();
        self.with_diag(Target::KeyVault, s, Slot::KeyVault(s))
    }
    fn sql(&mut self, dbs: u8, rules: u8) -> &mut Self {
        let s = self.stack();
        self.push(Slot::SqlServer(s)).push(Slot::SqlAudit(s));
        (0..dbs).for_each(|k| self.r.slots.push(Slot::SqlDatabase(s, k)));
        (0..rules).for_each(|k| self.r.slots.push(Slot::SqlFirewall(s, k)));
        self.push(Slot::Diag(Target::SqlServer, s))
    }
    fn nsg(&mut self, standalone_rules: u8) -> &mut Self {
        let s = self.stack();
        self.r.nsg_stacks.push(s);
        self.push(Slot::Nsg(s));
        (0..standalone_rules).for_each(|k| self.r.slots.push(Slot::NsgRule(s, k)));
        self.push(Slot::Diag(Target::Nsg, s))
    }
    fn vnet(&mut self) -> &mut Self {
        let s = self.stack();
        self.r.vnet_stack.get_or_insert(s);
        self.push(Slot::Vnet(s))
    }
    fn vm(&mut self) -> &mut Self {
        let s = self.stack();
        self.push(Slot::Vm(s))
            .push(Slot::OsDisk(s))
            .push(Slot::DataDisk(s, 0));
        self.push(Slot::DataDisk(s, 1)).push(Slot::Nic(s));
        self.push(Slot::VmExtension(s, 0))
            .push(Slot::VmExtension(s, 1))
    }
    fn vms(&mut self, n: u8) -> &mut Self {
        (0..n).for_each(|_| {
            self.vm();
        });
        self
    }
    fn pips(&mut self, n: u8) -> &mut Self {
        (0..n).for_each(|_| {
            let s = self.stack();
            self.r.slots.push(Slot::PublicIp(s));
        });
        self
    }
    fn appgw(&mut self) -> &mut Self {
        let s = self.stack();
        self.push(Slot::PublicIp(s)).push(Slot::AppGateway(s));
        self.push(Slot::Diag(Target::AppGateway, s))
    }
    fn sites(&mut self, n: u8) -> &mut Self {
        (0..n).for_each(|_| {
            let s = self.stack();
            self.push(Slot::Site(s)).push(Slot::SiteConfig(s));
            self.push(Slot::Diag(Target::Site, s));
        });
        self
    }
    fn one(&mut self, f: fn(u8) -> Slot, diag: Option<Target>) -> &mut Self {
        let s = self.stack();
        self.push(f(s));
        if let Some(t) = diag {
            self.push(Slot::Diag(t, s));
        }
        self
    }
    fn finish(&mut self) -> Recipe {
        let mut r = std::mem::take(&mut self.r);
        r.slots.truncate(BLOCK_LEN);
        r.slots.resize(BLOCK_LEN, Slot::Filler);
        r
    }
}

fn build(flavor: Flavor) -> Recipe {
    use Slot as S;
    use Target as T;
    let mut b = Builder::new();
    match flavor {
        Flavor::SubHead => {
            (0..PLAN_COUNT).for_each(|p| {
                b.push(S::Pricing(p));
            });
            (0..4).for_each(|k| {
                b.push(S::SubRoleAssignment(k));
            });
            b.kv().storage().storage().vnet().nsg(4).vms(2);
        }
        Flavor::Compute => {
            b.vnet()
                .nsg(4)
                .nsg(2)
                .vms(4)
                .pips(1)
                .storage()
                .kv()
                .roles(1);
        }
        Flavor::Web => {
            b.roles(1).storage().kv().sites(8).one(S::Cognitive, None);
            b.one(S::Redis, Some(T::Redis))
                .appgw()
                .vnet()
                .nsg(3)
                .storage()
                .pips(1);
            b.one(S::Postgres, None);
        }
        Flavor::Data => {
            b.roles(1).kv().storage().storage().sql(3, 2).sql(3, 2);
            b.one(S::Cosmos, Some(T::Cosmos)).one(S::Postgres, None);
            b.one(S::Redis, Some(T::Redis)).vnet().nsg(2);
            b.one(S::EventHub, Some(T::EventHub)).sites(2).vms(1);
        }
        Flavor::Kubernetes => {
            b.vnet()
                .nsg(4)
                .one(S::Aks, Some(T::Aks))
                .one(S::Aks, Some(T::Aks));
            b.one(S::Registry, Some(T::Registry))
                .kv()
                .storage()
                .pips(2)
                .roles(2);
            b.vms(2)
                .one(S::Postgres, None)
                .one(S::Redis, Some(T::Redis))
                .nsg(3);
            b.one(S::Cosmos, Some(T::Cosmos));
        }
        Flavor::Integration => {
            b.roles(1).one(S::EventHub, Some(T::EventHub));
            b.one(S::ServiceBus, Some(T::ServiceBus))
                .one(S::ServiceBus, None);
            b.one(S::Cognitive, None)
                .one(S::Cognitive, None)
                .one(S::Cognitive, None);
            b.sites(4).storage().storage().kv().appgw().sql(2, 1);
            b.one(S::Registry, None).vnet().nsg(2).vms(1);
        }
        Flavor::NetworkHub => {
            b.vnet().nsg(4).nsg(4).nsg(4).nsg(4).appgw().appgw().pips(4);
            b.kv().storage().roles(1).vms(1);
        }
    }
    b.finish()
}

/// Number of Defender plans written per subscription.
pub const PLAN_COUNT: u8 = 16;

const FLAVORS: [Flavor; 7] = [
    Flavor::SubHead,
    Flavor::Compute,
    Flavor::Web,
    Flavor::Data,
    Flavor::Kubernetes,
    Flavor::Integration,
    Flavor::NetworkHub,
];

/// The recipe of a flavor (built once).
pub fn recipe(flavor: Flavor) -> &'static Recipe {
    static RECIPES: OnceLock<Vec<Recipe>> = OnceLock::new();
    static EMPTY: Recipe = Recipe {
        slots: Vec::new(),
        nsg_stacks: Vec::new(),
        vnet_stack: None,
        storage_stack: None,
    };
    let all = RECIPES.get_or_init(|| FLAVORS.iter().map(|f| build(*f)).collect());
    let i = FLAVORS.iter().position(|f| *f == flavor).unwrap_or(0);
    all.get(i).unwrap_or(&EMPTY)
}

/// Azure regions as `(short name, display name)`.
pub const REGIONS: [(&str, &str); 12] = [
    ("westeurope", "West Europe"),
    ("northeurope", "North Europe"),
    ("eastus", "East US"),
    ("eastus2", "East US 2"),
    ("westus2", "West US 2"),
    ("centralus", "Central US"),
    ("uksouth", "UK South"),
    ("germanywestcentral", "Germany West Central"),
    ("swedencentral", "Sweden Central"),
    ("francecentral", "France Central"),
    ("southeastasia", "Southeast Asia"),
    ("australiaeast", "Australia East"),
];

const TEAMS: [&str; 16] = [
    "payments",
    "identity",
    "search",
    "billing",
    "crm",
    "analytics",
    "platform",
    "mobile",
    "shop",
    "hr",
    "finance",
    "logistics",
    "ml",
    "support",
    "media",
    "security",
];

/// Per-resource-group context shared by every document of a block.
#[derive(Debug, Clone)]
pub struct Block {
    /// The tenant seed.
    pub seed: u64,
    /// Block ordinal (`i / BLOCK_LEN`).
    pub index: u64,
    /// Subscription ordinal.
    pub sub: u64,
    /// Subscription GUID.
    pub sub_id: String,
    /// Tenant GUID.
    pub tenant_id: String,
    /// Resource-group name.
    pub rg: String,
    /// `/subscriptions/<sub>/resourceGroups/<rg>`.
    pub rg_id: String,
    /// The recipe flavor.
    #[allow(dead_code)]
    // read by tests and handy in a debugger; the recipe is what drives output
    pub flavor: Flavor,
    /// The recipe.
    pub recipe: &'static Recipe,
    /// Index into [`REGIONS`] of the group's region.
    pub region: usize,
    /// Owning team (names, tags).
    pub team: &'static str,
    /// Environment (`prod`, `dev`, ...).
    pub env: &'static str,
}

impl Block {
    /// The context of block `index` for `seed`.
    pub fn new(seed: u64, index: u64) -> Self {
        let pair = index / BLOCKS_PER_PAIR;
        let sub = 2 * pair + (index & 1);
        let first_of_sub = index % BLOCKS_PER_PAIR < 2;
        let mut r = SplitMix64::new(key(&[seed, index, 0xB10C]));
        let flavor = if first_of_sub {
            Flavor::SubHead
        } else {
            r.weighted(&[
                (30, Flavor::Compute),
                (22, Flavor::Web),
                (15, Flavor::Data),
                (10, Flavor::Kubernetes),
                (10, Flavor::Integration),
                (13, Flavor::NetworkHub),
            ])
        };
        // A tenant has a home region where most groups live.
        let home = (key(&[seed, 0x4E61]) % 3) as usize;
        let region = if r.pct(65) {
            home
        } else {
            r.below(REGIONS.len() as u64) as usize
        };
        let team = r.pick(&TEAMS);
        let env = r.weighted(&[
            (45, "prod"),
            (25, "dev"),
            (15, "test"),
            (10, "stage"),
            (5, "sbx"),
        ]);
        let sub_id = guid(key(&[seed, sub, 0x5B5]));
        let tenant_id = guid(key(&[seed, 0x7E4A]));
        let rg = format!("rg-{team}-{}-{env}-{index:05}", flavor.word());
        let rg_id = format!("/subscriptions/{sub_id}/resourceGroups/{rg}");
        Self {
            seed,
            index,
            sub,
            sub_id,
            tenant_id,
            rg,
            rg_id,
            flavor,
            recipe: recipe(flavor),
            region,
            team,
            env,
        }
    }

    /// The slot at offset `o` of the block.
    pub fn slot(&self, o: usize) -> Slot {
        self.recipe.slots.get(o).copied().unwrap_or(Slot::Filler)
    }

    /// A stream of facts shared by a stack's parent and children (names, counts, OS).
    pub fn stack_rng(&self, stack: u8, salt: u64) -> SplitMix64 {
        SplitMix64::new(key(&[self.seed, self.index, u64::from(stack), salt]))
    }

    /// A hash for names whose low byte is the stack: any mask keeping 16 bits or more
    /// (`& 0xffff`) still tells the stacks of one block (resource group) apart, so names built
    /// from it never collide within a resource group.
    pub fn tag(&self, stack: u8, salt: u64) -> u64 {
        (key(&[self.seed, self.index, u64::from(stack), salt, 0x7A6]) << 8) | u64::from(stack)
    }

    /// The region short name of the group.
    pub fn region_name(&self) -> &'static str {
        REGIONS.get(self.region).map_or("westeurope", |r| r.0)
    }

    /// A `/subscriptions/<sub>/resourceGroups/<rg>/providers/<ns_type>/<name>` id.
    pub fn id(&self, ns_type: &str, name: &str) -> String {
        format!("{}/providers/{ns_type}/{name}", self.rg_id)
    }

    /// The Log Analytics workspace the tenant's diagnostic settings usually point at.
    pub fn workspace_id(&self) -> String {
        let platform = guid(key(&[self.seed, 0, 0x5B5]));
        format!(
            "/subscriptions/{platform}/resourceGroups/rg-platform-logs/providers/Microsoft.OperationalInsights/workspaces/law-central-{}",
            self.region_name()
        )
    }
}

/// Formats 128 hashed bits (from one 64-bit key) as a version-4 style GUID.
pub fn guid(k: u64) -> String {
    let a = k;
    let b = super::rng::mix(k ^ 0xD1B5_4A32_D192_ED03);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        ((b >> 48) & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_recipe_is_full_and_fits() {
        for f in FLAVORS {
            let r = build(f);
            assert_eq!(r.slots.len(), BLOCK_LEN, "{f:?}");
            let fill = r.slots.iter().filter(|s| **s == Slot::Filler).count();
            assert!(fill <= 8, "{f:?} pads {fill} slots");
        }
    }

    #[test]
    fn subscriptions_alternate_and_heads_come_first() {
        let b0 = Block::new(1, 0);
        let b1 = Block::new(1, 1);
        let b2 = Block::new(1, 2);
        assert_eq!((b0.sub, b1.sub, b2.sub), (0, 1, 0));
        assert_eq!((b0.flavor, b1.flavor), (Flavor::SubHead, Flavor::SubHead));
        assert_ne!(b0.sub_id, b1.sub_id);
        assert_eq!(Block::new(1, BLOCKS_PER_PAIR).sub, 2);
        assert_eq!(guid(5).len(), 36);
    }
}
