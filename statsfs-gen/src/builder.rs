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

/// Why generation failed. Each cause is the error's [`source`](std::error::Error::source),
/// not part of its message, so reporters show it once.
#[derive(thiserror::Error)]
pub enum BuildError {
    /// A schema has errors: the source holds them all, located.
    #[error("{} is not a valid schema", .0.file)]
    Schema(#[source] Errors),
    /// Reading a schema failed.
    #[error("cannot read {}", path.display())]
    Read {
        /// The schema file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Writing a generated module failed.
    #[error("cannot write {}", path.display())]
    Write {
        /// The module file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// No output directory: not run by cargo, and none was given.
    #[error("no output directory: set one with out_dir() or run from build.rs")]
    NoOutDir,
    /// The crate path given to [`Builder::crate_path`] is not a Rust path.
    #[error("`{0}` is not a Rust path (crate_path wants one like `::statsfs`)")]
    CratePath(String),
    /// The generator produced something it cannot format (a bug).
    #[error("{0}")]
    Generate(String),
}

/// The message and every cause, one after the other: a `build.rs` whose `main` returns
/// `Result<(), Box<dyn Error>>` prints an error with `Debug`, and should show the located
/// schema errors, not a struct dump.
impl std::fmt::Debug for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")?;
        let mut cause = std::error::Error::source(self);
        if cause.is_some() {
            f.write_str("\n\nCaused by:\n")?;
        }
        while let Some(c) = cause {
            write!(f, "{c}")?;
            cause = c.source();
            if cause.is_some() {
                f.write_str("\n")?;
            }
        }
        Ok(())
    }
}

/// Generates Rust for schemas.
#[derive(Default, Debug, Clone)]
pub struct Builder {
    schemas: Vec<PathBuf>,
    out_dir: Option<PathBuf>,
    /// `None`: [`crate::rust::DEFAULT_CRATE_PATH`].
    crate_path: Option<String>,
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

    /// Sets the path the generated code names statsfs by (default `::statsfs`), for a
    /// crate that renames the dependency or reaches statsfs through a re-export, like
    /// prost-build's `prost_path`.
    pub fn crate_path(mut self, path: impl Into<String>) -> Builder {
        self.crate_path = Some(path.into());
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
        let krate = self
            .crate_path
            .as_deref()
            .unwrap_or(crate::rust::DEFAULT_CRATE_PATH);
        if syn::parse_str::<syn::Path>(krate).is_err() {
            return Err(BuildError::CratePath(krate.to_owned()));
        }
        let mut written = Vec::new();
        for path in &self.schemas {
            println!("cargo:rerun-if-changed={}", path.display());
            let text = std::fs::read_to_string(path).map_err(|source| BuildError::Read {
                path: path.clone(),
                source,
            })?;
            let shown = path.display().to_string();
            let schema = crate::parse(&shown, &text).map_err(BuildError::Schema)?;
            let rust = crate::rust::generate_with_crate_path(&schema, &shown, krate)
                .map_err(BuildError::Generate)?;
            let file = out.join(format!("{}.rs", schema.name));
            std::fs::write(&file, rust).map_err(|source| BuildError::Write {
                path: file.clone(),
                source,
            })?;
            written.push(file);
        }
        Ok(written)
    }
}
