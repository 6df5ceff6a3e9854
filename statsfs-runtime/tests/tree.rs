//! Reference §1, §4-§7: groups, lookup, clear, lifecycle, names, hidden, paths and walks.

mod common;

use std::sync::Arc;

use common::*;

fn errno<T: std::fmt::Debug>(r: Result<T>) -> i32 {
    r.unwrap_err().errno()
}

fn vcpu(name: &str, exits: u64) -> (Source, Instance<VcpuStats>) {
    let s = Source::new(name).unwrap();
    let st = Instance::new(VcpuStats::default());
    st.exits.add(exits);
    s.add_instance(&st).unwrap();
    (s, st)
}

// ---- §1 groups -------------------------------------------------------------------------

#[test]
fn duplicate_set_instance_pair_is_eexist_and_changes_nothing() {
    let (s, st) = vcpu("vcpu0", 1);
    assert_eq!(errno(s.add_instance(&st)), libc::EEXIST);
    assert!(matches!(
        s.add_instance(&st),
        Err(Error::GroupExists { .. })
    ));
    assert_eq!(s.groups().len(), 1);
    s.add_aggregate(&VM).unwrap();
    assert_eq!(errno(s.add_aggregate(&VM)), libc::EEXIST);
    assert_eq!(s.groups().len(), 2);
    // The same instance hidden is still the same pair.
    assert_eq!(
        errno(s.add_values(&VCPU, Some(st.erase()), true)),
        libc::EEXIST
    );
}

#[test]
fn same_set_with_other_instances_and_as_aggregate_in_one_source() {
    // Allowed by §1; only one of them may have files, since §7 forbids two files of one name.
    let s = Source::new("s").unwrap();
    let a = Instance::new(U64Stat { v: 5.into() });
    let b = Instance::new(U64Stat { v: 6.into() });
    s.add_instance(&a).unwrap();
    s.add_values(&U64S, Some(b.erase()), true).unwrap();
    s.add_values(&U64S, None, true).unwrap();
    let c = Instance::new(U64Stat { v: 7.into() });
    assert!(matches!(
        s.add_instance(&c),
        Err(Error::NameCollision { .. })
    ));
    assert_eq!(s.groups().len(), 3);
    // Lookup finds the newest group first: the hidden aggregate (5 + 6).
    assert_eq!(val(&s, "sum"), 11);
    assert!(s.lookup("sum").unwrap().is_aggregate());
    // The filesystem view sees only the visible simple group.
    assert_eq!(s.lookup_visible("sum").unwrap().read(), 5);
    assert_eq!(s.visible_values().len(), 6);
    assert_eq!(s.values().len(), 18);
}

#[test]
fn instance_of_the_wrong_type_is_rejected() {
    let s = Source::new("s").unwrap();
    let wrong = Instance::new(U32Stat::default());
    let r = s.add_values(&U64S, Some(wrong.erase()), false);
    assert!(matches!(r, Err(Error::TypeMismatch { .. })));
    assert_eq!(errno(r), libc::EINVAL);
    assert!(s.groups().is_empty());
}

#[test]
fn invalid_value_sets_are_rejected_when_added() {
    static BAD_NAME: ValueSet = ValueSet::new(
        "bad",
        "",
        None,
        &[desc!(U64Stat, v, "a/b", U64, Sum, Cumulative)],
    );
    static DUP: ValueSet = ValueSet::new(
        "dup",
        "",
        None,
        &[
            desc!(U64Stat, v, "x", U64, Sum, Cumulative),
            desc!(U64Stat, v, "x", U64, Max, Cumulative),
        ],
    );
    static WRONG_TYPE: ValueSet = ValueSet::new(
        "wrong",
        "",
        None,
        &[desc!(U64Stat, v, "x", U32, Sum, Cumulative)],
    );
    let s = Source::new("s").unwrap();
    for set in [&BAD_NAME, &DUP, &WRONG_TYPE] {
        let r = s.add_aggregate(set);
        assert!(matches!(r, Err(Error::InvalidSet { .. })), "{r:?}");
        assert_eq!(errno(r), libc::EINVAL);
    }
    assert_eq!(
        WRONG_TYPE.validate().unwrap_err().to_string(),
        "invalid value set \"wrong\": \"x\" is declared u32 but its field is u64"
    );
    assert!(s.groups().is_empty());
}

// ---- §4 lookup -------------------------------------------------------------------------

#[test]
fn lookup_only_in_own_groups_newest_first() {
    let p = Source::new("p").unwrap();
    let (c, _st) = vcpu("vcpu0", 3);
    p.add_child(&c).unwrap();
    assert_eq!(errno(p.lookup("exits")), libc::ENOENT);
    assert_eq!(errno(p.lookup_path("exits")), libc::ENOENT);
    assert_eq!(errno(c.lookup("nope")), libc::ENOENT);
    p.add_aggregate(&VCPU).unwrap();
    assert_eq!(val(&p, "exits"), 3);
    let h = Instance::new(VcpuStats::default());
    h.exits.add(99);
    p.add_values(&VCPU, Some(h.erase()), true).unwrap();
    // Newest first: the hidden simple group wins over the older aggregate.
    assert_eq!(val(&p, "exits"), 99);
    assert!(!p.lookup("exits").unwrap().is_aggregate());
    assert_eq!(p.lookup_visible("exits").unwrap().read(), 102);
}

