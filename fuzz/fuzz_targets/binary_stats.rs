//! Arbitrary bytes as a KVM binary stats file (`KVM_GET_STATS_FD`'s layout) through
//! `kvm_binary::parse_bytes`, then `item` for every descriptor and bucket.
//!
//! Invariants beyond "no panic": what `parse_bytes` accepts is readable in full: every item
//! of every descriptor (0 .. size) lies inside the file and reads as exactly the u64 at
//! `data_offset + offset + 8 * index`; `item` past a descriptor's size is `None`; descriptor
//! names are unique; `data_items` returns the whole data block.
#![no_main]

use libfuzzer_sys::fuzz_target;
use statsfs_kvm_binary::{data_items, item, parse_bytes};

fuzz_target!(|file: &[u8]| {
    let Ok(layout) = parse_bytes(file) else {
        return;
    };
    let mut names = std::collections::HashSet::new();
    for d in &layout.descs {
        assert!(
            names.insert(&d.name),
            "duplicate name {:?} accepted",
            d.name
        );
        for i in 0..d.size as usize {
            let at = layout.data_offset as usize + d.offset as usize + 8 * i;
            let Some(bytes) = file.get(at..at + 8) else {
                panic!(
                    "accepted {:?} with item {i} at byte {at}, outside the {}-byte file",
                    d.name,
                    file.len()
                );
            };
            let want = u64::from_ne_bytes(bytes.try_into().unwrap());
            assert_eq!(
                item(file, &layout, d, i),
                Some(want),
                "item {i} of {:?} (file of {} bytes)",
                d.name,
                file.len()
            );
        }
        assert_eq!(item(file, &layout, d, d.size as usize), None);
    }
    assert_eq!(data_items(file, &layout).len(), layout.data_len / 8);
});
