use statsfs::{Counter, StatsSource};

#[derive(StatsSource)]
struct Stats(Counter, Counter);

fn main() {}
