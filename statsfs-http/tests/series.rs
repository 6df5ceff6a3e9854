//! Series identity: every visible simple value is exactly one series (metric name + label
//! set) whatever the tree's shape, and run-time built sets never give an invalid or
//! duplicate family (checked with promtool).

mod common;

use common::promtool_check;
use std::any::Any;
use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;

use statsfs::{
    Access, Counter, ErasedInstance, Instance, Kind, Registry, Source, StatsSource, Unit, UnitKind,
    ValueDesc, ValueSet, ValueType,
};
use statsfs_http::{encode, Config, Format, Server};

/// One vCPU.
#[derive(Default, StatsSource)]
#[stats(name = "vcpu", label = "vcpu")]
struct VcpuStats {
    /// VM exits.
    exits: Counter,
}

/// A parsed sample: metric name and label set.
type Series = (String, BTreeMap<String, String>);

/// Parses the sample lines of Prometheus text (label values unescaped).
fn samples(text: &str) -> Vec<Series> {
    let mut out = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (name, rest) = match line.find('{') {
            Some(i) => (&line[..i], &line[i + 1..]),
            None => (line.split(' ').next().unwrap(), ""),
        };
        let mut labels = BTreeMap::new();
        let mut chars = rest.chars().peekable();
        while chars.peek().is_some_and(|c| *c != '}' && *c != ' ') {
            let lname: String = chars.by_ref().take_while(|c| *c != '=').collect();
            assert_eq!(chars.next(), Some('"'), "{line}");
            let mut v = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => v.push(match chars.next().unwrap() {
                        'n' => '\n',
                        c => c,
                    }),
                    '"' => break,
                    c => v.push(c),
                }
            }
            let valid = lname.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && lname.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !lname.starts_with("__");
            assert!(valid, "label name {lname:?} in {line}");
            assert!(
                labels.insert(lname.clone(), v).is_none(),
                "label {lname} twice in {line}"
            );
            if chars.peek() == Some(&',') {
                chars.next();
            }
        }
        out.push((name.to_owned(), labels));
    }
    out
}

fn text(root: &Source) -> String {
    let mut out = Vec::new();
    encode(root, "statsfs", Format::Prometheus, &mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn vm_directories_holding_only_aggregates_still_tell_their_vcpus_apart() {
    // The shape of the README example and of statsfs-fuse's mount_demo.
    let registry = Registry::new();
    let kvm = Source::new("kvm").unwrap();
    kvm.add_aggregate_of::<VcpuStats>().unwrap();
    registry.register(&kvm).unwrap();
    let mut keep = Vec::new();
    for vm in 0..2 {
        let v = Source::new(&format!("vm{vm}")).unwrap();
        v.add_aggregate_of::<VcpuStats>().unwrap();
        for n in 0..2 {
            let c = Source::new(&format!("vcpu{n}")).unwrap();
            let st = Instance::<VcpuStats>::default();
            st.exits.add(10 * vm + n);
            c.add_instance(&st).unwrap();
            v.add_child(&c).unwrap();
            keep.push(st);
        }
        kvm.add_child(&v).unwrap();
    }
    assert_eq!(
        text(registry.root()),
        "# HELP statsfs_vcpu_exits_total VM exits.\n# TYPE statsfs_vcpu_exits_total counter\n\
         statsfs_vcpu_exits_total{kvm=\"vm0\",vcpu=\"vcpu0\"} 0\n\
         statsfs_vcpu_exits_total{kvm=\"vm0\",vcpu=\"vcpu1\"} 1\n\
         statsfs_vcpu_exits_total{kvm=\"vm1\",vcpu=\"vcpu0\"} 10\n\
         statsfs_vcpu_exits_total{kvm=\"vm1\",vcpu=\"vcpu1\"} 11\n"
    );
    // A subtree keeps the labels it has in the whole tree.
    assert_eq!(
        samples(&text(&kvm.child("vm1").unwrap())),
        samples(&text(registry.root()))[2..]
    );
}

/// A small xorshift generator: the random trees are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn get(x: &(dyn Any + Send + Sync), i: usize) -> u64 {
    x.downcast_ref::<Vec<u64>>().map_or(0, |v| v[i])
}

/// A run-time set (as the KVM import builds them).
fn owned_set(
    name: &str,
    label: Option<&str>,
    values: &[(&str, Kind, UnitKind, i16)],
) -> &'static ValueSet {
    let descs = values
        .iter()
        .enumerate()
        .map(|(i, (n, kind, unit, exp))| {
            ValueDesc::new(n.to_string(), ValueType::U64, Access::func(get, None, i))
                .doc(format!("{n} \"quoted\" \\ doc"))
                .kind(*kind)
                .unit(Unit::new(*unit, statsfs::Base::Pow10, *exp))
        })
        .collect();
    ValueSet::owned(name.to_owned(), "", label.map(str::to_owned), descs).leak()
}

