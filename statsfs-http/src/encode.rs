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

use std::collections::hash_map::Entry as Slot;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

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

/// The label a source on the current path adds to its series.
///
/// A source's label depends on its first visible simple group, which the walk shows only
/// after entering it: the label is decided at that group, or at the source's first child
/// when it has none. That spares asking every source for its groups (a second lock and a
/// `Vec` per source).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LevelLabel {
    /// Not decided yet.
    Pending,
    /// None: the registry root, or a top-level source without a simple group (whose label
    /// is the conditional `root` one, added only where a family needs it).
    None,
    /// `Walk::text[start..Level::text_end]` is `name="value"`, its name ending at `name_end`.
    Some { start: u32, name_end: u32 },
}

/// One source on the current path.
#[derive(Clone, Copy, Debug)]
struct Level {
    /// End of its source path in `Walk::names` (its own name follows the parent's end and a `/`).
    name_end: u32,
    label: LevelLabel,
    /// End of the path's labels in `Walk::text`, once the label is decided.
    text_end: u32,
    /// Sum of the hashes of the path's labels, once decided: see [`Entry::hash`].
    hash: u64,
}

/// One group of a set on one source: one series per visible value.
#[derive(Clone, Copy, Debug)]
struct Entry {
    /// End of its labels in `SetSeries::labels`.
    end: u32,
    /// Sum of its labels' hashes. A sum does not depend on the labels' order, so entries
    /// with the same label set have the same sum: repeated label sets are found by looking
    /// up numbers, and only equal sums are compared label by label.
    hash: u64,
    /// Its top-level source, when that source labels it only if shared.
    root: Option<u32>,
    /// Inside the subtree asked for.
    emit: bool,
    /// Its source, as an index into `Walk::path_ends`.
    source: u32,
    /// Which group of this set on that source it is (1-based).
    ordinal: u32,
}

/// Every instance of one set: labels and values, packed, so collecting a large tree
/// allocates nothing per group or value.
struct SetSeries {
    set: &'static ValueSet,
    /// The labels of every entry (`name="value"`, `,`-joined), back to back.
    labels: String,
    entries: Vec<Entry>,
    /// `set.values().len()` carriers per entry.
    values: Vec<u64>,
}

/// One walk of the whole tree: the current path, and every set's entries so far.
struct Walk {
    /// Sources on the current path, the registry root included.
    path: Vec<Level>,
    /// The current path's source path, `/kvm/vm0/vcpu0` (the registry root adds nothing).
    names: String,
    /// The current path's labels, `,`-joined: copied as is into every entry collected.
    text: String,
    /// Top-level sources that label their series only if shared: their names, escaped.
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
    /// Source paths of the sources with simple groups, back to back (`path` labels need them
    /// only where label sets repeat, which is known only once the walk is done).
    paths: String,
    path_ends: Vec<u32>,
    sets: Vec<SetSeries>,
}

