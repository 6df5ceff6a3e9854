//! Helpers the statsfs-fuse tests share: a small KVM-like tree, mounting it into a fresh
//! directory (skipping loudly where FUSE is missing, failing under CI), and errno checks.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

use statsfs::{Counter, Instance, LocalCounter, Registry, Source, StatsSource};
use statsfs_fuse::{mount, Mount, Options};

/// Statistics of one vCPU.
#[derive(Default, StatsSource)]
#[stats(name = "vcpu", label = "vcpu")]
pub struct VcpuStats {
    /// VM exits.
    pub exits: LocalCounter,
    /// Shared counter.
    pub halt_wakeup: Counter,
    /// Pages mapped now.
    #[stats(kind = "instant")]
    pub pages: statsfs::Gauge,
}

/// A registry with `kvm/` holding `vm/` with `vcpu0/` (exits 100, pages 7).
pub struct Tree {
    pub registry: Registry,
    pub kvm: Source,
    pub vm: Source,
    pub vcpu: Source,
    pub stats: Instance<VcpuStats>,
}

pub fn tree() -> Tree {
    let registry = Registry::new();
    let kvm = Source::new("kvm").unwrap();
    kvm.add_aggregate_of::<VcpuStats>().unwrap();
    registry.register(&kvm).unwrap();
    let vm = Source::new("vm").unwrap();
    vm.add_aggregate_of::<VcpuStats>().unwrap();
    let vcpu = Source::new("vcpu0").unwrap();
    let stats = Instance::<VcpuStats>::default();
    stats.exits.add(100);
    stats.pages.set(7);
    vcpu.add_instance(&stats).unwrap();
    vm.add_child(&vcpu).unwrap();
    kvm.add_child(&vm).unwrap();
    Tree {
        registry,
        kvm,
        vm,
        vcpu,
        stats,
    }
}

/// Says loudly that a test cannot run here; panics under CI.
pub fn skip(name: &str, why: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{name} cannot run in CI: {why}");
    }
    eprintln!("SKIPPED {name}: {why}");
}

/// A mount removing its directory when dropped (after unmounting).
pub struct Mounted {
    pub mount: Option<Mount>,
    pub dir: PathBuf,
}

impl Drop for Mounted {
    fn drop(&mut self) {
        drop(self.mount.take());
        let _ = fs::remove_dir(&self.dir);
    }
}

/// A fresh, empty directory under the temp dir, unique to this process and `name`.
pub fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("statsfs-fuse-{}-{name}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Mounts into a fresh directory, or says loudly why it cannot (and fails under CI).
pub fn mounted(registry: &Registry, name: &str) -> Option<Mounted> {
    let dir = fresh_dir(name);
    match mount(registry, &dir, Options::default()) {
        Ok(m) => Some(Mounted {
            mount: Some(m),
            dir,
        }),
        Err(e) => {
            let _ = fs::remove_dir(&dir);
            skip(name, &format!("cannot mount FUSE here: {e}"));
            None
        }
    }
}

pub fn read(p: impl AsRef<Path>) -> String {
    fs::read_to_string(p).unwrap()
}

pub fn errno<T: std::fmt::Debug>(r: std::io::Result<T>) -> i32 {
    r.unwrap_err().raw_os_error().unwrap()
}

/// Whether `/proc/mounts` lists a FUSE mount at `dir`.
pub fn mounted_at(dir: &Path) -> bool {
    fs::read_to_string("/proc/mounts")
        .unwrap()
        .lines()
        .any(|l| l.split(' ').nth(1) == Some(&*dir.to_string_lossy()) && l.contains(" fuse"))
}
