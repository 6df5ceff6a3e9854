use statsfs::{Counter, StatsSource};

#[derive(StatsSource)]
struct Stats {
    #[stats(rename = "..")]
    exits: Counter,
}

fn main() {}