// ---- §5 clear --------------------------------------------------------------------------

#[test]
fn clear_simple_and_permission_rules() {
    let (s, st) = vcpu("vcpu0", 5);
    st.halt_wakeup.add(2);
    st.guest_mode
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let exits = s.lookup("exits").unwrap();
    assert!(exits.is_clearable());
    assert_eq!(exits.file_mode(), 0o644);
    exits.clear().unwrap();
    assert_eq!(st.exits.get(), 0);
    assert_eq!(st.halt_wakeup.get(), 2, "only the one field is cleared");
    // Instant values are never clearable, even of an atomic type.
    let gm = s.lookup("guest_mode").unwrap();
    assert_eq!(gm.file_mode(), 0o444);
    assert_eq!(errno(gm.clear()), libc::EPERM);
    assert_eq!(gm.read(), 1);
    // Cumulative but a plain i64 field: the type cannot clear.
    let tsc = s.lookup("tsc-offset").unwrap();
    assert_eq!(tsc.file_mode(), 0o444);
    assert_eq!(errno(tsc.clear()), libc::EPERM);
}

#[test]
fn peak_clears_like_the_kernels() {
    let vm = Source::new("vm").unwrap();
    let st = Instance::new(VmStats::default());
    vm.add_instance(&st).unwrap();
    st.max_mmu_rmap_size.record(7);
    st.max_mmu_rmap_size.record(3);
    let v = vm.lookup("max_mmu_rmap_size").unwrap();
    assert_eq!(v.read(), 7);
    assert_eq!(v.file_mode(), 0o644);
    v.write_text(b"0\n").unwrap();
    assert_eq!(st.max_mmu_rmap_size.get(), 0);
    st.max_mmu_rmap_size.record(2);
    assert_eq!(v.read(), 2);
}

#[test]
fn write_text_clears_only_on_zero() {
    let (s, st) = vcpu("vcpu0", 5);
    let exits = s.lookup("exits").unwrap();
    for bad in [
        &b"1"[..],
        b"00",
        b"-0",
        b"0x0",
        b"zero",
        b"",
        b"\n",
        b"0 0",
        b"+0",
    ] {
        let r = exits.write_text(bad);
        assert_eq!(errno(r), libc::EINVAL, "{:?}", String::from_utf8_lossy(bad));
        assert_eq!(st.exits.get(), 5, "nothing changes on {bad:?}");
    }
    for good in [&b"0"[..], b"0\n", b"  0 \t\n"] {
        st.exits.add(1);
        exits.write_text(good).unwrap();
        assert_eq!(st.exits.get(), 0);
    }
    let gm = s.lookup("guest_mode").unwrap();
    assert_eq!(errno(gm.write_text(b"0\n")), libc::EACCES);
    assert_eq!(errno(gm.write_text(b"junk")), libc::EACCES);
}

#[test]
fn aggregate_clear_zeroes_the_whole_subtree_including_hidden() {
    let kvm = Source::new("kvm").unwrap();
    kvm.add_aggregate(&VCPU).unwrap();
    let vm = Source::new("1-2").unwrap();
    vm.add_aggregate(&VCPU).unwrap();
    kvm.add_child(&vm).unwrap();
    let (v0, s0) = vcpu("vcpu0", 10);
    let v1 = Source::new_hidden("vcpu1").unwrap();
    let s1 = Instance::new(VcpuStats::default());
    s1.exits.add(20);
    s1.halt_wakeup.add(4);
    v1.add_instance(&s1).unwrap();
    vm.add_child(&v0).unwrap();
    vm.add_child(&v1).unwrap();
    let (other, s2) = vcpu("other", 30);
    kvm.add_child(&other).unwrap();

    assert_eq!(val(&kvm, "exits"), 60);
    vm.lookup("exits").unwrap().write_text(b"0\n").unwrap();
    assert_eq!((s0.exits.get(), s1.exits.get(), s2.exits.get()), (0, 0, 30));
    assert_eq!(s1.halt_wakeup.get(), 4);
    assert_eq!(val(&kvm, "exits"), 30);
    kvm.lookup("exits").unwrap().clear().unwrap();
    assert_eq!(s2.exits.get(), 0);
    assert_eq!(
        errno(kvm.lookup("guest_mode").unwrap().clear()),
        libc::EPERM
    );
}

// ---- §6 lifecycle ----------------------------------------------------------------------

#[test]
fn remove_child_takes_values_out_at_once_and_readd_restores_them() {
    let p = Source::new("p").unwrap();
    p.add_aggregate(&VCPU).unwrap();
    let (a, _sa) = vcpu("a", 1);
    let (b, _sb) = vcpu("b", 2);
    p.add_child(&a).unwrap();
    p.add_child(&b).unwrap();
    assert_eq!(val(&p, "exits"), 3);
    assert!(p.remove_child(&b));
    assert_eq!(val(&p, "exits"), 1);
    assert!(b.parent().is_none());
    assert!(!p.remove_child(&b), "not a child any more: a no-op");
    let (stranger, _s) = vcpu("stranger", 7);
    assert!(!p.remove_child(&stranger));
    assert_eq!(val(&p, "exits"), 1);
    p.add_child(&b).unwrap();
    assert_eq!(val(&p, "exits"), 3);
    assert!(matches!(p.lookup_path("b/exits"), Ok(Entry::Value(_))));
}

