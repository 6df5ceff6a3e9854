//! From TOML text to a checked [`Schema`], collecting every problem with its location
//! instead of stopping at the first (which a serde derive would do).

use std::ops::Range;

use statsfs_runtime::{rules, validate_name, Aggregation, Base, Kind, UnitKind, ValueType};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::diag::{Diagnostic, Errors};
use crate::schema::{Histogram, Schema, Set, Show, Storage, Value};

/// The format version this generator reads.
pub const VERSION: u32 = 1;

const TOP_KEYS: &[&str] = &["version", "name", "doc", "sets"];
const SET_KEYS: &[&str] = &["name", "rust", "label", "path", "doc", "values"];
const VALUE_KEYS: &[&str] = &[
    "name", "type", "storage", "aggregation", "kind", "unit", "base", "exponent", "clearable",
    "hidden", "doc", "show", "histogram", "optional",
];
const HIST_KEYS: &[&str] = &["type", "buckets", "bucket_size"];

const TYPES: &[(&str, ValueType)] = &[
    ("u8", ValueType::U8),
    ("u16", ValueType::U16),
    ("u32", ValueType::U32),
    ("u64", ValueType::U64),
    ("i8", ValueType::I8),
    ("i16", ValueType::I16),
    ("i32", ValueType::I32),
    ("i64", ValueType::I64),
    ("bool", ValueType::Bool),
];
const AGGREGATIONS: &[(&str, Aggregation)] = &[
    ("sum", Aggregation::Sum),
    ("min", Aggregation::Min),
    ("max", Aggregation::Max),
    ("avg", Aggregation::Avg),
    ("count_zero", Aggregation::CountZero),
    ("none", Aggregation::None),
];
const KINDS: &[(&str, Kind)] = &[
    ("cumulative", Kind::Cumulative),
    ("instant", Kind::Instant),
    ("peak", Kind::Peak),
];
const UNITS: &[(&str, UnitKind)] = &[
    ("none", UnitKind::None),
    ("bytes", UnitKind::Bytes),
    ("seconds", UnitKind::Seconds),
    ("cycles", UnitKind::Cycles),
    ("boolean", UnitKind::Boolean),
];
const HIST_TYPES: &[(&str, bool)] = &[("log", true), ("linear", false)];

