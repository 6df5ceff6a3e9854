//! Bytes the tree allocates per source and per group, with a counting allocator (live bytes
//! requested from the allocator; malloc's own per-chunk overhead comes on top).

use std::borrow::Cow;

use statsfs_runtime::{
    field_access, Aggregation, Counter, Instance, Kind, Source, Unit, ValueDesc, ValueSet,
    ValueType,
};

#[path = "../tests/common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{live, Counting};

#[global_allocator]
static A: Counting = Counting;

#[derive(Default)]
struct Stats {
    a: Counter,
}

static SET: ValueSet = ValueSet::new(
    "s",
    "",
    None,
    &[ValueDesc {
        name: Cow::Borrowed("a"),
        doc: Cow::Borrowed(""),
        ty: ValueType::U64,
        aggregation: Aggregation::Sum,
        kind: Kind::Cumulative,
        unit: Unit::NONE,
        show: None,
        access: field_access!(Stats, a),
        hidden: false,
    }],
);

fn main() {
    const N: usize = 10_000;
    let parent = Source::new("kvm").unwrap();
    let insts: Vec<Instance<Stats>> = (0..N).map(|_| Instance::default()).collect();
    let names: Vec<String> = (0..N).map(|i| format!("vcpu{i:05}")).collect();

    let before = live();
    let sources: Vec<Source> = names.iter().map(|n| Source::new(n).unwrap()).collect();
    let after_sources = live();
    for s in &sources {
        parent.add_child(s).unwrap();
    }
    let after_attach = live();
    for (s, i) in sources.iter().zip(&insts) {
        s.add_values(&SET, Some(i.erase()), false).unwrap();
    }
    let after_groups = live();
    parent.add_aggregate(&SET).unwrap();
    let after_agg = live();
    assert_eq!(parent.lookup("a").unwrap().read(), 0);
    let after_read = live();

    let per = |a: isize, b: isize| (b - a) as f64 / N as f64;
    println!(
        "bytes per source (Source::new, 9-byte name):  {:.1}",
        per(before, after_sources)
    );
    println!(
        "bytes per source attached (parent's child list): {:.1}",
        per(after_sources, after_attach)
    );
    println!(
        "bytes per simple group:                      {:.1}",
        per(after_attach, after_groups)
    );
    println!(
        "bytes per aggregate group (one, before reads): {}",
        after_agg - after_groups
    );
    println!(
        "aggregate cache after first read, per instance: {:.1}",
        per(after_agg, after_read)
    );
    let before = live();
    let one = Instance::new(Stats::default());
    println!(
        "Instance<Stats> of an 8-byte struct, padded to its own lines: {} bytes",
        live() - before
    );
    drop(one);
}
