//! The VMM against the kernel, with real VMs: with the vCPUs paused, every imported value
//! equals an independent fresh read of a new stats fd; our per-VM aggregates equal the
//! kernel's debugfs files of the same name where the kernel lets us read them; the KVM binary
//! format round-trips and parses the kernel's real fd.

mod common;

use std::os::fd::AsRawFd;
use std::time::Duration;

use common::{debugfs, fresh, need_kvm};

use statsfs::{GroupKind, Source};
use statsfs_kvm::binary::{self, stat_type, Desc};
use statsfs_kvm::import::{open_stats, value_desc};
use statsfs_kvm::{Options, Vmm};

/// The imported kernel group (`kvm_vm` or `kvm_vcpu`) of a source, as (name, value).
fn imported(s: &Source, set: &str, aggregate: bool) -> Vec<(String, u64)> {
    let g = s
        .groups()
        .into_iter()
        .find(|g| g.set.name() == set && (g.kind == GroupKind::Aggregate) == aggregate)
        .unwrap_or_else(|| panic!("{} has no {set} group", s.name()));
    let mut v = Vec::new();
    s.read_group(g.index, &mut v).unwrap();
    g.set
        .values()
        .iter()
        .map(|d| d.name.to_string())
        .zip(v)
        .collect()
}

#[test]
fn imported_values_equal_the_kernels_own() {
    if !need_kvm() {
        return;
    }
    let opts = Options {
        vms: 2,
        vcpus: 2,
        pace: Some(Duration::from_micros(200)),
        ..Options::default()
    };
    let vmm = Vmm::start(opts).unwrap();
    assert!(vmm.simulated.is_none() && vmm.kernel_stats);
    std::thread::sleep(Duration::from_millis(300));
    vmm.pause();

    let mut all_exits = 0;
    for vm in &vmm.vms {
        // Every vCPU and the VM: imported == a second, independent stats fd.
        for ((vs, st), &fd) in vm.vcpus.iter().zip(vm.vcpu_fds()) {
            let ours = imported(vs, "kvm_vcpu", false);
            assert_eq!(ours, fresh(fd), "{}/{}", vm.source.name(), vs.name());
            let exits = ours.iter().find(|(n, _)| n == "exits").unwrap().1;
            assert!(exits > 0, "the guest ran");
            // The VMM saw every exit that reached user space; the kernel counts those and
            // the ones it handled itself.
            let vmm_exits = st.vmm_exits.get();
            assert!(
                vmm_exits > 0 && exits >= vmm_exits,
                "kernel {exits} vs VMM {vmm_exits}"
            );
            assert_eq!(
                vmm_exits,
                st.vmm_io_out.get()
                    + st.vmm_io_in.get()
                    + st.vmm_mmio_write.get()
                    + st.vmm_mmio_read.get()
                    + st.vmm_hlt.get(),
            );
            all_exits += exits;
        }
        assert_eq!(
            imported(&vm.source, "kvm_vm", false),
            fresh(vm.fd().unwrap().as_raw_fd()),
            "{}",
            vm.source.name()
        );
        // The VM's aggregate of its vCPUs is their sum.
        let agg = imported(&vm.source, "kvm_vcpu", true);
        let sum: u64 = vm
            .vcpus
            .iter()
            .map(|(vs, _)| {
                imported(vs, "kvm_vcpu", false)
                    .iter()
                    .find(|(n, _)| n == "exits")
                    .unwrap()
                    .1
            })
            .sum();
        assert_eq!(agg.iter().find(|(n, _)| n == "exits").unwrap().1, sum);
    }
    assert_eq!(
        imported(&vmm.top, "kvm_vcpu", true)
            .iter()
            .find(|(n, _)| n == "exits")
            .unwrap()
            .1,
        all_exits
    );

    // Against debugfs: the kernel sums vCPU stats per VM there. Only files without write
    // bits open under lockdown.
    if let Some(dbg) = debugfs() {
        let mut compared = 0;
        for vm in &vmm.vms {
            let dir = dbg.join(vm.source.name());
            assert!(dir.is_dir(), "debugfs has {}", dir.display());
            let ours: Vec<(String, u64)> = imported(&vm.source, "kvm_vcpu", true)
                .into_iter()
                .chain(imported(&vm.source, "kvm_vm", false))
                .collect();
            for (name, v) in ours {
                if let Ok(text) = std::fs::read_to_string(dir.join(&name)) {
                    assert_eq!(text.trim(), v.to_string(), "{}/{name}", vm.source.name());
                    compared += 1;
                }
            }
        }
        assert!(
            compared >= 2 * 7,
            "compared {compared} readable debugfs files"
        );
        eprintln!("compared {compared} readable per-VM debugfs files with our aggregates");
        // Top level, when our VMs are the only ones on the host.
        let others = std::fs::read_dir(dbg)
            .unwrap()
            .flatten()
            .filter(|e| e.path().is_dir())
            .count();
        if others == vmm.vms.len() {
            let top = imported(&vmm.top, "kvm_vcpu", true)
                .into_iter()
                .chain(imported(&vmm.top, "kvm_vm", true));
            for (name, v) in top {
                if let Ok(text) = std::fs::read_to_string(dbg.join(&name)) {
                    assert_eq!(text.trim(), v.to_string(), "kvm/{name}");
                }
            }
        }
    }
    vmm.resume();
    vmm.stop();
}

