//! The filesystem mounted for real: directory layout, exact file contents, modes, errno,
//! clear, hidden, a tree changing under the mount, and concurrent readers.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, Ordering::Relaxed};

use statsfs::{Counter, Instance, LocalCounter, Registry, Source, StatsSource};
use statsfs_fuse::{mount, Mount, Options, BULK_FILE};

/// Statistics of one VM.
#[derive(Default, StatsSource)]
#[stats(name = "vm", label = "vm")]
struct VmStats {
    /// Remote TLB flushes.
    remote_tlb_flush: Counter,
    /// Pages mapped now.
    #[stats(kind = "instant")]
    pages_4k: statsfs::Gauge,
}

fn mp_state(v: u64) -> &'static str {
    match v {
        0 => "RUNNABLE",
        3 => "HALTED",
        _ => "UNKNOWN",
    }
}

/// Statistics of one vCPU.
#[derive(Default, StatsSource)]
#[stats(name = "vcpu", label = "vcpu")]
struct VcpuStats {
    /// VM exits.
    exits: LocalCounter,
    /// Shared counter.
    halt_wakeup: Counter,
    /// Guest mode.
    #[stats(kind = "instant", aggregation = "count_zero")]
    guest_mode: AtomicBool,
    /// MP state.
    #[stats(kind = "instant", aggregation = "none", show = mp_state)]
    mp_state: AtomicU32,
    /// TSC offset.
    #[stats(rename = "tsc-offset", aggregation = "min", kind = "instant")]
    tsc_offset: AtomicI64,
}

struct Kvm {
    registry: Registry,
    kvm: Source,
    vms: Vec<(Source, Instance<VmStats>, Vec<Instance<VcpuStats>>)>,
}

fn add_vm(
    kvm: &Source,
    name: &str,
    vcpus: u64,
    base: u64,
) -> (Source, Instance<VmStats>, Vec<Instance<VcpuStats>>) {
    let vm = Source::new(name).unwrap();
    let vs = Instance::<VmStats>::default();
    vs.remote_tlb_flush.add(base);
    vs.pages_4k.set(base * 10);
    vm.add_instance(&vs).unwrap();
    vm.add_aggregate_of::<VcpuStats>().unwrap();
    let mut cs = Vec::new();
    for n in 0..vcpus {
        let c = Source::new(&format!("vcpu{n}")).unwrap();
        let st = Instance::<VcpuStats>::default();
        st.exits.add(base + n);
        st.tsc_offset.store(-((base + n) as i64), Relaxed);
        st.guest_mode.store(n % 2 == 0, Relaxed);
        c.add_instance(&st).unwrap();
        vm.add_child(&c).unwrap();
        cs.push(st);
    }
    kvm.add_child(&vm).unwrap();
    (vm, vs, cs)
}

/// kvm/ with 1234-5/ (2 vCPUs, base 100) and 1234-6/ (1 vCPU, base 200).
fn kvm_tree() -> Kvm {
    let registry = Registry::new();
    let kvm = Source::new("kvm").unwrap();
    kvm.add_aggregate_of::<VmStats>().unwrap();
    kvm.add_aggregate_of::<VcpuStats>().unwrap();
    registry.register(&kvm).unwrap();
    let vms = vec![
        add_vm(&kvm, "1234-5", 2, 100),
        add_vm(&kvm, "1234-6", 1, 200),
    ];
    Kvm { registry, kvm, vms }
}

/// A mount whose directory is removed after it, when dropped.
struct Mounted(Option<Mount>, PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        drop(self.0.take());
        let _ = fs::remove_dir(&self.1);
    }
}

