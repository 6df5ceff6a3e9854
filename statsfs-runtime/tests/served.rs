//! What the runtime tells every backend about a value beyond its number: whether it has a
//! file at all (aggregation `none` has no aggregate), what text a file shows (numeric trees
//! show numbers), and which unit and kind an aggregate is served with (a sum of booleans is
//! a count). The binary stats view built on this is tested in statsfs-kvm-binary.

mod common;

use std::sync::atomic::Ordering::Relaxed;

use common::*;

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
