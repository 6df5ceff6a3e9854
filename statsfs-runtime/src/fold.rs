//! Aggregation (reference §3): the one place simple values are combined. The aggregate
//! read path, clear and the snapshot walker all come through here.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use crate::desc::{AccessKind, Aggregation, Kind, ValueDesc, ValueType};
use crate::instance::ErasedInstance;
use crate::read::{self, load};
use crate::set::ValueSet;

/// Cumulative SUM totals of removed children, kept so a parent's counters never go
/// backwards (opt-in "retained totals"). One slot per descriptor of `set`; only cumulative
/// SUM slots are ever non-zero. A store is never changed in place except by clear, so a
/// cached list holding it stays consistent.
pub(crate) struct Retained {
    pub(crate) set: &'static ValueSet,
    pub(crate) slots: Box<[AtomicU64]>,
    /// The removed child these totals came from, while it exists (it may come back);
    /// `None` for the merged totals of children that are gone for good.
    pub(crate) from: Option<std::sync::Weak<crate::source::Node>>,
}

impl Retained {
    pub(crate) fn new(set: &'static ValueSet) -> Retained {
        Retained {
            set,
            slots: set.values().iter().map(|_| AtomicU64::new(0)).collect(),
            from: None,
        }
    }

    /// A store with `self`'s totals plus `other`'s.
    pub(crate) fn merged(&self, other: &Retained) -> Retained {
        let r = Retained::new(self.set);
        for ((d, a), b) in r
            .slots
            .iter()
            .zip(self.slots.iter())
            .zip(other.slots.iter())
        {
            d.store(a.load(Relaxed).wrapping_add(b.load(Relaxed)), Relaxed);
        }
        r
    }
}

impl Retained {
    /// What `self` holds beyond `live` (the returning child's totals now), slot by slot,
    /// as a store of no child; `None` when the child counts at least as much everywhere.
    pub(crate) fn shortfall(&self, live: &Retained) -> Option<Retained> {
        let r = Retained::new(self.set);
        let mut any = false;
        for ((d, kept), now) in r.slots.iter().zip(self.slots.iter()).zip(live.slots.iter()) {
            let (kept, now) = (kept.load(Relaxed), now.load(Relaxed));
            if now < kept {
                d.store(kept - now, Relaxed);
                any = true;
            }
        }
        any.then_some(r)
    }
}

/// Whether a value's contribution outlives a removed child when totals are retained.
pub(crate) fn is_retained(desc: &ValueDesc) -> bool {
    desc.aggregation == Aggregation::Sum && desc.kind == Kind::Cumulative
}

/// Every live simple instance of one set in one subtree, flattened so that an aggregate
/// read is one pass over a contiguous array of pointers, as cheap as a hand-written loop.
pub(crate) struct Flat {
    /// The subtree generation this list was built at.
    pub(crate) gen: u64,
    /// Start of each instance's stats value, for field access.
    bases: Box<[*const u8]>,
    /// The same instances: keep them alive and serve function access.
    insts: Box<[ErasedInstance]>,
    retained: Box<[Arc<Retained>]>,
}

// SAFETY: `bases` point into allocations `insts` keeps alive; they are only read.
unsafe impl Send for Flat {}
// SAFETY: as above.
unsafe impl Sync for Flat {}

impl Flat {
    pub(crate) fn new(gen: u64, insts: Vec<ErasedInstance>, retained: Vec<Arc<Retained>>) -> Flat {
        Flat {
            gen,
            bases: insts.iter().map(ErasedInstance::base).collect(),
            insts: insts.into_boxed_slice(),
            retained: retained.into_boxed_slice(),
        }
    }

