//! For random trees and values, every aggregate equals a naive fold over the subtree
//! computed independently here (wide integers, no shared code with the runtime).

mod common;

use common::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct NodeSpec {
    parent: usize,
    hidden: bool,
    revoked: bool,
    detached: bool,
    i32_values: Vec<i32>,
    u8_values: Vec<u8>,
    bool_values: Vec<bool>,
    aggregates: (bool, bool, bool),
}

fn node_spec(max_parent: usize) -> impl Strategy<Value = NodeSpec> {
    (
        0..max_parent.max(1),
        any::<bool>(),
        prop::bool::weighted(0.15),
        prop::bool::weighted(0.1),
        prop::collection::vec(any::<i32>(), 0..3),
        prop::collection::vec(any::<u8>(), 0..3),
        prop::collection::vec(any::<bool>(), 0..3),
        (any::<bool>(), any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |(parent, hidden, revoked, detached, i, u, b, aggregates)| NodeSpec {
                parent,
                hidden,
                revoked,
                detached,
                i32_values: i,
                u8_values: u,
                bool_values: b,
                aggregates,
            },
        )
}

fn tree_spec() -> impl Strategy<Value = Vec<NodeSpec>> {
    (1usize..14).prop_flat_map(|n| (0..n).map(node_spec).collect::<Vec<_>>())
}

/// The reference's table, computed over wide integers. Index order is the set's:
/// none, sum, min, max, avg, count_zero.
fn naive(values: &[i128], signed: bool) -> [u64; 6] {
    let n = values.len() as i128;
    let sum: i128 = values.iter().sum();
    let min = values.iter().min().copied();
    let max = values.iter().max().copied();
    let to_carrier = |v: i128| v as i64 as u64;
    let wrap = |v: i128| v as u64; // modulo 2^64, as the runtime's wrapping sum
    [
        0,
        wrap(sum),
        match (min, signed) {
            (Some(m), true) => to_carrier(m),
            (Some(m), false) => m as u64,
            (None, true) => i64::MAX as u64,
            (None, false) => u64::MAX,
        },
        match (max, signed) {
            (Some(m), true) => to_carrier(m),
            (Some(m), false) => m as u64,
            (None, true) => i64::MIN as u64,
            (None, false) => 0,
        },
        if n == 0 { 0 } else { wrap(sum / n) },
        values.iter().filter(|&&v| v == 0).count() as u64,
    ]
}

struct Built {
    sources: Vec<Source>,
    _keep: Vec<Box<dyn std::any::Any>>,
}

fn build(spec: &[NodeSpec]) -> Built {
    let mut sources: Vec<Source> = Vec::new();
    let mut keep: Vec<Box<dyn std::any::Any>> = Vec::new();
    for (i, n) in spec.iter().enumerate() {
        let name = format!("n{i}");
        let s = if n.hidden {
            Source::new_hidden(&name)
        } else {
            Source::new(&name)
        }
        .unwrap();
        // All groups hidden: the sets share value names, and hidden groups aggregate alike.
        for &v in &n.i32_values {
            let inst = Instance::new(I32Stat { v: v.into() });
            s.add_values(&I32S, Some(inst.erase()), true).unwrap();
            keep.push(Box::new(inst));
        }
        for &v in &n.u8_values {
            let inst = Instance::new(U8Stat { v: v.into() });
            s.add_values(&U8S, Some(inst.erase()), true).unwrap();
            keep.push(Box::new(inst));
        }
        for &v in &n.bool_values {
            let inst = Instance::new(BoolStat { v: v.into() });
            s.add_values(&BOOLS, Some(inst.erase()), true).unwrap();
            keep.push(Box::new(inst));
        }
        let (a, b, c) = n.aggregates;
        if a {
            s.add_values(&I32S, None, true).unwrap();
        }
        if b {
            s.add_values(&U8S, None, true).unwrap();
        }
        if c {
            s.add_values(&BOOLS, None, true).unwrap();
        }
        if i > 0 {
            sources[n.parent].add_child(&s).unwrap();
        }
        sources.push(s);
    }
    for (i, n) in spec.iter().enumerate() {
        if n.revoked {
            sources[i].revoke();
        }
        if n.detached && i > 0 {
            assert!(sources[n.parent].remove_child(&sources[i]));
        }
    }
    Built {
        sources,
        _keep: keep,
    }
}

/// Indices of `i` and its descendants still attached.
fn subtree(spec: &[NodeSpec], i: usize) -> Vec<usize> {
    let mut out = vec![i];
    for (j, n) in spec.iter().enumerate().skip(1) {
        if n.parent == i && !n.detached && j != i {
            out.extend(subtree(spec, j));
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_aggregate_equals_a_naive_fold(spec in tree_spec()) {
        let built = build(&spec);
        for (i, n) in spec.iter().enumerate() {
            let live: Vec<usize> = subtree(&spec, i).into_iter().filter(|&j| !spec[j].revoked).collect();
            let src = &built.sources[i];
            for g in src.groups() {
                if g.kind != GroupKind::Aggregate {
                    continue;
                }
                let mut got = Vec::new();
                src.read_group(g.index, &mut got).unwrap();
                let (vals, signed): (Vec<i128>, bool) = match g.set.name() {
                    "I32S" => (live.iter().flat_map(|&j| spec[j].i32_values.iter().map(|&v| v as i128)).collect(), true),
                    "U8S" => (live.iter().flat_map(|&j| spec[j].u8_values.iter().map(|&v| v as i128)).collect(), false),
                    _ => (live.iter().flat_map(|&j| spec[j].bool_values.iter().map(|&v| v as i128)).collect(), false),
                };
                let want = if n.revoked { [0; 6] } else { naive(&vals, signed) };
                prop_assert_eq!(&got[..], &want[..], "node {} set {}", i, g.set.name());
            }
        }
    }

    /// Clearing an aggregate zeroes exactly its subtree: the root loses the subtree's sum
    /// and keeps everything else.
    #[test]
    fn clear_through_an_aggregate_zeroes_exactly_its_subtree(spec in tree_spec(), pick in any::<prop::sample::Index>()) {
        let built = build(&spec);
        let target = pick.index(spec.len());
        let u8_sum = |src: &Source| {
            src.add_values(&U8S, None, true).ok(); // EEXIST if it has one: fine
            src.values()
                .into_iter()
                .find(|v| ValueSet::same(v.set(), &U8S) && v.is_aggregate() && v.name() == "sum")
                .unwrap()
        };
        let sum_of = |nodes: &dyn Fn(usize) -> bool| -> u64 {
            (0..spec.len())
                .filter(|&j| nodes(j) && !spec[j].revoked)
                .flat_map(|j| spec[j].u8_values.iter().map(|&x| x as u64))
                .sum()
        };
        let in_target = subtree(&spec, target);
        let in_root = subtree(&spec, 0);
        let t = u8_sum(&built.sources[target]);
        let before = t.read();
        prop_assert_eq!(before, if spec[target].revoked { 0 } else { sum_of(&|j| in_target.contains(&j)) });
        t.clear().unwrap();
        prop_assert_eq!(t.read(), 0);
        let r = u8_sum(&built.sources[0]);
        if !spec[0].revoked {
            let cleared = |j: usize| in_target.contains(&j) && !spec[target].revoked;
            prop_assert_eq!(r.read(), sum_of(&|j| in_root.contains(&j) && !cleared(j)));
        }
    }
}
