use statsfs::{Counter, StatsSource};

#[derive(StatsSource)]
#[stats(label = "")]
struct Stats {
    exits: Counter,
}

fn main() {}