#[test]
fn reparenting_and_cycles_are_rejected() {
    let p = Source::new("p").unwrap();
    let q = Source::new("q").unwrap();
    let c = Source::new("c").unwrap();
    p.add_child(&c).unwrap();
    assert_eq!(errno(q.add_child(&c)), libc::EBUSY);
    assert_eq!(errno(p.add_child(&c)), libc::EBUSY);
    assert_eq!(p.children().len(), 1);
    assert!(q.children().is_empty());
    let g = Source::new("g").unwrap();
    c.add_child(&g).unwrap();
    assert!(matches!(g.add_child(&p), Err(Error::Cycle { .. })));
    assert!(matches!(p.add_child(&p), Err(Error::Cycle { .. })));
    assert!(g.children().is_empty());
}

#[test]
fn revoke_reads_zero_and_contributes_nothing() {
    let kvm = Source::new("kvm").unwrap();
    kvm.add_aggregate(&VCPU).unwrap();
    let vm = Source::new("1-2").unwrap();
    vm.add_aggregate(&VCPU).unwrap();
    let (v0, s0) = vcpu("vcpu0", 10);
    let (v1, _s1) = vcpu("vcpu1", 20);
    vm.add_child(&v0).unwrap();
    vm.add_child(&v1).unwrap();
    kvm.add_child(&vm).unwrap();
    let open_file = v0.lookup("exits").unwrap();
    assert_eq!(open_file.read(), 10);
    v0.revoke();
    assert!(v0.is_revoked());
    assert_eq!(open_file.read(), 0);
    assert_eq!(open_file.text(), "0\n");
    assert_eq!(val(&kvm, "exits"), 20);
    // MIN of the dead instance is gone too, not read as a sentinel.
    assert_eq!(val(&vm, "guest_mode"), 1);
    s0.exits.add(5);
    assert_eq!(val(&vm, "exits"), 20);
    assert_eq!(v0.groups()[0].kind, GroupKind::Dead);
    // Revoking the VM kills its aggregates (read 0) but not its children's values.
    vm.revoke();
    assert_eq!(val(&vm, "exits"), 0);
    assert_eq!(val(&v1, "exits"), 20);
    assert_eq!(val(&kvm, "exits"), 20);
    // Clearing a dead value is allowed and does nothing.
    open_file.clear().unwrap();
}

#[test]
fn retained_totals_keep_cumulative_sums_when_children_leave() {
    let kvm = Source::new("kvm").unwrap();
    kvm.set_retain_totals(true);
    kvm.add_aggregate(&VCPU).unwrap();
    kvm.add_aggregate(&VM).unwrap();
    let vm = Source::new("1-2").unwrap();
    let vms = Instance::new(VmStats::default());
    vms.remote_tlb_flush.add(7);
    vms.pages_4k.set(100);
    vm.add_instance(&vms).unwrap();
    vm.add_aggregate(&VCPU).unwrap();
    kvm.add_child(&vm).unwrap();
    let (v0, s0) = vcpu("vcpu0", 10);
    s0.halt_wakeup.add(3);
    let (v1, _s1) = vcpu("vcpu1", 20);
    vm.add_child(&v0).unwrap();
    vm.add_child(&v1).unwrap();
    assert!(vm.retains_totals(), "inherited from kvm");

    // A vCPU leaves its VM: both the VM and kvm keep its exits.
    assert!(vm.remove_child(&v0));
    assert_eq!(val(&vm, "exits"), 30);
    assert_eq!(val(&vm, "halt_wakeup"), 3);
    assert_eq!(val(&kvm, "exits"), 30);
    // The whole VM leaves: kvm keeps the cumulative sums, not the gauge.
    assert!(kvm.remove_child(&vm));
    assert_eq!(val(&kvm, "exits"), 30);
    assert_eq!(val(&kvm, "remote_tlb_flush"), 7);
    assert_eq!(val(&kvm, "pages_4k"), 0);
    // guest_mode is COUNT_ZERO, not retained: no instances left.
    assert_eq!(val(&kvm, "guest_mode"), 0);
    // Clearing the aggregate clears retained totals as well.
    kvm.lookup("exits").unwrap().write_text(b"0").unwrap();
    assert_eq!(val(&kvm, "exits"), 0);
    assert_eq!(val(&kvm, "halt_wakeup"), 3);

    // Default (reference) behaviour: totals leave with the child.
    let plain = Source::new("plain").unwrap();
    plain.add_aggregate(&VCPU).unwrap();
    let (c, _sc) = vcpu("c", 4);
    plain.add_child(&c).unwrap();
    assert!(!plain.retains_totals());
    plain.remove_child(&c);
    assert_eq!(val(&plain, "exits"), 0);
}

// ---- §7 names, hidden, paths ----------------------------------------------------------

