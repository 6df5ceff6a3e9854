//! Reading: TOML text to a located, unchecked model. This step only asks what the text
//! says: is each key known and of the right TOML type, is each word one the schema language
//! has, does each integer fit in 64 bits. Whether names are valid and keys agree with each
//! other is [`crate::check`]'s job, so every rule lives in one place.

use std::ops::Range;

use statsfs_runtime::{Aggregation, Base, Kind, UnitKind, ValueType};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::diag::Problems;
use crate::schema::Storage;

/// A value as read, and where it was written.
pub(crate) type Sp<T> = (T, Range<usize>);

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
const HIST_TYPES: &[(&str, bool)] = &[("log", true), ("linear", false)];
const BASES: &[(i64, Base)] = &[(10, Base::Pow10), (2, Base::Pow2)];

/// A word table from a runtime vocabulary: the schema language's words are the runtime's.
fn words<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<(&'static str, T)> {
    all.iter().map(|&v| (name(v), v)).collect()
}

/// The schema file as written.
pub(crate) struct RawSchema {
    pub version: Option<Sp<i64>>,
    pub name: Option<Sp<String>>,
    pub doc: String,
    pub sets: Vec<RawSet>,
}

/// One `[[sets]]` table as written.
pub(crate) struct RawSet {
    pub name: Option<Sp<String>>,
    pub rust: Option<Sp<String>>,
    /// Where `rust` is written, even when it is not a string: a struct name clash is shown there.
    pub rust_span: Option<Range<usize>>,
    pub label: Option<Sp<String>>,
    pub path: Option<String>,
    pub doc: String,
    pub values: Vec<RawValue>,
}

/// A key with a default: absent (the default applies), unreadable (already reported), or given.
pub(crate) enum Key<T> {
    Absent,
    Unreadable,
    Given(Sp<T>),
}

/// One `[[sets.values]]` table as written. Keys whose default does not depend on other
/// keys hold it already, located at the table.
pub(crate) struct RawValue {
    /// The table.
    pub span: Range<usize>,
    pub name: Option<Sp<String>>,
    pub ty: Option<Sp<ValueType>>,
    pub aggregation: Option<Sp<Aggregation>>,
    pub kind: Option<Sp<Kind>>,
    pub unit: Option<Sp<UnitKind>>,
    /// Its default depends on the type and kind.
    pub storage: Key<Storage>,
    pub base: Option<Sp<Base>>,
    pub exponent: Option<Sp<i64>>,
    pub clearable: Option<Sp<bool>>,
    pub hidden: bool,
    pub doc: String,
    pub show: Option<RawShow>,
    pub histogram: Option<RawHistogram>,
    pub optional: Option<String>,
}

/// `show` as written.
pub(crate) enum RawShow {
    /// A function path (a valid Rust path).
    Path(String),
    /// A map, where `show` is written.
    Map(Range<usize>, Vec<ShowEntry>),
}

/// One entry of a show map whose key is a number, in file order.
pub(crate) struct ShowEntry {
    pub number: u64,
    /// The key as written (`01`), and where.
    pub key: Sp<String>,
    /// The name shown; `None` if it is not a string (already reported).
    pub text: Option<String>,
}

/// `histogram = { ... }` as written.
pub(crate) struct RawHistogram {
    /// The table.
    pub span: Range<usize>,
    /// `log` (true) or `linear`.
    pub log: Option<Sp<bool>>,
    pub buckets: Option<Sp<i64>>,
    pub bucket_size: Option<Sp<i64>>,
}

type V<'i> = Spanned<DeValue<'i>>;

/// A table being read: remembers its keys so unknown ones are reported.
struct Table<'a, 'i> {
    table: &'a DeTable<'i>,
    span: Range<usize>,
    /// What the table is, for messages (`a value`).
    what: &'static str,
}

