//! Checks that need the whole container: names, duplicates after `rename`, and attribute
//! combinations that make no sense for the field's type or kind.

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
        if let Some(why) = invalid_name(&n.value) {
            cx.error_at(n.span, format!("invalid set name {:?}: {why}", n.value));
        }
    }
    if let Some(l) = &cont.attrs.label {
        if let Some(why) = invalid_name(&l.value) {
            cx.error_at(l.span, format!("invalid label {:?}: {why}", l.value));
        }
    }
    let mut seen: Vec<(String, &syn::Ident)> = Vec::new();
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
        if let Some(why) = invalid_name(&name) {
            cx.error_at(name_span, format!("invalid value name {name:?}: {why}"));
        }
        if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
            cx.error_at(
                name_span,
                format!("two values named `{name}`: field `{first}` already has this name"),
            );
        } else {
            seen.push((name, f.ident));
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