#[test]
fn invalid_names_are_rejected() {
    let long = "x".repeat(256);
    for bad in [
        "",
        ".",
        "..",
        "a/b",
        "/",
        "a\0b",
        long.as_str(),
        ".statsfs",
        ".statsfs-all",
    ] {
        let r = Source::new(bad);
        assert_eq!(errno(r), libc::EINVAL, "{bad:?}");
        assert!(Source::new_hidden(bad).is_err());
    }
    for good in [
        "kvm",
        "1234-5",
        "vcpu0",
        "tsc-offset",
        "...",
        ".hidden",
        &"x".repeat(255),
    ] {
        Source::new(good).unwrap();
    }
    assert_eq!(
        Source::new("a/b").unwrap_err().to_string(),
        "invalid name \"a/b\": contains '/'"
    );
}

#[test]
fn duplicate_file_names_in_one_source_are_rejected() {
    let p = Source::new("p").unwrap();
    let st = Instance::new(VcpuStats::default());
    p.add_instance(&st).unwrap();
    // A child directory called like a value file.
    let exits = Source::new("exits").unwrap();
    assert_eq!(errno(p.add_child(&exits)), libc::EEXIST);
    assert!(exits.parent().is_none());
    // Two visible children of one name collide; a hidden child has no name to collide
    // with, in either order (only visible file names collide, §7).
    p.add_child(&Source::new("c").unwrap()).unwrap();
    assert_eq!(errno(p.add_child(&Source::new("c").unwrap())), libc::EEXIST);
    p.add_child(&Source::new_hidden("c").unwrap()).unwrap();
    let q2 = Source::new("q2").unwrap();
    q2.add_child(&Source::new_hidden("exits").unwrap()).unwrap();
    let st2 = Instance::new(VcpuStats::default());
    q2.add_instance(&st2).unwrap();
    assert_eq!(
        q2.lookup_path("exits")
            .map(|e| matches!(e, Entry::Value(_))),
        Ok(true)
    );
    // A set whose value would be called like a child.
    let q = Source::new("q").unwrap();
    q.add_child(&Source::new("sum").unwrap()).unwrap();
    assert_eq!(errno(q.add_aggregate(&U8S)), libc::EEXIST);
    q.add_values(&U8S, None, true).unwrap();
}

#[test]
fn hidden_sources_have_no_entries_and_neither_do_their_children() {
    let reg = Registry::new();
    let kvm = Source::new("kvm").unwrap();
    reg.register(&kvm).unwrap();
    let h = Source::new_hidden("secret").unwrap();
    let (c, _st) = vcpu("vcpu0", 1);
    h.add_child(&c).unwrap();
    kvm.add_child(&h).unwrap();
    assert!(kvm.visible_children().is_empty());
    assert_eq!(kvm.children().len(), 1);
    assert_eq!(errno(reg.lookup("kvm/secret")), libc::ENOENT);
    assert_eq!(errno(reg.lookup("kvm/secret/vcpu0/exits")), libc::ENOENT);
    assert_eq!(
        errno(reg.lookup("vcpu0")),
        libc::ENOENT,
        "not lifted to the root"
    );
    let snap = reg.root().snapshot(WalkOptions::default());
    assert_eq!(snap.child("kvm").unwrap().children.len(), 0);
    let all = reg.root().snapshot(WalkOptions {
        include_hidden: true,
    });
    let secret = all.child("kvm").unwrap().child("secret").unwrap();
    assert!(secret.hidden);
    assert_eq!(secret.child("vcpu0").unwrap().value("exits"), Some(1));
}

#[test]
fn path_lookup_resolves_like_the_filesystem() {
    let reg = Registry::new();
    let kvm = Source::new("kvm").unwrap();
    kvm.add_aggregate(&VCPU).unwrap();
    reg.register(&kvm).unwrap();
    assert_eq!(errno(reg.register(&kvm)), libc::EBUSY);
    let vm = Source::new("1234-5").unwrap();
    kvm.add_child(&vm).unwrap();
    let (v0, st) = vcpu("vcpu0", 42);
    vm.add_child(&v0).unwrap();
    st.mp_state.store(3, std::sync::atomic::Ordering::Relaxed);

    let Entry::Value(exits) = reg.lookup("kvm/1234-5/vcpu0/exits").unwrap() else {
        panic!("a file")
    };
    assert_eq!(exits.text(), "42\n");
    assert_eq!(exits.source().name(), "vcpu0");
    let Entry::Value(mp) = reg.lookup("/kvm/1234-5/vcpu0/mp_state").unwrap() else {
        panic!("a file")
    };
    assert_eq!(mp.text(), "HALTED\n");
    assert_eq!(mp.read(), 3);
    let Entry::Source(s) = reg.lookup("kvm/1234-5/").unwrap() else {
        panic!("a dir")
    };
    assert!(s.same(&vm));
    let Entry::Value(top) = reg.lookup("kvm/exits").unwrap() else {
        panic!("a file")
    };
    assert_eq!(top.read(), 42);
    assert_eq!(
        errno(reg.lookup("kvm/1234-5/vcpu0/exits/more")),
        libc::ENOENT
    );
    assert_eq!(errno(reg.lookup("kvm/9-9/exits")), libc::ENOENT);
    assert!(reg.unregister(&kvm));
    assert_eq!(errno(reg.lookup("kvm")), libc::ENOENT);
}

