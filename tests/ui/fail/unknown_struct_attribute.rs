use statsfs::{Counter, StatsSource};

#[derive(StatsSource)]
#[stats(title = "vcpu")]
struct Stats {
    exits: Counter,
}

fn main() {}
