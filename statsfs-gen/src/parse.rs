//! From TOML text to a checked [`Schema`], collecting every problem with its location
//! instead of stopping at the first (which a serde derive would do).

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use statsfs_runtime::{rules, validate_name, Aggregation, Base, Kind, UnitKind, ValueType};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::diag::{Diagnostic, Errors};
use crate::rust::{field_ident, show_fn_ident};
use crate::schema::{Histogram, Schema, Set, Show, Storage, Value};

/// The format version this generator reads.
pub const VERSION: u32 = 1;

const TOP_KEYS: &[&str] = &["version", "name", "doc", "sets"];
const SET_KEYS: &[&str] = &["name", "rust", "label", "path", "doc", "values"];
const VALUE_KEYS: &[&str] = &[
    "name",
    "type",
    "storage",
    "aggregation",
    "kind",
    "unit",
    "base",
    "exponent",
    "clearable",
    "hidden",
    "doc",
    "show",
    "histogram",
    "optional",
];
const HIST_KEYS: &[&str] = &["type", "buckets", "bucket_size"];

/// A word table from a runtime vocabulary: the schema language's words are the runtime's.
fn table<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<(&'static str, T)> {
    all.iter().map(|&v| (name(v), v)).collect()
}

const HIST_TYPES: &[(&str, bool)] = &[("log", true), ("linear", false)];

/// Parses and checks one schema. `file` is only used in messages.
pub fn parse(file: &str, source: &str) -> Result<Schema, Errors> {
    let mut cx = Cx {
        source,
        diags: Vec::new(),
        prefix: String::new(),
    };
    let (doc, syntax) = DeTable::parse_recoverable(source);
    for e in syntax {
        let span = e.span().unwrap_or(0..0);
        cx.error(span, e.message().trim().to_owned(), "here");
    }
    let schema = if cx.diags.is_empty() {
        cx.schema(&Spanned::new(doc.span(), DeValue::Table(doc.into_inner())))
    } else {
        None
    };
    match schema {
        Some(s) if cx.diags.is_empty() => Ok(s),
        _ => {
            let mut diagnostics = cx.diags;
            diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
            Err(Errors {
                file: file.to_owned(),
                source: source.to_owned(),
                diagnostics,
            })
        }
    }
}

struct Cx<'s> {
    source: &'s str,
    diags: Vec<Diagnostic>,
    /// The schema name, which prefixes metric names (empty until read).
    prefix: String,
}

type V<'i> = Spanned<DeValue<'i>>;

/// A table being read: remembers its keys so unknown ones are reported.
struct Table<'a, 'i> {
    table: &'a DeTable<'i>,
    span: Range<usize>,
    /// What the table is, for messages (`a value`).
    what: &'static str,
}

