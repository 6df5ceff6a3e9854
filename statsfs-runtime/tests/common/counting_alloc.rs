//! A counting global allocator: live bytes requested from the allocator (malloc's own
//! per-chunk overhead comes on top). Shared by the memory test and the memory benchmark;
//! each binary declares `#[global_allocator] static A: Counting = Counting;`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};

/// Forwards to the system allocator, counting live bytes in [`LIVE`].
pub struct Counting;

/// Bytes currently allocated.
pub static LIVE: AtomicIsize = AtomicIsize::new(0);

/// Bytes currently allocated.
pub fn live() -> isize {
    LIVE.load(Relaxed)
}

// SAFETY: forwards to the system allocator, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Relaxed);
        // SAFETY: caller's contract.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Relaxed);
        // SAFETY: caller's contract.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        LIVE.fetch_add(n as isize - l.size() as isize, Relaxed);
        // SAFETY: caller's contract.
        unsafe { System.realloc(p, l, n) }
    }
}
