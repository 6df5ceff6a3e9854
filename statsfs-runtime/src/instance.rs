//! Instances: the memory simple values are read from, and how the tree holds them without
//! knowing their type.

use std::any::{Any, TypeId};
use std::fmt;
use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::Arc;

use crate::set::ValueSet;

/// A type whose statistics are described by one static value set; what
/// `#[derive(StatsSource)]` implements.
pub trait StatsSource: Any + Send + Sync {
    /// The set describing this type's fields. Always the same `static`.
    fn value_set() -> &'static ValueSet;
}

/// Two cache lines: Intel's adjacent-line prefetcher pairs lines, so 64 is not enough to
/// keep two instances' counters from bouncing together.
#[repr(C, align(128))]
#[derive(Default)]
struct Aligned<T>(T);

/// A shared statistics instance that never shares a cache line with another allocation.
///
/// Two small stats structs allocated back to back by `Arc::new` can land in one line, and
/// then two threads incrementing "independent" counters contend (prometheus-client's
/// counters slow down 4.7× that way). `Instance` pads the allocation to 128 bytes.
pub struct Instance<T>(Arc<Aligned<T>>);

impl<T: Send + Sync + 'static> Instance<T> {
    /// Allocates the instance.
    pub fn new(value: T) -> Instance<T> {
        Instance(Arc::new(Aligned(value)))
    }

    /// The type-erased handle a source holds.
    pub fn erase(&self) -> ErasedInstance {
        let keep: Arc<dyn Any + Send + Sync> = self.0.clone();
        let stats: &(dyn Any + Send + Sync) = &self.0 .0;
        ErasedInstance {
            stats: NonNull::from(stats),
            _keep: keep,
        }
    }
}

impl<T> Clone for Instance<T> {
    fn clone(&self) -> Self {
        Instance(self.0.clone())
    }
}

impl<T: Default + Send + Sync + 'static> Default for Instance<T> {
    fn default() -> Self {
        Instance::new(T::default())
    }
}

impl<T> Deref for Instance<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0 .0
    }
}

impl<T: fmt::Debug> fmt::Debug for Instance<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0 .0.fmt(f)
    }
}

/// An instance with its type erased: keeps the allocation alive and points at the stats
/// value inside it (which may sit inside a padding wrapper).
#[derive(Clone)]
pub struct ErasedInstance {
    /// Owns the allocation `stats` points into.
    _keep: Arc<dyn Any + Send + Sync>,
    stats: NonNull<dyn Any + Send + Sync>,
}

// SAFETY: `stats` points into the allocation `keep` owns, which is Send + Sync and never
// moves; the pointer is only turned into a shared reference.
unsafe impl Send for ErasedInstance {}
// SAFETY: as above.
unsafe impl Sync for ErasedInstance {}

impl ErasedInstance {
    /// Erases a plain `Arc`.
    pub fn from_arc<T: Any + Send + Sync>(arc: Arc<T>) -> ErasedInstance {
        let stats: &(dyn Any + Send + Sync) = &*arc;
        let stats = NonNull::from(stats);
        ErasedInstance { _keep: arc, stats }
    }

    /// The stats value, for custom getters to downcast.
    pub fn stats(&self) -> &(dyn Any + Send + Sync) {
        // SAFETY: see the Send impl; `keep` lives as long as `self`.
        unsafe { self.stats.as_ref() }
    }

    /// The type of the stats value.
    pub fn type_id(&self) -> TypeId {
        <dyn Any>::type_id(self.stats())
    }

    /// Start of the stats value, for field access.
    pub(crate) fn base(&self) -> *const u8 {
        self.stats.as_ptr() as *const u8
    }

    /// Whether two handles point at the same stats value.
    pub fn same(&self, other: &ErasedInstance) -> bool {
        self.base() == other.base()
    }
}

impl<T: Any + Send + Sync> From<Arc<T>> for ErasedInstance {
    fn from(arc: Arc<T>) -> Self {
        ErasedInstance::from_arc(arc)
    }
}

impl<T: Send + Sync + 'static> From<&Instance<T>> for ErasedInstance {
    fn from(i: &Instance<T>) -> Self {
        i.erase()
    }
}

impl fmt::Debug for ErasedInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ErasedInstance({:p})", self.base())
    }
}
