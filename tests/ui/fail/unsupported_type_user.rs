use statsfs::StatsSource;

struct Temperature(u64);

#[derive(StatsSource)]
struct Stats {
    temperature: Temperature,
}

fn main() {}
