use statsfs::StatsSource;

#[derive(StatsSource)]
struct Stats {
    pages: usize,
}

fn main() {}
