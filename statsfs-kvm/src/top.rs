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
pub type Sample = BTreeMap<String, f64>;

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
                    Some((k.to_owned(), v.parse::<f64>().ok()?))
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
                    Some((k.to_owned(), v.parse::<f64>().ok()?))
                })
                .collect())
        }
        Input::Binary(path) => {
            let file = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let layout =
                binary::parse_bytes(&file).map_err(|e| format!("{}: {e}", path.display()))?;
            let items = binary::data_items(&file, &layout);
            Ok(layout
                .descs
                .iter()
                .filter(|d| d.size == 1)
                .filter_map(|d| {
                    items
                        .get(d.offset as usize / 8)
                        .map(|&v| (d.name.clone(), v as f64))
                })
                .collect())
        }
    }
}

/// Rows of (name, value, rate per second), filtered and sorted by rate (highest first),
/// then name.
pub fn rows(
    before: &Sample,
    after: &Sample,
    seconds: f64,
    filter: Option<&regex_lite::Regex>,
) -> Vec<(String, f64, f64)> {
    let mut rows: Vec<(String, f64, f64)> = after
        .iter()
        .filter(|(k, _)| filter.is_none_or(|f| f.is_match(k)))
        .map(|(k, &v)| {
            let rate = match before.get(k) {
                Some(&b) if seconds > 0.0 => (v - b) / seconds,
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

/// The table, `limit` rows at most.
pub fn render(rows: &[(String, f64, f64)], limit: usize) -> String {
    let width = rows
        .iter()
        .map(|r| r.0.len())
        .max()
        .unwrap_or(4)
        .clamp(4, 80);
    let mut out = format!("{:<width$} {:>16} {:>12}\n", "NAME", "VALUE", "RATE/s");
    for (name, v, r) in rows.iter().take(limit) {
        out.push_str(&format!("{name:<width$} {:>16} {:>12}\n", num(*v), num(*r)));
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