#[test]
fn show_function_and_docs_are_carried() {
    let (s, st) = vcpu("vcpu0", 0);
    let mp = s.lookup("mp_state").unwrap();
    assert_eq!(mp.text(), "RUNNABLE\n");
    st.mp_state.store(1, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(mp.text(), "UNINITIALIZED\n");
    st.mp_state.store(77, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(mp.text(), "UNKNOWN\n");
    assert_eq!(mp.desc().doc, "doc of mp_state");
    assert_eq!(mp.set().doc(), "per-vCPU statistics");
    assert_eq!(mp.set().label(), Some("vcpu"));
    // Writes to show files behave as for numeric files: mp_state is instant, so EACCES.
    assert_eq!(errno(mp.write_text(b"0")), libc::EACCES);
}

#[test]
fn walk_visits_parents_first_with_consistent_group_reads() {
    struct Log(Vec<String>);
    impl Visitor for Log {
        fn enter(&mut self, s: &Source, depth: usize) -> bool {
            self.0
                .push(format!("{}enter {}", "  ".repeat(depth), s.name()));
            s.name() != "skipped"
        }
        fn group(&mut self, s: &Source, g: &GroupSnapshot<'_>) {
            self.0.push(format!(
                "{} {}{} {:?}",
                s.name(),
                g.set.name(),
                if g.aggregate { "(agg)" } else { "" },
                g.values
            ));
        }
        fn leave(&mut self, s: &Source, depth: usize) {
            self.0
                .push(format!("{}leave {}", "  ".repeat(depth), s.name()));
        }
    }
    let kvm = Source::new("kvm").unwrap();
    kvm.add_aggregate(&VCPU).unwrap();
    let v0 = Source::new("vcpu0").unwrap();
    let st0 = Instance::new(VcpuStats {
        tsc_offset: -9,
        ..Default::default()
    });
    st0.exits.add(3);
    v0.add_instance(&st0).unwrap();
    let (v1, _st1) = vcpu("vcpu1", 4);
    let skipped = Source::new("skipped").unwrap();
    let (v2, _st2) = vcpu("under-skipped", 100);
    skipped.add_child(&v2).unwrap();
    kvm.add_child(&v0).unwrap();
    kvm.add_child(&v1).unwrap();
    kvm.add_child(&skipped).unwrap();
    let mut log = Log(Vec::new());
    kvm.walk(WalkOptions::default(), &mut log);
    assert_eq!(
        log.0,
        vec![
            "enter kvm".to_string(),
            format!("kvm vcpu(agg) [107, 0, 3, 0, {}]", (-9i64) as u64),
            "  enter vcpu0".into(),
            format!("vcpu0 vcpu [3, 0, 0, 0, {}]", (-9i64) as u64),
            "  leave vcpu0".into(),
            "  enter vcpu1".into(),
            "vcpu1 vcpu [4, 0, 0, 0, 0]".into(),
            "  leave vcpu1".into(),
            "  enter skipped".into(),
            "leave kvm".into(),
        ]
    );
}

#[test]
fn read_group_uses_the_bulk_reader() {
    struct Snap {
        data: [u64; 2],
    }
    fn get(x: &(dyn std::any::Any + Send + Sync), i: usize) -> u64 {
        x.downcast_ref::<Snap>().map_or(0, |s| s.data[i] + 1000)
    }
    fn all(x: &(dyn std::any::Any + Send + Sync), out: &mut [u64]) {
        if let Some(s) = x.downcast_ref::<Snap>() {
            out.copy_from_slice(&s.data);
        }
    }
    let set = ValueSet::owned(
        "snap",
        "built at run time",
        Some("dev".into()),
        vec![
            ValueDesc::new("a", ValueType::U64, Access::func(get, None, 0)),
            ValueDesc::new("b", ValueType::I8, Access::func(get, None, 1)).kind(Kind::Instant),
        ],
    )
    .with_read_all(all)
    .leak();
    let s = Source::new("dev0").unwrap();
    s.add_values(set, Some(Arc::new(Snap { data: [5, 0xFF] }).into()), false)
        .unwrap();
    let mut out = vec![];
    s.read_group(0, &mut out).unwrap();
    // The bulk reader's numbers, extended by type (0xFF as i8 is -1).
    assert_eq!(out, vec![5, u64::MAX]);
    // Single reads go through the per-value getter.
    assert_eq!(val(&s, "a"), 1005);
    assert_eq!(errno(s.read_group(1, &mut out)), libc::ENOENT);
}

#[test]
fn hidden_values_have_no_file_but_still_aggregate_and_clear() {
    static SET: ValueSet = ValueSet::new(
        "h",
        "",
        None,
        &[
            ValueDesc {
                name: std::borrow::Cow::Borrowed("shown"),
                doc: std::borrow::Cow::Borrowed(""),
                ty: ValueType::U64,
                aggregation: Aggregation::Sum,
                kind: Kind::Cumulative,
                unit: Unit::NONE,
                show: None,
                access: field_access!(U64Stat, v),
                hidden: false,
            },
            ValueDesc {
                name: std::borrow::Cow::Borrowed("c0"),
                doc: std::borrow::Cow::Borrowed(""),
                ty: ValueType::U64,
                aggregation: Aggregation::Max,
                kind: Kind::Cumulative,
                unit: Unit::NONE,
                show: None,
                access: field_access!(U64Stat, v),
                hidden: true,
            },
        ],
    );
    let p = Source::new("p").unwrap();
    p.add_aggregate(&SET).unwrap();
    // A hidden value's name does not take a file name: a child may be called like it.
    let c0 = Source::new("c0").unwrap();
    let i = Instance::new(U64Stat { v: 8.into() });
    c0.add_values(&SET, Some(i.erase()), false).unwrap();
    p.add_child(&c0).unwrap();
    assert_eq!(
        p.visible_values()
            .iter()
            .map(|v| v.name())
            .collect::<Vec<_>>(),
        ["shown"]
    );
    assert_eq!(p.values().len(), 2);
    assert_eq!(val(&p, "c0"), 8, "found by plain lookup and aggregated");
    assert_eq!(errno(p.lookup_visible("c0")), libc::ENOENT);
    assert!(matches!(p.lookup_path("c0"), Ok(Entry::Source(_))));
    p.lookup("c0").unwrap().clear().unwrap();
    assert_eq!(i.v.load(std::sync::atomic::Ordering::Relaxed), 0);

    struct Names(Vec<String>);
    impl Visitor for Names {
        fn group(&mut self, s: &Source, g: &GroupSnapshot<'_>) {
            for (d, v) in g.entries() {
                self.0.push(format!("{}/{}={v}", s.name(), d.name));
            }
        }
    }
    let mut n = Names(vec![]);
    p.walk(WalkOptions::default(), &mut n);
    assert_eq!(n.0, ["p/shown=0", "c0/shown=0"]);
    let mut n = Names(vec![]);
    p.walk(
        WalkOptions {
            include_hidden: true,
        },
        &mut n,
    );
    assert_eq!(n.0, ["p/shown=0", "p/c0=0", "c0/shown=0", "c0/c0=0"]);
}

#[test]
fn aggregate_group_reads_use_the_bulk_reader_once_per_instance() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static BULK: AtomicUsize = AtomicUsize::new(0);
    static SINGLE: AtomicUsize = AtomicUsize::new(0);
    struct Dev([u64; 3]);
    fn get(x: &(dyn std::any::Any + Send + Sync), i: usize) -> u64 {
        SINGLE.fetch_add(1, Ordering::Relaxed);
        x.downcast_ref::<Dev>().map_or(0, |d| d.0[i])
    }
    fn all(x: &(dyn std::any::Any + Send + Sync), out: &mut [u64]) {
        BULK.fetch_add(1, Ordering::Relaxed);
        if let Some(d) = x.downcast_ref::<Dev>() {
            out.copy_from_slice(&d.0);
        }
    }
    let set = ValueSet::owned(
        "dev",
        "",
        None,
        vec![
            ValueDesc::new("a", ValueType::U64, Access::func(get, None, 0)),
            ValueDesc::new("b", ValueType::I8, Access::func(get, None, 1))
                .aggregation(Aggregation::Min),
            ValueDesc::new("c", ValueType::U64, Access::func(get, None, 2))
                .aggregation(Aggregation::Max),
        ],
    )
    .with_read_all(all)
    .leak();
    let p = Source::new("p").unwrap();
    p.add_aggregate(set).unwrap();
    for (i, d) in [[1u64, 0xFF, 7], [10, 5, 3], [100, 0x80, 9]]
        .into_iter()
        .enumerate()
    {
        let c = Source::new(&format!("c{i}")).unwrap();
        c.add_values(set, Some(Arc::new(Dev(d)).into()), false)
            .unwrap();
        p.add_child(&c).unwrap();
    }
    let mut out = Vec::new();
    p.read_group(0, &mut out).unwrap();
    // sum 111; min over i8 {-1, 5, -128} = -128; max 9. Same as one value at a time.
    assert_eq!(out, vec![111, (-128i64) as u64, 9]);
    assert_eq!(
        (BULK.load(Ordering::Relaxed), SINGLE.load(Ordering::Relaxed)),
        (3, 0),
        "one bulk read per instance"
    );
    assert_eq!(val(&p, "b"), (-128i64) as u64);
    assert_eq!(val(&p, "c"), 9);
}

#[test]
fn retained_totals_never_double_count_while_children_leave() {
    // Fixed values: with retention on, every read of the top aggregate must give exactly the
    // same total while children are removed; a removed child counted both live (in a stale
    // cached list) and retained would read higher.
    let top = Source::new("top").unwrap();
    top.set_retain_totals(true);
    top.add_aggregate(&VCPU).unwrap();
    let vm = Source::new("vm").unwrap();
    top.add_child(&vm).unwrap();
    let mut kids = Vec::new();
    for i in 0..200u64 {
        let (c, st) = vcpu(&format!("c{i}"), i + 1);
        vm.add_child(&c).unwrap();
        kids.push((c, st));
    }
    let total: u64 = (1..=200).sum();
    let exits = top.lookup("exits").unwrap();
    assert_eq!(exits.read(), total);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let started = std::sync::Barrier::new(2);
    std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut reads = 0u64;
            started.wait();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) || reads < 1000 {
                assert_eq!(exits.read(), total);
                reads += 1;
            }
            reads
        });
        started.wait();
        for (c, _) in &kids {
            assert!(vm.remove_child(c));
            std::thread::yield_now();
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(reader.join().unwrap() > 0);
    });
    assert_eq!(exits.read(), total);
}

