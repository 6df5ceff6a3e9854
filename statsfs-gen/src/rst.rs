//! reStructuredText documentation of a schema: a section per set with a table of its
//! values (type, aggregation, kind, unit, clearability, mode, FUSE path, metric name).

use askama::Template;
use statsfs_runtime::naming::{metric_name, DEFAULT_NAMESPACE};
use statsfs_runtime::{Aggregation, Unit};

use crate::schema::{Schema, Show, Value};

/// `s` as one rst paragraph that docutils shows literally: its lines joined (a table cell
/// is one paragraph, and docutils splits lines at more characters than `\n`), invisible
/// characters written out ([`crate::text`]), inline markup characters escaped, and the
/// first word escaped wherever it could open a block (`- `, `1. `, `.. include::`, `::`,
/// `>>>`, `----`), as could a final `::` (a literal block). Never rejected: a doc is text.
pub fn paragraph(s: &str) -> String {
    let joined = crate::text::lines(s).join(" ");
    let chars: Vec<char> = joined.trim().chars().collect();
    let word_end = chars
        .iter()
        .position(|c| c.is_whitespace())
        .unwrap_or(chars.len());
    // Only a first word that starts with punctuation or is an enumerator opens a block.
    let first_word = if chars.first().is_some_and(|&c| opens(c)) || enumerator(&chars[..word_end]) {
        word_end
    } else {
        0
    };
    let final_colons = if chars.ends_with(&[':', ':']) {
        chars.len() - 2
    } else {
        chars.len()
    };
    let mut out = String::with_capacity(joined.len());
    for (i, &c) in chars.iter().enumerate() {
        let next_is_word = chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
        let opens_block = (i < first_word || i >= final_colons) && opens(c);
        match c {
            '\\' | '*' | '`' | '|' => {
                out.push('\\');
                out.push(c);
            }
            // `word_` is a reference in rst; `a_b` is not.
            '_' if !next_is_word => out.push_str("\\_"),
            _ if opens_block => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Whether `c` may start or end rst block markup: ASCII punctuation and docutils' bullets.
fn opens(c: char) -> bool {
    c.is_ascii_punctuation() || matches!(c, '•' | '‣' | '⁃')
}

/// Whether `word` is an rst enumerator with its closing `.` or `)`: `1.`, `a)`, `iv.`.
fn enumerator(word: &[char]) -> bool {
    let Some((last, body)) = word.split_last() else {
        return false;
    };
    let roman = |c: &char| "ivxlcdmIVXLCDM".contains(*c);
    matches!(last, '.' | ')')
        && !body.is_empty()
        && (body.iter().all(char::is_ascii_digit)
            || (body.len() == 1 && body[0].is_ascii_alphabetic())
            || body.iter().all(roman))
}

/// `s` as an inline literal (``` ``s`` ```) when one can hold it (no backquote, nothing
/// invisible, no space at either end), else as an escaped [`paragraph`], still literal text.
pub fn literal(s: &str) -> String {
    let plain = !s.is_empty()
        && !s.contains('`')
        && !s.chars().any(statsfs_runtime::rules::unprintable)
        && !s.starts_with(char::is_whitespace)
        && !s.ends_with(char::is_whitespace);
    if plain {
        format!("``{s}``")
    } else {
        paragraph(s)
    }
}

mod filters {
    /// [`super::paragraph`].
    #[askama::filter_fn]
    pub fn rst(s: impl std::fmt::Display, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(super::paragraph(&s.to_string()))
    }

    /// [`super::literal`].
    #[askama::filter_fn]
    pub fn lit(s: impl std::fmt::Display, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(super::literal(&s.to_string()))
    }
}

#[derive(Template)]
#[template(path = "rst.askama", escape = "none")]
struct Page {
    header: String,
    title: String,
    title_bar: String,
    doc: String,
    file: String,
    /// The prefix the documented metric names start with: the HTTP server's default.
    namespace: &'static str,
    version: u32,
    sets: Vec<SetDoc>,
}

struct SetDoc {
    name: String,
    title: String,
    title_bar: String,
    doc: String,
    rust_name: String,
    path: String,
    label: Option<String>,
    values: Vec<ValueDoc>,
}

struct ValueDoc {
    name: String,
    ty: String,
    aggregation: &'static str,
    kind: String,
    unit: String,
    clearable: &'static str,
    mode: String,
    path: String,
    /// The metric as an rst literal, or `none` for a value `/metrics` does not serve.
    metric: String,
    doc: String,
}

fn value_doc(prefix: &str, set_name: &str, set_path: &str, v: &Value) -> ValueDoc {
    let mut doc = v.doc.clone();
    if let Some(Show::Map(arms)) = &v.show {
        let names: Vec<String> = arms.iter().map(|(n, t)| format!("{n} = {t}")).collect();
        doc.push_str(&format!(" Shown by name: {}.", names.join(", ")));
    }
    if let Some(h) = &v.histogram {
        doc.push_str(&format!(
            " A {} histogram of {} buckets (not yet served by the runtime).",
            if h.log { "log2" } else { "linear" },
            h.buckets
        ));
    }
    if !v.aggregation.exists() {
        doc.push_str(" No aggregate: directories that aggregate the set have no file for it.");
    }
    let unit = Unit::new(v.unit, v.base, v.exponent);
    if v.aggregation.exists() && v.aggregation.unit_of(unit) != unit {
        let counted = if v.aggregation == Aggregation::CountZero {
            "0"
        } else {
            "1"
        };
        doc.push_str(&format!(
            " Its aggregates count the instances where it is {counted} (unit none)."
        ));
    }
    if v.hidden {
        doc.push_str(" Hidden: no file of its own; counted in aggregates.");
    }
    if let Some(o) = &v.optional {
        doc.push_str(&format!(" Optional: {o}."));
    }
    ValueDoc {
        name: v.name.clone(),
        ty: if v.histogram.is_some() {
            format!(
                "{}[{}]",
                v.ty.as_str(),
                v.histogram.as_ref().map_or(0, |h| h.buckets)
            )
        } else {
            v.ty.as_str().into()
        },
        aggregation: v.aggregation.as_str(),
        kind: if v.histogram.is_some() {
            format!("{} histogram", v.kind.as_str())
        } else {
            v.kind.as_str().into()
        },
        unit: v.unit_text(),
        clearable: if v.clearable { "yes" } else { "no" },
        mode: format!("{:04o}", v.file_mode()),
        path: format!("{set_path}{}", v.name),
        // Hidden values and histograms have no series: documenting a name for them would
        // send a reader to a query that finds nothing.
        metric: if v.hidden || v.histogram.is_some() {
            "none".into()
        } else {
            literal(&metric_name(prefix, set_name, &v.name, v.kind, v.unit))
        },
        doc,
    }
}

/// A title's over- or underline: at least as wide as the title as docutils measures it
/// (East Asian wide characters take two columns), so every non-ASCII character counts two
/// (too long a line is fine, too short a warning).
fn bar(s: &str) -> String {
    let width: usize = s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum();
    "=".repeat(width.max(3))
}

/// The rst page for `schema`, read from `schema_file`.
pub fn generate(schema: &Schema, schema_file: &str) -> Result<String, String> {
    let title = paragraph(&format!("{} statistics", schema.name));
    let sets = schema
        .sets
        .iter()
        .map(|s| {
            let path = s.path.clone().unwrap_or_else(|| "<source>/".into());
            let title = format!("Set {}", literal(&s.name));
            SetDoc {
                title_bar: bar(&title).replace('=', "-"),
                title,
                name: s.name.clone(),
                doc: s.doc.clone(),
                rust_name: s.rust_name.clone(),
                label: s.label.clone(),
                values: s
                    .values
                    .iter()
                    .map(|v| value_doc(DEFAULT_NAMESPACE, &s.name, &path, v))
                    .collect(),
                path,
            }
        })
        .collect();
    let page = Page {
        header: format!(
            "generated by statsfs-gen from {}, do not edit.",
            crate::text::lines(schema_file).join(" ")
        ),
        title_bar: bar(&title),
        title,
        doc: schema.doc.clone(),
        file: schema_file.to_owned(),
        namespace: DEFAULT_NAMESPACE,
        version: schema.version,
        sets,
    };
    let mut text = page.render().map_err(|e| format!("template: {e}"))?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}
