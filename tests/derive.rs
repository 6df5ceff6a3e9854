//! `#[derive(StatsSource)]` through the real tree: exact aggregates, show text, docs and
//! the emitted IR compared with a hand-written table.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering::Relaxed};

use statsfs::{
    field_access, Access, Aggregation, Base, Counter, CustomValue, Gauge, Instance, Kind,
    LocalCounter, Peak, Source, StatsSource, Unit, UnitKind, ValueDesc, ValueSet, ValueType,
};

fn mp_state_name(v: u64) -> &'static str {
    match v {
        0 => "RUNNABLE",
        1 => "UNINITIALIZED",
        3 => "HALTED",
        _ => "UNKNOWN",
    }
}

/// Statistics of one virtual CPU.
///
/// Counted by the vCPU thread.
#[derive(Default, StatsSource)]
#[stats(name = "vcpu", label = "vcpu")]
struct VcpuStats {
    /// VM exits.
    exits: Counter,
    /// Wake-ups from HLT.
    halt_wakeup: LocalCounter,
    /// Time spent halted.
    #[stats(unit = "seconds", exponent = -9)]
    halt_wait_ns: LocalCounter,
    /// 1 while in guest mode.
    #[stats(kind = "instant", aggregation = "count_zero", unit = "boolean")]
    guest_mode: AtomicBool,
    /// Multiprocessing state.
    #[stats(kind = "instant", aggregation = "none", show = mp_state_name)]
    mp_state: AtomicU32,
    /// TSC offset of the guest.
    #[stats(rename = "tsc-offset", aggregation = "min")]
    tsc_offset: i64,
    /// Exits the VMM handled itself, only summed.
    #[stats(hidden)]
    internal_exits: Counter,
    /// Not a statistic.
    #[stats(skip)]
    #[allow(dead_code)]
    scratch: Vec<u8>,
}

#[derive(Default, StatsSource)]
#[stats(name = "vm", label = "vm")]
struct VmStats {
    /// Remote TLB flushes.
    #[stats(clearable = false)]
    remote_tlb_flush: Counter,
    /// 4 KiB pages mapped now.
    #[stats(kind = "instant", unit = "bytes", base = 2, exponent = 12)]
    pages_4k: Gauge,
    /// Longest rmap chain.
    #[stats(kind = "peak", aggregation = "max")]
    max_mmu_rmap_size: Peak,
}

struct Tree {
    kvm: Source,
    vms: Vec<(Source, Instance<VmStats>)>,
    vcpus: Vec<Vec<Instance<VcpuStats>>>,
}

fn tree() -> Tree {
    let kvm = Source::new("kvm").unwrap();
    kvm.add_aggregate_of::<VmStats>().unwrap();
    kvm.add_aggregate_of::<VcpuStats>().unwrap();
    let mut vms = Vec::new();
    let mut vcpus = Vec::new();
    for v in 0..2u64 {
        let vm = Source::new(&format!("100-{}", v + 10)).unwrap();
        let vs = Instance::new(VmStats::default());
        vs.remote_tlb_flush.add(v + 1);
        vs.pages_4k.set(100 * (v + 1));
        vs.max_mmu_rmap_size.record(7 + v);
        vm.add_instance(&vs).unwrap();
        vm.add_aggregate_of::<VcpuStats>().unwrap();
        let mut cs = Vec::new();
        for c in 0..2u64 {
            let s = Source::new(&format!("vcpu{c}")).unwrap();
            let st = Instance::new(VcpuStats {
                tsc_offset: -((v * 10 + c) as i64),
                ..Default::default()
            });
            st.exits.add(v * 100 + c + 1);
            st.halt_wakeup.add(1);
            st.halt_wait_ns.add(1000);
            st.internal_exits.add(2);
            st.guest_mode.store(c == 0, Relaxed);
            s.add_instance(&st).unwrap();
            vm.add_child(&s).unwrap();
            cs.push(st);
        }
        kvm.add_child(&vm).unwrap();
        vms.push((vm, vs));
        vcpus.push(cs);
    }
    Tree { kvm, vms, vcpus }
}

fn text(s: &Source, name: &str) -> String {
    s.lookup(name).unwrap().text()
}

