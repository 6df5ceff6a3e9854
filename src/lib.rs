//! # statsfs: describe statistics once, serve them as an aggregating tree
//!
//! A subsystem (a VMM's VMs and vCPUs, network devices, anything with counters) declares its
//! statistics once, with `#[derive(StatsSource)]` on a struct of counters or in a TOML schema
//! compiled by `statsfs-gen`. Both produce the same value sets; the runtime arranges
//! instances in a tree of [`Source`]s whose aggregate values (sum, min, max, avg, count of
//! zeros) are computed over whole subtrees on every read, with the semantics of the Linux
//! statsfs patch series. Backends serve that one tree: a FUSE filesystem, Prometheus /
//! OpenMetrics and JSON over HTTP, and KVM's binary stats format.
//!
//! ## Quick start
//!
//! ```
//! use statsfs::{Counter, Instance, Source, StatsSource};
//!
//! /// Statistics of one virtual CPU.
//! #[derive(Default, StatsSource)]
//! #[stats(name = "vcpu", label = "vcpu")]
//! struct VcpuStats {
//!     /// VM exits.
//!     exits: Counter,
//! }
//!
//! let kvm = Source::new("kvm")?;
//! kvm.add_aggregate_of::<VcpuStats>()?;           // kvm/exits sums every vCPU below
//! let stats = Instance::<VcpuStats>::default();
//! let vcpu0 = Source::new("vcpu0")?;
//! vcpu0.add_instance(&stats)?;
//! kvm.add_child(&vcpu0)?;
//! stats.exits.inc();                              // the hot path: one relaxed atomic add
//! assert_eq!(kvm.lookup("exits")?.text(), "1\n");
//! # Ok::<(), statsfs::Error>(())
//! ```
//!
//! The derive's attributes are documented on [`macro@StatsSource`].
//!
//! ## Where things are
//!
//! | what | where | cargo feature |
//! |---|---|---|
//! | the IR, counters, the tree, aggregation, clear, walks | this crate's root (re-exported `statsfs-runtime`) | always |
//! | `#[derive(StatsSource)]` | [`macro@StatsSource`] | always |
//! | KVM's binary stats format | `statsfs::kvm_binary` | `kvm-binary` (default) |
//! | HTTP: `/metrics`, `/snapshot.json`, `/schema.json`, `/kvm-stats` | `statsfs::http` | `http` |
//! | FUSE: one directory per source, one file per value | `statsfs::fuse` | `fuse` |
//! | schemas in TOML, generated Rust and rst docs | the `statsfs-gen` crate (a build-dependency) | - |
#![deny(missing_docs)]

pub use statsfs_runtime::*;

/// KVM's binary statistics format: the codec, its mapping to the IR, a source as a stats file.
#[cfg(feature = "kvm-binary")]
pub use statsfs_kvm_binary as kvm_binary;

/// The HTTP backend (Prometheus text, OpenMetrics, JSON, KVM binary stats).
#[cfg(feature = "http")]
pub use statsfs_http as http;

/// The FUSE backend (a directory per source, a file per value).
#[cfg(feature = "fuse")]
pub use statsfs_fuse as fuse;

pub use statsfs_derive::StatsSource;

/// The README's example, compiled and run as a doctest so it cannot rot.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
