//! `#[derive(StatsSource)]`: turns a struct of counters into a statsfs value set (the
//! runtime's IR) with zero-cost field accessors. Use it through the `statsfs` facade.
//!
//! Struct attributes: `#[stats(name = "vcpu", label = "vcpu", crate = "::statsfs")]`.
//! Field attributes: `aggregation = "sum|min|max|avg|count_zero|none"`,
//! `kind = "cumulative|instant|peak"`, `unit = "none|bytes|seconds|cycles|boolean"`,
//! `base = 10|2`, `exponent = -9`, `show = path::to::fn`, `rename = "name"`,
//! `clearable [= bool]`, `skip`, `hidden`. `///` comments become the documentation.
#![deny(missing_docs)]

mod ast;
mod attr;
mod check;
mod ctxt;
mod expand;

use proc_macro::TokenStream;

/// Derives `StatsSource`: see the crate documentation for the attributes.
#[proc_macro_derive(StatsSource, attributes(stats))]
pub fn derive_stats_source(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::derive(&input).into()
}
