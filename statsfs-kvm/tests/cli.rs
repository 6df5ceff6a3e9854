//! Bad command lines get a clear error and change nothing: no panic, no busy loop, no hang,
//! no silent substitution. Run through the real binaries.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use statsfs_kvm::binary::{encode, stat_type, Desc};

/// Runs a binary, killing it if it has not exited after `guard` (a hang is a failure; the
/// guard is far above what a working run takes, it is not a timing assertion).
fn run(bin: &str, args: &[&str], guard: Duration) -> (Output, Duration) {
    let start = Instant::now();
    let mut child = Command::new(bin)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > guard {
            child.kill().unwrap();
            let _ = child.wait();
            panic!("{bin} {args:?} still running after {guard:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let took = start.elapsed();
    (child.wait_with_output().unwrap(), took)
}

/// Runs `bin` with a 30 s hang guard: (exit code, stdout, stderr).
fn outcome(bin: &str, args: &[&str]) -> (i32, String, String) {
    let (o, _) = run(bin, args, Duration::from_secs(30));
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn vmm(args: &[&str]) -> (i32, String, String) {
    outcome(env!("CARGO_BIN_EXE_statsfs-kvm"), args)
}

fn top(args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["top"];
    all.extend_from_slice(args);
    outcome(env!("CARGO_BIN_EXE_statsfs"), &all)
}

#[test]
fn durations_and_intervals_that_used_to_panic_or_spin_are_refused() {
    for (bad, why) in [
        ("-1", "-1 s is outside 0 s ..= 31536000 s"),
        ("nan", "`nan` is not a finite number of seconds"),
        ("inf", "`inf` is not a finite number of seconds"),
        ("1e300", "1e300 s is outside 0 s ..= 31536000 s"),
    ] {
        let (code, out, err) = vmm(&["--simulate", "--no-mount", "--duration", bad]);
        assert_eq!(code, 2, "--duration {bad}: {out}{err}");
        assert!(
            err.contains(&format!(
                "invalid value '{bad}' for '--duration <DURATION>': {why}"
            )),
            "{err}"
        );
        assert!(out.is_empty() && !err.contains("panicked"), "{err}");
    }
    for (bad, why) in [
        ("inf", "`inf` is not a finite number of seconds"),
        ("1e20", "1e20 s is outside 0.01 s ..= 86400 s"),
        ("0", "0 s is outside 0.01 s ..= 86400 s"),
        ("-1", "-1 s is outside 0.01 s ..= 86400 s"),
    ] {
        let (code, _, err) = top(&["--binary", "/nonexistent", "--interval", bad]);
        assert_eq!(code, 2, "--interval {bad}: {err}");
        assert!(
            err.contains(&format!(
                "invalid value '{bad}' for '--interval <INTERVAL>': {why}"
            )),
            "{err}"
        );
    }
}

#[test]
fn a_long_pace_never_delays_the_exit() {
    let (code, _, err) = vmm(&[
        "--simulate",
        "--no-mount",
        "--pace-us",
        "18446744073709551615",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("invalid value '18446744073709551615' for '--pace-us <PACE_US>': 18446744073709551615 is not in 0..=10000000"),
        "{err}"
    );
    // The longest pace allowed, 10 s per HLT: the vCPU threads sleep in it, and shutdown
    // wakes them at once. Before, the run took the whole pace to stop.
    let (o, took) = run(
        env!("CARGO_BIN_EXE_statsfs-kvm"),
        &[
            "--simulate",
            "--no-mount",
            "--http",
            "127.0.0.1:0",
            "--pace-us",
            "10000000",
            "--duration",
            "0.3",
        ],
        Duration::from_secs(8),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    eprintln!("stopped {took:?} after start with vCPUs asleep for 10 s");
}

#[test]
fn vcpu_and_vm_counts_fail_fast_or_work() {
    // Far too many threads: refused before any is started.
    let (code, out, err) = vmm(&["--simulate", "--no-mount", "--vms", "2", "--vcpus", "10000"]);
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(
        err,
        "statsfs-kvm: cannot start the VMs: 2 VMs x 10000 vCPUs is more than the 4096 vCPU threads a VMM starts\n"
    );
    assert!(out.is_empty());
    // A VM without vCPUs is a VM (it used to fail on a duplicate aggregate).
    let (code, out, err) = vmm(&[
        "--simulate",
        "--no-mount",
        "--http",
        "127.0.0.1:0",
        "--vms",
        "2",
        "--vcpus",
        "0",
        "--duration",
        "0.1",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    // No VM: no kernel statistics, and the reason given is that one.
    if std::path::Path::new("/dev/kvm").exists() {
        let (code, out, err) = vmm(&[
            "--no-mount",
            "--http",
            "127.0.0.1:0",
            "--vms",
            "0",
            "--duration",
            "0.1",
        ]);
        assert_eq!(code, 0, "{out}{err}");
        assert_eq!(
            out.lines().next().unwrap(),
            "statsfs-kvm: 0 VMs x 2 vCPUs running real guests on /dev/kvm; kernel statistics none (no VM to read them from)"
        );
        let (code, out, err) = vmm(&[
            "--no-mount",
            "--http",
            "127.0.0.1:0",
            "--vms",
            "2",
            "--vcpus",
            "0",
            "--duration",
            "0.1",
        ]);
        assert_eq!(code, 0, "{out}{err}");
        // More vCPUs than KVM allows per VM: refused up front with the host's limit.
        let max = kvm_ioctls::Kvm::new().unwrap().get_max_vcpus();
        if max < 4096 {
            let n = (max + 1).to_string();
            let (code, _, err) = vmm(&["--no-mount", "--vms", "1", "--vcpus", &n]);
            assert_eq!(code, 1);
            assert_eq!(
                err,
                format!("statsfs-kvm: cannot start the VMs: {n} vCPUs per VM: this host's KVM allows at most {max} (KVM_CAP_MAX_VCPUS)\n")
            );
        }
    } else {
        assert!(std::env::var_os("CI").is_none(), "/dev/kvm missing in CI");
        eprintln!("SKIPPED: the real-VM cases (no /dev/kvm)");
    }
}

#[test]
fn http_addresses_are_honoured_refused_or_warned_about() {
    // A port in use that the user asked for: refused, not replaced.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (code, out, err) = vmm(&[
        "--simulate",
        "--no-mount",
        "--http",
        &addr,
        "--duration",
        "0.1",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.starts_with(&format!("statsfs-kvm: cannot serve HTTP on {addr} (")),
        "{err}"
    );
    // The default port taken (by us, or by anything else): a free port, said so.
    let _default = std::net::TcpListener::bind("127.0.0.1:9190");
    let (code, out, err) = vmm(&["--simulate", "--no-mount", "--duration", "0.1"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("\n  http: the default address 127.0.0.1:9190 is not available ("),
        "{out}"
    );
    assert!(out.contains("; using a free port\n  http:       curl http://127.0.0.1:"));
    // Every interface: served, with a warning.
    let (code, out, err) = vmm(&[
        "--simulate",
        "--no-mount",
        "--http",
        "0.0.0.0:0",
        "--duration",
        "0.1",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(" is not a loopback address: anyone who can reach this host can read these statistics\n"),
        "{out}"
    );
}

fn scalar(name: &str, offset: u32) -> Desc {
    Desc {
        flags: stat_type::CUMULATIVE,
        exponent: 0,
        size: 1,
        offset,
        bucket_size: 0,
        name: name.into(),
    }
}

/// A binary stats file in a fresh private directory, removed on drop.
struct Tmp(std::path::PathBuf);

impl Tmp {
    fn new(name: &str, bytes: &[u8]) -> Tmp {
        let dir = std::env::temp_dir().join(format!("statsfs-cli-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("stats");
        std::fs::write(&p, bytes).unwrap();
        Tmp(p)
    }
    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.0.parent().unwrap());
    }
}

#[test]
fn top_reads_binary_files_exactly_and_prints_names_safely() {
    // An unaligned item, a value above 2^53, and a name carrying a terminal escape.
    let mut bytes = encode(
        "kvm-1",
        &[scalar("odd", 4), scalar("\x1b]0;owned\x07big", 16)],
        &[0, 0, 0],
    );
    let data = bytes.len() - 24;
    bytes[data + 4..data + 12].copy_from_slice(&7u64.to_ne_bytes());
    bytes[data + 16..data + 24].copy_from_slice(&u64::MAX.to_ne_bytes());
    let f = Tmp::new("ok", &bytes);
    let (code, out, err) = top(&["--binary", f.path(), "--once", "--interval", "0.01"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "NAME                              VALUE       RATE/s\n\
         \\u{1b}]0;owned\\u{7}big 18446744073709551615            0\n\
         odd                                   7            0\n"
    );
    assert!(!out.contains('\x1b'));

    // A truncated file: an error naming the problem, not an empty table.
    let t = Tmp::new("short", &bytes[..bytes.len() - 1]);
    let (code, out, err) = top(&["--binary", t.path(), "--once"]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert_eq!(
        err,
        format!(
            "statsfs top: {}: data block ends at byte {}, past the end of the file ({} bytes)\n",
            t.path(),
            bytes.len(),
            bytes.len() - 1
        )
    );
    // Two descriptors of one name: refused, not merged.
    let d = Tmp::new(
        "dup",
        &encode("kvm-1", &[scalar("x", 0), scalar("x", 8)], &[1, 2]),
    );
    let (code, _, err) = top(&["--binary", d.path(), "--once"]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        format!(
            "statsfs top: {}: duplicate descriptor name \"x\"\n",
            d.path()
        )
    );
}
