//! Mounts a small KVM-like tree at a path and keeps it counting until Ctrl-C or until the
//! filesystem is unmounted: `cargo run -p statsfs-fuse --example mount_demo -- /tmp/stats`.

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
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

fn main() -> std::io::Result<()> {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        let p = std::env::temp_dir().join("statsfs-demo");
        p.to_string_lossy().into_owned()
    });
    std::fs::create_dir_all(&path)?;
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
    println!("statsfs mounted at {path}: try `ls {path}/kvm`, `cat {path}/kvm/exits`, `echo 0 > {path}/kvm/exits`");
    println!("unmount with `fusermount3 -u {path}` (or stop this process)");
    statsfs_fuse::mount_blocking(&registry, &path, statsfs_fuse::Options::default())
}
