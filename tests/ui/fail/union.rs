use statsfs::StatsSource;

#[derive(StatsSource)]
union Stats {
    exits: u64,
    halts: u32,
}

fn main() {}
