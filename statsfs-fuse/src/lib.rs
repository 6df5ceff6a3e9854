//! statsfs over FUSE: the filesystem view of the original series, mounted for real with
//! `fuser`. One directory per visible source, one file per visible value (aggregates
//! included); reads show `decimal\n` or the show text, writing `0` clears.
//!
//! Everything the files mean comes from the runtime (values, clear rules, errno); this crate
//! only maps inodes and file handles onto it.
#![deny(missing_docs)]

mod fs;
mod inode;
mod mount;

pub use mount::{mount, mount_blocking, Mount, Options, BINARY_FILE, BULK_FILE};