/// Mounts into a fresh directory, or says loudly why it cannot (and fails under CI).
fn mounted(registry: &Registry, name: &str) -> Option<(Mounted, PathBuf)> {
    let dir = std::env::temp_dir().join(format!("statsfs-fuse-{}-{name}", std::process::id()));
    let _ = fs::create_dir_all(&dir);
    match mount(registry, &dir, Options::default()) {
        Ok(m) => Some((Mounted(Some(m), dir.clone()), dir)),
        Err(e) => {
            let _ = fs::remove_dir(&dir);
            if std::env::var_os("CI").is_some() {
                panic!("cannot mount FUSE in CI: {e} (.ci/run installs fuse3; CI runs as root)");
            }
            eprintln!("SKIPPED {name}: cannot mount FUSE here: {e}");
            None
        }
    }
}

fn read(p: impl AsRef<Path>) -> String {
    fs::read_to_string(p).unwrap()
}

fn names(p: impl AsRef<Path>) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(p)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

fn mode(p: impl AsRef<Path>) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn errno<T: std::fmt::Debug>(r: std::io::Result<T>) -> i32 {
    r.unwrap_err().raw_os_error().unwrap()
}

#[test]
fn layout_values_and_modes() {
    let t = kvm_tree();
    let Some((_m, root)) = mounted(&t.registry, "layout") else {
        return;
    };
    assert_eq!(names(&root), ["kvm"]);
    let vcpu_files = [
        "exits",
        "guest_mode",
        "halt_wakeup",
        "mp_state",
        "tsc-offset",
    ];
    let mut top: Vec<String> = ["1234-5", "1234-6", "pages_4k", "remote_tlb_flush"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    // mp_state has aggregation `none`: no aggregate file above the vCPUs.
    top.extend(
        vcpu_files
            .iter()
            .filter(|f| **f != "mp_state")
            .map(|s| s.to_string()),
    );
    top.sort();
    assert_eq!(names(root.join("kvm")), top);
    let mut vm: Vec<String> = ["pages_4k", "remote_tlb_flush", "vcpu0", "vcpu1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    vm.extend(
        vcpu_files
            .iter()
            .filter(|f| **f != "mp_state")
            .map(|s| s.to_string()),
    );
    vm.sort();
    assert_eq!(names(root.join("kvm/1234-5")), vm);
    assert_eq!(names(root.join("kvm/1234-5/vcpu1")), vcpu_files);

    // Values: simple, aggregates per VM and over all VMs, signed, show, count_zero.
    assert_eq!(read(root.join("kvm/1234-5/vcpu1/exits")), "101\n");
    assert_eq!(read(root.join("kvm/1234-5/exits")), "201\n");
    assert_eq!(read(root.join("kvm/exits")), "401\n");
    assert_eq!(read(root.join("kvm/remote_tlb_flush")), "300\n");
    assert_eq!(read(root.join("kvm/1234-6/pages_4k")), "2000\n");
    assert_eq!(read(root.join("kvm/1234-5/vcpu1/tsc-offset")), "-101\n");
    assert_eq!(read(root.join("kvm/tsc-offset")), "-200\n");
    assert_eq!(
        read(root.join("kvm/guest_mode")),
        "1\n",
        "one vCPU is out of guest mode"
    );
    t.vms[0].2[1].mp_state.store(3, Relaxed);
    assert_eq!(read(root.join("kvm/1234-5/vcpu1/mp_state")), "HALTED\n");
    assert_eq!(read(root.join("kvm/1234-5/vcpu0/mp_state")), "RUNNABLE\n");

    // Modes: root 0700, directories 0755, clearable files 0644, the rest 0444.
    assert_eq!(mode(&root), 0o700);
    assert_eq!(mode(root.join("kvm")), 0o755);
    assert_eq!(mode(root.join("kvm/1234-5/vcpu0")), 0o755);
    assert_eq!(mode(root.join("kvm/exits")), 0o644);
    assert_eq!(mode(root.join("kvm/1234-5/vcpu0/exits")), 0o644);
    assert_eq!(mode(root.join("kvm/pages_4k")), 0o444);
    assert_eq!(mode(root.join("kvm/1234-5/vcpu0/guest_mode")), 0o444);
    // Owners are the mounting user, inodes stable and distinct.
    let md = fs::metadata(root.join("kvm/1234-5/vcpu1/exits")).unwrap();
    assert_eq!(
        md.len(),
        0,
        "size 0 as in debugfs: the text is only known when read"
    );
    assert_eq!(md.uid(), unsafe { libc::geteuid() });
    assert_eq!(
        md.ino(),
        fs::metadata(root.join("kvm/1234-5/vcpu1/exits"))
            .unwrap()
            .ino()
    );
    assert_ne!(
        md.ino(),
        fs::metadata(root.join("kvm/1234-5/vcpu0/exits"))
            .unwrap()
            .ino()
    );
    assert!(fs::metadata(root.join("kvm/1234-5")).unwrap().is_dir());
}

#[test]
fn writes_clear_or_fail_with_the_runtimes_errno() {
    let t = kvm_tree();
    let Some((_m, root)) = mounted(&t.registry, "writes") else {
        return;
    };
    let exits = root.join("kvm/1234-5/vcpu0/exits");
    assert_eq!(errno(fs::write(&exits, "1\n")), libc::EINVAL);
    assert_eq!(errno(fs::write(&exits, "zero")), libc::EINVAL);
    assert_eq!(read(&exits), "100\n", "nothing changed");
    assert_eq!(
        errno(fs::write(root.join("kvm/pages_4k"), "0")),
        libc::EACCES
    );
    assert_eq!(
        errno(fs::write(root.join("kvm/1234-5/vcpu0/mp_state"), "0")),
        libc::EACCES
    );
    assert_eq!(errno(fs::read(root.join("kvm/nope"))), libc::ENOENT);
    assert_eq!(errno(fs::read(root.join("kvm/1234-9/exits"))), libc::ENOENT);
    assert_eq!(errno(fs::read_dir(root.join("kvm/exits"))), libc::ENOTDIR);
    // A write of 0 returns the full length and clears.
    let mut f = fs::OpenOptions::new().write(true).open(&exits).unwrap();
    assert_eq!(f.write(b"0\n").unwrap(), 2);
    drop(f);
    assert_eq!(read(&exits), "0\n");
    assert_eq!(t.vms[0].2[0].exits.get(), 0);
    // Clear through an aggregate file zeroes the subtree: here every vCPU of every VM.
    fs::write(root.join("kvm/exits"), "  0\n").unwrap();
    assert!(t.vms.iter().flat_map(|v| &v.2).all(|s| s.exits.get() == 0));
    assert_eq!(
        read(root.join("kvm/remote_tlb_flush")),
        "300\n",
        "other values untouched"
    );
}

#[test]
fn shell_ls_cat_echo_end_to_end() {
    let t = kvm_tree();
    let Some((_m, root)) = mounted(&t.registry, "shell") else {
        return;
    };
    let sh = |cmd: &str| {
        let o = Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .current_dir(&root)
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    assert_eq!(
        sh("ls kvm/1234-6").1,
        "exits\nguest_mode\nhalt_wakeup\npages_4k\nremote_tlb_flush\ntsc-offset\nvcpu0\n"
    );
    assert_eq!(
        sh("ls -a kvm/1234-6/vcpu0").1,
        ".\n..\nexits\nguest_mode\nhalt_wakeup\nmp_state\ntsc-offset\n"
    );
    // `..` is the parent directory's inode.
    assert_eq!(
        sh("stat -c %i kvm/1234-6/vcpu0/.. kvm/1234-6 | uniq | wc -l").1,
        "1\n"
    );
    assert_eq!(
        sh("cat kvm/1234-6/vcpu0/exits kvm/1234-6/exits").1,
        "200\n200\n"
    );
    let (code, _, _) = sh("echo 0 > kvm/1234-6/exits");
    assert_eq!(code, Some(0));
    assert_eq!(sh("cat kvm/1234-6/vcpu0/exits kvm/exits").1, "0\n201\n");
    // coreutils echo: dash's builtin reports every write error as "I/O error".
    let (code, _, err) = sh("/bin/echo 5 > kvm/1234-6/exits");
    assert_ne!(code, Some(0));
    assert!(err.contains("write error: Invalid argument"), "{err}");
    assert_eq!(sh("cat kvm/1234-6/vcpu0/exits").1, "0\n");
    let (code, _, err) = sh("echo 0 > kvm/pages_4k");
    assert_ne!(code, Some(0));
    assert!(err.contains("Permission denied"), "{err}");
    assert_eq!(sh("grep -r . kvm/1234-6/vcpu0 | sort").1, "kvm/1234-6/vcpu0/exits:0\nkvm/1234-6/vcpu0/guest_mode:1\nkvm/1234-6/vcpu0/halt_wakeup:0\nkvm/1234-6/vcpu0/mp_state:RUNNABLE\nkvm/1234-6/vcpu0/tsc-offset:-200\n");
}

#[test]
fn hidden_sources_and_groups_have_no_entries() {
    let t = kvm_tree();
    let hidden = Source::new_hidden("secret").unwrap();
    let inner = Source::new("inner").unwrap();
    let st = Instance::<VcpuStats>::default();
    st.exits.add(1000);
    inner.add_instance(&st).unwrap();
    hidden.add_child(&inner).unwrap();
    t.kvm.add_child(&hidden).unwrap();
    let extra = Instance::<VcpuStats>::default();
    t.vms[1]
        .0
        .add_values(VcpuStats::value_set(), Some(extra.erase()), true)
        .unwrap();
    extra.exits.add(7);
    let Some((_m, root)) = mounted(&t.registry, "hidden") else {
        return;
    };
    assert!(!names(root.join("kvm")).contains(&"secret".to_owned()));
    assert_eq!(errno(fs::metadata(root.join("kvm/secret"))), libc::ENOENT);
    assert_eq!(
        errno(fs::metadata(root.join("kvm/secret/inner/exits"))),
        libc::ENOENT
    );
    assert_eq!(errno(fs::metadata(root.join("inner"))), libc::ENOENT);
    // Hidden things still count: 401 + 1000 + 7.
    assert_eq!(read(root.join("kvm/exits")), "1408\n");
    assert_eq!(
        read(root.join("kvm/1234-6/exits")),
        "207\n",
        "the VM's aggregate, not the hidden group"
    );
}

#[test]
fn tree_changes_show_at_once_and_open_files_of_removed_sources_read_zero() {
    let t = kvm_tree();
    let Some((_m, root)) = mounted(&t.registry, "dynamic") else {
        return;
    };
    assert_eq!(read(root.join("kvm/exits")), "401\n");
    let (vm, _vs, cs) = add_vm(&t.kvm, "1234-7", 1, 1000);
    assert!(names(root.join("kvm")).contains(&"1234-7".to_owned()));
    assert_eq!(read(root.join("kvm/1234-7/vcpu0/exits")), "1000\n");
    assert_eq!(read(root.join("kvm/exits")), "1401\n");
    // An open file of a source that goes away reads 0 (its value is taken at the first read).
    let mut open = fs::File::open(root.join("kvm/1234-7/vcpu0/exits")).unwrap();
    let mut open_agg = fs::File::open(root.join("kvm/1234-7/exits")).unwrap();
    assert!(t.kvm.remove_child(&vm));
    let mut s = String::new();
    open.read_to_string(&mut s).unwrap();
    assert_eq!(s, "0\n");
    s.clear();
    open_agg.read_to_string(&mut s).unwrap();
    assert_eq!(s, "0\n");
    assert_eq!(errno(fs::metadata(root.join("kvm/1234-7"))), libc::ENOENT);
    assert_eq!(
        errno(fs::read(root.join("kvm/1234-7/vcpu0/exits"))),
        libc::ENOENT
    );
    assert!(!names(root.join("kvm")).contains(&"1234-7".to_owned()));
    assert_eq!(read(root.join("kvm/exits")), "401\n");
    // Added back: every file is back, with the same inode.
    t.kvm.add_child(&vm).unwrap();
    cs[0].exits.add(1);
    assert_eq!(read(root.join("kvm/1234-7/vcpu0/exits")), "1001\n");
    assert_eq!(names(root.join("kvm/1234-7/vcpu0")).len(), 5);
    // A value added to a mounted source appears.
    let more = Source::new("vcpu1").unwrap();
    let st = Instance::<VcpuStats>::default();
    more.add_instance(&st).unwrap();
    vm.add_child(&more).unwrap();
    assert_eq!(read(root.join("kvm/1234-7/vcpu1/exits")), "0\n");
}

#[test]
fn one_open_sees_one_number_across_partial_reads() {
    let t = kvm_tree();
    let Some((_m, root)) = mounted(&t.registry, "partial") else {
        return;
    };
    let mut f = fs::File::open(root.join("kvm/exits")).unwrap();
    let mut first = [0u8; 2];
    f.read_exact(&mut first).unwrap();
    t.vms[0].2[0].exits.add(600); // 401 → 1001 in the tree
    let mut rest = String::new();
    f.read_to_string(&mut rest).unwrap();
    assert_eq!(
        format!("{}{rest}", String::from_utf8_lossy(&first)),
        "401\n"
    );
    assert_eq!(
        read(root.join("kvm/exits")),
        "1001\n",
        "a new open sees the new value"
    );
}

#[test]
fn bulk_file_reads_the_whole_subtree_at_once() {
    let t = kvm_tree();
    let Some((_m, root)) = mounted(&t.registry, "bulk") else {
        return;
    };
    let vm = read(root.join("kvm/1234-6").join(BULK_FILE));
    assert_eq!(
        vm,
        "remote_tlb_flush 200\npages_4k 2000\nexits 200\nhalt_wakeup 0\nguest_mode 0\ntsc-offset -200\n\
         vcpu0/exits 200\nvcpu0/halt_wakeup 0\nvcpu0/guest_mode 1\nvcpu0/mp_state RUNNABLE\nvcpu0/tsc-offset -200\n"
    );
    let all = read(root.join(BULK_FILE));
    assert_eq!(
        all.lines().count(),
        6 + 2 * 6 + 3 * 5,
        "kvm, two VMs (no mp_state aggregate), three vCPUs"
    );
    assert!(all.contains("\nkvm/1234-5/vcpu1/exits 101\n"));
    assert!(!names(&root).contains(&BULK_FILE.to_owned()), "not listed");
    assert_eq!(mode(root.join(BULK_FILE)), 0o444);
    assert_eq!(errno(fs::write(root.join(BULK_FILE), "0")), libc::EACCES);
}

#[test]
fn statfs_answers() {
    let t = kvm_tree();
    let Some((_m, root)) = mounted(&t.registry, "statfs") else {
        return;
    };
    let c = std::ffi::CString::new(root.to_str().unwrap()).unwrap();
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::statvfs(c.as_ptr(), &mut st) }, 0);
    assert_eq!(st.f_namemax, 255);
    assert_eq!(st.f_bsize, 4096);
}

