//! Value descriptors: the per-statistic half of the intermediate representation that the
//! derive and the generator emit and every backend reads.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::fmt;

/// The integer type of a value. Every value travels as a 64-bit carrier: unsigned types
/// zero-extend, signed types sign-extend, bool is 0 or 1 (reference §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// `u8`
    U8,
    /// `u16`
    U16,
    /// `u32`
    U32,
    /// `u64`
    U64,
    /// `i8`
    I8,
    /// `i16`
    I16,
    /// `i32`
    I32,
    /// `i64`
    I64,
    /// `bool`
    Bool,
    /// A type with its own getter (and maybe clear); its getter returns the carrier itself.
    Custom {
        /// Decides comparison, AVG division and text format.
        signed: bool,
    },
}

impl ValueType {
    /// The built-in types, in the order schemas and messages list them.
    pub const BUILTIN: [ValueType; 9] = [
        ValueType::U8,
        ValueType::U16,
        ValueType::U32,
        ValueType::U64,
        ValueType::I8,
        ValueType::I16,
        ValueType::I32,
        ValueType::I64,
        ValueType::Bool,
    ];

    /// The built-in type a schema word names (`u32`).
    pub fn from_word(word: &str) -> Option<ValueType> {
        ValueType::BUILTIN.into_iter().find(|t| t.as_str() == word)
    }

    /// Whether min/max compare, AVG divide and text print as `i64`.
    pub const fn is_signed(self) -> bool {
        matches!(
            self,
            ValueType::I8
                | ValueType::I16
                | ValueType::I32
                | ValueType::I64
                | ValueType::Custom { signed: true }
        )
    }

    /// Bytes a field of this type occupies; `None` for custom types.
    pub const fn width(self) -> Option<usize> {
        match self {
            ValueType::U8 | ValueType::I8 | ValueType::Bool => Some(1),
            ValueType::U16 | ValueType::I16 => Some(2),
            ValueType::U32 | ValueType::I32 => Some(4),
            ValueType::U64 | ValueType::I64 => Some(8),
            ValueType::Custom { .. } => None,
        }
    }

    /// The name used in schemas and documentation.
    pub const fn as_str(self) -> &'static str {
        match self {
            ValueType::U8 => "u8",
            ValueType::U16 => "u16",
            ValueType::U32 => "u32",
            ValueType::U64 => "u64",
            ValueType::I8 => "i8",
            ValueType::I16 => "i16",
            ValueType::I32 => "i32",
            ValueType::I64 => "i64",
            ValueType::Bool => "bool",
            ValueType::Custom { signed: false } => "custom",
            ValueType::Custom { signed: true } => "custom-signed",
        }
    }

    /// Brings a raw value into the carrier: keeps the type's low bits and extends them.
    /// Getters may hand back either extension of a narrow type; both give the same carrier.
    #[inline(always)]
    pub const fn extend(self, raw: u64) -> u64 {
        match self {
            ValueType::U8 => raw as u8 as u64,
            ValueType::U16 => raw as u16 as u64,
            ValueType::U32 => raw as u32 as u64,
            ValueType::U64 | ValueType::Custom { .. } => raw,
            ValueType::I8 => raw as i8 as i64 as u64,
            ValueType::I16 => raw as i16 as i64 as u64,
            ValueType::I32 => raw as i32 as i64 as u64,
            ValueType::I64 => raw,
            ValueType::Bool => (raw as u8 != 0) as u64,
        }
    }
}

/// How an aggregate combines the simple values of its subtree (reference §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Aggregation {
    /// No aggregate: the aggregate file reads 0.
    None,
    /// Wrapping sum.
    Sum,
    /// Smallest value.
    Min,
    /// Largest value.
    Max,
    /// Sum divided by the number of instances (signed division truncates toward zero).
    Avg,
    /// Number of instances whose value is 0 (false).
    CountZero,
}

impl Aggregation {
    /// Every aggregation, in the order schemas and messages list them.
    pub const ALL: [Aggregation; 6] = [
        Aggregation::Sum,
        Aggregation::Min,
        Aggregation::Max,
        Aggregation::Avg,
        Aggregation::CountZero,
        Aggregation::None,
    ];

