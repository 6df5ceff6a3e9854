use statsfs::StatsSource;

#[derive(StatsSource)]
struct Stats {
    load_average: f64,
}

fn main() {}
