//! Mounts a small KVM-like tree and keeps it counting until Ctrl-C (or SIGTERM) or until
//! the filesystem is unmounted: `cargo run -p statsfs-fuse --example mount_demo [-- DIR]`.
//! Without DIR it mounts on a fresh private directory (statsfs_fuse::mountpoint); DIR
//! must be an empty directory or a new one in an existing directory. On exit the mount
//! and any directory made for it go; on SIGKILL the mount still goes (auto_unmount).

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use statsfs::{Counter, Instance, LocalCounter, Registry, Source, StatsSource};

/// One vCPU.
#[derive(Default, StatsSource)]
#[stats(name = "vcpu", label = "vcpu")]
struct VcpuStats {
    /// VM exits.
    exits: LocalCounter,
    /// Wake-ups from HLT.
    halt_wakeup: Counter,
    /// Multiprocessing state.
    #[stats(kind = "instant", aggregation = "none", show = mp_state)]
    mp_state: AtomicU32,
}

fn mp_state(v: u64) -> &'static str {
    if v == 3 {
        "HALTED"
    } else {
        "RUNNABLE"
    }
}

fn main() -> std::process::ExitCode {
    let dir = match std::env::args_os().nth(1) {
        Some(p) => statsfs_fuse::MountPoint::at(p),
        None => statsfs_fuse::MountPoint::private("statsfs-demo-"),
    };
    let dir = match dir {
        Ok(d) => d,
        Err(e) => {
            eprintln!("mount_demo: cannot mount on {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let registry = Registry::new();
    let kvm = Source::new("kvm").expect("valid name");
    kvm.add_aggregate_of::<VcpuStats>().expect("fresh");
    registry.register(&kvm).expect("fresh");
    let mut stats = Vec::new();
    for vm in 0..2 {
        let v = Source::new(&format!("{}-{}", std::process::id(), vm + 10)).expect("valid name");
        v.add_aggregate_of::<VcpuStats>().expect("fresh");
        for n in 0..2 {
            let c = Source::new(&format!("vcpu{n}")).expect("valid name");
            let st = Instance::<VcpuStats>::default();
            c.add_instance(&st).expect("fresh");
            v.add_child(&c).expect("unique");
            stats.push(st);
        }
        kvm.add_child(&v).expect("unique");
    }
    for (i, st) in stats.into_iter().enumerate() {
        std::thread::spawn(move || loop {
            st.exits.inc();
            if st.exits.get() % 1000 == 0 {
                st.halt_wakeup.inc();
                st.mp_state.store(if i % 2 == 0 { 3 } else { 0 }, Relaxed);
            }
            std::thread::sleep(Duration::from_micros(100));
        });
    }
    let mount = match statsfs_fuse::mount(&registry, dir.path(), statsfs_fuse::Options::default()) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("mount_demo: cannot mount: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    // Stop on Ctrl-C and SIGTERM by returning, which unmounts and removes the directory.
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    if let Err(e) = ctrlc::set_handler(move || s.store(true, Relaxed)) {
        eprintln!("mount_demo: no Ctrl-C handler ({e}); the mount still goes when killed");
    }
    let path = dir.path().display();
    println!("statsfs mounted at {path}: try `ls {path}/kvm`, `cat {path}/kvm/exits`, `echo 0 > {path}/kvm/exits`");
    println!("Ctrl-C to stop");
    while !stop.load(Relaxed) && mount.is_mounted() {
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(mount);
    std::process::ExitCode::SUCCESS
}
