//! Checks that need the whole container: names, duplicates after `rename`, and attribute
//! combinations that make no sense for the field's type or kind.

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
    match &cont.attrs.name {
        Some(n) => {
            if let Err(e) = statsfs_runtime::validate_name(&n.value) {
                cx.error_at(n.span, format!("invalid set name: {e}"));
            }
        }
        None => {}
    }
    if let Some(l) = &cont.attrs.label {
        if let Err(e) = statsfs_runtime::validate_name(&l.value) {
            cx.error_at(l.span, format!("invalid label: {e}"));
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
                cx.error_at(skip, "a skipped field is not a value; remove its other stats attributes");
            }
            continue;
        }
        let name = f.name();
        let name_span = a.rename.as_ref().map_or(f.ident.span(), |r| r.span);
        if let Err(e) = statsfs_runtime::validate_name(&name) {
            cx.error_at(name_span, format!("invalid value name: {e}"));
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
        if f.is_bool() && agg == "Avg" {
            let span = a.aggregation.as_ref().map_or(f.ident.span(), |x| x.span);
            cx.error_at(
                span,
                "`avg` of a bool truncates to 0 or 1; use `sum` (how many are true) or `count_zero` (how many are false)",
            );
        }
        if kind == "Peak" && !matches!(agg, "Max" | "None") {
            let span = a.aggregation.as_ref().or(a.kind.as_ref()).map_or(f.ident.span(), |x| x.span);
            cx.error_at(
                span,
                format!(
                    "a peak aggregates as `max` (the highest of the peaks), not `{}`",
                    agg_word(agg)
                ),
            );
        }
        if let Some(c) = a.clearable.as_ref().filter(|c| c.value) {
            if kind != "Cumulative" {
                cx.error_at(
                    c.span,
                    format!("only cumulative values can be cleared; this one is {}", kind.to_lowercase()),
                );
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
        let unit = a.unit.as_ref().map_or("None", |u| u.value);
        if matches!(unit, "None" | "Boolean") {
            for (what, span) in [("base", a.base.as_ref().map(|b| b.span)), ("exponent", a.exponent.as_ref().map(|e| e.span))] {
                if let Some(span) = span {
                    cx.error_at(
                        span,
                        format!(
                            "`{what}` scales a unit, but the unit is `{}`; set `unit` to bytes, seconds or cycles",
                            unit.to_lowercase()
                        ),
                    );
                }
            }
        }
    }
}

fn agg_word(variant: &str) -> &'static str {
    crate::attr::AGGREGATION
        .options
        .iter()
        .find(|(_, v)| *v == variant)
        .map_or("?", |(w, _)| w)
}

fn type_text(ty: &syn::Type) -> String {
    quote::quote!(#ty).to_string().replace(' ', "")
}
