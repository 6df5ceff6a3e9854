//! The server on 127.0.0.1:0, scraped for real: exact text, negotiation, subtrees, JSON,
//! malformed requests, promtool, a real Prometheus, and a bounded load.

mod common;

use common::{get, promtool_check, raw};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};

use statsfs::{Counter, Gauge, Instance, LocalCounter, Registry, Source, StatsSource};
use statsfs_http::{Config, Server};

/// One VM.
#[derive(Default, StatsSource)]
#[stats(name = "vm", label = "vm")]
struct VmStats {
    /// Pages mapped "now".
    #[stats(kind = "instant", unit = "bytes", base = 2, exponent = 12)]
    pages: Gauge,
}

/// One vCPU.
#[derive(Default, StatsSource)]
#[stats(name = "vcpu", label = "vcpu")]
struct VcpuStats {
    /// VM exits.
    exits: Counter,
    /// Time halted,
    /// in nanoseconds.
    #[stats(unit = "seconds", exponent = -9)]
    halt_wait_ns: LocalCounter,
    /// TSC offset \ signed.
    #[stats(rename = "tsc-offset", kind = "instant", aggregation = "min")]
    tsc_offset: AtomicI64,
    /// Not exported.
    #[stats(hidden)]
    internal: Counter,
}

struct Tree {
    registry: Registry,
    kvm: Source,
    _keep: Vec<Instance<VcpuStats>>,
    _vms: Vec<Instance<VmStats>>,
}

/// kvm/ → 1-2/ (vcpu0, vcpu1) and we"ird\vm/ (vcpu0).
fn tree() -> Tree {
    let registry = Registry::new();
    let kvm = Source::new("kvm").unwrap();
    kvm.add_aggregate_of::<VcpuStats>().unwrap();
    registry.register(&kvm).unwrap();
    let mut keep = Vec::new();
    let mut vms = Vec::new();
    for (vi, (name, n)) in [("1-2", 2u64), ("we\"ird\\vm", 1)].into_iter().enumerate() {
        let vm = Source::new(name).unwrap();
        let vs = Instance::<VmStats>::default();
        vs.pages.set(10 + vi as u64);
        vm.add_instance(&vs).unwrap();
        vm.add_aggregate_of::<VcpuStats>().unwrap();
        for c in 0..n {
            let s = Source::new(&format!("vcpu{c}")).unwrap();
            let st = Instance::<VcpuStats>::default();
            st.exits.add(100 * (vi as u64 + 1) + c);
            st.halt_wait_ns.add(1_500_000_000 * (c + 1));
            st.tsc_offset.store(-(c as i64) - 7, Relaxed);
            st.internal.add(9);
            s.add_instance(&st).unwrap();
            vm.add_child(&s).unwrap();
            keep.push(st);
        }
        kvm.add_child(&vm).unwrap();
        vms.push(vs);
    }
    Tree {
        registry,
        kvm,
        _keep: keep,
        _vms: vms,
    }
}

fn start(t: &Tree, allow_clear: bool) -> Server {
    let config = Config {
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        prefix: "kvm".into(),
        allow_clear,
        ..Config::default()
    };
    Server::start(&t.registry, config).unwrap()
}

