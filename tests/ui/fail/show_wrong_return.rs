use statsfs::{Gauge, StatsSource};

fn mp_state(state: u64) -> i32 {
    state as i32
}

#[derive(StatsSource)]
struct Stats {
    #[stats(kind = "instant", show = mp_state)]
    mp_state: Gauge,
}

fn main() {}
