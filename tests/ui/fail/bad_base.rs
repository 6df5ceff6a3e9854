use statsfs::{Counter, StatsSource};

#[derive(StatsSource)]
struct Stats {
    #[stats(unit = "bytes", base = 16)]
    memory: Counter,
}

fn main() {}
