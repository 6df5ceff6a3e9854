use statsfs::{Counter, Gauge, StatsSource};

#[derive(StatsSource)]
#[stats(name = "vcpu", label = "vcpu")]
struct Stats {
    #[stats(unit = "seconds", exponent = -9)]
    wait_ns: Counter,
    #[stats(unit = "seconds", exponent = -6)]
    wait_us: Counter,
    exits: Counter,
    #[stats(kind = "instant")]
    exits_total: Gauge,
    #[stats(rename = "a-b")]
    a_dash_b: Counter,
    a_b: Counter,
}

fn main() {}
