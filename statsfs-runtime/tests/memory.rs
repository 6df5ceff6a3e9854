//! The memory budget, counted exactly: live bytes requested from the allocator.

mod common;

use common::*;

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{live, Counting};

#[global_allocator]
static A: Counting = Counting;

#[test]
fn a_simple_group_costs_56_bytes_and_increments_allocate_nothing() {
    const N: isize = 1000;
    let sources: Vec<Source> = (0..N)
        .map(|i| Source::new(&format!("s{i}")).unwrap())
        .collect();
    let insts: Vec<Instance<VcpuStats>> = (0..N).map(|_| Instance::default()).collect();
    let before = live();
    for (s, i) in sources.iter().zip(&insts) {
        s.add_instance(i).unwrap();
    }
    assert_eq!((live() - before) / N, 56);
    // A second group on each source: exactly 56 more each (exact-capacity growth).
    let more: Vec<Instance<VmStats>> = (0..N).map(|_| Instance::default()).collect();
    let before = live();
    for (s, i) in sources.iter().zip(&more) {
        s.add_instance(i).unwrap();
    }
    assert_eq!((live() - before) / N, 56);

    let before = live();
    for i in &insts {
        i.exits.inc();
        i.halt_wakeup.inc();
    }
    let v = sources[0].lookup("exits").unwrap();
    let before_read = live();
    assert_eq!(v.read(), 1);
    assert_eq!(live(), before_read, "a simple read allocates nothing");
    drop(v);
    assert_eq!(live(), before, "increments allocate nothing");
}
