//! `/snapshot.json` (values, read consistently per group) and `/schema.json` (every value
//! set reachable from the served tree, resolved).

use serde_json::{json, Map, Value};
use statsfs_runtime::naming::metric_name;
use statsfs_runtime::{Base, GroupSnapshot, Source, ValueDesc, ValueSet, Visitor, WalkOptions};

fn number(desc: &ValueDesc, v: u64) -> Value {
    if desc.ty.is_signed() {
        json!(v as i64)
    } else {
        json!(v)
    }
}

struct Snap {
    stack: Vec<Map<String, Value>>,
}

impl Visitor for Snap {
    fn enter(&mut self, source: &Source, _: usize) -> bool {
        let mut m = Map::new();
        m.insert("name".into(), json!(source.name()));
        m.insert("groups".into(), json!([]));
        m.insert("children".into(), json!([]));
        self.stack.push(m);
        true
    }

    fn group(&mut self, _: &Source, g: &GroupSnapshot<'_>) {
        let mut values = Map::new();
        let mut shown = Map::new();
        for (d, v) in g.entries() {
            values.insert(d.name.to_string(), number(d, v));
            if let Some(show) = d.show {
                shown.insert(d.name.to_string(), json!(show(v)));
            }
        }
        let mut gm = Map::new();
        gm.insert("set".into(), json!(g.set.name()));
        gm.insert("aggregate".into(), json!(g.aggregate));
        gm.insert("values".into(), Value::Object(values));
        if !shown.is_empty() {
            gm.insert("shown".into(), Value::Object(shown));
        }
        if let Some(Value::Array(a)) = self.stack.last_mut().and_then(|m| m.get_mut("groups")) {
            a.push(Value::Object(gm));
        }
    }

    fn leave(&mut self, _: &Source, depth: usize) {
        if depth == 0 {
            return;
        }
        if let Some(done) = self.stack.pop() {
            if let Some(Value::Array(a)) = self.stack.last_mut().and_then(|m| m.get_mut("children"))
            {
                a.push(Value::Object(done));
            }
        }
    }
}

/// The subtree as nested JSON: `{name, groups: [{set, aggregate, values, shown?}], children}`.
pub fn snapshot(root: &Source) -> Value {
    let mut s = Snap { stack: Vec::new() };
    root.walk(WalkOptions::default(), &mut s);
    s.stack.pop().map_or(Value::Null, Value::Object)
}

struct Sets(Vec<&'static ValueSet>);

impl Visitor for Sets {
    fn group(&mut self, _: &Source, g: &GroupSnapshot<'_>) {
        if !self.0.iter().any(|s| ValueSet::same(s, g.set)) {
            self.0.push(g.set);
        }
    }
}

/// Every value set in the tree, with its values' types, units, kinds, clearability and the
/// metric names `/metrics` gives them.
pub fn schema(root: &Source, prefix: &str) -> Value {
    let mut sets = Sets(Vec::new());
    root.walk(WalkOptions::default(), &mut sets);
    // The names `/metrics` gives, disambiguated over the sets that have series.
    let series = crate::encode::series_sets(root);
    let names = crate::encode::family_names(prefix, series.iter().copied());
    let served = |set: &ValueSet, i: usize, d: &statsfs_runtime::ValueDesc| {
        series
            .iter()
            .position(|s| ValueSet::same(s, set))
            .and_then(|p| names[p][i].clone())
            .unwrap_or_else(|| metric_name(prefix, set.name(), &d.name, d.kind, d.unit.kind))
    };
    let sets: Vec<Value> = sets
        .0
        .iter()
        .map(|s| {
            let values: Vec<Value> = s
                .values()
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    json!({
                        "name": d.name,
                        "doc": d.doc,
                        "type": d.ty.as_str(),
                        "aggregation": d.aggregation.as_str(),
                        "kind": d.kind.as_str(),
                        "unit": d.unit.kind.as_str(),
                        "base": if d.unit.base == Base::Pow2 { 2 } else { 10 },
                        "exponent": d.unit.exponent,
                        "clearable": d.is_clearable(),
                        "hidden": d.hidden,
                        "show": d.show.is_some(),
                        "file_mode": format!("{:04o}", d.file_mode()),
                        // What an aggregate of it serves (null: it has none), so a reader of
                        // /kvm-stats or a tree view labels aggregates as the backends do.
                        "aggregate": d.has_aggregate().then(|| json!({
                            "kind": d.aggregate_kind().as_str(),
                            "unit": d.aggregate_unit().kind.as_str(),
                            "exponent": d.aggregate_unit().exponent,
                        })),
                        "metric": served(s, i, d),
                    })
                })
                .collect();
            json!({"name": s.name(), "doc": s.doc(), "label": s.label(), "values": values})
        })
        .collect();
    json!({ "sets": sets })
}