/// Parses and checks one schema. `file` is only used in messages.
pub fn parse(file: &str, source: &str) -> Result<Schema, Errors> {
    let mut cx = Cx {
        source,
        diags: Vec::new(),
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
}

type V<'i> = Spanned<DeValue<'i>>;

/// A table being read: remembers its keys so unknown ones are reported.
struct Table<'a, 'i> {
    table: &'a DeTable<'i>,
    span: Range<usize>,
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

    fn table<'a, 'i>(&mut self, v: &'a V<'i>, what: &str, keys: &[&str]) -> Option<Table<'a, 'i>> {
        let DeValue::Table(t) = v.get_ref() else {
            self.error(v.span(), format!("{what} must be a table"), format!("found {}", v.get_ref().type_str()));
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
        Some(Table { table: t, span: v.span() })
    }

    fn schema(&mut self, root: &V<'_>) -> Option<Schema> {
        let t = self.table(root, "the schema", TOP_KEYS)?;
        let version = match self.int(&t, "version", true) {
            Some((v, span)) if v != VERSION as i64 => {
                self.error(span, format!("unsupported version {v}"), format!("this statsfs-gen reads version {VERSION}"));
                VERSION
            }
            _ => VERSION,
        };
        let name = self.name(&t, "name", "schema name");
        let doc = self.string(&t, "doc", false).map(|s| s.0).unwrap_or_default();
        let mut sets: Vec<Set> = Vec::new();
        if let Some(arr) = self.array(&t, "sets") {
            for v in arr {
                if let Some(set) = self.set(v) {
                    if let Some(first) = sets.iter().find(|s| s.name == set.name) {
                        let msg = format!("two sets named `{}`", set.name);
                        let first = self.line_of(first.span.start);
                        self.error(set.span.clone(), msg, format!("the first is on line {first}"));
                    }
                    if let Some(first) = sets.iter().find(|s| s.rust_name == set.rust_name) {
                        let msg = format!("two sets generate the struct `{}`", first.rust_name);
                        self.error(set.span.clone(), msg, "set `rust` to another name");
                    }
                    sets.push(set);
                }
            }
        }
        Some(Schema {
            version,
            name: name?.0,
            doc,
            sets,
        })
    }

    fn set(&mut self, v: &V<'_>) -> Option<Set> {
        let t = self.table(v, "a set", SET_KEYS)?;
        let (name, span) = self.name(&t, "name", "set name")?;
        let rust_name = match self.string(&t, "rust", false) {
            Some((r, rspan)) => {
                if syn::parse_str::<syn::Ident>(&r).is_err() {
                    self.error(rspan, format!("`{r}` is not a Rust identifier"), "the generated struct's name");
                }
                r
            }
            None => camel(&name) + "Stats",
        };
        let label = match self.string(&t, "label", false) {
            Some((l, lspan)) => {
                if let Err(e) = validate_name(&l) {
                    self.error(lspan, format!("invalid label {l:?}"), e.to_string());
                }
                Some(l)
            }
            None => None,
        };
        let path = self.string(&t, "path", false).map(|p| p.0);
        let doc = self.string(&t, "doc", false).map(|s| s.0).unwrap_or_default();
        let mut values: Vec<Value> = Vec::new();
        let mut names: Vec<(String, usize)> = Vec::new();
        for v in self.array(&t, "values").unwrap_or_default() {
            // Duplicates are found from the raw name, so a value with other errors still counts.
            let raw = v.get_ref().get("name").and_then(|n| n.get_ref().as_str().map(|s| (s.to_owned(), n.span())));
            if let Some((vname, vspan)) = raw {
                if let Some((_, first)) = names.iter().find(|(n, _)| *n == vname) {
                    let msg = format!("two values named `{vname}` in set `{name}`");
                    let label = format!("the first is on line {}", self.line_of(*first));
                    self.error(vspan.clone(), msg, label);
                } else {
                    names.push((vname, vspan.start));
                }
            }
            if let Some(value) = self.value(v) {
                values.push(value);
            }
        }
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
        let ty = self.choice(&t, "type", "type", TYPES, None);
        let aggregation = self.choice(&t, "aggregation", "aggregation", AGGREGATIONS, Some(Aggregation::Sum));
        let kind = self.choice(&t, "kind", "kind", KINDS, Some(Kind::Cumulative));
        let unit = self.choice(&t, "unit", "unit", UNITS, Some(UnitKind::None));
        // The default storage fits the type: statsfs's u64 counters, or a std atomic.
        let storage_default = match (ty.as_ref().map(|t| t.0), kind.as_ref().map(|k| k.0)) {
            (Some(ValueType::U64), Some(Kind::Instant)) => Storage::Gauge,
            (Some(ValueType::U64), Some(Kind::Peak)) => Storage::Peak,
            (Some(ValueType::U64), _) => Storage::Counter,
            _ => Storage::Atomic,
        };
        let storage = self.choice(&t, "storage", "storage", Storage::WORDS, Some(storage_default));
        let (ty, aggregation, kind, unit, storage) = (ty?, aggregation?, kind?, unit?, storage?);
        let (name, span) = name?;

        if let Some(msg) = rules::aggregation_for_type(ty.0, aggregation.0) {
            self.error(aggregation.1.clone(), msg, format!("`{name}` is {}", ty.0.as_str()));
        }
        let u64_only = matches!(storage.0, Storage::Counter | Storage::Local | Storage::Gauge | Storage::Peak);
        if u64_only && ty.0 != ValueType::U64 {
            let label = format!("`{name}` is {}", ty.0.as_str());
            self.error(storage.1.clone(), format!("storage `{}` holds a u64", word(Storage::WORDS, storage.0)), label);
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
            Some((e, s)) => match i16::try_from(e) {
                Ok(e) => Some((e, s)),
                Err(_) => {
                    self.error(s, format!("exponent `{e}` out of range"), "expected an i16");
                    None
                }
            },
            None => None,
        };
        for (what, given) in [("base", base.as_ref().map(|b| b.1.clone())), ("exponent", exponent.as_ref().map(|e| e.1.clone()))] {
            if let (Some(span), Some(msg)) = (given, rules::scale_for_unit(unit.0, what)) {
                self.error(span, msg, format!("the unit is {}", unit_word(unit.0)));
            }
        }
        let clearable = match self.bool(&t, "clearable") {
            Some((true, s)) => {
                if let Some(msg) = rules::clearable_kind(kind.0) {
                    self.error(s.clone(), msg, format!("`{name}` is {}", kind.0.as_str()));
                } else if !storage.0.can_clear() {
                    self.error(s, "a plain integer cannot be cleared", "use storage `counter`, `local` or `atomic`");
                }
                true
            }
            Some((false, _)) => false,
            None => kind.0 != Kind::Instant && storage.0.can_clear(),
        };
        let hidden = self.bool(&t, "hidden").is_some_and(|h| h.0);
        let doc = self.string(&t, "doc", false).map(|s| s.0).unwrap_or_default();
        let show = self.show(&t, ty.0, &name);
        let histogram = self.histogram(&t);
        let optional = self.string(&t, "optional", false).map(|s| s.0);
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

    fn show(&mut self, t: &Table<'_, '_>, ty: ValueType, name: &str) -> Option<Show> {
        let v = get(t, "show")?;
        match v.get_ref() {
            DeValue::String(p) => {
                if syn::parse_str::<syn::Path>(p).is_err() {
                    self.error(v.span(), format!("`{p}` is not a Rust path"), "a show function, like `crate::mp_state_name`");
                    return None;
                }
                Some(Show::Path(p.to_string()))
            }
            DeValue::Table(map) => {
                if ty == ValueType::Bool {
                    self.error(v.span(), "a show map needs an integer value", format!("`{name}` is bool"));
                    return None;
                }
                let mut out: Vec<(u64, String)> = Vec::new();
                for (k, val) in map.iter() {
                    let Ok(n) = k.get_ref().parse::<u64>() else {
                        self.error(k.span(), format!("show map key `{}` is not a number", k.get_ref()), "expected a non-negative integer");
                        continue;
                    };
                    let Some(text) = val.get_ref().as_str() else {
                        self.error(val.span(), "a show map value must be a string", format!("found {}", val.get_ref().type_str()));
                        continue;
                    };
                    out.push((n, text.to_owned()));
                }
                out.sort();
                Some(Show::Map(out))
            }
            other => {
                self.error(v.span(), "`show` must be a map of numbers to names or a function path", format!("found {}", other.type_str()));
                None
            }
        }
    }

    fn histogram(&mut self, t: &Table<'_, '_>) -> Option<Histogram> {
        let v = get(t, "histogram")?;
        let h = self.table(v, "a histogram", HIST_KEYS)?;
        let log = self.choice(&h, "type", "histogram type", HIST_TYPES, None)?.0;
        let (buckets, bspan) = self.int(&h, "buckets", true)?;
        let bucket_size = self.int(&h, "bucket_size", false);
        if !(1..=4096).contains(&buckets) {
            self.error(bspan, format!("{buckets} buckets"), "expected 1 to 4096");
        }
        match (&bucket_size, log) {
            (Some((_, s)), true) => self.error(s.clone(), "a log histogram has no `bucket_size`", "buckets are powers of two"),
            (None, false) => self.error(h.span.clone(), "a linear histogram needs `bucket_size`", "add bucket_size = N"),
            (Some((n, s)), false) if *n <= 0 => self.error(s.clone(), "`bucket_size` must be positive", "here"),
            _ => {}
        }
        Some(Histogram {
            log,
            buckets: buckets.clamp(0, 4096) as u32,
            bucket_size: bucket_size.map_or(0, |b| b.0.clamp(0, u32::MAX as i64) as u32),
        })
    }

    fn name(&mut self, t: &Table<'_, '_>, key: &str, what: &str) -> Option<(String, Range<usize>)> {
        let (s, span) = self.string(t, key, true)?;
        if let Err(e) = validate_name(&s) {
            let reason = match e {
                statsfs_runtime::Error::InvalidName { reason, .. } => reason.to_owned(),
                other => other.to_string(),
            };
            self.error(span.clone(), format!("invalid {what} {s:?}"), reason);
        }
        Some((s, span))
    }

    fn string(&mut self, t: &Table<'_, '_>, key: &str, required: bool) -> Option<(String, Range<usize>)> {
        let Some(v) = get(t, key) else {
            if required {
                self.error(t.span.clone(), format!("missing `{key}`"), format!("add `{key} = \"...\"`"));
            }
            return None;
        };
        match v.get_ref().as_str() {
            Some(s) => Some((s.to_owned(), v.span())),
            None => {
                self.error(v.span(), format!("`{key}` must be a string"), format!("found {}", v.get_ref().type_str()));
                None
            }
        }
    }

    fn int(&mut self, t: &Table<'_, '_>, key: &str, required: bool) -> Option<(i64, Range<usize>)> {
        let Some(v) = get(t, key) else {
            if required {
                self.error(t.span.clone(), format!("missing `{key}`"), format!("add `{key} = N`"));
            }
            return None;
        };
        let parsed = v.get_ref().as_integer().and_then(|i| {
            let digits = i.as_str().replace('_', "");
            let (neg, body) = match digits.strip_prefix('-') {
                Some(b) => (true, b.to_owned()),
                None => (false, digits.trim_start_matches('+').to_owned()),
            };
            let body = body.trim_start_matches("0x").trim_start_matches("0o").trim_start_matches("0b");
            i64::from_str_radix(body, i.radix()).ok().map(|n| if neg { -n } else { n })
        });
        match parsed {
            Some(n) => Some((n, v.span())),
            None => {
                self.error(v.span(), format!("`{key}` must be an integer"), format!("found {}", v.get_ref().type_str()));
                None
            }
        }
    }

    fn bool(&mut self, t: &Table<'_, '_>, key: &str) -> Option<(bool, Range<usize>)> {
        let v = get(t, key)?;
        match v.get_ref().as_bool() {
            Some(b) => Some((b, v.span())),
            None => {
                self.error(v.span(), format!("`{key}` must be true or false"), format!("found {}", v.get_ref().type_str()));
                None
            }
        }
    }

    fn array<'a, 'i>(&mut self, t: &Table<'a, 'i>, key: &str) -> Option<Vec<&'a V<'i>>> {
        let v = get(t, key)?;
        match v.get_ref().as_array() {
            Some(a) => Some(a.iter().collect()),
            None => {
                self.error(v.span(), format!("`{key}` must be an array of tables"), format!("write [[{key}]] sections"));
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
                self.error(span, format!("unknown {what} `{word}`"), format!("expected one of {}", list(options.iter().map(|o| o.0))));
                None
            }
        }
    }
}

fn get<'a, 'i>(t: &Table<'a, 'i>, key: &str) -> Option<&'a V<'i>> {
    t.table.iter().find(|(k, _)| k.get_ref().as_ref() == key).map(|(_, v)| v)
}

fn word<T: PartialEq + Copy>(options: &[(&'static str, T)], v: T) -> &'static str {
    options.iter().find(|(_, o)| *o == v).map_or("?", |(w, _)| w)
}

fn unit_word(u: UnitKind) -> &'static str {
    word(UNITS, u)
}

/// `net_device` → `NetDevice`.
pub fn camel(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next().map_or(String::new(), |f| f.to_ascii_uppercase().to_string() + c.as_str())
        })
        .collect()
}
