//! `statsfs top`: values and per-second rates of a served tree, sorted by rate, in the spirit
//! of `kvm_stat`. Reads a mount point (its root bulk file, one read), an HTTP `/metrics`
//! endpoint, or a file in KVM's binary stats format.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use crate::binary;

/// Where samples come from.
#[derive(Clone, Debug)]
pub enum Input {
    /// A statsfs mount point.
    Mount(PathBuf),
    /// `host:port` of a statsfs HTTP server.
    Http(String),
    /// A file in KVM's binary stats layout.
    Binary(PathBuf),
}

/// One reading: name → value.
pub type Sample = BTreeMap<String, Reading>;

/// A value as read: integers stay exact (a u64 counter above 2^53 is not an f64), scaled
/// values from HTTP (seconds) are floats.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Reading {
    /// An integer (u64 and i64 both fit).
    Int(i128),
    /// A finite float.
    Float(f64),
}

impl Reading {
    /// Parses a number as the inputs print them; `None` for text (a show name) and for
    /// NaN or infinities.
    pub fn parse(text: &str) -> Option<Reading> {
        if let Ok(i) = text.parse::<i128>() {
            return Some(Reading::Int(i));
        }
        text.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Reading::Float)
    }

    /// The value as a float, for rates.
    pub fn as_f64(self) -> f64 {
        match self {
            Reading::Int(i) => i as f64,
            Reading::Float(f) => f,
        }
    }

    /// The difference `self - before`, as a float.
    fn minus(self, before: Reading) -> f64 {
        match (self, before) {
            (Reading::Int(a), Reading::Int(b)) => (a - b) as f64,
            (a, b) => a.as_f64() - b.as_f64(),
        }
    }
}

impl std::fmt::Display for Reading {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reading::Int(i) => write!(f, "{i}"),
            Reading::Float(v) => write!(f, "{v}"),
        }
    }
}

/// `text` safe to print on a terminal: control characters (escape sequences start with
/// one) and bidirectional overrides are shown as `\u{..}` escapes, so a name coming from a
/// tree, a server or a file can never move the cursor, retitle the window or reorder text.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let bad =
        |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !text.chars().any(bad) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if bad(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Reads one sample.
pub fn sample(input: &Input) -> Result<Sample, String> {
    match input {
        Input::Mount(dir) => {
            let text = std::fs::read_to_string(dir.join(statsfs_fuse::BULK_FILE))
                .map_err(|e| format!("{}: {e}", dir.display()))?;
            Ok(text
                .lines()
                .filter_map(|l| {
                    let (k, v) = l.rsplit_once(' ')?;
                    Some((k.to_owned(), Reading::parse(v)?))
                })
                .collect())
        }
        Input::Http(addr) => {
            let mut s = std::net::TcpStream::connect(addr).map_err(|e| format!("{addr}: {e}"))?;
            s.set_read_timeout(Some(Duration::from_secs(5))).ok();
            s.write_all(format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nAccept: text/plain\r\nConnection: close\r\n\r\n").as_bytes())
                .map_err(|e| e.to_string())?;
            let mut body = String::new();
            s.read_to_string(&mut body).map_err(|e| e.to_string())?;
            let (head, body) = body
                .split_once("\r\n\r\n")
                .ok_or("malformed HTTP response")?;
            if !head.starts_with("HTTP/1.1 200") {
                return Err(head.lines().next().unwrap_or("").to_owned());
            }
            Ok(body
                .lines()
                .filter(|l| !l.starts_with('#'))
                .filter_map(|l| {
                    let (k, v) = l.rsplit_once(' ')?;
                    Some((k.to_owned(), Reading::parse(v)?))
                })
                .collect())
        }
        Input::Binary(path) => {
            let file = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let layout =
                binary::parse_bytes(&file).map_err(|e| format!("{}: {e}", path.display()))?;
            // parse_bytes refused truncated files and duplicate names; every item read
            // here is inside the file, at its byte offset (aligned or not).
            layout
                .descs
                .iter()
                .filter(|d| d.size == 1)
                .map(|d| {
                    binary::item(&file, &layout, d, 0)
                        .map(|v| (d.name.clone(), Reading::Int(v.into())))
                        .ok_or_else(|| {
                            format!("{}: {:?} lies outside the file", path.display(), d.name)
                        })
                })
                .collect()
        }
    }
}

/// One table row: name, value, rate per second.
pub type Row = (String, Reading, f64);

/// Rows of (name, value, rate per second), filtered and sorted by rate (highest first),
/// then name.
pub fn rows(
    before: &Sample,
    after: &Sample,
    seconds: f64,
    filter: Option<&regex_lite::Regex>,
) -> Vec<Row> {
    let mut rows: Vec<Row> = after
        .iter()
        .filter(|(k, _)| filter.is_none_or(|f| f.is_match(k)))
        .map(|(k, &v)| {
            let rate = match before.get(k) {
                Some(&b) if seconds > 0.0 => v.minus(b) / seconds,
                _ => 0.0,
            };
            (k.clone(), v, rate)
        })
        .collect();
    rows.sort_by(|a, b| b.2.total_cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    rows
}

fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.3}")
    }
}

/// The table, `limit` rows at most; names made [`printable`].
pub fn render(rows: &[Row], limit: usize) -> String {
    let names: Vec<std::borrow::Cow<'_, str>> =
        rows.iter().take(limit).map(|r| printable(&r.0)).collect();
    let width = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 80);
    let mut out = format!("{:<width$} {:>16} {:>12}\n", "NAME", "VALUE", "RATE/s");
    for (name, (_, v, r)) in names.iter().zip(rows) {
        out.push_str(&format!(
            "{name:<width$} {:>16} {:>12}\n",
            v.to_string(),
            num(*r)
        ));
    }
    out
}

/// Terminal rows, for the live view.
pub fn terminal_rows() -> usize {
    // SAFETY: TIOCGWINSZ fills a winsize struct; zeroed is a valid start.
    unsafe {
        let mut ws: libc::winsize = std::mem::zeroed();
        if libc::ioctl(1, libc::TIOCGWINSZ, &mut ws) == 0 && ws.ws_row > 3 {
            return ws.ws_row as usize;
        }
    }
    24
}
