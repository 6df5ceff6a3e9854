//! `statsfs top`: batch mode checked exactly against each input kind, live mode in tmux.

mod common;

use std::process::Command;
use std::time::Duration;

use statsfs::{Counter, Instance, Registry, Source, StatsSource};
use statsfs_kvm::binary::{self, stat_type, Desc};

/// Test tree values.
#[derive(Default, StatsSource)]
#[stats(name = "cpu", label = "cpu")]
struct Cpu {
    /// Exits.
    exits: Counter,
    /// Halts.
    halts: Counter,
}

fn top(args: &[&str]) -> (bool, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_statsfs"))
        .arg("top")
        .args(args)
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The test tree over HTTP on a free loopback port, metric prefix `t`.
fn serve(reg: &Registry) -> statsfs_http::Server {
    let config = statsfs_http::Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        prefix: "t".into(),
        ..Default::default()
    };
    statsfs_http::Server::start(reg, config).unwrap()
}

fn tree() -> (Registry, Vec<Instance<Cpu>>) {
    let reg = Registry::new();
    let root = Source::new("vm").unwrap();
    root.add_aggregate_of::<Cpu>().unwrap();
    let mut keep = Vec::new();
    for (i, (e, h)) in [(30u64, 1u64), (12, 5)].into_iter().enumerate() {
        let s = Source::new(&format!("cpu{i}")).unwrap();
        let c = Instance::new(Cpu::default());
        c.exits.add(e);
        c.halts.add(h);
        s.add_instance(&c).unwrap();
        root.add_child(&s).unwrap();
        keep.push(c);
    }
    reg.register(&root).unwrap();
    (reg, keep)
}

#[test]
fn batch_from_a_binary_stats_file_is_exact() {
    let descs = vec![
        Desc {
            flags: stat_type::CUMULATIVE,
            exponent: 0,
            size: 1,
            offset: 0,
            bucket_size: 0,
            name: "exits".into(),
        },
        Desc {
            flags: stat_type::INSTANT,
            exponent: 0,
            size: 1,
            offset: 8,
            bucket_size: 0,
            name: "blocking".into(),
        },
        Desc {
            flags: stat_type::LOG_HIST,
            exponent: -9,
            size: 2,
            offset: 16,
            bucket_size: 0,
            name: "wait_hist".into(),
        },
    ];
    let scratch = common::Scratch::new("top-binary");
    let path = scratch.join("stats.bin");
    std::fs::write(
        &path,
        binary::encode("kvm-1/vcpu-0", &descs, &[1234, 1, 5, 6]),
    )
    .unwrap();
    let (ok, out, err) = top(&[
        "--binary",
        path.to_str().unwrap(),
        "--once",
        "--interval",
        "0.01",
    ]);
    assert!(ok, "{err}");
    assert_eq!(out, "NAME                VALUE       RATE/s\nblocking                1            0\nexits                1234            0\n");
    let (ok, out, _) = top(&[
        "--binary",
        path.to_str().unwrap(),
        "--once",
        "--interval",
        "0.01",
        "--filter",
        "^ex",
    ]);
    assert!(ok);
    assert_eq!(
        out,
        "NAME             VALUE       RATE/s\nexits             1234            0\n"
    );
    let (ok, _, err) = top(&["--binary", "/nonexistent", "--once"]);
    assert!(
        !ok && err.starts_with("statsfs top: /nonexistent:"),
        "{err}"
    );
    let (ok, _, err) = top(&[
        "--binary",
        path.to_str().unwrap(),
        "--once",
        "--filter",
        "(",
    ]);
    assert!(!ok && err.starts_with("statsfs top: bad --filter"), "{err}");
}