#[test]
fn binary_format_round_trips_and_parses_the_kernels_fd() {
    let descs = vec![
        Desc {
            flags: stat_type::CUMULATIVE,
            exponent: 0,
            size: 1,
            offset: 8,
            bucket_size: 0,
            name: "exits".into(),
        },
        Desc {
            flags: stat_type::INSTANT | binary::unit::BOOLEAN,
            exponent: 0,
            size: 1,
            offset: 0,
            bucket_size: 0,
            name: "blocking".into(),
        },
        Desc {
            flags: stat_type::LOG_HIST | binary::unit::SECONDS,
            exponent: -9,
            size: 4,
            offset: 16,
            bucket_size: 0,
            name: "wait_hist".into(),
        },
    ];
    let data = [1u64, 42, 3, 4, 5, 6];
    let file = binary::encode("kvm-1234/vcpu-0", &descs, &data);
    assert_eq!(file.len(), 24 + 48 + 3 * 64 + 6 * 8, "the kernel's layout");
    let layout = binary::parse_bytes(&file).unwrap();
    assert_eq!(layout.id, "kvm-1234/vcpu-0");
    assert_eq!(layout.descs, descs);
    assert_eq!(layout.data_offset, 24 + 48 + 3 * 64);
    assert_eq!(binary::data_items(&file, &layout), data);
    assert!(
        binary::parse_bytes(&file[..30]).is_err(),
        "truncated input is an error, not a panic"
    );
    // Imported descriptor semantics.
    let d = value_desc(&descs[0], 0).unwrap();
    assert_eq!(
        (d.kind, d.file_mode()),
        (statsfs::Kind::Cumulative, 0o644),
        "clear is emulated, as debugfs clears"
    );
    let d = value_desc(&descs[1], 1).unwrap();
    assert_eq!(
        (d.kind, d.file_mode()),
        (statsfs::Kind::Instant, 0o444),
        "instant values never clear"
    );
    assert!(
        value_desc(&descs[2], 2).is_none(),
        "histograms are not values of the IR yet"
    );

    if !need_kvm() {
        return;
    }
    let kvm = kvm_ioctls::Kvm::new().unwrap();
    let vm = kvm.create_vm().unwrap();
    let vcpu = vm.create_vcpu(3).unwrap();
    // SAFETY: gettid has no preconditions.
    let tid = unsafe { libc::gettid() };
    let (_fd, l) = open_stats(vcpu.as_raw_fd()).unwrap();
    assert_eq!(l.id, format!("kvm-{tid}/vcpu-3"));
    assert!(l.descs.len() >= 45, "{} descriptors", l.descs.len());
    let by = |n: &str| {
        l.descs
            .iter()
            .find(|d| d.name == n)
            .unwrap_or_else(|| panic!("{n}"))
    };
    assert_eq!(
        (
            by("halt_successful_poll").flags,
            by("halt_successful_poll").offset
        ),
        (0x00, 0)
    );
    assert_eq!(
        (by("halt_wait_ns").flags, by("halt_wait_ns").exponent),
        (0x20, -9)
    );
    assert_eq!(
        (
            by("halt_poll_success_hist").flags,
            by("halt_poll_success_hist").size
        ),
        (0x24, 32)
    );
    assert_eq!((by("blocking").flags, by("blocking").offset), (0x41, 824));
    assert_eq!((by("exits").flags, by("exits").offset), (0x00, 904));
    assert_eq!(l.data_offset as usize, 24 + 48 + 64 * l.descs.len());
    let (_vfd, vl) = open_stats(vm.as_raw_fd()).unwrap();
    let v = |n: &str| vl.descs.iter().find(|d| d.name == n).unwrap().offset;
    assert_eq!(
        (v("max_mmu_rmap_size"), v("max_mmu_page_hash_collisions")),
        (112, 104),
        "data order is not descriptor order"
    );
}
