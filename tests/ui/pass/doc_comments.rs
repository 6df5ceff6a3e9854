// `///` comments become the set's and the values' documentation, exactly: one leading space
// per line removed, trailing spaces dropped, lines joined with `\n`, blank lines kept inside.

use statsfs::{Counter, StatsSource};

/// Statistics of one vCPU.
///
/// Read by the vCPU thread,
///   summed by its VM.
#[derive(StatsSource)]
#[allow(dead_code)]
struct VcpuStats {
    /// VM exits.
    exits: Counter,
    /// Time spent halted,
    /// in nanoseconds.   
    ///
    /// Cleared on reset.
    #[stats(unit = "seconds", exponent = -9)]
    halt_wait_ns: Counter,
    #[doc = "Written as an attribute."]
    attribute_doc: Counter,
    undocumented: Counter,
}

fn main() {
    let set = <VcpuStats as StatsSource>::value_set();
    assert_eq!(set.values().len(), 4);
    assert_eq!(
        set.doc(),
        "Statistics of one vCPU.\n\nRead by the vCPU thread,\n  summed by its VM."
    );
    let docs: Vec<&str> = set.values().iter().map(|d| &*d.doc).collect();
    assert_eq!(
        docs,
        [
            "VM exits.",
            "Time spent halted,\nin nanoseconds.\n\nCleared on reset.",
            "Written as an attribute.",
            "",
        ]
    );
}
