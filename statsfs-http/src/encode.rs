//! Prometheus text (0.0.4) and OpenMetrics encoding of a tree's simple values.
//!
//! Series are the simple values only: an aggregate is the sum (min, max...) of series that
//! are already exported, so exporting it too would double-count under PromQL `sum()`. Each
//! source level contributes one label, named by its set's `label` (`vm`, `vcpu`) and valued
//! with the source's name, so `sum by (vm) (kvm_vcpu_exits_total)` is the tree's per-VM
//! aggregate. Families are grouped as both formats require; nothing is allocated per series.

use statsfs_runtime::naming::metric_name;
use statsfs_runtime::{
    Base, GroupSnapshot, Kind, Source, UnitKind, ValueDesc, ValueSet, Visitor, WalkOptions,
};

/// The exposition format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4.
    Prometheus,
    /// OpenMetrics 1.0 text.
    OpenMetrics,
}

impl Format {
    /// The Content-Type of a response in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Prometheus => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// Every instance of one set: label text and values, packed.
struct SetSeries {
    set: &'static ValueSet,
    labels: String,
    label_ends: Vec<u32>,
    values: Vec<u64>,
}

struct Collect {
    /// Labels of the ancestors of the walked subtree, fixed for the whole walk.
    base: Vec<String>,
    /// (depth, `name="value"`) of the labels added inside the walk.
    stack: Vec<(usize, String)>,
    sets: Vec<SetSeries>,
}

/// Whether `label` (`name="value"`) is named `name`.
fn named(label: &str, name: &str) -> bool {
    label
        .strip_prefix(name)
        .is_some_and(|rest| rest.starts_with("=\""))
}

/// Appends `v` escaped for a label value (backslash, double quote, newline).
fn escape_label(v: &str, out: &mut String) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Appends `v` escaped for HELP text (backslash, newline).
fn escape_help(v: &str, out: &mut Vec<u8>) {
    for c in v.chars() {
        match c {
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            c => {
                let mut b = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
        }
    }
}

/// The label a source contributes: named after the first labelled set among its simple
/// groups (or that set's name when it has no label), valued with the source's name.
pub(crate) fn label_of(set: &ValueSet) -> &str {
    set.label().unwrap_or(set.name())
}

impl Collect {
    fn push_label(&mut self, depth: usize, name: &str, value: &str) {
        let taken = self.base.iter().any(|l| named(l, name))
            || self
                .stack
                .iter()
                .any(|(d, l)| *d == depth || named(l, name));
        if taken {
            return;
        }
        let mut l = String::with_capacity(name.len() + value.len() + 3);
        l.push_str(name);
        l.push_str("=\"");
        escape_label(value, &mut l);
        l.push('"');
        self.stack.push((depth, l));
    }
}

struct Walk {
    c: Collect,
    depth: usize,
}

impl Visitor for Walk {
    fn enter(&mut self, _: &Source, depth: usize) -> bool {
        self.depth = depth;
        true
    }

    fn group(&mut self, source: &Source, g: &GroupSnapshot<'_>) {
        if g.aggregate {
            return;
        }
        self.c
            .push_label(self.depth, label_of(g.set), source.name());
        let pos = match self
            .c
            .sets
            .iter()
            .position(|s| ValueSet::same(s.set, g.set))
        {
            Some(p) => p,
            None => {
                self.c.sets.push(SetSeries {
                    set: g.set,
                    labels: String::new(),
                    label_ends: Vec::new(),
                    values: Vec::new(),
                });
                self.c.sets.len() - 1
            }
        };
        let s = &mut self.c.sets[pos];
        let all = self
            .c
            .base
            .iter()
            .chain(self.c.stack.iter().map(|(_, l)| l));
        for (i, l) in all.enumerate() {
            if i > 0 {
                s.labels.push(',');
            }
            s.labels.push_str(l);
        }
        s.label_ends.push(s.labels.len() as u32);
        s.values.extend_from_slice(g.values);
    }

    fn leave(&mut self, _: &Source, depth: usize) {
        while self.c.stack.last().is_some_and(|(d, _)| *d >= depth) {
            self.c.stack.pop();
        }
    }
}

/// Writes one sample value: integers exactly, scaled units (ns → seconds) as floats.
fn write_value(desc: &ValueDesc, v: u64, out: &mut Vec<u8>) {
    let signed = desc.ty.is_signed();
    let base_int: i128 = if desc.unit.base == Base::Pow2 { 2 } else { 10 };
    // A scale up (pages of 4 KiB) stays an exact integer while it fits.
    if desc.unit.exponent >= 0 {
        let x: i128 = if signed { v as i64 as i128 } else { v as i128 };
        let scaled = u32::try_from(desc.unit.exponent)
            .ok()
            .and_then(|e| base_int.checked_pow(e))
            .and_then(|m| x.checked_mul(m));
        if let Some(n) = scaled {
            let mut b = itoa::Buffer::new();
            out.extend_from_slice(b.format(n).as_bytes());
            return;
        }
    }
    let base: f64 = if desc.unit.base == Base::Pow2 {
        2.0
    } else {
        10.0
    };
    let x = if signed { v as i64 as f64 } else { v as f64 };
    let scaled = x * base.powi(desc.unit.exponent as i32);
    let mut b = ryu::Buffer::new();
    out.extend_from_slice(b.format(scaled).as_bytes());
}

/// The OpenMetrics `# UNIT` of a value: none for plain counts and booleans.
fn unit_word(u: UnitKind) -> Option<&'static str> {
    match u {
        UnitKind::None | UnitKind::Boolean => None,
        u => Some(u.as_str()),
    }
}

/// Labels of the ancestors of `source` (outermost first), so a subtree's series keep the
/// labels they have in the whole tree.
fn ancestor_labels(source: &Source) -> Vec<String> {
    let mut chain = Vec::new();
    let mut cur = source.parent();
    while let Some(p) = cur {
        cur = p.parent();
        chain.push(p);
    }
    chain.reverse();
    let mut c = Collect {
        base: Vec::new(),
        stack: Vec::new(),
        sets: Vec::new(),
    };
    for (depth, s) in chain.iter().enumerate() {
        if let Some(g) = s
            .groups()
            .into_iter()
            .find(|g| g.kind == statsfs_runtime::GroupKind::Simple && !g.hidden)
        {
            c.push_label(depth, label_of(g.set), s.name());
        }
    }
    c.stack.into_iter().map(|(_, l)| l).collect()
}

/// Encodes the simple values of `root`'s subtree. `prefix` starts every metric name.
pub fn encode(root: &Source, prefix: &str, format: Format, out: &mut Vec<u8>) {
    let mut w = Walk {
        c: Collect {
            base: ancestor_labels(root),
            stack: Vec::new(),
            sets: Vec::new(),
        },
        depth: 0,
    };
    root.walk(WalkOptions::default(), &mut w);
    let mut name = String::new();
    for s in &w.c.sets {
        let descs = s.set.values();
        let n = descs.len();
        for (vi, d) in descs.iter().enumerate() {
            if d.hidden {
                continue;
            }
            name.clear();
            name.push_str(&metric_name(
                prefix,
                s.set.name(),
                &d.name,
                d.kind,
                d.unit.kind,
            ));
            let counter = d.kind == Kind::Cumulative;
            let family = match format {
                Format::OpenMetrics if counter => name.strip_suffix("_total").unwrap_or(&name),
                _ => name.as_str(),
            };
            out.extend_from_slice(b"# HELP ");
            out.extend_from_slice(family.as_bytes());
            out.push(b' ');
            escape_help(if d.doc.is_empty() { &d.name } else { &d.doc }, out);
            out.extend_from_slice(b"\n# TYPE ");
            out.extend_from_slice(family.as_bytes());
            out.extend_from_slice(if counter { b" counter\n" } else { b" gauge\n" });
            if let (Format::OpenMetrics, Some(u)) = (format, unit_word(d.unit.kind)) {
                out.extend_from_slice(b"# UNIT ");
                out.extend_from_slice(family.as_bytes());
                out.push(b' ');
                out.extend_from_slice(u.as_bytes());
                out.push(b'\n');
            }
            let mut start = 0usize;
            for (i, &end) in s.label_ends.iter().enumerate() {
                let labels = &s.labels[start..end as usize];
                start = end as usize;
                out.extend_from_slice(name.as_bytes());
                if !labels.is_empty() {
                    out.push(b'{');
                    out.extend_from_slice(labels.as_bytes());
                    out.push(b'}');
                }
                out.push(b' ');
                write_value(d, s.values[i * n + vi], out);
                out.push(b'\n');
            }
        }
    }
    if format == Format::OpenMetrics {
        out.extend_from_slice(b"# EOF\n");
    }
}