    /// Aggregate of descriptor `index` of `set` over this subtree.
    pub(crate) fn fold(&self, set: &ValueSet, index: usize) -> u64 {
        let desc = &set.values()[index];
        let signed = desc.ty.is_signed();
        let agg = desc.aggregation;
        let v = match desc.access.0 {
            AccessKind::Field { offset, ty, .. } => {
                // Monomorphised per type so the hot loop is a load and an add.
                macro_rules! by_type {
                    ($($t:ident)*) => {
                        match ty {
                            $(ValueType::$t => fold_iter(agg, signed, self.bases.iter().map(|&b| {
                                // SAFETY: every instance in a Flat passed the set's type check.
                                unsafe { load(ValueType::$t, b.add(offset)) }
                            })),)*
                            ValueType::Custom { .. } => 0,
                        }
                    };
                }
                by_type!(U8 U16 U32 U64 I8 I16 I32 I64 Bool)
            }
            AccessKind::Func { .. } => {
                fold_iter(agg, signed, self.insts.iter().map(|i| read::read(desc, i)))
            }
        };
        v.wrapping_add(self.kept(desc, index))
    }

    /// What removed children left in descriptor `index` (cumulative SUM values only).
    fn kept(&self, desc: &ValueDesc, index: usize) -> u64 {
        if !is_retained(desc) {
            return 0;
        }
        self.retained
            .iter()
            .fold(0u64, |a, r| a.wrapping_add(r.slots[index].load(Relaxed)))
    }

    /// Every aggregate of `set` at once, appended to `out`. A set with a bulk reader (a
    /// kernel stats fd) is read once per instance, not once per value per instance.
    pub(crate) fn fold_all(&self, set: &ValueSet, out: &mut Vec<u64>) {
        let n = set.values().len();
        let Some(read_all) = set.read_all() else {
            out.extend((0..n).map(|i| self.fold(set, i)));
            return;
        };
        let mut matrix = vec![0u64; n * self.insts.len()];
        for (inst, row) in self.insts.iter().zip(matrix.chunks_exact_mut(n.max(1))) {
            read_all(inst.stats(), row);
            for (v, d) in row.iter_mut().zip(set.values()) {
                *v = d.ty.extend(*v);
            }
        }
        for (i, desc) in set.values().iter().enumerate() {
            let column = matrix.iter().skip(i).step_by(n.max(1)).copied();
            let v = fold_iter(desc.aggregation, desc.ty.is_signed(), column);
            out.push(v.wrapping_add(self.kept(desc, i)));
        }
    }

    /// Zeroes descriptor `index` in every instance and retained total of the subtree.
    pub(crate) fn clear(&self, set: &ValueSet, index: usize) {
        let desc = &set.values()[index];
        for i in self.insts.iter() {
            read::clear(desc, i);
        }
        for r in self.retained.iter() {
            r.slots[index].store(0, Relaxed);
        }
    }

    /// This subtree's retained-eligible totals as a new store.
    pub(crate) fn retained(&self, set: &'static ValueSet) -> Retained {
        let r = Retained::new(set);
        for (i, desc) in set.values().iter().enumerate() {
            if is_retained(desc) {
                r.slots[i].store(self.fold(set, i), Relaxed);
            }
        }
        r
    }
}

/// Folds carriers by the aggregation rules; the empty results are the reference's.
#[inline(always)]
pub(crate) fn fold_iter(agg: Aggregation, signed: bool, it: impl Iterator<Item = u64>) -> u64 {
    match agg {
        Aggregation::None => 0,
        Aggregation::Sum => it.fold(0u64, u64::wrapping_add),
        Aggregation::Min if signed => it.map(|v| v as i64).min().unwrap_or(i64::MAX) as u64,
        Aggregation::Min => it.min().unwrap_or(u64::MAX),
        Aggregation::Max if signed => it.map(|v| v as i64).max().unwrap_or(i64::MIN) as u64,
        Aggregation::Max => it.max().unwrap_or(0),
        Aggregation::Avg => {
            let (sum, n) = it.fold((0u64, 0u64), |(s, n), v| (s.wrapping_add(v), n + 1));
            match n {
                0 => 0,
                n if signed => (sum as i64).wrapping_div(n as i64) as u64,
                n => sum / n,
            }
        }
        Aggregation::CountZero => it.filter(|&v| v == 0).count() as u64,
    }
}
