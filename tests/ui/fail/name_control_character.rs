use statsfs::{Counter, StatsSource};

#[derive(StatsSource)]
#[stats(name = "s\u{202e}")]
struct Stats {
    #[stats(rename = "a\nb")]
    ab: Counter,
    #[stats(rename = " c")]
    c: Counter,
}

fn main() {}
