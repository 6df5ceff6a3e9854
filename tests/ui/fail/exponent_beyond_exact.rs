use statsfs::{Counter, StatsSource};

#[derive(StatsSource)]
struct Stats {
    #[stats(unit = "seconds", exponent = -40)]
    halt_wait: Counter,
}

fn main() {}
