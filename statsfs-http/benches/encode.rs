//! Encoding 1000 VMs x 8 vCPUs of the KVM sets (schemas/kvm.toml) as Prometheus text,
//! against prometheus-client encoding the same series (same names, labels and values) in
//! the same run. Target: at most 0.25x prometheus-client's time.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter as PCounter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge as PGauge;
use statsfs::{Instance, Kind, Registry, Source, StatsSource};
use statsfs_http::{encode, Format};

#[allow(dead_code)]
mod kvm {
    include!("../../generated/kvm.rs");
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VmLabels {
    vm: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VcpuLabels {
    vm: String,
    vcpu: String,
}

fn bench(c: &mut Criterion) {
    // Our tree: kvm/vm-NNNN/vcpuN, every counter set to a pseudo-random 1..9-digit value.
    let registry = Registry::new();
    let top = Source::new("kvm").unwrap();
    registry.register(&top).unwrap();
    let mut keep = Vec::new();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % 1_000_000_000
    };
    let vm_set = kvm::VmStats::value_set();
    let vcpu_set = kvm::VcpuStats::value_set();
    let mut prom = prometheus_client::registry::Registry::default();
    let vm_fams: Vec<_> = vm_set
        .values()
        .iter()
        .map(|d| {
            (
                d.kind,
                Family::<VmLabels, PCounter>::default(),
                Family::<VmLabels, PGauge>::default(),
            )
        })
        .collect();
    let vcpu_fams: Vec<_> = vcpu_set
        .values()
        .iter()
        .map(|d| {
            (
                d.kind,
                Family::<VcpuLabels, PCounter>::default(),
                Family::<VcpuLabels, PGauge>::default(),
            )
        })
        .collect();
    for (d, (k, cf, gf)) in vm_set.values().iter().zip(&vm_fams) {
        let name = format!("kvm_vm_{}", d.name);
        if *k == Kind::Cumulative {
            prom.register(name, d.doc.to_string(), cf.clone())
        } else {
            prom.register(name, d.doc.to_string(), gf.clone())
        }
    }
    for (d, (k, cf, gf)) in vcpu_set.values().iter().zip(&vcpu_fams) {
        let name = format!("kvm_vcpu_{}", d.name.replace('-', "_"));
        if *k == Kind::Cumulative {
            prom.register(name, d.doc.to_string(), cf.clone())
        } else {
            prom.register(name, d.doc.to_string(), gf.clone())
        }
    }
    let mut series = 0usize;
    for v in 0..1000 {
        let vm_name = format!("vm-{v:04}");
        let vm = Source::new(&vm_name).unwrap();
        let vs = Instance::<kvm::VmStats>::default();
        vs.remote_tlb_flush.add(next());
        vs.pages_4k.set(next());
        vm.add_instance(&vs).unwrap();
        for (i, (k, cf, gf)) in vm_fams.iter().enumerate() {
            let l = VmLabels {
                vm: vm_name.clone(),
            };
            let val = if i == 0 {
                vs.remote_tlb_flush.get()
            } else if i == 9 {
                vs.pages_4k.get()
            } else {
                0
            };
            if *k == Kind::Cumulative {
                cf.get_or_create(&l).inc_by(val);
            } else {
                gf.get_or_create(&l).set(val as i64);
            }
            series += 1;
        }
        for n in 0..8 {
            let s = Source::new(&format!("vcpu{n}")).unwrap();
            let st = Instance::<kvm::VcpuStats>::default();
            st.exits.add(next());
            st.io_exits.add(next());
            s.add_instance(&st).unwrap();
            vm.add_child(&s).unwrap();
            let vals = {
                let mut out = Vec::new();
                s.read_group(0, &mut out).unwrap();
                out
            };
            for ((k, cf, gf), val) in vcpu_fams.iter().zip(vals) {
                let l = VcpuLabels {
                    vm: vm_name.clone(),
                    vcpu: format!("vcpu{n}"),
                };
                if *k == Kind::Cumulative {
                    cf.get_or_create(&l).inc_by(val);
                } else {
                    gf.get_or_create(&l).set(val as i64);
                }
                series += 1;
            }
            keep.push(st);
        }
        top.add_child(&vm).unwrap();
        // The VM's group holds its own handle: the instance lives on in the tree.
        drop(vs);
    }
    let mut ours = Vec::new();
    encode(registry.root(), "kvm", Format::Prometheus, &mut ours);
    let mut theirs = String::new();
    prometheus_client::encoding::text::encode(&mut theirs, &prom).unwrap();
    let samples = |t: &str| t.lines().filter(|l| !l.starts_with('#')).count();
    eprintln!(
        "{series} series: ours {} samples, {} bytes; prometheus-client {} samples, {} bytes",
        samples(std::str::from_utf8(&ours).unwrap()),
        ours.len(),
        samples(&theirs),
        theirs.len()
    );
    let mut g = c.benchmark_group("encode_1000vm_8vcpu");
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8));
    g.bench_function("prometheus_client_text_encode", |b| {
        b.iter(|| {
            theirs.clear();
            prometheus_client::encoding::text::encode(&mut theirs, black_box(&prom)).unwrap();
        })
    });
    g.bench_function("statsfs_http_encode", |b| {
        b.iter(|| {
            ours.clear();
            encode(
                black_box(registry.root()),
                "kvm",
                Format::Prometheus,
                &mut ours,
            );
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
