use statsfs::{Counter, StatsSource};

#[derive(StatsSource)]
struct Stats {
    #[stats(rename = "exits/io")]
    io_exits: Counter,
}

fn main() {}
