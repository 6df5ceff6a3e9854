//! A mount goes away with the process that serves it, however that process ends: SIGTERM,
//! SIGINT (Ctrl-C) and SIGKILL, with no signal handler installed, both for `mount` (a
//! background session) and `mount_blocking`. Before, each left a dead mount behind
//! ("Transport endpoint is not connected").
//!
//! The mounting process is this test binary run again as a child: the `child` test mounts
//! when STATSFS_FUSE_CHILD names a directory, prints `mounted`, and waits to be signalled.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{fresh_dir, mounted_at, skip, tree};

const CHILD: &str = "STATSFS_FUSE_CHILD";

/// The mounting child (does nothing when run as an ordinary test).
#[test]
fn child() {
    let Some(dir) = std::env::var_os(CHILD) else {
        return;
    };
    let t = tree();
    let blocking = std::env::var_os("STATSFS_FUSE_CHILD_BLOCKING").is_some();
    if blocking {
        let registry = t.registry.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            println!("mounted");
            let _ = registry;
        });
        statsfs_fuse::mount_blocking(&t.registry, &dir, statsfs_fuse::Options::default()).unwrap();
    } else {
        let _m = statsfs_fuse::mount(&t.registry, &dir, statsfs_fuse::Options::default()).unwrap();
        println!("mounted");
        std::thread::sleep(Duration::from_secs(60));
    }
}

/// Whether the directory is usable (not a dead mount).
fn usable(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok()
}

fn ends_with(signal: i32, blocking: bool) {
    let name = format!("life-{signal}-{blocking}");
    let dir = fresh_dir(&name);
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env(CHILD, &dir)
        .stdout(Stdio::piped());
    if blocking {
        cmd.env("STATSFS_FUSE_CHILD_BLOCKING", "1");
    }
    let mut child = cmd.spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        if out.read_line(&mut line).unwrap() == 0 || line.contains("mounted") {
            break;
        }
    }
    if !line.contains("mounted") {
        let _ = child.wait();
        let _ = std::fs::remove_dir(&dir);
        return skip(&name, "the child could not mount");
    }
    // Wait for the mount to show (mount_blocking says so a little before it is up).
    let deadline = Instant::now() + Duration::from_secs(10);
    while !mounted_at(&dir) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(mounted_at(&dir), "the child mounted {}", dir.display());
    assert_eq!(common::read(dir.join("kvm/exits")), "100\n");
    // SAFETY: kill(2) on our own child.
    assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
    let status = child.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(signal),
        "the child died of the signal"
    );
    // The unmount may come from fusermount3 after the child is gone: allow it a moment
    // (a guard against hanging, not a timing assertion).
    let deadline = Instant::now() + Duration::from_secs(10);
    while mounted_at(&dir) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let left = mounted_at(&dir);
    let ok = usable(&dir);
    if left {
        let _ = Command::new("umount").arg("-l").arg(&dir).status();
    }
    let _ = std::fs::remove_dir(&dir);
    assert!(
        !left && ok,
        "signal {signal}: mount left behind (usable: {ok})"
    );
}

#[test]
fn sigterm_unmounts() {
    ends_with(libc::SIGTERM, false);
}

#[test]
fn sigint_unmounts() {
    ends_with(libc::SIGINT, false);
}

#[test]
fn sigkill_unmounts() {
    ends_with(libc::SIGKILL, false);
}

#[test]
fn sigterm_unmounts_a_blocking_mount() {
    ends_with(libc::SIGTERM, true);
}

#[test]
fn sigint_unmounts_a_blocking_mount() {
    ends_with(libc::SIGINT, true);
}
