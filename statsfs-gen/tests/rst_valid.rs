//! The committed rst pages are valid reStructuredText under docutils with warnings treated
//! as errors. CI installs docutils (`python3-docutils`); without it this test fails in CI
//! and says loudly that it skipped elsewhere.

use std::path::Path;
use std::process::Command;

/// A docutils front end that exists here, as a command and its leading arguments.
fn docutils() -> Option<Vec<&'static str>> {
    let candidates: [&[&str]; 4] = [
        &["rst2html"],
        &["rst2html.py"],
        &["/usr/bin/python3", "-m", "docutils"],
        &["python3", "-m", "docutils"],
    ];
    candidates.into_iter().find_map(|c| {
        let ok = Command::new(c[0])
            .args(&c[1..])
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        ok.then(|| c.to_vec())
    })
}

#[test]
fn rst_pages_pass_docutils_with_warnings_as_errors() {
    let Some(cmd) = docutils() else {
        if std::env::var_os("CI").is_some() {
            panic!("docutils is not installed: .ci/run must install python3-docutils");
        }
        eprintln!("SKIPPED rst_pages_pass_docutils_with_warnings_as_errors: docutils not found (install python3-docutils)");
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    for page in ["Documentation/kvm.rst", "Documentation/net.rst"] {
        let out = std::env::temp_dir().join(format!(
            "statsfs-{}-{}.html",
            std::process::id(),
            page.replace('/', "-")
        ));
        let o = Command::new(cmd[0])
            .args(&cmd[1..])
            .args(["--halt=warning", "--report=info"])
            .arg(root.join(page))
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{page} is not clean rst:\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let html = std::fs::read_to_string(&out);
        let _ = std::fs::remove_file(&out);
        assert!(
            html.unwrap().contains("<table"),
            "{page}: the value tables rendered"
        );
    }
}
