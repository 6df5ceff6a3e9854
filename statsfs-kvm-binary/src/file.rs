//! A source's values as a KVM binary stats file: the view the FUSE (`.statsfs-kvm`) and HTTP
//! (`/kvm-stats`) backends serve.

use statsfs_runtime::{GroupKind, Source, ValueSet};

use crate::{encode, ir::flags_of, Desc, NAME_SIZE};

/// Gives `source` the id string its stats file carries (KVM writes `kvm-<tid>` for a VM and
/// `kvm-<tid>/vcpu-<id>` for a vCPU). Returns false, changing nothing, if the id does not fit
/// the format's 47 bytes or the source already has one.
pub fn set_id(source: &Source, id: &str) -> bool {
    id.len() < NAME_SIZE && source.set_stats_id(id)
}

/// One group's part of a [`StatsFile`]: which of its values are in the data block.
struct Part {
    group: usize,
    set: &'static ValueSet,
    values: Vec<usize>,
}

/// A source's values in KVM's binary layout, as an open stats fd gives them: the header,
/// id and descriptors are fixed when it is made (for the life of an open file), and the data
/// block is read afresh on every read that touches it ("use pread or lseek to read the
/// statistics repeatedly", api.rst), each group consistently.
///
/// The values are those of the source's own visible groups, simple and aggregate, as its
/// directory shows them; names that do not fit KVM's 47 bytes are left out (KVM cannot name
/// them either). The id is [`Source::stats_id`].
pub struct StatsFile {
    source: Source,
    head: Vec<u8>,
    parts: Vec<Part>,
    items: usize,
}

impl StatsFile {
    /// Takes the layout of `source` now.
    pub fn new(source: &Source) -> StatsFile {
        let mut descs = Vec::new();
        let mut parts = Vec::new();
        for g in source.groups() {
            let aggregate = g.kind == GroupKind::Aggregate;
            if g.hidden {
                continue;
            }
            let mut values = Vec::new();
            for (i, d) in g.set.values().iter().enumerate() {
                if !d.is_shown(aggregate, false) || d.name.len() >= NAME_SIZE {
                    continue;
                }
                let (kind, unit) = d.served(aggregate);
                descs.push(Desc {
                    flags: flags_of(kind, unit),
                    exponent: unit.exponent,
                    size: 1,
                    offset: (descs.len() * 8) as u32,
                    bucket_size: 0,
                    name: d.name.to_string(),
                });
                values.push(i);
            }
            if !values.is_empty() {
                parts.push(Part {
                    group: g.index,
                    set: g.set,
                    values,
                });
            }
        }
        let items = descs.len();
        let head = encode(source.stats_id(), &descs, &[]);
        StatsFile {
            source: source.clone(),
            head,
            parts,
            items,
        }
    }

    /// File offset of the data block.
    pub fn data_offset(&self) -> u64 {
        self.head.len() as u64
    }

    /// The file's length.
    pub fn len(&self) -> u64 {
        (self.head.len() + self.items * 8) as u64
    }

    /// Whether the file has no values (it still has a header and an id).
    pub fn is_empty(&self) -> bool {
        self.items == 0
    }

    /// The data block as it is now: one u64 per descriptor. A group that left the source (or
    /// was revoked) reads 0.
    pub fn data(&self) -> Vec<u64> {
        let mut data = Vec::with_capacity(self.items);
        let mut buf = Vec::new();
        for p in &self.parts {
            buf.clear();
            let ok = self.source.read_group(p.group, &mut buf).is_ok()
                && buf.len() == p.set.values().len();
            data.extend(p.values.iter().map(|&i| if ok { buf[i] } else { 0 }));
        }
        data
    }

    /// Up to `len` bytes at `offset`, as `pread` on a stats fd returns them: the fixed part
    /// from the layout taken at creation, the data read now if the range reaches it; nothing
    /// at or past the end.
    pub fn read_at(&self, offset: u64, len: usize) -> Vec<u8> {
        let end = self.len().min(offset.saturating_add(len as u64));
        if offset >= end {
            return Vec::new();
        }
        let mut out = Vec::with_capacity((end - offset) as usize);
        let head = self.head.len() as u64;
        if offset < head {
            out.extend_from_slice(&self.head[offset as usize..end.min(head) as usize]);
        }
        if end > head {
            let mut bytes = Vec::with_capacity(self.items * 8);
            for v in self.data() {
                bytes.extend_from_slice(&v.to_ne_bytes());
            }
            let from = (offset.max(head) - head) as usize;
            out.extend_from_slice(&bytes[from..(end - head) as usize]);
        }
        out
    }

    /// The whole file, data read now.
    pub fn contents(&self) -> Vec<u8> {
        self.read_at(0, self.len() as usize)
    }
}

/// The whole binary stats file of `source` as it is now (see [`StatsFile`]).
pub fn encode_source(source: &Source) -> Vec<u8> {
    StatsFile::new(source).contents()
}
