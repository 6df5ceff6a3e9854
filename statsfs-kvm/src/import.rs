//! The kernel's own KVM statistics, imported: value sets built at run time from the
//! descriptors `KVM_GET_STATS_FD` reports (whatever this kernel has, vendor extras included),
//! instances that `pread` the stats fd. They aggregate like any other set.
//!
//! The stats fd cannot clear, but debugfs can (`echo 0 >` on a 0644 file), so clearing is
//! emulated here, per value: a clear records the kernel's current value as a baseline.
//! - cumulative: reads give `kernel - baseline` (wrapping), so the value restarts from 0 and
//!   grows with the kernel's counter, exactly as after a debugfs clear;
//! - peak: a baseline cannot lower a maximum, so after a clear the value reads 0 until the
//!   kernel's peak rises above the baseline, and from then on the kernel's peak, which is then
//!   exactly the largest sample since the clear. Samples at or below the old peak that come
//!   after the clear are not seen (debugfs would count them): the one difference, documented;
//! - instant: not clearable (0444), as in debugfs.
//!
//! Each kernel value whose name `schemas/kvm.toml` lists in the matching set (`vm` for VM fds,
//! `vcpu` for vCPU fds) is served with the schema's doc; what is served (kind, unit) is
//! always the kernel's, since the kernel's descriptor describes the numbers it returns. Where
//! the two differ, in names or in kind and unit, the import says so once per descriptor
//! table, as a [`Drift`].

use std::any::Any;
use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use statsfs::{Access, Aggregation, Base, ClearFn, Kind, Unit, ValueDesc, ValueSet, ValueType};

use crate::binary::{self, Desc, Layout};
use crate::kvm_schema;

/// `KVM_GET_STATS_FD` = `_IO(0xAE, 0xCE)`.
const KVM_GET_STATS_FD: u64 = 0xAECE;

/// One VM's or vCPU's stats fd, read on demand.
pub struct KernelStats {
    fd: OwnedFd,
    data_offset: u64,
    /// Data-block offset and kind of the imported (scalar) values, in set order.
    values: Arc<[(u32, Kind)]>,
    /// Per value: the kernel's value at the last clear (0 if never cleared).
    baselines: Box<[AtomicU64]>,
    data_len: usize,
}

impl KernelStats {
    /// The value as served, from the kernel's raw value (see the module documentation).
    fn adjust(&self, index: usize, raw: u64) -> u64 {
        match (self.baselines.get(index), self.values.get(index)) {
            (Some(base), Some(&(_, kind))) => since_clear(kind, raw, base.load(Relaxed)),
            _ => raw,
        }
    }

    fn raw(&self, index: usize) -> Option<u64> {
        let &(offset, _) = self.values.get(index)?;
        let mut b = [0u8; 8];
        self.pread(self.data_offset + offset as u64, &mut b).ok()?;
        Some(u64::from_ne_bytes(b))
    }
}

impl KernelStats {
    fn pread(&self, off: u64, buf: &mut [u8]) -> io::Result<()> {
        pread_exact(self.fd.as_raw_fd(), off, buf)
    }

    /// The whole data block, one `pread`.
    pub fn data(&self) -> io::Result<Vec<u8>> {
        let mut b = vec![0u8; self.data_len];
        self.pread(self.data_offset, &mut b)?;
        Ok(b)
    }
}

/// Fills `buf` from `fd` at `off`, looping over short reads (the one pread of this module, for
/// the layout and for the data alike).
fn pread_exact(fd: RawFd, off: u64, buf: &mut [u8]) -> io::Result<()> {
    let mut done = 0;
    while done < buf.len() {
        let at = i64::try_from(off + done as u64)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "offset past i64"))?;
        // SAFETY: `fd` is open for the call; the buffer is valid for its remaining length.
        let n = unsafe { libc::pread(fd, buf[done..].as_mut_ptr().cast(), buf.len() - done, at) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        done += n as usize;
    }
    Ok(())
}

