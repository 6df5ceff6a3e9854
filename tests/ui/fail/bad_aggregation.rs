use statsfs::{Counter, StatsSource};

#[derive(StatsSource)]
struct Stats {
    #[stats(aggregation = "average")]
    exits: Counter,
}

fn main() {}
