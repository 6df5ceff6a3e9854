//! Arbitrary bytes sent as a raw request over loopback TCP to a real `statsfs_http::Server`
//! (started once per fuzz process on 127.0.0.1:0, serving a small tree, clears allowed so
//! `POST /clear` is reachable), reading the response with a short timeout.
//!
//! Invariants beyond "no panic" (libFuzzer's panic hook aborts the whole process, so a panic
//! in the server's own thread is a crash too): the server stays usable: every
//! `HEALTH_EVERY` inputs, a normal `GET /metrics` on a fresh connection still gets
//! `HTTP/1.1 200` with the tree's text, within a generous timeout. A failure there may have
//! been caused by any input since the previous check: replay the run's inputs to find it.
#![no_main]

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use statsfs::{Counter, Gauge, Instance, Registry, Source, StatsSource};
use statsfs_http::{Config, Server};

/// One vCPU.
#[derive(Default, StatsSource)]
#[stats(name = "vcpu", label = "vcpu")]
struct VcpuStats {
    /// VM exits.
    exits: Counter,
    /// Time halted.
    #[stats(unit = "seconds", exponent = -9)]
    halt_wait_ns: Counter,
    /// Pages mapped now.
    #[stats(
        kind = "instant",
        unit = "bytes",
        base = 2,
        exponent = 12,
        aggregation = "max"
    )]
    pages: Gauge,
    /// Not exported.
    #[stats(hidden)]
    internal: Counter,
}

/// Inputs between two health checks: a check costs about as much as an input.
const HEALTH_EVERY: u64 = 64;

/// How long one input's response may take; a request the server is still waiting on (an
/// unfinished head) ends at the server's header timeout, which is shorter.
const READ_TIMEOUT: Duration = Duration::from_secs(2);

struct Fixture {
    server: Server,
    _registry: Registry,
    _stats: Vec<Instance<VcpuStats>>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let registry = Registry::new();
        let kvm = Source::new("kvm").unwrap();
        kvm.add_aggregate_of::<VcpuStats>().unwrap();
        registry.register(&kvm).unwrap();
        let vm = Source::new("vm0").unwrap();
        vm.add_aggregate_of::<VcpuStats>().unwrap();
        let mut stats = Vec::new();
        for c in 0..2u64 {
            let s = Source::new(&format!("vcpu{c}")).unwrap();
            let st = Instance::<VcpuStats>::default();
            st.exits.add(100 + c);
            st.halt_wait_ns.add(1_500_000_000 * (c + 1));
            st.pages.set(10 + c);
            st.internal.add(9);
            s.add_instance(&st).unwrap();
            vm.add_child(&s).unwrap();
            stats.push(st);
        }
        kvm.add_child(&vm).unwrap();
        let config = Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            prefix: "kvm".into(),
            allow_clear: true,
            header_timeout: Duration::from_millis(500),
            ..Config::default()
        };
        let server = Server::start(&registry, config).unwrap();
        Fixture {
            server,
            _registry: registry,
            _stats: stats,
        }
    })
}

/// Sends `request`, half-closes if asked (so the server sees the end of a fuzz input at
/// once instead of at its header timeout), and reads until EOF, an error or the timeout.
fn exchange(
    addr: SocketAddr,
    request: &[u8],
    half_close: bool,
    timeout: Duration,
) -> std::io::Result<Vec<u8>> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    // The server may answer and close before taking all of it (a bad head): not a failure.
    let _ = s.write_all(request);
    if half_close {
        let _ = s.shutdown(Shutdown::Write);
    }
    let mut buf = Vec::new();
    match s.read_to_end(&mut buf) {
        Ok(_) => Ok(buf),
        Err(e) if buf.is_empty() => Err(e),
        Err(_) => Ok(buf),
    }
}

fn check_health(addr: SocketAddr) {
    let response = exchange(
        addr,
        b"GET /metrics HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n\r\n",
        false,
        Duration::from_secs(10),
    )
    .unwrap_or_else(|e| panic!("GET /metrics after fuzz inputs: {e}"));
    let text = String::from_utf8_lossy(&response);
    assert!(
        text.starts_with("HTTP/1.1 200"),
        "GET /metrics after fuzz inputs: {text:?}"
    );
    assert!(
        text.contains("# TYPE kvm_vcpu_exits_total counter\n"),
        "GET /metrics after fuzz inputs lost the tree: {text:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    static INPUTS: AtomicU64 = AtomicU64::new(0);
    let addr = fixture().server.addr();
    let n = INPUTS.fetch_add(1, Relaxed);
    if n == 0 {
        check_health(addr);
    }
    let _ = exchange(addr, data, true, READ_TIMEOUT);
    // After the first input too, so replaying one reproducer checks it.
    if n == 0 || n % HEALTH_EVERY == HEALTH_EVERY - 1 {
        check_health(addr);
    }
});
