//! What the tree refuses, and with which errno: what debugfs answers a user (checked on
//! the real /sys/kernel/debug/kvm as root): EPERM for mkdir, rmdir, unlink, rename,
//! symlink, link and special files, EACCES for creating a regular file. Setting times and
//! truncating to a size other than 0 are refused too (debugfs stores them silently; here
//! nothing would change, so saying so is better); truncating to 0 keeps working so that
//! `echo 0 > file` clears.

mod common;

use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

use common::{errno, mounted, read, tree};

fn c(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap()
}

fn mknod(p: &Path, mode: libc::mode_t) -> i32 {
    // SAFETY: a valid C string.
    if unsafe { libc::mknod(c(p).as_ptr(), mode, 0) } == 0 {
        0
    } else {
        std::io::Error::last_os_error().raw_os_error().unwrap()
    }
}

#[test]
fn namespace_changes_get_debugfs_errnos() {
    let t = tree();
    let Some(m) = mounted(&t.registry, "refuse-ns") else {
        return;
    };
    let kvm = m.dir.join("kvm");
    assert_eq!(errno(fs::create_dir(kvm.join("x"))), libc::EPERM, "mkdir");
    assert_eq!(errno(fs::remove_dir(kvm.join("vm"))), libc::EPERM, "rmdir");
    assert_eq!(
        errno(fs::remove_file(kvm.join("exits"))),
        libc::EPERM,
        "unlink"
    );
    assert_eq!(
        errno(fs::rename(kvm.join("exits"), kvm.join("z"))),
        libc::EPERM,
        "rename"
    );
    assert_eq!(
        errno(fs::rename(kvm.join("vm"), kvm.join("vm2"))),
        libc::EPERM,
        "rename dir"
    );
    assert_eq!(
        errno(std::os::unix::fs::symlink("exits", kvm.join("w"))),
        libc::EPERM,
        "symlink"
    );
    assert_eq!(
        errno(fs::hard_link(kvm.join("exits"), kvm.join("v"))),
        libc::EPERM,
        "link"
    );
    assert_eq!(
        errno(fs::File::create(kvm.join("y"))),
        libc::EACCES,
        "create"
    );
    assert_eq!(mknod(&kvm.join("q"), libc::S_IFREG | 0o600), libc::EACCES);
    assert_eq!(mknod(&kvm.join("p"), libc::S_IFIFO | 0o600), libc::EPERM);
    // Nothing changed.
    let mut names: Vec<String> = fs::read_dir(&kvm)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["exits", "halt_wakeup", "pages", "vm"]);
    assert_eq!(read(kvm.join("exits")), "100\n");
}

#[test]
fn utime_and_truncate_to_non_zero_are_refused_truncate_to_zero_is_not() {
    let t = tree();
    let Some(m) = mounted(&t.registry, "refuse-attr") else {
        return;
    };
    let exits = m.dir.join("kvm/vm/vcpu0/exits");
    let before = fs::metadata(&exits).unwrap();
    // touch(1): utimensat with UTIME_NOW, then with explicit times.
    let f = fs::File::open(&exits).unwrap();
    assert_eq!(
        errno(f.set_modified(std::time::SystemTime::UNIX_EPOCH)),
        libc::EPERM,
        "utime"
    );
    drop(f);
    let out = Command::new("touch").arg(&exits).output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Operation not permitted"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = fs::metadata(&exits).unwrap();
    assert_eq!(
        (after.mtime(), after.mtime_nsec(), after.atime()),
        (before.mtime(), before.mtime_nsec(), before.atime())
    );
    // truncate(2) to 5: EINVAL, as writing 5 is; to 0: fine, and clears nothing by itself.
    // SAFETY: valid C string.
    let r = unsafe { libc::truncate(c(&exits).as_ptr(), 5) };
    assert_eq!(
        (r, std::io::Error::last_os_error().raw_os_error()),
        (-1, Some(libc::EINVAL))
    );
    assert_eq!(fs::metadata(&exits).unwrap().len(), 0);
    // SAFETY: valid C string.
    assert_eq!(unsafe { libc::truncate(c(&exits).as_ptr(), 0) }, 0);
    assert_eq!(read(&exits), "100\n");
    // A file that cannot be cleared cannot be truncated at all.
    let pages = m.dir.join("kvm/vm/vcpu0/pages");
    assert_eq!(
        errno(
            fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(&pages)
        ),
        libc::EACCES
    );
    // `echo 0 > file` (open with O_TRUNC, then write) still clears.
    let out = Command::new("sh")
        .arg("-c")
        .arg("echo 0 > \"$1\"")
        .arg("sh")
        .arg(&exits)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(read(&exits), "0\n");
    assert_eq!(t.stats.exits.get(), 0);
}
