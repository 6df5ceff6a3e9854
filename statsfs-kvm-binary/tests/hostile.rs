//! The binary stats reader against hostile files: a header that claims far more than the file
//! holds must not make it allocate for the claim, and what it accepts can be read exactly.

use std::alloc::{GlobalAlloc, Layout as AllocLayout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use statsfs_kvm_binary::{encode, item, parse_bytes, stat_type, Desc};

/// Records the largest single allocation, so a test can see what a parse asked for.
struct Largest;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only observes sizes.
unsafe impl GlobalAlloc for Largest {
    unsafe fn alloc(&self, layout: AllocLayout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Relaxed);
        // SAFETY: same layout, same contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: AllocLayout) {
        // SAFETY: allocated by `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Largest = Largest;

fn header(name_size: u32, num_desc: u32, data_offset: u32) -> Vec<u8> {
    let mut h = Vec::new();
    for v in [0, name_size, num_desc, 24, 24 + name_size, data_offset] {
        h.extend_from_slice(&v.to_ne_bytes());
    }
    h
}

fn desc(name: &str, offset: u32) -> Desc {
    Desc {
        flags: stat_type::CUMULATIVE,
        exponent: 0,
        size: 1,
        offset,
        bucket_size: 0,
        name: name.into(),
    }
}

#[test]
fn a_header_claiming_269_mb_of_descriptors_costs_one_chunk() {
    // 65,536 descriptors of 4 KiB names would be 269 MB; the file is 4.2 KB.
    let mut file = header(4096, 65536, 0);
    file.resize(4200, 0);
    LARGEST.store(0, Relaxed);
    let err = parse_bytes(&file).unwrap_err();
    let largest = LARGEST.load(Relaxed);
    assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
    assert_eq!(err.to_string(), "truncated stats file");
    assert!(largest <= 128 * 1024, "largest allocation {largest} bytes");
}

#[test]
fn a_data_block_past_the_end_is_an_error_not_an_empty_table() {
    let file = encode("kvm-1", &[desc("exits", 0), desc("halts", 8)], &[1, 2]);
    assert!(parse_bytes(&file).is_ok());
    let err = parse_bytes(&file[..file.len() - 1]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "data block ends at byte 216, past the end of the file (215 bytes)"
    );
    // A descriptor pointing past the data written.
    let file = encode("kvm-1", &[desc("exits", 0), desc("far", 800)], &[1, 2]);
    assert_eq!(
        parse_bytes(&file).unwrap_err().to_string(),
        "data block ends at byte 1008, past the end of the file (216 bytes)"
    );
}

#[test]
fn unaligned_offsets_read_the_right_bytes_and_duplicates_are_refused() {
    // Item at data offset 4: bytes 4..12 of the data block.
    let mut file = encode("kvm-1", &[desc("odd", 4)], &[0, 0]);
    let start = file.len() - 16 + 4;
    file[start..start + 8].copy_from_slice(&0x1122_3344_5566_7788u64.to_ne_bytes());
    let layout = parse_bytes(&file).unwrap();
    assert_eq!(
        item(&file, &layout, &layout.descs[0], 0),
        Some(0x1122_3344_5566_7788)
    );
    assert_eq!(item(&file, &layout, &layout.descs[0], 1), None, "size 1");
    let file = encode("kvm-1", &[desc("exits", 0), desc("exits", 8)], &[1, 2]);
    assert_eq!(
        parse_bytes(&file).unwrap_err().to_string(),
        "duplicate descriptor name \"exits\""
    );
}
