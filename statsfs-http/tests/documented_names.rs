//! One source of truth for metric names: every metric name `Documentation/<schema>.rst`
//! lists is a family `/metrics` serves for a tree built from that schema's generated
//! structs (with the default namespace), and nothing served is undocumented.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use statsfs::{Instance, Registry, Source, StatsSource};
use statsfs_http::{Config, Server};

#[allow(dead_code)]
mod kvm {
    include!("../../generated/kvm.rs");
}
#[allow(dead_code)]
mod net {
    include!("../../generated/net.rs");
}
#[allow(dead_code)]
mod vmm {
    include!("../../generated/vmm.rs");
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// Adds one instance of `T` to a new child `name` of `parent`; the instance is returned to
/// be kept alive.
fn add<T: StatsSource + Default>(parent: &Source, name: &str) -> Instance<T> {
    let child = Source::new(name).unwrap();
    let i = Instance::<T>::default();
    child.add_instance(&i).unwrap();
    parent.add_child(&child).unwrap();
    i
}

/// A tree with one instance of every set of schema `name` under a top-level source `name`.
fn tree(name: &str, keep: &mut Vec<Box<dyn std::any::Any>>) -> Source {
    let top = Source::new(name).unwrap();
    match name {
        "kvm" => {
            keep.push(Box::new(add::<kvm::VmStats>(&top, "vm0")));
            keep.push(Box::new(add::<kvm::VcpuStats>(&top, "vcpu0")));
        }
        "net" => keep.push(Box::new(add::<net::NetDevStats>(&top, "eth0"))),
        "vmm" => {
            keep.push(Box::new(add::<vmm::VmmVmStats>(&top, "vm0")));
            keep.push(Box::new(add::<vmm::VmmVcpuStats>(&top, "vcpu0")));
        }
        other => panic!("schemas/{other}.toml has no tree in this test: add its generated module"),
    }
    top
}

/// The "Prometheus metric" column of every list-table in an rst page, literals unwrapped.
fn documented(rst: &str) -> BTreeSet<String> {
    let mut rows: Vec<Vec<String>> = Vec::new();
    for line in rst.lines() {
        if let Some(cell) = line.strip_prefix("   * - ") {
            rows.push(vec![cell.to_owned()]);
        } else if let (Some(cell), Some(row)) = (line.strip_prefix("     - "), rows.last_mut()) {
            row.push(cell.to_owned());
        }
    }
    let mut names = BTreeSet::new();
    let mut column = None;
    for row in rows {
        if let Some(c) = row.iter().position(|c| c == "Prometheus metric") {
            column = Some(c);
            continue;
        }
        let cell = &row[column.expect("a table without a Prometheus metric column")];
        if let Some(name) = cell.strip_prefix("``").and_then(|c| c.strip_suffix("``")) {
            names.insert(name.to_owned());
        }
    }
    names
}

fn http_get(addr: SocketAddr, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).unwrap();
    let (head, body) = buf.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    body.to_owned()
}

#[test]
fn every_documented_metric_name_is_served_and_nothing_else() {
    let mut schemas: Vec<String> = std::fs::read_dir(root().join("schemas"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_string_lossy()
                .strip_suffix(".toml")
                .map(str::to_owned)
        })
        .collect();
    schemas.sort();
    assert_eq!(schemas, ["kvm", "net", "vmm"]);
    for name in schemas {
        let rst =
            std::fs::read_to_string(root().join(format!("Documentation/{name}.rst"))).unwrap();
        let docs = documented(&rst);
        assert!(!docs.is_empty(), "Documentation/{name}.rst lists no metric");
        let registry = Registry::new();
        let mut keep = Vec::new();
        registry.register(&tree(&name, &mut keep)).unwrap();
        let srv = Server::start(
            &registry,
            Config {
                addr: SocketAddr::from(([127, 0, 0, 1], 0)),
                ..Config::default()
            },
        )
        .unwrap();
        let body = http_get(srv.addr(), "/metrics");
        let served: BTreeSet<String> = body
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .map(|l| l.split(' ').next().unwrap().to_owned())
            .collect();
        let missing: Vec<_> = docs.difference(&served).collect();
        let undocumented: Vec<_> = served.difference(&docs).collect();
        assert!(
            missing.is_empty() && undocumented.is_empty(),
            "{name}: documented but not served: {missing:?}; served but not documented: {undocumented:?}"
        );
    }
}
