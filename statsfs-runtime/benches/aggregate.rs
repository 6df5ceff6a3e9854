//! Aggregate reads over 1k, 10k and 100k instances against the floor: summing the same field
//! over a `Vec` of the same `Arc`'d instances by hand, in the same run.

use std::borrow::Cow;
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use statsfs_runtime::{
    field_access, Aggregation, Counter, Instance, Kind, Source, Unit, ValueDesc, ValueSet,
    ValueType,
};

/// 512 bytes, the summed field at offset 136 (field 17 of 64), as in the floor measurement.
#[repr(C)]
struct Wide {
    before: [u64; 17],
    x: Counter,
    after: [u64; 46],
}

static WIDE: ValueSet = ValueSet::new(
    "wide",
    "",
    None,
    &[ValueDesc {
        name: Cow::Borrowed("x"),
        doc: Cow::Borrowed(""),
        ty: ValueType::U64,
        aggregation: Aggregation::Sum,
        kind: Kind::Cumulative,
        unit: Unit::NONE,
        show: None,
        access: field_access!(Wide, x),
        hidden: false,
    }],
);

/// kvm/ → N/8 VMs → 8 vCPUs each, every vCPU one instance; the aggregate is on kvm/.
fn build(n: usize) -> (Source, Vec<Instance<Wide>>) {
    let kvm = Source::new("kvm").unwrap();
    kvm.add_aggregate(&WIDE).unwrap();
    let mut insts = Vec::with_capacity(n);
    for vm in 0..n / 8 {
        let v = Source::new(&format!("{vm}-1")).unwrap();
        for c in 0..8 {
            let s = Source::new(&format!("vcpu{c}")).unwrap();
            let i = Instance::new(Wide {
                before: [0; 17],
                x: Counter::new((vm * 8 + c) as u64),
                after: [0; 46],
            });
            s.add_values(&WIDE, Some(i.erase()), false).unwrap();
            v.add_child(&s).unwrap();
            insts.push(i);
        }
        kvm.add_child(&v).unwrap();
    }
    (kvm, insts)
}

#[inline(never)]
fn floor(insts: &[Instance<Wide>]) -> u64 {
    insts.iter().fold(0u64, |a, i| a.wrapping_add(i.x.get()))
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("aggregate_sum");
    for n in [1_000usize, 10_000, 100_000] {
        let (kvm, insts) = build(n);
        let v = kvm.lookup("x").unwrap();
        let want = (0..n as u64).sum::<u64>();
        assert_eq!(v.read(), want);
        assert_eq!(floor(&insts), want);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("floor_vec_of_arc", n), &n, |b, _| {
            b.iter(|| floor(black_box(&insts)))
        });
        g.bench_with_input(BenchmarkId::new("statsfs_read", n), &n, |b, _| {
            b.iter(|| black_box(&v).read())
        });
        // The first read after the subtree changed rebuilds the flat list.
        let probe = Source::new("probe").unwrap();
        g.bench_with_input(
            BenchmarkId::new("statsfs_read_after_change", n),
            &n,
            |b, _| {
                b.iter(|| {
                    kvm.add_child(&probe).unwrap();
                    kvm.remove_child(&probe);
                    black_box(&v).read()
                })
            },
        );
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50);
    targets = bench
}
criterion_main!(benches);
