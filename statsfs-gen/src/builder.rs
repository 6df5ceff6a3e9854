//! A builder for `build.rs`, in the style of prost-build: generate the Rust of some schemas
//! into `OUT_DIR` and `include!` it.
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     statsfs_gen::Builder::new().schema("schemas/vmm.toml").generate()?;
//!     Ok(())
//! }
//! // src/main.rs: include!(concat!(env!("OUT_DIR"), "/vmm.rs"));
//! ```

use std::path::{Path, PathBuf};

use crate::diag::Errors;

/// Why generation failed.
#[derive(Debug)]
pub enum BuildError {
    /// A schema has errors (rendered with locations).
    Schema(Errors),
    /// Reading or writing a file failed.
    Io(PathBuf, std::io::Error),
    /// No output directory: not run by cargo, and none was given.
    NoOutDir,
    /// The generator produced something it cannot format (a bug).
    Generate(String),
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildError::Schema(e) => write!(f, "{e}"),
            BuildError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            BuildError::NoOutDir => {
                f.write_str("no output directory: set one with out_dir() or run from build.rs")
            }
            BuildError::Generate(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for BuildError {}

/// Generates Rust for schemas.
#[derive(Default, Debug, Clone)]
pub struct Builder {
    schemas: Vec<PathBuf>,
    out_dir: Option<PathBuf>,
}

impl Builder {
    /// A builder with no schemas; the output directory defaults to `OUT_DIR`.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Adds a schema file.
    pub fn schema(mut self, path: impl AsRef<Path>) -> Builder {
        self.schemas.push(path.as_ref().to_owned());
        self
    }

    /// Sets where `<schema name>.rs` files go.
    pub fn out_dir(mut self, dir: impl AsRef<Path>) -> Builder {
        self.out_dir = Some(dir.as_ref().to_owned());
        self
    }

    /// Checks every schema and writes its module; returns the files written. Tells cargo to
    /// rerun when a schema changes.
    pub fn generate(self) -> Result<Vec<PathBuf>, BuildError> {
        let out = match self
            .out_dir
            .or_else(|| std::env::var_os("OUT_DIR").map(PathBuf::from))
        {
            Some(d) => d,
            None => return Err(BuildError::NoOutDir),
        };
        let mut written = Vec::new();
        for path in &self.schemas {
            println!("cargo:rerun-if-changed={}", path.display());
            let text =
                std::fs::read_to_string(path).map_err(|e| BuildError::Io(path.clone(), e))?;
            let shown = path.display().to_string();
            let schema = crate::parse(&shown, &text).map_err(BuildError::Schema)?;
            let rust = crate::rust::generate(&schema, &shown).map_err(BuildError::Generate)?;
            let file = out.join(format!("{}.rs", schema.name));
            std::fs::write(&file, rust).map_err(|e| BuildError::Io(file.clone(), e))?;
            written.push(file);
        }
        Ok(written)
    }
}
