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

/// One step of a retained-totals scenario.
#[derive(Debug, Clone)]
enum Op {
    Attach(usize, usize),
    Detach(usize),
    Revoke(usize),
    Inc(usize, u64),
    Clear(usize),
}

const NODES: usize = 6;

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..NODES, 0..NODES).prop_map(|(c, p)| Op::Attach(c, p)),
        3 => (0..NODES).prop_map(Op::Detach),
        1 => (0..NODES).prop_map(Op::Revoke),
        4 => (0..NODES, 1..1000u64).prop_map(|(n, k)| Op::Inc(n, k)),
        1 => (0..NODES).prop_map(Op::Clear),
    ]
}

/// The retained-totals contract (`Source::set_retain_totals`) over one cumulative SUM value,
/// in plain integers: a store is `(child it came from, amount)` held at the parent it left.
#[derive(Clone, Debug, Default)]
struct Model {
    parent: [Option<usize>; NODES],
    retain: [bool; NODES],
    detached_retain: [bool; NODES],
    revoked: [bool; NODES],
    value: [u64; NODES],
    stores: [Vec<(Option<usize>, u64)>; NODES],
}

impl Model {
    fn children(&self, n: usize) -> impl Iterator<Item = usize> + '_ {
        (0..NODES).filter(move |&c| self.parent[c] == Some(n))
    }
    fn total(&self, n: usize) -> u64 {
        let own = if self.revoked[n] { 0 } else { self.value[n] };
        own + self.stores[n].iter().map(|s| s.1).sum::<u64>()
            + self.children(n).map(|c| self.total(c)).sum::<u64>()
    }
    fn read(&self, n: usize) -> u64 {
        if self.revoked[n] {
            0
        } else {
            self.total(n)
        }
    }
    fn ancestors(&self, n: usize) -> Vec<usize> {
        let mut out = vec![n];
        while let Some(p) = self.parent[*out.last().unwrap()] {
            out.push(p);
        }
        out
    }
    fn retains(&self, n: usize) -> bool {
        let chain = self.ancestors(n);
        chain.iter().any(|&a| self.retain[a]) || self.detached_retain[*chain.last().unwrap()]
    }
    fn subtree(&self, n: usize) -> Vec<usize> {
        let mut out = vec![n];
        for c in self.children(n) {
            out.extend(self.subtree(c));
        }
        out
    }
    /// Applies `op`; returns whether the runtime must accept it.
    fn apply(&mut self, op: &Op) -> bool {
        match *op {
            Op::Attach(c, p) => {
                if self.parent[c].is_some() || self.ancestors(p).contains(&c) {
                    return false;
                }
                self.parent[c] = Some(p);
                self.detached_retain[c] = false;
                let total = self.total(c);
                let mine: Vec<u64> = self.stores[p]
                    .iter()
                    .filter(|s| s.0 == Some(c))
                    .map(|s| s.1)
                    .collect();
                self.stores[p].retain(|s| s.0 != Some(c));
                for kept in mine {
                    if total < kept {
                        self.stores[p].push((None, kept - total));
                    }
                }
            }
            Op::Detach(c) => {
                let Some(p) = self.parent[c] else {
                    return false;
                };
                let retain = self.retains(p);
                if retain {
                    let total = self.total(c);
                    self.stores[p].push((Some(c), total));
                }
                self.parent[c] = None;
                self.detached_retain[c] = retain;
            }
            Op::Revoke(n) => {
                if !self.revoked[n] && self.retains(n) {
                    self.stores[n].push((None, self.value[n]));
                }
                self.revoked[n] = true;
            }
            Op::Inc(n, k) => {
                if !self.revoked[n] {
                    self.value[n] += k;
                }
            }
            Op::Clear(n) => {
                if !self.revoked[n] {
                    for m in self.subtree(n) {
                        if !self.revoked[m] {
                            self.value[m] = 0;
                        }
                        for s in &mut self.stores[m] {
                            s.1 = 0;
                        }
                    }
                }
            }
        }
        true
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Random add / remove / re-add / move / nested detach / revoke / increment / clear
    /// sequences: every source reads what the model says, and a retaining source never reads
    /// less than before unless a clear at, above or below it took the counts.
    #[test]
    fn retained_totals_follow_the_model_and_never_decrease(
        parents in (1..NODES).map(|i| 0..i).collect::<Vec<_>>(),
        retain in prop::collection::vec(prop::bool::weighted(0.2), NODES - 1),
        start in prop::collection::vec(0..100u64, NODES),
        ops in prop::collection::vec(op(), 0..40),
    ) {
        let mut model = Model::default();
        model.retain[0] = true;
        let mut sources = Vec::new();
        let mut stats = Vec::new();
        for i in 0..NODES {
            let s = Source::new(&format!("n{i}")).unwrap();
            let st = Instance::new(VcpuStats::default());
            st.exits.add(start[i]);
            model.value[i] = start[i];
            // Hidden simple group, then the aggregate: `exits` looks up the aggregate.
            s.add_values(&VCPU, Some(st.erase()), true).unwrap();
            s.add_aggregate(&VCPU).unwrap();
            if i == 0 || retain[i - 1] {
                s.set_retain_totals(true);
                model.retain[i] = true;
            }
            sources.push(s);
            stats.push(st);
        }
        for (i, &p) in parents.iter().enumerate() {
            let c = i + 1;
            prop_assert!(model.apply(&Op::Attach(c, p)));
            sources[p].add_child(&sources[c]).unwrap();
        }
        let read = |n: usize| sources[n].lookup("exits").unwrap().read();
        for (step, op) in ops.iter().enumerate() {
            let before: Vec<u64> = (0..NODES).map(read).collect();
            let retained_before: Vec<bool> = (0..NODES).map(|n| model.retains(n)).collect();
            // A clear may lower its node, what is below it and what is above it.
            let cleared: Vec<usize> = match *op {
                Op::Clear(n) => {
                    let mut v = model.subtree(n);
                    v.extend(model.ancestors(n));
                    v
                }
                _ => Vec::new(),
            };
            let accepted = model.apply(op);
            match *op {
                Op::Attach(c, p) => prop_assert_eq!(sources[p].add_child(&sources[c]).is_ok(), accepted),
                Op::Detach(c) => {
                    let p = sources[c].parent();
                    prop_assert_eq!(p.is_some(), accepted);
                    if let Some(p) = p {
                        prop_assert!(p.remove_child(&sources[c]));
                    }
                }
                Op::Revoke(n) => sources[n].revoke(),
                Op::Inc(n, k) => stats[n].exits.add(k),
                Op::Clear(n) => sources[n].lookup("exits").unwrap().clear().unwrap(),
            }
            for n in 0..NODES {
                let now = read(n);
                prop_assert_eq!(now, model.read(n), "step {} {:?}: node {} vs model", step, op, n);
                if retained_before[n] && model.retains(n) && !model.revoked[n] && !cleared.contains(&n) {
                    prop_assert!(now >= before[n], "step {} {:?}: node {} went from {} to {}", step, op, n, before[n], now);
                }
            }
        }
    }
}
