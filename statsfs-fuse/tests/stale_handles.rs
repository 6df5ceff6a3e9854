//! Open files of a source that left the tree: `fstat` keeps answering (as for a deleted
//! file), reads see 0 (as before), and writes change nothing: EIO, which is what debugfs
//! answers on a file that was removed while open.

mod common;

use std::fs;
use std::io::{Read, Seek, Write};
use std::os::unix::fs::MetadataExt;

use common::{mounted, read, tree};

#[test]
fn fstat_after_read_and_writes_of_a_removed_source() {
    let t = tree();
    let Some(m) = mounted(&t.registry, "stale") else {
        return;
    };
    let path = m.dir.join("kvm/vm/vcpu0/exits");
    let mut f = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    let ino = f.metadata().unwrap().ino();
    assert!(t.vm.remove_child(&t.vcpu));
    let mut s = String::new();
    f.read_to_string(&mut s).unwrap();
    assert_eq!(s, "0\n", "a removed source reads 0");
    // fstat after a read: it used to ask by inode only and got ENOENT.
    let md = f.metadata().unwrap();
    assert_eq!((md.ino(), md.mode() & 0o7777, md.len()), (ino, 0o644, 0));
    // A write through the stale fd: refused, and the detached instance keeps its value.
    f.rewind().unwrap();
    let e = f.write(b"0\n").unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EIO), "{e}");
    assert_eq!(t.stats.exits.get(), 100);
    t.vm.add_child(&t.vcpu).unwrap();
    assert_eq!(read(&path), "100\n", "re-added with its value");
    assert_eq!(read(m.dir.join("kvm/vm/exits")), "100\n");
}