    /// Whether a value with this aggregation has an aggregate at all. `none` means it has no
    /// meaningful aggregate (a last exit reason, an id): its aggregate group has no file, no
    /// binary descriptor and no JSON entry, instead of a file reading a meaningless 0. Lookup
    /// by name still finds it, and it reads 0 (reference §3).
    pub const fn exists(self) -> bool {
        !matches!(self, Aggregation::None)
    }

    /// The unit of the aggregate of a value in `unit`. A sum of booleans counts the true
    /// ones and a count of zeros counts instances, so both are plain counts (unit none,
    /// exponent 0); min, max, avg and sums of anything else keep the unit. Every backend and
    /// the generated docs take an aggregate's unit from here.
    pub const fn unit_of(self, unit: Unit) -> Unit {
        match (self, unit.kind) {
            (Aggregation::CountZero, _) | (Aggregation::Sum, UnitKind::Boolean) => Unit::NONE,
            _ => unit,
        }
    }

    /// The kind of the aggregate of a value of `kind`: a count of zeros goes up and down as
    /// instances come, go and leave zero, so it is instant; other aggregates keep the kind.
    pub const fn kind_of(self, kind: Kind) -> Kind {
        match self {
            Aggregation::CountZero => Kind::Instant,
            _ => kind,
        }
    }

    /// The aggregation a schema word names (`count_zero`).
    pub fn from_word(word: &str) -> Option<Aggregation> {
        Aggregation::ALL.into_iter().find(|a| a.as_str() == word)
    }

    /// The name used in schemas and documentation.
    pub const fn as_str(self) -> &'static str {
        match self {
            Aggregation::None => "none",
            Aggregation::Sum => "sum",
            Aggregation::Min => "min",
            Aggregation::Max => "max",
            Aggregation::Avg => "avg",
            Aggregation::CountZero => "count_zero",
        }
    }
}

/// What the number means over time; decides clearability and the Prometheus type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Only grows; may be cleared (KVM `STATS_TYPE_CUMULATIVE`).
    Cumulative,
    /// Goes up and down, a gauge; never cleared ("floating" in the original series).
    Instant,
    /// Highest level seen; may be cleared, like KVM's peaks (api.rst: "resettable";
    /// their debugfs files are 0644). In statsfs terms it is not floating.
    Peak,
}

impl Kind {
    /// Every kind, in the order schemas and messages list them.
    pub const ALL: [Kind; 3] = [Kind::Cumulative, Kind::Instant, Kind::Peak];

    /// The kind a schema word names (`instant`).
    pub fn from_word(word: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == word)
    }

    /// The name used in schemas and documentation.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Cumulative => "cumulative",
            Kind::Instant => "instant",
            Kind::Peak => "peak",
        }
    }
}

/// The physical quantity of a value, as KVM's binary stats describe it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnitKind {
    /// A plain count.
    None,
    /// Bytes.
    Bytes,
    /// Seconds (scaled by the exponent: nanoseconds are seconds with base 10, exponent -9).
    Seconds,
    /// CPU cycles.
    Cycles,
    /// 0 or 1.
    Boolean,
}

impl UnitKind {
    /// Every unit, in the order schemas and messages list them.
    pub const ALL: [UnitKind; 5] = [
        UnitKind::None,
        UnitKind::Bytes,
        UnitKind::Seconds,
        UnitKind::Cycles,
        UnitKind::Boolean,
    ];

    /// The name used in schemas, documentation and OpenMetrics `# UNIT` lines.
    pub const fn as_str(self) -> &'static str {
        match self {
            UnitKind::None => "none",
            UnitKind::Bytes => "bytes",
            UnitKind::Seconds => "seconds",
            UnitKind::Cycles => "cycles",
            UnitKind::Boolean => "boolean",
        }
    }

    /// The unit a schema word names (`seconds`).
    pub fn from_word(word: &str) -> Option<UnitKind> {
        UnitKind::ALL.into_iter().find(|u| u.as_str() == word)
    }
}

/// The base the exponent applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Base {
    /// Powers of ten.
    Pow10,
    /// Powers of two.
    Pow2,
}

