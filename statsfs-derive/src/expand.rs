//! Code generation: a `static` value set and the `StatsSource` impl. Field values become
//! field-offset accessors, so reading one compiles to a load, as a hand-written table would.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::DeriveInput;

use crate::ast::{Container, Field, TypeClass};
use crate::check::{check, snake_case};
use crate::ctxt::Ctxt;

pub fn derive(input: &DeriveInput) -> TokenStream {
    let cx = Ctxt::default();
    let cont = Container::from_ast(&cx, input);
    if let Some(c) = &cont {
        check(&cx, c);
    }
    match (cx.check(), cont) {
        (Ok(()), Some(c)) => expand(&c),
        (Err(e), c) => {
            // The real errors plus a stub impl, so uses of the type elsewhere do not add
            // "trait not implemented" noise to what the user has to read.
            let krate = c
                .as_ref()
                .and_then(|c| c.attrs.krate.clone())
                .unwrap_or_else(|| syn::parse_quote!(::statsfs));
            let ident = &input.ident;
            // A generic struct is refused, but its stub must still satisfy the trait's
            // `Any + Send + Sync` bound without new errors about its parameters.
            let mut generics = input.generics.clone();
            if !generics.params.is_empty() {
                generics.make_where_clause().predicates.push(
                    syn::parse_quote!(Self: ::core::marker::Send + ::core::marker::Sync + 'static),
                );
            }
            let (imp, ty, wh) = generics.split_for_impl();
            let errors = e.to_compile_error();
            quote! {
                #errors
                impl #imp #krate::StatsSource for #ident #ty #wh {
                    fn value_set() -> &'static #krate::ValueSet {
                        unimplemented!("statsfs derive failed")
                    }
                }
            }
        }
        (Ok(()), None) => quote!(),
    }
}

fn expand(c: &Container<'_>) -> TokenStream {
    let krate: syn::Path = c
        .attrs
        .krate
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(::statsfs));
    let ident = c.ident;
    let set_name = c
        .attrs
        .name
        .as_ref()
        .map_or_else(|| snake_case(&ident.to_string()), |n| n.value.clone());
    let set_doc = &c.doc;
    let label = match &c.attrs.label {
        Some(l) => {
            let v = &l.value;
            quote!(::core::option::Option::Some(#v))
        }
        None => quote!(::core::option::Option::None),
    };
    let mut helpers = Vec::new();
    let descs: Vec<TokenStream> = c
        .fields
        .iter()
        .filter(|f| f.attrs.skip.is_none())
        .enumerate()
        .map(|(i, f)| desc(&krate, ident, i, f, &mut helpers))
        .collect();
    if c.fields
        .iter()
        .any(|f| f.attrs.show.is_some() && f.attrs.skip.is_none())
    {
        helpers.push(show_text(&krate));
    }
    let count = descs.len();
    quote! {
        #[automatically_derived]
        impl #krate::StatsSource for #ident {
            fn value_set() -> &'static #krate::ValueSet {
                #(#helpers)*
                // Its own static rather than a promoted `&[...]`: custom-type descriptors
                // hold expressions (an `if` on CustomValue::CAN_CLEAR) that never promote.
                static VALUES: [#krate::ValueDesc; #count] = [#(#descs),*];
                static SET: #krate::ValueSet =
                    #krate::ValueSet::new(#set_name, #set_doc, #label, &VALUES);
                &SET
            }
        }
    }
}

