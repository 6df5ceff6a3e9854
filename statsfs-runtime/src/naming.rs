//! Names a value gets outside the tree, written once for every backend and for the
//! generated documentation.

use crate::desc::{Kind, UnitKind};

/// The namespace that starts every metric name unless configured otherwise: the HTTP
/// server's default `Config::prefix`, and the one the generated documentation (statsfs-gen)
/// names metrics with, so a name copied from the docs finds the series a default server
/// exports. A server with another prefix exports the documented names with `statsfs`
/// replaced by its prefix (and, by the rule below, its words dropped from the set part).
pub const DEFAULT_NAMESPACE: &str = "statsfs";

/// The Prometheus/OpenMetrics metric name of a value: `<prefix>_<set>_<value>`, characters
/// outside `[a-zA-Z0-9_]` turned into `_`, the base unit as suffix (`_bytes`, `_seconds`:
/// a `_ns`/`_us`/`_ms` name is exported in seconds, scaled by the backend) and `_total` for
/// cumulative values (counters). HTTP's families, `/schema.json`, the generated docs and
/// the collision checks of the derive and of statsfs-gen all name values with this function.
///
/// **No repeated words.** Words are the `_`-separated parts of a name. The set part drops
/// its leading words while each is a word of the prefix, and the value part its leading
/// words while each is a word of the set name, but keeps at least its last word:
///
/// - prefix `statsfs`, set `vmm_vcpu`, value `vmm_exits`: `statsfs_vmm_vcpu_exits_total`;
/// - prefix `disk`, set `disk`, value `reads`: `disk_reads_total`;
/// - set `vm`, value `vm`: `<prefix>_vm_vm` (a value's own name never vanishes).
///
/// Only leading words are dropped (a repeat inside a name is part of its phrase, and
/// dropping it could merge two names), and the value part is compared with the set only,
/// not the prefix: so within one set, whether two values get one name never depends on the
/// prefix (the derive checks collisions without knowing it), and the unit suffixes still
/// only ever look at the value part.
pub fn metric_name(prefix: &str, set: &str, value: &str, kind: Kind, unit: UnitKind) -> String {
    let mut name = String::with_capacity(prefix.len() + set.len() + value.len() + 16);
    let clean = |part: &str| -> String {
        part.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect()
    };
    let (prefix, set, value) = (clean(prefix), clean(set), clean(value));
    let set_part = without_leading(&set, &prefix, false);
    let value_part = without_leading(&value, &set, true);
    for part in [prefix.as_str(), set_part, value_part] {
        if part.is_empty() {
            continue;
        }
        if !name.is_empty() {
            name.push('_');
        }
        name.push_str(part);
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

/// `part` without its leading words that are words of `earlier` (empty words never match);
/// with `keep_last`, its last word stays even if it matches.
fn without_leading<'a>(part: &'a str, earlier: &str, keep_last: bool) -> &'a str {
    let mut rest = part;
    while let Some((word, tail)) = rest.split_once('_') {
        let last = !tail.split('_').any(|w| !w.is_empty());
        if word.is_empty() || (keep_last && last) || !earlier.split('_').any(|w| w == word) {
            return rest;
        }
        rest = tail;
    }
    if !keep_last && !rest.is_empty() && earlier.split('_').any(|w| w == rest) {
        return "";
    }
    rest
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

    #[test]
    fn metric_names_never_repeat_a_leading_word() {
        let n = |p, s, v, k| metric_name(p, s, v, k, UnitKind::None);
        let c = Kind::Cumulative;
        assert_eq!(
            n("statsfs", "vmm_vcpu", "vmm_exits", c),
            "statsfs_vmm_vcpu_exits_total"
        );
        assert_eq!(n("disk", "disk", "reads", c), "disk_reads_total");
        assert_eq!(n("disk", "disk", "disk_reads", c), "disk_reads_total");
        assert_eq!(
            n("statsfs", "disk", "disk_reads", c),
            "statsfs_disk_reads_total"
        );
        assert_eq!(
            n("statsfs", "vmm_vm", "vmm_vms", c),
            "statsfs_vmm_vm_vms_total"
        );
        assert_eq!(
            n("statsfs", "vmm_vm", "vm_vmm_x", c),
            "statsfs_vmm_vm_x_total"
        );
        // A value's last word stays.
        assert_eq!(n("statsfs", "vm", "vm", c), "statsfs_vm_vm_total");
        assert_eq!(n("statsfs", "vm", "vm_", c), "statsfs_vm_vm__total");
        // Only whole leading words: `vmm` is not `vm`, `statsfs` in a set's middle stays.
        assert_eq!(n("statsfs", "vm", "vmm_x", c), "statsfs_vm_vmm_x_total");
        assert_eq!(
            n("statsfs", "a_statsfs", "x", c),
            "statsfs_a_statsfs_x_total"
        );
        // Words are compared after cleaning (`net-dev` is `net_dev`).
        assert_eq!(
            n("statsfs", "net-dev", "dev-rx", c),
            "statsfs_net_dev_rx_total"
        );
        assert_eq!(n("", "vcpu", "vcpu_exits", c), "vcpu_exits_total");
        assert_eq!(DEFAULT_NAMESPACE, "statsfs");
    }

    /// Dropping words can make two values one name; the collision check sees it, with any
    /// prefix (the derive checks with none).
    #[test]
    fn names_merged_by_dropped_words_are_collisions_whatever_the_prefix() {
        for prefix in ["", "statsfs", "vcpu"] {
            let c = crate::rules::metric_collisions(
                prefix,
                "vcpu",
                [
                    ("exits", Kind::Cumulative, UnitKind::None),
                    ("vcpu_exits", Kind::Cumulative, UnitKind::None),
                ],
            );
            assert_eq!(c.len(), 1, "{prefix}");
            assert_eq!((c[0].first, c[0].second), (0, 1));
            // A set named like the prefix loses its words to it.
            let want = if prefix.is_empty() || prefix == "vcpu" {
                "vcpu_exits_total".to_owned()
            } else {
                format!("{prefix}_vcpu_exits_total")
            };
            assert_eq!(c[0].metric, want);
        }
    }
}
