//! Mounting: options as the kernel's statsfs had them, a handle that unmounts on drop, and a
//! blocking variant for command-line tools.
//!
//! # A mount ends with its process
//!
//! Every mount asks for FUSE's `auto_unmount` first: `fusermount3` (a helper process) holds
//! one end of a socket and unmounts as soon as the serving process is gone, however it
//! ended (a return from `main`, `exit`, a panic, SIGTERM, SIGINT, even SIGKILL). The library
//! installs no signal handler and never takes over the program's signal handling. Dropping
//! the [`Mount`] still unmounts at once, without waiting for the helper.
//!
//! `auto_unmount` needs `fusermount3` and the `allow_other` mount option (fuser then still
//! lets only the owner and root in); a user other than root has `allow_other` only where
//! `/etc/fuse.conf` says `user_allow_other`. Where that is missing the mount is made
//! without it, and then it ends only when the [`Mount`] is dropped or the filesystem is
//! unmounted (`fusermount3 -u PATH`): a program that wants its mount gone on SIGTERM must
//! then catch SIGTERM itself and return from `main` (dropping the [`Mount`]).
//!
//! The directory mounted on is checked first (see [`crate::mountpoint`]): it must be an
//! empty directory, not a symbolic link, as `mount` would want it.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use std::ffi::OsStr;
use std::sync::Mutex;

use fuser::{BackgroundSession, Config, INodeNo, MountOption, Notifier, SessionACL};
use statsfs_runtime::watch::{Change, Watch};
use statsfs_runtime::{Registry, Source};

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