fn instance(set: &ValueSet, seed: u64) -> ErasedInstance {
    ErasedInstance::from_arc(Arc::new(
        (0..set.values().len() as u64)
            .map(|i| seed * 10 + i)
            .collect::<Vec<u64>>(),
    ))
}

#[test]
fn every_simple_value_is_one_series_in_trees_of_random_shape() {
    // Sets whose label names collide (`vm` twice, `net-dev`/`net_dev`, one unlabelled).
    let sets = [
        owned_set(
            "vm",
            Some("vm"),
            &[("a", Kind::Cumulative, UnitKind::None, 0)],
        ),
        owned_set(
            "vmx",
            Some("vm"),
            &[("b", Kind::Instant, UnitKind::None, 0)],
        ),
        owned_set(
            "dev",
            Some("net-dev"),
            &[("c", Kind::Peak, UnitKind::Bytes, 0)],
        ),
        owned_set(
            "q",
            Some("net_dev"),
            &[("d", Kind::Cumulative, UnitKind::None, 0)],
        ),
        owned_set("plain", None, &[("e", Kind::Instant, UnitKind::None, 0)]),
    ];
    let names = ["a", "b", "vm", "vm0", "net-dev", "9p"];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..300 {
        let registry = Registry::new();
        let mut expected = 0usize;
        let mut seed = 0;
        // (parent, depth, visible)
        let mut frontier: Vec<(Source, usize, bool)> = Vec::new();
        let tops = 1 + rng.below(3);
        let mut used = HashSet::new();
        for _ in 0..tops {
            let n = names[rng.below(names.len() as u64) as usize];
            if !used.insert(n) {
                continue;
            }
            let s = Source::new(n).unwrap();
            registry.register(&s).unwrap();
            frontier.push((s, 1, true));
        }
        let mut i = 0;
        while i < frontier.len() {
            let (src, depth, visible) = frontier[i].clone();
            i += 1;
            // Groups: none, some simple (the same set possibly twice), some aggregates.
            for _ in 0..rng.below(3) {
                let set = sets[rng.below(sets.len() as u64) as usize];
                if rng.below(3) == 0 {
                    let _ = src.add_aggregate(set);
                } else {
                    seed += 1;
                    let hidden = rng.below(6) == 0;
                    // (refused when a value's file name is taken in the directory)
                    let added = src.add_values(set, Some(instance(set, seed)), hidden);
                    if added.is_ok() && visible && !hidden {
                        expected += set.values().len();
                    }
                }
            }
            if depth < 4 {
                let mut used = HashSet::new();
                for _ in 0..rng.below(4) {
                    let n = names[rng.below(names.len() as u64) as usize];
                    if !used.insert(n) {
                        continue;
                    }
                    let hidden = rng.below(8) == 0;
                    let c = if hidden {
                        Source::new_hidden(n).unwrap()
                    } else {
                        Source::new(n).unwrap()
                    };
                    if src.add_child(&c).is_err() {
                        continue;
                    }
                    frontier.push((c, depth + 1, visible && !hidden));
                }
            }
        }
        let all = samples(&text(registry.root()));
        let unique: HashSet<&Series> = all.iter().collect();
        assert_eq!(
            unique.len(),
            all.len(),
            "round {round}: a series repeats:\n{}",
            text(registry.root())
        );
        assert_eq!(
            all.len(),
            expected,
            "round {round}: one series per visible simple value"
        );
        // Each top-level subtree shows exactly its part of the whole, labels included.
        for (top, _, _) in frontier.iter().filter(|(_, d, _)| *d == 1) {
            for s in samples(&text(top)) {
                assert!(
                    unique.contains(&s),
                    "round {round}: {s:?} only in the subtree"
                );
            }
        }
    }
}

