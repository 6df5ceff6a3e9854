//! What counting costs a VMM, and what reading the kernel's statistics costs us.
//!
//! 1. VM exits per second of real guests (1 VM x 2 vCPUs, HLT woken at once) with the
//!    VMM's statistics counted vs not counted, alternating in the same run.
//! 2. One full read of all kernel statistics of 8 VMs x 8 vCPUs through the import (one
//!    `pread` per stats fd, values aggregated in the tree) vs reading the kernel's readable
//!    debugfs files for the same VMs.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use statsfs::WalkOptions;
use statsfs_kvm::{Options, Vmm};

/// Exits per second over `window`, measured from the kernel's own exit counters so that
/// "not counted" runs are measured the same way.
fn exit_rate(count: bool, window: Duration) -> f64 {
    let vmm = Vmm::start(Options {
        vms: 1,
        vcpus: 2,
        pace: None,
        count,
        simulate: false,
    })
    .expect("VMM");
    std::thread::sleep(Duration::from_millis(200));
    let exits = || vmm.top.lookup("exits").expect("kernel exits").read();
    let (e0, t0) = (exits(), Instant::now());
    std::thread::sleep(window);
    let rate = (exits() - e0) as f64 / t0.elapsed().as_secs_f64();
    vmm.stop();
    rate
}

fn bench(c: &mut Criterion) {
    if !std::path::Path::new("/dev/kvm").exists()
        || !std::path::Path::new("/sys/kernel/debug/kvm").exists()
    {
        eprintln!("SKIPPED vmm bench: needs /dev/kvm and debugfs at /sys/kernel/debug");
        return;
    }
    // 1. Alternate on/off (order swapped every round), 11 rounds of 2 s each; medians.
    let (mut on, mut off) = (Vec::new(), Vec::new());
    for round in 0..11 {
        if round % 2 == 0 {
            off.push(exit_rate(false, Duration::from_secs(2)));
            on.push(exit_rate(true, Duration::from_secs(2)));
        } else {
            on.push(exit_rate(true, Duration::from_secs(2)));
            off.push(exit_rate(false, Duration::from_secs(2)));
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (m_on, m_off) = (median(&mut on.clone()), median(&mut off.clone()));
    eprintln!("exits/s counting off: {off:.0?} (median {m_off:.0})");
    eprintln!(
        "exits/s counting on:  {on:.0?} (median {m_on:.0}); on/off = {:.4}",
        m_on / m_off
    );

    // 2. 8 VMs x 8 vCPUs, parked so the numbers hold still.
    let vmm = Vmm::start(Options {
        vms: 8,
        vcpus: 8,
        pace: Some(Duration::from_millis(5)),
        count: true,
        simulate: false,
    })
    .expect("VMM");
    std::thread::sleep(Duration::from_millis(200));
    vmm.pause();
    let mut debugfs = Vec::new();
    for vm in &vmm.vms {
        let dir = std::path::Path::new("/sys/kernel/debug/kvm").join(vm.source.name());
        for e in std::fs::read_dir(&dir).expect("VM dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                for f in std::fs::read_dir(&p).expect("vcpu dir").flatten() {
                    if std::fs::read(f.path()).is_ok() {
                        debugfs.push(f.path());
                    }
                }
            } else if std::fs::read(&p).is_ok() {
                debugfs.push(p);
            }
        }
    }
    let imported_values: usize = vmm
        .vms
        .iter()
        .map(|vm| vm.source.snapshot(WalkOptions::default()).groups.len())
        .sum();
    eprintln!("debugfs: {} readable files for the 8 VMs; import: 72 stats fds ({imported_values} groups at VM level)", debugfs.len());
    let mut g = c.benchmark_group("kernel_stats_8x8");
    g.sample_size(30).measurement_time(Duration::from_secs(5));
    g.bench_function("debugfs_readable_files", |b| {
        b.iter(|| {
            for p in &debugfs {
                std::hint::black_box(std::fs::read(p).ok());
            }
        })
    });
    // One consistent read of every imported group: one pread per stats fd.
    let groups: Vec<(statsfs::Source, usize)> = vmm
        .vms
        .iter()
        .flat_map(|vm| std::iter::once(&vm.source).chain(vm.vcpus.iter().map(|(s, _)| s)))
        .flat_map(|s| {
            s.groups()
                .into_iter()
                .filter(|g| {
                    g.set.name().starts_with("kvm_") && g.kind == statsfs::GroupKind::Simple
                })
                .map(move |g| (s.clone(), g.index))
        })
        .collect();
    let values: usize = groups
        .iter()
        .map(|(s, i)| s.groups()[*i].set.values().len())
        .sum();
    eprintln!(
        "import: {} stats fds, {values} values per full read",
        groups.len()
    );
    let mut buf = Vec::new();
    g.bench_function("import_all_kernel_groups", |b| {
        b.iter(|| {
            for (s, i) in &groups {
                buf.clear();
                s.read_group(*i, &mut buf).unwrap();
            }
            std::hint::black_box(&buf);
        })
    });
    g.bench_function("import_whole_tree_snapshot_with_aggregates", |b| {
        b.iter(|| std::hint::black_box(vmm.top.snapshot(WalkOptions::default())))
    });
    g.finish();
    vmm.resume();
    vmm.stop();
}

criterion_group!(benches, bench);
criterion_main!(benches);
