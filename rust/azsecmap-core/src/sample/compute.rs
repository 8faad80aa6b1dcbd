//! Compute resources: virtual machines (with their extensions embedded in `resources` and as
//! standalone children), managed disks (OS, data and orphaned).

use super::common::{location_with, Doc, Kind, ODD_TYPE_PCT};
use super::json::JsonWriter;
use super::layout::{guid, Block};

const FACTS: u64 = 0xC0A7;

/// What the VM of a stack and its children agree on.
struct VmFacts {
    name: String,
    windows: bool,
    data_disks: u8,
    extensions: u8,
    managed: bool,
    location: &'static str,
    size: &'static str,
    disk_tag: u64,
}

fn facts(blk: &Block, s: u8) -> VmFacts {
    let mut r = blk.stack_rng(s, FACTS);
    let windows = r.pct(40);
    let data_disks = if r.pct(50) { 1 } else { 2 };
    let extensions = if r.pct(30) { 1 } else { 2 };
    let managed = r.pct(97);
    let location = location_with(blk, &mut r);
    let size = r.pick(&[
        "Standard_D2s_v5",
        "Standard_D4s_v5",
        "Standard_B2ms",
        "Standard_E4s_v5",
        "Standard_DS3_v2",
        "Standard_F4s_v2",
    ]);
    VmFacts {
        name: vm_name(blk, s),
        windows,
        data_disks,
        extensions,
        managed,
        location,
        size,
        disk_tag: r.next_u64(),
    }
}

/// VM name of stack `s`.
pub fn vm_name(blk: &Block, s: u8) -> String {
    let pre = if blk.stack_rng(s, FACTS).pct(40) {
        "vmw"
    } else {
        "vml"
    };
    format!(
        "{pre}-{}-{}-{:03}",
        blk.team,
        blk.env,
        (blk.index * 13 + u64::from(s)) % 1000
    )
}

const WIN_EXT: [(&str, &str, &str, &str); 7] = [
    (
        "AzureMonitorWindowsAgent",
        "Microsoft.Azure.Monitor",
        "AzureMonitorWindowsAgent",
        "1.22",
    ),
    (
        "MicrosoftMonitoringAgent",
        "Microsoft.EnterpriseCloud.Monitoring",
        "MicrosoftMonitoringAgent",
        "1.0",
    ),
    (
        "IaaSAntimalware",
        "Microsoft.Azure.Security",
        "IaaSAntimalware",
        "1.5",
    ),
    (
        "AzurePolicyforWindows",
        "Microsoft.GuestConfiguration",
        "ConfigurationforWindows",
        "1.29",
    ),
    (
        "CustomScriptExtension",
        "Microsoft.Compute",
        "CustomScriptExtension",
        "1.10",
    ),
    (
        "AADLoginForWindows",
        "Microsoft.Azure.ActiveDirectory",
        "AADLoginForWindows",
        "2.0",
    ),
    (
        "AzureDiskEncryption",
        "Microsoft.Azure.Security",
        "AzureDiskEncryption",
        "2.2",
    ),
];
const LINUX_EXT: [(&str, &str, &str, &str); 7] = [
    (
        "AzureMonitorLinuxAgent",
        "Microsoft.Azure.Monitor",
        "AzureMonitorLinuxAgent",
        "1.29",
    ),
    (
        "OmsAgentForLinux",
        "Microsoft.EnterpriseCloud.Monitoring",
        "OmsAgentForLinux",
        "1.14",
    ),
    (
        "AzurePolicyforLinux",
        "Microsoft.GuestConfiguration",
        "ConfigurationforLinux",
        "1.26",
    ),
    (
        "CustomScript",
        "Microsoft.Azure.Extensions",
        "CustomScript",
        "2.1",
    ),
    (
        "AADSSHLoginForLinux",
        "Microsoft.Azure.ActiveDirectory",
        "AADSSHLoginForLinux",
        "1.0",
    ),
    (
        "AzureDiskEncryptionForLinux",
        "Microsoft.Azure.Security",
        "AzureDiskEncryptionForLinux",
        "1.1",
    ),
    (
        "GuestAttestation",
        "Microsoft.Azure.Security.LinuxAttestation",
        "GuestAttestation",
        "1.0",
    ),
];

