//! Breaking changes between two versions of a schema, by named category. Additions are
//! not breaking: readers of the old schema keep working.

use serde::Serialize;

use crate::schema::{Schema, Value};

/// One difference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The category: `set_removed`, `value_removed`, `value_renamed`, `type_changed`,
    /// `aggregation_changed`, `kind_changed`, `unit_changed`, `clearable_changed`, or for
    /// additions `set_added`, `value_added`.
    pub category: &'static str,
    /// The set concerned.
    pub set: String,
    /// The value concerned, if any.
    pub value: Option<String>,
    /// Old → new, in words.
    pub detail: String,
}

/// The outcome of a comparison.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Diff {
    /// Changes that break readers of the old schema.
    pub breaking: Vec<Change>,
    /// Changes that do not.
    pub additions: Vec<Change>,
}

/// Same statistic under another name: everything but the name equal.
fn same_but_name(a: &Value, b: &Value) -> bool {
    a.ty == b.ty
        && a.aggregation == b.aggregation
        && a.kind == b.kind
        && a.unit == b.unit
        && a.base == b.base
        && a.exponent == b.exponent
        && a.doc == b.doc
}

/// Compares `old` with `new`.
pub fn diff(old: &Schema, new: &Schema) -> Diff {
    let mut d = Diff::default();
    let change = |category, set: &str, value: Option<&str>, detail: String| Change {
        category,
        set: set.to_owned(),
        value: value.map(str::to_owned),
        detail,
    };
    for os in &old.sets {
        let Some(ns) = new.sets.iter().find(|s| s.name == os.name) else {
            d.breaking.push(change(
                "set_removed",
                &os.name,
                None,
                format!("set `{}` is gone", os.name),
            ));
            continue;
        };
        let added: Vec<&Value> = ns
            .values
            .iter()
            .filter(|v| !os.values.iter().any(|o| o.name == v.name))
            .collect();
        let mut renamed_to: Vec<&str> = Vec::new();
        for ov in &os.values {
            let Some(nv) = ns.values.iter().find(|v| v.name == ov.name) else {
                match added
                    .iter()
                    .find(|a| same_but_name(ov, a) && !renamed_to.contains(&a.name.as_str()))
                {
                    Some(a) => {
                        renamed_to.push(&a.name);
                        d.breaking.push(change(
                            "value_renamed",
                            &os.name,
                            Some(&ov.name),
                            format!("`{}` is now `{}`", ov.name, a.name),
                        ));
                    }
                    None => d.breaking.push(change(
                        "value_removed",
                        &os.name,
                        Some(&ov.name),
                        format!("`{}` is gone", ov.name),
                    )),
                }
                continue;
            };
            let mut field = |cat, was: String, now: String| {
                if was != now {
                    d.breaking.push(change(
                        cat,
                        &os.name,
                        Some(&ov.name),
                        format!("{was} -> {now}"),
                    ));
                }
            };
            field("type_changed", ov.ty.as_str().into(), nv.ty.as_str().into());
            field(
                "aggregation_changed",
                ov.aggregation.as_str().into(),
                nv.aggregation.as_str().into(),
            );
            field(
                "kind_changed",
                ov.kind.as_str().into(),
                nv.kind.as_str().into(),
            );
            field("unit_changed", ov.unit_text(), nv.unit_text());
            if ov.clearable && !nv.clearable {
                field("clearable_changed", "clearable".into(), "read-only".into());
            }
        }
        for a in added
            .iter()
            .filter(|a| !renamed_to.contains(&a.name.as_str()))
        {
            d.additions.push(change(
                "value_added",
                &ns.name,
                Some(&a.name),
                format!("`{}` is new", a.name),
            ));
        }
    }
    for ns in new
        .sets
        .iter()
        .filter(|n| !old.sets.iter().any(|o| o.name == n.name))
    {
        d.additions.push(change(
            "set_added",
            &ns.name,
            None,
            format!("set `{}` is new", ns.name),
        ));
    }
    d
}

impl Diff {
    /// One line per change, breaking first.
    pub fn text(&self) -> String {
        let mut s = String::new();
        for (what, list) in [
            ("breaking", &self.breaking),
            ("compatible", &self.additions),
        ] {
            for c in list {
                let at = match &c.value {
                    Some(v) => format!("{}.{v}", c.set),
                    None => c.set.clone(),
                };
                s.push_str(&format!("{what}: {} {at}: {}\n", c.category, c.detail));
            }
        }
        if self.breaking.is_empty() {
            s.push_str("no breaking changes\n");
        }
        s
    }
}
