use statsfs::{Counter, StatsSource};

#[derive(StatsSource)]
#[stats(name = "net-dev", label = "net-dev")]
struct NetStats {
    rx: Counter,
}

#[derive(StatsSource)]
#[stats(name = "9p")]
struct NinePStats {
    reads: Counter,
}

fn main() {}