/// Unit with scale: the number read means `value × base^exponent` units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Unit {
    /// The quantity.
    pub kind: UnitKind,
    /// Base of the scale.
    pub base: Base,
    /// Exponent of the scale.
    pub exponent: i16,
}

impl Unit {
    /// A plain count.
    pub const NONE: Unit = Unit::new(UnitKind::None, Base::Pow10, 0);
    /// Bytes.
    pub const BYTES: Unit = Unit::new(UnitKind::Bytes, Base::Pow10, 0);
    /// Seconds.
    pub const SECONDS: Unit = Unit::new(UnitKind::Seconds, Base::Pow10, 0);
    /// Nanoseconds, as KVM's `*_ns` statistics.
    pub const NANOSECONDS: Unit = Unit::new(UnitKind::Seconds, Base::Pow10, -9);
    /// CPU cycles.
    pub const CYCLES: Unit = Unit::new(UnitKind::Cycles, Base::Pow10, 0);
    /// 0 or 1.
    pub const BOOLEAN: Unit = Unit::new(UnitKind::Boolean, Base::Pow10, 0);

    /// A unit with a scale.
    pub const fn new(kind: UnitKind, base: Base, exponent: i16) -> Unit {
        Unit {
            kind,
            base,
            exponent,
        }
    }
}

/// Turns a value's carrier into the text its file shows (KVM `mp_state` → `RUNNABLE`).
pub type ShowFn = fn(u64) -> Cow<'static, str>;

/// Custom getter: the instance and the descriptor's `arg`; returns the raw value.
pub type GetFn = fn(&(dyn Any + Send + Sync), usize) -> u64;

/// Custom clear: the instance and the descriptor's `arg`.
pub type ClearFn = fn(&(dyn Any + Send + Sync), usize);

/// A Rust type that can be a statistics field read at a fixed offset in its instance.
///
/// # Safety
///
/// The type must be exactly [`FieldType::TYPE`]'s width, aligned to it, and readable with an
/// atomic load of that width at any time while shared (an atomic, or a plain integer that is
/// never written while shared). If [`FieldType::CAN_CLEAR`] is true it must be an atomic of
/// that width, so that storing 0 through a shared reference is sound.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read as a statistics field at a fixed offset",
    note = "field types: u8..u64, i8..i64, bool, the std atomics of those, and statsfs's Counter, LocalCounter, Gauge and Peak"
)]
pub unsafe trait FieldType: 'static {
    /// The value type this field has in the descriptor.
    const TYPE: ValueType;
    /// Whether the runtime may clear the field by storing 0.
    const CAN_CLEAR: bool;
}

macro_rules! field_types {
    ($($t:ty => $vt:ident, $clear:expr;)*) => {$(
        // SAFETY: same width and alignment as the value type; atomics exactly when clearable.
        unsafe impl FieldType for $t {
            const TYPE: ValueType = ValueType::$vt;
            const CAN_CLEAR: bool = $clear;
        }
    )*};
}

field_types! {
    u8 => U8, false; u16 => U16, false; u32 => U32, false; u64 => U64, false;
    i8 => I8, false; i16 => I16, false; i32 => I32, false; i64 => I64, false;
    bool => Bool, false;
    std::sync::atomic::AtomicU8 => U8, true;
    std::sync::atomic::AtomicU16 => U16, true;
    std::sync::atomic::AtomicU32 => U32, true;
    std::sync::atomic::AtomicU64 => U64, true;
    std::sync::atomic::AtomicI8 => I8, true;
    std::sync::atomic::AtomicI16 => I16, true;
    std::sync::atomic::AtomicI32 => I32, true;
    std::sync::atomic::AtomicI64 => I64, true;
    std::sync::atomic::AtomicBool => Bool, true;
}

