//! Field types for the hot path. Each is one `AtomicU64`, so a struct of them is a plain
//! block of u64s (as KVM's own stats structs are) that the runtime reads by offset.
//!
//! Two write disciplines, chosen per field so the cost is visible in the type:
//! - [`Counter`] and [`Gauge`]: any thread may write; one relaxed atomic RMW (`lock xadd`),
//!   the same instruction prometheus-client and Firecracker's `SharedIncMetric` use.
//! - [`LocalCounter`]: one writer thread (a vCPU thread owns its stats, as the kernel's
//!   plain `++` assumes); a relaxed load and store, no locked instruction, about 15× cheaper.
//!   Readers on other threads still see whole values, never torn ones.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::desc::{FieldType, ValueType};

macro_rules! common {
    ($t:ident) => {
        impl $t {
            /// A new value.
            pub const fn new(v: u64) -> Self {
                $t(AtomicU64::new(v))
            }

            /// The current value.
            #[inline(always)]
            pub fn get(&self) -> u64 {
                self.0.load(Relaxed)
            }

            /// The underlying atomic, for code that needs another ordering.
            pub fn as_atomic(&self) -> &AtomicU64 {
                &self.0
            }
        }

        // SAFETY: repr(transparent) over AtomicU64: 8 bytes, aligned, atomic, clearable.
        unsafe impl FieldType for $t {
            const TYPE: ValueType = ValueType::U64;
            const CAN_CLEAR: bool = true;
        }
    };
}

/// A monotonic counter any thread may increment.
#[repr(transparent)]
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);
common!(Counter);

impl Counter {
    /// Adds one: a single relaxed `fetch_add`.
    #[inline(always)]
    pub fn inc(&self) {
        self.0.fetch_add(1, Relaxed);
    }

    /// Adds `n`.
    #[inline(always)]
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Relaxed);
    }
}

/// A counter with exactly one writing thread at a time.
///
/// `inc` is a relaxed load plus a relaxed store. If two threads do write concurrently,
/// increments can be lost (never memory safety): use [`Counter`] for shared counters.
#[repr(transparent)]
#[derive(Debug, Default)]
pub struct LocalCounter(AtomicU64);
common!(LocalCounter);

impl LocalCounter {
    /// Adds one without a locked instruction.
    #[inline(always)]
    pub fn inc(&self) {
        self.0.store(self.0.load(Relaxed).wrapping_add(1), Relaxed);
    }

    /// Adds `n` without a locked instruction.
    #[inline(always)]
    pub fn add(&self, n: u64) {
        self.0.store(self.0.load(Relaxed).wrapping_add(n), Relaxed);
    }
}

/// A level that goes up and down (declare it `instant`).
#[repr(transparent)]
#[derive(Debug, Default)]
pub struct Gauge(AtomicU64);
common!(Gauge);

impl Gauge {
    /// Sets the level.
    #[inline(always)]
    pub fn set(&self, v: u64) {
        self.0.store(v, Relaxed);
    }

    /// Adds `n` (wrapping).
    #[inline(always)]
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Relaxed);
    }

    /// Subtracts `n` (wrapping).
    #[inline(always)]
    pub fn sub(&self, n: u64) {
        self.0.fetch_sub(n, Relaxed);
    }
}

/// The highest level seen (declare it `peak`).
#[repr(transparent)]
#[derive(Debug, Default)]
pub struct Peak(AtomicU64);
common!(Peak);

impl Peak {
    /// Raises the peak to `v` if `v` is higher. Only a new maximum costs a locked
    /// instruction; the common case is one load.
    #[inline(always)]
    pub fn record(&self, v: u64) {
        if v > self.0.load(Relaxed) {
            self.0.fetch_max(v, Relaxed);
        }
    }
}