fn desc(
    krate: &syn::Path,
    owner: &syn::Ident,
    index: usize,
    f: &Field<'_>,
    helpers: &mut Vec<TokenStream>,
) -> TokenStream {
    let a = &f.attrs;
    let (field, fty) = (f.ident, f.ty);
    let name = f.name();
    let doc = &f.doc;
    // The runtime's variant names are the enums' Debug names.
    let agg = format_ident!("{}", format!("{:?}", f.aggregation()));
    let kind = format_ident!("{}", format!("{:?}", f.kind()));
    let unit = format_ident!("{}", format!("{:?}", f.unit()));
    let base = format_ident!(
        "{}",
        if a.base.as_ref().is_some_and(|b| b.value == 2) {
            "Pow2"
        } else {
            "Pow10"
        }
    );
    let exponent = a.exponent.as_ref().map_or(0, |e| e.value);
    let hidden = a.hidden.is_some();

    let show = match &a.show {
        Some(path) => {
            let helper = format_ident!("__statsfs_show_{}", index);
            // The argument is the path the user wrote, so a wrong signature points there.
            let call = quote!(__statsfs_show_text(#path, v));
            helpers.push(quote! {
                fn #helper(v: u64) -> ::std::borrow::Cow<'static, str> { #call }
            });
            quote!(::core::option::Option::Some(#helper as #krate::ShowFn))
        }
        None => quote!(::core::option::Option::None),
    };

    let (ty, access) = match f.class {
        TypeClass::Plain { .. } | TypeClass::Atomic { .. } => (
            quote!(<#fty as #krate::FieldType>::TYPE),
            quote!(#krate::field_access!(#owner, #field)),
        ),
        TypeClass::Custom => {
            let get = format_ident!("__statsfs_get_{}", index);
            let clear = format_ident!("__statsfs_clear_{}", index);
            let bound = quote_spanned!(type_span(fty)=> <#fty as #krate::CustomValue>);
            helpers.push(quote! {
                fn #get(x: &(dyn ::core::any::Any + Send + Sync), _: usize) -> u64 {
                    x.downcast_ref::<#owner>().map_or(0, |o| #bound::get(&o.#field))
                }
                fn #clear(x: &(dyn ::core::any::Any + Send + Sync), _: usize) {
                    if let ::core::option::Option::Some(o) = x.downcast_ref::<#owner>() {
                        #bound::clear(&o.#field)
                    }
                }
            });
            if a.clearable.as_ref().is_some_and(|c| c.value) {
                let span = a.clearable.as_ref().map_or(Span::call_site(), |c| c.span);
                let msg = format!("`{name}` is marked clearable but its type cannot clear (CustomValue::CAN_CLEAR is false)");
                helpers.push(quote_spanned! {span=>
                    const _: () = ::core::assert!(#bound::CAN_CLEAR, #msg);
                });
            }
            (
                quote!(#krate::ValueType::Custom { signed: #bound::SIGNED }),
                quote!(#krate::Access::func(
                    #get,
                    if #bound::CAN_CLEAR { ::core::option::Option::Some(#clear) } else { ::core::option::Option::None },
                    0,
                )),
            )
        }
    };
    let access = if a.clearable.as_ref().is_some_and(|c| !c.value) {
        quote!(#access.read_only())
    } else {
        access
    };
    quote! {
        #krate::ValueDesc {
            name: ::std::borrow::Cow::Borrowed(#name),
            doc: ::std::borrow::Cow::Borrowed(#doc),
            ty: #ty,
            aggregation: #krate::Aggregation::#agg,
            kind: #krate::Kind::#kind,
            unit: #krate::Unit::new(#krate::UnitKind::#unit, #krate::Base::#base, #exponent),
            show: #show,
            access: #access,
            hidden: #hidden,
        }
    }
}

/// What show functions go through: the runtime's `show_with`, behind a bound that names the
/// accepted return types when the user's function returns something else (rather than
/// `Cow<str>: From<i32>` and every `From` impl of `Cow`).
fn show_text(krate: &syn::Path) -> TokenStream {
    quote! {
        #[diagnostic::on_unimplemented(
            message = "a `show` function must return `&'static str`, `String` or `Cow<'static, str>`, not `{Self}`",
            label = "this function returns `{Self}`"
        )]
        trait __StatsfsShowText: ::core::convert::Into<::std::borrow::Cow<'static, str>> {}
        impl __StatsfsShowText for &'static str {}
        impl __StatsfsShowText for ::std::string::String {}
        impl __StatsfsShowText for ::std::borrow::Cow<'static, str> {}
        fn __statsfs_show_text<S: __StatsfsShowText>(
            show: fn(u64) -> S,
            v: u64,
        ) -> ::std::borrow::Cow<'static, str> {
            #krate::show_with(show, v)
        }
    }
}

fn type_span(t: &syn::Type) -> Span {
    syn::spanned::Spanned::span(t)
}
