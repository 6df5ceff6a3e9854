use std::sync::atomic::AtomicBool;

use statsfs::{Counter, StatsSource};

#[derive(StatsSource)]
#[stats(name = "vcpu", title = "vcpu")]
struct Stats {
    #[stats(aggregation = "average")]
    exits: Counter,
    #[stats(rename = "exits")]
    io_exits: Counter,
    #[stats(aggregation = "avg", kind = "instant")]
    guest_mode: AtomicBool,
    load: f64,
    #[stats(unit = "bytes", base = 3)]
    memory: Counter,
}

fn main() {}
