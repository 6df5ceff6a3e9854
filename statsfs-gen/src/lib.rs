//! statsfs-gen: TOML statistics schemas to Rust and reStructuredText.
//!
//! A subsystem writes `schemas/<name>.toml`; [`parse()`] reads it (module `read`) and checks it
//! (module `check`), every error at once, each located; [`rust`] emits typed structs carrying
//! `#[derive(StatsSource)]` (so the IR is the derive's, by construction), [`rst`] emits a
//! reStructuredText page, and [`diff`] lists breaking changes between two versions.
#![deny(missing_docs)]

pub mod builder;
mod check;
pub mod diag;
pub mod diff;
pub mod parse;
mod read;
pub mod rst;
pub mod rust;
pub mod schema;
pub mod text;

pub use builder::{BuildError, Builder};
pub use diag::{Diagnostic, Errors};
pub use parse::parse;
pub use schema::Schema;