#[test]
fn concurrent_readers_while_counters_run_and_sources_churn() {
    let t = kvm_tree();
    let Some((_m, root)) = mounted(&t.registry, "concurrent") else {
        return;
    };
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let writer = s.spawn(|| {
            for _ in 0..20_000 {
                t.vms[0].2[0].halt_wakeup.inc();
                t.vms[1].2[0].halt_wakeup.inc();
            }
        });
        let churn = s.spawn(|| {
            for _ in 0..200 {
                let (vm, _, _) = add_vm(&t.kvm, "churn", 2, 5);
                std::thread::yield_now();
                assert!(t.kvm.remove_child(&vm));
                vm.revoke();
            }
        });
        let readers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let mut reads = 0;
                    while !stop.load(Relaxed) || reads == 0 {
                        let v: u64 = read(root.join("kvm/halt_wakeup")).trim().parse().unwrap();
                        assert!(v <= 40_000);
                        // The churned VM may vanish between readdir and open: only ENOENT.
                        for e in fs::read_dir(root.join("kvm")).unwrap().flatten() {
                            if !e.file_type().is_ok_and(|t| t.is_dir()) {
                                continue;
                            }
                            match fs::read_to_string(e.path().join(BULK_FILE)) {
                                Ok(_) => {}
                                Err(err) => {
                                    assert_eq!(err.raw_os_error(), Some(libc::ENOENT), "{err}")
                                }
                            }
                        }
                        reads += 1;
                    }
                    reads
                })
            })
            .collect();
        writer.join().unwrap();
        churn.join().unwrap();
        stop.store(true, Relaxed);
        for r in readers {
            assert!(r.join().unwrap() > 0);
        }
    });
    assert_eq!(read(root.join("kvm/halt_wakeup")), "40000\n");
    assert!(!names(root.join("kvm")).contains(&"churn".to_owned()));
}

