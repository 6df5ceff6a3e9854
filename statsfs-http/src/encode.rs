//! Prometheus text (0.0.4) and OpenMetrics encoding of a tree's simple values.
//!
//! Series are the simple values only: an aggregate is the sum (min, max...) of series that
//! are already exported, so exporting it too would double-count under PromQL `sum()`.
//!
//! **Labels.** Every source on the path from the registry down to a simple group adds one
//! label valued with the source's name:
//!
//! - a source with a visible simple group: named by that (first) group's set `label`, or
//!   the set's name when it has none (`vm="1234-5"`, `vcpu="vcpu0"`), so
//!   `sum by (vm) (kvm_vcpu_exits_total)` is the tree's per-VM aggregate;
//! - a source with no simple group below a top-level one (a VM directory holding only
//!   aggregates): named after its parent source (`kvm="1234-10"`);
//! - a top-level source with no simple group (`kvm/`, `net/`): named `root`, and only on the
//!   families whose set also appears under another top-level source.
//!
//! Label names are made valid (`[a-zA-Z_][a-zA-Z0-9_]*`, characters outside it become `_`,
//! a leading digit gets a `_` before it, a leading `__` loses one `_`), and a name already
//! used higher on the path gets `_2`, `_3`... If two series of one family would still have
//! the same label set (the same set twice on one source, or label names that swap places
//! along two paths), each of them also gets `path="/kvm/vm0/vcpu0"` (with `#2`, `#3`... for
//! the second and later group of that set on one source). Every simple value is therefore
//! exactly one series, and a `?path=` subtree keeps the labels it has in the whole tree.
//!
//! **Family names** are [`metric_name`]'s. Two families may not share a sample name or an
//! OpenMetrics family name (`exits` as a counter is `x_exits_total`, as is an instant
//! `exits_total`; `wait_ns` and `wait_us` are both `x_wait_seconds`; `a-b` and `a_b` are
//! both `x_a_b`). Families are taken in the order their sets first appear in the tree
//! (walked from the registry root, parents first, groups oldest first) and their values in
//! declaration order; the first keeps its name and a later colliding one gets `_2`, `_3`...
//! before its unit and `_total` suffixes (`x_wait_2_seconds_total`).

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