#[test]
fn revoke_and_removal_release_instances_at_once() {
    let kvm = Source::new("kvm").unwrap();
    kvm.add_aggregate(&VCPU).unwrap();
    let c = Source::new("c").unwrap();
    let inst = Arc::new(VcpuStats::default());
    c.add_arc(&inst).unwrap();
    kvm.add_child(&c).unwrap();
    assert_eq!(kvm.lookup("exits").unwrap().read(), 0); // the top cache now holds the instance
    assert!(Arc::strong_count(&inst) > 1);
    c.revoke();
    assert_eq!(
        Arc::strong_count(&inst),
        1,
        "revoke released it, with no read in between"
    );
    // Removal too: a live instance leaves every ancestor's cache when its source leaves.
    let d = Source::new("d").unwrap();
    let other = Arc::new(VcpuStats::default());
    d.add_arc(&other).unwrap();
    kvm.add_child(&d).unwrap();
    assert_eq!(kvm.lookup("exits").unwrap().read(), 0);
    assert!(kvm.remove_child(&d));
    drop(d);
    assert_eq!(
        Arc::strong_count(&other),
        1,
        "removal released it, with no read in between"
    );
}

#[test]
fn getters_may_read_the_tree_while_writers_wait() {
    use std::sync::OnceLock;
    static SRC: OnceLock<Source> = OnceLock::new();
    // A derived value: reads another value of the same source from inside its getter.
    fn twice_base(_: &(dyn std::any::Any + Send + Sync), _: usize) -> u64 {
        SRC.get()
            .map_or(0, |s| 2 * s.lookup_visible("base").map_or(0, |v| v.read()))
    }
    fn base(x: &(dyn std::any::Any + Send + Sync), _: usize) -> u64 {
        x.downcast_ref::<u64>().copied().unwrap_or(0)
    }
    let set = ValueSet::owned(
        "derived",
        "",
        None,
        vec![
            ValueDesc::new("base", ValueType::U64, Access::func(base, None, 0)),
            ValueDesc::new("twice", ValueType::U64, Access::func(twice_base, None, 0)),
        ],
    )
    .leak();
    let s = SRC.get_or_init(|| Source::new("s").unwrap());
    s.add_values(set, Some(Arc::new(21u64).into()), false)
        .unwrap();
    let (done, finished) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let twice = SRC.get().unwrap().lookup_visible("twice").unwrap();
        for _ in 0..20_000 {
            assert_eq!(twice.read(), 42);
        }
        let _ = done.send(());
    });
    // A writer keeps queueing on the same source's lock meanwhile.
    let writer = std::thread::spawn(move || {
        for i in 0..2_000u64 {
            SRC.get()
                .unwrap()
                .add_values(set, Some(Arc::new(i).into()), true)
                .unwrap();
        }
    });
    let ok = finished
        .recv_timeout(std::time::Duration::from_secs(30))
        .is_ok();
    assert!(ok, "reader deadlocked against the writer");
    reader.join().unwrap();
    writer.join().unwrap();
}

