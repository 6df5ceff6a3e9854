use statsfs::StatsSource;

#[derive(StatsSource)]
struct Stats<T> {
    exits: T,
}

fn main() {}
