use statsfs::{Counter, StatsSource};

#[derive(StatsSource)]
struct Stats {
    #[stats(label = "vcpu")]
    exits: Counter,
}

fn main() {}
