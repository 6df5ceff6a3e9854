//! Reference §2-§3: the 64-bit carrier and every aggregation, with the reference's numbers.

mod common;

use std::sync::atomic::*;

use common::*;

fn agg_parent<T: StatsSource>(items: Vec<T>) -> (Source, Vec<Instance<T>>) {
    let p = Source::new("p").unwrap();
    p.add_aggregate_of::<T>().unwrap();
    let insts = children_with(&p, items);
    (p, insts)
}

#[test]
fn worked_example_u8_avg_127_255_is_191() {
    let (p, _i) = agg_parent(vec![U8Stat { v: 127.into() }, U8Stat { v: 255.into() }]);
    assert_eq!(val(&p, "avg"), 191);
    assert_eq!(text(&p, "avg"), "191\n");
    // The sum of u8 values is carried in 64 bits, so it does not wrap at 256.
    assert_eq!(val(&p, "sum"), 382);
}

#[test]
fn worked_example_i32_min_over_min_and_32767() {
    let (p, _i) = agg_parent(vec![
        I32Stat { v: i32::MIN.into() },
        I32Stat { v: 32767.into() },
    ]);
    assert_eq!(val(&p, "min"), 0xFFFF_FFFF_8000_0000);
    assert_eq!(text(&p, "min"), "-2147483648\n");
    assert_eq!(text(&p, "max"), "32767\n");
}

#[test]
fn worked_example_bool_count_zero() {
    let (p, _i) = agg_parent(vec![
        BoolStat { v: true.into() },
        BoolStat { v: false.into() },
    ]);
    assert_eq!(val(&p, "count_zero"), 1);
    assert_eq!(val(&p, "sum"), 1);
    assert_eq!(val(&p, "min"), 0);
    assert_eq!(val(&p, "max"), 1);
}

#[test]
fn carrier_sign_extends_and_zero_extends() {
    let s = Source::new("s").unwrap();
    let i = Instance::new(I32Stat { v: i32::MIN.into() });
    s.add_instance(&i).unwrap();
    assert_eq!(val(&s, "sum"), 0xFFFF_FFFF_8000_0000);
    assert_eq!(text(&s, "sum"), "-2147483648\n");

    let s = Source::new("s").unwrap();
    let u = Instance::new(U32Stat { v: u32::MAX.into() });
    s.add_instance(&u).unwrap();
    assert_eq!(val(&s, "sum"), 0x0000_0000_FFFF_FFFF);
    assert_eq!(text(&s, "sum"), "4294967295\n");

    let s = Source::new("s").unwrap();
    let i8v = Instance::new(I8Stat { v: (-1).into() });
    s.add_instance(&i8v).unwrap();
    assert_eq!(val(&s, "sum"), u64::MAX);
    assert_eq!(text(&s, "sum"), "-1\n");

    let s = Source::new("s").unwrap();
    let b = Instance::new(BoolStat { v: true.into() });
    s.add_instance(&b).unwrap();
    assert_eq!(text(&s, "sum"), "1\n");
}

#[test]
fn unsigned_text_of_a_sign_extended_carrier_is_the_big_number() {
    // The reference's example: the same 64 bits print differently by signedness.
    let d = &U64S.values()[1];
    assert_eq!(d.text(0xFFFF_FFFF_8000_0000), "18446744071562067968\n");
    let d = &I64S.values()[1];
    assert_eq!(d.text(0xFFFF_FFFF_8000_0000), "-2147483648\n");
}

#[test]
fn sum_wraps_modulo_2_pow_64() {
    let (p, _i) = agg_parent(vec![
        U64Stat {
            v: (u64::MAX - 1).into(),
        },
        U64Stat { v: 5.into() },
    ]);
    assert_eq!(val(&p, "sum"), 3);
    let (p, _i) = agg_parent(vec![
        I64Stat { v: i64::MAX.into() },
        I64Stat { v: 1.into() },
    ]);
    assert_eq!(text(&p, "sum"), "-9223372036854775808\n");
}

#[test]
fn signed_avg_truncates_toward_zero() {
    let (p, _i) = agg_parent(vec![I64Stat { v: (-3).into() }, I64Stat { v: (-4).into() }]);
    assert_eq!(text(&p, "avg"), "-3\n");
    let (p, _i) = agg_parent(vec![I16Stat { v: 3.into() }, I16Stat { v: 4.into() }]);
    assert_eq!(text(&p, "avg"), "3\n");
    let (p, _i) = agg_parent(vec![
        I8Stat { v: (-128).into() },
        I8Stat { v: 1.into() },
        I8Stat { v: 0.into() },
    ]);
    // (-128 + 1 + 0) / 3 = -42.33 → -42
    assert_eq!(text(&p, "avg"), "-42\n");
}

