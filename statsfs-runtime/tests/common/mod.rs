//! Hand-written value sets for the runtime tests (the derive and the generator, once they
//! exist, must produce exactly this kind of table).
#![allow(dead_code)]

use std::borrow::Cow;
use std::sync::atomic::*;

pub use statsfs_runtime::*;

/// A descriptor literal for a static table.
#[macro_export]
macro_rules! desc {
    ($owner:ty, $field:ident, $name:expr, $ty:ident, $agg:ident, $kind:ident) => {
        desc!($owner, $field, $name, $ty, $agg, $kind, None)
    };
    ($owner:ty, $field:ident, $name:expr, $ty:ident, $agg:ident, $kind:ident, $show:expr) => {
        $crate::common::ValueDesc {
            name: ::std::borrow::Cow::Borrowed($name),
            doc: ::std::borrow::Cow::Borrowed(concat!("doc of ", $name)),
            ty: $crate::common::ValueType::$ty,
            aggregation: $crate::common::Aggregation::$agg,
            kind: $crate::common::Kind::$kind,
            unit: $crate::common::Unit::NONE,
            show: $show,
            access: ::statsfs_runtime::field_access!($owner, $field),
            hidden: false,
        }
    };
}

/// A KVM-like VM set: a counter, a gauge and a peak.
#[derive(Default, Debug)]
pub struct VmStats {
    pub remote_tlb_flush: Counter,
    pub pages_4k: Gauge,
    pub max_mmu_rmap_size: Peak,
}

pub static VM: ValueSet = ValueSet::new(
    "vm",
    "per-VM statistics",
    Some("vm"),
    &[
        desc!(
            VmStats,
            remote_tlb_flush,
            "remote_tlb_flush",
            U64,
            Sum,
            Cumulative
        ),
        desc!(VmStats, pages_4k, "pages_4k", U64, Sum, Instant),
        desc!(
            VmStats,
            max_mmu_rmap_size,
            "max_mmu_rmap_size",
            U64,
            Max,
            Peak
        ),
    ],
);

impl StatsSource for VmStats {
    fn value_set() -> &'static ValueSet {
        &VM
    }
}

pub fn mp_state_show(v: u64) -> Cow<'static, str> {
    Cow::Borrowed(match v {
        0 => "RUNNABLE",
        1 => "UNINITIALIZED",
        3 => "HALTED",
        _ => "UNKNOWN",
    })
}

/// A KVM-like vCPU set.
#[derive(Default, Debug)]
pub struct VcpuStats {
    pub exits: Counter,
    pub halt_wakeup: LocalCounter,
    pub guest_mode: AtomicBool,
    pub mp_state: AtomicU32,
    pub tsc_offset: i64,
}

pub static VCPU: ValueSet = ValueSet::new(
    "vcpu",
    "per-vCPU statistics",
    Some("vcpu"),
    &[
        desc!(VcpuStats, exits, "exits", U64, Sum, Cumulative),
        desc!(VcpuStats, halt_wakeup, "halt_wakeup", U64, Sum, Cumulative),
        desc!(
            VcpuStats,
            guest_mode,
            "guest_mode",
            Bool,
            CountZero,
            Instant
        ),
        desc!(
            VcpuStats,
            mp_state,
            "mp_state",
            U32,
            None,
            Instant,
            Some(mp_state_show)
        ),
        desc!(VcpuStats, tsc_offset, "tsc-offset", I64, Min, Cumulative),
    ],
);

impl StatsSource for VcpuStats {
    fn value_set() -> &'static ValueSet {
        &VCPU
    }
}

/// One field of each integer type, with one descriptor per aggregation over it, so every
/// (type, aggregation) pair is tested against the same numbers.
macro_rules! all_aggs {
    ($($set:ident $st:ident $atomic:ty => $ty:ident;)*) => {$(
        #[derive(Default, Debug)]
        pub struct $st {
            pub v: $atomic,
        }
        pub static $set: ValueSet = ValueSet::new(
            stringify!($set),
            "every aggregation of one field",
            None,
            &[
                desc!($st, v, "none", $ty, None, Cumulative),
                desc!($st, v, "sum", $ty, Sum, Cumulative),
                desc!($st, v, "min", $ty, Min, Cumulative),
                desc!($st, v, "max", $ty, Max, Cumulative),
                desc!($st, v, "avg", $ty, Avg, Cumulative),
                desc!($st, v, "count_zero", $ty, CountZero, Cumulative),
            ],
        );
        impl StatsSource for $st {
            fn value_set() -> &'static ValueSet {
                &$set
            }
        }
    )*};
}

all_aggs! {
    U8S U8Stat AtomicU8 => U8;
    U16S U16Stat AtomicU16 => U16;
    U32S U32Stat AtomicU32 => U32;
    U64S U64Stat AtomicU64 => U64;
    I8S I8Stat AtomicI8 => I8;
    I16S I16Stat AtomicI16 => I16;
    I32S I32Stat AtomicI32 => I32;
    I64S I64Stat AtomicI64 => I64;
    BOOLS BoolStat AtomicBool => Bool;
}

/// `parent` with one child per value, each child holding one simple instance.
pub fn children_with<T: StatsSource>(parent: &Source, items: Vec<T>) -> Vec<Instance<T>> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let inst = Instance::new(item);
            let child = Source::new(&format!("c{i}")).unwrap();
            child.add_instance(&inst).unwrap();
            parent.add_child(&child).unwrap();
            inst
        })
        .collect()
}

/// The carrier of value `name` in `src`.
pub fn val(src: &Source, name: &str) -> u64 {
    src.lookup(name).unwrap().read()
}

/// The file text of value `name` in `src`.
pub fn text(src: &Source, name: &str) -> String {
    src.lookup(name).unwrap().text()
}
