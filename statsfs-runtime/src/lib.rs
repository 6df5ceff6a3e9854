//! The statsfs runtime: the intermediate representation every front-end produces
//! ([`ValueSet`], [`ValueDesc`]), the aggregating tree of [`Source`]s with the exact statsfs
//! semantics (aggregation, clear, hidden, lookup, revoke), and the walker/snapshot API every
//! backend consumes. It does no I/O: backends (FUSE, HTTP, KVM binary stats) live in their
//! own crates and never re-implement any of this.
//!
//! ```
//! use std::sync::Arc;
//! use statsfs_runtime::{field_access, Aggregation, Counter, Instance, Kind, Registry, Source,
//!     StatsSource, Unit, ValueDesc, ValueSet, ValueType};
//! use std::borrow::Cow;
//!
//! #[derive(Default)]
//! struct Vcpu { exits: Counter }
//!
//! static VCPU: ValueSet = ValueSet::new("vcpu", "per-vCPU", Some("vcpu"), &[ValueDesc {
//!     name: Cow::Borrowed("exits"), doc: Cow::Borrowed("VM exits"), ty: ValueType::U64,
//!     aggregation: Aggregation::Sum, kind: Kind::Cumulative, unit: Unit::NONE, show: None,
//!     access: field_access!(Vcpu, exits), hidden: false,
//! }]);
//! impl StatsSource for Vcpu { fn value_set() -> &'static ValueSet { &VCPU } }
//!
//! let kvm = Source::new("kvm").unwrap();
//! kvm.add_aggregate(&VCPU).unwrap();
//! let stats = Instance::<Vcpu>::default();
//! let vcpu0 = Source::new("vcpu0").unwrap();
//! vcpu0.add_instance(&stats).unwrap();
//! kvm.add_child(&vcpu0).unwrap();
//! stats.exits.inc();
//! assert_eq!(kvm.lookup("exits").unwrap().text(), "1\n");
//! ```
#![deny(missing_docs)]

mod counter;
mod desc;
mod error;
mod fold;
mod instance;
mod name;
pub mod naming;
mod read;
mod registry;
pub mod rules;
mod set;
mod source;
mod value;
mod walk;
pub mod watch;

pub use counter::{Counter, Gauge, LocalCounter, Peak};
pub use desc::{
    show_with, Access, Aggregation, Base, ClearFn, CustomValue, FieldOffset, FieldType, GetFn,
    Kind, ShowFn, Unit, UnitKind, ValueDesc, ValueType, Witness,
};
pub use error::{Error, Result};
pub use instance::{ErasedInstance, Instance, StatsSource};
pub use name::{validate_name, MAX_NAME_LEN, RESERVED_PREFIX};
pub use registry::Registry;
pub use set::{ReadAllFn, ValueSet};
pub use source::{GroupInfo, GroupKind, Source};
pub use value::{Entry, ValueRef};
pub use walk::{GroupSnapshot, Snapshot, SnapshotGroup, Visitor, WalkOptions};