/// Opens a stats fd on a VM or vCPU fd and reads its layout.
pub fn open_stats(owner: RawFd) -> io::Result<(OwnedFd, Layout)> {
    // SAFETY: KVM_GET_STATS_FD takes no argument and returns a new fd or -1.
    let fd = unsafe { libc::ioctl(owner, KVM_GET_STATS_FD as _) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the ioctl returned a fresh fd that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let raw = fd.as_raw_fd();
    let layout = binary::parse(&mut |off, buf| pread_exact(raw, off, buf))?;
    Ok((fd, layout))
}

/// The value served for the kernel's `raw` value, given the kernel's value `base` at the last
/// clear (0 if never cleared): the rule of the module documentation.
fn since_clear(kind: Kind, raw: u64, base: u64) -> u64 {
    match kind {
        Kind::Peak if raw > base => raw,
        Kind::Peak => 0,
        Kind::Cumulative | Kind::Instant => raw.wrapping_sub(base),
    }
}

fn get(x: &(dyn Any + Send + Sync), index: usize) -> u64 {
    let Some(k) = x.downcast_ref::<KernelStats>() else {
        return 0;
    };
    k.raw(index).map_or(0, |raw| k.adjust(index, raw))
}

/// Emulated clear: the kernel's value now becomes the baseline.
fn clear(x: &(dyn Any + Send + Sync), index: usize) {
    let Some(k) = x.downcast_ref::<KernelStats>() else {
        return;
    };
    if let (Some(raw), Some(b)) = (k.raw(index), k.baselines.get(index)) {
        b.store(raw, Relaxed);
    }
}

fn read_all(x: &(dyn Any + Send + Sync), out: &mut [u64]) {
    let Some(k) = x.downcast_ref::<KernelStats>() else {
        return;
    };
    let Ok(data) = k.data() else { return };
    for (i, (o, &(off, _))) in out.iter_mut().zip(k.values.iter()).enumerate() {
        if let Some(raw) = binary::u64_at(&data, off as usize) {
            *o = k.adjust(i, raw);
        }
    }
}

/// The runtime's descriptor for a kernel descriptor, the `index`-th imported value of its
/// set; `None` for histograms (not values of the IR yet).
pub fn value_desc(d: &Desc, index: usize) -> Option<ValueDesc> {
    if d.size != 1 {
        return None;
    }
    let (kind, unit) = binary::ir::from_flags(d.flags, d.exponent)?;
    // The binary fd cannot clear; clear is emulated with a baseline (module documentation),
    // so cumulative values and peaks are 0644 as in debugfs, instant ones read-only.
    let access = Access::func(
        get,
        (kind != Kind::Instant).then_some(clear as ClearFn),
        index,
    );
    Some(
        ValueDesc::new(d.name.clone(), ValueType::U64, access)
            .doc(format!(
                "KVM statistic `{}` read from the kernel's binary stats fd.",
                d.name
            ))
            .aggregation(Aggregation::Sum)
            .kind(kind)
            .unit(unit),
    )
}

/// Value sets per descriptor table: every VM of a kernel shares one set, every vCPU another,
/// so their aggregates link by identity.
#[derive(Default)]
pub struct Sets {
    known: Mutex<Vec<Known>>,
}

/// A descriptor table seen before, its set, the data offsets of the set's values, and how
/// the table differs from the schema.
type Known = (Vec<Desc>, &'static ValueSet, Arc<[(u32, Kind)]>, Drift);

impl Sets {
    /// The set for this layout (built and leaked the first time it is seen) and an instance
    /// reading `fd`.
    pub fn instance(
        &self,
        kind: &str,
        fd: OwnedFd,
        layout: &Layout,
    ) -> (&'static ValueSet, KernelStats) {
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        let found = known
            .iter()
            .find(|(d, _, _, _)| *d == layout.descs)
            .map(|(_, s, o, _)| (*s, o.clone()));
        let (set, offsets) = match found {
            Some(x) => x,
            None => {
                let mut imported: Vec<(&Desc, ValueDesc)> = Vec::new();
                for d in &layout.descs {
                    if let Some(v) = value_desc(d, imported.len()) {
                        imported.push((d, v));
                    }
                }
                let schema = schema_set(kind);
                for (_, v) in &mut imported {
                    if let Some(doc) = schema.and_then(|s| find(s, &v.name)).map(|s| &s.doc) {
                        v.doc = doc.clone();
                    }
                }
                let drift = drift(kind, imported.iter().map(|(_, v)| v));
                let offsets: Arc<[(u32, Kind)]> =
                    imported.iter().map(|(d, v)| (d.offset, v.kind)).collect();
                let values = imported.into_iter().map(|(_, v)| v).collect();
                let set = ValueSet::owned(
                    format!("kvm_{kind}"),
                    format!("The kernel's KVM {kind} statistics (KVM_GET_STATS_FD)."),
                    Some(kind.to_owned()),
                    values,
                )
                .with_read_all(read_all)
                .leak();
                known.push((layout.descs.clone(), set, offsets.clone(), drift));
                (set, offsets)
            }
        };
        let k = KernelStats {
            fd,
            data_offset: layout.data_offset,
            baselines: offsets.iter().map(|_| AtomicU64::new(0)).collect(),
            values: offsets,
            data_len: layout.data_len,
        };
        (set, k)
    }

    /// How each descriptor table seen so far differs from `schemas/kvm.toml`, in the order
    /// the tables were first seen: one [`Drift`] per table, computed once.
    pub fn drift(&self) -> Vec<Drift> {
        let known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        known.iter().map(|(_, _, _, d)| d.clone()).collect()
    }
}

/// Where one kernel descriptor table and its set in `schemas/kvm.toml` differ.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Drift {
    /// The set: `vm` or `vcpu`.
    pub set: String,
    /// Imported kernel values the schema does not list, in descriptor order.
    pub kernel_only: Vec<String>,
    /// Values of the schema that are not among the imported ones, in schema order. Histograms
    /// are here even when the kernel has them: they are not imported (not values of the IR).
    pub schema_only: Vec<String>,
    /// Values in both whose kind or unit differ, as `name (kernel ..., schema ...)`; the
    /// kernel's are served.
    pub disagree: Vec<String>,
}

impl Drift {
    /// Whether kernel and schema agree exactly.
    pub fn is_empty(&self) -> bool {
        self.kernel_only.is_empty() && self.schema_only.is_empty() && self.disagree.is_empty()
    }
}

impl fmt::Display for Drift {
    /// One line: `vcpu: 2 only in the kernel (a, b), 1 only in the schema (c)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.set)?;
        if self.is_empty() {
            return f.write_str("in agreement");
        }
        let parts = [
            (&self.kernel_only, "only in the kernel"),
            (&self.schema_only, "only in the schema"),
            (&self.disagree, "disagree"),
        ];
        let mut sep = "";
        for (names, what) in parts {
            if !names.is_empty() {
                write!(f, "{sep}{} {what} ({})", names.len(), names.join(", "))?;
                sep = ", ";
            }
        }
        Ok(())
    }
}