#[test]
fn batch_from_http_is_exact_and_rates_are_per_second() {
    let (reg, keep) = tree();
    let srv = serve(&reg);
    let addr = srv.addr().to_string();
    let (ok, out, err) = top(&[
        "--http",
        &addr,
        "--once",
        "--interval",
        "0.01",
        "--filter",
        "exits",
    ]);
    assert!(ok, "{err}");
    assert_eq!(
        out,
        "NAME                                     VALUE       RATE/s\n\
         t_cpu_exits_total{cpu=\"cpu0\"}               30            0\n\
         t_cpu_exits_total{cpu=\"cpu1\"}               12            0\n"
    );
    // Rates: cpu1 counts 100 per 0.1 s while top samples one second apart.
    let stop = std::sync::atomic::AtomicBool::new(false);
    let out = std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                keep[1].halts.add(100);
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let r = top(&[
            "--http",
            &addr,
            "--once",
            "--interval",
            "1",
            "--filter",
            "halts",
        ]);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        r.1
    });
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines[1].starts_with("t_cpu_halts_total{cpu=\"cpu1\"}"),
        "sorted by rate: {out}"
    );
    let rate: f64 = lines[1].split_whitespace().last().unwrap().parse().unwrap();
    assert!((700.0..=1300.0).contains(&rate), "about 1000/s: {rate}");
    assert!(lines[2].ends_with(" 0"), "{out}");
}

#[test]
fn batch_from_a_mount_is_exact() {
    let (reg, _keep) = tree();
    let Some(dir) = common::mount(&reg, "top-mount") else {
        return;
    };
    let (ok, out, err) = top(&[
        "--mount",
        dir.to_str().unwrap(),
        "--once",
        "--interval",
        "0.01",
    ]);
    assert!(ok, "{err}");
    assert_eq!(
        out,
        "NAME                     VALUE       RATE/s\nvm/cpu0/exits               30            0\nvm/cpu0/halts                1            0\n\
         vm/cpu1/exits               12            0\nvm/cpu1/halts                5            0\nvm/exits                    42            0\nvm/halts                     6            0\n"
    );
}

#[test]
fn live_mode_under_tmux() {
    if Command::new("tmux").arg("-V").output().is_err() {
        assert!(std::env::var_os("CI").is_none(), "tmux missing in CI");
        return eprintln!("SKIPPED: tmux not installed");
    }
    let (reg, keep) = tree();
    let srv = serve(&reg);
    let session = format!("statsfs-top-{}", std::process::id());
    let cmd = format!(
        "{} top --http {} --interval 0.3",
        env!("CARGO_BIN_EXE_statsfs"),
        srv.addr()
    );
    // A private tmux server on a socket in a scratch directory: nothing is left in /tmp.
    let scratch = common::Scratch::new("tmux");
    let socket = scratch.join("socket");
    let tmux = |args: &[&str]| {
        Command::new("tmux")
            .arg("-S")
            .arg(&socket)
            .args(args)
            .output()
            .unwrap()
    };
    assert!(tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "120",
        "-y",
        "30",
        &cmd
    ])
    .status
    .success());
    let stop = std::sync::atomic::AtomicBool::new(false);
    let screen = std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                keep[0].exits.add(10);
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        std::thread::sleep(Duration::from_millis(1500));
        let out = tmux(&["capture-pane", "-p", "-t", &session]);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        String::from_utf8_lossy(&out.stdout).into_owned()
    });
    tmux(&["send-keys", "-t", &session, "C-c"]);
    std::thread::sleep(Duration::from_millis(300));
    let _ = tmux(&["kill-server"]);
    let lines: Vec<&str> = screen.lines().collect();
    assert!(
        lines[0].starts_with(" statsfs top: 4 values, every 0.3 s (Ctrl-C to quit)"),
        "{screen}"
    );
    assert!(lines[1].starts_with("NAME"), "{screen}");
    // The busy counter is first, with a rate near 1000/s.
    assert!(
        lines[2].starts_with("t_cpu_exits_total{cpu=\"cpu0\"}"),
        "{screen}"
    );
    let rate: f64 = lines[2].split_whitespace().last().unwrap().parse().unwrap();
    assert!(rate > 300.0, "{screen}");
}