use statsfs_runtime::naming::metric_name;
use statsfs_runtime::{
    Base, GroupKind, GroupSnapshot, Kind, Source, UnitKind, ValueDesc, ValueSet, Visitor,
    WalkOptions,
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

/// One label on the current path.
struct Level {
    /// Valid, unique on the path (empty for a conditional `root` label).
    name: String,
    /// The source's name, escaped.
    value: String,
}

/// Every instance of one set: labels and values, packed.
struct SetSeries {
    set: &'static ValueSet,
    /// `name="value"` of every label of every entry, back to back.
    labels: String,
    /// End of each label in `labels`.
    label_ends: Vec<u32>,
    /// Per entry: end of its labels in `label_ends`.
    entry_ends: Vec<u32>,
    /// Per entry: its top-level source, when that source labels it only if shared.
    roots: Vec<Option<u32>>,
    /// Per entry: inside the subtree asked for.
    emit: Vec<bool>,
    /// Per entry: its source, and which group of this set on that source it is (1-based).
    origin: Vec<(Source, u32)>,
    values: Vec<u64>,
}

struct Walk {
    /// Sources on the path, with their labels (`None`: the registry root).
    path: Vec<Option<Level>>,
    /// Top-level sources seen, as the conditional `root` labels they give.
    roots: Vec<String>,
    /// The current top-level source's conditional label, if it has one.
    root: Option<u32>,
    /// Depth of the walk's top-level sources (1 under a registry root, else 0).
    top_depth: usize,
    /// The subtree asked for, and the depth at which the walk entered it.
    want: Source,
    inside: Option<usize>,
    /// Groups of each set met on the current source.
    seen: Vec<(&'static ValueSet, u32)>,
    sets: Vec<SetSeries>,
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

/// Appends `v` escaped for HELP text: backslash and newline, and in OpenMetrics the double
/// quote too.
fn escape_help(v: &str, format: Format, out: &mut Vec<u8>) {
    for c in v.chars() {
        match c {
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '"' if format == Format::OpenMetrics => out.extend_from_slice(b"\\\""),
            c => {
                let mut b = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
        }
    }
}

/// The label a source with a simple group of `set` contributes, before it is made valid.
pub(crate) fn label_of(set: &ValueSet) -> &str {
    set.label().unwrap_or(set.name())
}

/// `raw` as a valid label name (see the module docs).
pub(crate) fn label_name(raw: &str) -> String {
    let mut n: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if n.is_empty() || n.starts_with(|c: char| c.is_ascii_digit()) {
        n.insert(0, '_');
    }
    while n.starts_with("__") {
        n.remove(0);
    }
    n
}

/// `base`, or `base_2`, `base_3`... whichever `taken` does not hold first.
fn unique(base: &str, taken: impl Fn(&str) -> bool) -> String {
    if !taken(base) {
        return base.to_owned();
    }
    (2u32..)
        .map(|k| format!("{base}_{k}"))
        .find(|n| !taken(n))
        .unwrap_or_default()
}

fn render(name: &str, value: &str) -> String {
    let mut l = String::with_capacity(name.len() + value.len() + 3);
    l.push_str(name);
    l.push_str("=\"");
    l.push_str(value);
    l.push('"');
    l
}

impl Walk {
    /// The label `source` gives at `depth`, or `None` for the registry root.
    fn level(&mut self, source: &Source, depth: usize) -> Option<Level> {
        if depth < self.top_depth {
            return None;
        }
        let mut value = String::new();
        escape_label(source.name(), &mut value);
        let simple = source
            .groups()
            .into_iter()
            .find(|g| g.kind != GroupKind::Aggregate && !g.hidden);
        let raw = match simple {
            Some(g) => label_name(label_of(g.set)),
            None if depth == self.top_depth => {
                self.roots.push(render("root", &value));
                return Some(Level {
                    name: String::new(),
                    value,
                });
            }
            None => label_name(&source.parent().map_or(String::new(), |p| p.name().into())),
        };
        let name = unique(&raw, |n| self.path.iter().flatten().any(|l| l.name == n));
        Some(Level { name, value })
    }
}

impl Visitor for Walk {
    fn enter(&mut self, source: &Source, depth: usize) -> bool {
        self.path.truncate(depth);
        self.seen.clear();
        let level = self.level(source, depth);
        if depth == self.top_depth {
            self.root = level
                .as_ref()
                .filter(|l| l.name.is_empty())
                .map(|_| self.roots.len() as u32 - 1);
        }
        self.path.push(level);
        if self.inside.is_none() && source.same(&self.want) {
            self.inside = Some(depth);
        }
        true
    }

    fn group(&mut self, source: &Source, g: &GroupSnapshot<'_>) {
        if g.aggregate {
            return;
        }
        let ordinal = match self.seen.iter_mut().find(|(s, _)| ValueSet::same(s, g.set)) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                self.seen.push((g.set, 1));
                1
            }
        };
        let pos = match self.sets.iter().position(|s| ValueSet::same(s.set, g.set)) {
            Some(p) => p,
            None => {
                self.sets.push(SetSeries {
                    set: g.set,
                    labels: String::new(),
                    label_ends: Vec::new(),
                    entry_ends: Vec::new(),
                    roots: Vec::new(),
                    emit: Vec::new(),
                    origin: Vec::new(),
                    values: Vec::new(),
                });
                self.sets.len() - 1
            }
        };
        let s = &mut self.sets[pos];
        for l in self.path.iter().flatten().filter(|l| !l.name.is_empty()) {
            s.labels.push_str(&l.name);
            s.labels.push_str("=\"");
            s.labels.push_str(&l.value);
            s.labels.push('"');
            s.label_ends.push(s.labels.len() as u32);
        }
        s.entry_ends.push(s.label_ends.len() as u32);
        s.roots.push(self.root);
        s.emit.push(self.inside.is_some());
        s.origin.push((source.clone(), ordinal));
        s.values.extend_from_slice(g.values);
    }

    fn leave(&mut self, _: &Source, depth: usize) {
        if self.inside == Some(depth) {
            self.inside = None;
        }
    }
}

/// The source path of `s` below the registry root, `/`-separated with a leading `/`.
fn source_path(s: &Source) -> String {
    let mut names = Vec::new();
    let mut cur = Some(s.clone());
    while let Some(c) = cur {
        if !c.name().is_empty() {
            names.push(c.name().to_owned());
        }
        cur = c.parent();
    }
    names.reverse();
    format!("/{}", names.join("/"))
}

/// The final label text of every entry of `s`, `,`-joined, packed: the conditional `root`
/// label where the set is under several top-level sources, and `path` where label sets
/// would repeat.
fn resolve(s: &SetSeries, roots: &[String]) -> (String, Vec<u32>) {
    let n = s.entry_ends.len();
    let mut distinct_roots = HashSet::new();
    let mut labelled_tops = false;
    for r in &s.roots {
        match r {
            Some(r) => {
                distinct_roots.insert(*r);
            }
            None => labelled_tops = true,
        }
    }
    let shared = distinct_roots.len() + labelled_tops as usize > 1;
    let mut entries: Vec<Vec<String>> = Vec::with_capacity(n);
    let mut start = 0usize;
    for e in 0..n {
        let end = s.entry_ends[e] as usize;
        let mut from = if start == 0 {
            0
        } else {
            s.label_ends[start - 1] as usize
        };
        let mut ls: Vec<String> = Vec::with_capacity(end - start + 1);
        for &le in &s.label_ends[start..end] {
            ls.push(s.labels[from..le as usize].to_owned());
            from = le as usize;
        }
        start = end;
        if let (true, Some(r)) = (shared, s.roots[e]) {
            let root = &roots[r as usize];
            let value = &root["root=".len()..];
            let name = unique("root", |c| ls.iter().any(|l| label_is(l, c)));
            ls.insert(0, format!("{name}={value}"));
        }
        entries.push(ls);
    }
    // Repeated label sets (compared as sets) get `path`.
    let key = |ls: &[String]| {
        let mut v: Vec<&String> = ls.iter().collect();
        v.sort();
        let mut h = std::collections::hash_map::DefaultHasher::new();
        v.hash(&mut h);
        (h.finish(), v.into_iter().cloned().collect::<Vec<_>>())
    };
    let mut groups: HashMap<(u64, Vec<String>), Vec<usize>> = HashMap::new();
    for (e, ls) in entries.iter().enumerate() {
        groups.entry(key(ls)).or_default().push(e);
    }
    for dup in groups.into_values().filter(|g| g.len() > 1) {
        for e in dup {
            let (src, ordinal) = &s.origin[e];
            let mut v = source_path(src);
            if *ordinal > 1 {
                v.push_str(&format!("#{ordinal}"));
            }
            let mut value = String::new();
            escape_label(&v, &mut value);
            let ls = &mut entries[e];
            let name = unique("path", |c| ls.iter().any(|l| label_is(l, c)));
            ls.push(render(&name, &value));
        }
    }
    let mut out = String::with_capacity(s.labels.len() + n);
    let mut ends = Vec::with_capacity(n);
    for ls in entries {
        for (i, l) in ls.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(l);
        }
        ends.push(out.len() as u32);
    }
    (out, ends)
}

/// Whether `label` (`name="value"`) is named `name`.
fn label_is(label: &str, name: &str) -> bool {
    label
        .strip_prefix(name)
        .is_some_and(|rest| rest.starts_with("=\""))
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

/// The metric name of every visible value of `sets` (in that order), disambiguated as the
/// module docs say; `None` for hidden values.
pub(crate) fn family_names<'a>(
    prefix: &str,
    sets: impl IntoIterator<Item = &'a ValueSet>,
) -> Vec<Vec<Option<String>>> {
    let mut taken: HashSet<String> = HashSet::new();
    sets.into_iter()
        .map(|set| {
            set.values()
                .iter()
                .map(|d| {
                    if d.hidden {
                        return None;
                    }
                    let base = metric_name(prefix, set.name(), &d.name, d.kind, d.unit.kind);
                    let counter = d.kind == Kind::Cumulative;
                    let mut suffix_len = if counter { "_total".len() } else { 0 };
                    let unit = match d.unit.kind {
                        UnitKind::Bytes => "_bytes",
                        UnitKind::Seconds => "_seconds",
                        UnitKind::Cycles => "_cycles",
                        UnitKind::None | UnitKind::Boolean => "",
                    };
                    if base[..base.len() - suffix_len].ends_with(unit) {
                        suffix_len += unit.len();
                    }
                    let (stem, suffix) = base.split_at(base.len() - suffix_len);
                    // The sample name and the OpenMetrics family name both must be free.
                    let names = |n: &str| {
                        let family = if counter {
                            n.strip_suffix("_total").unwrap_or(n).to_owned()
                        } else {
                            n.to_owned()
                        };
                        [n.to_owned(), family]
                    };
                    let free = |n: &str| names(n).iter().all(|x| !taken.contains(x));
                    let name = if free(&base) {
                        base.clone()
                    } else {
                        (2u32..)
                            .map(|k| format!("{stem}_{k}{suffix}"))
                            .find(|n| free(n))
                            .unwrap_or_default()
                    };
                    taken.extend(names(&name));
                    Some(name)
                })
                .collect()
        })
        .collect()
}

/// The top of `source`'s tree (the registry root when it is registered).
fn top_of(source: &Source) -> Source {
    let mut top = source.clone();
    while let Some(p) = top.parent() {
        top = p;
    }
    top
}

/// Walks the whole tree `root` belongs to, so names and labels are those of the whole tree.
fn collect(root: &Source) -> Walk {
    let top = top_of(root);
    let mut w = Walk {
        path: Vec::new(),
        roots: Vec::new(),
        root: None,
        // The registry root has no name: its children are the top-level sources.
        top_depth: usize::from(top.name().is_empty()),
        want: root.clone(),
        inside: None,
        seen: Vec::new(),
        sets: Vec::new(),
    };
    top.walk(WalkOptions::default(), &mut w);
    w
}

/// The sets with series in `root`'s tree, in the order families are named.
pub(crate) fn series_sets(root: &Source) -> Vec<&'static ValueSet> {
    collect(root).sets.iter().map(|s| s.set).collect()
}

