//! Arbitrary bytes written to a value's file, through `ValueRef::write_text` (what the FUSE
//! backend calls with the bytes of a `write(2)`), on a small tree: a clearable counter of a
//! vCPU with a nonzero value, the aggregate over it, and a read-only gauge.
//!
//! Invariants beyond "no panic": the write succeeds and clears exactly when the input
//! trimmed of ASCII whitespace is `0`; otherwise it is EINVAL and the value is unchanged; a
//! write to the read-only value is EACCES whatever the input, and changes nothing.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use statsfs::{Counter, Gauge, Instance, Source, StatsSource};

/// One vCPU.
#[derive(Default, StatsSource)]
#[stats(name = "vcpu", label = "vcpu")]
struct VcpuStats {
    /// VM exits (cumulative, so clearable).
    exits: Counter,
    /// Pages mapped now (instant, so read-only).
    #[stats(kind = "instant")]
    pages: Gauge,
}

struct Tree {
    kvm: Source,
    vcpu: Source,
    stats: Instance<VcpuStats>,
}

fn tree() -> &'static Tree {
    static TREE: OnceLock<Tree> = OnceLock::new();
    TREE.get_or_init(|| {
        let kvm = Source::new("kvm").unwrap();
        kvm.add_aggregate_of::<VcpuStats>().unwrap();
        let vcpu = Source::new("vcpu0").unwrap();
        let stats = Instance::<VcpuStats>::default();
        vcpu.add_instance(&stats).unwrap();
        kvm.add_child(&vcpu).unwrap();
        Tree { kvm, vcpu, stats }
    })
}

fuzz_target!(|data: &[u8]| {
    let t = tree();
    let clears = data.trim_ascii() == b"0";
    // The simple value, then the aggregate (which clears every vCPU below it).
    for (source, name) in [(&t.vcpu, "exits"), (&t.kvm, "exits")] {
        if t.stats.exits.get() == 0 {
            t.stats.exits.add(42); // back to 42 after a clear
        }
        let value = source.lookup(name).unwrap();
        match value.write_text(data) {
            Ok(()) => {
                assert!(clears, "{data:?} accepted as a clear");
                assert_eq!(t.stats.exits.get(), 0, "{data:?} accepted but not cleared");
                assert_eq!(value.text(), "0\n");
            }
            Err(e) => {
                assert!(!clears, "{data:?} refused: {e}");
                assert_eq!(e.errno(), libc::EINVAL, "{data:?}: {e}");
                assert_eq!(t.stats.exits.get(), 42, "{data:?} refused but changed");
            }
        }
    }
    t.stats.pages.set(7);
    let pages = t.vcpu.lookup("pages").unwrap();
    let e = pages.write_text(data).unwrap_err();
    assert_eq!(
        e.errno(),
        libc::EACCES,
        "{data:?} to a read-only value: {e}"
    );
    assert_eq!(pages.text(), "7\n");
});
