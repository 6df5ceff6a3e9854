//! The kernel's own KVM statistics, imported: value sets built at run time from the
//! descriptors `KVM_GET_STATS_FD` reports (whatever this kernel has, vendor extras included),
//! instances that `pread` the stats fd. They aggregate like any other set.

use std::any::Any;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Mutex};

use statsfs::{Access, Aggregation, Base, Kind, Unit, UnitKind, ValueDesc, ValueSet, ValueType};

use crate::binary::{self, stat_type, Desc, Layout};

/// `KVM_GET_STATS_FD` = `_IO(0xAE, 0xCE)`.
const KVM_GET_STATS_FD: u64 = 0xAECE;

/// One VM's or vCPU's stats fd, read on demand.
pub struct KernelStats {
    fd: OwnedFd,
    data_offset: u64,
    /// Data-block offsets of the imported (scalar) values, in set order.
    offsets: Arc<[u32]>,
    data_len: usize,
}

impl KernelStats {
    fn pread(&self, off: u64, buf: &mut [u8]) -> io::Result<()> {
        let mut done = 0;
        while done < buf.len() {
            // SAFETY: the fd is owned; the buffer is valid for its remaining length.
            let n = unsafe {
                libc::pread(
                    self.fd.as_raw_fd(),
                    buf[done..].as_mut_ptr().cast(),
                    buf.len() - done,
                    (off + done as u64) as i64,
                )
            };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            done += n as usize;
        }
        Ok(())
    }

    /// The whole data block, one `pread`.
    pub fn data(&self) -> io::Result<Vec<u8>> {
        let mut b = vec![0u8; self.data_len];
        self.pread(self.data_offset, &mut b)?;
        Ok(b)
    }
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
    let layout = binary::parse(&mut |off, buf| {
        // SAFETY: valid fd and buffer.
        let n = unsafe { libc::pread(raw, buf.as_mut_ptr().cast(), buf.len(), off as i64) };
        if n as usize == buf.len() {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    })?;
    Ok((fd, layout))
}

fn get(x: &(dyn Any + Send + Sync), offset: usize) -> u64 {
    let Some(k) = x.downcast_ref::<KernelStats>() else {
        return 0;
    };
    let mut b = [0u8; 8];
    match k.pread(k.data_offset + offset as u64, &mut b) {
        Ok(()) => u64::from_ne_bytes(b),
        Err(_) => 0,
    }
}

fn read_all(x: &(dyn Any + Send + Sync), out: &mut [u64]) {
    let Some(k) = x.downcast_ref::<KernelStats>() else {
        return;
    };
    let Ok(data) = k.data() else { return };
    for (o, &off) in out.iter_mut().zip(k.offsets.iter()) {
        let at = off as usize;
        if let Some(s) = data.get(at..at + 8) {
            *o = u64::from_ne_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]);
        }
    }
}

/// The runtime's descriptor for a kernel descriptor; `None` for histograms (not values of
/// the IR yet).
pub fn value_desc(d: &Desc) -> Option<ValueDesc> {
    if d.size != 1 {
        return None;
    }
    let kind = match d.flags & 0xf {
        stat_type::CUMULATIVE => Kind::Cumulative,
        stat_type::INSTANT => Kind::Instant,
        stat_type::PEAK => Kind::Peak,
        _ => return None,
    };
    let unit = match d.flags & 0xf0 {
        binary::unit::BYTES => UnitKind::Bytes,
        binary::unit::SECONDS => UnitKind::Seconds,
        binary::unit::CYCLES => UnitKind::Cycles,
        binary::unit::BOOLEAN => UnitKind::Boolean,
        _ => UnitKind::None,
    };
    let base = if d.flags & binary::BASE_POW2 != 0 {
        Base::Pow2
    } else {
        Base::Pow10
    };
    // The binary fd cannot clear (no clear ioctl), so imported values are read-only.
    let access = Access::func(get, None, d.offset as usize);
    Some(
        ValueDesc::new(d.name.clone(), ValueType::U64, access)
            .doc(format!(
                "KVM statistic `{}` read from the kernel's binary stats fd.",
                d.name
            ))
            .aggregation(Aggregation::Sum)
            .kind(kind)
            .unit(Unit::new(unit, base, d.exponent)),
    )
}

/// Value sets per descriptor table: every VM of a kernel shares one set, every vCPU another,
/// so their aggregates link by identity.
#[derive(Default)]
pub struct Sets {
    known: Mutex<Vec<Known>>,
}

/// A descriptor table seen before, its set, and the data offsets of the set's values.
type Known = (Vec<Desc>, &'static ValueSet, Arc<[u32]>);

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
            .find(|(d, _, _)| *d == layout.descs)
            .map(|(_, s, o)| (*s, o.clone()));
        let (set, offsets) = match found {
            Some(x) => x,
            None => {
                let imported: Vec<(&Desc, ValueDesc)> = layout
                    .descs
                    .iter()
                    .filter_map(|d| value_desc(d).map(|v| (d, v)))
                    .collect();
                let offsets: Arc<[u32]> = imported.iter().map(|(d, _)| d.offset).collect();
                let values = imported.into_iter().map(|(_, v)| v).collect();
                let set = ValueSet::owned(
                    format!("kvm_{kind}"),
                    format!("The kernel's KVM {kind} statistics (KVM_GET_STATS_FD)."),
                    Some(kind.to_owned()),
                    values,
                )
                .with_read_all(read_all)
                .leak();
                known.push((layout.descs.clone(), set, offsets.clone()));
                (set, offsets)
            }
        };
        let k = KernelStats {
            fd,
            data_offset: layout.data_offset,
            offsets,
            data_len: layout.data_len,
        };
        (set, k)
    }
}
