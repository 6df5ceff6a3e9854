//! Checking: the rules a schema read by [`crate::read`] must follow, and the defaults that
//! depend on other keys. Names must be valid file, label and Rust names; keys must agree
//! with each other (an aggregation with the type, a storage with the type, a scale with
//! the unit...); nothing may be declared twice or collide once generated. The rules
//! shared with the derive are the runtime's ([`statsfs_runtime::rules`]).

use std::collections::{HashMap, HashSet};

use statsfs_runtime::{rules, validate_name, Base, Kind, ValueType};

use crate::diag::Problems;
use crate::read::{Key, RawHistogram, RawSchema, RawSet, RawShow, RawValue, Sp};
use crate::rust::{field_ident, show_fn_ident};
use crate::schema::{Histogram, Schema, Set, Show, Storage, Value};

/// The format version this generator reads.
pub const VERSION: u32 = 1;

/// Names of Rust's primitive types, which the generated fields use unqualified.
const PRIMITIVES: &[&str] = &[
    "bool", "char", "str", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64",
    "i128", "isize", "f32", "f64",
];

/// Checks a schema as read: the schema if it holds, every problem reported to `out`.
pub(crate) fn check(raw: RawSchema, out: &mut Problems<'_>) -> Option<Schema> {
    Checker { out }.schema(raw)
}

struct Checker<'p, 's> {
    out: &'p mut Problems<'s>,
}

impl Checker<'_, '_> {
    fn schema(&mut self, raw: RawSchema) -> Option<Schema> {
        if let Some((v, span)) = raw.version.filter(|v| v.0 != VERSION as i64) {
            self.out.error(
                span,
                format!("unsupported version {v}"),
                format!("this statsfs-gen reads version {VERSION}"),
            );
        }
        let name = self.name(raw.name, "schema name");
        let mut sets: Vec<Set> = Vec::new();
        // Where each set name and struct name was first written: linear in the set count.
        let mut set_names: HashMap<String, usize> = HashMap::new();
        let mut struct_names: HashMap<String, usize> = HashMap::new();
        for raw_set in raw.sets {
            let rust_span = raw_set.rust_span.clone();
            let Some(set) = self.set(raw_set) else {
                continue;
            };
            let same_name = set_names.get(&set.name).copied();
            if let Some(first) = same_name {
                let msg = format!("two sets named `{}`", set.name);
                let first = self.out.line_of(first);
                self.out.error(
                    set.span.clone(),
                    msg,
                    format!("the first is on line {first}"),
                );
            }
            // Two sets of the same name also derive the same struct name: one error is enough.
            let derived_twice = same_name.is_some() && rust_span.is_none();
            if let Some(&first) = struct_names.get(&set.rust_name).filter(|_| !derived_twice) {
                let msg = format!("two sets generate the struct `{}`", set.rust_name);
                let first = self.out.line_of(first);
                match rust_span {
                    Some(span) => {
                        self.out
                            .error(span, msg, format!("the first is on line {first}"))
                    }
                    None => self.out.error(
                        set.span.clone(),
                        msg,
                        format!("the first is on line {first}; set `rust` to another name"),
                    ),
                }
            }
            set_names.entry(set.name.clone()).or_insert(set.span.start);
            struct_names
                .entry(set.rust_name.clone())
                .or_insert(set.span.start);
            sets.push(set);
        }
        self.show_fn_collisions(&sets);
        Some(Schema {
            version: VERSION,
            name: name?.0,
            doc: raw.doc,
            sets,
        })
    }

