//! Bounded abuse on loopback: a normal scrape must still be answered while many idle,
//! slowloris, slow-body or never-reading connections are held, and the abusive ones must
//! be closed by the server. Latencies are printed (run with `--nocapture`), not asserted;
//! every client I/O has a generous timeout that only guards against a hang.
//!
//! The tests run one at a time (a lock), so that they neither share nor starve each
//! other's file descriptors and threads.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use statsfs::{Counter, Instance, Registry, Source, StatsSource};
use statsfs_http::{Config, Server};

static SERIAL: Mutex<()> = Mutex::new(());

/// A guard against hangs, far above the 1 s a scrape is aimed at.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

/// One vCPU.
#[derive(Default, StatsSource)]
#[stats(name = "vcpu", label = "vcpu")]
struct VcpuStats {
    /// VM exits.
    exits: Counter,
}

struct Tree {
    registry: Registry,
    _keep: Vec<Instance<VcpuStats>>,
}

/// kvm/vm0/vcpu0..15, about 1 KiB of text per scrape.
fn tree() -> Tree {
    let registry = Registry::new();
    let kvm = Source::new("kvm").unwrap();
    registry.register(&kvm).unwrap();
    let vm = Source::new("vm0").unwrap();
    kvm.add_child(&vm).unwrap();
    let mut keep = Vec::new();
    for n in 0..16 {
        let s = Source::new(&format!("vcpu{n}")).unwrap();
        let st = Instance::<VcpuStats>::default();
        st.exits.add(n);
        s.add_instance(&st).unwrap();
        vm.add_child(&s).unwrap();
        keep.push(st);
    }
    Tree {
        registry,
        _keep: keep,
    }
}

fn loopback() -> Config {
    Config {
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        ..Config::default()
    }
}

/// Raises this process's soft RLIMIT_NOFILE to the hard limit: the tests hold both ends
/// of every connection.
fn raise_nofile() {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit on a properly sized, initialized struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) == 0 && r.rlim_cur < r.rlim_max {
            r.rlim_cur = r.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &r);
        }
    }
}

/// Caps the kernel's receive buffer of `s` (loopback autotuning would otherwise let it
/// take megabytes of replies that nobody reads, hiding a server that never gives up).
fn small_receive_buffer(s: &TcpStream) {
    use std::os::fd::AsRawFd;
    let size: libc::c_int = 16 * 1024;
    // SAFETY: a valid socket fd and a pointer to a c_int of the stated length.
    let rc = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&size as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "setsockopt(SO_RCVBUF)");
}

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

/// One normal scrape on a fresh connection: (status, body length, elapsed).
fn scrape(addr: SocketAddr) -> std::io::Result<(u16, usize, Duration)> {
    let t0 = Instant::now();
    let mut s = TcpStream::connect_timeout(&addr, CLIENT_TIMEOUT)?;
    s.set_read_timeout(Some(CLIENT_TIMEOUT))?;
    s.set_write_timeout(Some(CLIENT_TIMEOUT))?;
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map_or(0, |(_, b)| b.len());
    Ok((status, body, t0.elapsed()))
}

fn assert_scrape_ok(addr: SocketAddr, what: &str) -> Duration {
    let (status, len, took) = scrape(addr).unwrap_or_else(|e| panic!("{what}: scrape failed: {e}"));
    assert_eq!(status, 200, "{what}");
    assert!(len > 0, "{what}: empty body");
    println!("{what}: scrape answered in {took:?}");
    took
}

/// Opens `n` connections from a few threads, each connect bounded; returns those made.
fn connect_many(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    let per = 50;
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..n.div_ceil(per))
            .map(|i| {
                s.spawn(move || {
                    (0..per.min(n - i * per))
                        .filter_map(|_| {
                            TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    })
}

/// Whether the server closed `s`: reading ends in EOF or a reset (true) rather than a
/// timeout (false). Returns the bytes read on the way as well.
fn closed_by_server(s: &mut TcpStream) -> (bool, usize) {
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0;
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (true, total),
            Ok(n) => total += n,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return (true, total),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return (false, total),
        }
    }
}

#[test]
fn a_scrape_is_answered_while_1000_idle_connections_are_held() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    raise_nofile();
    let t = tree();
    let srv = Server::start(&t.registry, loopback()).unwrap();
    let idle = connect_many(srv.addr(), 1000);
    println!("idle: {} connections held", idle.len());
    assert_eq!(
        idle.len(),
        1000,
        "the kernel's backlog or accept refused some"
    );
    // Let the server accept them all before the scrape arrives.
    std::thread::sleep(Duration::from_millis(300));
    assert_scrape_ok(srv.addr(), "1000 idle connections");
    assert_scrape_ok(srv.addr(), "1000 idle connections, again");
}