#[test]
fn unsigned_min_max_compare_as_unsigned_signed_as_signed() {
    let (p, _i) = agg_parent(vec![
        U64Stat { v: u64::MAX.into() },
        U64Stat { v: 1.into() },
    ]);
    assert_eq!(val(&p, "min"), 1);
    assert_eq!(val(&p, "max"), u64::MAX);
    let (p, _i) = agg_parent(vec![I64Stat { v: (-1).into() }, I64Stat { v: 1.into() }]);
    assert_eq!(text(&p, "min"), "-1\n");
    assert_eq!(text(&p, "max"), "1\n");
}

#[test]
fn count_zero_counts_zero_instances() {
    let (p, _i) = agg_parent(vec![
        U16Stat { v: 0.into() },
        U16Stat { v: 7.into() },
        U16Stat { v: 0.into() },
    ]);
    assert_eq!(val(&p, "count_zero"), 2);
    assert_eq!(val(&p, "none"), 0);
}

#[test]
fn none_aggregation_reads_zero_but_simple_none_reads_the_field() {
    let (p, insts) = agg_parent(vec![U32Stat { v: 9.into() }]);
    assert_eq!(val(&p, "none"), 0);
    let c = &p.children()[0];
    assert_eq!(val(c, "none"), 9);
    drop(insts);
}

/// Empty aggregates give exactly the reference's table, per signedness.
#[test]
fn empty_aggregates() {
    fn check(set: &'static ValueSet, min: u64, max: u64) {
        let p = Source::new("p").unwrap();
        p.add_aggregate(set).unwrap();
        assert_eq!(val(&p, "none"), 0, "{}", set.name());
        assert_eq!(val(&p, "sum"), 0, "{}", set.name());
        assert_eq!(val(&p, "min"), min, "{}", set.name());
        assert_eq!(val(&p, "max"), max, "{}", set.name());
        assert_eq!(val(&p, "avg"), 0, "{}", set.name());
        assert_eq!(val(&p, "count_zero"), 0, "{}", set.name());
    }
    for set in [&U8S, &U16S, &U32S, &U64S, &BOOLS] {
        check(set, u64::MAX, 0);
    }
    for set in [&I8S, &I16S, &I32S, &I64S] {
        check(set, i64::MAX as u64, i64::MIN as u64);
    }
    let p = Source::new("p").unwrap();
    p.add_aggregate(&I32S).unwrap();
    assert_eq!(text(&p, "min"), "9223372036854775807\n");
    assert_eq!(text(&p, "max"), "-9223372036854775808\n");
    p.add_aggregate(&U8S).unwrap_err(); // same file names in one directory
}

#[test]
fn grandchildren_at_any_depth_count() {
    let root = Source::new("root").unwrap();
    root.add_aggregate(&U64S).unwrap();
    let mut cur = root.clone();
    let mut insts = Vec::new();
    for depth in 1..=5u64 {
        let s = Source::new(&format!("d{depth}")).unwrap();
        let i = Instance::new(U64Stat {
            v: (depth * 10).into(),
        });
        s.add_instance(&i).unwrap();
        cur.add_child(&s).unwrap();
        insts.push(i);
        cur = s;
    }
    assert_eq!(val(&root, "sum"), 150);
    assert_eq!(val(&root, "avg"), 30);
    assert_eq!(val(&root, "min"), 10);
    assert_eq!(val(&root, "max"), 50);
}

/// kvm/ aggregates the vCPU set over all VMs; each VM also aggregates it over its vCPUs.
/// The VM-level aggregate groups are skipped by the top-level fold: nothing counts twice.
#[test]
fn intermediate_aggregates_are_not_double_counted() {
    let kvm = Source::new("kvm").unwrap();
    kvm.add_aggregate(&VCPU).unwrap();
    let mut keep = Vec::new();
    for vm in 0..3u64 {
        let vms = Source::new(&format!("100-{vm}")).unwrap();
        vms.add_aggregate(&VCPU).unwrap();
        for c in 0..2u64 {
            let s = Source::new(&format!("vcpu{c}")).unwrap();
            let st = Instance::new(VcpuStats::default());
            st.exits.add(vm * 100 + c + 1);
            s.add_instance(&st).unwrap();
            vms.add_child(&s).unwrap();
            keep.push(st);
        }
        kvm.add_child(&vms).unwrap();
    }
    // VM 0: 1 + 2, VM 1: 101 + 102, VM 2: 201 + 202.
    assert_eq!(val(&kvm, "exits"), 609);
    let vm1 = kvm.child("100-1").unwrap();
    assert_eq!(val(&vm1, "exits"), 203);
}

#[test]
fn aggregate_includes_own_simple_group_and_ignores_siblings_and_parent() {
    let root = Source::new("root").unwrap();
    let a = Source::new("a").unwrap();
    let b = Source::new("b").unwrap();
    root.add_child(&a).unwrap();
    root.add_child(&b).unwrap();
    let ri = Instance::new(U64Stat { v: 1000.into() });
    root.add_values(&U64S, Some(ri.erase()), true).unwrap();
    let ai = Instance::new(U64Stat { v: 7.into() });
    a.add_values(&U64S, Some(ai.erase()), true).unwrap();
    a.add_aggregate(&U64S).unwrap();
    let bi = Instance::new(U64Stat { v: 30.into() });
    b.add_instance(&bi).unwrap();
    assert_eq!(val(&a, "sum"), 7);
    root.add_aggregate(&U64S).unwrap();
    assert_eq!(val(&root, "sum"), 1037);
}