#[test]
fn colliding_run_time_names_are_disambiguated_and_promtool_accepts_them() {
    let registry = Registry::new();
    let top = Source::new("kvm").unwrap();
    registry.register(&top).unwrap();
    let a = owned_set(
        "x",
        Some("net-dev"),
        &[
            ("wait_ns", Kind::Cumulative, UnitKind::Seconds, -9),
            ("wait_us", Kind::Cumulative, UnitKind::Seconds, -6),
            ("exits", Kind::Cumulative, UnitKind::None, 0),
            ("exits_total", Kind::Instant, UnitKind::None, 0),
            ("rx-q", Kind::Instant, UnitKind::None, 0),
            ("rx_q", Kind::Instant, UnitKind::None, 0),
        ],
    );
    // Another set whose names meet the first one's: `x_rx` + `q` is `x_rx_q`.
    let b = owned_set(
        "x_rx",
        Some("9p"),
        &[("q", Kind::Instant, UnitKind::None, 0)],
    );
    let dev = Source::new("eth0").unwrap();
    dev.add_values(a, Some(instance(a, 1)), false).unwrap();
    top.add_child(&dev).unwrap();
    let q = Source::new("q0").unwrap();
    q.add_values(b, Some(instance(b, 2)), false).unwrap();
    dev.add_child(&q).unwrap();
    let srv = Server::start(
        &registry,
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            prefix: "kvm".into(),
            ..Config::default()
        },
    )
    .unwrap();
    let (status, _, body) = common::get(srv.addr(), "/metrics", "text/plain");
    assert_eq!(status, 200);
    let series: Vec<String> = body
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        series,
        [
            "kvm_x_wait_seconds_total{net_dev=\"eth0\"} 0.00000001",
            "kvm_x_wait_2_seconds_total{net_dev=\"eth0\"} 0.000011",
            "kvm_x_exits_total{net_dev=\"eth0\"} 12",
            "kvm_x_exits_total_2{net_dev=\"eth0\"} 13",
            "kvm_x_rx_q{net_dev=\"eth0\"} 14",
            "kvm_x_rx_q_2{net_dev=\"eth0\"} 15",
            "kvm_x_rx_q_3{net_dev=\"eth0\",_9p=\"q0\"} 20",
        ]
    );
    // /schema.json names them as /metrics does.
    let (_, _, schema) = common::get(srv.addr(), "/schema.json", "");
    let v: serde_json::Value = serde_json::from_str(&schema).unwrap();
    let metrics: Vec<&str> = v["sets"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["values"].as_array().unwrap())
        .map(|d| d["metric"].as_str().unwrap())
        .collect();
    assert_eq!(
        metrics,
        [
            "kvm_x_wait_seconds_total",
            "kvm_x_wait_2_seconds_total",
            "kvm_x_exits_total",
            "kvm_x_exits_total_2",
            "kvm_x_rx_q",
            "kvm_x_rx_q_2",
            "kvm_x_rx_q_3",
        ]
    );
    // OpenMetrics family names are distinct too, and HELP escapes the double quote there.
    let (_, _, om) = common::get(srv.addr(), "/metrics", "application/openmetrics-text");
    let families: Vec<&str> = om
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        families.iter().collect::<HashSet<_>>().len(),
        families.len(),
        "{om}"
    );
    assert!(
        om.contains("# HELP kvm_x_rx_q rx-q \\\"quoted\\\" \\\\ doc\n"),
        "{om}"
    );
    assert!(
        body.contains("# HELP kvm_x_rx_q rx-q \"quoted\" \\\\ doc\n"),
        "{body}"
    );
    if let Some((ok, out)) = promtool_check(&body) {
        assert!(ok, "{out}\n{body}");
    }
}