    fn set(&mut self, raw: RawSet) -> Option<Set> {
        // Without a valid name the set is still checked to the end, so its other errors are reported.
        let name = self.name(raw.name, "set name");
        let rust_name = match raw.rust {
            Some((r, rspan)) => {
                if syn::parse_str::<syn::Ident>(&r).is_err() {
                    self.out.error(
                        rspan,
                        format!("`{r}` is not a Rust identifier"),
                        "the generated struct's name",
                    );
                } else if PRIMITIVES.contains(&r.as_str()) {
                    self.out.error(
                        rspan,
                        format!("`{r}` would shadow the primitive type the generated fields use"),
                        "the generated struct's name",
                    );
                }
                r
            }
            None => {
                let r = camel(name.as_ref().map_or("", |n| n.0.as_str())) + "Stats";
                if let (Some((n, nspan)), Err(_)) = (&name, syn::parse_str::<syn::Ident>(&r)) {
                    self.out.error(
                        nspan.clone(),
                        format!("set `{n}` would generate the struct `{r}`, which is not a Rust identifier"),
                        "set `rust` to the struct's name",
                    );
                }
                r
            }
        };
        let in_set = name
            .as_ref()
            .map_or("this set".to_owned(), |n| format!("set `{}`", n.0));
        match &raw.label {
            Some((l, lspan)) => {
                if let Some(reason) = name_problem(l) {
                    self.out
                        .error(lspan.clone(), format!("invalid label {l:?}"), reason);
                } else if let Some(msg) = rules::label_name(l, true) {
                    self.out.error(lspan.clone(), "invalid label", msg);
                }
            }
            None => {
                if let Some((n, nspan)) = name.as_ref().filter(|n| {
                    name_problem(&n.0).is_none() && rules::declared_name(&n.0).is_none()
                }) {
                    if let Some(msg) = rules::label_name(n, false) {
                        self.out
                            .error(nspan.clone(), "the set needs a `label`", msg);
                    }
                }
            }
        }
        let mut values: Vec<Value> = Vec::new();
        let mut names: HashMap<String, usize> = HashMap::new();
        for v in raw.values {
            // Duplicates are found from the name as written, so a value with other errors still counts.
            if let Some((vname, vspan)) = &v.name {
                if let Some(first) = names.get(vname) {
                    let msg = format!("two values named `{vname}` in {in_set}");
                    let label = format!("the first is on line {}", self.out.line_of(*first));
                    self.out.error(vspan.clone(), msg, label);
                } else {
                    names.insert(vname.clone(), vspan.start);
                }
            }
            if let Some(value) = self.value(v) {
                values.push(value);
            }
        }
        let (name, span) = name?;
        self.value_collisions(&name, &values);
        Some(Set {
            name,
            span,
            rust_name,
            label: raw.label.map(|l| l.0),
            path: raw.path,
            doc: raw.doc,
            values,
        })
    }

    fn value(&mut self, raw: RawValue) -> Option<Value> {
        let name = self.name(raw.name, "value name");
        let (ty, aggregation, kind, unit) = (raw.ty, raw.aggregation, raw.kind, raw.unit);
        // The default storage fits the type: statsfs's u64 counters, or a std atomic.
        let storage = match raw.storage {
            Key::Given(s) => Some(s),
            Key::Unreadable => None,
            Key::Absent => {
                let default = match (ty.as_ref().map(|t| t.0), kind.as_ref().map(|k| k.0)) {
                    (Some(ValueType::U64), Some(Kind::Instant)) => Storage::Gauge,
                    (Some(ValueType::U64), Some(Kind::Peak)) => Storage::Peak,
                    (Some(ValueType::U64), _) => Storage::Counter,
                    _ => Storage::Atomic,
                };
                Some((default, raw.span.clone()))
            }
        };
        // A value with a missing or unknown key is still checked to the end, so its other
        // errors are reported; each rule between keys runs once the keys it needs are known.
        let who = name
            .as_ref()
            .map_or("this value".to_owned(), |n| format!("`{}`", n.0));

        if let (Some(ty), Some(aggregation)) = (&ty, &aggregation) {
            if let Some(msg) = rules::aggregation_for_type(ty.0, aggregation.0) {
                self.out.error(
                    aggregation.1.clone(),
                    msg,
                    format!("{who} is {}", ty.0.as_str()),
                );
            }
        }
        if let (Some(ty), Some(storage)) = (&ty, &storage) {
            let u64_only = matches!(
                storage.0,
                Storage::Counter | Storage::Local | Storage::Gauge | Storage::Peak
            );
            if u64_only && ty.0 != ValueType::U64 {
                let label = format!("{who} is {}: use `atomic` or `plain`", ty.0.as_str());
                self.out.error(
                    storage.1.clone(),
                    format!("storage `{}` holds a u64", word(Storage::WORDS, storage.0)),
                    label,
                );
            }
        }
        let base = raw.base;
        let exponent = match raw.exponent {
            Some((e, s)) => match rules::exponent(e) {
                None => Some((e as i16, s)),
                Some(msg) => {
                    let (lo, hi) = (rules::EXPONENT_RANGE.start(), rules::EXPONENT_RANGE.end());
                    self.out
                        .error(s, msg, format!("the scale is base^exponent, {lo}..={hi}"));
                    None
                }
            },
            None => None,
        };
        if let (Some(ty), Some(unit)) = (&ty, &unit) {
            if let Some(msg) = rules::unit_for_type(ty.0, unit.0) {
                self.out
                    .error(unit.1.clone(), msg, format!("{who} is {}", ty.0.as_str()));
            }
        }
        if let Some(unit) = &unit {
            for (what, given) in [
                ("base", base.as_ref().map(|b| b.1.clone())),
                ("exponent", exponent.as_ref().map(|e| e.1.clone())),
            ] {
                if let (Some(span), Some(msg)) = (given, rules::scale_for_unit(unit.0, what)) {
                    self.out
                        .error(span, msg, format!("the unit is {}", unit.0.as_str()));
                }
            }
        }
        let clearable = match raw.clearable {
            Some((true, s)) => {
                if let Some((msg, k)) = kind
                    .as_ref()
                    .and_then(|k| Some((rules::clearable_kind(k.0)?, k.0)))
                {
                    self.out
                        .error(s.clone(), msg, format!("{who} is {}", k.as_str()));
                } else if storage.as_ref().is_some_and(|st| !st.0.can_clear()) {
                    self.out.error(
                        s,
                        "a plain integer cannot be cleared",
                        "use storage `counter`, `local` or `atomic`",
                    );
                }
                true
            }
            Some((false, _)) => false,
            None => {
                kind.as_ref().is_some_and(|k| k.0 != Kind::Instant)
                    && storage.as_ref().is_some_and(|st| st.0.can_clear())
            }
        };
        let show = raw
            .show
            .and_then(|s| self.show(s, ty.as_ref().map(|t| t.0), &who));
        let histogram = raw.histogram.and_then(|h| self.histogram(h));
        let (ty, aggregation, kind, unit, storage) = (ty?, aggregation?, kind?, unit?, storage?);
        let (name, span) = name?;
        Some(Value {
            name,
            span,
            ty: ty.0,
            storage: storage.0,
            aggregation: aggregation.0,
            kind: kind.0,
            unit: unit.0,
            base: base.map_or(Base::Pow10, |b| b.0),
            exponent: exponent.map_or(0, |e| e.0),
            clearable,
            hidden: raw.hidden,
            doc: raw.doc,
            show,
            histogram,
            optional: raw.optional,
        })
    }