/// Appends `v` escaped for a label value (backslash, double quote, newline).
fn escape_label(v: &str, out: &mut String) {
    let mut rest = v;
    while let Some(i) = rest.bytes().position(|b| matches!(b, b'\\' | b'"' | b'\n')) {
        out.push_str(&rest[..i]);
        out.push_str(match rest.as_bytes()[i] {
            b'\\' => "\\\\",
            b'"' => "\\\"",
            _ => "\\n",
        });
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
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

/// Appends `raw` as a valid label name (see the module docs).
fn push_label_name(raw: &str, out: &mut String) {
    let valid = raw.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
        && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if valid {
        return out.push_str(raw);
    }
    let mut chars = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' });
    match chars.next() {
        None => out.push('_'),
        Some(c) if c.is_ascii_digit() => {
            out.push('_');
            out.push(c);
        }
        // A leading `__` is reserved: a leading run of `_` keeps one.
        Some('_') => {
            out.push('_');
            out.extend(chars.skip_while(|c| *c == '_'));
            return;
        }
        Some(c) => out.push(c),
    }
    out.extend(chars);
}

/// The suffix that makes `base` free: 0 when `base` itself is, else the first `k >= 2` with
/// `base_k` free.
fn free_suffix(base: &str, taken: impl Fn(&str) -> bool) -> u32 {
    if !taken(base) {
        return 0;
    }
    let mut n = String::with_capacity(base.len() + 4);
    (2u32..)
        .find(|k| {
            n.clear();
            n.push_str(base);
            n.push('_');
            n.push_str(itoa::Buffer::new().format(*k));
            !taken(&n)
        })
        .unwrap_or_default()
}

/// Appends the suffix [`free_suffix`] chose.
fn push_suffix(suffix: u32, out: &mut String) {
    if suffix > 0 {
        out.push('_');
        out.push_str(itoa::Buffer::new().format(suffix));
    }
}

/// FNV-1a, continued from `h` over `bytes`.
fn fnv1a(h: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(h, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The hash of one label: only ever compared through sums that are checked label by label
/// when equal, so a fast hash is enough.
fn label_hash(label: &str) -> u64 {
    fnv1a(0xcbf2_9ce4_8422_2325, label.as_bytes())
}

/// Hashes a key that already is a hash (a sum of [`label_hash`]es) as itself, so looking up
/// an entry's label set costs no second hash.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0 = fnv1a(self.0, bytes);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The labels of `,`-joined `name="value"` text, one by one. Names hold no `"`, and a `"` in
/// a value is always escaped, so the first unescaped `"` after the opening one closes it.
fn split_labels(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let open = rest.find('"')?;
        let b = rest.as_bytes();
        let mut i = open + 1;
        while i < b.len() && b[i] != b'"' {
            i += if b[i] == b'\\' { 2 } else { 1 };
        }
        let (label, r) = rest.split_at((i + 1).min(b.len()));
        rest = r.strip_prefix(',').unwrap_or(r);
        Some(label)
    })
}

/// Whether `label` (`name="value"`) is named `name`.
fn label_is(label: &str, name: &str) -> bool {
    label
        .strip_prefix(name)
        .is_some_and(|rest| rest.starts_with("=\""))
}

impl Walk {
    /// Decides the label of the source at `depth` on the path, `simple` being the set of its
    /// first visible simple group (`None`: it has none).
    fn decide(&mut self, depth: usize, simple: Option<&ValueSet>) {
        let (parent_text, parent_hash, own_start) = match depth.checked_sub(1) {
            Some(p) => {
                let p = &self.path[p];
                (p.text_end, p.hash, p.name_end as usize)
            }
            None => (0, 0, 0),
        };
        self.text.truncate(parent_text as usize);
        let own = &self.names[own_start..self.path[depth].name_end as usize];
        let own = own.strip_prefix('/').unwrap_or(own);
        let level = &mut self.path[depth];
        level.text_end = parent_text;
        level.hash = parent_hash;
        level.label = LevelLabel::None;
        if depth < self.top_depth {
            return;
        }
        if !self.text.is_empty() {
            self.text.push(',');
        }
        let start = self.text.len();
        match simple {
            Some(set) => push_label_name(label_of(set), &mut self.text),
            None if depth == self.top_depth => {
                let mut value = String::new();
                escape_label(own, &mut value);
                self.roots.push(value);
                self.root = Some(self.roots.len() as u32 - 1);
                self.text.truncate(parent_text as usize);
                return;
            }
            None => {
                // Named after the parent source.
                let grand_end = depth
                    .checked_sub(2)
                    .map_or(0, |g| self.path[g].name_end as usize);
                let parent = &self.names[grand_end..own_start];
                push_label_name(parent.strip_prefix('/').unwrap_or(parent), &mut self.text);
            }
        }
        // A name already used higher on the path gets `_2`, `_3`...
        let (path, text) = (&self.path[..depth], &self.text);
        let suffix = free_suffix(&text[start..], |n| {
            path.iter().any(|l| match l.label {
                LevelLabel::Some { start, name_end } => {
                    &text[start as usize..name_end as usize] == n
                }
                _ => false,
            })
        });
        push_suffix(suffix, &mut self.text);
        let name_end = self.text.len() as u32;
        self.text.push_str("=\"");
        escape_label(own, &mut self.text);
        self.text.push('"');
        let level = &mut self.path[depth];
        level.label = LevelLabel::Some {
            start: start as u32,
            name_end,
        };
        level.text_end = self.text.len() as u32;
        level.hash = parent_hash.wrapping_add(label_hash(&self.text[start..]));
    }
}

impl Visitor for Walk {
    fn enter(&mut self, source: &Source, depth: usize) -> bool {
        if let Some(parent) = depth.checked_sub(1) {
            if self.path[parent].label == LevelLabel::Pending {
                self.decide(parent, None);
            }
        }
        self.path.truncate(depth);
        self.seen.clear();
        let parent_end = depth.checked_sub(1).map_or(0, |p| self.path[p].name_end);
        self.names.truncate(parent_end as usize);
        if !source.name().is_empty() {
            self.names.push('/');
            self.names.push_str(source.name());
        }
        self.path.push(Level {
            name_end: self.names.len() as u32,
            label: LevelLabel::Pending,
            text_end: 0,
            hash: 0,
        });
        if depth == self.top_depth {
            self.root = None;
        }
        if depth < self.top_depth {
            self.decide(depth, None);
        }
        if self.inside.is_none() && source.same(&self.want) {
            self.inside = Some(depth);
        }
        true
    }

    fn group(&mut self, _: &Source, g: &GroupSnapshot<'_>) {
        if g.aggregate {
            return;
        }
        let depth = self.path.len() - 1;
        if self.path[depth].label == LevelLabel::Pending {
            self.decide(depth, Some(g.set));
        }
        if self.seen.is_empty() {
            // The source's first simple group: keep its path, in case a label set repeats.
            let end = self.path[depth].name_end as usize;
            self.paths.push_str(&self.names[..end]);
            self.path_ends.push(self.paths.len() as u32);
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
                    entries: Vec::new(),
                    values: Vec::new(),
                });
                self.sets.len() - 1
            }
        };
        let level = self.path[depth];
        let s = &mut self.sets[pos];
        s.labels.push_str(&self.text[..level.text_end as usize]);
        s.entries.push(Entry {
            end: s.labels.len() as u32,
            hash: level.hash,
            root: self.root,
            emit: self.inside.is_some(),
            source: self.path_ends.len() as u32 - 1,
            ordinal,
        });
        s.values.extend_from_slice(g.values);
    }

    fn leave(&mut self, _: &Source, depth: usize) {
        if self.inside == Some(depth) {
            self.inside = None;
        }
    }
}

