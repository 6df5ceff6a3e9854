//! The kernel's imported statistics against `schemas/kvm.toml`: an imported value serves the
//! schema's doc where the names match, and the import reports, once per descriptor table,
//! what the kernel has that the schema lacks and the other way round.

mod common;

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::time::Duration;

use common::need_kvm;
use statsfs::{Kind, Unit};
use statsfs_kvm::binary::ir;
use statsfs_kvm::import::{open_stats, Drift};
use statsfs_kvm::kvm_schema::VcpuStats;
use statsfs_kvm::{Options, Vmm};

fn one_vm() -> Vmm {
    let opts = Options {
        vms: 1,
        vcpus: 1,
        pace: Some(Duration::from_micros(200)),
        ..Options::default()
    };
    let vmm = Vmm::start(opts).unwrap();
    assert!(vmm.simulated.is_none() && vmm.kernel_stats);
    vmm
}

#[test]
fn imported_values_serve_the_schemas_doc() {
    if !need_kvm() {
        return;
    }
    let vmm = one_vm();
    let vm = &vmm.vms[0];
    let vcpu = &vm.vcpus[0].0;
    assert_eq!(vcpu.lookup("exits").unwrap().desc().doc, "VM exits.");
    // The generated set's doc, the one its own statistics would serve.
    let schema = <VcpuStats as statsfs::StatsSource>::value_set();
    let exits = schema.values().iter().find(|v| v.name == "exits").unwrap();
    assert_eq!(vcpu.lookup("exits").unwrap().desc().doc, exits.doc);
    assert_eq!(
        vcpu.lookup("halt_wait_ns").unwrap().desc().doc,
        "Time spent blocked waiting."
    );
    assert_eq!(
        vm.source.lookup("remote_tlb_flush").unwrap().desc().doc,
        "Remote TLB flushes done."
    );
    // The aggregate in kvm/ is of the same set, so it serves the same doc.
    assert_eq!(vmm.top.lookup("exits").unwrap().desc().doc, "VM exits.");
    // And HTTP's /schema.json documents the imported value with it.
    let server = statsfs_http::Server::start(
        &vmm.registry,
        statsfs_http::Config {
            addr: ([127, 0, 0, 1], 0).into(),
            ..statsfs_http::Config::default()
        },
    )
    .unwrap();
    let mut s = std::net::TcpStream::connect(server.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(b"GET /schema.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    assert!(body.contains(r#""doc":"VM exits.","#), "{body}");
    assert!(
        !body.contains("read from the kernel's binary stats fd"),
        "{body}"
    );
    drop(server);
    vmm.stop();
}

/// What the drift of set `set` must be, computed independently: the schema as statsfs-gen
/// reads it against the scalar descriptors of a fresh stats fd on `owner`, as
/// (kernel only, schema only, names of values whose kind or unit disagree).
fn expected_drift(set: &str, owner: i32) -> (Vec<String>, Vec<String>, Vec<String>) {
    let schema =
        statsfs_gen::parse("schemas/kvm.toml", include_str!("../../schemas/kvm.toml")).unwrap();
    let values = &schema.sets.iter().find(|s| s.name == set).unwrap().values;
    let (_fd, layout) = open_stats(owner).unwrap();
    let kernel: Vec<(String, Kind, Unit)> = layout
        .descs
        .iter()
        .filter(|d| d.size == 1)
        .filter_map(|d| {
            let (kind, unit) = ir::from_flags(d.flags, d.exponent)?;
            Some((d.name.clone(), kind, unit))
        })
        .collect();
    let kernel_only = kernel
        .iter()
        .filter(|(n, _, _)| !values.iter().any(|v| v.name == *n))
        .map(|(n, _, _)| n.clone())
        .collect();
    let schema_only = values
        .iter()
        .filter(|v| !kernel.iter().any(|(n, _, _)| *n == v.name))
        .map(|v| v.name.clone())
        .collect();
    let disagree = kernel
        .iter()
        .filter(|(n, kind, unit)| {
            values.iter().any(|v| {
                v.name == *n
                    && (v.histogram.is_some()
                        || (v.kind, Unit::new(v.unit, v.base, v.exponent)) != (*kind, *unit))
            })
        })
        .map(|(n, _, _)| n.clone())
        .collect();
    (kernel_only, schema_only, disagree)
}

#[test]
fn drift_report_equals_schema_against_a_fresh_stats_fd() {
    if !need_kvm() {
        return;
    }
    let vmm = one_vm();
    let vm = &vmm.vms[0];
    let owners = [
        ("vm", vm.fd().unwrap().as_raw_fd()),
        ("vcpu", vm.vcpu_fds()[0]),
    ];
    assert_eq!(vmm.kernel_drift.len(), 2, "{:?}", vmm.kernel_drift);
    for (drift, (set, owner)) in vmm.kernel_drift.iter().zip(owners) {
        let (kernel_only, schema_only, disagree) = expected_drift(set, owner);
        assert_eq!(drift.set, set);
        assert_eq!(drift.kernel_only, kernel_only, "{set}");
        assert_eq!(drift.schema_only, schema_only, "{set}");
        let names: Vec<&str> = drift
            .disagree
            .iter()
            .map(|d| d.split(' ').next().unwrap())
            .collect();
        assert_eq!(names, disagree, "{set}: {:?}", drift.disagree);
        println!("{drift}");
    }
    // Histograms are not imported, and mp_state is the VMM's: schema-only on any kernel.
    let vcpu = &vmm.kernel_drift[1].schema_only;
    for h in [
        "halt_poll_success_hist",
        "halt_poll_fail_hist",
        "halt_wait_hist",
        "mp_state",
    ] {
        assert!(vcpu.iter().any(|n| n == h), "{h} not in {vcpu:?}");
    }
    vmm.stop();
}

#[test]
fn drift_shows_as_one_line() {
    let d = Drift {
        set: "vcpu".into(),
        kernel_only: vec!["a".into(), "b".into()],
        schema_only: vec!["c".into()],
        disagree: vec!["d (kernel instant none, schema cumulative none)".into()],
    };
    assert_eq!(
        d.to_string(),
        "vcpu: 2 only in the kernel (a, b), 1 only in the schema (c), \
         1 disagree (d (kernel instant none, schema cumulative none))"
    );
    let only_schema = Drift {
        kernel_only: vec![],
        disagree: vec![],
        ..d.clone()
    };
    assert_eq!(only_schema.to_string(), "vcpu: 1 only in the schema (c)");
    let none = Drift {
        set: "vm".into(),
        ..Drift::default()
    };
    assert_eq!(none.to_string(), "vm: in agreement");
}
