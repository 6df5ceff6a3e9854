use statsfs::{Gauge, StatsSource};

fn mp_state(state: &str) -> &'static str {
    if state.is_empty() {
        "UNINITIALIZED"
    } else {
        "RUNNABLE"
    }
}

#[derive(StatsSource)]
struct Stats {
    #[stats(kind = "instant", show = mp_state)]
    mp_state: Gauge,
}

fn main() {}