#[test]
fn binary_file_has_the_directorys_values_in_kvms_layout() {
    use statsfs::kvm_binary::{data_items, parse_bytes, stat_type, unit, NAME_SIZE};
    let t = kvm_tree();
    let Some((_m, root)) = mounted(&t.registry, "binary") else {
        return;
    };
    let bytes = fs::read(root.join("kvm/1234-6").join(statsfs_fuse::BINARY_FILE)).unwrap();
    let layout = parse_bytes(&bytes).unwrap();
    assert_eq!(layout.id, "1234-6");
    assert_eq!(
        layout.data_offset as usize,
        24 + NAME_SIZE + layout.descs.len() * (16 + NAME_SIZE)
    );
    let names: Vec<&str> = layout.descs.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "remote_tlb_flush",
            "pages_4k",
            "exits",
            "halt_wakeup",
            "guest_mode",
            "tsc-offset"
        ],
        "mp_state has no aggregate"
    );
    assert_eq!(
        data_items(&bytes, &layout),
        [200, 2000, 200, 0, 0, (-200i64) as u64]
    );
    assert_eq!(layout.descs[0].flags, stat_type::CUMULATIVE | unit::NONE);
    assert_eq!(layout.descs[1].flags, stat_type::INSTANT);
    assert_eq!(mode(root.join(statsfs_fuse::BINARY_FILE)), 0o444);
}