#[test]
fn derived_sets_aggregate_exactly_in_a_kvm_tree() {
    let t = tree();
    // exits: VM 0 has 1 + 2, VM 1 has 101 + 102.
    assert_eq!(text(&t.kvm, "exits"), "206\n");
    assert_eq!(text(&t.vms[1].0, "exits"), "203\n");
    assert_eq!(text(&t.kvm, "halt_wakeup"), "4\n");
    assert_eq!(text(&t.kvm, "halt_wait_ns"), "4000\n");
    assert_eq!(
        text(&t.kvm, "guest_mode"),
        "2\n",
        "count_zero: two vCPUs are not in guest mode"
    );
    assert_eq!(
        text(&t.kvm, "tsc-offset"),
        "-11\n",
        "min over 0, -1, -10, -11"
    );
    assert_eq!(text(&t.vms[0].0, "tsc-offset"), "-1\n");
    assert_eq!(
        text(&t.kvm, "internal_exits"),
        "8\n",
        "hidden values still aggregate"
    );
    assert_eq!(text(&t.kvm, "remote_tlb_flush"), "3\n");
    assert_eq!(text(&t.kvm, "pages_4k"), "300\n");
    assert_eq!(text(&t.kvm, "max_mmu_rmap_size"), "8\n");
    // Show functions give the file text; the aggregate of a `none` value reads 0.
    let v0 = &t.vms[0].0.child("vcpu0").unwrap();
    t.vcpus[0][0].mp_state.store(3, Relaxed);
    assert_eq!(text(v0, "mp_state"), "HALTED\n");
    assert_eq!(v0.lookup("mp_state").unwrap().read(), 3);
    assert_eq!(text(&t.kvm, "mp_state"), "RUNNABLE\n");
    // Modes follow kind and clearability; hidden values have no file.
    let mode = |s: &Source, n: &str| s.lookup(n).unwrap().file_mode();
    assert_eq!(mode(v0, "exits"), 0o644);
    assert_eq!(mode(v0, "halt_wakeup"), 0o644);
    assert_eq!(mode(v0, "guest_mode"), 0o444);
    assert_eq!(mode(v0, "tsc-offset"), 0o444, "a plain i64 cannot clear");
    assert_eq!(
        mode(&t.vms[0].0, "remote_tlb_flush"),
        0o444,
        "clearable = false"
    );
    assert_eq!(
        mode(&t.vms[0].0, "max_mmu_rmap_size"),
        0o644,
        "peaks clear, as KVM's do"
    );
    let files: Vec<&str> = v0.visible_values().iter().map(|v| v.name()).collect();
    assert_eq!(
        files,
        [
            "exits",
            "halt_wakeup",
            "halt_wait_ns",
            "guest_mode",
            "mp_state",
            "tsc-offset"
        ]
    );
    // Clear through the top-level aggregate zeroes every vCPU's counter, nothing else.
    t.kvm.lookup("exits").unwrap().write_text(b"0\n").unwrap();
    assert!(t.vcpus.iter().flatten().all(|s| s.exits.get() == 0));
    assert_eq!(text(&t.kvm, "halt_wakeup"), "4\n");
    let e = t.vms[0]
        .0
        .lookup("remote_tlb_flush")
        .unwrap()
        .write_text(b"0");
    assert!(matches!(e, Err(statsfs::Error::ReadOnly { .. })), "{e:?}");
    assert_eq!(t.vms[0].1.remote_tlb_flush.get(), 1, "nothing changed");
}

#[test]
fn docs_names_units_and_labels_reach_the_ir() {
    let set = VcpuStats::value_set();
    assert_eq!(set.name(), "vcpu");
    assert_eq!(set.label(), Some("vcpu"));
    assert_eq!(
        set.doc(),
        "Statistics of one virtual CPU.\n\nCounted by the vCPU thread."
    );
    let d = &set.values()[2];
    assert_eq!(d.name, "halt_wait_ns");
    assert_eq!(d.doc, "Time spent halted.");
    assert_eq!(d.unit, Unit::NANOSECONDS);
    assert_eq!(set.values()[5].name, "tsc-offset");
    assert_eq!(set.values()[5].ty, ValueType::I64);
    assert!(set.values()[6].hidden);
    assert_eq!(set.values().len(), 7, "the skipped field is not a value");
    let vm = VmStats::value_set();
    assert_eq!(
        vm.values()[1].unit,
        Unit::new(UnitKind::Bytes, Base::Pow2, 12)
    );
    assert!(
        std::ptr::eq(VcpuStats::value_set(), set),
        "one static: identity is stable"
    );
}

