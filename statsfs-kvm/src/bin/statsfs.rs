//! `statsfs`: command-line tools over a served statsfs tree. `statsfs top` shows values and
//! rates, live or once.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use statsfs_kvm::top::{printable, render, rows, sample, terminal_rows, Input};

/// Tools for statsfs trees.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Values and per-second rates, sorted by rate, refreshed every interval (like kvm_stat).
    Top {
        /// Read a statsfs mount point.
        #[arg(long, group = "input")]
        mount: Option<PathBuf>,
        /// Read a statsfs HTTP server (host:port).
        #[arg(long, group = "input")]
        http: Option<String>,
        /// Read a file in KVM's binary stats format.
        #[arg(long, group = "input")]
        binary: Option<PathBuf>,
        /// Only names (paths) matching this regular expression.
        #[arg(long)]
        filter: Option<String>,
        /// Seconds between samples (0.01 up to 86400).
        #[arg(long, default_value = "1", value_parser = statsfs_kvm::cli::interval,
              allow_negative_numbers = true)]
        interval: Duration,
        /// Print one table (rates over one interval) and exit: for scripts.
        #[arg(long)]
        once: bool,
    },
}

fn main() -> ExitCode {
    let Command::Top {
        mount,
        http,
        binary,
        filter,
        interval,
        once,
    } = Cli::parse().command;
    let input = match (mount, http, binary) {
        (Some(m), _, _) => Input::Mount(m),
        (_, Some(h), _) => Input::Http(h),
        (_, _, Some(b)) => Input::Binary(b),
        _ => {
            eprintln!("statsfs top: give --mount DIR, --http HOST:PORT or --binary FILE");
            return ExitCode::from(2);
        }
    };
    let filter = match filter.map(|f| regex_lite::Regex::new(&f)) {
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => {
            eprintln!("statsfs top: bad --filter: {e}");
            return ExitCode::from(2);
        }
        None => None,
    };
    let mut before = match sample(&input) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("statsfs top: {}", printable(&e));
            return ExitCode::FAILURE;
        }
    };
    let mut t0 = Instant::now();
    loop {
        std::thread::sleep(interval);
        let after = match sample(&input) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("statsfs top: {}", printable(&e));
                return ExitCode::FAILURE;
            }
        };
        let secs = t0.elapsed().as_secs_f64();
        t0 = Instant::now();
        let table = rows(&before, &after, secs, filter.as_ref());
        if once {
            print!("{}", render(&table, usize::MAX));
            return ExitCode::SUCCESS;
        }
        // Live: home, clear, a title line and as many rows as the terminal holds.
        print!(
            "\x1b[H\x1b[2J statsfs top: {} values, every {:.1} s (Ctrl-C to quit)\n{}",
            table.len(),
            interval.as_secs_f64(),
            render(&table, terminal_rows().saturating_sub(3))
        );
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        before = after;
    }
}
