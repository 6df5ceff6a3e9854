//! The derive input as statsfs sees it: a struct with named fields, each classified by the
//! type written (syntax only; the compiler checks the rest through trait bounds).

use syn::{Data, DeriveInput, Fields, Ident, Type};

use crate::attr::{doc, ContainerAttrs, FieldAttrs};
use crate::ctxt::Ctxt;

/// The struct.
pub struct Container<'a> {
    pub ident: &'a Ident,
    pub attrs: ContainerAttrs,
    pub doc: String,
    pub fields: Vec<Field<'a>>,
}

/// One named field.
pub struct Field<'a> {
    pub ident: &'a Ident,
    pub ty: &'a Type,
    pub attrs: FieldAttrs,
    pub doc: String,
    pub class: TypeClass,
}

/// What the written type is known to be.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TypeClass {
    /// A plain integer or bool (`u64`): read at its offset, never cleared.
    Plain { bool: bool },
    /// An atomic (`AtomicU32`, `Counter`, `Gauge`...): read at its offset, clearable.
    Atomic { bool: bool },
    /// Any other path: must implement `CustomValue` (checked by the compiler).
    Custom,
}

const PLAIN: &[&str] = &["u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "bool"];
const ATOMIC: &[&str] = &[
    "AtomicU8",
    "AtomicU16",
    "AtomicU32",
    "AtomicU64",
    "AtomicI8",
    "AtomicI16",
    "AtomicI32",
    "AtomicI64",
    "AtomicBool",
    "Counter",
    "LocalCounter",
    "Gauge",
    "Peak",
];

/// Why a type that can never be a value is refused, or `None` if it may be one.
fn refuse(ty: &Type) -> Option<String> {
    let Type::Path(p) = ty else {
        return Some(
            "a statistics value must be an integer, bool, atomic, statsfs counter or a type implementing `CustomValue`".into(),
        );
    };
    let last = p.path.segments.last()?.ident.to_string();
    Some(match last.as_str() {
        "f32" | "f64" => {
            format!("`{last}` cannot be a statistics value: values are integers carried in 64 bits")
        }
        "usize" | "isize" | "AtomicUsize" | "AtomicIsize" => {
            format!("`{last}` cannot be a statistics value: its width depends on the target; use a 64- or 32-bit type")
        }
        "u128" | "i128" => {
            format!("`{last}` cannot be a statistics value: values are carried in 64 bits")
        }
        "String" | "str" | "char" | "Vec" | "Option" => {
            format!("`{last}` cannot be a statistics value; add `#[stats(skip)]` to keep it out of the set")
        }
        _ => return None,
    })
}

fn classify(ty: &Type) -> TypeClass {
    let Type::Path(p) = ty else {
        return TypeClass::Custom;
    };
    let Some(last) = p.path.segments.last() else {
        return TypeClass::Custom;
    };
    let name = last.ident.to_string();
    if p.qself.is_none() && PLAIN.contains(&name.as_str()) && p.path.segments.len() == 1 {
        TypeClass::Plain {
            bool: name == "bool",
        }
    } else if ATOMIC.contains(&name.as_str()) && last.arguments.is_none() {
        TypeClass::Atomic {
            bool: name == "AtomicBool",
        }
    } else {
        TypeClass::Custom
    }
}

impl<'a> Container<'a> {
    /// Parses the input; `None` when it is not a struct with named fields (reported).
    pub fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Option<Container<'a>> {
        let attrs = ContainerAttrs::parse(cx, &input.attrs);
        let fields = match &input.data {
            Data::Struct(s) => match &s.fields {
                Fields::Named(named) => &named.named,
                Fields::Unnamed(_) => {
                    cx.error_spanned_by(
                        &s.fields,
                        "StatsSource needs named fields: each field name is a value name",
                    );
                    return None;
                }
                Fields::Unit => {
                    cx.error_spanned_by(
                        &input.ident,
                        "StatsSource needs a struct with named fields; a unit struct has no values",
                    );
                    return None;
                }
            },
            Data::Enum(e) => {
                cx.error_spanned_by(
                    e.enum_token,
                    "StatsSource can only be derived for a struct with named fields, not an enum",
                );
                return None;
            }
            Data::Union(u) => {
                cx.error_spanned_by(
                    u.union_token,
                    "StatsSource can only be derived for a struct with named fields, not a union",
                );
                return None;
            }
        };
        if let Some(g) = input.generics.params.first() {
            cx.error_spanned_by(
                g,
                "StatsSource cannot be derived for a generic struct: its value set is one static table",
            );
        }
        let fields = fields
            .iter()
            .filter_map(|f| {
                let ident = f.ident.as_ref()?;
                let attrs = FieldAttrs::parse(cx, &f.attrs);
                if attrs.skip.is_none() {
                    if let Some(why) = refuse(&f.ty) {
                        cx.error_spanned_by(&f.ty, why);
                    }
                }
                Some(Field {
                    ident,
                    ty: &f.ty,
                    doc: doc(&f.attrs),
                    class: classify(&f.ty),
                    attrs,
                })
            })
            .collect();
        Some(Container {
            ident: &input.ident,
            doc: doc(&input.attrs),
            attrs,
            fields,
        })
    }
}

impl Field<'_> {
    /// The value name: `rename` or the field name without `r#`.
    pub fn name(&self) -> String {
        match &self.attrs.rename {
            Some(r) => r.value.clone(),
            None => {
                let s = self.ident.to_string();
                s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
            }
        }
    }

    /// The value type the written type name stands for (custom types: unknown, unsigned).
    pub fn value_type(&self) -> statsfs_runtime::ValueType {
        use statsfs_runtime::ValueType as T;
        let name = match self.ty {
            Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        };
        match (
            self.class,
            name.as_deref().map(|n| n.trim_start_matches("Atomic")),
        ) {
            (TypeClass::Custom, _) => T::Custom { signed: false },
            (_, Some("u8" | "U8")) => T::U8,
            (_, Some("u16" | "U16")) => T::U16,
            (_, Some("u32" | "U32")) => T::U32,
            (_, Some("i8" | "I8")) => T::I8,
            (_, Some("i16" | "I16")) => T::I16,
            (_, Some("i32" | "I32")) => T::I32,
            (_, Some("i64" | "I64")) => T::I64,
            (_, Some("bool" | "Bool")) => T::Bool,
            _ => T::U64,
        }
    }

    pub fn kind(&self) -> statsfs_runtime::Kind {
        self.attrs
            .kind
            .as_ref()
            .map_or(statsfs_runtime::Kind::Cumulative, |k| k.value)
    }

    pub fn aggregation(&self) -> statsfs_runtime::Aggregation {
        self.attrs
            .aggregation
            .as_ref()
            .map_or(statsfs_runtime::Aggregation::Sum, |a| a.value)
    }

    pub fn unit(&self) -> statsfs_runtime::UnitKind {
        self.attrs
            .unit
            .as_ref()
            .map_or(statsfs_runtime::UnitKind::None, |u| u.value)
    }
}
