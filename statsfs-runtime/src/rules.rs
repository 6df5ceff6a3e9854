//! The declaration rules both front-ends enforce (the derive at compile time, the generator
//! when checking a schema), written once so that they cannot drift apart. Each returns the
//! message to show, or `None` when the declaration is fine.

use crate::desc::{Aggregation, Kind, UnitKind, ValueType};
use crate::naming::metric_name;

/// An aggregation that makes no sense for the type.
pub fn aggregation_for_type(ty: ValueType, aggregation: Aggregation) -> Option<&'static str> {
    match (ty, aggregation) {
        (ValueType::Bool, Aggregation::Avg) => Some(
            "`avg` of a bool truncates to 0 or 1; use `sum` (how many are true) or `count_zero` (how many are false)",
        ),
        _ => None,
    }
}

/// A request to clear a value of this kind that can never be honoured.
pub fn clearable_kind(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::Instant => Some(
            "an instant value goes up and down and cannot be cleared; only cumulative values and peaks can",
        ),
        Kind::Cumulative | Kind::Peak => None,
    }
}

/// A base or exponent given for a unit that has no scale.
pub fn scale_for_unit(unit: UnitKind, what: &str) -> Option<String> {
    match unit {
        UnitKind::None | UnitKind::Boolean => Some(format!(
            "`{what}` scales a unit, but the unit is `{}`; set `unit` to bytes, seconds or cycles",
            unit.as_str()
        )),
        _ => None,
    }
}

/// A unit that cannot measure a value of this type: a bool is true or false (unit
/// `boolean`, or `none`), never a number of bytes, seconds or cycles.
pub fn unit_for_type(ty: ValueType, unit: UnitKind) -> Option<String> {
    match (ty, unit) {
        (ValueType::Bool, UnitKind::Bytes | UnitKind::Seconds | UnitKind::Cycles) => Some(format!(
            "a bool cannot be measured in {}; its unit is `boolean` (or `none`)",
            unit.as_str()
        )),
        _ => None,
    }
}

/// The exponents a unit's scale may have: −18..=18 (atto to exa).
///
/// Why this range: the KVM binary format carries the exponent as an i16, but the backends
/// must also apply it exactly enough. HTTP scales an integer up in i128 while it fits:
/// every u64 or i64 value times 10^18 does (2^64 · 10^18 < 2^127), so a positive exponent
/// up to 18 is always exact, and 2^18 trivially so; beyond it the largest values overflow
/// into f64 and lose digits. A negative exponent multiplies by 10^-e in f64, where 10^e is
/// exact for e ≤ 22, so down to −18 the result is the correctly rounded quotient. No unit
/// in use needs more (KVM uses −9 for nanoseconds, 12 for 4 KiB pages in base 2).
pub const EXPONENT_RANGE: std::ops::RangeInclusive<i16> = -18..=18;

/// An exponent outside [`EXPONENT_RANGE`].
pub fn exponent(exponent: i64) -> Option<String> {
    let (lo, hi) = (*EXPONENT_RANGE.start(), *EXPONENT_RANGE.end());
    (!(i64::from(lo)..=i64::from(hi)).contains(&exponent)).then(|| {
        format!("exponent `{exponent}` out of range; expected {lo}..={hi}, which every backend scales exactly")
    })
}

/// Why a declared set, value or schema name is refused beyond what the tree itself refuses
/// (`validate_name`): the name is shown in `ls`, terminals, generated Rust and rst, so it
/// may not hold control characters (newlines included), line or paragraph separators, or
/// characters that reorder text (the "Trojan Source" bidi controls, which rustc refuses
/// in generated code), and may not start or end with whitespace (invisible in listings).
pub fn declared_name(name: &str) -> Option<String> {
    if let Some(c) = name.chars().find(|&c| unprintable(c)) {
        return Some(format!(
            "contains the invisible or control character U+{:04X}",
            c as u32
        ));
    }
    if name.starts_with(char::is_whitespace) || name.ends_with(char::is_whitespace) {
        return Some("starts or ends with whitespace".into());
    }
    None
}

/// Whether `c` is a control character, a line or paragraph separator or a bidi control.
pub fn unprintable(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}'
                | '\u{2029}'
                | '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// A label name that Prometheus refuses: the label backends give sources carrying a set
/// is its `label`, or its name when it has none, and must match `[a-zA-Z_][a-zA-Z0-9_]*`
/// without the leading `__` Prometheus reserves. `given` says whether it was written as
/// `label` (else it is the set name), for the message.
pub fn label_name(label: &str, given: bool) -> Option<String> {
    let valid_chars = label.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let why = if !valid_chars {
        "is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)"
    } else if label.starts_with("__") {
        "starts with `__`, which Prometheus reserves"
    } else {
        return None;
    };
    let mut fixed: String = label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    fixed = fixed.trim_start_matches('_').to_owned();
    if !fixed.starts_with(|c: char| c.is_ascii_alphabetic()) {
        fixed.insert(0, 'l');
    }
    Some(if given {
        format!("the label `{label}` {why}; write e.g. `label = \"{fixed}\"`")
    } else {
        format!("the set has no `label`, so backends label its sources with its name `{label}`, which {why}; add e.g. `label = \"{fixed}\"`")
    })
}

/// Two values of one set exported under one metric name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricCollision {
    /// Index of the value that first claimed the name.
    pub first: usize,
    /// Index of the value that claims it again.
    pub second: usize,
    /// The colliding name.
    pub metric: String,
}

/// The pairs of values (name, kind, unit; in declaration order, hidden values left out by
/// the caller since they are never exported) of the set `set` whose metric names collide
/// under `prefix`, in linear time.
///
/// A value claims its metric name ([`metric_name`]) and, for a counter, its OpenMetrics
/// family name (the same without `_total`), so a counter `exits` and a gauge `exits_total`
/// collide, as do a gauge `a-b` and a counter `a_b`. Within one set the prefix and set
/// parts are the same for every value and the unit suffixes only ever look at the value
/// part (a `_ns` or `_bytes` cannot straddle the `_` before it), so whether two values
/// collide does not depend on the prefix: the derive, which does not know it, checks with
/// an empty one.
pub fn metric_collisions<'a>(
    prefix: &str,
    set: &str,
    values: impl IntoIterator<Item = (&'a str, Kind, UnitKind)>,
) -> Vec<MetricCollision> {
    let mut claimed: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut out = Vec::new();
    for (i, (name, kind, unit)) in values.into_iter().enumerate() {
        let metric = metric_name(prefix, set, name, kind, unit);
        let family = (kind == Kind::Cumulative)
            .then(|| metric.strip_suffix("_total").map(str::to_owned))
            .flatten();
        let mut clash = None;
        for claim in std::iter::once(metric.clone()).chain(family) {
            match claimed.get(&claim) {
                Some(&first) if first != i => clash = clash.or(Some((first, claim))),
                Some(_) => {}
                None => {
                    claimed.insert(claim, i);
                }
            }
        }
        if let Some((first, metric)) = clash {
            out.push(MetricCollision {
                first,
                second: i,
                metric,
            });
        }
    }
    out
}

impl MetricCollision {
    /// The message naming both values (`first`, `second`: their names).
    pub fn message(&self, first: &str, second: &str) -> String {
        format!(
            "values `{first}` and `{second}` are both exported as the metric `{}`",
            self.metric
        )
    }
}
