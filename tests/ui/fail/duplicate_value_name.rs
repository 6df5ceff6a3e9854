use statsfs::{Counter, StatsSource};

#[derive(StatsSource)]
struct Stats {
    exits: Counter,
    #[stats(rename = "exits")]
    io_exits: Counter,
}

fn main() {}
