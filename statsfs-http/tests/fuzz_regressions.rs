//! Failures found by the coverage-guided fuzzer (`fuzz/`, target `http_request`), each
//! reproduced through a real client on loopback so it stays fixed.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

use statsfs::{Counter, Instance, Registry, Source, StatsSource};
use statsfs_http::{Config, Server};

/// A guard against hangs only.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// One vCPU.
#[derive(Default, StatsSource)]
#[stats(name = "vcpu", label = "vcpu")]
struct VcpuStats {
    /// VM exits.
    exits: Counter,
}

/// A client that sends its whole request and then shuts down its sending side (as
/// `printf 'GET ...' | nc -N`, or a proxy relaying a client's FIN, does) is owed the
/// response: the request is complete, and the connection is still open for reading. The
/// server used to drop such connections at the EOF whenever it saw it before the response
/// was written (hyper's default without `half_close`): about one request in four on
/// loopback got no response at all.
#[test]
fn a_request_followed_by_a_half_close_is_answered() {
    let registry = Registry::new();
    let kvm = Source::new("kvm").unwrap();
    let stats = Instance::<VcpuStats>::default();
    stats.exits.add(7);
    let vcpu = Source::new("vcpu0").unwrap();
    vcpu.add_instance(&stats).unwrap();
    kvm.add_child(&vcpu).unwrap();
    registry.register(&kvm).unwrap();
    let config = Config {
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        prefix: "kvm".into(),
        ..Config::default()
    };
    let server = Server::start(&registry, config).unwrap();
    let mut unanswered = Vec::new();
    for i in 0..500 {
        let mut s = TcpStream::connect(server.addr()).unwrap();
        s.set_read_timeout(Some(CLIENT_TIMEOUT)).unwrap();
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        let text = String::from_utf8_lossy(&buf);
        if !(text.starts_with("HTTP/1.1 200 OK\r\n")
            && text.ends_with("\r\n\r\n# HELP kvm_vcpu_exits_total VM exits.\n# TYPE kvm_vcpu_exits_total counter\nkvm_vcpu_exits_total{vcpu=\"vcpu0\"} 7\n"))
        {
            unanswered.push((i, text.into_owned()));
        }
    }
    println!(
        "{} of 500 half-closed requests unanswered",
        unanswered.len()
    );
    assert_eq!(unanswered, Vec::<(i32, String)>::new());
    server.shutdown();
}
