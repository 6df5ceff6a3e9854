use statsfs::{Counter, StatsSource};

#[derive(StatsSource)]
struct Stats {
    #[stats(unit = "nanoseconds")]
    halt_wait: Counter,
}

fn main() {}
