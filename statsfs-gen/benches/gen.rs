//! check + rust + docs on schemas/kvm.toml, the everyday job (target: under 20 ms in all),
//! with parsing the same text as a plain TOML table as the floor in the same run.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};

const KVM: &str = include_str!("../../schemas/kvm.toml");

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("gen_kvm");
    g.bench_function("floor_toml_parse", |b| {
        b.iter(|| toml::de::DeTable::parse(black_box(KVM)).unwrap())
    });
    g.bench_function("check", |b| {
        b.iter(|| statsfs_gen::parse("schemas/kvm.toml", black_box(KVM)).unwrap())
    });
    let schema = statsfs_gen::parse("schemas/kvm.toml", KVM).unwrap();
    g.bench_function("rust", |b| {
        b.iter(|| statsfs_gen::rust::generate(black_box(&schema), "schemas/kvm.toml").unwrap())
    });
    g.bench_function("docs", |b| {
        b.iter(|| statsfs_gen::rst::generate(black_box(&schema), "schemas/kvm.toml").unwrap())
    });
    g.bench_function("check_rust_docs", |b| {
        b.iter(|| {
            let s = statsfs_gen::parse("schemas/kvm.toml", black_box(KVM)).unwrap();
            (
                statsfs_gen::rust::generate(&s, "schemas/kvm.toml").unwrap(),
                statsfs_gen::rst::generate(&s, "schemas/kvm.toml").unwrap(),
            )
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = bench
}
criterion_main!(benches);