#[test]
fn retained_totals_step_aside_when_the_child_comes_back() {
    let vm = Source::new("vm").unwrap();
    vm.set_retain_totals(true);
    vm.add_aggregate(&VCPU).unwrap();
    let (c, st) = vcpu("vcpu0", 10);
    vm.add_child(&c).unwrap();
    assert!(vm.remove_child(&c));
    assert_eq!(val(&vm, "exits"), 10, "retained while away");
    st.exits.add(5); // still counting while detached
    vm.add_child(&c).unwrap();
    assert_eq!(val(&vm, "exits"), 15, "live again, not counted twice");
    assert!(vm.remove_child(&c));
    assert_eq!(val(&vm, "exits"), 15);
    // Children that leave and are dropped merge into one store: totals stay exact.
    let mut expect = 15;
    for i in 0..300u64 {
        let (k, _s) = vcpu(&format!("k{i}"), i);
        vm.add_child(&k).unwrap();
        assert!(vm.remove_child(&k));
        expect += i;
    }
    assert_eq!(val(&vm, "exits"), expect);
    // Clearing the aggregate clears every retained store, merged or not.
    vm.lookup("exits").unwrap().write_text(b"0").unwrap();
    assert_eq!(val(&vm, "exits"), 0);
    vm.add_child(&c).unwrap();
    assert_eq!(
        val(&vm, "exits"),
        15,
        "c was detached during the clear: its own count is live"
    );
}

