use statsfs::{Counter, StatsSource};

#[derive(StatsSource)]
struct Stats {
    #[stats(unit = "seconds", exponent = -40000)]
    halt_wait: Counter,
}

fn main() {}
