//! Mount points: `mount` refuses what `mount(8)` users would not want mounted on (a file,
//! which FUSE accepts and then answers EIO; a symbolic link, which another user may have
//! planted; a non-empty directory, whose contents would silently vanish), and
//! `MountPoint` makes private directories and removes only what it made.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;

use common::{mounted_at, skip, tree};
use statsfs_fuse::mountpoint::{self, Error};
use statsfs_fuse::{mount, MountPoint, Options};

fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("statsfs-fuse-{}-mp-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir(&d).unwrap();
    d
}

#[test]
fn mount_refuses_a_file_a_symlink_and_a_non_empty_directory() {
    if !std::path::Path::new("/dev/fuse").exists() {
        return skip("mountpoint", "no /dev/fuse");
    }
    let t = tree();
    let base = scratch("refuse");
    let file = base.join("file");
    fs::write(&file, "x").unwrap();
    let victim = base.join("victim");
    fs::create_dir(&victim).unwrap();
    let link = base.join("link");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let full = base.join("full");
    fs::create_dir(&full).unwrap();
    fs::write(full.join("keep"), "x").unwrap();
    let mut results = Vec::new();
    for p in [&file, &link, &full] {
        let r = mount(&t.registry, p, Options::default());
        results.push(match &r {
            Ok(_) => "mounted".to_owned(),
            Err(e) => e.to_string(),
        });
        assert!(!mounted_at(p) && !mounted_at(&victim));
        drop(r);
    }
    assert_eq!(
        results,
        [
            format!("{}: not a directory", file.display()),
            format!(
                "{}: is a symbolic link (not followed); give the directory itself",
                link.display()
            ),
            format!(
                "{}: directory not empty (mounting would hide what it holds)",
                full.display()
            ),
        ]
    );
    assert_eq!(fs::read_to_string(full.join("keep")).unwrap(), "x");
    fs::remove_dir_all(&base).unwrap();
}

#[test]
fn mount_points_made_private_and_removed_only_if_made() {
    let base = scratch("made");
    // A private one: fresh name, 0700, gone when dropped.
    let p = MountPoint::private_in(&base, "demo-").unwrap();
    let name = p.path().file_name().unwrap().to_str().unwrap().to_owned();
    assert!(name.starts_with("demo-") && name.len() == 11, "{name}");
    assert_eq!(
        fs::metadata(p.path()).unwrap().permissions().mode() & 0o7777,
        0o700
    );
    let q = MountPoint::private_in(&base, "demo-").unwrap();
    assert_ne!(p.path(), q.path());
    let (pp, qp) = (p.path().to_owned(), q.path().to_owned());
    drop((p, q));
    assert!(!pp.exists() && !qp.exists());
    // A given one that exists: kept.
    let given = base.join("given");
    fs::create_dir(&given).unwrap();
    let g = MountPoint::at(&given).unwrap();
    assert!(!g.created());
    drop(g);
    assert!(given.is_dir());
    // A given one that is missing: made, then removed.
    let missing = base.join("missing");
    let m = MountPoint::at(&missing).unwrap();
    assert!(m.created() && missing.is_dir());
    drop(m);
    assert!(!missing.exists());
    // Nested: refused, nothing made.
    let nested = base.join("a/b");
    assert!(matches!(MountPoint::at(&nested), Err(Error::NoParent(p)) if p == nested));
    assert!(!base.join("a").exists());
    // A link, a file, a non-empty directory: refused.
    std::os::unix::fs::symlink(&given, base.join("link")).unwrap();
    assert!(matches!(
        MountPoint::at(base.join("link")),
        Err(Error::Symlink(_))
    ));
    fs::write(base.join("file"), "").unwrap();
    assert!(matches!(
        MountPoint::at(base.join("file")),
        Err(Error::NotADirectory(_))
    ));
    assert!(matches!(MountPoint::at(&base), Err(Error::NotEmpty(_))));
    assert!(mountpoint::check(&given).is_ok());
    fs::remove_dir_all(&base).unwrap();
}
