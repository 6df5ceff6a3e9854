//! The committed generated modules compile, and TOML → generated Rust → derive → IR gives
//! back exactly what each schema says, value by value.

use statsfs::{Base, Instance, Source, StatsSource, Unit, ValueSet};

#[allow(dead_code)]
mod kvm {
    include!("../generated/kvm.rs");
}
#[allow(dead_code)]
mod net {
    include!("../generated/net.rs");
}
#[allow(dead_code)]
mod vmm {
    include!("../generated/vmm.rs");
}

fn schema(name: &str) -> statsfs_gen::Schema {
    let path = format!("schemas/{name}.toml");
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/").to_owned() + &path)
        .unwrap();
    statsfs_gen::parse(&path, &text).unwrap()
}

fn check(schema: &statsfs_gen::Schema, sets: &[fn() -> &'static ValueSet]) {
    assert_eq!(schema.sets.len(), sets.len());
    for (s, get) in schema.sets.iter().zip(sets) {
        let ir = get();
        assert_eq!(ir.name(), s.name);
        assert_eq!(ir.doc(), s.doc);
        assert_eq!(ir.label(), s.label.as_deref());
        // Histograms are skipped fields: not values of the IR yet.
        let values: Vec<_> = s.values.iter().filter(|v| v.histogram.is_none()).collect();
        assert_eq!(ir.values().len(), values.len(), "set {}", s.name);
        for (v, d) in values.iter().zip(ir.values()) {
            let mut doc = v.doc.clone();
            if let Some(o) = &v.optional {
                doc.push_str(&format!("\n\nOptional: {o}."));
            }
            assert_eq!(d.name, v.name);
            assert_eq!(d.doc, doc, "{}", v.name);
            assert_eq!(d.ty, v.ty, "{}", v.name);
            assert_eq!(d.aggregation, v.aggregation, "{}", v.name);
            assert_eq!(d.kind, v.kind, "{}", v.name);
            assert_eq!(d.unit, Unit::new(v.unit, v.base, v.exponent), "{}", v.name);
            assert_eq!(d.is_clearable(), v.clearable, "{}", v.name);
            assert_eq!(d.file_mode(), v.file_mode(), "{}", v.name);
            assert_eq!(d.hidden, v.hidden, "{}", v.name);
            assert_eq!(d.show.is_some(), v.show.is_some(), "{}", v.name);
        }
    }
}

#[test]
fn kvm_generated_ir_equals_the_schema() {
    check(&schema("kvm"), &kvm::VALUE_SETS);
}

#[test]
fn net_generated_ir_equals_the_schema() {
    check(&schema("net"), &net::VALUE_SETS);
}

#[test]
fn vmm_generated_ir_equals_the_schema() {
    check(&schema("vmm"), &vmm::VALUE_SETS);
}

#[test]
fn generated_kvm_structs_serve_a_tree() {
    let kvm = Source::new("kvm").unwrap();
    kvm.add_aggregate_of::<kvm::VmStats>().unwrap();
    kvm.add_aggregate_of::<kvm::VcpuStats>().unwrap();
    let vm = Source::new("42-7").unwrap();
    let vs = Instance::<kvm::VmStats>::default();
    vs.pages_4k.set(512);
    vm.add_instance(&vs).unwrap();
    kvm.add_child(&vm).unwrap();
    let mut keep = Vec::new();
    for n in 0..2u64 {
        let c = Source::new(&format!("vcpu{n}")).unwrap();
        let st = Instance::<kvm::VcpuStats>::default();
        st.exits.add(100 + n);
        st.halt_wait_ns.add(1_000);
        st.mp_state.store(3, std::sync::atomic::Ordering::Relaxed);
        c.add_instance(&st).unwrap();
        vm.add_child(&c).unwrap();
        keep.push(st);
    }
    assert_eq!(kvm.lookup("exits").unwrap().text(), "201\n");
    assert_eq!(kvm.lookup("halt_wait_ns").unwrap().text(), "2000\n");
    assert_eq!(kvm.lookup("pages_4k").unwrap().text(), "512\n");
    assert_eq!(kvm.lookup("pages_4k").unwrap().file_mode(), 0o444);
    assert_eq!(
        kvm.lookup("max_mmu_rmap_size").unwrap().file_mode(),
        0o644,
        "peaks clear, as in debugfs"
    );
    let v1 = vm.child("vcpu1").unwrap();
    assert_eq!(v1.lookup("mp_state").unwrap().text(), "HALTED\n");
    assert_eq!(kvm::show_vcpu_mp_state(10), "SUSPENDED");
    assert_eq!(kvm::show_vcpu_mp_state(11), "11");
    assert_eq!(
        v1.lookup("halt_wait_hist").unwrap_err().errno(),
        2,
        "histograms are not served yet"
    );
    let unit = kvm::VcpuStats::value_set().values()[4].unit;
    assert_eq!((unit.base, unit.exponent), (Base::Pow10, -9));
}