/// The schema's value set named `kind` (`vm`, `vcpu`).
fn schema_set(kind: &str) -> Option<&'static ValueSet> {
    kvm_schema::VALUE_SETS
        .iter()
        .map(|s| s())
        .find(|s| s.name() == kind)
}

fn find<'a>(set: &'a ValueSet, name: &str) -> Option<&'a ValueDesc> {
    set.values().iter().find(|v| v.name == name)
}

/// `cumulative seconds 10^-9`: a kind and unit as the drift report shows them.
fn describe(kind: Kind, unit: Unit) -> String {
    let mut s = format!("{} {}", kind.as_str(), unit.kind.as_str());
    if unit.exponent != 0 {
        let base = if unit.base == Base::Pow2 { 2 } else { 10 };
        s.push_str(&format!(" {base}^{}", unit.exponent));
    }
    s
}

/// The drift of the imported values of set `kind` against the schema.
fn drift<'a>(kind: &str, imported: impl Iterator<Item = &'a ValueDesc>) -> Drift {
    let schema = schema_set(kind);
    let names: &[(&str, bool)] = kvm_schema::SCHEMA_NAMES
        .iter()
        .find(|(set, _)| *set == kind)
        .map_or(&[], |(_, n)| n);
    let mut d = Drift {
        set: kind.to_owned(),
        ..Drift::default()
    };
    let mut seen = Vec::new();
    for v in imported {
        seen.push(v.name.clone());
        match (
            schema.and_then(|s| find(s, &v.name)),
            names.iter().find(|(n, _)| *n == v.name),
        ) {
            (Some(s), _) if (s.kind, s.unit) != (v.kind, v.unit) => d.disagree.push(format!(
                "{} (kernel {}, schema {})",
                v.name,
                describe(v.kind, v.unit),
                describe(s.kind, s.unit)
            )),
            (Some(_), _) => {}
            (None, Some(_)) => d
                .disagree
                .push(format!("{} (kernel scalar, schema histogram)", v.name)),
            (None, None) => d.kernel_only.push(v.name.to_string()),
        }
    }
    d.schema_only = names
        .iter()
        .filter(|(n, _)| !seen.iter().any(|s| s == n))
        .map(|(n, _)| (*n).to_owned())
        .collect();
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clear_emulation_rule() {
        // Never cleared: the kernel's value.
        assert_eq!(since_clear(Kind::Cumulative, 42, 0), 42);
        assert_eq!(since_clear(Kind::Peak, 42, 0), 42);
        assert_eq!(since_clear(Kind::Peak, 0, 0), 0);
        // Cleared at 40: a counter restarts from 0, wrapping like the kernel's u64.
        assert_eq!(since_clear(Kind::Cumulative, 40, 40), 0);
        assert_eq!(since_clear(Kind::Cumulative, 45, 40), 5);
        assert_eq!(since_clear(Kind::Cumulative, 2, u64::MAX - 1), 4);
        // A peak cleared at 40 reads 0 until a sample beats 40, then the kernel's peak,
        // which is then the largest sample since the clear.
        assert_eq!(since_clear(Kind::Peak, 40, 40), 0);
        assert_eq!(since_clear(Kind::Peak, 41, 40), 41);
    }
}
