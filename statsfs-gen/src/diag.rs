//! Located errors: every problem of a schema file at once, each rendered with
//! `file:line:column` and the offending text underlined (codespan-reporting).

use std::fmt;
use std::ops::Range;

use codespan_reporting::diagnostic::{Diagnostic as Report, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term;

/// One problem in a schema file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Byte range of the offending text.
    pub span: Range<usize>,
    /// What is wrong.
    pub message: String,
    /// The short text under the underline.
    pub label: String,
    /// Help lines.
    pub notes: Vec<String>,
}

/// All problems of one file.
#[derive(Clone, Debug)]
pub struct Errors {
    /// The file name as given.
    pub file: String,
    /// The file's text.
    pub source: String,
    /// The problems, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Errors {
    /// `file:line:column` of each problem (1-based), for tests and terse output.
    pub fn locations(&self) -> Vec<String> {
        self.diagnostics
            .iter()
            .map(|d| {
                let (line, col) = line_col(&self.source, d.span.start);
                format!("{}:{line}:{col}: {}", self.file, d.message)
            })
            .collect()
    }

    /// The full rendering, as `statsfs-gen check` prints it (no colour).
    pub fn render(&self) -> String {
        let file = SimpleFile::new(self.file.as_str(), self.source.as_str());
        let config = term::Config::default();
        let mut out = String::new();
        for d in &self.diagnostics {
            let report = Report::error()
                .with_message(&d.message)
                .with_labels(vec![
                    Label::primary((), d.span.clone()).with_message(&d.label)
                ])
                .with_notes(d.notes.clone());
            if term::emit_to_string(&mut out, &config, &file, &report).is_err() {
                // Only possible for a span outside the file: fall back to the location line.
                let (line, col) = line_col(&self.source, d.span.start);
                out.push_str(&format!(
                    "error: {}\n  at {}:{line}:{col}\n",
                    d.message, self.file
                ));
            }
        }
        out.push_str(&format!(
            "{} error{} in {}\n",
            self.diagnostics.len(),
            if self.diagnostics.len() == 1 { "" } else { "s" },
            self.file
        ));
        out
    }
}

impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl std::error::Error for Errors {}

/// The problems found so far in one file: reading and checking both add to it, so a file's
/// errors are all reported together, whichever step found them.
pub(crate) struct Problems<'s> {
    /// The file's text, for line numbers in messages.
    pub source: &'s str,
    /// In the order found; sorted by place when reported.
    pub diags: Vec<Diagnostic>,
}

impl Problems<'_> {
    /// Records one problem.
    pub fn error(
        &mut self,
        span: Range<usize>,
        message: impl Into<String>,
        label: impl Into<String>,
    ) {
        self.diags.push(Diagnostic {
            span,
            message: message.into(),
            label: label.into(),
            notes: Vec::new(),
        });
    }

    /// The 1-based line of a byte offset, for "the first is on line N".
    pub fn line_of(&self, offset: usize) -> usize {
        line_col(self.source, offset).0
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = source.get(..offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}
