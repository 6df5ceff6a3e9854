use statsfs::{Gauge, StatsSource};

fn mp_state(state: u64) -> &'static str {
    if state == 0 {
        "RUNNABLE"
    } else {
        "HALTED"
    }
}

#[derive(StatsSource)]
struct Stats {
    #[stats(kind = "instant", show = "mp_state")]
    mp_state: Gauge,
}

fn main() {}
