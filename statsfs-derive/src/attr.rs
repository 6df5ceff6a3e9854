//! `#[stats(...)]` attributes, parsed with every problem reported (never the first only):
//! unknown keys, bad values with the valid ones listed, duplicates.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::{Attribute, LitInt, LitStr, Token};

use statsfs_runtime::{Aggregation, Kind, UnitKind};

use crate::ctxt::Ctxt;

/// A parsed value and where it was written.
#[derive(Clone)]
pub struct Sp<T> {
    pub value: T,
    pub span: Span,
}

/// A parsed number and the tokens it was written as: `-9` is two tokens, and an error
/// about it should underline both (a `Span` cannot join them on stable).
#[derive(Clone)]
pub struct SpTokens<T> {
    pub value: T,
    pub tokens: TokenStream,
}

const CONTAINER_KEYS: &[&str] = &["name", "label", "crate"];
const FIELD_KEYS: &[&str] = &[
    "aggregation",
    "kind",
    "unit",
    "base",
    "exponent",
    "show",
    "rename",
    "clearable",
    "skip",
    "hidden",
];

/// Attributes on the struct.
#[derive(Default)]
pub struct ContainerAttrs {
    pub name: Option<Sp<String>>,
    pub label: Option<Sp<String>>,
    pub krate: Option<syn::Path>,
}

/// Attributes on one field.
#[derive(Default)]
pub struct FieldAttrs {
    /// The runtime's own values, with the span of the word written.
    pub aggregation: Option<Sp<Aggregation>>,
    pub kind: Option<Sp<Kind>>,
    pub unit: Option<Sp<UnitKind>>,
    pub base: Option<SpTokens<u8>>,
    pub exponent: Option<SpTokens<i16>>,
    pub show: Option<syn::Path>,
    pub rename: Option<Sp<String>>,
    pub clearable: Option<Sp<bool>>,
    pub skip: Option<Span>,
    pub hidden: Option<Span>,
}

/// Records `value` in `slot`, or reports a duplicate at the second key.
fn set_once<T>(cx: &Ctxt, meta: &ParseNestedMeta<'_>, slot: &mut Option<T>, value: T) {
    if slot.is_some() {
        cx.error_spanned_by(
            &meta.path,
            format!("duplicate stats attribute `{}`", path_name(&meta.path)),
        );
    } else {
        *slot = Some(value);
    }
}

fn path_name(p: &syn::Path) -> String {
    quote::quote!(#p).to_string().replace(' ', "")
}

/// Consumes `= value` (or a parenthesised group) after an unknown or bad key, so parsing
/// continues with the next key.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    let input = meta.input;
    if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
    }
    while !input.is_empty() && !input.peek(Token![,]) {
        input.parse::<TokenTree>()?;
    }
    Ok(())
}

fn parse_str(meta: &ParseNestedMeta<'_>) -> syn::Result<LitStr> {
    meta.value()?.parse()
}

/// One word of a runtime vocabulary (`all`, spelled by `word`): the words are the runtime's,
/// so the derive, the generator and the IR cannot disagree on them.
fn parse_word<T: Copy>(
    cx: &Ctxt,
    meta: &ParseNestedMeta<'_>,
    key: &str,
    all: &[T],
    word: fn(T) -> &'static str,
) -> syn::Result<Option<Sp<T>>> {
    let lit = parse_str(meta)?;
    let written = lit.value();
    match all.iter().find(|&&v| word(v) == written) {
        Some(&value) => Ok(Some(Sp {
            value,
            span: lit.span(),
        })),
        None => {
            let valid: Vec<String> = all.iter().map(|&v| format!("`{}`", word(v))).collect();
            cx.error_spanned_by(
                &lit,
                format!(
                    "unknown {key} `{written}`; expected one of {}",
                    valid.join(", ")
                ),
            );
            Ok(None)
        }
    }
}

/// An integer, optionally negative: the value if it fits in `T`, the text as written (for
/// messages) and the tokens (sign included, for spans).
fn parse_int<T: std::str::FromStr>(
    meta: &ParseNestedMeta<'_>,
) -> syn::Result<(Option<T>, String, TokenStream)> {
    let input = meta.value()?;
    let neg = input.parse::<Option<Token![-]>>()?;
    let lit: LitInt = input.parse()?;
    let text = format!(
        "{}{}",
        if neg.is_some() { "-" } else { "" },
        lit.base10_digits()
    );
    let mut tokens = neg.into_token_stream();
    lit.to_tokens(&mut tokens);
    Ok((text.parse().ok(), text, tokens))
}

fn unknown(cx: &Ctxt, meta: &ParseNestedMeta<'_>, keys: &[&str]) -> syn::Result<()> {
    let list: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
    cx.error_spanned_by(
        &meta.path,
        format!(
            "unknown stats attribute `{}`; expected one of {}",
            path_name(&meta.path),
            list.join(", ")
        ),
    );
    skip_value(meta)
}

fn stats_attrs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|a| a.path().is_ident("stats"))
}

