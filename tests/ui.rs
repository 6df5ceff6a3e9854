//! Compile-time diagnostics of `#[derive(StatsSource)]`: every mistake the derive (or the
//! trait bounds it emits) catches has one `tests/ui/fail/*.rs` case whose committed `.stderr`
//! shows exactly that error, spanned on the offending token; `tests/ui/pass/*.rs` compile
//! and check at run time what the derive produced.
//!
//! Regenerate the `.stderr` files with `TRYBUILD=overwrite cargo test -p statsfs --test ui`
//! and read every one before committing.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
