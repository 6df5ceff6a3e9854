//! From TOML text to a checked [`Schema`], collecting every problem with its location
//! instead of stopping at the first (which a serde derive would do). Two steps, each in
//! its own module: `read` reads what the text says, `check` applies the
//! rules; both report to one list, so a file's errors come out together, in file order.

use crate::diag::{Errors, Problems};
use crate::schema::Schema;

pub use crate::check::{camel, VERSION};

/// Parses and checks one schema. `file` is only used in messages.
pub fn parse(file: &str, source: &str) -> Result<Schema, Errors> {
    let mut problems = Problems {
        source,
        diags: Vec::new(),
    };
    let schema = crate::read::read(source, &mut problems)
        .and_then(|raw| crate::check::check(raw, &mut problems));
    match schema {
        Some(s) if problems.diags.is_empty() => Ok(s),
        _ => {
            let mut diagnostics = problems.diags;
            // Stable: problems at one place keep the order they were found in.
            diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
            Err(Errors {
                file: file.to_owned(),
                source: source.to_owned(),
                diagnostics,
            })
        }
    }
}
