//! Checks that need the whole container: names, duplicates after `rename`, and attribute
//! combinations that make no sense for the field's type or kind.

use std::collections::HashMap;

use statsfs_runtime::rules;

use crate::ast::{Container, TypeClass};
use crate::ctxt::Ctxt;

/// `VcpuStats` → `vcpu_stats`: the set name when none is given.
pub fn snake_case(ident: &str) -> String {
    let mut out = String::new();
    for (i, ch) in ident.chars().enumerate() {
        if ch.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(ch.to_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

pub fn check(cx: &Ctxt, cont: &Container<'_>) {
    if let Some(n) = &cont.attrs.name {
        if let Some(why) = invalid_name(&n.value).or_else(|| rules::declared_name(&n.value)) {
            cx.error_at(n.span, format!("invalid set name {:?}: {why}", n.value));
        }
    }
    if let Some(l) = &cont.attrs.label {
        if let Some(why) = invalid_name(&l.value) {
            cx.error_at(l.span, format!("invalid label {:?}: {why}", l.value));
        } else if let Some(msg) = rules::label_name(&l.value, true) {
            cx.error_at(l.span, msg);
        }
    }
    let set_name = cont
        .attrs
        .name
        .as_ref()
        .map_or_else(|| snake_case(&cont.ident.to_string()), |n| n.value.clone());
    let set_name_ok = invalid_name(&set_name)
        .or_else(|| rules::declared_name(&set_name))
        .is_none();
    if cont.attrs.label.is_none() && set_name_ok {
        if let Some(msg) = rules::label_name(&set_name, false) {
            let span = cont
                .attrs
                .name
                .as_ref()
                .map_or(cont.ident.span(), |n| n.span);
            cx.error_at(span, msg);
        }
    }
    // One linear pass for duplicates: a set may have thousands of values.
    let mut seen: HashMap<String, &syn::Ident> = HashMap::new();
    // (name, where, kind, unit) of every exported value, for the metric-name rule.
    let mut exported = Vec::new();
    for f in &cont.fields {
        let a = &f.attrs;
        if let Some(skip) = a.skip {
            let others = a.aggregation.is_some()
                || a.kind.is_some()
                || a.unit.is_some()
                || a.base.is_some()
                || a.exponent.is_some()
                || a.show.is_some()
                || a.rename.is_some()
                || a.clearable.is_some()
                || a.hidden.is_some();
            if others {
                cx.error_at(
                    skip,
                    "a skipped field is not a value; remove its other stats attributes",
                );
            }
            continue;
        }
        let name = f.name();
        let name_span = a.rename.as_ref().map_or(f.ident.span(), |r| r.span);
        if let Some(why) = invalid_name(&name).or_else(|| rules::declared_name(&name)) {
            cx.error_at(name_span, format!("invalid value name {name:?}: {why}"));
        }
        if let Some(first) = seen.get(&name) {
            cx.error_at(
                name_span,
                format!("two values named `{name}`: field `{first}` already has this name"),
            );
        } else {
            seen.insert(name.clone(), f.ident);
            if a.hidden.is_none() {
                exported.push((name, name_span, f.kind(), f.unit()));
            }
        }

        let kind = f.kind();
        let agg = f.aggregation();
        if let Some(msg) = rules::aggregation_for_type(f.value_type(), agg) {
            let span = a.aggregation.as_ref().map_or(f.ident.span(), |x| x.span);
            cx.error_at(span, msg);
        }
        // A peak may aggregate with `sum` on purpose: KVM's debugfs sums per-VM peaks, and
        // matching it is a legitimate choice (kvm-stats.md §6), so no check on kind here.
        if let Some(c) = a.clearable.as_ref().filter(|c| c.value) {
            // The runtime's rule: anything not floating (instant) clears, peaks included.
            if let Some(msg) = rules::clearable_kind(kind) {
                cx.error_at(c.span, msg);
            } else if let TypeClass::Plain { .. } = f.class {
                cx.error_at(
                    c.span,
                    format!(
                        "a plain `{}` cannot be cleared; use `Counter`, `LocalCounter` or an atomic",
                        type_text(f.ty)
                    ),
                );
            }
        }
        let unit = f.unit();
        for (what, tokens) in [
            ("base", a.base.as_ref().map(|b| &b.tokens)),
            ("exponent", a.exponent.as_ref().map(|e| &e.tokens)),
        ] {
            if let (Some(tokens), Some(msg)) = (tokens, rules::scale_for_unit(unit, what)) {
                cx.error_spanned_by(tokens, msg);
            }
        }
        if let (Some(u), Some(msg)) = (&a.unit, rules::unit_for_type(f.value_type(), unit)) {
            cx.error_at(u.span, msg);
        }
    }
    // The prefix is the backend's; collisions within a set do not depend on it.
    let collisions = rules::metric_collisions(
        "",
        &set_name,
        exported.iter().map(|(n, _, k, u)| (n.as_str(), *k, *u)),
    );
    for c in collisions {
        let (first, second) = (&exported[c.first], &exported[c.second]);
        let c = rules::MetricCollision {
            metric: format!("<prefix>_{}", c.metric),
            ..c
        };
        cx.error_at(second.1, c.message(&first.0, &second.0));
    }
}

/// Why the runtime refuses `name` (its own rule, not a copy), or `None` if it is valid.
fn invalid_name(name: &str) -> Option<String> {
    match statsfs_runtime::validate_name(name) {
        Ok(()) => None,
        Err(statsfs_runtime::Error::InvalidName { reason, .. }) => Some(reason.to_owned()),
        Err(e) => Some(e.to_string()),
    }
}

fn type_text(ty: &syn::Type) -> String {
    quote::quote!(#ty).to_string().replace(' ', "")
}
