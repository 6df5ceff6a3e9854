//! The VMM's `kvm/` tree as a drop-in for the kernel's interfaces, with real VMs through a
//! real FUSE mount: kvm_stat's debugfs reading contract (every file of the top directory and
//! of each `<pid>-<fd>` directory is an integer, per-VM sums equal the top-level files), open
//! files that reread like debugfs files and stats fds, binary ids and flags as the kernel
//! writes them, clear emulated on imported stats as debugfs clears, and documented modes that
//! equal the served ones.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::{Path, PathBuf};

use std::time::Duration;

use common::{debugfs, fresh, fresh_value, mounted_vmm};
use statsfs::StatsSource;
use statsfs_kvm::binary::{self, stat_type, unit, Layout};
use statsfs_kvm::import::open_stats;
use statsfs_kvm::stats::{VmmVcpuStats, VmmVmStats};
use statsfs_kvm::Options;

fn opts() -> Options {
    Options {
        vms: 2,
        vcpus: 2,
        pace: Some(Duration::from_micros(200)),
        ..Options::default()
    }
}

/// Regular files (name → text) and subdirectories of `dir`, as `os.walk` lists them.
fn listing(dir: &Path) -> (BTreeMap<String, String>, BTreeSet<String>) {
    let mut files = BTreeMap::new();
    let mut dirs = BTreeSet::new();
    for e in fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name().into_string().unwrap();
        if e.file_type().unwrap().is_dir() {
            dirs.insert(name);
        } else {
            files.insert(name, fs::read_to_string(e.path()).unwrap());
        }
    }
    (files, dirs)
}

/// What kvm_stat does with a file: `int(open(path).read())`. Ours must also end in exactly
/// one newline, like debugfs's `%llu\n`.
fn int(path: &Path, text: &str) -> i128 {
    let digits = text
        .strip_suffix('\n')
        .unwrap_or_else(|| panic!("{}: {text:?} does not end in a newline", path.display()));
    digits
        .parse()
        .unwrap_or_else(|_| panic!("{}: {text:?} is not an integer", path.display()))
}

fn names(v: &[(String, u64)]) -> BTreeSet<String> {
    v.iter().map(|(n, _)| n.clone()).collect()
}

fn read_u64(p: &Path) -> u64 {
    fs::read_to_string(p).unwrap().trim().parse().unwrap()
}

fn write_errno(p: &Path, text: &str) -> Option<i32> {
    fs::OpenOptions::new()
        .write(true)
        .open(p)
        .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()))
        .err()
        .map(|e| e.raw_os_error().unwrap())
}

