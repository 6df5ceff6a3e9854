//! The one error type of the runtime, with the errno a filesystem backend returns for it.

use std::borrow::Cow;

/// Everything the runtime can refuse. Each variant maps to one errno (see [`Error::errno`]),
/// so a backend reports exactly what the statsfs kernel code would have reported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A source or value name that cannot be a file name.
    #[error("invalid name {name:?}: {reason}")]
    InvalidName {
        /// The rejected name.
        name: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A value set whose descriptors contradict each other or their accessors.
    #[error("invalid value set {set:?}: {reason}")]
    InvalidSet {
        /// Name of the set.
        set: String,
        /// What is wrong with it.
        reason: Cow<'static, str>,
    },
    /// The instance handed in is not of the type the set's field accessors were made for.
    #[error("instance of the wrong type for value set {set:?}")]
    TypeMismatch {
        /// Name of the set.
        set: String,
    },
    /// The same `(value set, instance)` pair, or the same set as aggregate, is already in the
    /// source.
    #[error("value set {set:?} is already in source {source_name:?} with this instance")]
    GroupExists {
        /// Name of the set.
        set: String,
        /// Name of the source.
        source_name: String,
    },
    /// Two entries (values or child directories) would have the same file name in one source.
    #[error("{name:?} already exists in source {source_name:?}")]
    NameCollision {
        /// The colliding name.
        name: String,
        /// Name of the source.
        source_name: String,
    },
    /// The source is already the child of another source (or registered).
    #[error("source {name:?} already has a parent")]
    HasParent {
        /// Name of the source.
        name: String,
    },
    /// Adding the child would make a source its own ancestor.
    #[error("adding {name:?} would create a cycle")]
    Cycle {
        /// Name of the would-be child.
        name: String,
    },
    /// No such value or source.
    #[error("{name:?} not found")]
    NotFound {
        /// What was looked up.
        name: String,
    },
    /// Clear asked of a value that is not cumulative or whose type cannot clear.
    #[error("value {name:?} cannot be cleared")]
    NotClearable {
        /// Name of the value.
        name: String,
    },
    /// Write to a value whose file is read-only (0444).
    #[error("value {name:?} is read-only")]
    ReadOnly {
        /// Name of the value.
        name: String,
    },
    /// Write of anything other than `0` to a clearable value.
    #[error("only \"0\" can be written to {name:?}")]
    InvalidWrite {
        /// Name of the value.
        name: String,
    },
}

impl Error {
    /// The errno a filesystem returns for this error.
    pub fn errno(&self) -> i32 {
        match self {
            Error::InvalidName { .. }
            | Error::InvalidSet { .. }
            | Error::TypeMismatch { .. }
            | Error::Cycle { .. }
            | Error::InvalidWrite { .. } => libc::EINVAL,
            Error::GroupExists { .. } | Error::NameCollision { .. } => libc::EEXIST,
            Error::HasParent { .. } => libc::EBUSY,
            Error::NotFound { .. } => libc::ENOENT,
            Error::NotClearable { .. } => libc::EPERM,
            Error::ReadOnly { .. } => libc::EACCES,
        }
    }
}

/// Result with the runtime's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
