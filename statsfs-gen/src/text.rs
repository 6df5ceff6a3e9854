//! Schema text as the generators may emit it: a doc or name may hold anything TOML can
//! (carriage returns, form feeds, U+2028, bidi controls), and each output format breaks on
//! some of it, so both generators see it through these two functions.

/// The lines of `text`: split at every line break a reader would see as one (`\n`, `\r\n`,
/// a lone `\r`, vertical tab, form feed, NEL, U+2028, U+2029), so no line holds a bare
/// `\r` (which rustc refuses in a doc comment) or a separator docutils would split at.
/// Like `str::lines`, a final line break ends the last line rather than starting an empty one.
pub fn lines(text: &str) -> Vec<String> {
    let text = text.replace("\r\n", "\n");
    let mut out: Vec<String> = text
        .split([
            '\n', '\r', '\u{b}', '\u{c}', '\u{85}', '\u{2028}', '\u{2029}',
        ])
        .map(visible)
        .collect();
    if out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out
}

/// `line` with every character that is invisible or reorders text (other control
/// characters, bidi controls) written as `\u{..}`: the text stays shown literally, and
/// rustc's `text_direction_codepoint_in_comment` lint has nothing to refuse.
pub fn visible(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        if c != '\t' && statsfs_runtime::rules::unprintable(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}
