use statsfs::{Counter, StatsSource};

#[derive(StatsSource)]
#[stats(name = "a/b")]
struct Stats {
    exits: Counter,
}

fn main() {}
