//! Generates the stats structs of `schemas/vmm.toml` into OUT_DIR, the prost-build way.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    statsfs_gen::Builder::new()
        .schema("../../schemas/vmm.toml")
        .generate()?;
    Ok(())
}