/// A field type with its own reading code (a snapshot, a computed or converted value): what
/// `#[derive(StatsSource)]` uses for any field type that is not a plain integer, an atomic or
/// a statsfs counter. Read through a function call rather than a load at an offset.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a statistics value type",
    note = "a statistics field is u8..u64, i8..i64, bool, a std atomic of those, statsfs's Counter, LocalCounter, Gauge or Peak, or a type implementing `statsfs::CustomValue`",
    note = "add `#[stats(skip)]` to keep a field out of the value set"
)]
pub trait CustomValue: Send + Sync + 'static {
    /// Whether the carrier is signed (decides min/max, AVG and text).
    const SIGNED: bool;
    /// Whether [`CustomValue::clear`] does anything; clearable values need it.
    const CAN_CLEAR: bool = false;
    /// The value as a 64-bit carrier (sign-extended when signed).
    fn get(&self) -> u64;
    /// Zeroes the value. Only called when `CAN_CLEAR` is true.
    fn clear(&self) {}
}

/// Adapts a show function returning anything string-like to [`ShowFn`]'s result. Generated
/// code calls it with the path the user wrote, so a wrong signature is reported there.
pub fn show_with<S: Into<Cow<'static, str>>>(show: fn(u64) -> S, value: u64) -> Cow<'static, str> {
    show(value).into()
}

/// How a value is read (and maybe cleared) from an instance.
///
/// Field access is what makes aggregation as cheap as a hand-written loop: the runtime
/// loads the field at a known offset, with no call per instance. Use [`crate::field_access!`]
/// to build one safely; function access covers everything else (kernel stats fds, snapshots).
#[derive(Clone, Copy)]
pub struct Access(pub(crate) AccessKind);

#[derive(Clone, Copy)]
pub(crate) enum AccessKind {
    Field {
        offset: usize,
        owner: fn() -> TypeId,
        ty: ValueType,
        clear: bool,
    },
    Func {
        get: GetFn,
        clear: Option<ClearFn>,
        arg: usize,
    },
}

impl Access {
    /// Field access at `offset` bytes into an `O`, of the field type `F`.
    ///
    /// `_witness` only ties `F` to the field's real type (pass `|o: &O| &o.field`).
    ///
    /// # Safety
    ///
    /// `offset` must be the offset of a field of type `F` inside `O`
    /// (`core::mem::offset_of!`). [`crate::field_access!`] guarantees this.
    pub const unsafe fn from_field<O: 'static, F: FieldType>(
        offset: usize,
        _witness: fn(&O) -> &F,
    ) -> Access {
        Access(AccessKind::Field {
            offset,
            owner: TypeId::of::<O>,
            ty: F::TYPE,
            clear: F::CAN_CLEAR,
        })
    }

    /// Field access from a witness and an offset token, as [`crate::field_access!`] builds
    /// them; the witness and token types tie the field type to the offset.
    pub const fn from_witness<O: 'static, F: FieldType>(
        _witness: Witness<O, F>,
        offset: FieldOffset<O, F>,
    ) -> Access {
        Access(AccessKind::Field {
            offset: offset.0,
            owner: TypeId::of::<O>,
            ty: F::TYPE,
            clear: F::CAN_CLEAR,
        })
    }

    /// Access through functions. `get` must downcast the instance itself; `arg` is passed
    /// back unchanged (an index or offset, so one function serves a run-time-built set).
    pub const fn func(get: GetFn, clear: Option<ClearFn>, arg: usize) -> Access {
        Access(AccessKind::Func { get, clear, arg })
    }

    /// The same access without clear: the value is read-only even if its type could clear
    /// (a counter that only its owner may reset, a snapshot).
    pub const fn read_only(self) -> Access {
        Access(match self.0 {
            AccessKind::Field {
                offset, owner, ty, ..
            } => AccessKind::Field {
                offset,
                owner,
                ty,
                clear: false,
            },
            AccessKind::Func { get, arg, .. } => AccessKind::Func {
                get,
                clear: None,
                arg,
            },
        })
    }

    /// Whether the accessor can clear the value.
    pub const fn can_clear(&self) -> bool {
        match self.0 {
            AccessKind::Field { clear, .. } => clear,
            AccessKind::Func { clear, .. } => clear.is_some(),
        }
    }
}

