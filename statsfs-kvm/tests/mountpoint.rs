//! Where `statsfs-kvm` mounts, through the real binary: the default is a fresh private
//! directory (not a predictable name in /tmp that another user can plant a symbolic link
//! at), removed on exit, also after SIGTERM; a `--mount` path that is a file, a link, a
//! non-empty directory or below a missing directory is refused with a clear error and
//! nothing changed; a missing directory whose parent exists is made and removed again.

use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_statsfs-kvm");

fn fuse_mounts() -> Vec<String> {
    fs::read_to_string("/proc/mounts")
        .unwrap()
        .lines()
        .filter(|l| l.contains(" fuse"))
        .filter_map(|l| l.split(' ').nth(1).map(str::to_owned))
        .collect()
}

fn skip(why: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("cannot run in CI: {why}");
    }
    eprintln!("SKIPPED: {why}");
}

/// A scratch directory for one test, removed (with everything in it) when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let d = std::env::temp_dir().join(format!("statsfs-kvm-mp-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir(&d).unwrap();
        Scratch(d)
    }

    fn dir(&self, name: &str, mode: u32) -> PathBuf {
        let d = self.0.join(name);
        fs::create_dir(&d).unwrap();
        fs::set_permissions(&d, fs::Permissions::from_mode(mode)).unwrap();
        d
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for m in fuse_mounts() {
            if Path::new(&m).starts_with(&self.0) {
                let _ = Command::new("umount").arg("-l").arg(&m).status();
            }
        }
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A running child, killed if a failed assertion leaves it running.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// The `  filesystem: ...` line of a running child.
fn filesystem_line(child: &mut Child) -> String {
    let out = child.stdout.take().unwrap();
    let mut lines = BufReader::new(out).lines();
    let line = lines
        .by_ref()
        .map(|l| l.unwrap())
        .find(|l| l.starts_with("  filesystem:"))
        .unwrap_or_default();
    // Keep draining so the child never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    line
}

#[test]
fn default_mount_point_is_private_and_ignores_a_planted_link() {
    if !Path::new("/dev/fuse").exists() {
        return skip("no /dev/fuse");
    }
    let s = Scratch::new("default");
    let tmp = s.dir("tmp", 0o1777);
    let run = s.dir("run", 0o700);
    let victim = s.dir("victim", 0o755);
    // As the attacker: a link at the name the next process would use.
    let child = Command::new("sh")
        .arg("-c")
        .arg("ln -s \"$VICTIM\" \"$TMPDIR/statsfs-kvm-$$\" && exec \"$BIN\" --simulate --duration 2 --http 127.0.0.1:0")
        .env("VICTIM", &victim)
        .env("TMPDIR", &tmp)
        .env("XDG_RUNTIME_DIR", &run)
        .env("BIN", BIN)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Running(child);
    let line = filesystem_line(&mut child.0);
    let mounts = fuse_mounts();
    let status = child.0.wait().unwrap();
    assert!(status.success());
    assert!(
        !mounts.contains(&victim.to_string_lossy().into_owned()),
        "mounted on the victim: {line}"
    );
    let dir = line
        .strip_prefix("  filesystem: ")
        .and_then(|l| l.split("   ").next())
        .map(PathBuf::from)
        .unwrap_or_default();
    assert_eq!(dir.parent(), Some(run.as_path()), "{line}");
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("statsfs-kvm-") && name.len() == 18,
        "{name}"
    );
    assert!(
        mounts.contains(&dir.to_string_lossy().into_owned()),
        "{line}"
    );
    // On exit: unmounted and removed; the planted link left alone.
    assert!(!fuse_mounts().iter().any(|m| Path::new(m).starts_with(&s.0)));
    assert_eq!(fs::read_dir(&run).unwrap().count(), 0, "{name} left behind");
    assert_eq!(fs::read_dir(&victim).unwrap().count(), 0);
    assert_eq!(
        fs::read_dir(&tmp).unwrap().count(),
        1,
        "only the planted link"
    );
}

#[test]
fn sigterm_unmounts_and_removes_the_default_mount_point() {
    if !Path::new("/dev/fuse").exists() {
        return skip("no /dev/fuse");
    }
    let s = Scratch::new("term");
    let run = s.dir("run", 0o700);
    let child = Command::new(BIN)
        .args(["--simulate", "--http", "127.0.0.1:0"])
        .env("XDG_RUNTIME_DIR", &run)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Running(child);
    let line = filesystem_line(&mut child.0);
    assert!(
        line.starts_with(&format!("  filesystem: {}/statsfs-kvm-", run.display())),
        "{line}"
    );
    // The handler is installed a little after the mount: wait until SIGTERM is caught.
    let caught = || {
        let status = fs::read_to_string(format!("/proc/{}/status", child.0.id())).unwrap();
        let mask = status
            .lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .map(|m| u64::from_str_radix(m.trim(), 16).unwrap())
            .unwrap();
        mask & (1 << (libc::SIGTERM - 1)) != 0
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !caught() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // SAFETY: kill(2) on our own child.
    assert_eq!(unsafe { libc::kill(child.0.id() as i32, libc::SIGTERM) }, 0);
    let status = child.0.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(!fuse_mounts().iter().any(|m| Path::new(m).starts_with(&s.0)));
    assert_eq!(fs::read_dir(&run).unwrap().count(), 0, "left behind");
}

#[test]
fn bad_mount_paths_are_refused_and_change_nothing() {
    let s = Scratch::new("bad");
    let file = s.0.join("file");
    fs::write(&file, "x").unwrap();
    let full = s.dir("full", 0o755);
    fs::write(full.join("keep"), "x").unwrap();
    let link = s.0.join("link");
    std::os::unix::fs::symlink(&full, &link).unwrap();
    let nested = s.0.join("a/b");
    let cases = [
        (&file, "not a directory"),
        (
            &full,
            "directory not empty (mounting would hide what it holds)",
        ),
        (
            &link,
            "is a symbolic link (not followed); give the directory itself",
        ),
        (
            &nested,
            "no such directory, and its parent does not exist either",
        ),
    ];
    for (path, why) in cases {
        let out = Command::new(BIN)
            .args([
                "--simulate",
                "--duration",
                "0.2",
                "--http",
                "127.0.0.1:0",
                "--mount",
            ])
            .arg(path)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{path:?} accepted");
        assert_eq!(
            err.trim_end(),
            format!(
                "statsfs-kvm: cannot mount on {}: {}: {why}",
                path.display(),
                path.display()
            )
        );
        assert!(!fuse_mounts().iter().any(|m| Path::new(m).starts_with(&s.0)));
    }
    assert_eq!(fs::read_to_string(&file).unwrap(), "x");
    assert_eq!(fs::read_to_string(full.join("keep")).unwrap(), "x");
    assert!(!s.0.join("a").exists(), "nested parents made");
}

#[test]
fn a_missing_mount_directory_is_made_and_removed() {
    if !Path::new("/dev/fuse").exists() {
        return skip("no /dev/fuse");
    }
    let s = Scratch::new("made");
    let dir = s.0.join("here");
    let out = Command::new(BIN)
        .args([
            "--simulate",
            "--duration",
            "0.3",
            "--http",
            "127.0.0.1:0",
            "--mount",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!("\n  filesystem: {}   try:", dir.display())),
        "{stdout}"
    );
    assert!(!dir.exists(), "made for the mount, so removed after it");
}
