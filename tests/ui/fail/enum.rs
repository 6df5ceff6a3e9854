use statsfs::StatsSource;

#[derive(StatsSource)]
enum Stats {
    Exits(u64),
    Halts(u64),
}

fn main() {}