/// Equal when they read (and clear) the same way: the same field of the same type, or
/// function access with the same `arg` and clearability. Function pointers themselves are
/// not compared: the same function can have several addresses across codegen units.
impl PartialEq for Access {
    fn eq(&self, other: &Access) -> bool {
        match (self.0, other.0) {
            (
                AccessKind::Field {
                    offset: a,
                    owner: oa,
                    ty: ta,
                    clear: ca,
                },
                AccessKind::Field {
                    offset: b,
                    owner: ob,
                    ty: tb,
                    clear: cb,
                },
            ) => a == b && oa() == ob() && ta == tb && ca == cb,
            (
                AccessKind::Func {
                    clear: ca, arg: a, ..
                },
                AccessKind::Func {
                    clear: cb, arg: b, ..
                },
            ) => a == b && ca.is_some() == cb.is_some(),
            _ => false,
        }
    }
}

impl fmt::Debug for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            AccessKind::Field {
                offset, ty, clear, ..
            } => f
                .debug_struct("Field")
                .field("offset", &offset)
                .field("ty", &ty)
                .field("clear", &clear)
                .finish(),
            AccessKind::Func { arg, clear, .. } => f
                .debug_struct("Func")
                .field("arg", &arg)
                .field("clear", &clear.is_some())
                .finish(),
        }
    }
}

/// Field access for `field` of `Owner`, checked by the compiler: the offset comes from
/// `offset_of!` and the field's type must implement [`FieldType`].
#[macro_export]
macro_rules! field_access {
    ($owner:ty, $field:ident) => {
        // The field is read in the witness, outside any `unsafe` block: a field that needs
        // `unsafe` to touch (a union's) does not compile. Only the offset token is unsafe.
        $crate::Access::from_witness(
            $crate::Witness::new(|o: &$owner| &o.$field),
            // SAFETY: `offset_of!` of the very field the witness borrows.
            unsafe { $crate::FieldOffset::new(::core::mem::offset_of!($owner, $field)) },
        )
    };
}