const PROMETHEUS: &str = r#"# HELP kvm_vm_pages_bytes Pages mapped "now".
# TYPE kvm_vm_pages_bytes gauge
kvm_vm_pages_bytes{vm="1-2"} 40960
kvm_vm_pages_bytes{vm="we\"ird\\vm"} 45056
# HELP kvm_vcpu_exits_total VM exits.
# TYPE kvm_vcpu_exits_total counter
kvm_vcpu_exits_total{vm="1-2",vcpu="vcpu0"} 100
kvm_vcpu_exits_total{vm="1-2",vcpu="vcpu1"} 101
kvm_vcpu_exits_total{vm="we\"ird\\vm",vcpu="vcpu0"} 200
# HELP kvm_vcpu_halt_wait_seconds_total Time halted,\nin nanoseconds.
# TYPE kvm_vcpu_halt_wait_seconds_total counter
kvm_vcpu_halt_wait_seconds_total{vm="1-2",vcpu="vcpu0"} 1.5
kvm_vcpu_halt_wait_seconds_total{vm="1-2",vcpu="vcpu1"} 3
kvm_vcpu_halt_wait_seconds_total{vm="we\"ird\\vm",vcpu="vcpu0"} 1.5
# HELP kvm_vcpu_tsc_offset TSC offset \\ signed.
# TYPE kvm_vcpu_tsc_offset gauge
kvm_vcpu_tsc_offset{vm="1-2",vcpu="vcpu0"} -7
kvm_vcpu_tsc_offset{vm="1-2",vcpu="vcpu1"} -8
kvm_vcpu_tsc_offset{vm="we\"ird\\vm",vcpu="vcpu0"} -7
"#;

#[test]
fn prometheus_text_is_exact() {
    let t = tree();
    let srv = start(&t, false);
    let (status, head, body) = get(srv.addr(), "/metrics", "*/*");
    assert_eq!(status, 200);
    assert!(
        head.contains("content-type: text/plain; version=0.0.4; charset=utf-8"),
        "{head}"
    );
    assert_eq!(body, PROMETHEUS);
}

#[test]
fn openmetrics_when_asked_for() {
    let t = tree();
    let srv = start(&t, false);
    let (status, head, body) = get(
        srv.addr(),
        "/metrics",
        "application/openmetrics-text;version=1.0.0,text/plain;q=0.5",
    );
    assert_eq!(status, 200);
    assert!(
        head.contains("content-type: application/openmetrics-text; version=1.0.0; charset=utf-8"),
        "{head}"
    );
    // OpenMetrics escapes the double quote in HELP too.
    assert!(body.starts_with("# HELP kvm_vm_pages_bytes Pages mapped \\\"now\\\".\n# TYPE kvm_vm_pages_bytes gauge\n# UNIT kvm_vm_pages_bytes bytes\n"), "{body}");
    assert!(body.contains("# HELP kvm_vcpu_exits VM exits.\n# TYPE kvm_vcpu_exits counter\nkvm_vcpu_exits_total{vm=\"1-2\",vcpu=\"vcpu0\"} 100\n"), "{body}");
    assert!(body.contains("# TYPE kvm_vcpu_halt_wait_seconds counter\n# UNIT kvm_vcpu_halt_wait_seconds seconds\n"), "{body}");
    assert!(body.ends_with("# EOF\n"));
    assert_eq!(body.lines().filter(|l| !l.starts_with('#')).count(), 11);
}

#[test]
fn subtree_filter_keeps_the_labels_of_the_whole_tree() {
    let t = tree();
    let srv = start(&t, false);
    let (status, _, body) = get(srv.addr(), "/metrics?path=kvm%2F1-2/vcpu1", "");
    assert_eq!(status, 200);
    assert_eq!(
        body,
        "# HELP kvm_vcpu_exits_total VM exits.\n# TYPE kvm_vcpu_exits_total counter\nkvm_vcpu_exits_total{vm=\"1-2\",vcpu=\"vcpu1\"} 101\n\
         # HELP kvm_vcpu_halt_wait_seconds_total Time halted,\\nin nanoseconds.\n# TYPE kvm_vcpu_halt_wait_seconds_total counter\nkvm_vcpu_halt_wait_seconds_total{vm=\"1-2\",vcpu=\"vcpu1\"} 3\n\
         # HELP kvm_vcpu_tsc_offset TSC offset \\\\ signed.\n# TYPE kvm_vcpu_tsc_offset gauge\nkvm_vcpu_tsc_offset{vm=\"1-2\",vcpu=\"vcpu1\"} -8\n"
    );
    assert_eq!(get(srv.addr(), "/metrics?path=kvm/nope", "").0, 404);
    assert_eq!(get(srv.addr(), "/metrics?path=kvm/exits", "").0, 400);
}