/// Writes extension `k` of the VM (embedded in `resources` or standalone: same fields).
fn write_extension(w: &mut JsonWriter, blk: &Block, s: u8, f: &VmFacts, k: u8, ty: &str) {
    let table = if f.windows { &WIN_EXT } else { &LINUX_EXT };
    let mut r = blk.stack_rng(s, 0x200);
    let first = r.below(table.len() as u64);
    let idx = if k == 0 {
        first
    } else {
        (first + 1 + r.below(table.len() as u64 - 1)) % table.len() as u64
    };
    let (name, publisher, etype, ver) = table.get(idx as usize).copied().unwrap_or(WIN_EXT[0]);
    let vm_id = blk.id("Microsoft.Compute/virtualMachines", &f.name);
    w.obj()
        .ks("name", name)
        .kf("id", format_args!("{vm_id}/extensions/{name}"))
        .ks("type", ty);
    w.ks("location", f.location);
    w.ko("properties")
        .kb("autoUpgradeMinorVersion", true)
        .ks("provisioningState", "Succeeded");
    w.ks("publisher", publisher)
        .ks("type", etype)
        .ks("typeHandlerVersion", ver);
    w.kb("enableAutomaticUpgrade", name.starts_with("Azure"))
        .ko("settings")
        .end();
    w.end().end();
}

