//! The first real user of statsfs: a small KVM virtual machine monitor. Its own statistics
//! are declared in `schemas/vmm.toml` (compiled by statsfs-gen in `build.rs`) and with
//! `#[derive(StatsSource)]`; the kernel's KVM statistics are imported from
//! `KVM_GET_STATS_FD` at run time; all of it is one tree, served by FUSE and HTTP.
#![deny(missing_docs)]

/// KVM's binary stats format (the runtime's codec, so every backend can serve it).
pub use statsfs::kvm_binary as binary;
pub mod cli;
pub mod import;
pub mod top;
pub mod vmm;

/// The VMM's statistics generated from `schemas/vmm.toml`.
#[allow(missing_docs)]
pub mod stats {
    include!(concat!(env!("OUT_DIR"), "/vmm.rs"));
}

/// The kernel's KVM statistics as `schemas/kvm.toml` documents them: the import takes each
/// kernel value's doc from here and reports where kernel and schema differ.
#[allow(missing_docs)]
pub mod kvm_schema {
    include!(concat!(env!("OUT_DIR"), "/kvm.rs"));
    include!(concat!(env!("OUT_DIR"), "/kvm_names.rs"));
}

pub use vmm::{Options, Vm, Vmm};
