//! `statsfs-gen`: check schemas and generate Rust and reStructuredText from them.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Check TOML statistics schemas and generate Rust and reStructuredText from them.
///
/// With no subcommand: check the files, then write `<rust-dir>/<name>.rs` and
/// `<docs-dir>/<name>.rst` for each.
#[derive(Parser)]
#[command(version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Schema files.
    files: Vec<PathBuf>,
    /// Where the Rust modules go.
    #[arg(long, default_value = "generated")]
    rust_dir: PathBuf,
    /// Where the rst pages go.
    #[arg(long, default_value = "Documentation")]
    docs_dir: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Report every error of every file, with locations; exit 1 on any.
    Check {
        /// Schema files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Generate the Rust module of one schema.
    Rust {
        /// Schema file.
        file: PathBuf,
        /// Output file (standard output if absent).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Generate the rst page of one schema.
    Docs {
        /// Schema file.
        file: PathBuf,
        /// Output file (standard output if absent).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// List breaking changes from OLD to NEW; exit 1 if there are any.
    Diff {
        /// The schema as it was.
        old: PathBuf,
        /// The schema as it is.
        new: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

fn load(path: &Path) -> Result<statsfs_gen::Schema, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    statsfs_gen::parse(&path.display().to_string(), &text).map_err(|e| e.render())
}

fn write(out: Option<&Path>, text: &str) -> Result<(), String> {
    match out {
        Some(p) => {
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            }
            std::fs::write(p, text).map_err(|e| format!("{}: {e}", p.display()))
        }
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    let shown = |p: &Path| p.display().to_string();
    match cli.command {
        Some(Command::Check { files }) => {
            let mut failed = false;
            for f in &files {
                match load(f) {
                    Ok(s) => println!(
                        "{}: ok ({} sets, {} values)",
                        f.display(),
                        s.sets.len(),
                        s.sets.iter().map(|s| s.values.len()).sum::<usize>()
                    ),
                    Err(e) => {
                        eprint!("{e}");
                        failed = true;
                    }
                }
            }
            Ok(if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Some(Command::Rust { file, output }) => {
            let s = load(&file)?;
            write(
                output.as_deref(),
                &statsfs_gen::rust::generate(&s, &shown(&file))?,
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Docs { file, output }) => {
            let s = load(&file)?;
            write(
                output.as_deref(),
                &statsfs_gen::rst::generate(&s, &shown(&file))?,
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Diff { old, new, format }) => {
            let d = statsfs_gen::diff::diff(&load(&old)?, &load(&new)?);
            match format {
                Format::Text => print!("{}", d.text()),
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&d).map_err(|e| e.to_string())?
                ),
            }
            Ok(if d.breaking.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        None => {
            if cli.files.is_empty() {
                return Err("no schema files given (try --help)".into());
            }
            // Check everything first: write nothing unless every file is valid.
            let mut schemas = Vec::new();
            let mut errors = String::new();
            for f in &cli.files {
                match load(f) {
                    Ok(s) => schemas.push((f, s)),
                    Err(e) => errors.push_str(&e),
                }
            }
            if !errors.is_empty() {
                eprint!("{errors}");
                return Ok(ExitCode::FAILURE);
            }
            for (f, s) in schemas {
                let rs = cli.rust_dir.join(format!("{}.rs", s.name));
                write(Some(&rs), &statsfs_gen::rust::generate(&s, &shown(f))?)?;
                println!("wrote {}", rs.display());
                let rst = cli.docs_dir.join(format!("{}.rst", s.name));
                write(Some(&rst), &statsfs_gen::rst::generate(&s, &shown(f))?)?;
                println!("wrote {}", rst.display());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("statsfs-gen: {e}");
            ExitCode::from(2)
        }
    }
}
