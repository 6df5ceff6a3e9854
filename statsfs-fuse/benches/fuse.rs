//! Reading a 64 VM x 8 vCPU tree: every file through the mount (open/read/close each, as
//! `grep -r` does), the whole tree through one bulk file, the kernel's own debugfs files for
//! the same real VMs, and the in-process walk, all in one run. Needs root, /dev/kvm and
//! FUSE; says so and does nothing otherwise.

use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant as Clock};

use criterion::{criterion_group, criterion_main, Criterion};
use statsfs::{Instance, Registry, Source, WalkOptions};

#[allow(dead_code)]
mod kvm {
    include!("../../generated/kvm.rs");
}

const VMS: usize = 64;
const VCPUS: u64 = 8;

/// open + read until EOF + close with raw libc calls, as the floors were measured.
fn read_all(paths: &[CString], buf: &mut [u8]) -> usize {
    let mut total = 0;
    for p in paths {
        // SAFETY: valid C string; the fd is closed below; buf is valid for its length.
        unsafe {
            let fd = libc::open(p.as_ptr(), libc::O_RDONLY);
            assert!(fd >= 0, "open {:?}: {}", p, std::io::Error::last_os_error());
            loop {
                let n = libc::read(fd, buf.as_mut_ptr().cast(), buf.len());
                if n <= 0 {
                    break;
                }
                total += n as usize;
            }
            libc::close(fd);
        }
    }
    total
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let t = e.file_type().unwrap();
        if t.is_dir() {
            files_under(&e.path(), out);
        } else {
            out.push(e.path());
        }
    }
}

fn cstrings(paths: &[PathBuf]) -> Vec<CString> {
    paths
        .iter()
        .map(|p| CString::new(p.to_str().unwrap()).unwrap())
        .collect()
}

/// Pins the calling thread (and threads it spawns later) to `cpus`.
fn pin(cpus: &[usize]) {
    // SAFETY: a zeroed cpu_set_t is valid; CPU_SET writes inside it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &c in cpus {
            libc::CPU_SET(c, &mut set);
        }
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

fn bench(c: &mut Criterion) {
    if !Path::new("/dev/kvm").exists() || !Path::new("/sys/kernel/debug/kvm").exists() {
        eprintln!("SKIPPED fuse bench: needs /dev/kvm and debugfs mounted at /sys/kernel/debug");
        return;
    }
    let k = kvm_ioctls::Kvm::new().expect("/dev/kvm");
    // SAFETY: gettid has no preconditions.
    let tid = unsafe { libc::gettid() };
    let registry = Registry::new();
    let top = Source::new("kvm").unwrap();
    top.add_aggregate_of::<kvm::VmStats>().unwrap();
    top.add_aggregate_of::<kvm::VcpuStats>().unwrap();
    registry.register(&top).unwrap();
    let mut keep_vms = Vec::new();
    let mut keep = Vec::new();
    for _ in 0..VMS {
        let vm = k.create_vm().expect("KVM_CREATE_VM");
        use std::os::unix::io::AsRawFd;
        let s = Source::new(&format!("{tid}-{}", vm.as_raw_fd())).unwrap();
        let st = Instance::<kvm::VmStats>::default();
        s.add_instance(&st).unwrap();
        s.add_aggregate_of::<kvm::VcpuStats>().unwrap();
        for i in 0..VCPUS {
            let fd = vm.create_vcpu(i).expect("KVM_CREATE_VCPU");
            let cs = Source::new(&format!("vcpu{i}")).unwrap();
            let inst = Instance::<kvm::VcpuStats>::default();
            inst.exits.add(i);
            cs.add_instance(&inst).unwrap();
            s.add_child(&cs).unwrap();
            keep.push((fd, inst));
        }
        top.add_child(&s).unwrap();
        keep_vms.push((vm, st));
    }

    // Mount A serves from CPU 0 (the daemon thread inherits the pinning); mount B is free.
    let base = std::env::temp_dir().join(format!("statsfs-bench-{}", std::process::id()));
    let (da, db) = (base.join("pinned"), base.join("free"));
    std::fs::create_dir_all(&da).unwrap();
    std::fs::create_dir_all(&db).unwrap();
    pin(&[0]);
    let ma = statsfs_fuse::mount(&registry, &da, statsfs_fuse::Options::default()).expect("mount");
    pin(&[0, 1]);
    let mb = statsfs_fuse::mount(&registry, &db, statsfs_fuse::Options::default()).expect("mount");

    let mut ours = Vec::new();
    files_under(&da, &mut ours);
    let ours_c = cstrings(&ours);
    let mut kernel = Vec::new();
    files_under(Path::new("/sys/kernel/debug/kvm"), &mut kernel);
    let attempted = kernel.len();
    // Under lockdown only the 0444 files open; keep those (the floors doc's method).
    kernel.retain(|p| std::fs::read(p).is_ok());
    let kernel_c = cstrings(&kernel);
    let free_subset = cstrings(
        &ours
            .iter()
            .map(|p| db.join(p.strip_prefix(&da).unwrap()))
            .take(kernel.len())
            .collect::<Vec<_>>(),
    );
    let mut buf = vec![0u8; 128 * 1024];

    // Round trips per file, counted by the daemon.
    pin(&[0]);
    let before = ma.requests();
    read_all(&ours_c, &mut buf);
    let per_file = (ma.requests() - before) as f64 / ours.len() as f64;
    let bulk = CString::new(da.join(statsfs_fuse::BULK_FILE).to_str().unwrap()).unwrap();
    let before = ma.requests();
    let bulk_bytes = read_all(std::slice::from_ref(&bulk), &mut buf);
    let bulk_requests = ma.requests() - before;
    eprintln!(
        "tree: {} files through the mount, {} readable of {} kernel debugfs files; {:.2} daemon requests per file; \
         bulk file: {} bytes in {} requests",
        ours.len(), kernel.len(), attempted, per_file, bulk_bytes, bulk_requests
    );

    let pass = |paths: &[CString], buf: &mut Vec<u8>, iters: u64| {
        let t = Clock::now();
        for _ in 0..iters {
            std::hint::black_box(read_all(paths, buf));
        }
        t.elapsed()
    };
    let mut g = c.benchmark_group("fuse_tree_64x8");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    pin(&[0]);
    g.bench_function("debugfs_readable_files_pass", |b| {
        b.iter_custom(|n| pass(&kernel_c, &mut buf, n))
    });
    g.bench_function("fuse_all_files_pass_same_cpu", |b| {
        b.iter_custom(|n| pass(&ours_c, &mut buf, n))
    });
    g.bench_function("fuse_bulk_file_whole_tree_same_cpu", |b| {
        b.iter_custom(|n| pass(std::slice::from_ref(&bulk), &mut buf, n))
    });
    g.bench_function("in_process_walk_whole_tree", |b| {
        b.iter(|| std::hint::black_box(top.snapshot(WalkOptions::default())))
    });
    pin(&[0, 1]);
    g.bench_function("fuse_same_file_count_default_scheduling", |b| {
        b.iter_custom(|n| pass(&free_subset, &mut buf, n))
    });
    g.finish();
    eprintln!(
        "per-file denominators: ours {} files, kernel {} files, default-scheduling subset {} files",
        ours_c.len(),
        kernel_c.len(),
        free_subset.len()
    );
    drop((ma, mb, keep, keep_vms));
}

criterion_group!(benches, bench);
criterion_main!(benches);
