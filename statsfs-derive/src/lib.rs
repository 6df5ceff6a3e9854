//! `#[derive(StatsSource)]`: turns a struct of counters into a statsfs value set (the
//! runtime's IR) with zero-cost field accessors. Use it through the `statsfs` facade; the
//! attributes are documented on [`macro@StatsSource`].
#![deny(missing_docs)]

mod ast;
mod attr;
mod check;
mod ctxt;
mod expand;

use proc_macro::TokenStream;

#[doc = include_str!("../attributes.md")]
#[proc_macro_derive(StatsSource, attributes(stats))]
pub fn derive_stats_source(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::derive(&input).into()
}
