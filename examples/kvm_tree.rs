//! The main job, for now: a KVM-like tree (`kvm/<pid>-<fd>/vcpu<N>/`) with several VMs and
//! vCPUs, each vCPU counted by its own thread while the tree is served, then printed with
//! every value as its file would show it.
//!
//! `cargo run --release --example kvm_tree -- --vms 3 --vcpus 4 --millis 500`

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant as Clock};

use statsfs::{
    Counter, Gauge, GroupSnapshot, Instance, LocalCounter, Peak, Registry, Source, StatsSource,
    Visitor, WalkOptions,
};

/// Statistics of one virtual machine.
#[derive(Default, StatsSource)]
#[stats(name = "vm", label = "vm")]
struct VmStats {
    /// Remote TLB flushes.
    remote_tlb_flush: Counter,
    /// 4 KiB mappings now.
    #[stats(kind = "instant")]
    pages_4k: Gauge,
    /// Longest rmap chain seen.
    #[stats(kind = "peak", aggregation = "max")]
    max_mmu_rmap_size: Peak,
}

/// Statistics of one virtual CPU; its thread is the only writer of the local counters.
#[derive(Default, StatsSource)]
#[stats(name = "vcpu", label = "vcpu")]
struct VcpuStats {
    /// VM exits.
    exits: LocalCounter,
    /// Port I/O exits.
    io_exits: LocalCounter,
    /// Wake-ups from HLT.
    halt_wakeup: LocalCounter,
    /// Time spent halted.
    #[stats(unit = "seconds", exponent = -9)]
    halt_wait_ns: LocalCounter,
    /// 1 while the vCPU runs guest code.
    #[stats(kind = "instant", aggregation = "count_zero", unit = "boolean")]
    guest_mode: AtomicBool,
    /// Multiprocessing state.
    #[stats(kind = "instant", aggregation = "none", show = mp_state)]
    mp_state: AtomicU32,
}

fn mp_state(v: u64) -> &'static str {
    match v {
        0 => "RUNNABLE",
        1 => "UNINITIALIZED",
        2 => "INIT_RECEIVED",
        3 => "HALTED",
        _ => "UNKNOWN",
    }
}

struct Args {
    vms: usize,
    vcpus: usize,
    millis: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        vms: 2,
        vcpus: 2,
        millis: 300,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut num = |name: &str| -> Result<u64, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a number"))
        };
        match flag.as_str() {
            "--vms" => a.vms = num("--vms")? as usize,
            "--vcpus" => a.vcpus = num("--vcpus")? as usize,
            "--millis" => a.millis = num("--millis")?,
            "-h" | "--help" => {
                return Err("usage: kvm_tree [--vms N] [--vcpus M] [--millis T]".into())
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(a)
}

/// Prints the tree as `ls -R` plus `cat` would show it.
struct Printer;

impl Visitor for Printer {
    fn enter(&mut self, source: &Source, depth: usize) -> bool {
        if depth > 0 {
            println!("{}{}/", "  ".repeat(depth - 1), source.name());
        }
        true
    }

    fn group(&mut self, source: &Source, g: &GroupSnapshot<'_>) {
        let depth = std::iter::successors(source.parent(), |p| p.parent()).count();
        for (desc, v) in g.entries() {
            let text = desc.text(v);
            println!(
                "{}{:<20} {:>14}   {}{}",
                "  ".repeat(depth),
                desc.name,
                text.trim_end(),
                if g.aggregate { "aggregate " } else { "" },
                format_args!("({:o})", desc.file_mode()),
            );
        }
    }
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let registry = Registry::new();
    let kvm = Source::new("kvm").expect("valid name");
    kvm.add_aggregate_of::<VmStats>().expect("fresh source");
    kvm.add_aggregate_of::<VcpuStats>().expect("fresh source");
    registry.register(&kvm).expect("fresh registry");

    let pid = std::process::id();
    let mut vcpus = Vec::new();
    for vm_index in 0..args.vms {
        // Named as the kernel names VM directories: <tid of the creating thread>-<vm fd>.
        let vm = Source::new(&format!("{pid}-{}", vm_index + 10)).expect("valid name");
        let vm_stats = Instance::new(VmStats::default());
        vm.add_instance(&vm_stats).expect("fresh source");
        vm.add_aggregate_of::<VcpuStats>().expect("fresh source");
        vm_stats.pages_4k.set(256 * (vm_index as u64 + 1));
        for n in 0..args.vcpus {
            let vcpu = Source::new(&format!("vcpu{n}")).expect("valid name");
            let stats = Instance::new(VcpuStats::default());
            vcpu.add_instance(&stats).expect("fresh source");
            vm.add_child(&vcpu).expect("unique name");
            vcpus.push((vm_stats.clone(), stats));
        }
        kvm.add_child(&vm).expect("unique name");
    }

    // Each vCPU thread simulates guest exits: port I/O, halts and wake-ups.
    let deadline = Clock::now() + Duration::from_millis(args.millis);
    thread::scope(|s| {
        for (i, (vm, st)) in vcpus.iter().enumerate() {
            s.spawn(move || {
                let mut round = 0u64;
                while Clock::now() < deadline {
                    st.guest_mode.store(true, Ordering::Relaxed);
                    st.exits.inc();
                    st.io_exits.inc();
                    if round % 16 == 15 {
                        st.mp_state.store(3, Ordering::Relaxed);
                        st.halt_wait_ns.add(1_000 + i as u64);
                        st.halt_wakeup.inc();
                        st.mp_state.store(0, Ordering::Relaxed);
                        vm.remote_tlb_flush.inc();
                        vm.max_mmu_rmap_size.record(round % 97);
                    }
                    round += 1;
                }
                st.guest_mode.store(i % 2 == 0, Ordering::Relaxed);
            });
        }
        // Meanwhile, read the top-level aggregate as a monitoring client would.
        let exits = kvm.lookup("exits").expect("aggregate present");
        let mut reads = 0u64;
        while Clock::now() < deadline {
            std::hint::black_box(exits.read());
            reads += 1;
        }
        eprintln!(
            "read kvm/exits {reads} times while {} vCPU threads ran",
            vcpus.len()
        );
    });

    println!(
        "/sys/kernel/stats (statsfs {} VMs x {} vCPUs)",
        args.vms, args.vcpus
    );
    registry.root().walk(WalkOptions::default(), &mut Printer);
}