#[test]
fn kvm_stat_reads_every_file_of_the_tree_as_an_integer() {
    // SAFETY: gettid has no preconditions. The kernel names a VM's debugfs directory after
    // the thread that creates it, and so do we: this one.
    let tid = unsafe { libc::gettid() };
    let Some((vmm, root)) = mounted_vmm("kvm_stat", opts()) else {
        return;
    };
    std::thread::sleep(Duration::from_millis(300));
    vmm.pause();
    let kvm = root.join("kvm");
    let vm_fd = vmm.vms[0].fd().unwrap().as_raw_fd();
    let vcpu_fd = vmm.vms[0].vcpu_fds()[0];
    let kernel: BTreeSet<String> = names(&fresh(vm_fd))
        .union(&names(&fresh(vcpu_fd)))
        .cloned()
        .collect();
    let vmm_fields: BTreeSet<String> = [VmmVmStats::value_set(), VmmVcpuStats::value_set()]
        .iter()
        .flat_map(|s| s.values())
        .filter(|d| d.has_aggregate())
        .map(|d| d.name.to_string())
        .collect();

    // Fields: the regular files of the top directory. Exactly the kernel's scalar stats and
    // the VMM's aggregated values; vmm_last_exit (aggregation none) has no file.
    let (top, vm_dirs) = listing(&kvm);
    let fields: BTreeSet<String> = top.keys().cloned().collect();
    assert_eq!(
        fields,
        kernel.union(&vmm_fields).cloned().collect::<BTreeSet<_>>()
    );
    assert!(!fields.contains("vmm_last_exit"));
    for (name, text) in &top {
        int(&kvm.join(name), text);
    }
    // The same names as the kernel's own debugfs top level, histograms aside (not values of
    // the IR yet), where debugfs is there to compare.
    if let Some(dbg) = debugfs() {
        let theirs: BTreeSet<String> = fs::read_dir(dbg)
            .unwrap()
            .flatten()
            .filter(|e| e.file_type().unwrap().is_file())
            .map(|e| e.file_name().into_string().unwrap())
            .filter(|n| !n.ends_with("_hist"))
            .collect();
        assert_eq!(theirs, kernel, "the kernel's debugfs fields");
    }

    // VM directories: `<tid>-<fd>` as the kernel names them, each with every field (so
    // kvm_stat's `kvm/<dir>/<field>` opens), every one an integer.
    let expected: BTreeSet<String> = vmm
        .vms
        .iter()
        .map(|vm| format!("{tid}-{}", vm.fd().unwrap().as_raw_fd()))
        .collect();
    assert_eq!(vm_dirs, expected);
    for vm in &vmm.vms {
        let dir = kvm.join(vm.source.name());
        let (files, vcpus) = listing(&dir);
        assert_eq!(files.keys().cloned().collect::<BTreeSet<_>>(), fields);
        for (name, text) in &files {
            int(&dir.join(name), text);
        }
        assert_eq!(files["vmm_vms"], "1\n", "per VM, one VM");
        assert_eq!(vcpus, ["vcpu0", "vcpu1"].map(String::from).into());
        for v in &vcpus {
            for (name, text) in listing(&dir.join(v)).0 {
                int(&dir.join(v).join(&name), &text);
            }
        }
        // The exit reason's name is still there for people: in the bulk file.
        let bulk = fs::read_to_string(dir.join(".statsfs")).unwrap();
        let reason = bulk
            .lines()
            .find_map(|l| l.strip_prefix("vcpu0/vmm_last_exit "))
            .unwrap();
        assert!(["IO", "MMIO", "HLT"].contains(&reason), "{reason}");
    }
    assert_eq!(top["vmm_vms"], "2\n");

    // kvm_stat's totals: for every directory at any depth, `kvm/<basename>/<field>` (an
    // open failure counts 0), summed. With the vCPUs paused that equals each top file.
    let mut all_dirs = Vec::new();
    let mut stack = vec![kvm.clone()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                all_dirs.push(e.file_name().into_string().unwrap());
                stack.push(e.path());
            }
        }
    }
    assert_eq!(all_dirs.len(), 2 + 4, "two VMs, four vCPUs");
    for field in &fields {
        let total: i128 = all_dirs
            .iter()
            .map(|d| kvm.join(d).join(field))
            .filter_map(|p| fs::read_to_string(&p).ok().map(|t| int(&p, &t)))
            .sum();
        assert_eq!(
            total,
            int(&kvm.join(field), &top[field]),
            "total of {field}"
        );
    }
    vmm.resume();
}

/// Our binary file at `path`, opened and kept open: its layout and the file.
fn open_binary(path: &Path) -> (fs::File, Layout, Vec<u8>) {
    let f = fs::File::open(path).unwrap();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut &f, &mut bytes).unwrap();
    let layout = binary::parse_bytes(&bytes).unwrap();
    (f, layout, bytes)
}

/// The data block of an open binary file, read again with one pread.
fn pread_data(f: &fs::File, layout: &Layout) -> Vec<(String, u64)> {
    let mut data = vec![0u8; layout.data_len];
    f.read_exact_at(&mut data, layout.data_offset).unwrap();
    layout
        .descs
        .iter()
        .map(|d| {
            let o = d.offset as usize;
            (
                d.name.clone(),
                u64::from_ne_bytes(data[o..o + 8].try_into().unwrap()),
            )
        })
        .collect()
}

fn value(v: &[(String, u64)], name: &str) -> u64 {
    v.iter().find(|(n, _)| n == name).unwrap().1
}

