//! Names a value gets outside the tree, written once for every backend and for the
//! generated documentation.

use crate::desc::{Kind, UnitKind};

/// The Prometheus/OpenMetrics metric name of a value: `<prefix>_<set>_<value>`, characters
/// outside `[a-zA-Z0-9_]` turned into `_`, the base unit as suffix (`_bytes`, `_seconds`:
/// a `_ns`/`_us`/`_ms` name is exported in seconds, scaled by the backend) and `_total` for
/// cumulative values (counters).
pub fn metric_name(prefix: &str, set: &str, value: &str, kind: Kind, unit: UnitKind) -> String {
    let mut name = String::with_capacity(prefix.len() + set.len() + value.len() + 16);
    for part in [prefix, set, value] {
        if part.is_empty() {
            continue;
        }
        if !name.is_empty() {
            name.push('_');
        }
        name.extend(
            part.chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }),
        );
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    let suffix = match unit {
        UnitKind::Bytes => Some("_bytes"),
        UnitKind::Seconds => {
            for scaled in ["_ns", "_us", "_ms"] {
                if let Some(stem) = name.strip_suffix(scaled) {
                    name.truncate(stem.len());
                    break;
                }
            }
            Some("_seconds")
        }
        UnitKind::Cycles => Some("_cycles"),
        UnitKind::None | UnitKind::Boolean => None,
    };
    if let Some(s) = suffix {
        if !name.ends_with(s) {
            name.push_str(s);
        }
    }
    if kind == Kind::Cumulative {
        name.push_str("_total");
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names() {
        let n = |v, k, u| metric_name("kvm", "vcpu", v, k, u);
        assert_eq!(
            n("exits", Kind::Cumulative, UnitKind::None),
            "kvm_vcpu_exits_total"
        );
        assert_eq!(
            n("halt_wait_ns", Kind::Cumulative, UnitKind::Seconds),
            "kvm_vcpu_halt_wait_seconds_total"
        );
        assert_eq!(
            n("pages_4k", Kind::Instant, UnitKind::None),
            "kvm_vcpu_pages_4k"
        );
        assert_eq!(
            n("tsc-offset", Kind::Peak, UnitKind::Cycles),
            "kvm_vcpu_tsc_offset_cycles"
        );
        assert_eq!(
            n("rx_bytes", Kind::Cumulative, UnitKind::Bytes),
            "kvm_vcpu_rx_bytes_total"
        );
        assert_eq!(
            metric_name("", "9p", "x", Kind::Instant, UnitKind::Boolean),
            "_9p_x"
        );
    }
}