    /// `ty` is `None` when the value's type is missing or unknown (already reported).
    fn show(&mut self, raw: RawShow, ty: Option<ValueType>, who: &str) -> Option<Show> {
        let (span, entries) = match raw {
            RawShow::Path(p) => return Some(Show::Path(p)),
            RawShow::Map(span, entries) => (span, entries),
        };
        if ty == Some(ValueType::Bool) {
            self.out.error(
                span,
                "a show map needs an integer value",
                format!("{who} is bool"),
            );
            return None;
        }
        // The largest number an unsigned type holds: a greater key could never show.
        let max = ty
            .filter(|t| !t.is_signed())
            .and_then(|t| t.width())
            .map(|w| u64::MAX >> (64 - 8 * w as u32));
        let mut out: Vec<(u64, String)> = Vec::new();
        let mut seen: HashMap<u64, String> = HashMap::new();
        for e in entries {
            let (n, (written, kspan)) = (e.number, e.key);
            // TOML keys are text: `1` and `01` are two keys but one number.
            if let Some(first) = seen.get(&n) {
                let label = format!("the same number as `{first}`");
                self.out
                    .error(kspan, format!("show map key {n} given twice"), label);
                continue;
            }
            seen.insert(n, written);
            if let (Some(max), Some(t)) = (max, ty) {
                if n > max {
                    self.out.error(
                        kspan,
                        format!("show map key {n} is more than a {} holds", t.as_str()),
                        format!("at most {max}"),
                    );
                    continue;
                }
            }
            if let Some(text) = e.text {
                out.push((n, text));
            }
        }
        out.sort();
        Some(Show::Map(out))
    }

    fn histogram(&mut self, raw: RawHistogram) -> Option<Histogram> {
        let RawHistogram {
            span,
            log,
            buckets,
            bucket_size,
        } = raw;
        let log = log.map(|l| l.0);
        if let Some((n, s)) = &buckets {
            if !(1..=4096).contains(n) {
                self.out.error(
                    s.clone(),
                    "`buckets` must be between 1 and 4096",
                    format!("found {n}"),
                );
            }
        }
        match (&bucket_size, log) {
            (Some((_, s)), Some(true)) => self.out.error(
                s.clone(),
                "a log histogram has no `bucket_size`",
                "buckets are powers of two",
            ),
            (None, Some(false)) => self.out.error(
                span,
                "a linear histogram needs `bucket_size`",
                "add `bucket_size = N`",
            ),
            (Some((n, s)), _) if !(1..=u32::MAX as i64).contains(n) => self.out.error(
                s.clone(),
                format!("`bucket_size` must be between 1 and {}", u32::MAX),
                format!("found {n}"),
            ),
            _ => {}
        }
        Some(Histogram {
            log: log?,
            buckets: buckets?.0.clamp(0, 4096) as u32,
            bucket_size: bucket_size.map_or(0, |b| b.0.clamp(0, u32::MAX as i64) as u32),
        })
    }