/// A virtual machine, its extensions listed under `resources`.
pub fn vm(d: &mut Doc<'_>, s: u8) -> Kind {
    let blk = d.blk;
    let f = facts(blk, s);
    let id = blk.id("Microsoft.Compute/virtualMachines", &f.name);
    d.head(Kind::VirtualMachine, &id, &f.name);
    d.w.ks("location", f.location);
    d.tags();
    d.identity(35, 7, 3);
    let vm_id = d.guid();
    let created = d.timestamp();
    let r = &mut d.rng;
    let zone = r.pct(35).then(|| r.pick(&["1", "2", "3"]));
    let trusted = r.pct(45);
    let at_host = r.pct(15);
    let boot_diag = r.pct(80);
    let auto_updates = r.pct(80);
    let no_password = r.pct(75);
    let avset = zone.is_none() && r.pct(20);
    let ppg = r.pct(5);
    let gallery = r.pct(3);
    let user_data = r.pct(10);
    let vmss = r.pct(3);
    let license = f.windows && r.pct(30);
    let patch = r.weighted(&[
        (50, "AutomaticByPlatform"),
        (35, "AutomaticByOS"),
        (15, "Manual"),
    ]);
    let assess = if r.pct(45) {
        "AutomaticByPlatform"
    } else {
        "ImageDefault"
    };
    let os_disk_sku = r.weighted(&[
        (55, "Premium_LRS"),
        (35, "StandardSSD_LRS"),
        (10, "Standard_LRS"),
    ]);
    let w = &mut *d.w;
    if let Some(z) = zone {
        w.kstrs("zones", &[z]);
    }
    w.ks("etag", "\"1\"");
    w.ko("properties").ks("vmId", &vm_id);
    if avset {
        w.kref(
            "availabilitySet",
            &blk.id(
                "Microsoft.Compute/availabilitySets",
                &format!("avset-{}", blk.team),
            ),
        );
    }
    if ppg {
        w.kref(
            "proximityPlacementGroup",
            &blk.id("Microsoft.Compute/proximityPlacementGroups", "ppg-1"),
        );
    }
    w.ko("hardwareProfile").ks("vmSize", f.size).end();
    w.ko("storageProfile").ko("imageReference");
    if f.windows {
        w.ks("publisher", "MicrosoftWindowsServer")
            .ks("offer", "WindowsServer");
        w.ks(
            "sku",
            if trusted {
                "2022-datacenter-azure-edition"
            } else {
                "2019-Datacenter"
            },
        );
    } else {
        w.ks("publisher", "Canonical")
            .ks("offer", "0001-com-ubuntu-server-jammy")
            .ks("sku", "22_04-lts-gen2");
    }
    w.ks("version", "latest").end();
    let os_disk = os_disk_name(&f);
    w.ko("osDisk")
        .ks("osType", if f.windows { "Windows" } else { "Linux" })
        .ks("name", &os_disk);
    w.ks("createOption", "FromImage").ks("caching", "ReadWrite");
    if f.managed {
        w.ko("managedDisk").ks("storageAccountType", os_disk_sku);
        w.ks("id", &blk.id("Microsoft.Compute/disks", &os_disk))
            .end();
    } else {
        w.ko("vhd")
            .kf(
                "uri",
                format_args!(
                    "https://st{}vhds.blob.core.windows.net/vhds/{os_disk}.vhd",
                    blk.team
                ),
            )
            .end();
    }
    w.ks("deleteOption", "Detach")
        .ku("diskSizeGB", if f.windows { 127 } else { 30 })
        .end();
    w.ka("dataDisks");
    for k in 0..f.data_disks {
        let dn = data_disk_name(&f, k);
        w.obj()
            .ku("lun", u64::from(k))
            .ks("name", &dn)
            .ks("createOption", "Attach");
        w.ks("caching", "ReadOnly")
            .ko("managedDisk")
            .ks("storageAccountType", os_disk_sku);
        w.ks("id", &blk.id("Microsoft.Compute/disks", &dn)).end();
        w.ku("diskSizeGB", 128 << k)
            .ks("deleteOption", "Detach")
            .kb("toBeDetached", false)
            .end();
    }
    w.end_arr().ks("diskControllerType", "SCSI").end();
    if gallery {
        w.ko("applicationProfile")
            .ka("galleryApplications")
            .obj()
            .ku("order", 1);
        w.kf("packageReferenceId", format_args!("/subscriptions/{}/resourceGroups/rg-platform-images/providers/Microsoft.Compute/galleries/gal_shared/applications/agent/versions/1.0.0", blk.sub_id));
        w.end().end_arr().end();
    }
    if user_data {
        w.ks("userData", "IyEvYmluL3NoCmVjaG8gaGVsbG8K");
    }
    w.ko("osProfile")
        .ks("computerName", &f.name)
        .ks("adminUsername", "azureadmin");
    if f.windows {
        w.ko("windowsConfiguration")
            .kb("provisionVMAgent", true)
            .kb("enableAutomaticUpdates", auto_updates);
        w.ko("patchSettings")
            .ks("patchMode", patch)
            .ks("assessmentMode", assess)
            .end()
            .end();
    } else {
        w.ko("linuxConfiguration")
            .kb("disablePasswordAuthentication", no_password)
            .kb("provisionVMAgent", true);
        if no_password {
            w.ko("ssh")
                .ka("publicKeys")
                .obj()
                .ks("path", "/home/azureadmin/.ssh/authorized_keys");
            w.ks(
                "keyData",
                "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQC0synthetic azureadmin",
            )
            .end()
            .end_arr()
            .end();
        }
        let lpatch = if patch == "AutomaticByOS" {
            "ImageDefault"
        } else {
            patch
        };
        w.ko("patchSettings")
            .ks("patchMode", lpatch)
            .ks("assessmentMode", assess)
            .end()
            .end();
    }
    w.kempty("secrets")
        .kb("allowExtensionOperations", true)
        .kb("requireGuestProvisionSignal", true)
        .end();
    w.ko("networkProfile").ka("networkInterfaces").obj();
    w.ks(
        "id",
        &blk.id(
            "Microsoft.Network/networkInterfaces",
            &super::network::nic_name(blk, s),
        ),
    );
    w.ko("properties")
        .kb("primary", true)
        .end()
        .end()
        .end_arr()
        .end();
    if trusted || at_host {
        w.ko("securityProfile");
        if trusted {
            w.ko("uefiSettings")
                .kb("secureBootEnabled", true)
                .kb("vTpmEnabled", true)
                .end();
            w.ks("securityType", "TrustedLaunch");
        }
        if at_host {
            w.kb("encryptionAtHost", true);
        }
        w.end();
    }
    w.ko("diagnosticsProfile")
        .ko("bootDiagnostics")
        .kb("enabled", boot_diag);
    if boot_diag {
        if let Some(st) = blk.recipe.storage_stack {
            w.kf(
                "storageUri",
                format_args!(
                    "https://{}.blob.core.windows.net/",
                    super::data::storage_name(blk, st)
                ),
            );
        }
    }
    w.end().end();
    if license {
        w.ks("licenseType", "Windows_Server");
    }
    w.ks("extensionsTimeBudget", "PT1H30M")
        .ks("provisioningState", "Succeeded")
        .ks("timeCreated", &created);
    w.end();
    w.ka("resources");
    for k in 0..f.extensions {
        write_extension(w, blk, s, &f, k, Kind::VmExtension.type_name());
    }
    w.end_arr();
    if vmss {
        w.ks(
            "managedBy",
            &blk.id(
                "Microsoft.Compute/virtualMachineScaleSets",
                &format!("vmss-{}", blk.team),
            ),
        );
    }
    w.end();
    Kind::VirtualMachine
}