/// The fuser configuration; `auto_unmount` asks fusermount3 to unmount when we are gone.
fn config(opts: &Options, auto_unmount: bool) -> Config {
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
    if auto_unmount {
        c.mount_options.push(MountOption::AutoUnmount);
        // fusermount3 needs allow_other for auto_unmount; fuser keeps other users out.
        if c.acl == SessionACL::Owner {
            c.acl = SessionACL::RootAndOwner;
        }
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
    inodes: Arc<Mutex<Inodes>>,
}

/// Tells the kernel to forget a removed child's entry, so it vanishes at once despite the
/// entry cache, and drops the table entries of the removed subtree that nothing holds.
/// Children of directories the kernel never saw need nothing. Only this mount's registry is
/// watched, and only the removed subtree's entries are visited: a removal elsewhere in the
/// process costs this mount nothing, and one here costs it the removed subtree's size.
fn invalidate_removed(inodes: Arc<Mutex<Inodes>>, notifier: Notifier, registry: Registry) -> Watch {
    registry.clone().watch(move |change| match change {
        Change::ChildRemoved {
            parent,
            child,
            name,
        } => {
            let parent = lock(&inodes).dir_ino(parent);
            if let Some(ino) = parent {
                // Taken before the inode table's lock: no runtime lock is held under it.
                let sources = subtree(child);
                // Entries the kernel never held (numbered by readdir) go now; the others
                // when the kernel forgets them. Before the invalidation, which makes the
                // kernel send FORGETs at once: done after, the table would race them.
                lock(&inodes).drop_removed(&sources, |n| StatsFs::gone(&registry, n));
                // ENOENT just means the kernel had not cached it.
                let _ = notifier.inval_entry(INodeNo(ino), OsStr::new(name));
            }
        }
    })
}

/// `root` and every source below it.
fn subtree(root: &Source) -> Vec<Source> {
    let mut all = vec![root.clone()];
    let mut i = 0;
    while i < all.len() {
        let children = all[i].children();
        all.extend(children);
        i += 1;
    }
    all
}

impl Mount {
    /// Requests the daemon has answered so far (benchmarks divide by files read).
    pub fn requests(&self) -> u64 {
        self.requests.load(Relaxed)
    }

    /// Inode-table entries examined so far to forget sources removed from the tree: a
    /// removal costs the mount the entries of the removed subtree, not its whole table
    /// (tests and benchmarks read this to see that).
    pub fn removal_visits(&self) -> u64 {
        lock(&self.inodes).visits
    }

    /// Where it is mounted.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether it is still served: false once the filesystem was unmounted from outside
    /// (`fusermount3 -u PATH`, `umount`), which ends the serving thread.
    pub fn is_mounted(&self) -> bool {
        self.session
            .as_ref()
            .is_some_and(|s| !s.guard.is_finished())
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
        // Unmount here, synchronously: with auto_unmount, fuser alone would only close the
        // helper's socket and leave the unmount to it, later. Once the kernel has let go,
        // the serving thread ends and is joined. A busy mount is detached instead, and its
        // thread left to end when the last user goes.
        match unmount(&self.path, false) {
            Ok(()) => s.umount_and_join(),
            Err(_) => {
                drop(s);
                unmount(&self.path, true)
            }
        }
    }
}

/// `umount2` as root (`MNT_DETACH` if `lazy`), `fusermount3 -u [-z]` otherwise.
fn unmount(path: &Path, lazy: bool) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(io::Error::other)?;
    let flags = if lazy { libc::MNT_DETACH } else { 0 };
    // SAFETY: a valid C string; umount2 touches no memory of ours.
    if unsafe { libc::umount2(c.as_ptr(), flags) } == 0 {
        return Ok(());
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() != Some(libc::EPERM) {
        return Err(e);
    }
    let status = std::process::Command::new("fusermount3")
        .args(if lazy {
            &["-u", "-z", "-q", "--"][..]
        } else {
            &["-u", "-q", "--"][..]
        })
        .arg(path)
        .stderr(std::process::Stdio::null())
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

/// A new session on `path`: with `auto_unmount` where fusermount3 grants it, else without
/// (see the module documentation).
/// Also returns the filesystem's request counter and inode table, which the session owns.
fn session(registry: &Registry, path: &Path, opts: &Options) -> io::Result<Started> {
    crate::mountpoint::check(path)?;
    let mut last = None;
    for auto_unmount in [true, false] {
        // A failed attempt consumes its filesystem: each gets a fresh one.
        let fs = StatsFs::new(registry.clone(), opts.clone());
        let (requests, inodes) = (fs.requests.clone(), fs.inodes.clone());
        match fuser::Session::new(fs, path, &config(opts, auto_unmount)) {
            Ok(s) => return Ok((s, requests, inodes)),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no mount attempted")))
}

/// A mounted session with the filesystem's request counter and inode table.
type Started = (fuser::Session<StatsFs>, Arc<AtomicU64>, Arc<Mutex<Inodes>>);

/// Mounts `registry` at `path` and serves it from a background thread until the returned
/// handle is dropped. The tree may change while mounted. `path` must be an empty
/// directory, not a symbolic link ([`crate::mountpoint`] makes one). The mount goes away
/// with the process, however it ends, where `fusermount3` allows (module documentation).
pub fn mount(registry: &Registry, path: impl AsRef<Path>, opts: Options) -> io::Result<Mount> {
    let path = path.as_ref().to_owned();
    let (session, requests, inodes) = session(registry, &path, &opts)?;
    let session = session.spawn()?;
    let watch = invalidate_removed(inodes.clone(), session.notifier(), registry.clone());
    Ok(Mount {
        _watch: watch,
        session: Some(session),
        path,
        requests,
        inodes,
    })
}

/// Mounts and serves on this thread until the filesystem is unmounted
/// (`fusermount3 -u PATH`) or the process ends (module documentation).
pub fn mount_blocking(
    registry: &Registry,
    path: impl AsRef<Path>,
    opts: Options,
) -> io::Result<()> {
    let (session, _, inodes) = session(registry, path.as_ref(), &opts)?;
    let _watch = invalidate_removed(inodes, session.notifier(), registry.clone());
    session.run()
}
