//! A VMM's own statistics from a TOML schema, generated at build time and used like
//! hand-written structs: counted on the hot path, served by the tree.

use statsfs::{Instance, Source};

/// The generated module: `VmmVmStats`, `VmmVcpuStats`, `show_vmm_vcpu_vmm_last_exit`,
/// `VALUE_SETS`.
mod stats {
    include!(concat!(env!("OUT_DIR"), "/vmm.rs"));
}

fn build(vcpus: u32) -> (Source, Vec<Instance<stats::VmmVcpuStats>>) {
    let vm = Source::new("1234-5").expect("valid name");
    let vm_stats = Instance::<stats::VmmVmStats>::default();
    vm_stats
        .vmm_vcpus
        .store(vcpus, std::sync::atomic::Ordering::Relaxed);
    vm.add_instance(&vm_stats).expect("fresh source");
    vm.add_aggregate_of::<stats::VmmVcpuStats>()
        .expect("fresh source");
    let mut all = Vec::new();
    for n in 0..vcpus {
        let s = Source::new(&format!("vcpu{n}")).expect("valid name");
        let st = Instance::<stats::VmmVcpuStats>::default();
        s.add_instance(&st).expect("fresh source");
        vm.add_child(&s).expect("unique name");
        all.push(st);
    }
    (vm, all)
}

fn main() {
    let (vm, vcpus) = build(2);
    for (i, st) in vcpus.iter().enumerate() {
        st.vmm_exits.add(10 * (i as u64 + 1));
        st.vmm_io_out.add(3);
        st.vmm_last_exit
            .store(2, std::sync::atomic::Ordering::Relaxed);
    }
    for name in ["vmm_vcpus", "vmm_exits", "vmm_io_out", "vmm_last_exit"] {
        print!(
            "{name} {}",
            vm.lookup(name).expect("declared in the schema").text()
        );
    }
    let v0 = vm.child("vcpu0").expect("created above");
    print!(
        "vcpu0/vmm_last_exit {}",
        v0.lookup("vmm_last_exit").expect("declared").text()
    );
    println!(
        "{} value sets from schemas/vmm.toml",
        stats::VALUE_SETS.len()
    );
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU32;

    use statsfs::{LocalCounter, StatsSource};

    use super::*;

    // What the schema's `vmm_vcpu` set says, written with the derive by hand.
    #[derive(Default, StatsSource)]
    #[stats(name = "vmm_vcpu", label = "vcpu")]
    /// One virtual CPU as its VMM thread sees it; only that thread writes.
    struct ByHand {
        /// Returns from KVM_RUN handled by the VMM.
        vmm_exits: LocalCounter,
        /// Port I/O reads (KVM_EXIT_IO, direction in).
        vmm_io_in: LocalCounter,
        /// Port I/O writes (KVM_EXIT_IO, direction out).
        vmm_io_out: LocalCounter,
        /// MMIO reads (KVM_EXIT_MMIO).
        vmm_mmio_read: LocalCounter,
        /// MMIO writes (KVM_EXIT_MMIO).
        vmm_mmio_write: LocalCounter,
        /// HLT exits (KVM_EXIT_HLT).
        vmm_hlt: LocalCounter,
        /// Times the VMM woke a halted vCPU.
        vmm_wakeups: LocalCounter,
        /// Time spent inside KVM_RUN.
        #[stats(unit = "seconds", exponent = -9)]
        vmm_run_ns: LocalCounter,
        /// Reason of the last exit (`KVM_EXIT_*`). The `kvm/` tree is numeric, so its file reads the number; the bulk file, JSON and `statsfs top` show the name. No aggregate: a sum of exit reasons means nothing.
        #[stats(kind = "instant", aggregation = "none", show = name_of_exit)]
        vmm_last_exit: AtomicU32,
    }

    fn name_of_exit(v: u64) -> String {
        v.to_string()
    }

    #[test]
    fn generated_set_has_the_same_ir_as_the_hand_derived_one() {
        let generated = stats::VmmVcpuStats::value_set();
        let by_hand = ByHand::value_set();
        // Field offsets belong to different structs, so compare everything but the owner.
        assert_eq!(generated.name(), by_hand.name());
        assert_eq!(generated.doc(), by_hand.doc());
        assert_eq!(generated.label(), by_hand.label());
        assert_eq!(generated.values().len(), by_hand.values().len());
        for (g, h) in generated.values().iter().zip(by_hand.values()) {
            assert_eq!(
                (
                    &g.name,
                    &g.doc,
                    g.ty,
                    g.aggregation,
                    g.kind,
                    g.unit,
                    g.show.is_some(),
                    g.hidden
                ),
                (
                    &h.name,
                    &h.doc,
                    h.ty,
                    h.aggregation,
                    h.kind,
                    h.unit,
                    h.show.is_some(),
                    h.hidden
                ),
            );
            assert_eq!(g.is_clearable(), h.is_clearable(), "{}", g.name);
        }
    }

    #[test]
    fn generated_structs_count_and_show() {
        let (vm, vcpus) = build(3);
        vcpus[1].vmm_exits.add(7);
        vcpus[2]
            .vmm_last_exit
            .store(6, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(vm.lookup("vmm_exits").unwrap().text(), "7\n");
        assert_eq!(vm.lookup("vmm_vcpus").unwrap().text(), "3\n");
        let v2 = vm.child("vcpu2").unwrap();
        assert_eq!(v2.lookup("vmm_last_exit").unwrap().text(), "MMIO\n");
        vcpus[2]
            .vmm_last_exit
            .store(99, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(v2.lookup("vmm_last_exit").unwrap().text(), "99\n");
        assert_eq!(stats::VALUE_SETS.len(), 2);
        assert_eq!(stats::VALUE_SETS[1]().name(), "vmm_vcpu");
        assert_eq!(vm.lookup("vmm_run_ns").unwrap().file_mode(), 0o644);
    }
}
