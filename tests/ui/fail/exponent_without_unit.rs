use statsfs::{Counter, StatsSource};

#[derive(StatsSource)]
struct Stats {
    #[stats(exponent = -9)]
    halt_wait_ns: Counter,
}

fn main() {}
