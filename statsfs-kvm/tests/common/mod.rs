//! Helpers the statsfs-kvm tests share: skipping loudly where /dev/kvm or FUSE is missing
//! (and failing in CI, where both exist), fresh reads of the kernel's own stats fds, and the
//! VMM mounted for real.
#![allow(dead_code)]

use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use statsfs_kvm::import::open_stats;
use statsfs_kvm::{Options, Vmm};

/// Whether /dev/kvm exists; says SKIPPED when it does not (a failure in CI).
pub fn need_kvm() -> bool {
    if Path::new("/dev/kvm").exists() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("/dev/kvm missing in CI");
    }
    eprintln!("SKIPPED: /dev/kvm does not exist");
    false
}

/// `/sys/kernel/debug/kvm`, mounting debugfs first if needed.
pub fn debugfs() -> Option<&'static Path> {
    let p = Path::new("/sys/kernel/debug/kvm");
    if !p.exists() {
        let c = |s: &str| std::ffi::CString::new(s).unwrap();
        // SAFETY: plain mount(2) with valid strings.
        unsafe {
            libc::mount(
                c("none").as_ptr(),
                c("/sys/kernel/debug").as_ptr(),
                c("debugfs").as_ptr(),
                0,
                std::ptr::null(),
            )
        };
    }
    p.exists().then_some(p)
}

/// Scalar values of a fresh stats fd opened on `owner`, in descriptor order.
pub fn fresh(owner: i32) -> Vec<(String, u64)> {
    let (fd, layout) = open_stats(owner).unwrap();
    let mut data = vec![0u8; layout.data_len];
    // SAFETY: valid fd and buffer.
    let n = unsafe {
        libc::pread(
            fd.as_raw_fd(),
            data.as_mut_ptr().cast(),
            data.len(),
            layout.data_offset as i64,
        )
    };
    assert_eq!(n as usize, data.len());
    layout
        .descs
        .iter()
        .filter(|d| d.size == 1)
        .map(|d| {
            let o = d.offset as usize;
            (
                d.name.clone(),
                u64::from_ne_bytes(data[o..o + 8].try_into().unwrap()),
            )
        })
        .collect()
}

/// One value of [`fresh`].
pub fn fresh_value(owner: i32, name: &str) -> u64 {
    fresh(owner)
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("the kernel has no {name}"))
        .1
}

/// A fresh directory under the temp dir, removed with its contents when dropped. Declare it
/// before a mount that uses it, so that the mount goes first.
pub struct Scratch(PathBuf);

impl Scratch {
    /// `statsfs-kvm-test-<pid>-<name>`, empty.
    pub fn new(name: &str) -> Scratch {
        let p =
            std::env::temp_dir().join(format!("statsfs-kvm-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
}

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A FUSE mount on a [`Scratch`] directory: unmounted, then removed, when dropped.
pub struct Mounted {
    mount: Option<statsfs_fuse::Mount>,
    dir: Scratch,
}

impl std::ops::Deref for Mounted {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        drop(self.mount.take());
    }
}

/// Mounts `registry` on a fresh directory; None (skipped loudly) where FUSE is missing.
pub fn mount(registry: &statsfs::Registry, name: &str) -> Option<Mounted> {
    let dir = Scratch::new(name);
    match statsfs_fuse::mount(registry, &*dir, statsfs_fuse::Options::default()) {
        Ok(m) => Some(Mounted {
            mount: Some(m),
            dir,
        }),
        Err(e) => {
            if std::env::var_os("CI").is_some() {
                panic!("cannot mount FUSE in CI: {e}");
            }
            eprintln!("SKIPPED {name}: cannot mount FUSE here: {e}");
            None
        }
    }
}

/// The VMM with real VMs, mounted with FUSE; None (skipped loudly) where either is missing.
pub fn mounted_vmm(name: &str, opts: Options) -> Option<(Vmm, Mounted)> {
    if !need_kvm() {
        return None;
    }
    let vmm = Vmm::start(opts).unwrap();
    assert!(
        vmm.simulated.is_none() && vmm.kernel_stats,
        "real VMs with kernel statistics"
    );
    let m = mount(&vmm.registry, name)?;
    Some((vmm, m))
}
