//! The checked schema: what a `schemas/<name>.toml` file means, with the runtime's own
//! enums so generated code and documentation cannot disagree with the IR.

use std::ops::Range;

use statsfs_runtime::{Aggregation, Base, Kind, UnitKind, ValueType};

/// One schema file.
#[derive(Clone, Debug)]
pub struct Schema {
    /// Format version (1).
    pub version: u32,
    /// Schema name: module and page name (`kvm`).
    pub name: String,
    /// What the schema covers.
    pub doc: String,
    /// The value sets, in file order.
    pub sets: Vec<Set>,
}

/// One value set.
#[derive(Clone, Debug)]
pub struct Set {
    /// Set name (`vcpu`).
    pub name: String,
    /// Where the name was written.
    pub span: Range<usize>,
    /// Rust struct name (`VcpuStats`).
    pub rust_name: String,
    /// Label name backends give sources carrying the set (`vcpu`).
    pub label: Option<String>,
    /// Path pattern of the directories holding the set (`kvm/<tid>-<fd>/vcpu<N>/`).
    pub path: Option<String>,
    /// What the set describes.
    pub doc: String,
    /// Its values, in order.
    pub values: Vec<Value>,
}

/// How the generated struct stores a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// `statsfs::Counter`: any thread increments.
    Counter,
    /// `statsfs::LocalCounter`: one writing thread.
    Local,
    /// `statsfs::Gauge`.
    Gauge,
    /// `statsfs::Peak`.
    Peak,
    /// A std atomic of the value's type.
    Atomic,
    /// A plain integer, read-only.
    Plain,
}

impl Storage {
    /// The words a schema may use.
    pub const WORDS: &'static [(&'static str, Storage)] = &[
        ("counter", Storage::Counter),
        ("local", Storage::Local),
        ("gauge", Storage::Gauge),
        ("peak", Storage::Peak),
        ("atomic", Storage::Atomic),
        ("plain", Storage::Plain),
    ];

    /// Whether the storage can be cleared.
    pub fn can_clear(self) -> bool {
        self != Storage::Plain
    }
}

/// A histogram value (KVM's `*_hist`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Histogram {
    /// `log` or `linear`.
    pub log: bool,
    /// Number of buckets.
    pub buckets: u32,
    /// Bucket width for linear histograms.
    pub bucket_size: u32,
}

/// How a value is shown instead of its number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Show {
    /// Numbers to names; other numbers show as decimal.
    Map(Vec<(u64, String)>),
    /// A function path `fn(u64) -> &'static str | String | Cow<'static, str>`.
    Path(String),
}

/// One value.
#[derive(Clone, Debug)]
pub struct Value {
    /// Value name (file name).
    pub name: String,
    /// Where the name was written.
    pub span: Range<usize>,
    /// Integer type.
    pub ty: ValueType,
    /// Rust storage.
    pub storage: Storage,
    /// Aggregation.
    pub aggregation: Aggregation,
    /// Kind.
    pub kind: Kind,
    /// Unit.
    pub unit: UnitKind,
    /// Base of the scale.
    pub base: Base,
    /// Exponent of the scale.
    pub exponent: i16,
    /// Whether writing 0 clears it.
    pub clearable: bool,
    /// Whether it has no file.
    pub hidden: bool,
    /// Documentation.
    pub doc: String,
    /// Show map or function.
    pub show: Option<Show>,
    /// Histogram shape, for histogram values.
    pub histogram: Option<Histogram>,
    /// Why the value may be absent (`"not in mainline"`), if it may.
    pub optional: Option<String>,
}

impl Value {
    /// The file mode the filesystem view gives it.
    pub fn file_mode(&self) -> u32 {
        if self.clearable {
            0o644
        } else {
            0o444
        }
    }

    /// The unit with its scale, as documentation and diffs show it: `none`, `bytes`,
    /// `seconds × 10^-9`.
    pub fn unit_text(&self) -> String {
        if self.unit == UnitKind::None || self.exponent == 0 {
            return self.unit_word().into();
        }
        let base = if self.base == Base::Pow2 { 2 } else { 10 };
        format!("{} × {base}^{}", self.unit_word(), self.exponent)
    }

    /// The unit as the schema spells it.
    pub fn unit_word(&self) -> &'static str {
        self.unit.as_str()
    }
}
