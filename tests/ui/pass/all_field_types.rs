// Every field type the derive accepts, and a raw identifier field.

use std::sync::atomic::{
    AtomicBool, AtomicI16, AtomicI32, AtomicI64, AtomicI8, AtomicU16, AtomicU32, AtomicU64,
    AtomicU8, Ordering,
};

use statsfs::{
    Counter, CustomValue, Gauge, Instance, LocalCounter, Peak, Source, StatsSource, ValueType,
};

/// A signed, clearable value with its own reading code.
#[derive(Default)]
struct Balance(AtomicI64);

impl CustomValue for Balance {
    const SIGNED: bool = true;
    const CAN_CLEAR: bool = true;
    fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed) as u64
    }
    fn clear(&self) {
        self.0.store(0, Ordering::Relaxed)
    }
}

#[derive(Default, StatsSource)]
struct AllTypes {
    a_u8: u8,
    a_u16: u16,
    a_u32: u32,
    a_u64: u64,
    a_i8: i8,
    a_i16: i16,
    a_i32: i32,
    a_i64: i64,
    a_bool: bool,
    atomic_u8: AtomicU8,
    atomic_u16: AtomicU16,
    atomic_u32: AtomicU32,
    atomic_u64: AtomicU64,
    atomic_i8: AtomicI8,
    atomic_i16: AtomicI16,
    atomic_i32: AtomicI32,
    atomic_i64: std::sync::atomic::AtomicI64,
    atomic_bool: AtomicBool,
    counter: Counter,
    local_counter: LocalCounter,
    #[stats(kind = "instant")]
    gauge: Gauge,
    #[stats(kind = "peak", aggregation = "max")]
    peak: Peak,
    #[stats(clearable)]
    balance: Balance,
    r#type: u32,
}

fn main() {
    let set = <AllTypes as StatsSource>::value_set();
    assert_eq!(set.name(), "all_types");
    assert_eq!(set.values().len(), 24);
    set.validate().unwrap();

    use ValueType::*;
    let expected: [(&str, ValueType, bool); 24] = [
        ("a_u8", U8, false),
        ("a_u16", U16, false),
        ("a_u32", U32, false),
        ("a_u64", U64, false),
        ("a_i8", I8, false),
        ("a_i16", I16, false),
        ("a_i32", I32, false),
        ("a_i64", I64, false),
        ("a_bool", Bool, false),
        ("atomic_u8", U8, true),
        ("atomic_u16", U16, true),
        ("atomic_u32", U32, true),
        ("atomic_u64", U64, true),
        ("atomic_i8", I8, true),
        ("atomic_i16", I16, true),
        ("atomic_i32", I32, true),
        ("atomic_i64", I64, true),
        ("atomic_bool", Bool, true),
        ("counter", U64, true),
        ("local_counter", U64, true),
        ("gauge", U64, false),
        ("peak", U64, true),
        ("balance", Custom { signed: true }, true),
        ("type", U32, false),
    ];
    for (d, (name, ty, clearable)) in set.values().iter().zip(expected) {
        assert_eq!(d.name, name);
        assert_eq!(d.ty, ty, "{name}");
        assert_eq!(d.is_clearable(), clearable, "{name}");
    }

    let stats = Instance::new(AllTypes {
        a_i8: -3,
        r#type: 9,
        ..AllTypes::default()
    });
    stats.atomic_i16.store(-300, Ordering::Relaxed);
    stats.atomic_bool.store(true, Ordering::Relaxed);
    stats.local_counter.add(4);
    stats.peak.record(12);
    stats.balance.0.store(-42, Ordering::Relaxed);
    let src = Source::new("all").unwrap();
    src.add_instance(&stats).unwrap();
    let text = |name: &str| src.lookup(name).unwrap().text();
    assert_eq!(text("a_i8"), "-3\n");
    assert_eq!(text("atomic_i16"), "-300\n");
    assert_eq!(text("atomic_bool"), "1\n");
    assert_eq!(text("local_counter"), "4\n");
    assert_eq!(text("peak"), "12\n");
    assert_eq!(text("balance"), "-42\n");
    assert_eq!(text("type"), "9\n");
    src.lookup("balance").unwrap().clear().unwrap();
    assert_eq!(text("balance"), "0\n");
}
