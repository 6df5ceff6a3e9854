use statsfs::{Counter, StatsSource};

#[derive(StatsSource)]
#[stats(aggregation = "max")]
struct Stats {
    exits: Counter,
}

fn main() {}
