use statsfs::StatsSource;

#[derive(StatsSource)]
struct Stats {
    state: String,
}

fn main() {}