#[test]
fn a_scrape_is_answered_while_200_slowloris_connections_trickle() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    raise_nofile();
    let t = tree();
    let srv = Server::start(&t.registry, loopback()).unwrap();
    let addr = srv.addr();
    let mut slow = connect_many(addr, 200);
    assert_eq!(slow.len(), 200);
    for s in &mut slow {
        s.set_write_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let _ = s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n");
    }
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|sc| {
        // One header byte per connection every 200 ms, as slowloris does.
        let trickle = sc.spawn(|| {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for s in &mut slow {
                    let _ = s.write_all(b"X");
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        std::thread::sleep(Duration::from_millis(500));
        let r = std::panic::catch_unwind(|| assert_scrape_ok(addr, "200 slowloris connections"));
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        trickle.join().unwrap();
        if let Err(p) = r {
            std::panic::resume_unwind(p);
        }
    });
}

#[test]
fn a_scrape_is_answered_while_70_pipelining_clients_never_read_and_they_are_closed() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    raise_nofile();
    let t = tree();
    let config = Config {
        write_timeout: Duration::from_secs(1),
        send_buffer_bytes: 64 * 1024,
        ..loopback()
    };
    let srv = Server::start(&t.registry, config).unwrap();
    let addr = srv.addr();
    let one = scrape(addr).unwrap().1;
    let rss_before = rss_kib();
    let mut readers = connect_many(addr, 70);
    assert_eq!(readers.len(), 70);
    for s in &readers {
        small_receive_buffer(s);
    }
    const PIPELINED: usize = 5000;
    let req = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".repeat(PIPELINED);
    std::thread::scope(|sc| {
        for s in &mut readers {
            let req = &req;
            sc.spawn(move || {
                // Writes until the server stops reading (its replies are never read).
                s.set_write_timeout(Some(Duration::from_secs(1))).unwrap();
                let _ = s.write_all(req);
            });
        }
    });
    assert_scrape_ok(addr, "70 pipelining non-readers");
    // What the server buffers for them is bounded (about one reply each), not 5000 replies.
    let grown = rss_kib().saturating_sub(rss_before);
    println!("70 pipelining non-readers: RSS grew by {grown} KiB");
    assert!(grown < 64 * 1024, "RSS grew by {grown} KiB");
    // The server gives up on each of them: reading what is left ends in EOF or a reset
    // rather than in all 5000 replies followed by a wait for more requests.
    std::thread::sleep(Duration::from_secs(3));
    let mut closed = 0;
    for s in &mut readers {
        let (c, got) = closed_by_server(s);
        assert!(got < PIPELINED * one, "all replies were delivered");
        closed += c as usize;
    }
    assert_eq!(closed, 70, "connections the server closed");
}

#[test]
fn a_clear_body_sent_at_one_byte_a_second_is_timed_out() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let t = tree();
    let config = Config {
        allow_clear: true,
        body_timeout: Duration::from_secs(1),
        ..loopback()
    };
    let srv = Server::start(&t.registry, config).unwrap();
    let mut s = TcpStream::connect(srv.addr()).unwrap();
    s.write_all(
        b"POST /clear?path=kvm/vm0/vcpu1/exits HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
    )
    .unwrap();
    let mut w = s.try_clone().unwrap();
    let t0 = Instant::now();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (status, took) = std::thread::scope(|sc| {
        sc.spawn(|| {
            // One byte of body every 300 ms, for at most 12 s.
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && t0.elapsed().as_secs() < 12 {
                if w.write_all(b"1\r\nx\r\n").is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(300));
            }
        });
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        let mut buf = [0u8; 512];
        let n = s.read(&mut buf).unwrap_or(0);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let head = String::from_utf8_lossy(&buf[..n]).into_owned();
        (
            head.split(' ').nth(1).and_then(|c| c.parse::<u16>().ok()),
            t0.elapsed(),
        )
    });
    println!("slow clear body answered after {took:?}");
    assert_eq!(status, Some(408));
    assert_eq!(
        match t.registry.lookup("kvm/vm0/vcpu1/exits").unwrap() {
            statsfs::Entry::Value(v) => v.read(),
            statsfs::Entry::Source(_) => panic!("a value"),
        },
        1,
        "nothing was cleared"
    );
}
