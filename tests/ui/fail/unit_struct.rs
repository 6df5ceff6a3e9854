use statsfs::StatsSource;

#[derive(StatsSource)]
struct Stats;

fn main() {}
