//! statsfs over FUSE: the filesystem view of the original series, mounted for real with
//! `fuser`. One directory per visible source, one file per visible value (aggregates
//! included); reads show `decimal\n` or the show text, writing `0` clears.
//!
//! Everything the files mean comes from the runtime (values, clear rules, errno); this crate
//! only maps inodes and file handles onto it.
//!
//! What a program gets from the library:
//! - mount points are checked ([`mountpoint`]: an empty directory, never a symbolic link)
//!   and can be made private ([`MountPoint`]);
//! - a mount goes away with its process however the process ends, SIGKILL included, by
//!   FUSE's `auto_unmount` (fusermount3 unmounts when the process is gone). No signal
//!   handler is installed. Where auto_unmount is unavailable (no fusermount3, or a user
//!   other than root without `user_allow_other` in /etc/fuse.conf) the mount ends only when
//!   the [`Mount`] is dropped: such a program must catch SIGTERM/SIGINT itself and return;
//!   a directory made by [`MountPoint`] is removed only when it is dropped, so a program
//!   that wants it gone on SIGTERM must likewise stop by returning;
//! - the namespace is the tree's: creating, removing, renaming and linking get debugfs's
//!   errnos (EPERM, EACCES for creating a regular file); setting times is EPERM;
//!   truncating is allowed to 0 only (`echo 0 > file`); writes through a file whose source
//!   left the tree are EIO (as debugfs's removed files), while reads show 0 and `fstat`
//!   answers as for a deleted file;
//! - directory offsets are per-entry cookies over a listing taken once per `opendir`
//!   listing (again at `rewinddir`), so removals during a listing hide no survivor and a
//!   listing costs time linear in its size.
#![deny(missing_docs)]

mod fs;
mod inode;
mod mount;
pub mod mountpoint;

pub use mount::{mount, mount_blocking, Mount, Options, BINARY_FILE, BULK_FILE};
pub use mountpoint::MountPoint;
