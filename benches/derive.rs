//! A derived set costs what a hand-written table costs: increments touch the same field type,
//! reads go through the same field-offset accessor. Compared in one run with the hand table
//! and with loading the field directly.

use std::borrow::Cow;
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use statsfs::{
    field_access, Aggregation, Counter, Instance, Kind, Source, StatsSource, Unit, ValueDesc,
    ValueSet, ValueType,
};

/// Derived.
#[derive(Default, StatsSource)]
struct Derived {
    /// Exits.
    exits: Counter,
    /// Halts.
    halts: Counter,
}

/// The same struct with a hand-written table.
#[derive(Default)]
struct Hand {
    exits: Counter,
    halts: Counter,
}

macro_rules! hand_value {
    ($f:ident) => {
        ValueDesc {
            name: Cow::Borrowed(stringify!($f)),
            doc: Cow::Borrowed(""),
            ty: ValueType::U64,
            aggregation: Aggregation::Sum,
            kind: Kind::Cumulative,
            unit: Unit::NONE,
            show: None,
            access: field_access!(Hand, $f),
            hidden: false,
        }
    };
}

static HAND: ValueSet = ValueSet::new("hand", "", None, &[hand_value!(exits), hand_value!(halts)]);

impl StatsSource for Hand {
    fn value_set() -> &'static ValueSet {
        &HAND
    }
}

#[inline(never)]
fn inc(c: &Counter, n: u64) {
    let c = black_box(c);
    for _ in 0..n {
        c.inc();
    }
}

fn tree<T: StatsSource + Default>(n: usize) -> (Source, Vec<Instance<T>>) {
    let root = Source::new("root").unwrap();
    root.add_aggregate_of::<T>().unwrap();
    let insts: Vec<Instance<T>> = (0..n)
        .map(|i| {
            let s = Source::new(&format!("s{i}")).unwrap();
            let inst = Instance::<T>::default();
            s.add_instance(&inst).unwrap();
            root.add_child(&s).unwrap();
            inst
        })
        .collect();
    (root, insts)
}

fn bench(c: &mut Criterion) {
    let d = Instance::new(Derived::default());
    let h = Instance::new(Hand::default());
    let mut g = c.benchmark_group("derive_inc");
    g.bench_function("hand_written", |b| {
        b.iter_custom(|n| {
            let t = std::time::Instant::now();
            inc(&h.exits, n);
            t.elapsed()
        })
    });
    g.bench_function("derived", |b| {
        b.iter_custom(|n| {
            let t = std::time::Instant::now();
            inc(&d.exits, n);
            t.elapsed()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("derive_read_simple");
    let (ds, hs) = (Source::new("d").unwrap(), Source::new("h").unwrap());
    ds.add_instance(&d).unwrap();
    hs.add_instance(&h).unwrap();
    let (dv, hv) = (ds.lookup("halts").unwrap(), hs.lookup("halts").unwrap());
    g.bench_function("direct_field_load", |b| {
        b.iter(|| black_box(&h).halts.get())
    });
    g.bench_function("hand_written", |b| b.iter(|| black_box(&hv).read()));
    g.bench_function("derived", |b| b.iter(|| black_box(&dv).read()));
    g.finish();

    let mut g = c.benchmark_group("derive_aggregate_10k");
    let (dr, _di) = tree::<Derived>(10_000);
    let (hr, hi) = tree::<Hand>(10_000);
    let (da, ha) = (dr.lookup("halts").unwrap(), hr.lookup("halts").unwrap());
    g.bench_function("floor_vec_of_arc", |b| {
        b.iter(|| {
            black_box(&hi)
                .iter()
                .fold(0u64, |a, i| a.wrapping_add(i.halts.get()))
        })
    });
    g.bench_function("hand_written", |b| b.iter(|| black_box(&ha).read()));
    g.bench_function("derived", |b| b.iter(|| black_box(&da).read()));
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
