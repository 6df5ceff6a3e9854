use statsfs::{Counter, StatsSource};

#[derive(StatsSource)]
struct Stats {
    exits: Counter,
    #[stats(skip, rename = "scratch")]
    scratch: Vec<u8>,
}

fn main() {}