impl ContainerAttrs {
    pub fn parse(cx: &Ctxt, attrs: &[Attribute]) -> ContainerAttrs {
        let mut out = ContainerAttrs::default();
        for attr in stats_attrs(attrs) {
            let r = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("name") {
                    let s = parse_str(&meta)?;
                    set_once(cx, &meta, &mut out.name, Sp { value: s.value(), span: s.span() });
                } else if meta.path.is_ident("label") {
                    let s = parse_str(&meta)?;
                    set_once(cx, &meta, &mut out.label, Sp { value: s.value(), span: s.span() });
                } else if meta.path.is_ident("crate") {
                    let s = parse_str(&meta)?;
                    match s.parse::<syn::Path>() {
                        Ok(p) => set_once(cx, &meta, &mut out.krate, p),
                        Err(_) => cx.error_spanned_by(&s, "`crate` must be a path, like \"::statsfs\""),
                    }
                } else if FIELD_KEYS.contains(&path_name(&meta.path).as_str()) {
                    cx.error_spanned_by(
                        &meta.path,
                        format!(
                            "`{}` is a field attribute; on the struct, expected one of `name`, `label`, `crate`",
                            path_name(&meta.path)
                        ),
                    );
                    skip_value(&meta)?;
                } else {
                    unknown(cx, &meta, CONTAINER_KEYS)?;
                }
                Ok(())
            });
            if let Err(e) = r {
                cx.syn_error(e);
            }
        }
        out
    }
}

impl FieldAttrs {
    pub fn parse(cx: &Ctxt, attrs: &[Attribute]) -> FieldAttrs {
        let mut out = FieldAttrs::default();
        for attr in stats_attrs(attrs) {
            let r = attr.parse_nested_meta(|meta| {
                let p = &meta.path;
                if p.is_ident("aggregation") {
                    if let Some(v) = parse_word(
                        cx,
                        &meta,
                        "aggregation",
                        &Aggregation::ALL,
                        Aggregation::as_str,
                    )? {
                        set_once(cx, &meta, &mut out.aggregation, v);
                    }
                } else if p.is_ident("kind") {
                    if let Some(v) = parse_word(cx, &meta, "kind", &Kind::ALL, Kind::as_str)? {
                        set_once(cx, &meta, &mut out.kind, v);
                    }
                } else if p.is_ident("unit") {
                    if let Some(v) =
                        parse_word(cx, &meta, "unit", &UnitKind::ALL, UnitKind::as_str)?
                    {
                        set_once(cx, &meta, &mut out.unit, v);
                    }
                } else if p.is_ident("base") {
                    let (v, text, tokens) = parse_int::<u8>(&meta)?;
                    match v {
                        Some(b @ (2 | 10)) => {
                            set_once(cx, &meta, &mut out.base, SpTokens { value: b, tokens })
                        }
                        _ => cx.error_spanned_by(
                            tokens,
                            format!("unknown base `{text}`; expected `10` or `2`"),
                        ),
                    }
                } else if p.is_ident("exponent") {
                    // The runtime's range rule, also for numbers beyond any integer type.
                    let (v, text, tokens) = parse_int::<i64>(&meta)?;
                    match v.map(|e| (e, statsfs_runtime::rules::exponent(e))) {
                        Some((e, None)) => set_once(
                            cx,
                            &meta,
                            &mut out.exponent,
                            SpTokens {
                                value: e as i16,
                                tokens,
                            },
                        ),
                        Some((_, Some(msg))) => cx.error_spanned_by(tokens, msg),
                        None => cx.error_spanned_by(
                            tokens,
                            format!(
                                "exponent `{text}` out of range; expected {}..={}",
                                statsfs_runtime::rules::EXPONENT_RANGE.start(),
                                statsfs_runtime::rules::EXPONENT_RANGE.end()
                            ),
                        ),
                    }
                } else if p.is_ident("show") {
                    let input = meta.value()?;
                    if input.peek(LitStr) {
                        // serde's `with = "path"` habit: say what to write instead.
                        let s: LitStr = input.parse()?;
                        cx.error_spanned_by(
                            &s,
                            format!(
                                "`show` takes a function path, not a string: write `show = {}`",
                                s.value()
                            ),
                        );
                    } else {
                        let path: syn::Path = input.parse()?;
                        set_once(cx, &meta, &mut out.show, path);
                    }
                } else if p.is_ident("rename") {
                    let s = parse_str(&meta)?;
                    set_once(
                        cx,
                        &meta,
                        &mut out.rename,
                        Sp {
                            value: s.value(),
                            span: s.span(),
                        },
                    );
                } else if p.is_ident("clearable") {
                    let v = if meta.input.peek(Token![=]) {
                        let b: syn::LitBool = meta.value()?.parse()?;
                        Sp {
                            value: b.value,
                            span: b.span,
                        }
                    } else {
                        Sp {
                            value: true,
                            span: syn::spanned::Spanned::span(p),
                        }
                    };
                    set_once(cx, &meta, &mut out.clearable, v);
                } else if p.is_ident("skip") {
                    set_once(cx, &meta, &mut out.skip, syn::spanned::Spanned::span(p));
                } else if p.is_ident("hidden") {
                    set_once(cx, &meta, &mut out.hidden, syn::spanned::Spanned::span(p));
                } else if CONTAINER_KEYS.contains(&path_name(p).as_str()) {
                    cx.error_spanned_by(
                        p,
                        format!(
                            "`{}` is a struct attribute, not a field attribute",
                            path_name(p)
                        ),
                    );
                    skip_value(&meta)?;
                } else {
                    unknown(cx, &meta, FIELD_KEYS)?;
                }
                Ok(())
            });
            if let Err(e) = r {
                cx.syn_error(e);
            }
        }
        out
    }
}

/// The `///` documentation, lines joined, one leading space per line removed.
pub fn doc(attrs: &[Attribute]) -> String {
    let mut lines = Vec::new();
    for a in attrs.iter().filter(|a| a.path().is_ident("doc")) {
        if let syn::Meta::NameValue(nv) = &a.meta {
            if let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
            {
                let v = s.value();
                lines.push(v.strip_prefix(' ').unwrap_or(&v).trim_end().to_owned());
            }
        }
    }
    lines.join("\n").trim().to_owned()
}
