use statsfs::{Counter, StatsSource};

#[derive(StatsSource)]
struct Stats {
    #[stats(unit = "bytes")]
    #[stats(unit = "seconds")]
    halt_wait: Counter,
}

fn main() {}
