//! What the runtime tells every backend about a value beyond its number: whether it has a
//! file at all (aggregation `none` has no aggregate), what text a file shows (numeric trees
//! show numbers), which unit and kind an aggregate is served with (a sum of booleans is a
//! count), and the binary stats view of a source (kernel layout, fixed header, fresh data).

mod common;

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use common::*;
use statsfs_runtime::kvm_binary::{self, stat_type, unit, StatsFile};

fn vcpu(name: &str, exits: u64, mp_state: u32) -> (Source, Instance<VcpuStats>) {
    let s = Source::new(name).unwrap();
    let st = Instance::new(VcpuStats::default());
    st.exits.add(exits);
    st.mp_state.store(mp_state, Relaxed);
    s.add_instance(&st).unwrap();
    (s, st)
}

fn names(values: Vec<ValueRef>) -> Vec<&'static str> {
    values.iter().map(|v| v.name()).collect()
}

#[test]
fn aggregation_none_has_no_aggregate_file() {
    let kvm = Source::new("kvm").unwrap();
    kvm.add_aggregate(&VCPU).unwrap();
    let (v0, _st) = vcpu("vcpu0", 1, 3);
    kvm.add_child(&v0).unwrap();
    assert_eq!(
        names(kvm.visible_values()),
        ["exits", "halt_wakeup", "guest_mode", "tsc-offset"]
    );
    assert_eq!(
        names(v0.visible_values()),
        [
            "exits",
            "halt_wakeup",
            "guest_mode",
            "mp_state",
            "tsc-offset"
        ]
    );
    assert_eq!(
        kvm.lookup_visible("mp_state").unwrap_err().errno(),
        libc::ENOENT
    );
    assert!(kvm.lookup_path("mp_state").is_err());
    assert!(kvm.lookup_path("vcpu0/mp_state").is_ok());
    // Lookup by name still finds it and it reads 0 (reference §3, NONE).
    assert_eq!(val(&kvm, "mp_state"), 0);
    // Walks leave it out of aggregate groups only.
    struct Names(Vec<(bool, String)>);
    impl Visitor for Names {
        fn group(&mut self, _: &Source, g: &GroupSnapshot<'_>) {
            for (d, _) in g.entries() {
                self.0.push((g.aggregate, d.name.to_string()));
            }
        }
    }
    let mut w = Names(Vec::new());
    kvm.walk(
        WalkOptions {
            include_hidden: true,
        },
        &mut w,
    );
    assert!(!w.0.contains(&(true, "mp_state".into())));
    assert!(w.0.contains(&(false, "mp_state".into())));
    // Nothing to clash with: a simple value of that name may live beside the aggregate.
    static OTHER: ValueSet = ValueSet::new(
        "other",
        "a value named like the aggregate that has no file",
        None,
        &[desc!(U32Stat, v, "mp_state", U32, Sum, Instant)],
    );
    impl_source(&kvm, &OTHER);
    assert_eq!(names(kvm.visible_values()).last(), Some(&"mp_state"));
}

fn impl_source(s: &Source, set: &'static ValueSet) {
    let inst = std::sync::Arc::new(U32Stat::default());
    s.add_values(set, Some(ErasedInstance::from_arc(inst)), false)
        .unwrap();
}

#[test]
fn numeric_trees_show_numbers_where_show_functions_would_print_names() {
    let kvm = Source::new("kvm").unwrap();
    let vm = Source::new("1-2").unwrap();
    let (v0, _st) = vcpu("vcpu0", 1, 3);
    vm.add_child(&v0).unwrap();
    kvm.add_child(&vm).unwrap();
    // A plain tree: the show file of reference §7.
    assert_eq!(text(&v0, "mp_state"), "HALTED\n");
    assert!(!v0.is_numeric());
    // Numeric at the top: every file below reads as a number.
    kvm.set_numeric(true);
    assert!(v0.is_numeric() && vm.is_numeric());
    assert_eq!(text(&v0, "mp_state"), "3\n");
    assert_eq!(text(&v0, "tsc-offset"), "0\n");
    // The descriptor still has its show function for the views that print names.
    let desc = v0.lookup("mp_state").unwrap().desc();
    assert_eq!(desc.text(3), "HALTED\n");
    // Out of the numeric tree, names again.
    assert!(kvm.remove_child(&vm));
    assert_eq!(text(&v0, "mp_state"), "HALTED\n");
}