    /// A schema, set or value name: a valid file name the runtime may declare.
    fn name(&mut self, name: Option<Sp<String>>, what: &str) -> Option<Sp<String>> {
        let (s, span) = name?;
        if let Some(reason) = name_problem(&s).or_else(|| rules::declared_name(&s)) {
            self.out
                .error(span.clone(), format!("invalid {what} {s:?}"), reason);
        }
        Some((s, span))
    }

    /// Values of one set that the backends would export under one metric name, or that
    /// become one Rust field: both are found in one pass each (a set may hold 100k values).
    fn value_collisions(&mut self, set: &str, values: &[Value]) {
        // A name given twice is reported as such, not again as a collision.
        let mut names = HashSet::new();
        let values: Vec<&Value> = values.iter().filter(|v| names.insert(&v.name)).collect();
        let exported: Vec<&Value> = values.iter().copied().filter(|v| !v.hidden).collect();
        // A histogram would be exported as a gauge of buckets: no `_total`. Messages name
        // the metric as the docs do (the default namespace).
        let collisions = rules::metric_collisions(
            statsfs_runtime::naming::DEFAULT_NAMESPACE,
            set,
            exported.iter().map(|v| {
                let kind = if v.histogram.is_some() {
                    Kind::Instant
                } else {
                    v.kind
                };
                (v.name.as_str(), kind, v.unit)
            }),
        );
        let mut reported = HashSet::new();
        for c in collisions {
            let (first, second) = (exported[c.first], exported[c.second]);
            let label = format!(
                "the first is on line {}; rename one",
                self.out.line_of(first.span.start)
            );
            self.out.error(
                second.span.clone(),
                c.message(&first.name, &second.name),
                label,
            );
            reported.insert(second.span.start);
        }
        let mut fields: HashMap<String, &Value> = HashMap::new();
        for v in values {
            let ident = field_ident(&v.name);
            match fields.get(&ident) {
                Some(first) if !reported.contains(&v.span.start) => {
                    let msg = format!(
                        "values `{}` and `{}` both become the Rust field `{ident}`",
                        first.name, v.name
                    );
                    let label = format!(
                        "the first is on line {}; names are made identifiers by turning other characters into `_`",
                        self.out.line_of(first.span.start)
                    );
                    self.out.error(v.span.clone(), msg, label);
                }
                Some(_) => {}
                None => {
                    fields.insert(ident, v);
                }
            }
        }
    }

    /// Show maps of two values that would generate one function.
    fn show_fn_collisions(&mut self, sets: &[Set]) {
        let mut fns: HashMap<String, (&str, &Value)> = HashMap::new();
        for set in sets {
            for v in &set.values {
                if !matches!(v.show, Some(Show::Map(_))) {
                    continue;
                }
                let ident = show_fn_ident(&set.name, &v.name);
                if let Some((first_set, first)) = fns.get(&ident) {
                    let msg = format!(
                        "the show maps of `{}` in set `{first_set}` and `{}` in set `{}` both generate the function `{ident}`",
                        first.name, v.name, set.name
                    );
                    let label = format!(
                        "the first is on line {}; rename one",
                        self.out.line_of(first.span.start)
                    );
                    self.out.error(v.span.clone(), msg, label);
                } else {
                    fns.insert(ident, (&set.name, v));
                }
            }
        }
    }
}

/// Why `name` cannot be a file name, in the words `validate_name` uses.
fn name_problem(name: &str) -> Option<String> {
    validate_name(name).err().map(|e| match e {
        statsfs_runtime::Error::InvalidName { reason, .. } => reason.to_owned(),
        other => other.to_string(),
    })
}

fn word<T: PartialEq + Copy>(options: &[(&'static str, T)], v: T) -> &'static str {
    options
        .iter()
        .find(|(_, o)| *o == v)
        .map_or("?", |(w, _)| w)
}

/// `net_device` → `NetDevice`.
pub fn camel(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next().map_or(String::new(), |f| {
                f.to_ascii_uppercase().to_string() + c.as_str()
            })
        })
        .collect()
}
