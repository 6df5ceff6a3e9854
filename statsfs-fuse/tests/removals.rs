//! What a removal costs a mount (issue 13): a mount hears only the removals in the registry it
//! serves, and forgets a removed subtree by visiting that subtree's inode-table entries
//! alone. Before, every mount in the process heard every removal and swept its whole table
//! each time. Costs are counted with `Mount::removal_visits` (entries examined), not timed.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::{errno, mounted, VcpuStats};
use statsfs::{Instance, Registry, Source};

/// A registry with `kvm/` holding `vms` VMs `vm<i>/vcpu0/`, each with an instance.
struct Big {
    registry: Registry,
    kvm: Source,
    vms: Vec<(Source, Source)>,
    _stats: Vec<Instance<VcpuStats>>,
}

fn big(vms: usize) -> Big {
    let registry = Registry::new();
    let kvm = Source::new("kvm").unwrap();
    kvm.add_aggregate_of::<VcpuStats>().unwrap();
    registry.register(&kvm).unwrap();
    let mut list = Vec::new();
    let mut stats = Vec::new();
    for i in 0..vms {
        let vm = Source::new(&format!("vm{i}")).unwrap();
        vm.add_aggregate_of::<VcpuStats>().unwrap();
        let vcpu = Source::new("vcpu0").unwrap();
        let st = Instance::<VcpuStats>::default();
        st.exits.add(i as u64);
        vcpu.add_instance(&st).unwrap();
        vm.add_child(&vcpu).unwrap();
        kvm.add_child(&vm).unwrap();
        list.push((vm, vcpu));
        stats.push(st);
    }
    Big {
        registry,
        kvm,
        vms: list,
        _stats: stats,
    }
}

/// Lists everything under `dir`, so every directory and file gets an inode.
fn list_all(dir: &Path) {
    let o = Command::new("ls").arg("-R").arg(dir).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// The entries a listed `vm/vcpu0` subtree has in the table: two directories and their files.
fn subtree_entries(vm: &Source, vcpu: &Source) -> u64 {
    (2 + vm.visible_values().len() + vcpu.visible_values().len()) as u64
}

fn statfs_files(dir: &Path) -> u64 {
    let c = std::ffi::CString::new(dir.to_str().unwrap()).unwrap();
    // SAFETY: a zeroed statvfs is a valid out-parameter; c is a valid C string.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::statvfs(c.as_ptr(), &mut st) }, 0);
    st.f_files
}

#[test]
fn a_removal_costs_the_removed_subtree_not_the_whole_table() {
    const VMS: usize = 300;
    let t = big(VMS);
    let Some(m) = mounted(&t.registry, "removal-cost") else {
        return;
    };
    let mount = m.mount.as_ref().unwrap();
    list_all(&m.dir);
    let table = statfs_files(&m.dir);
    let (vm, vcpu) = &t.vms[7];
    let expected = subtree_entries(vm, vcpu);
    let before = mount.removal_visits();
    assert!(t.kvm.remove_child(vm));
    let cost = mount.removal_visits() - before;
    println!("removing 1 of {VMS} VMs visited {cost} of {table} inode-table entries");
    assert_eq!(cost, expected);
    // The removed directory is gone from the mount at once; the others stay.
    assert_eq!(errno(fs::metadata(m.dir.join("kvm/vm7"))), libc::ENOENT);
    assert_eq!(
        fs::read_to_string(m.dir.join("kvm/vm8/vcpu0/exits")).unwrap(),
        "8\n"
    );
}

#[test]
fn a_removal_costs_nothing_to_mounts_of_other_registries() {
    let a = big(20);
    let b = big(20);
    let Some(ma) = mounted(&a.registry, "removal-scope-a") else {
        return;
    };
    let Some(mb) = mounted(&b.registry, "removal-scope-b") else {
        return;
    };
    let (mount_a, mount_b) = (ma.mount.as_ref().unwrap(), mb.mount.as_ref().unwrap());
    list_all(&ma.dir);
    list_all(&mb.dir);
    let (va, vb) = (mount_a.removal_visits(), mount_b.removal_visits());
    let (vm, vcpu) = &a.vms[3];
    assert!(a.kvm.remove_child(vm));
    assert_eq!(mount_a.removal_visits() - va, subtree_entries(vm, vcpu));
    assert_eq!(mount_b.removal_visits() - vb, 0);
    assert_eq!(errno(fs::metadata(ma.dir.join("kvm/vm3"))), libc::ENOENT);
    assert!(fs::metadata(mb.dir.join("kvm/vm3")).is_ok());
}
