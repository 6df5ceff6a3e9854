use statsfs::{Counter, StatsSource};

#[derive(StatsSource)]
struct Stats {
    #[stats(aggregate = "sum")]
    exits: Counter,
}

fn main() {}