/// Encodes the simple values of `root`'s subtree. `prefix` starts every metric name.
pub fn encode(root: &Source, prefix: &str, format: Format, out: &mut Vec<u8>) {
    let w = collect(root);
    let names = family_names(prefix, w.sets.iter().map(|s| s.set));
    for (s, names) in w.sets.iter().zip(names) {
        if !s.emit.iter().any(|e| *e) {
            continue;
        }
        let (labels, ends) = resolve(s, &w.roots);
        let descs = s.set.values();
        let n = descs.len();
        for ((vi, d), name) in descs.iter().enumerate().zip(names) {
            let Some(name) = name else { continue };
            let counter = d.kind == Kind::Cumulative;
            let family = match format {
                Format::OpenMetrics if counter => name.strip_suffix("_total").unwrap_or(&name),
                _ => name.as_str(),
            };
            out.extend_from_slice(b"# HELP ");
            out.extend_from_slice(family.as_bytes());
            out.push(b' ');
            escape_help(if d.doc.is_empty() { &d.name } else { &d.doc }, format, out);
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
            for (i, &end) in ends.iter().enumerate() {
                let l = &labels[start..end as usize];
                start = end as usize;
                if !s.emit[i] {
                    continue;
                }
                out.extend_from_slice(name.as_bytes());
                if !l.is_empty() {
                    out.push(b'{');
                    out.extend_from_slice(l.as_bytes());
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
