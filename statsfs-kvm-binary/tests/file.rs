//! A source's values as a stats file: the kernel's layout, the id the source was given, a
//! header fixed at creation and a data block read afresh; aggregates of booleans are counts
//! and values without an aggregate have no descriptor.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};

use statsfs::kvm_binary::{self, set_id, stat_type, unit, StatsFile};
use statsfs::{Counter, Instance, LocalCounter, Source, StatsSource};

fn mp_state(v: u64) -> &'static str {
    match v {
        0 => "RUNNABLE",
        3 => "HALTED",
        _ => "OTHER",
    }
}

/// A KVM-like vCPU.
#[derive(Default, StatsSource)]
#[stats(name = "vcpu", label = "vcpu")]
struct Vcpu {
    /// VM exits.
    exits: Counter,
    /// Wakeups.
    halt_wakeup: LocalCounter,
    /// In guest mode.
    #[stats(kind = "instant", aggregation = "count_zero")]
    guest_mode: AtomicBool,
    /// MP state.
    #[stats(kind = "instant", aggregation = "none", show = mp_state)]
    mp_state: AtomicU32,
    /// TSC offset.
    #[stats(rename = "tsc-offset", aggregation = "min")]
    tsc_offset: i64,
}

/// A vCPU's `blocking`: a boolean, summed (the kernel: "number of vCPUs where it is 1").
#[derive(Default, StatsSource)]
#[stats(name = "blocking", label = "vcpu")]
struct Blocking {
    /// 1 while blocked.
    #[stats(kind = "instant", unit = "boolean")]
    blocking: AtomicBool,
}

fn vcpu(name: &str, exits: u64, mp: u32) -> (Source, Instance<Vcpu>, Instance<Blocking>) {
    let s = Source::new(name).unwrap();
    let v = Instance::<Vcpu>::default();
    v.exits.add(exits);
    v.mp_state.store(mp, Relaxed);
    let b = Instance::<Blocking>::default();
    b.blocking.store(true, Relaxed);
    s.add_instance(&v).unwrap();
    s.add_instance(&b).unwrap();
    (s, v, b)
}

fn flags(layout: &kvm_binary::Layout) -> Vec<(&str, u32)> {
    layout
        .descs
        .iter()
        .map(|d| (d.name.as_str(), d.flags))
        .collect()
}

#[test]
fn stats_file_has_the_kernels_layout_a_fixed_header_and_fresh_data() {
    let vm = Source::new("1234-5").unwrap();
    vm.add_aggregate_of::<Vcpu>().unwrap();
    vm.add_aggregate_of::<Blocking>().unwrap();
    let (v0, st, _b0) = vcpu("vcpu0", 5, 3);
    let (v1, _st1, _b1) = vcpu("vcpu1", 2, 0);
    vm.add_child(&v0).unwrap();
    vm.add_child(&v1).unwrap();

    // Ids: the source's name until one is set, once, in KVM's 47 bytes.
    assert_eq!(v0.stats_id(), "vcpu0");
    assert!(set_id(&v0, "kvm-1234/vcpu-0"));
    assert!(!set_id(&v0, "kvm-1/vcpu-9"), "set once");
    assert!(!set_id(&vm, &"x".repeat(48)), "too long for the format");
    assert!(set_id(&vm, "kvm-1234"));
    assert_eq!(v0.stats_id(), "kvm-1234/vcpu-0");

    let file = StatsFile::new(&v0);
    let bytes = file.contents();
    assert_eq!(bytes.len() as u64, file.len());
    let layout = kvm_binary::parse_bytes(&bytes).unwrap();
    assert_eq!(layout.id, "kvm-1234/vcpu-0");
    assert_eq!(layout.data_offset, file.data_offset());
    assert_eq!(layout.data_offset, 24 + 48 + 64 * 6);
    assert_eq!(
        flags(&layout),
        [
            ("exits", stat_type::CUMULATIVE),
            ("halt_wakeup", stat_type::CUMULATIVE),
            ("guest_mode", stat_type::INSTANT),
            ("mp_state", stat_type::INSTANT),
            ("tsc-offset", stat_type::CUMULATIVE),
            ("blocking", stat_type::INSTANT | unit::BOOLEAN),
        ]
    );
    assert_eq!(kvm_binary::data_items(&bytes, &layout), [5, 0, 0, 3, 0, 1]);

    // The data block is read on every read that reaches it; the header never changes.
    st.exits.add(10);
    let again = file.contents();
    let head = file.data_offset() as usize;
    assert_eq!(again[..head], bytes[..head]);
    assert_eq!(
        file.read_at(file.data_offset(), 8),
        15u64.to_ne_bytes(),
        "a pread of the first item alone"
    );
    // Any range reads as the whole file would, straddling header and data included.
    let whole = file.contents();
    for (off, len) in [
        (0, 24),
        (70, 10),
        (file.data_offset() - 3, 11),
        (file.len() - 4, 100),
    ] {
        let end = (off + len).min(file.len()) as usize;
        assert_eq!(
            file.read_at(off, len as usize),
            whole[off as usize..end],
            "{off}+{len}"
        );
    }
    assert!(file.read_at(file.len(), 8).is_empty(), "EOF at the end");
    assert!(file.read_at(u64::MAX, 8).is_empty());

    // The VM's aggregates: mp_state (aggregation none) has no descriptor, and the summed
    // booleans are a count of 2 with no boolean unit, as the kernel's debugfs sum is.
    let bytes = StatsFile::new(&vm).contents();
    let layout = kvm_binary::parse_bytes(&bytes).unwrap();
    assert_eq!(layout.id, "kvm-1234");
    assert_eq!(
        flags(&layout),
        [
            ("exits", stat_type::CUMULATIVE),
            ("halt_wakeup", stat_type::CUMULATIVE),
            ("guest_mode", stat_type::INSTANT),
            ("tsc-offset", stat_type::CUMULATIVE),
            ("blocking", stat_type::INSTANT),
        ]
    );
    assert_eq!(kvm_binary::data_items(&bytes, &layout), [17, 0, 2, 0, 2]);
}
