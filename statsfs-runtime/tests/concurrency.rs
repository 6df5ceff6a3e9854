//! Many threads increment while others read aggregates and add and remove sources: no
//! increment on a live source is lost and nothing panics.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

use common::*;

#[test]
fn increments_survive_churn_and_concurrent_reads() {
    const VMS: usize = 4;
    const VCPUS: usize = 2;
    const INCS: u64 = 100_000;
    const TEMP_EXITS: u64 = 1_000;

    let kvm = Source::new("kvm").unwrap();
    kvm.add_aggregate(&VCPU).unwrap();
    let mut vms = Vec::new();
    let mut stats = Vec::new();
    for v in 0..VMS {
        let vm = Source::new(&format!("1-{v}")).unwrap();
        vm.add_aggregate(&VCPU).unwrap();
        for c in 0..VCPUS {
            let s = Source::new(&format!("vcpu{c}")).unwrap();
            let st = Instance::new(VcpuStats::default());
            s.add_instance(&st).unwrap();
            vm.add_child(&s).unwrap();
            stats.push(st);
        }
        kvm.add_child(&vm).unwrap();
        vms.push(vm);
    }

    let stop = Arc::new(AtomicBool::new(false));
    let max_seen = thread::scope(|scope| {
        // Two writers: each increments the shared counters of every vCPU and the
        // single-writer counters of its own half.
        let writers: Vec<_> = (0..2)
            .map(|w| {
                let stats = &stats;
                scope.spawn(move || {
                    for _ in 0..INCS {
                        for (i, st) in stats.iter().enumerate() {
                            st.exits.inc();
                            if i % 2 == w {
                                st.halt_wakeup.inc();
                            }
                        }
                    }
                })
            })
            .collect();
        // Churn: temporary VMs with vCPUs come and go, some revoked before removal.
        let churn = {
            let (kvm, stop) = (&kvm, &stop);
            scope.spawn(move || {
                let mut round = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let vm = Source::new(&format!("tmp-{round}")).unwrap();
                    vm.add_aggregate(&VCPU).unwrap();
                    let s = Source::new("vcpu0").unwrap();
                    let st = Instance::new(VcpuStats::default());
                    st.exits.add(TEMP_EXITS);
                    s.add_instance(&st).unwrap();
                    vm.add_child(&s).unwrap();
                    kvm.add_child(&vm).unwrap();
                    assert_eq!(vm.lookup("exits").unwrap().read(), TEMP_EXITS);
                    if round % 2 == 0 {
                        s.revoke();
                    }
                    assert!(kvm.remove_child(&vm));
                    round += 1;
                }
                round
            })
        };
        // Reader: aggregates never exceed what can exist.
        let reader = {
            let (kvm, stop) = (&kvm, &stop);
            scope.spawn(move || {
                let exits = kvm.lookup("exits").unwrap();
                let mut max = 0;
                while !stop.load(Ordering::Relaxed) {
                    let v = exits.read();
                    assert!(v <= 2 * INCS * (VMS * VCPUS) as u64 + TEMP_EXITS, "{v}");
                    max = max.max(v);
                    let _ = kvm.snapshot(WalkOptions::default());
                }
                max
            })
        };
        for w in writers {
            w.join().unwrap();
        }
        stop.store(true, Ordering::Relaxed);
        assert!(churn.join().unwrap() > 0);
        reader.join().unwrap()
    });
    assert!(max_seen > 0);

    let n = (VMS * VCPUS) as u64;
    assert_eq!(val(&kvm, "exits"), 2 * INCS * n);
    assert_eq!(val(&kvm, "halt_wakeup"), INCS * n);
    for vm in &vms {
        assert_eq!(val(vm, "exits"), 2 * INCS * VCPUS as u64);
    }
    assert_eq!(kvm.children().len(), VMS);
    for st in &stats {
        assert_eq!(st.exits.get(), 2 * INCS);
        assert_eq!(st.halt_wakeup.get(), INCS);
    }
}

