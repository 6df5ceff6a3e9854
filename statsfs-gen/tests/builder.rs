//! The `build.rs` builder: what it writes compiles warning-free where programs put it (a
//! private module of a binary), under any crate path, and its errors keep their causes.

mod common;

use std::error::Error as _;
use std::path::{Path, PathBuf};

use statsfs_gen::{BuildError, Builder};

/// A scratch directory removed on drop (also when an assertion fails).
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let p =
            std::env::temp_dir().join(format!("statsfs-gen-builder-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn vmm_schema() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/vmm.toml")
}

/// Type-checks `main` as a binary with every warning an error, `statsfs` known as `name`
/// (and under no other name); the compiler's messages on failure.
fn compile_bin(dir: &Path, main: &str, name: &str) -> Result<(), String> {
    let file = dir.join("main.rs");
    std::fs::write(&file, main).unwrap();
    common::rustc_check(&file, dir, "bin", "user", name, &["-D", "warnings"])
}

/// A program using the generated structs, and not the registration table.
fn program(generated: &Path, krate: &str) -> String {
    format!(
        "mod stats {{\n    include!({:?});\n}}\n\n\
         fn main() {{\n\
         \x20   let vm = {krate}::Instance::<stats::VmmVmStats>::default();\n\
         \x20   let vcpu = {krate}::Instance::<stats::VmmVcpuStats>::default();\n\
         \x20   vcpu.vmm_exits.add(1);\n\
         \x20   let _ = vm;\n\
         }}\n",
        generated.display().to_string()
    )
}

/// Issue 13: `static VALUE_SETS is never used` in every program that includes the module
/// privately and registers its sets by hand.
#[test]
fn generated_module_compiles_without_warnings_in_a_private_module() {
    let dir = Scratch::new("warnings");
    let written = Builder::new()
        .schema(vmm_schema())
        .out_dir(&dir.0)
        .generate()
        .unwrap();
    assert_eq!(written, [dir.0.join("vmm.rs")]);
    let main = program(&written[0], "statsfs");
    if let Err(e) = compile_bin(&dir.0, &main, "statsfs") {
        panic!("the generated module warns:\n{e}");
    }
}

/// Issue 13: `Builder` hardcoded `::statsfs`, so a crate that renames statsfs (or re-exports
/// it) could not use the generated code.
#[test]
fn crate_path_replaces_every_statsfs_path() {
    let dir = Scratch::new("crate-path");
    let default_dir = dir.0.join("default");
    let renamed_dir = dir.0.join("renamed");
    std::fs::create_dir_all(&default_dir).unwrap();
    std::fs::create_dir_all(&renamed_dir).unwrap();
    Builder::new()
        .schema(vmm_schema())
        .out_dir(&default_dir)
        .generate()
        .unwrap();
    let written = Builder::new()
        .schema(vmm_schema())
        .out_dir(&renamed_dir)
        .crate_path("::my_statsfs")
        .generate()
        .unwrap();
    let default = std::fs::read_to_string(default_dir.join("vmm.rs")).unwrap();
    let renamed = std::fs::read_to_string(&written[0]).unwrap();
    assert_eq!(renamed, default.replace("::statsfs", "::my_statsfs"));
    assert_eq!(renamed.matches("crate = \"::my_statsfs\"").count(), 2);
    // Compiled with statsfs known only as `my_statsfs`.
    let main = program(&written[0], "my_statsfs");
    if let Err(e) = compile_bin(&renamed_dir, &main, "my_statsfs") {
        panic!("the module generated for ::my_statsfs does not compile:\n{e}");
    }
}

#[test]
fn a_crate_path_that_is_not_a_path_is_refused_before_anything_is_written() {
    let dir = Scratch::new("bad-crate-path");
    let e = Builder::new()
        .schema(vmm_schema())
        .out_dir(&dir.0)
        .crate_path("::my statsfs")
        .generate()
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "`::my statsfs` is not a Rust path (crate_path wants one like `::statsfs`)"
    );
    assert!(matches!(e, BuildError::CratePath(ref p) if p == "::my statsfs"));
    assert_eq!(std::fs::read_dir(&dir.0).unwrap().count(), 0);
}

/// Issue 13: `BuildError` had no `source()`, so error reporters lost the cause.
#[test]
fn build_errors_keep_their_cause() {
    let dir = Scratch::new("errors");
    let missing = dir.0.join("absent.toml");
    let e = Builder::new()
        .schema(&missing)
        .out_dir(&dir.0)
        .generate()
        .unwrap_err();
    assert_eq!(e.to_string(), format!("cannot read {}", missing.display()));
    let io = e
        .source()
        .and_then(|s| s.downcast_ref::<std::io::Error>())
        .expect("the io::Error as source");
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);

    let bad = dir.0.join("bad.toml");
    std::fs::write(&bad, "version = 2\nname = \"x\"\n").unwrap();
    let e = Builder::new()
        .schema(&bad)
        .out_dir(&dir.0)
        .generate()
        .unwrap_err();
    let shown = bad.display().to_string();
    assert_eq!(e.to_string(), format!("{shown} is not a valid schema"));
    let errors = e
        .source()
        .and_then(|s| s.downcast_ref::<statsfs_gen::Errors>())
        .expect("the schema's errors as source");
    assert_eq!(
        errors.locations(),
        [format!("{shown}:1:11: unsupported version 2")]
    );
    // `fn main() -> Result<(), Box<dyn Error>>` in build.rs prints Debug: the whole chain.
    assert_eq!(
        format!("{e:?}"),
        format!(
            "{shown} is not a valid schema\n\nCaused by:\n{}",
            errors.render()
        )
    );

    let unwritable = dir.0.join("no-such-dir");
    let e = Builder::new()
        .schema(vmm_schema())
        .out_dir(&unwritable)
        .generate()
        .unwrap_err();
    let file = unwritable.join("vmm.rs");
    assert_eq!(e.to_string(), format!("cannot write {}", file.display()));
    assert_eq!(
        e.source()
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .map(|io| io.kind()),
        Some(std::io::ErrorKind::NotFound)
    );
}