fn list(words: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    words
        .into_iter()
        .map(|w| format!("`{}`", w.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Cx<'_> {
    fn line_of(&self, offset: usize) -> usize {
        crate::diag::line_col(self.source, offset).0
    }

    fn error(&mut self, span: Range<usize>, message: impl Into<String>, label: impl Into<String>) {
        self.diags.push(Diagnostic {
            span,
            message: message.into(),
            label: label.into(),
            notes: Vec::new(),
        });
    }

    fn table<'a, 'i>(
        &mut self,
        v: &'a V<'i>,
        what: &'static str,
        keys: &[&str],
    ) -> Option<Table<'a, 'i>> {
        let DeValue::Table(t) = v.get_ref() else {
            self.error(
                v.span(),
                format!("{what} must be a table"),
                format!("found {}", v.get_ref().type_str()),
            );
            return None;
        };
        for (k, _) in t.iter() {
            if !keys.contains(&k.get_ref().as_ref()) {
                self.error(
                    k.span(),
                    format!("unknown key `{}` in {what}", k.get_ref()),
                    format!("expected one of {}", list(keys)),
                );
            }
        }
        Some(Table {
            table: t,
            span: v.span(),
            what,
        })
    }

    fn schema(&mut self, root: &V<'_>) -> Option<Schema> {
        let t = self.table(root, "the schema", TOP_KEYS)?;
        let version = match self.int(&t, "version", true) {
            Some((v, span)) if v != VERSION as i64 => {
                self.error(
                    span,
                    format!("unsupported version {v}"),
                    format!("this statsfs-gen reads version {VERSION}"),
                );
                VERSION
            }
            _ => VERSION,
        };
        let name = self.name(&t, "name", "schema name");
        self.prefix = name.as_ref().map(|n| n.0.clone()).unwrap_or_default();
        let doc = self
            .string(&t, "doc", false)
            .map(|s| s.0)
            .unwrap_or_default();
        let mut sets: Vec<Set> = Vec::new();
        // Where each set name and struct name was first written: linear in the set count.
        let mut set_names: HashMap<String, usize> = HashMap::new();
        let mut struct_names: HashMap<String, usize> = HashMap::new();
        if let Some(arr) = self.array(&t, "sets") {
            for v in arr {
                // Where `rust` is written, if it is: a struct name clash is shown there.
                let rust_span = v.get_ref().get("rust").map(|r| r.span());
                if let Some(set) = self.set(v) {
                    let same_name = set_names.get(&set.name).copied();
                    if let Some(first) = same_name {
                        let msg = format!("two sets named `{}`", set.name);
                        let first = self.line_of(first);
                        self.error(
                            set.span.clone(),
                            msg,
                            format!("the first is on line {first}"),
                        );
                    }
                    // Two sets of the same name also derive the same struct name: one error is enough.
                    let derived_twice = same_name.is_some() && rust_span.is_none();
                    if let Some(&first) =
                        struct_names.get(&set.rust_name).filter(|_| !derived_twice)
                    {
                        let msg = format!("two sets generate the struct `{}`", set.rust_name);
                        let first = self.line_of(first);
                        match rust_span {
                            Some(span) => {
                                self.error(span, msg, format!("the first is on line {first}"))
                            }
                            None => self.error(
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
            }
        }
        self.show_fn_collisions(&sets);
        Some(Schema {
            version,
            name: name?.0,
            doc,
            sets,
        })
    }

    fn set(&mut self, v: &V<'_>) -> Option<Set> {
        let t = self.table(v, "a set", SET_KEYS)?;
        // Without a name the set is still read to the end, so its other errors are reported.
        let name = self.name(&t, "name", "set name");
        let rust_name = match self.string(&t, "rust", false) {
            Some((r, rspan)) => {
                if syn::parse_str::<syn::Ident>(&r).is_err() {
                    self.error(
                        rspan,
                        format!("`{r}` is not a Rust identifier"),
                        "the generated struct's name",
                    );
                } else if PRIMITIVES.contains(&r.as_str()) {
                    self.error(
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
                    self.error(
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
        let label = match self.string(&t, "label", false) {
            Some((l, lspan)) => {
                if let Some(reason) = name_problem(&l) {
                    self.error(lspan, format!("invalid label {l:?}"), reason);
                } else if let Some(msg) = rules::label_name(&l, true) {
                    self.error(lspan, "invalid label", msg);
                }
                Some(l)
            }
            None => {
                if let Some((n, nspan)) = name.as_ref().filter(|n| {
                    name_problem(&n.0).is_none() && rules::declared_name(&n.0).is_none()
                }) {
                    if let Some(msg) = rules::label_name(n, false) {
                        self.error(nspan.clone(), "the set needs a `label`", msg);
                    }
                }
                None
            }
        };
        let path = self.string(&t, "path", false).map(|p| p.0);
        let doc = self
            .string(&t, "doc", false)
            .map(|s| s.0)
            .unwrap_or_default();
        let mut values: Vec<Value> = Vec::new();
        let mut names: HashMap<String, usize> = HashMap::new();
        for v in self.array(&t, "values").unwrap_or_default() {
            // Duplicates are found from the raw name, so a value with other errors still counts.
            let raw = v
                .get_ref()
                .get("name")
                .and_then(|n| n.get_ref().as_str().map(|s| (s.to_owned(), n.span())));
            if let Some((vname, vspan)) = raw {
                if let Some(first) = names.get(&vname) {
                    let msg = format!("two values named `{vname}` in {in_set}");
                    let label = format!("the first is on line {}", self.line_of(*first));
                    self.error(vspan.clone(), msg, label);
                } else {
                    names.insert(vname, vspan.start);
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
            label,
            path,
            doc,
            values,
        })
    }

    fn value(&mut self, v: &V<'_>) -> Option<Value> {
        let t = self.table(v, "a value", VALUE_KEYS)?;
        let name = self.name(&t, "name", "value name");
        let ty = self.choice(
            &t,
            "type",
            "type",
            &table(&ValueType::BUILTIN, ValueType::as_str),
            None,
        );
        let aggregation = self.choice(
            &t,
            "aggregation",
            "aggregation",
            &table(&Aggregation::ALL, Aggregation::as_str),
            Some(Aggregation::Sum),
        );
        let kind = self.choice(
            &t,
            "kind",
            "kind",
            &table(&Kind::ALL, Kind::as_str),
            Some(Kind::Cumulative),
        );
        let unit = self.choice(
            &t,
            "unit",
            "unit",
            &table(&UnitKind::ALL, UnitKind::as_str),
            Some(UnitKind::None),
        );
        // The default storage fits the type: statsfs's u64 counters, or a std atomic.
        let storage_default = match (ty.as_ref().map(|t| t.0), kind.as_ref().map(|k| k.0)) {
            (Some(ValueType::U64), Some(Kind::Instant)) => Storage::Gauge,
            (Some(ValueType::U64), Some(Kind::Peak)) => Storage::Peak,
            (Some(ValueType::U64), _) => Storage::Counter,
            _ => Storage::Atomic,
        };
        let storage = self.choice(
            &t,
            "storage",
            "storage",
            Storage::WORDS,
            Some(storage_default),
        );
        // A value with a missing or unknown key is still read to the end, so its other errors
        // are reported; each rule between keys runs once the keys it needs are known.
        let who = name
            .as_ref()
            .map_or("this value".to_owned(), |n| format!("`{}`", n.0));

        if let (Some(ty), Some(aggregation)) = (&ty, &aggregation) {
            if let Some(msg) = rules::aggregation_for_type(ty.0, aggregation.0) {
                self.error(
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
                self.error(
                    storage.1.clone(),
                    format!("storage `{}` holds a u64", word(Storage::WORDS, storage.0)),
                    label,
                );
            }
        }
        let base = match self.int(&t, "base", false) {
            Some((10, s)) => Some((Base::Pow10, s)),
            Some((2, s)) => Some((Base::Pow2, s)),
            Some((b, s)) => {
                self.error(s, format!("unknown base `{b}`"), "expected `10` or `2`");
                None
            }
            None => None,
        };
        let exponent = match self.int(&t, "exponent", false) {
            Some((e, s)) => match rules::exponent(e) {
                None => Some((e as i16, s)),
                Some(msg) => {
                    let (lo, hi) = (rules::EXPONENT_RANGE.start(), rules::EXPONENT_RANGE.end());
                    self.error(s, msg, format!("the scale is base^exponent, {lo}..={hi}"));
                    None
                }
            },
            None => None,
        };
        if let (Some(ty), Some(unit)) = (&ty, &unit) {
            if let Some(msg) = rules::unit_for_type(ty.0, unit.0) {
                self.error(unit.1.clone(), msg, format!("{who} is {}", ty.0.as_str()));
            }
        }
        if let Some(unit) = &unit {
            for (what, given) in [
                ("base", base.as_ref().map(|b| b.1.clone())),
                ("exponent", exponent.as_ref().map(|e| e.1.clone())),
            ] {
                if let (Some(span), Some(msg)) = (given, rules::scale_for_unit(unit.0, what)) {
                    self.error(span, msg, format!("the unit is {}", unit.0.as_str()));
                }
            }
        }
        let clearable = match self.bool(&t, "clearable") {
            Some((true, s)) => {
                if let Some((msg, k)) = kind
                    .as_ref()
                    .and_then(|k| Some((rules::clearable_kind(k.0)?, k.0)))
                {
                    self.error(s.clone(), msg, format!("{who} is {}", k.as_str()));
                } else if storage.as_ref().is_some_and(|st| !st.0.can_clear()) {
                    self.error(
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
        let hidden = self.bool(&t, "hidden").is_some_and(|h| h.0);
        let doc = self
            .string(&t, "doc", false)
            .map(|s| s.0)
            .unwrap_or_default();
        let show = self.show(&t, ty.as_ref().map(|t| t.0), &who);
        let histogram = self.histogram(&t);
        let optional = self.string(&t, "optional", false).map(|s| s.0);
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
            hidden,
            doc,
            show,
            histogram,
            optional,
        })
    }

    /// `ty` is `None` when the value's type is missing or unknown (already reported).
    fn show(&mut self, t: &Table<'_, '_>, ty: Option<ValueType>, who: &str) -> Option<Show> {
        let v = get(t, "show")?;
        match v.get_ref() {
            DeValue::String(p) => {
                if syn::parse_str::<syn::Path>(p).is_err() {
                    self.error(
                        v.span(),
                        format!("`{p}` is not a Rust path"),
                        "a show function, like `crate::mp_state_name`",
                    );
                    return None;
                }
                Some(Show::Path(p.to_string()))
            }
            DeValue::Table(map) => {
                if ty == Some(ValueType::Bool) {
                    self.error(
                        v.span(),
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
                // In file order (the table's own order is not), so the later of two equal keys is the one shown.
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by_key(|(k, _)| k.span().start);
                for (k, val) in entries {
                    let Ok(n) = k.get_ref().parse::<u64>() else {
                        self.error(
                            k.span(),
                            format!("show map key `{}` is not a number", k.get_ref()),
                            "expected a non-negative integer",
                        );
                        continue;
                    };
                    // TOML keys are text: `1` and `01` are two keys but one number.
                    if let Some(first) = seen.get(&n) {
                        let label = format!("the same number as `{first}`");
                        self.error(k.span(), format!("show map key {n} given twice"), label);
                        continue;
                    }
                    seen.insert(n, k.get_ref().to_string());
                    if let (Some(max), Some(t)) = (max, ty) {
                        if n > max {
                            self.error(
                                k.span(),
                                format!("show map key {n} is more than a {} holds", t.as_str()),
                                format!("at most {max}"),
                            );
                            continue;
                        }
                    }
                    let Some(text) = val.get_ref().as_str() else {
                        self.error(
                            val.span(),
                            "a show map value must be a string",
                            format!("found {}", val.get_ref().type_str()),
                        );
                        continue;
                    };
                    out.push((n, text.to_owned()));
                }
                out.sort();
                Some(Show::Map(out))
            }
            other => {
                self.error(
                    v.span(),
                    "`show` must be a map of numbers to names or a function path",
                    format!("found {}", other.type_str()),
                );
                None
            }
        }
    }

    fn histogram(&mut self, t: &Table<'_, '_>) -> Option<Histogram> {
        let v = get(t, "histogram")?;
        let h = self.table(v, "a histogram", HIST_KEYS)?;
        // Every key is checked even when another one is wrong.
        let log = self
            .choice(&h, "type", "histogram type", HIST_TYPES, None)
            .map(|l| l.0);
        let buckets = self.int(&h, "buckets", true);
        let bucket_size = self.int(&h, "bucket_size", false);
        if let Some((n, s)) = &buckets {
            if !(1..=4096).contains(n) {
                self.error(
                    s.clone(),
                    "`buckets` must be between 1 and 4096",
                    format!("found {n}"),
                );
            }
        }
        match (&bucket_size, log) {
            (Some((_, s)), Some(true)) => self.error(
                s.clone(),
                "a log histogram has no `bucket_size`",
                "buckets are powers of two",
            ),
            (None, Some(false)) => self.error(
                h.span.clone(),
                "a linear histogram needs `bucket_size`",
                "add `bucket_size = N`",
            ),
            (Some((n, s)), _) if !(1..=u32::MAX as i64).contains(n) => self.error(
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

    fn name(&mut self, t: &Table<'_, '_>, key: &str, what: &str) -> Option<(String, Range<usize>)> {
        let (s, span) = self.string(t, key, true)?;
        if let Some(reason) = name_problem(&s).or_else(|| rules::declared_name(&s)) {
            self.error(span.clone(), format!("invalid {what} {s:?}"), reason);
        }
        Some((s, span))
    }

    fn string(
        &mut self,
        t: &Table<'_, '_>,
        key: &str,
        required: bool,
    ) -> Option<(String, Range<usize>)> {
        let Some(v) = get(t, key) else {
            if required {
                self.error(
                    t.span.clone(),
                    format!("missing `{key}` in {}", t.what),
                    format!("add `{key} = \"...\"`"),
                );
            }
            return None;
        };
        match v.get_ref().as_str() {
            Some(s) => Some((s.to_owned(), v.span())),
            None => {
                self.error(
                    v.span(),
                    format!("`{key}` must be a string"),
                    format!("found {}", v.get_ref().type_str()),
                );
                None
            }
        }
    }

    fn int(&mut self, t: &Table<'_, '_>, key: &str, required: bool) -> Option<(i64, Range<usize>)> {
        let Some(v) = get(t, key) else {
            if required {
                self.error(
                    t.span.clone(),
                    format!("missing `{key}` in {}", t.what),
                    format!("add `{key} = N`"),
                );
            }
            return None;
        };
        let Some(i) = v.get_ref().as_integer() else {
            self.error(
                v.span(),
                format!("`{key}` must be an integer"),
                format!("found {}", v.get_ref().type_str()),
            );
            return None;
        };
        let digits = i.as_str().replace('_', "");
        let (sign, body) = match digits.strip_prefix('-') {
            Some(b) => ("-", b),
            None => ("", digits.trim_start_matches('+')),
        };
        let body = body
            .trim_start_matches("0x")
            .trim_start_matches("0o")
            .trim_start_matches("0b");
        // The sign stays with the digits so that i64::MIN reads.
        match i64::from_str_radix(&format!("{sign}{body}"), i.radix()) {
            Ok(n) => Some((n, v.span())),
            Err(_) => {
                self.error(
                    v.span(),
                    format!("`{key}` is out of range"),
                    "does not fit in 64 bits",
                );
                None
            }
        }
    }

    fn bool(&mut self, t: &Table<'_, '_>, key: &str) -> Option<(bool, Range<usize>)> {
        let v = get(t, key)?;
        match v.get_ref().as_bool() {
            Some(b) => Some((b, v.span())),
            None => {
                self.error(
                    v.span(),
                    format!("`{key}` must be true or false"),
                    format!("found {}", v.get_ref().type_str()),
                );
                None
            }
        }
    }

    fn array<'a, 'i>(&mut self, t: &Table<'a, 'i>, key: &str) -> Option<Vec<&'a V<'i>>> {
        let v = get(t, key)?;
        match v.get_ref().as_array() {
            Some(a) => Some(a.iter().collect()),
            None => {
                self.error(
                    v.span(),
                    format!("`{key}` must be an array of tables"),
                    format!("write [[{key}]] sections"),
                );
                None
            }
        }
    }

    fn choice<T: Copy>(
        &mut self,
        t: &Table<'_, '_>,
        key: &str,
        what: &str,
        options: &[(&str, T)],
        default: Option<T>,
    ) -> Option<(T, Range<usize>)> {
        if get(t, key).is_none() {
            if let Some(d) = default {
                return Some((d, t.span.clone()));
            }
        }
        let (word, span) = self.string(t, key, true)?;
        match options.iter().find(|(w, _)| *w == word) {
            Some((_, v)) => Some((*v, span)),
            None => {
                self.error(
                    span,
                    format!("unknown {what} `{word}`"),
                    format!("expected one of {}", list(options.iter().map(|o| o.0))),
                );
                None
            }
        }
    }
}

impl Cx<'_> {
    /// Values of one set that the backends would export under one metric name, or that
    /// become one Rust field: both are found in one pass each (a set may hold 100k values).
    fn value_collisions(&mut self, set: &str, values: &[Value]) {
        // A name given twice is reported as such, not again as a collision.
        let mut names = HashSet::new();
        let values: Vec<&Value> = values.iter().filter(|v| names.insert(&v.name)).collect();
        let exported: Vec<&Value> = values.iter().copied().filter(|v| !v.hidden).collect();
        // A histogram is exported (and documented) as a gauge of buckets: no `_total`.
        let collisions = rules::metric_collisions(
            &self.prefix,
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
                self.line_of(first.span.start)
            );
            self.error(
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
                        self.line_of(first.span.start)
                    );
                    self.error(v.span.clone(), msg, label);
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
                        self.line_of(first.span.start)
                    );
                    self.error(v.span.clone(), msg, label);
                } else {
                    fns.insert(ident, (&set.name, v));
                }
            }
        }
    }
}

/// Names of Rust's primitive types, which the generated fields use unqualified.
const PRIMITIVES: &[&str] = &[
    "bool", "char", "str", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64",
    "i128", "isize", "f32", "f64",
];

fn get<'a, 'i>(t: &Table<'a, 'i>, key: &str) -> Option<&'a V<'i>> {
    t.table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == key)
        .map(|(_, v)| v)
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
