use statsfs::StatsSource;

#[derive(StatsSource)]
struct Stats {
    #[stats(kind = "instant", unit = "bytes", exponent = 99)]
    up: bool,
}

fn main() {}
