//! Breaking changes between two versions of a schema, each of a [`Category`]. Additions
//! are not breaking: readers of the old schema keep working.

use serde::Serialize;

use crate::schema::{Schema, Set, Value};

/// What changed. The names (`set_removed`...) are what `diff` prints and its JSON holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Category {
    /// A set is gone: its directories and series disappear.
    SetRemoved,
    /// A value is gone.
    ValueRemoved,
    /// A value is gone and another one, equal but for its name, is new.
    ValueRenamed,
    /// A value's integer type changed.
    TypeChanged,
    /// A value's aggregation changed: its aggregate means something else.
    AggregationChanged,
    /// A value's kind changed (cumulative, instant, peak).
    KindChanged,
    /// A value's unit or scale changed.
    UnitChanged,
    /// A clearable value became read-only: writing 0 to it now fails.
    ClearableChanged,
    /// A value became hidden: its file disappears.
    HiddenChanged,
    /// A set's label changed: every series of the set changes.
    LabelChanged,
    /// A set is new.
    SetAdded,
    /// A value is new.
    ValueAdded,
}

impl Category {
    /// The category's name, as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::SetRemoved => "set_removed",
            Category::ValueRemoved => "value_removed",
            Category::ValueRenamed => "value_renamed",
            Category::TypeChanged => "type_changed",
            Category::AggregationChanged => "aggregation_changed",
            Category::KindChanged => "kind_changed",
            Category::UnitChanged => "unit_changed",
            Category::ClearableChanged => "clearable_changed",
            Category::HiddenChanged => "hidden_changed",
            Category::LabelChanged => "label_changed",
            Category::SetAdded => "set_added",
            Category::ValueAdded => "value_added",
        }
    }

    /// Whether readers of the old schema break.
    pub fn is_breaking(self) -> bool {
        !matches!(self, Category::SetAdded | Category::ValueAdded)
    }
}

/// As its name: the JSON output's words are the text output's.
impl Serialize for Category {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One difference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// What changed.
    pub category: Category,
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

/// The label backends give the set's sources: its name unless it sets one.
fn label(set: &Set) -> &str {
    set.label.as_deref().unwrap_or(&set.name)
}

/// Compares `old` with `new`.
pub fn diff(old: &Schema, new: &Schema) -> Diff {
    let mut d = Diff::default();
    let change = |category: Category, set: &str, value: Option<&str>, detail: String| Change {
        category,
        set: set.to_owned(),
        value: value.map(str::to_owned),
        detail,
    };
    for os in &old.sets {
        let Some(ns) = new.sets.iter().find(|s| s.name == os.name) else {
            d.breaking.push(change(
                Category::SetRemoved,
                &os.name,
                None,
                format!("set `{}` is gone", os.name),
            ));
            continue;
        };
        if label(os) != label(ns) {
            d.breaking.push(change(
                Category::LabelChanged,
                &os.name,
                None,
                format!("{} -> {}", label(os), label(ns)),
            ));
        }
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
                            Category::ValueRenamed,
                            &os.name,
                            Some(&ov.name),
                            format!("`{}` is now `{}`", ov.name, a.name),
                        ));
                    }
                    None => d.breaking.push(change(
                        Category::ValueRemoved,
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
            field(
                Category::TypeChanged,
                ov.ty.as_str().into(),
                nv.ty.as_str().into(),
            );
            field(
                Category::AggregationChanged,
                ov.aggregation.as_str().into(),
                nv.aggregation.as_str().into(),
            );
            field(
                Category::KindChanged,
                ov.kind.as_str().into(),
                nv.kind.as_str().into(),
            );
            field(Category::UnitChanged, ov.unit_text(), nv.unit_text());
            if ov.clearable && !nv.clearable {
                field(
                    Category::ClearableChanged,
                    "clearable".into(),
                    "read-only".into(),
                );
            }
            // A value becoming visible only adds a file.
            if !ov.hidden && nv.hidden {
                field(Category::HiddenChanged, "visible".into(), "hidden".into());
            }
        }
        for a in added
            .iter()
            .filter(|a| !renamed_to.contains(&a.name.as_str()))
        {
            d.additions.push(change(
                Category::ValueAdded,
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
            Category::SetAdded,
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
