use statsfs::StatsSource;

#[derive(StatsSource)]
struct Stats {
    #[stats(aggregation = "avg")]
    running: bool,
}

fn main() {}
