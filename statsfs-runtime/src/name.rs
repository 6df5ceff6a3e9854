//! Which strings may name a source or a value: exactly those that can be one file name.

use crate::error::{Error, Result};

/// Names starting with this prefix are kept for backends (for example a FUSE bulk file), so
/// that a file a backend adds can never collide with a value or a source.
pub const RESERVED_PREFIX: &str = ".statsfs";

/// The longest name a Linux directory entry can hold (`NAME_MAX`).
pub const MAX_NAME_LEN: usize = 255;

/// Checks that `name` can be one file name. The original series truncated long names and
/// accepted `/`; we refuse instead, so every value has exactly one file.
pub fn validate_name(name: &str) -> Result<()> {
    let reason = if name.is_empty() {
        "empty"
    } else if name == "." || name == ".." {
        "\".\" and \"..\" are directory links"
    } else if name.contains('/') {
        "contains '/'"
    } else if name.contains('\0') {
        "contains NUL"
    } else if name.len() > MAX_NAME_LEN {
        "longer than 255 bytes"
    } else if name.starts_with(RESERVED_PREFIX) {
        "names starting with \".statsfs\" are reserved for backends"
    } else {
        return Ok(());
    };
    Err(Error::InvalidName {
        name: name.to_owned(),
        reason,
    })
}