/// The series of one set inside the subtree asked for, ready to write: per entry, what
/// follows every metric name up to the value. Built once per set, so writing a family is
/// two copies and a number per series.
struct Rows {
    /// `{labels} ` (` ` without labels) of every entry inside the subtree, back to back.
    text: String,
    /// Per row: end of its text.
    ends: Vec<u32>,
    /// Per row: its entry (its values' row in `SetSeries::values`).
    entries: Vec<u32>,
}

impl Walk {
    /// The source path of `source` (an [`Entry::source`]), `/` for the registry root.
    fn source_path(&self, source: u32) -> &str {
        let start = match source.checked_sub(1) {
            Some(p) => self.path_ends[p as usize] as usize,
            None => 0,
        };
        let p = &self.paths[start..self.path_ends[source as usize] as usize];
        if p.is_empty() {
            "/"
        } else {
            p
        }
    }

    /// The rows of `s`: each entry's collected labels, plus the conditional `root` label
    /// where the set is under several top-level sources, and `path` where label sets would
    /// repeat (across the whole tree, not only the subtree asked for).
    fn rows(&self, s: &SetSeries) -> Rows {
        let own = |e: usize| {
            let start = e.checked_sub(1).map_or(0, |p| s.entries[p].end as usize);
            &s.labels[start..s.entries[e].end as usize]
        };
        let shared = s.entries.windows(2).any(|w| w[0].root != w[1].root);
        // Per entry: the suffix of its `root` label name, when it has one.
        let roots: Vec<Option<u32>> = s
            .entries
            .iter()
            .enumerate()
            .map(|(e, entry)| {
                let _ = entry.root.filter(|_| shared)?;
                Some(free_suffix("root", |n| {
                    split_labels(own(e)).any(|l| label_is(l, n))
                }))
            })
            .collect();
        let mut scratch = String::new();
        let root_label = |e: usize, out: &mut String| {
            if let (Some(r), Some(k)) = (s.entries[e].root, roots[e]) {
                out.push_str("root");
                push_suffix(k, out);
                out.push('=');
                out.push('"');
                out.push_str(&self.roots[r as usize]);
                out.push('"');
            }
        };
        // Repeated label sets (compared as sets) get `path`. Equal sets have equal hash
        // sums, so only entries whose sum another entry has too are compared label by label.
        let mut first: HashMap<u64, u32, BuildHasherDefault<Prehashed>> =
            HashMap::with_capacity_and_hasher(s.entries.len(), Default::default());
        let mut clashes: Vec<(u64, u32)> = Vec::new();
        for (e, entry) in s.entries.iter().enumerate() {
            scratch.clear();
            root_label(e, &mut scratch);
            let root_hash = if scratch.is_empty() {
                0
            } else {
                label_hash(&scratch)
            };
            let key = entry.hash.wrapping_add(root_hash);
            match first.entry(key) {
                Slot::Occupied(f) => clashes.extend([(key, *f.get()), (key, e as u32)]),
                Slot::Vacant(v) => {
                    v.insert(e as u32);
                }
            }
        }
        clashes.sort_unstable();
        clashes.dedup();
        let mut dup = vec![false; s.entries.len()];
        for run in clashes.chunk_by(|a, b| a.0 == b.0) {
            let mut sets: Vec<(Vec<String>, u32)> = run
                .iter()
                .map(|&(_, e)| {
                    let mut root = String::new();
                    root_label(e as usize, &mut root);
                    let mut ls: Vec<String> =
                        split_labels(own(e as usize)).map(str::to_owned).collect();
                    if !root.is_empty() {
                        ls.push(root);
                    }
                    ls.sort();
                    (ls, e)
                })
                .collect();
            sets.sort();
            for same in sets.chunk_by(|a, b| a.0 == b.0).filter(|r| r.len() > 1) {
                for (_, e) in same {
                    dup[*e as usize] = true;
                }
            }
        }
        let mut rows = Rows {
            text: String::with_capacity(s.labels.len() + 3 * s.entries.len()),
            ends: Vec::with_capacity(s.entries.len()),
            entries: Vec::with_capacity(s.entries.len()),
        };
        let text = &mut rows.text;
        for (e, entry) in s.entries.iter().enumerate().filter(|(_, e)| e.emit) {
            text.push('{');
            let start = text.len();
            root_label(e, text);
            let labels = own(e);
            if !labels.is_empty() {
                if text.len() > start {
                    text.push(',');
                }
                text.push_str(labels);
            }
            if dup[e] {
                if text.len() > start {
                    text.push(',');
                }
                let k = free_suffix("path", |n| split_labels(labels).any(|l| label_is(l, n)));
                text.push_str("path");
                push_suffix(k, text);
                text.push_str("=\"");
                escape_label(self.source_path(entry.source), text);
                if entry.ordinal > 1 {
                    text.push('#');
                    text.push_str(itoa::Buffer::new().format(entry.ordinal));
                }
                text.push('"');
            }
            if text.len() == start {
                text.pop();
                text.push(' ');
            } else {
                text.push_str("} ");
            }
            rows.ends.push(text.len() as u32);
            rows.entries.push(e as u32);
        }
        rows
    }
}

