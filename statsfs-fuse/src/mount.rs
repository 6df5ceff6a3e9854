//! Mounting: options as the kernel's statsfs had them, a handle that unmounts on drop, and a
//! blocking variant for command-line tools.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use std::ffi::OsStr;
use std::sync::Mutex;

use fuser::{BackgroundSession, Config, INodeNo, MountOption, Notifier, SessionACL};
use statsfs_runtime::watch::{Change, Watch};
use statsfs_runtime::Registry;

use crate::fs::{lock, StatsFs};
use crate::inode::Inodes;

/// The per-directory file holding every value of the directory's subtree in one read,
/// consistent per group: one `relative/path/name value` line each. Its name starts with
/// the runtime's reserved prefix, so no value or source can take it. Not listed by
/// `readdir` (so `grep -r` does not read everything twice); open it by name.
pub const BULK_FILE: &str = ".statsfs";

/// The per-directory file holding that directory's own values (simple and aggregate) in
/// KVM's binary stats layout (`KVM_GET_STATS_FD`): what `kvm_stat`-style tools parse, and
/// what `statsfs top --binary` reads. Not listed, like [`BULK_FILE`].
pub const BINARY_FILE: &str = ".statsfs-kvm";

/// Mount options.
#[derive(Clone, Debug)]
pub struct Options {
    /// Owner of every file and directory (default: the mounting user).
    pub uid: u32,
    /// Group of every file and directory (default: the mounting group).
    pub gid: u32,
    /// Mode of the root directory (default 0700, as the kernel's statsfs).
    pub root_mode: u32,
    /// Let other users in (FUSE `allow_other`; needs `user_allow_other` unless root).
    pub allow_other: bool,
    /// Threads serving requests (default 1: on these 2-CPU guests a second thread mostly
    /// adds cross-CPU wake-ups, see BENCHMARKS.md).
    pub threads: usize,
}

impl Default for Options {
    fn default() -> Options {
        // SAFETY: geteuid and getegid cannot fail and touch no memory.
        let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
        Options {
            uid,
            gid,
            root_mode: 0o700,
            allow_other: false,
            threads: 1,
        }
    }
}

fn config(opts: &Options) -> Config {
    let mut c = Config::default();
    c.mount_options = vec![
        MountOption::FSName("statsfs".into()),
        MountOption::Subtype("statsfs".into()),
        MountOption::DefaultPermissions,
        MountOption::NoExec,
        MountOption::NoSuid,
        MountOption::NoDev,
        MountOption::NoAtime,
    ];
    if opts.allow_other {
        c.acl = SessionACL::All;
    }
    c.n_threads = Some(opts.threads.max(1));
    c
}

/// A mounted filesystem; dropping it unmounts.
pub struct Mount {
    // Dropped first: stop invalidating before the session goes away.
    _watch: Watch,
    session: Option<BackgroundSession>,
    path: PathBuf,
    requests: Arc<AtomicU64>,
}

/// Tells the kernel to forget a removed child's entry, so it vanishes at once despite the
/// entry cache. Children of directories the kernel never saw need nothing.
fn invalidate_removed(inodes: Arc<Mutex<Inodes>>, notifier: Notifier, registry: Registry) -> Watch {
    statsfs_runtime::watch::watch(move |change| match change {
        Change::ChildRemoved { parent, name } => {
            let parent = lock(&inodes).dir_ino(parent);
            if let Some(ino) = parent {
                // ENOENT just means the kernel had not cached it.
                let _ = notifier.inval_entry(INodeNo(ino), OsStr::new(name));
                // Entries the kernel never held (numbered by readdir) go now; the others when
                // the kernel forgets them.
                lock(&inodes).sweep(|n| StatsFs::gone(&registry, n));
            }
        }
    })
}

impl Mount {
    /// Requests the daemon has answered so far (benchmarks divide by files read).
    pub fn requests(&self) -> u64 {
        self.requests.load(Relaxed)
    }

    /// Where it is mounted.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Unmounts now. If the mount is busy (an open file, a process inside it), it is
    /// detached instead: gone from the namespace at once, released when the last user goes.
    pub fn unmount(mut self) -> io::Result<()> {
        self.unmount_now()
    }

    fn unmount_now(&mut self) -> io::Result<()> {
        let Some(s) = self.session.take() else {
            return Ok(());
        };
        match s.umount_and_join() {
            Ok(()) => Ok(()),
            Err(_) => detach(&self.path),
        }
    }
}

/// Lazy unmount: `umount2(MNT_DETACH)` as root, `fusermount3 -u -z` otherwise.
fn detach(path: &Path) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(io::Error::other)?;
    // SAFETY: a valid C string; umount2 touches no memory of ours.
    if unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) } == 0 {
        return Ok(());
    }
    let status = std::process::Command::new("fusermount3")
        .args(["-u", "-z", "-q", "--"])
        .arg(path)
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "cannot unmount {}",
            path.display()
        )))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = self.unmount_now();
    }
}

/// Mounts `registry` at `path` and serves it from a background thread until the returned
/// handle is dropped. The tree may change while mounted.
pub fn mount(registry: &Registry, path: impl AsRef<Path>, opts: Options) -> io::Result<Mount> {
    let path = path.as_ref().to_owned();
    let fs = StatsFs::new(registry.clone(), opts.clone());
    let requests = fs.requests.clone();
    let inodes = fs.inodes.clone();
    let session = fuser::spawn_mount(fs, &path, &config(&opts))?;
    let watch = invalidate_removed(inodes, session.notifier(), registry.clone());
    Ok(Mount {
        _watch: watch,
        session: Some(session),
        path,
        requests,
    })
}

/// Mounts and serves on this thread until the filesystem is unmounted
/// (`fusermount3 -u PATH`).
pub fn mount_blocking(
    registry: &Registry,
    path: impl AsRef<Path>,
    opts: Options,
) -> io::Result<()> {
    let fs = StatsFs::new(registry.clone(), opts.clone());
    let inodes = fs.inodes.clone();
    let session = fuser::Session::new(fs, path.as_ref(), &config(&opts))?;
    let _watch = invalidate_removed(inodes, session.notifier(), registry.clone());
    session.run()
}
