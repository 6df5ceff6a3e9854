//! KVM's binary statistics format (`KVM_GET_STATS_FD`, Linux 5.14+): a 24-byte header, an id
//! string, descriptors of 16 bytes + name, then the data block of u64s.
//!
//! One crate for everything about the format, so that no two places disagree on it: the
//! codec (a reader for the kernel's fds and for our own output, an encoder that produces
//! exactly the kernel's layout), both directions of its mapping to the statsfs IR
//! ([`ir`]), and a source's values as a stats file ([`StatsFile`]) that the FUSE and HTTP
//! backends serve and the KVM import and `statsfs top` read.
#![deny(missing_docs)]

mod file;
pub mod ir;

pub use file::{encode_source, set_id, StatsFile};

use std::io;

/// `KVM_STATS_NAME_SIZE`: bytes for each name and for the id, NUL included.
pub const NAME_SIZE: usize = 48;
/// Header size.
pub const HEADER_SIZE: usize = 24;

/// Type bits (0-3) of a descriptor's flags.
pub mod stat_type {
    /// Only grows.
    pub const CUMULATIVE: u32 = 0x0;
    /// Goes up and down.
    pub const INSTANT: u32 = 0x1;
    /// Highest value seen.
    pub const PEAK: u32 = 0x2;
    /// Linear histogram.
    pub const LINEAR_HIST: u32 = 0x3;
    /// Log2 histogram.
    pub const LOG_HIST: u32 = 0x4;
}

/// Unit bits (4-7).
pub mod unit {
    /// A count.
    pub const NONE: u32 = 0x00;
    /// Bytes.
    pub const BYTES: u32 = 0x10;
    /// Seconds.
    pub const SECONDS: u32 = 0x20;
    /// Cycles.
    pub const CYCLES: u32 = 0x30;
    /// 0 or 1.
    pub const BOOLEAN: u32 = 0x40;
}

/// Base bit (8-11): powers of two instead of ten.
pub const BASE_POW2: u32 = 0x100;

/// One descriptor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Desc {
    /// Type, unit and base bits.
    pub flags: u32,
    /// Scale exponent.
    pub exponent: i16,
    /// Number of u64 items (1 for scalars, buckets for histograms).
    pub size: u16,
    /// Byte offset of item 0 from the start of the data block.
    pub offset: u32,
    /// Bucket width of linear histograms.
    pub bucket_size: u32,
    /// Name (at most 47 bytes).
    pub name: String,
}

/// A parsed header, id and descriptor table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// `kvm-<tid>` or `kvm-<tid>/vcpu-<id>`.
    pub id: String,
    /// Descriptors in file order.
    pub descs: Vec<Desc>,
    /// File offset of the data block.
    pub data_offset: u64,
    /// Bytes in the data block (the end of the furthest item).
    pub data_len: usize,
}

fn u32_at(b: &[u8], at: usize) -> io::Result<u32> {
    b.get(at..at + 4)
        .map(|s| u32::from_ne_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "truncated stats header"))
}

