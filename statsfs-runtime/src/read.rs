//! Reading and clearing one value of one instance: the only code that touches instance
//! memory.

use std::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, AtomicU8, Ordering::Relaxed};

use crate::desc::{AccessKind, ValueDesc, ValueType};
use crate::instance::ErasedInstance;

/// Loads the raw bits of a `ty`-typed field at `p` and extends them into the carrier.
///
/// # Safety
///
/// `p` must point at a live, aligned field of `ty`'s width that may be read atomically
/// (guaranteed by `FieldType` and the set's validation against the instance type).
#[inline(always)]
pub(crate) unsafe fn load(ty: ValueType, p: *const u8) -> u64 {
    // SAFETY: caller's contract.
    unsafe {
        match ty {
            ValueType::U8 | ValueType::I8 | ValueType::Bool => {
                ty.extend((*(p as *const AtomicU8)).load(Relaxed) as u64)
            }
            ValueType::U16 | ValueType::I16 => {
                ty.extend((*(p as *const AtomicU16)).load(Relaxed) as u64)
            }
            ValueType::U32 | ValueType::I32 => {
                ty.extend((*(p as *const AtomicU32)).load(Relaxed) as u64)
            }
            ValueType::U64 | ValueType::I64 | ValueType::Custom { .. } => {
                (*(p as *const AtomicU64)).load(Relaxed)
            }
        }
    }
}

/// Stores 0 into a `ty`-typed atomic field at `p`.
///
/// # Safety
///
/// As [`load`], and the field must be an atomic (`FieldType::CAN_CLEAR`).
unsafe fn store_zero(ty: ValueType, p: *const u8) {
    // SAFETY: caller's contract.
    unsafe {
        match ty.width() {
            Some(1) => (*(p as *const AtomicU8)).store(0, Relaxed),
            Some(2) => (*(p as *const AtomicU16)).store(0, Relaxed),
            Some(4) => (*(p as *const AtomicU32)).store(0, Relaxed),
            _ => (*(p as *const AtomicU64)).store(0, Relaxed),
        }
    }
}

/// The carrier of `desc` in `inst`. The instance must have passed the set's type check.
#[inline]
pub(crate) fn read(desc: &ValueDesc, inst: &ErasedInstance) -> u64 {
    match desc.access.0 {
        // SAFETY: the group was only added after `inst`'s type matched the field owner.
        AccessKind::Field { offset, ty, .. } => unsafe { load(ty, inst.base().add(offset)) },
        AccessKind::Func { get, arg, .. } => desc.ty.extend(get(inst.stats(), arg)),
    }
}

/// Zeroes `desc` in `inst`; the caller has checked that the value is clearable.
pub(crate) fn clear(desc: &ValueDesc, inst: &ErasedInstance) {
    match desc.access.0 {
        AccessKind::Field {
            offset,
            ty,
            clear: true,
            ..
        } => {
            // SAFETY: type-checked as in `read`, and `clear` is only true for atomics.
            unsafe { store_zero(ty, inst.base().add(offset)) }
        }
        AccessKind::Func {
            clear: Some(clear),
            arg,
            ..
        } => clear(inst.stats(), arg),
        _ => {}
    }
}
