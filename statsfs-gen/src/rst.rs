//! reStructuredText documentation of a schema: a section per set with a table of its
//! values (type, aggregation, kind, unit, clearability, mode, FUSE path, metric name).

use askama::Template;
use statsfs_runtime::naming::metric_name;
use statsfs_runtime::{Aggregation, Kind, Unit};

use crate::schema::{Schema, Show, Value};

mod filters {
    /// Text safe inside an rst paragraph or table cell: markup characters escaped, lines
    /// joined (a cell is one paragraph).
    #[askama::filter_fn]
    pub fn rst(s: impl std::fmt::Display, _: &dyn askama::Values) -> askama::Result<String> {
        let s = s.to_string();
        let chars: Vec<char> = s.chars().collect();
        let mut out = String::with_capacity(s.len());
        for (i, &c) in chars.iter().enumerate() {
            let next_is_word = chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
            match c {
                '\\' | '*' | '`' | '|' => {
                    out.push('\\');
                    out.push(c);
                }
                // `word_` is a reference in rst; `a_b` is not.
                '_' if !next_is_word => out.push_str("\\_"),
                '\n' => out.push(' '),
                _ => out.push(c),
            }
        }
        Ok(out.trim().to_owned())
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
    // A histogram is not a counter, whatever its kind: no `_total`.
    let kind = if v.histogram.is_some() {
        Kind::Instant
    } else {
        v.kind
    };
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
        metric: metric_name(prefix, set_name, &v.name, kind, v.unit),
        doc,
    }
}

fn bar(s: &str) -> String {
    "=".repeat(s.chars().count().max(3))
}

/// The rst page for `schema`, read from `schema_file`.
pub fn generate(schema: &Schema, schema_file: &str) -> Result<String, String> {
    let title = format!("{} statistics", schema.name);
    let sets = schema
        .sets
        .iter()
        .map(|s| {
            let path = s.path.clone().unwrap_or_else(|| "<source>/".into());
            let title = format!("Set ``{}``", s.name);
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
                    .map(|v| value_doc(&schema.name, &s.name, &path, v))
                    .collect(),
                path,
            }
        })
        .collect();
    let page = Page {
        header: format!("generated by statsfs-gen from {schema_file}, do not edit."),
        title_bar: bar(&title),
        title,
        doc: schema.doc.clone(),
        file: schema_file.to_owned(),
        version: schema.version,
        sets,
    };
    let mut text = page.render().map_err(|e| format!("template: {e}"))?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}