/// `` `a`, `b` ``: the valid words, for "expected one of".
pub(crate) fn list(words: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    words
        .into_iter()
        .map(|w| format!("`{}`", w.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn get<'a, 'i>(t: &Table<'a, 'i>, key: &str) -> Option<&'a V<'i>> {
    t.table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == key)
        .map(|(_, v)| v)
}

/// Reads one schema file. `None` if it is not TOML at all (reported); otherwise as much
/// of it as could be read, every problem reported to `out`.
pub(crate) fn read(source: &str, out: &mut Problems<'_>) -> Option<RawSchema> {
    let (doc, syntax) = DeTable::parse_recoverable(source);
    for e in syntax {
        let span = e.span().unwrap_or(0..0);
        out.error(span, e.message().trim().to_owned(), "here");
    }
    if !out.diags.is_empty() {
        return None;
    }
    let root = Spanned::new(doc.span(), DeValue::Table(doc.into_inner()));
    Reader { out }.schema(&root)
}

struct Reader<'p, 's> {
    out: &'p mut Problems<'s>,
}

impl Reader<'_, '_> {
    fn table<'a, 'i>(
        &mut self,
        v: &'a V<'i>,
        what: &'static str,
        keys: &[&str],
    ) -> Option<Table<'a, 'i>> {
        let DeValue::Table(t) = v.get_ref() else {
            self.out.error(
                v.span(),
                format!("{what} must be a table"),
                format!("found {}", v.get_ref().type_str()),
            );
            return None;
        };
        for (k, _) in t.iter() {
            if !keys.contains(&k.get_ref().as_ref()) {
                self.out.error(
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

    fn schema(&mut self, root: &V<'_>) -> Option<RawSchema> {
        let t = self.table(root, "the schema", TOP_KEYS)?;
        let version = self.int(&t, "version", true);
        let name = self.string(&t, "name", true);
        let doc = self.doc(&t);
        let sets = self
            .array(&t, "sets")
            .unwrap_or_default()
            .into_iter()
            .filter_map(|v| self.set(v))
            .collect();
        Some(RawSchema {
            version,
            name,
            doc,
            sets,
        })
    }

    fn set(&mut self, v: &V<'_>) -> Option<RawSet> {
        let rust_span = v.get_ref().get("rust").map(|r| r.span());
        let t = self.table(v, "a set", SET_KEYS)?;
        let name = self.string(&t, "name", true);
        let rust = self.string(&t, "rust", false);
        let label = self.string(&t, "label", false);
        let path = self.string(&t, "path", false).map(|p| p.0);
        let doc = self.doc(&t);
        let values = self
            .array(&t, "values")
            .unwrap_or_default()
            .into_iter()
            .filter_map(|v| self.value(v))
            .collect();
        Some(RawSet {
            name,
            rust,
            rust_span,
            label,
            path,
            doc,
            values,
        })
    }

    fn value(&mut self, v: &V<'_>) -> Option<RawValue> {
        let t = self.table(v, "a value", VALUE_KEYS)?;
        let name = self.string(&t, "name", true);
        let ty = self.choice(&t, "type", &words(&ValueType::BUILTIN, ValueType::as_str));
        let ty = self.required(&t, "type", ty);
        let aggregation = self.choice(
            &t,
            "aggregation",
            &words(&Aggregation::ALL, Aggregation::as_str),
        );
        let aggregation = Self::or(&t, aggregation, Aggregation::Sum);
        let kind = self.choice(&t, "kind", &words(&Kind::ALL, Kind::as_str));
        let kind = Self::or(&t, kind, Kind::Cumulative);
        let unit = self.choice(&t, "unit", &words(&UnitKind::ALL, UnitKind::as_str));
        let unit = Self::or(&t, unit, UnitKind::None);
        let storage = self.choice(&t, "storage", Storage::WORDS);
        let base = match self.int(&t, "base", false) {
            Some((b, s)) => match BASES.iter().find(|(n, _)| *n == b) {
                Some(&(_, base)) => Some((base, s)),
                None => {
                    self.out
                        .error(s, format!("unknown base `{b}`"), "expected `10` or `2`");
                    None
                }
            },
            None => None,
        };
        let exponent = self.int(&t, "exponent", false);
        let clearable = self.bool(&t, "clearable");
        let hidden = self.bool(&t, "hidden").is_some_and(|h| h.0);
        let doc = self.doc(&t);
        let show = self.show(&t);
        let histogram = self.histogram(&t);
        let optional = self.string(&t, "optional", false).map(|s| s.0);
        Some(RawValue {
            span: t.span,
            name,
            ty,
            aggregation,
            kind,
            unit,
            storage,
            base,
            exponent,
            clearable,
            hidden,
            doc,
            show,
            histogram,
            optional,
        })
    }

    fn show(&mut self, t: &Table<'_, '_>) -> Option<RawShow> {
        let v = get(t, "show")?;
        match v.get_ref() {
            DeValue::String(p) => {
                if syn::parse_str::<syn::Path>(p).is_err() {
                    self.out.error(
                        v.span(),
                        format!("`{p}` is not a Rust path"),
                        "a show function, like `crate::mp_state_name`",
                    );
                    return None;
                }
                Some(RawShow::Path(p.to_string()))
            }
            DeValue::Table(map) => {
                // In file order (the table's own order is not), so the later of two equal
                // keys is the one `check` reports.
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by_key(|(k, _)| k.span().start);
                let mut out = Vec::new();
                for (k, val) in entries {
                    let Ok(number) = k.get_ref().parse::<u64>() else {
                        self.out.error(
                            k.span(),
                            format!("show map key `{}` is not a number", k.get_ref()),
                            "expected a non-negative integer",
                        );
                        continue;
                    };
                    let text = val.get_ref().as_str().map(str::to_owned);
                    if text.is_none() {
                        self.out.error(
                            val.span(),
                            "a show map value must be a string",
                            format!("found {}", val.get_ref().type_str()),
                        );
                    }
                    out.push(ShowEntry {
                        number,
                        key: (k.get_ref().to_string(), k.span()),
                        text,
                    });
                }
                Some(RawShow::Map(v.span(), out))
            }
            other => {
                self.out.error(
                    v.span(),
                    "`show` must be a map of numbers to names or a function path",
                    format!("found {}", other.type_str()),
                );
                None
            }
        }
    }

    fn histogram(&mut self, t: &Table<'_, '_>) -> Option<RawHistogram> {
        let v = get(t, "histogram")?;
        let h = self.table(v, "a histogram", HIST_KEYS)?;
        // Every key is read even when another one is wrong.
        let log = self.choice_named(&h, "type", "histogram type", HIST_TYPES);
        let log = self.required(&h, "type", log);
        let buckets = self.int(&h, "buckets", true);
        let bucket_size = self.int(&h, "bucket_size", false);
        Some(RawHistogram {
            span: h.span,
            log,
            buckets,
            bucket_size,
        })
    }

    fn doc(&mut self, t: &Table<'_, '_>) -> String {
        self.string(t, "doc", false)
            .map(|s| s.0)
            .unwrap_or_default()
    }

    fn missing(&mut self, t: &Table<'_, '_>, key: &str, example: &str) {
        self.out.error(
            t.span.clone(),
            format!("missing `{key}` in {}", t.what),
            format!("add `{key} = {example}`"),
        );
    }

    fn string(&mut self, t: &Table<'_, '_>, key: &str, required: bool) -> Option<Sp<String>> {
        let Some(v) = get(t, key) else {
            if required {
                self.missing(t, key, "\"...\"");
            }
            return None;
        };
        match v.get_ref().as_str() {
            Some(s) => Some((s.to_owned(), v.span())),
            None => {
                self.out.error(
                    v.span(),
                    format!("`{key}` must be a string"),
                    format!("found {}", v.get_ref().type_str()),
                );
                None
            }
        }
    }

    fn int(&mut self, t: &Table<'_, '_>, key: &str, required: bool) -> Option<Sp<i64>> {
        let Some(v) = get(t, key) else {
            if required {
                self.missing(t, key, "N");
            }
            return None;
        };
        let Some(i) = v.get_ref().as_integer() else {
            self.out.error(
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
                self.out.error(
                    v.span(),
                    format!("`{key}` is out of range"),
                    "does not fit in 64 bits",
                );
                None
            }
        }
    }

    fn bool(&mut self, t: &Table<'_, '_>, key: &str) -> Option<Sp<bool>> {
        let v = get(t, key)?;
        match v.get_ref().as_bool() {
            Some(b) => Some((b, v.span())),
            None => {
                self.out.error(
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
                self.out.error(
                    v.span(),
                    format!("`{key}` must be an array of tables"),
                    format!("write [[{key}]] sections"),
                );
                None
            }
        }
    }

    /// A word of `options`, named in messages by its key (`unknown kind`).
    fn choice<T: Copy>(&mut self, t: &Table<'_, '_>, key: &str, options: &[(&str, T)]) -> Key<T> {
        self.choice_named(t, key, key, options)
    }

    /// A word of `options`, named in messages as `what` (`unknown histogram type`).
    fn choice_named<T: Copy>(
        &mut self,
        t: &Table<'_, '_>,
        key: &str,
        what: &str,
        options: &[(&str, T)],
    ) -> Key<T> {
        if get(t, key).is_none() {
            return Key::Absent;
        }
        let Some((word, span)) = self.string(t, key, false) else {
            return Key::Unreadable;
        };
        match options.iter().find(|(w, _)| *w == word) {
            Some((_, v)) => Key::Given((*v, span)),
            None => {
                self.out.error(
                    span,
                    format!("unknown {what} `{word}`"),
                    format!("expected one of {}", list(options.iter().map(|o| o.0))),
                );
                Key::Unreadable
            }
        }
    }

    /// A key that must be given: reports it missing.
    fn required<T>(&mut self, t: &Table<'_, '_>, key: &str, k: Key<T>) -> Option<Sp<T>> {
        match k {
            Key::Absent => {
                self.missing(t, key, "\"...\"");
                None
            }
            Key::Unreadable => None,
            Key::Given(v) => Some(v),
        }
    }

    /// A key with a fixed default, located at the table when absent.
    fn or<T>(t: &Table<'_, '_>, k: Key<T>, default: T) -> Option<Sp<T>> {
        match k {
            Key::Absent => Some((default, t.span.clone())),
            Key::Unreadable => None,
            Key::Given(v) => Some(v),
        }
    }
}