/// How the samples of one value are written: always exactly. A value `v` means
/// `v × base^exponent`; a scale up is an integer, and a scale down is a terminating decimal
/// (`v / 10^k`, or `v / 2^k = v·5^k / 10^k`), printed in full from integers, never through
/// f64: 1 ns is `0.000000001`, 1547881353 ns `1.547881353`, where f64 would print
/// `1e-9` and `1.5478813530000002`. Go's `ParseFloat`, which Prometheus reads samples
/// with, takes any number of digits. Worked out once per family rather than per sample.
#[derive(Clone, Copy, Debug)]
struct Number {
    signed: bool,
    /// The integer factor: `base^exponent` for a scale up, `5^k` for a base-2 scale down,
    /// else 1.
    factor: u128,
    /// Decimal places: the `k` of a scale down, else 0.
    places: u32,
    /// The factor did not fit (an exponent outside the schema's −18..=18): f64 instead.
    inexact: Option<f64>,
}

impl Number {
    fn of(desc: &ValueDesc) -> Number {
        let base: u128 = if desc.unit.base == Base::Pow2 { 2 } else { 10 };
        let e = desc.unit.exponent;
        let k = u32::from(e.unsigned_abs());
        let (factor, places) = match (e >= 0, base) {
            (true, _) => (base.checked_pow(k), 0),
            (false, 2) => (5u128.checked_pow(k), k),
            (false, _) => (Some(1), k),
        };
        // |v| <= 2^64 and a factor below 2^63: the product fits u128.
        let factor = factor.filter(|f| *f < 1 << 63);
        Number {
            signed: desc.ty.is_signed(),
            factor: factor.unwrap_or(1),
            places,
            inexact: factor.is_none().then(|| (base as f64).powi(i32::from(e))),
        }
    }

