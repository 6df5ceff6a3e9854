//! One fixture per schema diagnostic: `tests/diagnostics/<name>.toml` must fail to check
//! with exactly the rendering in `<name>.stderr` (locations and underlines included).
//! `STATSFS_GEN_BLESS=1 cargo test -p statsfs-gen --test diagnostics` rewrites the
//! `.stderr` files; read every one before committing it.

use std::path::Path;

#[test]
fn every_fixture_renders_exactly_its_stderr() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diagnostics");
    let bless = std::env::var_os("STATSFS_GEN_BLESS").is_some();
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    names.sort();
    assert!(
        names.len() >= 20,
        "expected a fixture per diagnostic, found {}",
        names.len()
    );
    let mut failures = Vec::new();
    for path in names {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let shown = format!("tests/diagnostics/{stem}.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let got = match statsfs_gen::parse(&shown, &text) {
            Ok(_) => format!("(no error: {shown} checked clean)\n"),
            Err(e) => e.render(),
        };
        let expected_path = path.with_extension("stderr");
        if bless {
            std::fs::write(&expected_path, &got).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if got != expected {
            failures.push(format!("--- {stem}: expected\n{expected}--- got\n{got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