/// What the derive must emit for `VmStats`, written by hand. The generator's output for the
/// same schema is compared with the derive's in the same way.
static VM_BY_HAND: ValueSet = ValueSet::new(
    "vm",
    "",
    Some("vm"),
    &[
        ValueDesc {
            name: Cow::Borrowed("remote_tlb_flush"),
            doc: Cow::Borrowed("Remote TLB flushes."),
            ty: ValueType::U64,
            aggregation: Aggregation::Sum,
            kind: Kind::Cumulative,
            unit: Unit::NONE,
            show: None,
            access: field_access!(VmStats, remote_tlb_flush).read_only(),
            hidden: false,
        },
        ValueDesc {
            name: Cow::Borrowed("pages_4k"),
            doc: Cow::Borrowed("4 KiB pages mapped now."),
            ty: ValueType::U64,
            aggregation: Aggregation::Sum,
            kind: Kind::Instant,
            unit: Unit::new(UnitKind::Bytes, Base::Pow2, 12),
            show: None,
            access: field_access!(VmStats, pages_4k),
            hidden: false,
        },
        ValueDesc {
            name: Cow::Borrowed("max_mmu_rmap_size"),
            doc: Cow::Borrowed("Longest rmap chain."),
            ty: ValueType::U64,
            aggregation: Aggregation::Max,
            kind: Kind::Peak,
            unit: Unit::NONE,
            show: None,
            access: field_access!(VmStats, max_mmu_rmap_size),
            hidden: false,
        },
    ],
);

#[test]
fn derived_ir_equals_the_hand_written_table() {
    assert!(VmStats::value_set().same_ir(&VM_BY_HAND));
    assert_eq!(VmStats::value_set().values(), VM_BY_HAND.values());
    // And the comparison can fail: one changed field is a difference.
    let mut changed = VM_BY_HAND.values().to_vec();
    changed[1].kind = Kind::Cumulative;
    assert_ne!(VmStats::value_set().values(), &changed[..]);
    // Identity stays distinct: an aggregate of the hand table does not fold derived groups.
    let p = Source::new("p").unwrap();
    p.add_aggregate(&VM_BY_HAND).unwrap();
    let c = Source::new("c").unwrap();
    let i = Instance::new(VmStats::default());
    i.pages_4k.set(5);
    c.add_instance(&i).unwrap();
    p.add_child(&c).unwrap();
    assert_eq!(text(&p, "pages_4k"), "0\n");
}

/// A signed temperature kept in tenths of a degree, reported in degrees.
#[derive(Default)]
struct Tenths(AtomicI32);

impl CustomValue for Tenths {
    const SIGNED: bool = true;
    const CAN_CLEAR: bool = true;
    fn get(&self) -> u64 {
        (self.0.load(Relaxed) / 10) as i64 as u64
    }
    fn clear(&self) {
        self.0.store(0, Relaxed);
    }
}

#[derive(Default, StatsSource)]
struct SensorStats {
    /// Lowest temperature.
    #[stats(aggregation = "min", clearable)]
    temp: Tenths,
    /// Readings taken.
    readings: Counter,
}

#[test]
fn custom_values_read_and_clear_through_their_trait() {
    let set = SensorStats::value_set();
    assert_eq!(
        set.name(),
        "sensor_stats",
        "default set name: snake_case of the type"
    );
    assert_eq!(set.label(), None);
    assert_eq!(set.values()[0].ty, ValueType::Custom { signed: true });
    assert_eq!(
        set.values()[0].access,
        Access::func(|_, _| 0, Some(|_, _| {}), 0)
    );
    let p = Source::new("sensors").unwrap();
    p.add_aggregate_of::<SensorStats>().unwrap();
    let mut keep = Vec::new();
    for (i, t) in [-125, 231].into_iter().enumerate() {
        let s = Source::new(&format!("s{i}")).unwrap();
        let st = Instance::new(SensorStats::default());
        st.temp.0.store(t, Relaxed);
        s.add_instance(&st).unwrap();
        p.add_child(&s).unwrap();
        keep.push(st);
    }
    assert_eq!(text(&p, "temp"), "-12\n");
    assert_eq!(p.lookup("temp").unwrap().file_mode(), 0o644);
    p.lookup("temp").unwrap().write_text(b"0").unwrap();
    assert!(keep.iter().all(|s| s.temp.0.load(Relaxed) == 0));
}
