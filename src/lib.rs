//! statsfs: describe statistics once, serve them as an aggregating tree.
//!
//! This facade re-exports the runtime (and, as the front-ends land, the derive), the way
//! `serde` re-exports `serde_derive`, so users depend on one crate.
#![deny(missing_docs)]

pub use statsfs_runtime::*;

/// KVM's binary statistics format: the codec, its mapping to the IR, a source as a stats file.
pub use statsfs_kvm_binary as kvm_binary;

/// `#[derive(StatsSource)]`: see the `statsfs-derive` crate for the attributes.
pub use statsfs_derive::StatsSource;

/// The README's example, compiled and run as a doctest so it cannot rot.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
