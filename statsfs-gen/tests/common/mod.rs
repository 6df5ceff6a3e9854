//! Helpers the statsfs-gen tests share: type-checking generated code with the real rustc
//! against the statsfs crate the tests were built with.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The deps directory of this test binary and the newest `libstatsfs-*.rlib` in it.
pub fn statsfs_rlib() -> Option<(PathBuf, PathBuf)> {
    let deps = std::env::current_exe().ok()?.parent()?.to_owned();
    let rlib = std::fs::read_dir(&deps)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with("libstatsfs-") && n.ends_with(".rlib")
        })
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())?
        .path();
    Some((deps, rlib))
}

/// Type-checks `file` (`--emit metadata` into `out_dir`) as a crate of `crate_type` named
/// `crate_name`, with the statsfs crate known as `statsfs_as` and `lints` (e.g.
/// `["-D", "warnings"]`); the compiler's messages on failure.
pub fn rustc_check(
    file: &Path,
    out_dir: &Path,
    crate_type: &str,
    crate_name: &str,
    statsfs_as: &str,
    lints: &[&str],
) -> Result<(), String> {
    let (deps, rlib) = statsfs_rlib().ok_or("no statsfs rlib next to the test binary")?;
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let o = Command::new(rustc)
        .args(["--edition", "2021", "--crate-type", crate_type])
        .args(["--crate-name", crate_name, "--emit", "metadata"])
        .args(lints)
        .arg("-L")
        .arg(format!("dependency={}", deps.display()))
        .arg("--extern")
        .arg(format!("{statsfs_as}={}", rlib.display()))
        .arg("--out-dir")
        .arg(out_dir)
        .arg(file)
        .output()
        .map_err(|e| format!("rustc: {e}"))?;
    if o.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&o.stderr).into_owned())
    }
}