#[test]
fn dropping_a_busy_mount_still_unmounts_it() {
    let t = kvm_tree();
    let Some((m, root)) = mounted(&t.registry, "busy") else {
        return;
    };
    let mounted_here = || {
        std::fs::read_to_string("/proc/mounts")
            .unwrap()
            .contains(&format!(" {} fuse", root.display()))
    };
    assert!(mounted_here());
    // An open file keeps the mount busy: a plain umount fails with EBUSY, so the handle
    // detaches it instead of leaving a dead mount behind.
    let open = fs::File::open(root.join("kvm/exits")).unwrap();
    drop(m);
    assert!(!mounted_here(), "still mounted after drop");
    drop(open);
}

#[test]
fn mount_options_set_owner_group_and_root_mode() {
    let t = kvm_tree();
    let dir = std::env::temp_dir().join(format!("statsfs-fuse-{}-options", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let opts = Options {
        uid: 1234,
        gid: 5678,
        root_mode: 0o750,
        ..Options::default()
    };
    let _m = match mount(&t.registry, &dir, opts) {
        Ok(m) => Mounted(Some(m), dir.clone()),
        Err(e) => {
            let _ = fs::remove_dir(&dir);
            assert!(std::env::var_os("CI").is_none(), "FUSE in CI: {e}");
            return eprintln!("SKIPPED options: {e}");
        }
    };
    let root = fs::metadata(&dir).unwrap();
    assert_eq!(
        (root.uid(), root.gid(), root.permissions().mode() & 0o7777),
        (1234, 5678, 0o750)
    );
    // Root (CI runs as root) passes the 0750 directory; modes below are the usual ones.
    let f = fs::metadata(dir.join("kvm/1234-5/vcpu0/exits")).unwrap();
    assert_eq!(
        (f.uid(), f.gid(), f.permissions().mode() & 0o7777),
        (1234, 5678, 0o644)
    );
    assert_eq!(mode(dir.join("kvm")), 0o755);
}

#[test]
fn the_inode_table_stays_bounded_while_sources_come_and_go() {
    let t = kvm_tree();
    let Some((_m, root)) = mounted(&t.registry, "bounded") else {
        return;
    };
    let files = || {
        let c = std::ffi::CString::new(root.to_str().unwrap()).unwrap();
        let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
        assert_eq!(unsafe { libc::statvfs(c.as_ptr(), &mut st) }, 0);
        st.f_files
    };
    // Visit everything once: the baseline table.
    let walk = |dir: &Path| {
        let o = Command::new("sh")
            .arg("-c")
            .arg("ls -R . > /dev/null; cat */exits > /dev/null")
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    walk(&root.join("kvm"));
    let baseline = files();
    for round in 0..100 {
        let (vm, _, _) = add_vm(&t.kvm, &format!("churn-{round}"), 2, 1);
        walk(&root.join("kvm"));
        assert_eq!(
            read(root.join(format!("kvm/churn-{round}/vcpu1/exits"))),
            "2\n"
        );
        assert!(t.kvm.remove_child(&vm));
        vm.revoke();
    }
    // Forgets reach the daemon asynchronously: allow them a moment.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while files() > baseline + 20 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let after = files();
    assert!(
        after <= baseline + 20,
        "{baseline} inodes before 100 VMs came and went, {after} after"
    );
    // Everything still works, and a new source gets fresh numbers.
    assert_eq!(read(root.join("kvm/exits")), "401\n");
    let (_vm, _, _) = add_vm(&t.kvm, "late", 1, 7);
    assert_eq!(read(root.join("kvm/late/vcpu0/exits")), "7\n");
}

#[test]
fn open_files_reread_at_offset_zero_like_debugfs_and_stats_fds() {
    use std::os::unix::fs::FileExt;
    let t = kvm_tree();
    assert!(t.vms[0].0.set_stats_id("kvm-1234"));
    let Some((_m, root)) = mounted(&t.registry, "reread") else {
        return;
    };
    // A value file kept open: a read at offset 0 takes the value again (debugfs's
    // simple_attr); a read further on continues the text of the last read at 0. Before, the
    // text was taken once per open, so tools that keep files open saw a frozen number.
    let f = fs::File::open(root.join("kvm/1234-5/vcpu1/exits")).unwrap();
    let at = |off: u64| {
        let mut b = [0u8; 32];
        let n = f.read_at(&mut b, off).unwrap();
        String::from_utf8(b[..n].to_vec()).unwrap()
    };
    assert_eq!(at(0), "101\n");
    t.vms[0].2[1].exits.add(900);
    assert_eq!(at(1), "01\n", "continues the text read at offset 0");
    assert_eq!(at(0), "1001\n");
    assert_eq!(at(5), "", "end of that text");

    // The binary file kept open: fixed header with the source's id, fresh data block.
    let b = fs::File::open(root.join("kvm/1234-5").join(statsfs_fuse::BINARY_FILE)).unwrap();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut &b, &mut bytes).unwrap();
    let layout = statsfs::kvm_binary::parse_bytes(&bytes).unwrap();
    assert_eq!(layout.id, "kvm-1234");
    let exits = layout.descs.iter().find(|d| d.name == "exits").unwrap();
    let item = |b: &fs::File| {
        let mut v = [0u8; 8];
        b.read_exact_at(&mut v, layout.data_offset + exits.offset as u64)
            .unwrap();
        u64::from_ne_bytes(v)
    };
    assert_eq!(item(&b), 100 + 1001);
    t.vms[0].2[0].exits.add(5);
    assert_eq!(item(&b), 105 + 1001, "a pread of the data block reads now");
    let mut head = vec![0u8; layout.data_offset as usize];
    b.read_exact_at(&mut head, 0).unwrap();
    assert_eq!(head, bytes[..layout.data_offset as usize]);
}