#[test]
fn snapshot_and_schema_json() {
    let t = tree();
    let srv = start(&t, false);
    let (status, head, body) = get(srv.addr(), "/snapshot.json?path=kvm", "");
    assert_eq!(status, 200);
    assert!(head.contains("content-type: application/json"));
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["name"], "kvm");
    assert_eq!(v["groups"][0]["set"], "vcpu");
    assert_eq!(v["groups"][0]["aggregate"], true);
    assert_eq!(v["groups"][0]["values"]["exits"], 401);
    assert_eq!(v["groups"][0]["values"]["tsc-offset"], -8);
    assert!(
        v["groups"][0]["values"].get("internal").is_none(),
        "hidden values are not shown"
    );
    assert_eq!(v["children"][0]["name"], "1-2");
    assert_eq!(v["children"][0]["groups"][0]["values"]["pages"], 10);
    assert_eq!(
        v["children"][0]["children"][1]["groups"][0]["values"]["exits"],
        101
    );
    let (status, _, body) = get(srv.addr(), "/schema.json", "");
    assert_eq!(status, 200);
    let s: serde_json::Value = serde_json::from_str(&body).unwrap();
    let sets = s["sets"].as_array().unwrap();
    assert_eq!(
        sets.iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["vcpu", "vm"]
    );
    let exits = &sets[0]["values"][0];
    assert_eq!(exits["metric"], "kvm_vcpu_exits_total");
    assert_eq!(exits["kind"], "cumulative");
    assert_eq!(exits["clearable"], true);
    assert_eq!(sets[0]["values"][1]["exponent"], -9);
    assert_eq!(sets[0]["label"], "vcpu");
    // What each value's aggregate is served as (here: the value's own kind and unit).
    assert_eq!(
        sets[0]["values"][1]["aggregate"],
        serde_json::json!({"kind": "cumulative", "unit": "seconds", "exponent": -9})
    );
}