#[test]
fn open_files_reread_like_debugfs_files_and_stats_fds() {
    let Some((vmm, root)) = mounted_vmm("reread", opts()) else {
        return;
    };
    std::thread::sleep(Duration::from_millis(200));
    let vm = &vmm.vms[0];
    let vm_dir = root.join("kvm").join(vm.source.name());
    let vcpu_dir = vm_dir.join("vcpu0");

    // A text file kept open: every read at offset 0 takes the value again (debugfs's
    // simple_attr); a read further on continues the text of that read.
    let text = fs::File::open(vcpu_dir.join("exits")).unwrap();
    let at = |off: u64| {
        let mut b = [0u8; 64];
        let n = text.read_at(&mut b, off).unwrap();
        String::from_utf8(b[..n].to_vec()).unwrap()
    };
    let first = at(0);
    assert_eq!(at(1), first[1..], "a continued read sees the same number");
    std::thread::sleep(Duration::from_millis(200));
    let second = at(0);
    let (a, b): (u64, u64) = (
        first.trim().parse().unwrap(),
        second.trim().parse().unwrap(),
    );
    assert!(b > a, "the open file advanced: {a} then {b}");

    // The binary file kept open: header, id and descriptors fixed, data fresh on every
    // pread of the data block.
    let (bin, layout, bytes) = open_binary(&vcpu_dir.join(".statsfs-kvm"));
    let head = layout.data_offset as usize;
    let before = pread_data(&bin, &layout);
    std::thread::sleep(Duration::from_millis(200));
    let after = pread_data(&bin, &layout);
    assert!(value(&after, "exits") > value(&before, "exits"));
    assert!(value(&after, "vmm_exits") > value(&before, "vmm_exits"));
    let mut again = vec![0u8; bytes.len()];
    bin.read_exact_at(&mut again, 0).unwrap();
    assert_eq!(
        again[..head],
        bytes[..head],
        "header and descriptors stable"
    );
    assert_eq!(binary::parse_bytes(&again).unwrap(), layout);

    // Paused: the open file's data equal a fresh read of a new kernel stats fd, and its id
    // and flags are the kernel's for the same vCPU.
    vmm.pause();
    let vcpu_fd = vm.vcpu_fds()[0];
    let ours = pread_data(&bin, &layout);
    let kernel = fresh(vcpu_fd);
    for (name, v) in &kernel {
        assert_eq!(value(&ours, name), *v, "vcpu0/{name}");
    }
    let (_fd, theirs) = open_stats(vcpu_fd).unwrap();
    assert_eq!(layout.id, theirs.id);
    assert!(layout.id.ends_with("/vcpu-0") && layout.id.starts_with("kvm-"));
    let flags = |l: &Layout, n: &str| l.descs.iter().find(|d| d.name == n).map(|d| d.flags);
    for d in theirs.descs.iter().filter(|d| d.size == 1) {
        assert_eq!(
            flags(&layout, &d.name),
            Some(d.flags),
            "flags of {}",
            d.name
        );
    }
    assert_eq!(
        flags(&layout, "blocking"),
        Some(stat_type::INSTANT | unit::BOOLEAN)
    );

    // The VM's file: the kernel's VM id and VM descriptors; the vCPU booleans summed over
    // its vCPUs are counts, not booleans.
    let (_vbin, vl, _) = open_binary(&vm_dir.join(".statsfs-kvm"));
    let (_vfd, vk) = open_stats(vm.fd().unwrap().as_raw_fd()).unwrap();
    assert_eq!(vl.id, vk.id);
    for d in vk.descs.iter().filter(|d| d.size == 1) {
        assert_eq!(flags(&vl, &d.name), Some(d.flags), "flags of VM {}", d.name);
    }
    for b in ["blocking", "guest_mode"] {
        assert_eq!(
            flags(&vl, b),
            Some(stat_type::INSTANT),
            "{b} summed is a count"
        );
    }
    assert_eq!(flags(&vl, "vmm_last_exit"), None, "no aggregate");
    vmm.resume();
}

#[test]
fn imported_kernel_stats_clear_like_debugfs() {
    let Some((vmm, root)) = mounted_vmm("clear", opts()) else {
        return;
    };
    std::thread::sleep(Duration::from_millis(300));
    vmm.pause();
    let kvm = root.join("kvm");
    let vm = &vmm.vms[0];
    let vm_dir = kvm.join(vm.source.name());
    let vcpu0 = vm_dir.join("vcpu0/exits");
    let fd = vm.vcpu_fds()[0];

    let k0 = fresh_value(fd, "exits");
    assert!(k0 > 0, "the guest ran");
    assert_eq!(read_u64(&vcpu0), k0);
    let (vm_before, top_before) = (
        read_u64(&vm_dir.join("exits")),
        read_u64(&kvm.join("exits")),
    );
    assert_eq!(
        fs::metadata(&vcpu0).unwrap().permissions().mode() & 0o777,
        0o644
    );
    // Anything but 0 is EINVAL and changes nothing.
    assert_eq!(write_errno(&vcpu0, "5\n"), Some(libc::EINVAL));
    assert_eq!(read_u64(&vcpu0), k0);
    // `echo 0 >`: reads 0, and the aggregates above drop by what it had counted.
    assert_eq!(write_errno(&vcpu0, "0\n"), None);
    assert_eq!(read_u64(&vcpu0), 0);
    assert_eq!(read_u64(&vm_dir.join("exits")), vm_before - k0);
    assert_eq!(read_u64(&kvm.join("exits")), top_before - k0);
    assert_eq!(
        fresh_value(fd, "exits"),
        k0,
        "the kernel's counter is untouched"
    );
    // Then it grows with the kernel's counter, from the clear.
    vmm.resume();
    std::thread::sleep(Duration::from_millis(200));
    vmm.pause();
    let k1 = fresh_value(fd, "exits");
    assert!(k1 > k0);
    assert_eq!(read_u64(&vcpu0), k1 - k0);

    // At the top: every vCPU of every VM.
    assert_eq!(write_errno(&kvm.join("exits"), "0"), None);
    assert_eq!(read_u64(&kvm.join("exits")), 0);
    for vm in &vmm.vms {
        for v in ["vcpu0", "vcpu1"] {
            assert_eq!(
                read_u64(&kvm.join(vm.source.name()).join(v).join("exits")),
                0
            );
        }
    }
    // A peak clears (0644 as in debugfs) and reads 0 until the kernel's peak rises.
    let peak = vm_dir.join("max_mmu_rmap_size");
    assert_eq!(
        fs::metadata(&peak).unwrap().permissions().mode() & 0o777,
        0o644
    );
    assert_eq!(write_errno(&peak, "0\n"), None);
    assert_eq!(read_u64(&peak), 0);
    // Instant values are read-only, as in debugfs: EACCES.
    for p in [vm_dir.join("pages_4k"), vm_dir.join("vcpu0/blocking")] {
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o444
        );
        assert_eq!(
            write_errno(&p, "0\n"),
            Some(libc::EACCES),
            "{}",
            p.display()
        );
    }
    vmm.resume();
}

