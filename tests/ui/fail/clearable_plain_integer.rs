use statsfs::StatsSource;

#[derive(StatsSource)]
struct Stats {
    #[stats(clearable)]
    exits: u64,
}

fn main() {}
