//! The format's descriptors in the statsfs IR's terms, both ways: what a value is served as
//! ([`flags_of`]) and what a kernel descriptor means ([`from_flags`]). Written once, so the
//! files we serve and the kernel's stats we import cannot disagree.

use statsfs_runtime::{Base, Kind, Unit, UnitKind};

use crate::{stat_type, unit, BASE_POW2};

/// The descriptor flags of a value served with `kind` and `unit` (see
/// [`statsfs_runtime::ValueDesc::served`]: an aggregate of booleans is a count, not a
/// boolean).
pub fn flags_of(kind: Kind, unit: Unit) -> u32 {
    let t = match kind {
        Kind::Cumulative => stat_type::CUMULATIVE,
        Kind::Instant => stat_type::INSTANT,
        Kind::Peak => stat_type::PEAK,
    };
    let u = match unit.kind {
        UnitKind::None => unit::NONE,
        UnitKind::Bytes => unit::BYTES,
        UnitKind::Seconds => unit::SECONDS,
        UnitKind::Cycles => unit::CYCLES,
        UnitKind::Boolean => unit::BOOLEAN,
    };
    t | u
        | if unit.base == Base::Pow2 {
            BASE_POW2
        } else {
            0
        }
}

/// What a kernel descriptor's flags and exponent mean: the kind and unit of a scalar value;
/// `None` for histograms (not values of the IR yet) and for types this format revision
/// does not define. The inverse of [`flags_of`].
pub fn from_flags(flags: u32, exponent: i16) -> Option<(Kind, Unit)> {
    let kind = match flags & 0xf {
        stat_type::CUMULATIVE => Kind::Cumulative,
        stat_type::INSTANT => Kind::Instant,
        stat_type::PEAK => Kind::Peak,
        _ => return None,
    };
    let unit_kind = match flags & 0xf0 {
        unit::NONE => UnitKind::None,
        unit::BYTES => UnitKind::Bytes,
        unit::SECONDS => UnitKind::Seconds,
        unit::CYCLES => UnitKind::Cycles,
        unit::BOOLEAN => UnitKind::Boolean,
        _ => return None,
    };
    let base = if flags & BASE_POW2 != 0 {
        Base::Pow2
    } else {
        Base::Pow10
    };
    Some((kind, Unit::new(unit_kind, base, exponent)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_round_trip_for_every_kind_and_unit() {
        for kind in Kind::ALL {
            for u in UnitKind::ALL {
                for base in [Base::Pow10, Base::Pow2] {
                    let unit = Unit::new(u, base, -9);
                    assert_eq!(from_flags(flags_of(kind, unit), -9), Some((kind, unit)));
                }
            }
        }
        assert_eq!(from_flags(stat_type::LOG_HIST | unit::SECONDS, -9), None);
        assert_eq!(
            from_flags(0x50, 0),
            None,
            "a unit this revision does not define"
        );
    }
}