#[test]
fn malformed_requests_get_4xx_and_the_server_keeps_going() {
    let t = tree();
    let srv = start(&t, false);
    let a = srv.addr();
    assert_eq!(raw(a, b"GARBAGE\r\n\r\n").0, 400);
    assert_eq!(raw(a, b"GET /metrics HTTP/1.1\r\nHost x\r\n\r\n").0, 400);
    let huge = format!(
        "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(100_000)
    );
    assert_eq!(raw(a, huge.as_bytes()).0, 431);
    assert_eq!(get(a, "/nope", "").0, 404);
    assert_eq!(get(a, "/metrics?path=%zz", "").0, 400);
    assert_eq!(
        raw(
            a,
            b"DELETE /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .0,
        405
    );
    // Clear is off by default.
    assert_eq!(raw(a, b"POST /clear?path=kvm/exits HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").0, 403);
    assert_eq!(t.kvm.lookup("exits").unwrap().read(), 401);
    // A client that sends half a request head is cut off after the header timeout, and
    // others are served meanwhile.
    let mut slow = TcpStream::connect(a).unwrap();
    slow.write_all(b"GET /metr").unwrap();
    assert_eq!(get(a, "/metrics", "").0, 200);
}

#[test]
fn clear_over_http_only_when_allowed() {
    let t = tree();
    let srv = start(&t, true);
    let post = |p: &str| {
        raw(srv.addr(), format!("POST /clear?path={p} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes())
    };
    assert_eq!(post("kvm/1-2/exits").0, 200);
    assert_eq!(
        t.kvm.lookup("exits").unwrap().read(),
        200,
        "the VM's vCPUs cleared, the other VM kept"
    );
    assert_eq!(
        post("kvm/1-2/pages").0,
        403,
        "instant values cannot be cleared"
    );
    assert_eq!(post("kvm/nope").0, 404);
}

/// promtool (Debian's 2.42) parses the Prometheus text format only; OpenMetrics is checked
/// by the real Prometheus below, which asks for it first.
#[test]
fn promtool_accepts_the_text_format() {
    let t = tree();
    let srv = start(&t, false);
    for accept in ["text/plain", "*/*"] {
        let (_, _, body) = get(srv.addr(), "/metrics", accept);
        let Some((ok, out)) = promtool_check(&body) else {
            return;
        };
        assert!(ok, "{accept}: {out}");
    }
}

#[test]
fn bounded_load_20_clients_by_500_requests() {
    fn rss_kib() -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .unwrap()
            .lines()
            .find_map(|l| {
                l.strip_prefix("VmRSS:")
                    .map(|v| v.trim().trim_end_matches(" kB").parse().unwrap())
            })
            .unwrap()
    }
    let t = tree();
    let srv = start(&t, false);
    let a = srv.addr();
    let round = |n: usize| {
        std::thread::scope(|s| {
            let hs: Vec<_> = (0..20)
                .map(|_| {
                    s.spawn(move || {
                        let mut ok = 0;
                        for _ in 0..n {
                            let (status, _, body) = get(a, "/metrics", "");
                            assert_eq!(status, 200);
                            assert_eq!(body.len(), PROMETHEUS.len());
                            ok += 1;
                        }
                        ok
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum::<usize>()
        })
    };
    // The clients live in this process too: a first full round lets their threads' and the
    // server's allocations reach steady state; a second must then not grow.
    assert_eq!(round(500), 10_000);
    let before = rss_kib();
    assert_eq!(round(500), 10_000);
    let after = rss_kib();
    assert!(
        after < before + 4 * 1024,
        "RSS grew from {before} KiB to {after} KiB"
    );
}

/// Removes the Prometheus data directory when the test ends, however it ends (declared
/// before the server's guard, so it runs after the server is killed).
struct RemoveDir(std::path::PathBuf);

impl Drop for RemoveDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Kills the Prometheus server when the test ends, however it ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn query(prom: SocketAddr, q: &str) -> serde_json::Value {
    let enc: String = q
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let (status, _, body) = get(prom, &format!("/api/v1/query?query={enc}"), "");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

#[test]
fn a_real_prometheus_scrapes_and_sums_by_vm() {
    let ok = std::process::Command::new("prometheus")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!("prometheus missing in CI: .ci/run must install the prometheus package");
        }
        return eprintln!("SKIPPED: prometheus not installed (apt-get install prometheus)");
    }
    let t = tree();
    let srv = start(&t, false);
    let dir = std::env::temp_dir().join(format!("statsfs-prom-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let _cleanup = RemoveDir(dir.clone());
    let cfg = dir.join("prometheus.yml");
    std::fs::write(
        &cfg,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: statsfs\n    static_configs:\n      - targets: ['{}']\n",
            srv.addr()
        ),
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let _prom = Child(
        std::process::Command::new("prometheus")
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Wait for a successful scrape (the target is up) and then for our series.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let sums = loop {
        assert!(
            std::time::Instant::now() < deadline,
            "Prometheus never scraped the endpoint"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
        if TcpStream::connect(port).is_err() {
            continue;
        }
        let r = query(port, "sum by (vm) (kvm_vcpu_exits_total)");
        let res = r["data"]["result"].as_array().cloned().unwrap_or_default();
        if res.len() == 2 {
            break res;
        }
    };
    // The tree's per-VM aggregates, as PromQL sums them.
    let vm = |name: &str| {
        t.kvm
            .child(name)
            .unwrap()
            .lookup("exits")
            .unwrap()
            .read()
            .to_string()
    };
    for r in &sums {
        let name = r["metric"]["vm"].as_str().unwrap();
        assert_eq!(
            r["value"][1].as_str().unwrap(),
            vm(name),
            "sum by (vm) for {name}"
        );
    }
    let total = query(port, "sum(kvm_vcpu_exits_total)");
    assert_eq!(
        total["data"]["result"][0]["value"][1],
        t.kvm.lookup("exits").unwrap().read().to_string()
    );
    let secs = query(port, "kvm_vcpu_halt_wait_seconds_total{vcpu=\"vcpu1\"}");
    assert_eq!(secs["data"]["result"][0]["value"][1], "3");
    let pages = query(port, "kvm_vm_pages_bytes{vm=\"we\\\"ird\\\\vm\"}");
    assert_eq!(
        pages["data"]["result"][0]["value"][1], "45056",
        "escaped label values round-trip"
    );
    // The scrape used OpenMetrics (Prometheus asks for it first) and parsed it cleanly.
    let (_, _, targets) = get(port, "/api/v1/targets", "");
    let v: serde_json::Value = serde_json::from_str(&targets).unwrap();
    let target = &v["data"]["activeTargets"][0];
    assert_eq!(target["health"], "up", "{target}");
    assert_eq!(target["lastError"], "");
}

#[test]
fn kvm_binary_stats_of_a_subtree() {
    let t = tree();
    let srv = start(&t, false);
    let mut s = TcpStream::connect(srv.addr()).unwrap();
    s.write_all(
        b"GET /kvm-stats?path=kvm/1-2/vcpu1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let at = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let head = String::from_utf8_lossy(&buf[..at]);
    assert!(
        head.starts_with("HTTP/1.1 200") && head.contains("application/octet-stream"),
        "{head}"
    );
    let body = &buf[at..];
    let layout = statsfs::kvm_binary::parse_bytes(body).unwrap();
    assert_eq!(layout.id, "vcpu1");
    let names: Vec<&str> = layout.descs.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(
        names,
        ["exits", "halt_wait_ns", "tsc-offset"],
        "hidden values are left out"
    );
    assert_eq!(
        statsfs::kvm_binary::data_items(body, &layout),
        [101, 3_000_000_000, (-8i64) as u64]
    );
    assert_eq!(layout.descs[1].exponent, -9);
}

#[test]
fn kvm_stats_of_the_whole_tree_is_a_clear_400() {
    // One binary stats file describes one source; the root has no values. It used to answer
    // 200 with an empty 72-byte file.
    let t = tree();
    let srv = start(&t, false);
    let (status, _, body) = get(srv.addr(), "/kvm-stats", "");
    assert_eq!(status, 400);
    assert_eq!(
        body,
        "kvm-stats needs ?path=SOURCE, one of: kvm (or a source below them, such as kvm/<vm>/vcpu0)\n"
    );
}

#[test]
fn head_is_served_wherever_get_is_and_405_says_what_is_allowed() {
    let t = tree();
    let srv = start(&t, true);
    let a = srv.addr();
    for path in [
        "/metrics",
        "/snapshot.json",
        "/schema.json",
        "/kvm-stats?path=kvm/1-2/vcpu1",
        "/kvm-stats",
    ] {
        let (gs, ghead, gbody) = get(a, path, "");
        let (hs, hhead, hbody) = raw(
            a,
            format!("HEAD {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        assert_eq!(hs, gs, "HEAD {path}");
        assert_eq!(hbody, "", "HEAD {path} has no body");
        let len = |h: &str| {
            h.lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .map(str::to_owned)
        };
        assert_eq!(len(&hhead), len(&ghead), "HEAD {path}: {hhead}");
        if !path.starts_with("/kvm-stats?") {
            // (the binary body is not text: `raw` reads it lossily)
            assert_eq!(len(&ghead), Some(gbody.len().to_string()), "GET {path}");
        }
    }
    let allow = |method: &str, path: &str| {
        let (status, head, _) = raw(
            a,
            format!("{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        );
        let allow = head
            .lines()
            .find_map(|l| l.strip_prefix("allow: "))
            .map(str::to_owned);
        (status, allow)
    };
    for path in ["/metrics", "/snapshot.json", "/schema.json", "/kvm-stats"] {
        assert_eq!(
            allow("DELETE", path),
            (405, Some("GET, HEAD".into())),
            "{path}"
        );
        assert_eq!(
            allow("POST", path),
            (405, Some("GET, HEAD".into())),
            "{path}"
        );
    }
    assert_eq!(allow("GET", "/clear"), (405, Some("POST".into())));
    assert_eq!(allow("PUT", "/clear"), (405, Some("POST".into())));
}