#[test]
fn aggregates_of_booleans_are_counts() {
    use Aggregation::*;
    for (agg, unit, expected) in [
        (Sum, Unit::BOOLEAN, Unit::NONE),
        (CountZero, Unit::BOOLEAN, Unit::NONE),
        (CountZero, Unit::NANOSECONDS, Unit::NONE),
        (Max, Unit::BOOLEAN, Unit::BOOLEAN),
        (Min, Unit::BOOLEAN, Unit::BOOLEAN),
        (Sum, Unit::NANOSECONDS, Unit::NANOSECONDS),
        (Avg, Unit::BYTES, Unit::BYTES),
    ] {
        assert_eq!(agg.unit_of(unit), expected, "{agg:?} of {unit:?}");
    }
    assert_eq!(CountZero.kind_of(Kind::Cumulative), Kind::Instant);
    assert_eq!(Sum.kind_of(Kind::Peak), Kind::Peak);
    assert_eq!(Max.kind_of(Kind::Instant), Kind::Instant);
    assert!(!None.exists() && Sum.exists() && CountZero.exists());
}

/// A vCPU's `blocking`: a boolean, summed (kernel: "number of vCPUs where it is 1").
#[derive(Default)]
struct Blocking {
    blocking: AtomicBool,
}

fn blocking_set() -> &'static ValueSet {
    static SET: std::sync::OnceLock<&'static ValueSet> = std::sync::OnceLock::new();
    SET.get_or_init(|| {
        ValueSet::owned(
            "blocking",
            "a summed boolean",
            None,
            vec![ValueDesc::new(
                "blocking",
                ValueType::Bool,
                field_access!(Blocking, blocking),
            )
            .kind(Kind::Instant)
            .unit(Unit::BOOLEAN)],
        )
        .leak()
    })
}

#[test]
fn binary_view_has_the_kernels_layout_a_fixed_header_and_fresh_data() {
    let vm = Source::new("1234-5").unwrap();
    vm.add_aggregate(&VCPU).unwrap();
    vm.add_aggregate(blocking_set()).unwrap();
    let (v0, st) = vcpu("vcpu0", 5, 3);
    let b0 = std::sync::Arc::new(Blocking::default());
    b0.blocking.store(true, Relaxed);
    v0.add_values(
        blocking_set(),
        Some(ErasedInstance::from_arc(b0.clone())),
        false,
    )
    .unwrap();
    let (v1, _st1) = vcpu("vcpu1", 2, 0);
    let b1 = std::sync::Arc::new(Blocking::default());
    b1.blocking.store(true, Relaxed);
    v1.add_values(blocking_set(), Some(ErasedInstance::from_arc(b1)), false)
        .unwrap();
    vm.add_child(&v0).unwrap();
    vm.add_child(&v1).unwrap();

    // Ids: the source's name until one is set, once, in KVM's 47 bytes.
    assert_eq!(v0.stats_id(), "vcpu0");
    assert!(v0.set_stats_id("kvm-1234/vcpu-0"));
    assert!(!v0.set_stats_id("kvm-1/vcpu-9"), "set once");
    assert!(!vm.set_stats_id(&"x".repeat(48)), "too long for the format");
    assert!(vm.set_stats_id("kvm-1234"));
    assert_eq!(v0.stats_id(), "kvm-1234/vcpu-0");

    let file = StatsFile::new(&v0);
    let bytes = file.contents();
    assert_eq!(bytes.len() as u64, file.len());
    let layout = kvm_binary::parse_bytes(&bytes).unwrap();
    assert_eq!(layout.id, "kvm-1234/vcpu-0");
    assert_eq!(layout.data_offset, file.data_offset());
    assert_eq!(layout.data_offset, 24 + 48 + 64 * 6);
    let d: Vec<(&str, u32)> = layout
        .descs
        .iter()
        .map(|d| (d.name.as_str(), d.flags))
        .collect();
    assert_eq!(
        d,
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
    assert_eq!(
        again[..file.data_offset() as usize],
        bytes[..file.data_offset() as usize]
    );
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
    let vmf = StatsFile::new(&vm);
    let bytes = vmf.contents();
    let layout = kvm_binary::parse_bytes(&bytes).unwrap();
    assert_eq!(layout.id, "kvm-1234");
    let d: Vec<(&str, u32)> = layout
        .descs
        .iter()
        .map(|d| (d.name.as_str(), d.flags))
        .collect();
    assert_eq!(
        d,
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
