use statsfs::{Gauge, StatsSource};

#[derive(StatsSource)]
struct Stats {
    #[stats(kind = "gauge")]
    pages: Gauge,
}

fn main() {}