/// A scaled value is `v × base^exponent` exactly: printed as its exact decimal form (never
/// through f64, whose `1.0000000000000002e-6` noise hides the nanoseconds counted), and
/// promtool reads every form.
#[test]
fn scaled_values_are_printed_as_exact_decimals_and_promtool_accepts_them() {
    use statsfs::Base::{Pow10, Pow2};
    let cases: &[(&str, ValueType, statsfs::Base, i16, u64, &str)] = &[
        ("c01", ValueType::U64, Pow10, -9, 1, "0.000000001"),
        (
            "c02",
            ValueType::U64,
            Pow10,
            -9,
            1_547_881_353,
            "1.547881353",
        ),
        ("c03", ValueType::U64, Pow10, -9, 0, "0"),
        ("c04", ValueType::U64, Pow10, -3, 1000, "1"),
        ("c05", ValueType::U64, Pow10, -6, 1_000_010, "1.00001"),
        (
            "c06",
            ValueType::U64,
            Pow10,
            -18,
            u64::MAX,
            "18.446744073709551615",
        ),
        (
            "c07",
            ValueType::I64,
            Pow10,
            -9,
            i64::MIN as u64,
            "-9223372036.854775808",
        ),
        (
            "c08",
            ValueType::I64,
            Pow10,
            -18,
            -1i64 as u64,
            "-0.000000000000000001",
        ),
        (
            "c09",
            ValueType::I64,
            Pow10,
            -9,
            i64::MAX as u64,
            "9223372036.854775807",
        ),
        ("c10", ValueType::U64, Pow2, -1, 1, "0.5"),
        ("c11", ValueType::U64, Pow2, -18, 3, "0.000011444091796875"),
        (
            "c12",
            ValueType::U64,
            Pow2,
            -18,
            u64::MAX,
            "70368744177663.999996185302734375",
        ),
        (
            "c13",
            ValueType::I64,
            Pow2,
            -18,
            i64::MIN as u64,
            "-35184372088832",
        ),
        ("c14", ValueType::U64, Pow10, 18, 10, "10000000000000000000"),
        (
            "c15",
            ValueType::U64,
            Pow10,
            18,
            u64::MAX,
            "18446744073709551615000000000000000000",
        ),
        ("c16", ValueType::I64, Pow2, 18, -3i64 as u64, "-786432"),
    ];
    let descs = cases
        .iter()
        .enumerate()
        .map(|(i, (n, ty, base, exp, _, _))| {
            ValueDesc::new(n.to_string(), *ty, Access::func(get, None, i))
                .doc("scaled")
                .unit(Unit::new(UnitKind::Seconds, *base, *exp))
        })
        .collect();
    let set = ValueSet::owned("scaled", "", None::<String>, descs).leak();
    let top = Source::new("t").unwrap();
    let values: Vec<u64> = cases.iter().map(|c| c.4).collect();
    top.add_values(set, Some(ErasedInstance::from_arc(Arc::new(values))), false)
        .unwrap();
    let registry = Registry::new();
    registry.register(&top).unwrap();
    let srv = Server::start(
        &registry,
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..Config::default()
        },
    )
    .unwrap();
    for accept in ["text/plain", "application/openmetrics-text"] {
        let (status, _, body) = common::get(srv.addr(), "/metrics", accept);
        assert_eq!(status, 200);
        let got: Vec<&str> = body
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.rsplit(' ').next().unwrap())
            .collect();
        let want: Vec<&str> = cases.iter().map(|c| c.5).collect();
        assert_eq!(got, want, "{body}");
        if accept == "text/plain" {
            if let Some((ok, out)) = promtool_check(&body) {
                assert!(ok, "{out}\n{body}");
            }
        }
    }
}
