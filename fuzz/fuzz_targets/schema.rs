//! Arbitrary bytes as a schema file through statsfs-gen's library, the way the CLI reads
//! one: UTF-8 text (`read_to_string` refuses anything else), then `parse` (syntax and every
//! semantic check), then both generators.
//!
//! Invariants beyond "no panic": a schema the checker accepts is one the Rust and rst
//! generators accept too (the CLI writes nothing unless all files check, so a generator
//! failing after a clean check is a half-written output directory); a rejected schema comes
//! with at least one diagnostic, each pointing inside the file (a span past the end
//! underlines nothing).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match statsfs_gen::parse("fuzz.toml", text) {
        Ok(schema) => {
            if let Err(e) = statsfs_gen::rust::generate(&schema, "fuzz.toml") {
                panic!("checked schema, but the Rust generator failed: {e}");
            }
            if let Err(e) = statsfs_gen::rst::generate(&schema, "fuzz.toml") {
                panic!("checked schema, but the rst generator failed: {e}");
            }
        }
        Err(errors) => {
            assert!(
                !errors.diagnostics.is_empty(),
                "rejected without a diagnostic"
            );
            for d in &errors.diagnostics {
                assert!(
                    d.span.start <= d.span.end && d.span.end <= text.len(),
                    "diagnostic {:?} points outside the {}-byte file",
                    d,
                    text.len()
                );
            }
            assert!(!errors.render().is_empty(), "empty rendering of errors");
            assert_eq!(errors.locations().len(), errors.diagnostics.len());
        }
    }
});
