use std::marker::PhantomData;

use statsfs::{Counter, StatsSource};

#[derive(StatsSource)]
struct Stats<'a> {
    exits: Counter,
    #[stats(skip)]
    owner: PhantomData<&'a str>,
}

fn main() {}