fn name_from(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// Descriptor records are read this many bytes at a time, so memory grows only with what the
/// file really holds: a header claiming 65,536 descriptors of 4 KiB names costs one chunk,
/// then the short read fails, instead of a 269 MB allocation up front.
const CHUNK: usize = 64 * 1024;

/// Reads header, id and descriptors through `read_at(offset, buf)` (pread on the kernel's
/// fd, a slice for our own output). Uses the header's offsets, never the constants. Rejects
/// what no kernel writes and a reader could misread: names or ids without room for the NUL,
/// duplicate names, items whose end overflows.
pub fn parse(read_at: &mut dyn FnMut(u64, &mut [u8]) -> io::Result<()>) -> io::Result<Layout> {
    let mut h = [0u8; HEADER_SIZE];
    read_at(0, &mut h)?;
    let name_size = u32_at(&h, 4)? as usize;
    let num_desc = u32_at(&h, 8)? as usize;
    let id_offset = u32_at(&h, 12)? as u64;
    let desc_offset = u32_at(&h, 16)? as u64;
    let data_offset = u32_at(&h, 20)? as u64;
    if name_size == 0 || name_size > 4096 || num_desc > 65536 {
        return Err(invalid(format!(
            "implausible stats header: name size {name_size}, {num_desc} descriptors"
        )));
    }
    let mut id = vec![0u8; name_size];
    read_at(id_offset, &mut id)?;
    let rec = 16 + name_size;
    let per_chunk = (CHUNK / rec).max(1);
    let mut descs: Vec<Desc> = Vec::new();
    let mut names = std::collections::HashSet::new();
    let mut data_len = 0usize;
    let mut chunk = Vec::new();
    let mut done = 0;
    while done < num_desc {
        let n = per_chunk.min(num_desc - done);
        chunk.resize(rec * n, 0);
        read_at(desc_offset + (rec * done) as u64, &mut chunk)?;
        for r in chunk.chunks_exact(rec) {
            let d = Desc {
                flags: u32_at(r, 0)?,
                exponent: i16::from_ne_bytes([r[4], r[5]]),
                size: u16::from_ne_bytes([r[6], r[7]]),
                offset: u32_at(r, 8)?,
                bucket_size: u32_at(r, 12)?,
                name: name_from(&r[16..]),
            };
            if !names.insert(d.name.clone()) {
                return Err(invalid(format!("duplicate descriptor name {:?}", d.name)));
            }
            // u32 + 8 × u16 always fits a usize on 64-bit targets; the check keeps 32-bit
            // ones honest.
            let end = (d.offset as usize)
                .checked_add(8 * d.size as usize)
                .ok_or_else(|| invalid(format!("descriptor {:?} ends past 4 GiB", d.name)))?;
            data_len = data_len.max(end);
            descs.push(d);
        }
        done += n;
    }
    Ok(Layout {
        id: name_from(&id),
        descs,
        data_offset,
        data_len,
    })
}

/// Parses a whole file held in memory, and checks that every descriptor's items lie inside
/// it (a reader of a truncated copy gets an error, not an empty or partial table).
pub fn parse_bytes(file: &[u8]) -> io::Result<Layout> {
    let layout = parse(&mut |off, buf| {
        let s = usize::try_from(off)
            .ok()
            .and_then(|o| file.get(o..o.checked_add(buf.len())?))
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "truncated stats file"))?;
        buf.copy_from_slice(s);
        Ok(())
    })?;
    let end = layout.data_offset as usize + layout.data_len;
    if end > file.len() {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!(
                "data block ends at byte {end}, past the end of the file ({} bytes)",
                file.len()
            ),
        ));
    }
    Ok(layout)
}

/// Item `index` of `desc` (0 for a scalar, the bucket for a histogram), read at its byte
/// offset, which need not be a multiple of 8. `None` when it lies outside `file`.
pub fn item(file: &[u8], layout: &Layout, desc: &Desc, index: usize) -> Option<u64> {
    if index >= desc.size as usize {
        return None;
    }
    let at = (layout.data_offset as usize)
        .checked_add(desc.offset as usize)?
        .checked_add(8 * index)?;
    u64_at(file, at)
}

/// The kernel's layout for `descs` and `data` (one u64 per item, at each descriptor's
/// offset): header, id at 24, descriptors at 24 + 48, data after them.
pub fn encode(id: &str, descs: &[Desc], data: &[u64]) -> Vec<u8> {
    let desc_offset = HEADER_SIZE + NAME_SIZE;
    let data_offset = desc_offset + descs.len() * (16 + NAME_SIZE);
    let mut out = Vec::with_capacity(data_offset + data.len() * 8);
    for v in [
        0u32,
        NAME_SIZE as u32,
        descs.len() as u32,
        HEADER_SIZE as u32,
        desc_offset as u32,
        data_offset as u32,
    ] {
        out.extend_from_slice(&v.to_ne_bytes());
    }
    let name = |s: &str, out: &mut Vec<u8>| {
        let b = s.as_bytes();
        let n = b.len().min(NAME_SIZE - 1);
        out.extend_from_slice(&b[..n]);
        out.resize(out.len() + NAME_SIZE - n, 0);
    };
    name(id, &mut out);
    for d in descs {
        out.extend_from_slice(&d.flags.to_ne_bytes());
        out.extend_from_slice(&d.exponent.to_ne_bytes());
        out.extend_from_slice(&d.size.to_ne_bytes());
        out.extend_from_slice(&d.offset.to_ne_bytes());
        out.extend_from_slice(&d.bucket_size.to_ne_bytes());
        name(&d.name, &mut out);
    }
    for v in data {
        out.extend_from_slice(&v.to_ne_bytes());
    }
    out
}

/// The u64 at byte `offset` of `data` (a data block, or any buffer), aligned or not; `None`
/// past the end. The one decoder of items, for files in memory and for blocks read from an
/// fd alike.
pub fn u64_at(data: &[u8], offset: usize) -> Option<u64> {
    let b = data.get(offset..offset.checked_add(8)?)?;
    Some(u64::from_ne_bytes(b.try_into().ok()?))
}

/// Reads the u64 items of the data block.
pub fn data_items(file: &[u8], layout: &Layout) -> Vec<u64> {
    let start = layout.data_offset as usize;
    file.get(start..start + layout.data_len)
        .unwrap_or(&[])
        .chunks_exact(8)
        .map(|c| u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .collect()
}
