//! The README's main command, run as a user would (shortened with --duration): it starts,
//! says where to look, serves the tree through FUSE and HTTP, and stops cleanly; simulated
//! mode says so in one line.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

fn run(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_statsfs-kvm"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn simulated_mode_says_so_and_serves() {
    let (ok, out) = run(&[
        "--simulate",
        "--duration",
        "0.5",
        "--http",
        "127.0.0.1:0",
        "--no-mount",
    ]);
    assert!(ok, "{out}");
    let first = out.lines().next().unwrap();
    assert_eq!(
        first,
        "statsfs-kvm: DEGRADED: no usable /dev/kvm (simulation requested); simulating 4 vCPUs in user space, without kernel statistics"
    );
    assert!(
        out.contains("\n  filesystem: not mounted (--no-mount)\n"),
        "{out}"
    );
    assert!(
        out.contains("\n  http:       curl http://127.0.0.1:"),
        "{out}"
    );
    assert!(
        out.lines()
            .last()
            .unwrap()
            .starts_with("statsfs-kvm: stopped after"),
        "{out}"
    );
}

#[test]
fn real_vms_through_fuse_and_http_at_once() {
    if !std::path::Path::new("/dev/kvm").exists() {
        assert!(std::env::var_os("CI").is_none(), "/dev/kvm missing in CI");
        return eprintln!("SKIPPED: /dev/kvm does not exist");
    }
    let dir = std::env::temp_dir().join(format!("statsfs-kvm-main-{}", std::process::id()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_statsfs-kvm"))
        .args(["--duration", "3", "--http", "127.0.0.1:0", "--mount"])
        .arg(&dir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert_eq!(first, "statsfs-kvm: 2 VMs x 2 vCPUs running real guests on /dev/kvm; kernel statistics imported from KVM_GET_STATS_FD");
    let fs_line = lines.next().unwrap().unwrap();
    assert!(
        fs_line.starts_with(&format!("  filesystem: {}", dir.display())),
        "{fs_line}"
    );
    let http = lines.next().unwrap().unwrap();
    let addr = http
        .split("http://")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    // Then how the kernel's stats differ from schemas/kvm.toml, as a VMM of this process
    // finds them on the same kernel.
    let own = statsfs_kvm::Vmm::start(statsfs_kvm::Options {
        vms: 1,
        vcpus: 1,
        ..statsfs_kvm::Options::default()
    })
    .unwrap();
    let drift: Vec<String> = own.kernel_drift.iter().map(|d| d.to_string()).collect();
    own.stop();
    assert_eq!(drift.len(), 2, "{drift:?}");
    assert_eq!(
        lines.next().unwrap().unwrap(),
        format!("  kernel stats vs schemas/kvm.toml: {}", drift.join("; "))
    );
    std::thread::sleep(std::time::Duration::from_millis(500));
    // The filesystem: VM directories named <pid>-<fd> with vCPU directories, live values.
    let kvm = dir.join("kvm");
    let vms: Vec<String> = std::fs::read_dir(&kvm)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().into_string().unwrap())
        .collect();
    assert_eq!(vms.len(), 2);
    assert!(
        vms.iter()
            .all(|v| v.starts_with(&format!("{}-", child.id()))),
        "{vms:?}"
    );
    let exits: u64 = std::fs::read_to_string(kvm.join("vmm_exits"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(exits > 0);
    assert!(
        std::fs::read_to_string(kvm.join(&vms[0]).join("vcpu1/exits"))
            .unwrap()
            .trim()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    // HTTP at the same time.
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    assert!(
        body.contains("\nstatsfs_vmm_vcpu_exits_total{vm=\""),
        "VMM series"
    );
    assert!(
        body.contains("\nstatsfs_kvm_vcpu_exits_total{vm=\""),
        "imported kernel series"
    );
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    assert!(child.wait().unwrap().success());
    assert!(
        rest.last()
            .unwrap()
            .starts_with("statsfs-kvm: stopped after"),
        "{rest:?}"
    );
    assert!(!kvm.exists(), "unmounted on exit");
}
