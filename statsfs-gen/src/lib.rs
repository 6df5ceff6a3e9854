//! statsfs-gen: TOML statistics schemas to Rust and reStructuredText.
//!
//! A subsystem writes `schemas/<name>.toml`; [`parse`] checks it (every error at once, each
//! located), [`rust`] emits typed structs carrying `#[derive(StatsSource)]` (so the IR is the
//! derive's, by construction), [`docs`] emits a reStructuredText page, and [`diff`] lists
//! breaking changes between two versions.
#![deny(missing_docs)]

pub mod builder;
pub mod diag;
pub mod diff;
pub mod parse;
pub mod rst;
pub mod rust;
pub mod schema;
pub mod text;

pub use builder::{BuildError, Builder};
pub use diag::{Diagnostic, Errors};
pub use parse::parse;
pub use schema::Schema;
