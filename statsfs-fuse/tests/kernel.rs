//! Our mount against the kernel's own `/sys/kernel/debug/kvm` for the same real VMs:
//! directory names, the file names both have, their modes, and the values of the files the
//! kernel lets us read (under lockdown only 0444 files open; see kvm-stats.md §5).

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;

use statsfs::{Instance, Registry, Source};

#[allow(dead_code)]
mod kvm {
    include!("../../generated/kvm.rs");
}

const DEBUGFS: &str = "/sys/kernel/debug";

fn skip(why: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("kernel comparison cannot run in CI: {why}");
    }
    eprintln!("SKIPPED kernel comparison: {why}");
}

fn debugfs_kvm() -> Result<&'static Path, String> {
    let kvm = Path::new("/sys/kernel/debug/kvm");
    if !kvm.exists() {
        let c = |s: &str| std::ffi::CString::new(s).unwrap();
        let (src, dst, ty) = (c("none"), c(DEBUGFS), c("debugfs"));
        // SAFETY: plain mount(2) with valid C strings and no data.
        let r =
            unsafe { libc::mount(src.as_ptr(), dst.as_ptr(), ty.as_ptr(), 0, std::ptr::null()) };
        if r != 0 {
            return Err(format!(
                "mount debugfs: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    if kvm.exists() {
        Ok(kvm)
    } else {
        Err("debugfs has no kvm directory".into())
    }
}

/// Regular files of a directory with their modes, and its subdirectories.
fn listing(dir: &Path) -> (std::collections::BTreeMap<String, u32>, BTreeSet<String>) {
    let mut files = std::collections::BTreeMap::new();
    let mut dirs = BTreeSet::new();
    for e in fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name().into_string().unwrap();
        let md = e.metadata().unwrap();
        if md.is_dir() {
            dirs.insert(name);
        } else {
            files.insert(name, md.permissions().mode() & 0o7777);
        }
    }
    (files, dirs)
}

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Compares the files of one directory pair: every common file has the same mode, and the
/// differences are exactly the expected ones.
fn compare(
    kernel: &Path,
    ours: &Path,
    kernel_only: &BTreeSet<String>,
    ours_only: &BTreeSet<String>,
) -> usize {
    let (kf, _) = listing(kernel);
    let (of, _) = listing(ours);
    let k: BTreeSet<String> = kf.keys().cloned().collect();
    let o: BTreeSet<String> = of.keys().cloned().collect();
    assert_eq!(
        &k.difference(&o).cloned().collect::<BTreeSet<_>>(),
        kernel_only,
        "{}: only in the kernel",
        kernel.display()
    );
    assert_eq!(
        &o.difference(&k).cloned().collect::<BTreeSet<_>>(),
        ours_only,
        "{}: only in ours",
        ours.display()
    );
    let mut compared = 0;
    for name in k.intersection(&o) {
        assert_eq!(
            format!("{name} {:o}", of[name]),
            format!("{name} {:o}", kf[name]),
            "mode of {}",
            ours.join(name).display()
        );
        // Values where the kernel lets us read (0444 under lockdown).
        if kf[name] & 0o222 == 0 {
            let kv = fs::read_to_string(kernel.join(name)).unwrap();
            let ov = fs::read_to_string(ours.join(name)).unwrap();
            assert_eq!(ov, kv, "value of {name}");
        }
        compared += 1;
    }
    compared
}

#[test]
fn layout_and_modes_match_the_kernels_debugfs() {
    if !Path::new("/dev/kvm").exists() {
        return skip("/dev/kvm does not exist");
    }
    let dbg = match debugfs_kvm() {
        Ok(p) => p,
        Err(e) => return skip(&e),
    };
    let kvm_fd = match kvm_ioctls::Kvm::new() {
        Ok(k) => k,
        Err(e) => return skip(&format!("open /dev/kvm: {e}")),
    };
    // Two real VMs with two vCPUs each, created on this thread.
    // SAFETY: gettid has no preconditions.
    let tid = unsafe { libc::gettid() };
    let mut vms = Vec::new();
    for _ in 0..2 {
        let vm = kvm_fd.create_vm().expect("KVM_CREATE_VM");
        let vcpus: Vec<_> = (0..2)
            .map(|i| vm.create_vcpu(i).expect("KVM_CREATE_VCPU"))
            .collect();
        vms.push((vm, vcpus));
    }

    // Our tree for the same VMs, named as the kernel names it, from schemas/kvm.toml.
    let registry = Registry::new();
    let top = Source::new("kvm").unwrap();
    top.add_aggregate_of::<kvm::VmStats>().unwrap();
    top.add_aggregate_of::<kvm::VcpuStats>().unwrap();
    registry.register(&top).unwrap();
    let mut keep = Vec::new();
    let mut names = Vec::new();
    for (vm, vcpus) in &vms {
        let name = format!("{tid}-{}", vm.as_raw_fd());
        let s = Source::new(&name).unwrap();
        let st = Instance::<kvm::VmStats>::default();
        s.add_instance(&st).unwrap();
        s.add_aggregate_of::<kvm::VcpuStats>().unwrap();
        for i in 0..vcpus.len() {
            let c = Source::new(&format!("vcpu{i}")).unwrap();
            let cs = Instance::<kvm::VcpuStats>::default();
            c.add_instance(&cs).unwrap();
            s.add_child(&c).unwrap();
            keep.push(cs);
        }
        top.add_child(&s).unwrap();
        keep_vm(&mut names, name, st);
    }
    // Made for the mount and removed after it (declared first, dropped last).
    let mp =
        statsfs_fuse::MountPoint::private_in(&std::env::temp_dir(), "statsfs-kernel-").unwrap();
    let dir = mp.path().to_owned();
    let _m = match statsfs_fuse::mount(&registry, &dir, statsfs_fuse::Options::default()) {
        Ok(m) => m,
        Err(e) => return skip(&format!("mount FUSE: {e}")),
    };
    let ours = dir.join("kvm");

    // What the schema deliberately differs in: histograms are not served yet, and
    // mmu_rmaps_stat is a text table, not a statistic. The VMM's mp_state has aggregation
    // `none`, so it has no file here or in the VM directories (only in vcpu<N>/). Stats this
    // kernel lacks (the vendor extras on a mainline kernel) may be ours only.
    let hist = set(&[
        "halt_poll_success_hist",
        "halt_poll_fail_hist",
        "halt_wait_hist",
    ]);
    let (kernel_top, _) = listing(dbg);
    let mut ours_only = set(&[]);
    for extra in ["mmu_kicks_spared", "pf_parked", "pf_park_timeouts"] {
        if !kernel_top.contains_key(extra) {
            ours_only.insert(extra.into());
        }
    }
    let compared_top = compare(dbg, &ours, &hist, &ours_only);
    assert!(
        compared_top >= 58,
        "compared {compared_top} top-level files"
    );
    eprintln!("top level: {compared_top} files compared by name and mode with the kernel's");

    let mut vm_only = hist.clone();
    vm_only.insert("mmu_rmaps_stat".into());
    for (name, _) in &names {
        let kdir = dbg.join(name);
        assert!(kdir.is_dir(), "the kernel has {name}");
        assert!(ours.join(name).is_dir(), "we have {name}");
        assert_eq!(
            fs::metadata(&kdir).unwrap().permissions().mode() & 0o777,
            0o755
        );
        assert_eq!(
            fs::metadata(ours.join(name)).unwrap().permissions().mode() & 0o777,
            0o755
        );
        let compared = compare(&kdir, &ours.join(name), &vm_only, &ours_only);
        assert!(compared >= 58, "compared {compared} files in {name}");
        let (_, kdirs) = listing(&kdir);
        let (_, odirs) = listing(&ours.join(name));
        assert_eq!(kdirs, odirs, "vCPU directories of {name}");
        for v in &kdirs {
            // The kernel keeps no statistics in vcpu<N>/, only pid, guest_mode and
            // tsc-offset (and lapic_timer_advance_ns with an in-kernel LAPIC); guest_mode is
            // in both and must agree.
            let (kf, _) = listing(&kdir.join(v));
            let (of, _) = listing(&ours.join(name).join(v));
            assert_eq!(
                kf.get("guest_mode"),
                of.get("guest_mode"),
                "{name}/{v}/guest_mode mode"
            );
            assert_eq!(
                fs::read_to_string(kdir.join(v).join("guest_mode")).unwrap(),
                fs::read_to_string(ours.join(name).join(v).join("guest_mode")).unwrap()
            );
        }
    }
    // Under lockdown the kernel refuses to open its writable files; ours serve them.
    if let Err(e) = fs::read_to_string(dbg.join("exits")) {
        assert_eq!(
            e.raw_os_error(),
            Some(libc::EPERM),
            "lockdown refuses 0644 files"
        );
        eprintln!("kernel lockdown: 0644 debugfs files are unreadable (EPERM), compared by name and mode only");
    }
    assert_eq!(fs::read_to_string(ours.join("exits")).unwrap(), "0\n");
    drop(keep);
}

fn keep_vm(
    names: &mut Vec<(String, Instance<kvm::VmStats>)>,
    name: String,
    st: Instance<kvm::VmStats>,
) {
    names.push((name, st));
}