/// The rows of the generated page's value tables: (name, mode, FUSE path).
fn documented(rst: &str) -> Vec<(String, String, String)> {
    let mut rows = Vec::new();
    let mut cells: Vec<String> = Vec::new();
    let mut flush = |cells: &mut Vec<String>| {
        if cells.len() >= 8 && cells[0] != "Value" {
            let strip = |s: &str| s.trim_matches('`').to_owned();
            rows.push((strip(&cells[0]), cells[6].clone(), strip(&cells[7])));
        }
        cells.clear();
    };
    for line in rst.lines() {
        if let Some(c) = line.strip_prefix("   * - ") {
            flush(&mut cells);
            cells.push(c.to_owned());
        } else if let Some(c) = line.strip_prefix("     - ") {
            cells.push(c.to_owned());
        } else if !cells.is_empty() && !line.starts_with("     ") {
            flush(&mut cells);
        }
    }
    flush(&mut cells);
    rows
}

#[test]
fn documented_modes_are_the_served_modes() {
    let Some((vmm, root)) = mounted_vmm("modes", opts()) else {
        return;
    };
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rst = fs::read_to_string(manifest.join("../Documentation/kvm.rst")).unwrap();
    let rows = documented(&rst);
    assert_eq!(rows.len(), 64, "every value of schemas/kvm.toml");
    let vm = vmm.vms[0].source.name();
    let kernel: BTreeSet<String> = names(&fresh(vmm.vms[0].fd().unwrap().as_raw_fd()))
        .union(&names(&fresh(vmm.vms[0].vcpu_fds()[0])))
        .cloned()
        .collect();
    let mut served = 0;
    let mut unserved = BTreeSet::new();
    for (name, mode, path) in &rows {
        let p: PathBuf = root.join(path.replace("<tid>-<fd>", vm).replace("vcpu<N>", "vcpu0"));
        match fs::metadata(&p) {
            Ok(md) => {
                assert_eq!(
                    format!("{name} {:04o}", md.permissions().mode() & 0o777),
                    format!("{name} {mode}"),
                    "{path}"
                );
                // The top-level aggregate file has the same mode.
                let top = root.join("kvm").join(name);
                assert_eq!(
                    fs::metadata(&top).unwrap().permissions().mode() & 0o777,
                    md.permissions().mode() & 0o777,
                    "kvm/{name}"
                );
                served += 1;
            }
            Err(_) => {
                unserved.insert(name.clone());
            }
        }
    }
    // Not served: histograms (not values of the IR yet), mp_state (kept by a VMM; this one
    // does not), and the schema's optional stats this kernel lacks.
    let mut expected: BTreeSet<String> = [
        "halt_poll_success_hist",
        "halt_poll_fail_hist",
        "halt_wait_hist",
        "mp_state",
    ]
    .map(String::from)
    .into();
    for (name, _, _) in &rows {
        if !kernel.contains(name) && !expected.contains(name) {
            expected.insert(name.clone());
        }
    }
    assert_eq!(unserved, expected);
    assert_eq!(served, rows.len() - expected.len());
    eprintln!("{served} documented modes equal the served ones");
}