    fn write(self, v: u64, out: &mut Vec<u8>) {
        let mut b = itoa::Buffer::new();
        // Most values are unscaled: 64-bit formatting is much cheaper than 128-bit.
        if self.factor == 1 && self.places == 0 && self.inexact.is_none() {
            return out.extend_from_slice(if self.signed {
                b.format(v as i64).as_bytes()
            } else {
                b.format(v).as_bytes()
            });
        }
        let (negative, magnitude) = if self.signed {
            ((v as i64) < 0, (v as i64).unsigned_abs())
        } else {
            (false, v)
        };
        if let Some(f) = self.inexact {
            let x = if self.signed {
                v as i64 as f64
            } else {
                v as f64
            };
            return out.extend_from_slice(ryu::Buffer::new().format(x * f).as_bytes());
        }
        let digits = if self.factor == 1 {
            b.format(magnitude).as_bytes()
        } else {
            b.format(u128::from(magnitude) * self.factor).as_bytes()
        };
        if digits == b"0" {
            return out.push(b'0');
        }
        if negative {
            out.push(b'-');
        }
        let places = self.places as usize;
        if places == 0 {
            return out.extend_from_slice(digits);
        }
        let (int, frac) = digits.split_at(digits.len().saturating_sub(places));
        if int.is_empty() {
            out.push(b'0');
        } else {
            out.extend_from_slice(int);
        }
        let Some(last) = frac.iter().rposition(|&d| d != b'0') else {
            return;
        };
        out.push(b'.');
        out.extend(std::iter::repeat_n(b'0', places - frac.len()));
        out.extend_from_slice(&frac[..=last]);
    }
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
        names: String::new(),
        text: String::new(),
        roots: Vec::new(),
        root: None,
        // The registry root has no name: its children are the top-level sources.
        top_depth: usize::from(top.name().is_empty()),
        want: root.clone(),
        inside: None,
        seen: Vec::new(),
        paths: String::new(),
        path_ends: Vec::new(),
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
        if !s.entries.iter().any(|e| e.emit) {
            continue;
        }
        let rows = w.rows(s);
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
            let number = Number::of(d);
            // Room for every line: a number takes at most a sign, 39 digits (a u128), a
            // `.` and the zeros before its first decimal digit.
            let room = name.len() + 42 + number.places as usize;
            out.reserve(rows.text.len() + rows.ends.len() * room);
            let mut start = 0usize;
            for (&end, &e) in rows.ends.iter().zip(&rows.entries) {
                out.extend_from_slice(name.as_bytes());
                out.extend_from_slice(&rows.text.as_bytes()[start..end as usize]);
                start = end as usize;
                number.write(s.values[e as usize * n + vi], out);
                out.push(b'\n');
            }
        }
    }
    if format == Format::OpenMetrics {
        out.extend_from_slice(b"# EOF\n");
    }
}
