//! The VMM's own statistics come from schemas/vmm.toml through statsfs-gen; the kernel's,
//! as schemas/kvm.toml documents them, are generated too, so the import can take each kernel
//! value's doc from the schema and report where kernel and schema drift apart.
use std::fmt::Write as _;
use std::path::PathBuf;

const KVM: &str = "../schemas/kvm.toml";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    statsfs_gen::Builder::new()
        .schema("../schemas/vmm.toml")
        .schema(KVM)
        .generate()?;
    // The generated value sets skip histograms (not values of the IR yet), but the drift
    // report names them: every value of every set, histograms included, as one table.
    let schema = statsfs_gen::parse(KVM, &std::fs::read_to_string(KVM)?)?;
    let mut out = String::from(
        "/// Every value name of every set of `schemas/kvm.toml`, histograms included:\n\
         /// (set, [(value, whether it is a histogram)]).\n\
         pub static SCHEMA_NAMES: &[(&str, &[(&str, bool)])] = &[\n",
    );
    for set in &schema.sets {
        write!(out, "    ({:?}, &[", set.name)?;
        for v in &set.values {
            write!(out, "({:?}, {}), ", v.name, v.histogram.is_some())?;
        }
        out.push_str("]),\n");
    }
    out.push_str("];\n");
    let dir = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("no OUT_DIR")?);
    std::fs::write(dir.join("kvm_names.rs"), out)?;
    Ok(())
}
