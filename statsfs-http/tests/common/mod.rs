//! Helpers the statsfs-http tests share.
#![allow(dead_code)]

use std::io::Write;

/// Runs `promtool check metrics` on an exposition: (accepted, its output); None (skipped
/// loudly, a failure in CI) where promtool is not installed.
pub fn promtool_check(body: &str) -> Option<(bool, String)> {
    let ok = std::process::Command::new("promtool")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!("promtool missing in CI");
        }
        eprintln!("SKIPPED: promtool not installed (apt-get install prometheus)");
        return None;
    }
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Some((
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    ))
}
