use statsfs::{Counter, StatsSource};

#[derive(StatsSource)]
struct Stats {
    #[stats(rename = ".statsfs-x")]
    exits: Counter,
}

fn main() {}
