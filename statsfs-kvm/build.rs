//! The VMM's own statistics come from schemas/vmm.toml through statsfs-gen.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    statsfs_gen::Builder::new()
        .schema("../schemas/vmm.toml")
        .generate()?;
    Ok(())
}