/// Standalone extension `k` of the VM in stack `s` (None when the VM has fewer).
pub fn extension(d: &mut Doc<'_>, s: u8, k: u8) -> Option<Kind> {
    let f = facts(d.blk, s);
    if k >= f.extensions {
        return None;
    }
    let ty = if d.rng.pct(ODD_TYPE_PCT) {
        Kind::VmExtension.odd_type_name()
    } else {
        Kind::VmExtension.type_name()
    };
    write_extension(d.w, d.blk, s, &f, k, ty);
    Some(Kind::VmExtension)
}

fn os_disk_name(f: &VmFacts) -> String {
    format!(
        "{}_OsDisk_1_{:032x}",
        f.name,
        u128::from(f.disk_tag) << 64 | u128::from(f.disk_tag.rotate_left(17))
    )
}

fn data_disk_name(f: &VmFacts, k: u8) -> String {
    format!("{}-data-{k:02}", f.name)
}

/// The OS disk (`k == None`) or data disk `k` of the VM in stack `s`.
pub fn vm_disk(d: &mut Doc<'_>, s: u8, k: Option<u8>) -> Option<Kind> {
    let f = facts(d.blk, s);
    if !f.managed || k.is_some_and(|k| k >= f.data_disks) {
        return None;
    }
    let name = match k {
        None => os_disk_name(&f),
        Some(k) => data_disk_name(&f, k),
    };
    let vm = d.blk.id("Microsoft.Compute/virtualMachines", &f.name);
    let os = k
        .is_none()
        .then_some(if f.windows { "Windows" } else { "Linux" });
    disk(d, &name, Some(&vm), os, f.location);
    Some(Kind::Disk)
}

/// An unattached disk (orphans are common in real tenants).
pub fn orphan_disk(d: &mut Doc<'_>, salt: u64) -> Kind {
    let name = format!("disk-{}-orphan-{:06x}", d.blk.team, salt & 0xff_ffff);
    let loc = d.location_value();
    disk(d, &name, None, None, loc);
    Kind::Disk
}

