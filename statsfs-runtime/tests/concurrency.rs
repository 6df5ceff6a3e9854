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
