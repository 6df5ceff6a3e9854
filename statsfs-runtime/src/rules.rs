//! The declaration rules both front-ends enforce (the derive at compile time, the generator
//! when checking a schema), written once so that they cannot drift apart. Each returns the
//! message to show, or `None` when the declaration is fine.

use crate::desc::{Aggregation, Kind, UnitKind, ValueType};

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