fn disk(d: &mut Doc<'_>, name: &str, vm: Option<&str>, os: Option<&str>, loc: &str) {
    let blk = d.blk;
    let id = blk.id("Microsoft.Compute/disks", name);
    d.head(Kind::Disk, &id, name);
    d.w.ks("location", loc);
    d.tags();
    let uid = d.guid();
    let created = d.timestamp();
    let r = &mut d.rng;
    let sku = r.weighted(&[
        (50, "Premium_LRS"),
        (30, "StandardSSD_LRS"),
        (12, "Standard_LRS"),
        (8, "Premium_ZRS"),
    ]);
    let enc = r.weighted(&[
        (80, "EncryptionAtRestWithPlatformKey"),
        (12, "EncryptionAtRestWithCustomerKey"),
        (3, "EncryptionAtRestWithPlatformAndCustomerKeys"),
        (5, ""),
    ]);
    let nap = r.weighted(&[
        (55, "AllowAll"),
        (20, "DenyAll"),
        (10, "AllowPrivate"),
        (15, ""),
    ]);
    let pna = r.weighted(&[(50, "Enabled"), (20, "Disabled"), (30, "")]);
    let ade = r.pct(8);
    let trusted = os.is_some() && r.pct(40);
    let size = if os.is_some() {
        r.pick(&[30u64, 64, 127, 128])
    } else {
        r.pick(&[32u64, 64, 128, 256, 512, 1024])
    };
    let hib = os.is_some() && r.pct(10);
    let plan = os.is_some() && r.pct(2);
    let w = &mut *d.w;
    if let Some(vm) = vm {
        w.ks("managedBy", vm);
    }
    w.ko("sku")
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
    w.ko("properties");
    if let Some(os) = os {
        w.ks("osType", os)
            .ks("hyperVGeneration", if trusted { "V2" } else { "V1" });
        w.ko("supportedCapabilities")
            .kb("acceleratedNetwork", true)
            .ks("architecture", "x64")
            .end();
        w.kb("supportsHibernation", hib);
    }
    if plan {
        w.ko("purchasePlan")
            .ks("name", "hardened-2022")
            .ks("publisher", "contoso-images")
            .ks("product", "hardened-os")
            .end();
    }
    if trusted {
        w.ko("securityProfile")
            .ks("securityType", "TrustedLaunch")
            .end();
    }
    w.ko("creationData");
    if os.is_some() {
        w.ks("createOption", "FromImage").ko("imageReference");
        w.kf("id", format_args!("/Subscriptions/{}/Providers/Microsoft.Compute/Locations/{}/Publishers/Canonical/ArtifactTypes/VMImage/Offers/0001-com-ubuntu-server-jammy/Skus/22_04-lts-gen2/Versions/22.04.202401010", blk.sub_id, blk.region_name()));
        w.end();
    } else {
        w.ks("createOption", "Empty");
    }
    w.end()
        .ku("diskSizeGB", size)
        .ku("diskIOPSReadWrite", 500 + size * 3)
        .ku("diskMBpsReadWrite", 100);
    if ade {
        let vault = blk.id("Microsoft.KeyVault/vaults", &format!("kv-{}-ade", blk.team));
        w.ko("encryptionSettingsCollection")
            .kb("enabled", true)
            .ka("encryptionSettings")
            .obj();
        w.ko("diskEncryptionKey").kref("sourceVault", &vault);
        w.kf(
            "secretUrl",
            format_args!(
                "https://kv-{}-ade.vault.azure.net/secrets/{}",
                blk.team,
                guid(size)
            ),
        );
        w.end()
            .end()
            .end_arr()
            .ks("encryptionSettingsVersion", "1.1")
            .end();
    }
    if !enc.is_empty() {
        w.ko("encryption").ks("type", enc);
        if enc.contains("Customer") {
            w.ks(
                "diskEncryptionSetId",
                &blk.id(
                    "Microsoft.Compute/diskEncryptionSets",
                    &format!("des-{}", blk.team),
                ),
            );
        }
        w.end();
    }
    if !nap.is_empty() {
        w.ks("networkAccessPolicy", nap);
    }
    if !pna.is_empty() {
        w.ks("publicNetworkAccess", pna);
    }
    w.ks("LastOwnershipUpdateTime", &created)
        .ks("timeCreated", &created)
        .ks("provisioningState", "Succeeded");
    w.ks(
        "diskState",
        if vm.is_some() {
            "Attached"
        } else {
            "Unattached"
        },
    )
    .ku("diskSizeBytes", size << 30);
    w.ks("uniqueId", &uid).end().end();
}
