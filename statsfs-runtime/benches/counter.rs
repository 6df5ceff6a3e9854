//! Hot-path increments against their floors, all in one run (method as in
//! `../shared/reference/perf-floors.md` §1: one `#[inline(never)]` loop per variant,
//! `iter_custom`, 2-thread variants timed until both threads finish).
//!
//! One deviation: the atomic loops take `black_box` once, outside the loop. Inside, it spills
//! the pointer to the stack every iteration, and a locked instruction must first drain that
//! store, which made the timing depend on unrelated loads around it (prometheus-client's
//! extra pointer load "won" by 10% on AMD EPYC). The loop body is now exactly the operation.
//! The single-writer loops keep the per-iteration `black_box`, or the compiler would fold
//! the plain `+= 1` loop into one addition.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant as Clock};

use criterion::{criterion_group, criterion_main, Criterion};
use prometheus_client::metrics::counter::Counter as PromCounter;
use statsfs_runtime::{Counter, Instance, LocalCounter};

/// A small stats struct, as a subsystem would declare: small enough that two plain `Arc`s
/// of it share a cache line.
#[derive(Default)]
struct Small {
    hits: Counter,
}

#[inline(never)]
fn raw(c: &AtomicU64, iters: u64) {
    let c = black_box(c);
    for _ in 0..iters {
        c.fetch_add(1, Relaxed);
    }
}

/// Raw atomic plus one dependent pointer load per iteration: the shape of
/// prometheus-client's `inc` (handle → Arc → atomic), to show that the extra load, not the
/// counter, is what makes that loop faster on some CPUs.
#[inline(never)]
fn raw_via_pointer(c: &&AtomicU64, iters: u64) {
    let c = black_box(c);
    for _ in 0..iters {
        (*black_box(c)).fetch_add(1, Relaxed);
    }
}

#[inline(never)]
fn ours(c: &Counter, iters: u64) {
    let c = black_box(c);
    for _ in 0..iters {
        c.inc();
    }
}

#[inline(never)]
fn prom(c: &PromCounter, iters: u64) {
    let c = black_box(c);
    for _ in 0..iters {
        c.inc();
    }
}

#[inline(never)]
fn local(c: &LocalCounter, iters: u64) {
    for _ in 0..iters {
        black_box(c).inc();
    }
}

#[inline(never)]
fn plain(x: &mut u64, iters: u64) {
    for _ in 0..iters {
        *black_box(&mut *x) += 1;
    }
}

/// Runs `f(a)` here and `f(b)` on a second thread, released together; wall time.
fn two<T: Sync + ?Sized>(iters: u64, a: &T, b: &T, f: fn(&T, u64)) -> Duration {
    let barrier = Barrier::new(2);
    thread::scope(|s| {
        let h = s.spawn(|| {
            barrier.wait();
            f(b, iters);
        });
        barrier.wait();
        let t = Clock::now();
        f(a, iters);
        h.join().expect("worker");
        t.elapsed()
    })
}

/// Two consecutive allocations of `make()` whose `line` is the same.
fn adjacent<T>(make: impl Fn() -> T, line: impl Fn(&T) -> usize) -> (T, T) {
    let mut keep = Vec::new();
    let mut prev = make();
    for _ in 0..10_000 {
        let next = make();
        if line(&prev) == line(&next) {
            return (prev, next);
        }
        keep.push(std::mem::replace(&mut prev, next));
    }
    panic!("the allocator never placed two consecutive allocations in one cache line");
}

fn timed<T: ?Sized>(iters: u64, a: &T, f: fn(&T, u64)) -> Duration {
    let t = Clock::now();
    f(a, iters);
    t.elapsed()
}

fn bench(c: &mut Criterion) {
    let raw_c = AtomicU64::new(0);
    let inst = Instance::new(Small::default());
    let prom_c = PromCounter::<u64>::default();

    let mut g = c.benchmark_group("inc_1thread");
    let raw_ref = &raw_c;
    g.bench_function("raw_atomic_fetch_add", |b| {
        b.iter_custom(|n| timed(n, &raw_c, raw))
    });
    g.bench_function("statsfs_counter", |b| {
        b.iter_custom(|n| timed(n, &inst.hits, ours))
    });
    g.bench_function("prometheus_client_counter", |b| {
        b.iter_custom(|n| timed(n, &prom_c, prom))
    });
    g.bench_function("raw_atomic_plus_pointer_load", |b| {
        b.iter_custom(|n| timed(n, &raw_ref, raw_via_pointer))
    });
    g.finish();

    let mut g = c.benchmark_group("inc_2threads_shared");
    g.bench_function("raw_atomic_fetch_add", |b| {
        b.iter_custom(|n| two(n, &raw_c, &raw_c, raw))
    });
    g.bench_function("statsfs_counter", |b| {
        b.iter_custom(|n| two(n, &inst.hits, &inst.hits, ours))
    });
    g.bench_function("prometheus_client_counter", |b| {
        b.iter_custom(|n| two(n, &prom_c, &prom_c, prom))
    });
    g.finish();

    // Two separately allocated instances, one per thread. For plain `Arc`s and
    // prometheus-client counters, pick two consecutive allocations whose counters share a
    // 64-byte line (the allocator hands such pairs out all the time); `Instance` never does.
    let line = |c: &Counter| c as *const Counter as usize / 64;
    let (aa, ab) = adjacent(|| Arc::new(Small::default()), |a| line(&a.hits));
    let (pa, pb) = adjacent(PromCounter::<u64>::default, |p| {
        p.inner() as *const AtomicU64 as usize / 64
    });
    let (ia, ib) = (
        Instance::new(Small::default()),
        Instance::new(Small::default()),
    );
    assert_ne!(line(&ia.hits), line(&ib.hits));
    eprintln!(
        "separate instances: Instance counters {} B apart; the Arc pair {} B; prometheus pair {} B",
        (&ia.hits as *const Counter as usize).abs_diff(&ib.hits as *const Counter as usize),
        (&aa.hits as *const Counter as usize).abs_diff(&ab.hits as *const Counter as usize),
        (pa.inner() as *const AtomicU64 as usize).abs_diff(pb.inner() as *const AtomicU64 as usize),
    );
    let mut g = c.benchmark_group("inc_2threads_separate_instances");
    g.bench_function("statsfs_instance", |b| {
        b.iter_custom(|n| two(n, &ia.hits, &ib.hits, ours))
    });
    g.bench_function("plain_arc_pair_sharing_a_line", |b| {
        b.iter_custom(|n| two(n, &aa.hits, &ab.hits, ours))
    });
    g.bench_function("prometheus_client_pair_sharing_a_line", |b| {
        b.iter_custom(|n| two(n, &pa, &pb, prom))
    });
    g.finish();

    let mut g = c.benchmark_group("inc_single_writer");
    let lc = LocalCounter::default();
    g.bench_function("plain_u64", |b| {
        b.iter_custom(|n| {
            let mut x = 0u64;
            let t = Clock::now();
            plain(&mut x, n);
            t.elapsed()
        })
    });
    g.bench_function("statsfs_local_counter", |b| {
        b.iter_custom(|n| timed(n, &lc, local))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
