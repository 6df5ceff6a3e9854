// Every struct attribute (`name`, `label`, `crate`) and every field attribute (`aggregation`,
// `kind`, `unit`, `base`, `exponent`, `show`, `rename`, `clearable`, `clearable = false`,
// `skip`, `hidden`) at least once, checked in the emitted value set and through a source.

use statsfs::{Aggregation, Base, Counter, Gauge, Instance, Kind, Peak, Source, UnitKind};

// `crate = "..."` names the facade through another path.
mod facade {
    pub use statsfs as reexported;
}

fn mp_state(v: u64) -> &'static str {
    match v {
        0 => "RUNNABLE",
        _ => "HALTED",
    }
}

fn owned_text(v: u64) -> String {
    format!("state-{v}")
}

#[derive(Default, statsfs::StatsSource)]
#[stats(name = "vcpu", label = "vcpu", crate = "crate::facade::reexported")]
struct VcpuStats {
    exits: Counter,
    #[stats(aggregation = "max", kind = "peak", clearable)]
    max_pages: Peak,
    #[stats(
        aggregation = "avg",
        kind = "instant",
        unit = "bytes",
        base = 2,
        exponent = 10
    )]
    memory_kib: Gauge,
    #[stats(unit = "seconds", exponent = -9, rename = "halt-wait-ns", clearable)]
    halt_wait_ns: Counter,
    #[stats(aggregation = "none", kind = "instant", show = mp_state)]
    mp_state: Gauge,
    #[stats(kind = "instant", show = owned_text, aggregation = "min")]
    state: Gauge,
    #[stats(clearable = false, unit = "cycles")]
    tsc_offset: Counter,
    #[stats(aggregation = "count_zero", kind = "instant", unit = "boolean")]
    running: std::sync::atomic::AtomicBool,
    #[stats(hidden)]
    internal: Counter,
    #[stats(skip)]
    #[allow(dead_code)]
    scratch: Vec<u8>,
}

fn main() {
    let set = <VcpuStats as statsfs::StatsSource>::value_set();
    assert_eq!(set.name(), "vcpu");
    assert_eq!(set.label(), Some("vcpu"));
    assert_eq!(set.values().len(), 9, "the skipped field is not a value");
    set.validate().unwrap();

    let names: Vec<&str> = set.values().iter().map(|d| &*d.name).collect();
    assert_eq!(
        names,
        [
            "exits",
            "max_pages",
            "memory_kib",
            "halt-wait-ns",
            "mp_state",
            "state",
            "tsc_offset",
            "running",
            "internal"
        ]
    );
    let d = |name: &str| &set.values()[set.position(name).unwrap()];

    assert_eq!(d("exits").aggregation, Aggregation::Sum);
    assert_eq!(d("exits").kind, Kind::Cumulative);
    assert_eq!(d("exits").unit, statsfs::Unit::NONE);
    assert!(d("exits").is_clearable());

    assert_eq!(d("max_pages").aggregation, Aggregation::Max);
    assert_eq!(d("max_pages").kind, Kind::Peak);
    assert!(d("max_pages").is_clearable(), "peaks clear, as KVM's do");

    let mem = d("memory_kib");
    assert_eq!(
        (mem.aggregation, mem.kind),
        (Aggregation::Avg, Kind::Instant)
    );
    assert_eq!(
        (mem.unit.kind, mem.unit.base, mem.unit.exponent),
        (UnitKind::Bytes, Base::Pow2, 10)
    );

    assert_eq!(d("halt-wait-ns").unit, statsfs::Unit::NANOSECONDS);
    assert!(d("halt-wait-ns").is_clearable());

    assert_eq!(d("mp_state").aggregation, Aggregation::None);
    assert!(d("mp_state").show.is_some());
    assert_eq!(d("state").aggregation, Aggregation::Min);

    assert_eq!(d("tsc_offset").unit, statsfs::Unit::CYCLES);
    assert!(
        !d("tsc_offset").is_clearable(),
        "clearable = false makes it read-only"
    );

    assert_eq!(d("running").aggregation, Aggregation::CountZero);
    assert_eq!(d("running").unit, statsfs::Unit::BOOLEAN);

    assert!(d("internal").hidden);
    assert!(!d("exits").hidden);

    // Through the tree: show functions, rename, hidden and clear as a backend sees them.
    let stats = Instance::<VcpuStats>::default();
    let vcpu = Source::new("vcpu0").unwrap();
    vcpu.add_instance(&stats).unwrap();
    stats.mp_state.set(1);
    stats.state.set(7);
    stats.halt_wait_ns.add(5);
    stats.internal.inc();
    assert_eq!(vcpu.lookup("mp_state").unwrap().text(), "HALTED\n");
    assert_eq!(vcpu.lookup("state").unwrap().text(), "state-7\n");
    assert_eq!(vcpu.lookup("halt-wait-ns").unwrap().text(), "5\n");
    assert_eq!(vcpu.lookup("internal").unwrap().text(), "1\n");
    assert!(vcpu.lookup_visible("internal").is_err());
    vcpu.lookup("halt-wait-ns").unwrap().clear().unwrap();
    assert_eq!(stats.halt_wait_ns.get(), 0);
    assert!(vcpu.lookup("tsc_offset").unwrap().clear().is_err());
}