/// Proof that `F` is the type of a field of `O`: a borrow of it (built by
/// [`crate::field_access!`]).
#[doc(hidden)]
pub struct Witness<O, F>(#[allow(dead_code)] fn(&O) -> &F);

impl<O, F> Witness<O, F> {
    /// Wraps the borrow.
    pub const fn new(f: fn(&O) -> &F) -> Witness<O, F> {
        Witness(f)
    }
}

/// The byte offset of a field of type `F` in `O`.
#[doc(hidden)]
pub struct FieldOffset<O, F>(usize, std::marker::PhantomData<fn(&O) -> &F>);

impl<O, F> FieldOffset<O, F> {
    /// # Safety
    ///
    /// `offset` must be `offset_of!` of a field of type `F` in `O`.
    pub const unsafe fn new(offset: usize) -> FieldOffset<O, F> {
        FieldOffset(offset, std::marker::PhantomData)
    }
}

/// One statistic. Two descriptors are equal when every field is, the show function compared
/// by presence (see [`Access`]'s equality for why functions are not compared).
#[derive(Clone, Debug)]
pub struct ValueDesc {
    /// File name and metric name stem.
    pub name: Cow<'static, str>,
    /// What it counts, and why anyone would look at it.
    pub doc: Cow<'static, str>,
    /// Integer type.
    pub ty: ValueType,
    /// How aggregates combine it.
    pub aggregation: Aggregation,
    /// Cumulative, instant or peak.
    pub kind: Kind,
    /// Unit and scale.
    pub unit: Unit,
    /// Text shown instead of the number, if any.
    pub show: Option<ShowFn>,
    /// How to read and clear it.
    pub access: Access,
    /// No file and no series of its own, but still read, aggregated and cleared like every
    /// value (for values that only matter summed up, or internal bookkeeping).
    pub hidden: bool,
}

impl PartialEq for ValueDesc {
    fn eq(&self, o: &ValueDesc) -> bool {
        self.name == o.name
            && self.doc == o.doc
            && self.ty == o.ty
            && self.aggregation == o.aggregation
            && self.kind == o.kind
            && self.unit == o.unit
            && self.show.is_some() == o.show.is_some()
            && self.access == o.access
            && self.hidden == o.hidden
    }
}

impl ValueDesc {
    /// A cumulative SUM count with no doc, unit or show function; adjust with the builder
    /// methods (run-time sets) or write the struct literal (static tables).
    pub fn new(name: impl Into<Cow<'static, str>>, ty: ValueType, access: Access) -> ValueDesc {
        ValueDesc {
            name: name.into(),
            doc: Cow::Borrowed(""),
            ty,
            aggregation: Aggregation::Sum,
            kind: Kind::Cumulative,
            unit: Unit::NONE,
            show: None,
            access,
            hidden: false,
        }
    }

    /// Sets the documentation.
    pub fn doc(mut self, doc: impl Into<Cow<'static, str>>) -> Self {
        self.doc = doc.into();
        self
    }

    /// Sets the aggregation.
    pub fn aggregation(mut self, aggregation: Aggregation) -> Self {
        self.aggregation = aggregation;
        self
    }

    /// Sets the kind.
    pub fn kind(mut self, kind: Kind) -> Self {
        self.kind = kind;
        self
    }

    /// Sets the unit.
    pub fn unit(mut self, unit: Unit) -> Self {
        self.unit = unit;
        self
    }

    /// Sets the show function.
    pub fn show(mut self, show: ShowFn) -> Self {
        self.show = Some(show);
        self
    }

    /// Makes the value hidden.
    pub fn hidden(mut self, hidden: bool) -> Self {
        self.hidden = hidden;
        self
    }

    /// Clearable means not floating (reference §5: "cumulative (not floating)"; floating
    /// is [`Kind::Instant`], so peaks clear too, as KVM's do) and a type that can clear.
    pub fn is_clearable(&self) -> bool {
        self.kind != Kind::Instant && self.access.can_clear()
    }

    /// The file mode the filesystem view gives this value: 0644 if clearable, else 0444.
    pub fn file_mode(&self) -> u32 {
        if self.is_clearable() {
            0o644
        } else {
            0o444
        }
    }

    /// Appends the file text of `carrier` to `out`: the show string or the decimal number
    /// (signed types with a minus sign), then `\n`.
    pub fn write_text(&self, carrier: u64, out: &mut String) {
        match self.show {
            Some(show) => {
                out.push_str(&show(carrier));
                out.push('\n');
            }
            None => self.write_number(carrier, out),
        }
    }

    /// Appends `carrier` as a decimal number (signed types with a minus sign) and `\n`,
    /// ignoring any show function: what a file shows in a numeric tree
    /// ([`crate::Source::set_numeric`]), where tools such as kvm_stat parse every file as an
    /// integer.
    pub fn write_number(&self, carrier: u64, out: &mut String) {
        use fmt::Write as _;
        if self.ty.is_signed() {
            let _ = write!(out, "{}", carrier as i64);
        } else {
            let _ = write!(out, "{carrier}");
        }
        out.push('\n');
    }

    /// Whether the value has an aggregate ([`Aggregation::exists`]).
    pub fn has_aggregate(&self) -> bool {
        self.aggregation.exists()
    }

    /// The unit of this value's aggregate ([`Aggregation::unit_of`]).
    pub fn aggregate_unit(&self) -> Unit {
        self.aggregation.unit_of(self.unit)
    }

    /// The kind of this value's aggregate ([`Aggregation::kind_of`]).
    pub fn aggregate_kind(&self) -> Kind {
        self.aggregation.kind_of(self.kind)
    }

    /// The kind and unit this value is served with: its own for a simple value, those of its
    /// aggregate ([`ValueDesc::aggregate_kind`], [`ValueDesc::aggregate_unit`]) otherwise.
    pub fn served(&self, aggregate: bool) -> (Kind, Unit) {
        if aggregate {
            (self.aggregate_kind(), self.aggregate_unit())
        } else {
            (self.kind, self.unit)
        }
    }

    /// Whether a backend shows this value: not hidden (unless hidden things are wanted), and
    /// for an aggregate group only if the value has an aggregate. One rule for the file
    /// listing, lookup of files, the walker's entries and the binary format.
    pub fn is_shown(&self, aggregate: bool, include_hidden: bool) -> bool {
        (include_hidden || !self.hidden) && (!aggregate || self.has_aggregate())
    }

    /// The file text of `carrier` (see [`ValueDesc::write_text`]).
    pub fn text(&self, carrier: u64) -> String {
        let mut s = String::new();
        self.write_text(carrier, &mut s);
        s
    }
}