#[test]
fn retained_totals_survive_a_nested_detach_and_a_re_add() {
    // Issue 12 item 8(a): a vCPU leaving a VM that is itself detached must not take its
    // counts out of kvm when the VM comes back.
    let kvm = Source::new("kvm").unwrap();
    kvm.set_retain_totals(true);
    kvm.add_aggregate(&VCPU).unwrap();
    let vm = Source::new("vm").unwrap();
    vm.add_aggregate(&VCPU).unwrap();
    kvm.add_child(&vm).unwrap();
    let (c, st) = vcpu("vcpu0", 10);
    vm.add_child(&c).unwrap();
    assert!(kvm.remove_child(&vm));
    assert_eq!(val(&kvm, "exits"), 10);
    assert!(vm.remove_child(&c));
    kvm.add_child(&vm).unwrap();
    assert_eq!(
        val(&kvm, "exits"),
        10,
        "re-adding the VM must not lower kvm"
    );
    assert_eq!(
        val(&vm, "exits"),
        10,
        "the VM kept its vCPU's total while detached"
    );
    // The vCPU comes back too, having counted 5 more meanwhile: counted once, live.
    st.exits.add(5);
    vm.add_child(&c).unwrap();
    assert_eq!(val(&vm, "exits"), 15);
    assert_eq!(val(&kvm, "exits"), 15);
    // Counts lost while away (a clear of the detached VM, not at or above kvm) stay in kvm.
    assert!(kvm.remove_child(&vm));
    assert!(
        vm.retains_totals(),
        "a subtree removed from a retaining tree keeps retaining"
    );
    vm.lookup("exits").unwrap().clear().unwrap();
    assert_eq!(st.exits.get(), 0);
    st.exits.add(4);
    kvm.add_child(&vm).unwrap();
    assert_eq!(
        val(&kvm, "exits"),
        15,
        "11 kept for what the clear took, 4 live"
    );
    st.exits.add(1);
    assert_eq!(val(&kvm, "exits"), 16);
    assert_eq!(val(&vm, "exits"), 5);
    // Attached to a plain tree, the VM no longer retains.
    assert!(kvm.remove_child(&vm));
    let plain = Source::new("plain").unwrap();
    plain.add_child(&vm).unwrap();
    assert!(!vm.retains_totals());
}

#[test]
fn retained_totals_survive_revoke_of_an_attached_source() {
    // Issue 12 item 8(b): revoking an attached source must neither drop the totals it
    // retained for its removed children nor its own counts, in a retaining ancestor.
    let kvm = Source::new("kvm").unwrap();
    kvm.set_retain_totals(true);
    kvm.add_aggregate(&VCPU).unwrap();
    kvm.add_aggregate(&VM).unwrap();
    let vm = Source::new("vm").unwrap();
    vm.add_aggregate(&VCPU).unwrap();
    let vms = Instance::new(VmStats::default());
    vms.remote_tlb_flush.add(5);
    vm.add_instance(&vms).unwrap();
    kvm.add_child(&vm).unwrap();
    let (c, _st) = vcpu("vcpu0", 10);
    vm.add_child(&c).unwrap();
    assert!(vm.remove_child(&c));
    assert_eq!(val(&kvm, "exits") + val(&kvm, "remote_tlb_flush"), 15);
    vm.revoke();
    assert_eq!(
        val(&kvm, "exits") + val(&kvm, "remote_tlb_flush"),
        15,
        "revoke must not lower kvm"
    );
    assert_eq!((val(&kvm, "exits"), val(&kvm, "remote_tlb_flush")), (10, 5));
    assert_eq!(
        val(&vm, "exits"),
        0,
        "a revoked source reads 0 itself (reference §6)"
    );
    // The kept totals stay in kvm when the revoked VM leaves it.
    assert!(kvm.remove_child(&vm));
    assert_eq!((val(&kvm, "exits"), val(&kvm, "remote_tlb_flush")), (10, 5));
    kvm.lookup("exits").unwrap().clear().unwrap();
    assert_eq!((val(&kvm, "exits"), val(&kvm, "remote_tlb_flush")), (0, 5));
    // Without retention, revoke takes the source's counts out, as the reference says.
    let plain = Source::new("plain").unwrap();
    plain.add_aggregate(&VCPU).unwrap();
    let (d, _sd) = vcpu("d", 7);
    plain.add_child(&d).unwrap();
    d.revoke();
    assert_eq!(val(&plain, "exits"), 0);
}

#[test]
fn revoke_in_a_retaining_tree_runs_getters_outside_the_locks() {
    use std::sync::OnceLock;
    static SRC: OnceLock<Source> = OnceLock::new();
    // A getter that reads its own source: revoke folds it for the retained totals.
    fn twice_base(_: &(dyn std::any::Any + Send + Sync), _: usize) -> u64 {
        SRC.get()
            .map_or(0, |s| 2 * s.lookup_visible("base").map_or(0, |v| v.read()))
    }
    fn base(x: &(dyn std::any::Any + Send + Sync), _: usize) -> u64 {
        x.downcast_ref::<u64>().copied().unwrap_or(0)
    }
    let set = ValueSet::owned(
        "derived",
        "",
        None,
        vec![
            ValueDesc::new("base", ValueType::U64, Access::func(base, None, 0)),
            ValueDesc::new("twice", ValueType::U64, Access::func(twice_base, None, 0)),
        ],
    )
    .leak();
    let top = Source::new("top").unwrap();
    top.set_retain_totals(true);
    top.add_values(set, None, false).unwrap();
    let s = SRC.get_or_init(|| Source::new("s").unwrap());
    s.add_values(set, Some(Arc::new(21u64).into()), false)
        .unwrap();
    top.add_child(s).unwrap();
    assert_eq!(val(&top, "twice"), 42);
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        SRC.get().unwrap().revoke();
        let _ = done.send(());
    });
    let ok = finished
        .recv_timeout(std::time::Duration::from_secs(30))
        .is_ok();
    assert!(ok, "revoke deadlocked on a getter reading its own source");
    assert_eq!((val(&top, "base"), val(&top, "twice")), (21, 42));
}