/// The aggregate folds by set identity: another set with the same name is not folded.
#[test]
fn identity_not_name_links_sets() {
    static OTHER: ValueSet = ValueSet::new(
        "U64S",
        "same name, different set",
        None,
        &[desc!(U64Stat, v, "sum", U64, Sum, Cumulative)],
    );
    let p = Source::new("p").unwrap();
    p.add_aggregate(&U64S).unwrap();
    let c = Source::new("c").unwrap();
    let i = Instance::new(U64Stat { v: 5.into() });
    c.add_values(&OTHER, Some(i.erase()), false).unwrap();
    p.add_child(&c).unwrap();
    assert_eq!(val(&p, "sum"), 0);
    assert_eq!(val(&c, "sum"), 5);
}

#[test]
fn hidden_sources_and_groups_still_count() {
    let p = Source::new("p").unwrap();
    p.add_aggregate(&U64S).unwrap();
    let h = Source::new_hidden("h").unwrap();
    let i = Instance::new(U64Stat { v: 4.into() });
    h.add_instance(&i).unwrap();
    let g = Source::new("g").unwrap();
    let j = Instance::new(U64Stat { v: 40.into() });
    g.add_values(&U64S, Some(j.erase()), true).unwrap();
    h.add_child(&g).unwrap();
    p.add_child(&h).unwrap();
    assert_eq!(val(&p, "sum"), 44);
}

#[test]
fn narrow_plain_fields_and_custom_types() {
    #[derive(Debug)]
    struct Plain {
        a: u8,
        b: i16,
        c: u32,
        d: bool,
        e: Temperature,
    }
    #[derive(Debug)]
    struct Temperature(AtomicI64);
    fn get_temp(x: &(dyn std::any::Any + Send + Sync), _: usize) -> u64 {
        x.downcast_ref::<Plain>()
            .map_or(0, |p| p.e.0.load(Ordering::Relaxed) as u64)
    }
    fn clear_temp(x: &(dyn std::any::Any + Send + Sync), _: usize) {
        if let Some(p) = x.downcast_ref::<Plain>() {
            p.e.0.store(0, Ordering::Relaxed);
        }
    }
    static PLAIN: ValueSet = ValueSet::new(
        "plain",
        "",
        None,
        &[
            desc!(Plain, a, "a", U8, Sum, Cumulative),
            desc!(Plain, b, "b", I16, Min, Cumulative),
            desc!(Plain, c, "c", U32, Max, Instant),
            desc!(Plain, d, "d", Bool, CountZero, Instant),
            ValueDesc {
                name: std::borrow::Cow::Borrowed("temp"),
                doc: std::borrow::Cow::Borrowed("custom signed"),
                ty: ValueType::Custom { signed: true },
                aggregation: Aggregation::Min,
                kind: Kind::Cumulative,
                unit: Unit::NONE,
                show: None,
                access: Access::func(get_temp, Some(clear_temp), 0),
                hidden: false,
            },
        ],
    );
    impl StatsSource for Plain {
        fn value_set() -> &'static ValueSet {
            &PLAIN
        }
    }
    let p = Source::new("p").unwrap();
    p.add_aggregate(&PLAIN).unwrap();
    let x = std::sync::Arc::new(Plain {
        a: 200,
        b: -300,
        c: 7,
        d: false,
        e: Temperature((-5).into()),
    });
    let y = std::sync::Arc::new(Plain {
        a: 100,
        b: 5,
        c: u32::MAX,
        d: true,
        e: Temperature(3.into()),
    });
    for (n, i) in [("x", &x), ("y", &y)] {
        let s = Source::new(n).unwrap();
        s.add_arc(i).unwrap();
        p.add_child(&s).unwrap();
    }
    assert_eq!(text(&p, "a"), "300\n");
    assert_eq!(text(&p, "b"), "-300\n");
    assert_eq!(text(&p, "c"), "4294967295\n");
    assert_eq!(text(&p, "d"), "1\n");
    assert_eq!(text(&p, "temp"), "-5\n");
    // Plain fields cannot be cleared; the custom type can.
    assert_eq!(
        p.lookup("a").unwrap().clear().unwrap_err().errno(),
        libc::EPERM
    );
    assert_eq!(p.lookup("a").unwrap().file_mode(), 0o444);
    assert_eq!(p.lookup("temp").unwrap().file_mode(), 0o644);
    p.lookup("temp").unwrap().clear().unwrap();
    assert_eq!(text(&p, "temp"), "0\n");
    assert_eq!(x.e.0.load(Ordering::Relaxed), 0);
    assert_eq!(y.e.0.load(Ordering::Relaxed), 0);
}
