//! Listing directories: an entry that stays in the tree is listed exactly once even while
//! other entries are removed during the listing (offsets are per-entry cookies, not list
//! positions), and a large directory lists in time linear in its size (printed, not
//! asserted).

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::time::Instant;

use common::mounted;
use statsfs::{Registry, Source};

fn wide(n: usize) -> (Registry, Source, Vec<Source>) {
    let registry = Registry::new();
    let top = Source::new("wide").unwrap();
    registry.register(&top).unwrap();
    let children: Vec<Source> = (0..n)
        .map(|i| {
            let c = Source::new(&format!("c{i:05}")).unwrap();
            top.add_child(&c).unwrap();
            c
        })
        .collect();
    (registry, top, children)
}

#[test]
fn removing_listed_entries_during_a_listing_hides_no_survivor() {
    let (registry, top, children) = wide(3000);
    let Some(m) = mounted(&registry, "readdir-remove") else {
        return;
    };
    let mut it = fs::read_dir(m.dir.join("wide")).unwrap();
    let mut seen = Vec::new();
    for e in it.by_ref().take(600) {
        seen.push(e.unwrap().file_name().into_string().unwrap());
    }
    // Remove 400 entries already listed (the listing's order is the filesystem's).
    let gone: BTreeSet<String> = seen[..400].iter().cloned().collect();
    for c in &children {
        if gone.contains(c.name()) {
            assert!(top.remove_child(c));
        }
    }
    for e in it {
        seen.push(e.unwrap().file_name().into_string().unwrap());
    }
    let listed: BTreeSet<&str> = seen.iter().map(|s| s.as_str()).collect();
    assert_eq!(listed.len(), seen.len(), "an entry listed twice");
    let missing: Vec<&str> = children
        .iter()
        .map(|c| c.name())
        .filter(|n| !gone.contains(*n) && !listed.contains(n))
        .collect();
    assert_eq!(
        missing.len(),
        0,
        "survivors not listed, from {:?}",
        missing.first()
    );
    assert_eq!(seen.len(), 3000);
}

#[test]
fn listing_a_large_directory_is_linear() {
    let mut per_entry = Vec::new();
    for n in [15_000, 60_000] {
        let (registry, _top, _children) = wide(n);
        let Some(m) = mounted(&registry, &format!("readdir-large-{n}")) else {
            return;
        };
        let requests = m.mount.as_ref().unwrap().requests();
        let start = Instant::now();
        let count = fs::read_dir(m.dir.join("wide")).unwrap().count();
        let took = start.elapsed();
        assert_eq!(count, n);
        let requests = m.mount.as_ref().unwrap().requests() - requests;
        println!(
            "listing {n} entries: {:.3} s, {requests} requests, {:.2} us/entry",
            took.as_secs_f64(),
            took.as_secs_f64() * 1e6 / n as f64
        );
        per_entry.push(took.as_secs_f64() / n as f64);
    }
    println!(
        "per-entry cost grows {:.1}x from 15k to 60k entries (1x is linear)",
        per_entry[1] / per_entry[0]
    );
}
