use statsfs::{Counter, StatsSource};

#[derive(StatsSource)]
struct Stats {
    #[stats(rename = "a\0b")]
    exits: Counter,
}

fn main() {}
