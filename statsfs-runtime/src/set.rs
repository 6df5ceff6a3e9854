//! Value sets: the ordered tables of descriptors whose identity links simple values to
//! their aggregates.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

use crate::desc::{AccessKind, ValueDesc, ValueType};
use crate::error::{Error, Result};
use crate::name::validate_name;

/// Reads every value of one instance at once into carriers (one per descriptor), for sets
/// whose instance can only be read consistently in one go (a kernel stats fd: one `pread`).
pub type ReadAllFn = fn(&(dyn Any + Send + Sync), &mut [u64]);

/// An ordered table of value descriptors.
///
/// A set is always used as `&'static ValueSet` and its address is its identity: the
/// aggregate of set `S` folds exactly the simple groups of `S`, never a set that merely has
/// the same name. Static tables must therefore be `static`, not `const` (a `const` would be
/// a new set at every use). Sets built at run time are leaked with [`ValueSet::leak`]; they
/// are built once per kind of instance (a kernel's descriptor table), so that is bounded.
pub struct ValueSet {
    name: Cow<'static, str>,
    doc: Cow<'static, str>,
    label: Option<Cow<'static, str>>,
    values: Cow<'static, [ValueDesc]>,
    read_all: Option<ReadAllFn>,
    checked: OnceLock<Result<Option<TypeId>>>,
}

impl ValueSet {
    /// A set over a static table; what the derive and the generator emit.
    pub const fn new(
        name: &'static str,
        doc: &'static str,
        label: Option<&'static str>,
        values: &'static [ValueDesc],
    ) -> ValueSet {
        ValueSet {
            name: Cow::Borrowed(name),
            doc: Cow::Borrowed(doc),
            label: match label {
                Some(l) => Some(Cow::Borrowed(l)),
                None => None,
            },
            values: Cow::Borrowed(values),
            read_all: None,
            checked: OnceLock::new(),
        }
    }

    /// A set built at run time (for example from a kernel's stats descriptors).
    pub fn owned(
        name: impl Into<Cow<'static, str>>,
        doc: impl Into<Cow<'static, str>>,
        label: Option<String>,
        values: Vec<ValueDesc>,
    ) -> ValueSet {
        ValueSet {
            name: name.into(),
            doc: doc.into(),
            label: label.map(Cow::Owned),
            values: Cow::Owned(values),
            read_all: None,
            checked: OnceLock::new(),
        }
    }

    /// Adds a bulk reader used by snapshots instead of one read per value.
    pub const fn with_read_all(mut self, read_all: ReadAllFn) -> ValueSet {
        self.read_all = Some(read_all);
        self
    }

    /// Gives the set its `'static` identity. See the type's documentation for why leaking
    /// is the right lifetime here.
    pub fn leak(self) -> &'static ValueSet {
        Box::leak(Box::new(self))
    }

    /// Name of the set (`vcpu`, `vm`, `netdev`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Documentation of the set.
    pub fn doc(&self) -> &str {
        &self.doc
    }

    /// The label name a backend gives the sources carrying this set (`vm`, `vcpu`).
    pub fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }

    /// The descriptors, in declaration order.
    pub fn values(&self) -> &[ValueDesc] {
        &self.values
    }

    /// The bulk reader, if any.
    pub fn read_all(&self) -> Option<ReadAllFn> {
        self.read_all
    }

    /// Index of the first descriptor called `name`.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.values.iter().position(|d| d.name == name)
    }

    /// Whether two sets describe the same statistics (name, doc, label, descriptors), so
    /// that the derive and the generator can be checked to emit the same IR. This is
    /// equality of content; aggregation links sets by identity ([`ValueSet::same`]).
    pub fn same_ir(&self, other: &ValueSet) -> bool {
        self.name == other.name
            && self.doc == other.doc
            && self.label == other.label
            && self.values == other.values
            && self.read_all.is_some() == other.read_all.is_some()
    }

    /// Whether two references are the same set (identity, not name).
    pub fn same(a: &ValueSet, b: &ValueSet) -> bool {
        std::ptr::eq(a, b)
    }

    /// Checks the set once and remembers the answer: names valid and unique, field
    /// accessors consistent with the declared types and with one owner type. Returns the
    /// owner type of the field accessors, if any.
    pub fn validate(&self) -> Result<Option<TypeId>> {
        self.checked.get_or_init(|| self.check()).clone()
    }

    fn check(&self) -> Result<Option<TypeId>> {
        let bad = |reason: String| Error::InvalidSet {
            set: self.name.to_string(),
            reason: Cow::Owned(reason),
        };
        validate_name(&self.name).map_err(|e| bad(e.to_string()))?;
        let mut owner: Option<TypeId> = None;
        for (i, d) in self.values.iter().enumerate() {
            validate_name(&d.name).map_err(|e| bad(e.to_string()))?;
            if self.values[..i].iter().any(|o| o.name == d.name) {
                return Err(bad(format!("two values named {:?}", d.name)));
            }
            if let AccessKind::Field {
                offset,
                owner: o,
                ty,
                ..
            } = d.access.0
            {
                if matches!(d.ty, ValueType::Custom { .. }) {
                    return Err(bad(format!(
                        "{:?}: a custom type needs function access",
                        d.name
                    )));
                }
                if ty != d.ty {
                    return Err(bad(format!(
                        "{:?} is declared {} but its field is {}",
                        d.name,
                        d.ty.as_str(),
                        ty.as_str()
                    )));
                }
                let width = ty.width().unwrap_or(8);
                if offset % width != 0 {
                    return Err(bad(format!("{:?}: misaligned field offset", d.name)));
                }
                match owner {
                    None => owner = Some(o()),
                    Some(t) if t != o() => {
                        return Err(bad(format!(
                            "{:?}: field accessors of different types in one set",
                            d.name
                        )))
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(owner)
    }
}

impl fmt::Debug for ValueSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValueSet")
            .field("name", &self.name)
            .field("addr", &(self as *const ValueSet))
            .field("values", &self.values.len())
            .finish()
    }
}