/// Issue 12 item 8(c): with retained totals on, the root's cumulative SUM never goes
/// backwards while vCPUs keep counting and a churn thread removes, re-adds, detaches whole
/// VMs and revokes (in the intended order: remove, stop counting, revoke). Read through a
/// value handle and through a group read (what the walker and binary files use).
#[test]
fn retained_totals_never_decrease_under_churn() {
    use std::sync::Mutex;
    use std::time::{Duration, Instant};
    const RUN: Duration = Duration::from_secs(3);
    const BATCH: u64 = 1_000;

    let kvm = Source::new("kvm").unwrap();
    kvm.set_retain_totals(true);
    kvm.add_aggregate(&VCPU).unwrap();
    let exits_index = VCPU
        .values()
        .iter()
        .position(|d| d.name == "exits")
        .unwrap();
    let group = kvm.groups().last().unwrap().index;
    // A steady VM whose vCPUs count all the time.
    let steady = Source::new("steady").unwrap();
    steady.add_aggregate(&VCPU).unwrap();
    let mut steady_stats = Vec::new();
    for c in 0..2 {
        let s = Source::new(&format!("vcpu{c}")).unwrap();
        let st = Instance::new(VcpuStats::default());
        s.add_instance(&st).unwrap();
        steady.add_child(&s).unwrap();
        steady_stats.push(st);
    }
    kvm.add_child(&steady).unwrap();
    // A churned VM: its vCPU is counted by `churned` while the slot holds it.
    let vm = Source::new("churn").unwrap();
    vm.add_aggregate(&VCPU).unwrap();
    kvm.add_child(&vm).unwrap();
    let slot: Mutex<Option<(Source, Arc<VcpuStats>)>> = Mutex::new(None);

    let stop = AtomicBool::new(false);
    let (reads, decreases, largest, rounds) = thread::scope(|scope| {
        for st in &steady_stats {
            let stop = &stop;
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..BATCH {
                        st.exits.inc();
                    }
                }
            });
        }
        let churned = scope.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                let held = slot.lock().unwrap();
                if let Some((_, st)) = &*held {
                    for _ in 0..BATCH {
                        st.exits.inc();
                    }
                }
                drop(held);
                thread::yield_now();
            }
        });
        let churn = scope.spawn(|| {
            let mut round = 0u64;
            let start = Instant::now();
            while start.elapsed() < RUN {
                let s = Source::new("vcpu0").unwrap();
                let st = Arc::new(VcpuStats::default());
                s.add_arc(&st).unwrap();
                vm.add_child(&s).unwrap();
                *slot.lock().unwrap() = Some((s.clone(), st));
                thread::yield_now();
                // Remove and re-add the vCPU, and the whole VM, while it counts.
                assert!(vm.remove_child(&s));
                thread::yield_now();
                vm.add_child(&s).unwrap();
                assert!(kvm.remove_child(&vm));
                thread::yield_now();
                if round % 2 == 0 {
                    // Nested detach: the vCPU leaves the detached VM.
                    assert!(vm.remove_child(&s));
                    kvm.add_child(&vm).unwrap();
                    thread::yield_now();
                } else {
                    kvm.add_child(&vm).unwrap();
                    thread::yield_now();
                    assert!(vm.remove_child(&s));
                }
                // The intended order: removed, then it stops counting, then revoked.
                *slot.lock().unwrap() = None;
                s.revoke();
                round += 1;
            }
            stop.store(true, Ordering::Relaxed);
            round
        });
        let reader = scope.spawn(|| {
            let exits = kvm.lookup("exits").unwrap();
            let (mut reads, mut decreases, mut largest) = (0u64, 0u64, 0u64);
            let mut last = 0u64;
            let mut buf = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let v = if reads % 2 == 0 {
                    exits.read()
                } else {
                    buf.clear();
                    kvm.read_group(group, &mut buf).unwrap();
                    buf[exits_index]
                };
                if v < last {
                    decreases += 1;
                    largest = largest.max(last - v);
                }
                last = last.max(v);
                reads += 1;
            }
            (reads, decreases, largest)
        });
        let rounds = churn.join().unwrap();
        churned.join().unwrap();
        let (reads, decreases, largest) = reader.join().unwrap();
        (reads, decreases, largest, rounds)
    });
    println!(
        "retained totals under churn: {reads} reads, {rounds} churn rounds, \
         {decreases} decreases (largest {largest})"
    );
    assert!(reads > 0 && rounds > 0);
    assert_eq!(
        (decreases, largest),
        (0, 0),
        "the root's retained SUM went backwards"
    );
}
