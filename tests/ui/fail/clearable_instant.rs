use statsfs::{Gauge, StatsSource};

#[derive(StatsSource)]
struct Stats {
    #[stats(kind = "instant", clearable)]
    pages: Gauge,
}

fn main() {}
