use statsfs::{CustomValue, StatsSource};

struct Snapshot(u64);

impl CustomValue for Snapshot {
    const SIGNED: bool = false;
    fn get(&self) -> u64 {
        self.0
    }
}

#[derive(StatsSource)]
struct Stats {
    #[stats(clearable)]
    exits: Snapshot,
}

fn main() {}
