//! Mount points: checking a directory before mounting on it, and making a private one.
//!
//! Mounting follows a symbolic link and hides whatever the directory held, and FUSE even
//! mounts on a regular file (whose reads then fail with EIO). A program that mounts at a
//! predictable name in a shared directory such as `/tmp` can thus be made to mount
//! somewhere else by another user planting a link there first. So:
//!
//! - [`check`] accepts only an empty directory that is not a symbolic link; [`crate::mount`]
//!   and [`crate::mount_blocking`] call it on every path they are given;
//! - [`MountPoint::private`] makes a fresh directory with an unpredictable name, mode 0700,
//!   in the user's runtime directory (`$XDG_RUNTIME_DIR`, `/run` for root, the temp dir
//!   otherwise), which no other user can have prepared;
//! - [`MountPoint::at`] takes a path the user gave: an empty directory, used as is, or a
//!   missing one whose parent exists, made (0700) for the mount; parents are never made;
//! - dropping a [`MountPoint`] removes the directory if it made it (after the mount is
//!   gone: drop the [`crate::Mount`] first).

use std::ffi::{CString, OsString};
use std::fs;
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

/// Why a path cannot be mounted on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The path is a symbolic link; it is not followed.
    #[error("{0}: is a symbolic link (not followed); give the directory itself")]
    Symlink(PathBuf),
    /// The path is not a directory.
    #[error("{0}: not a directory")]
    NotADirectory(PathBuf),
    /// The directory has entries that the mount would hide.
    #[error("{0}: directory not empty (mounting would hide what it holds)")]
    NotEmpty(PathBuf),
    /// Neither the path nor its parent exists; parents are not created.
    #[error("{0}: no such directory, and its parent does not exist either")]
    NoParent(PathBuf),
    /// Looking at or creating the path failed.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// What failed.
        source: io::Error,
    },
}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        let kind = match &e {
            Error::Io { source, .. } => source.kind(),
            _ => io::ErrorKind::InvalidInput,
        };
        io::Error::new(kind, e)
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// Whether `path` can be mounted on: an empty directory, not a symbolic link.
pub fn check(path: &Path) -> Result<(), Error> {
    let md = fs::symlink_metadata(path).map_err(io_err(path))?;
    if md.file_type().is_symlink() {
        return Err(Error::Symlink(path.to_owned()));
    }
    if !md.is_dir() {
        return Err(Error::NotADirectory(path.to_owned()));
    }
    if fs::read_dir(path).map_err(io_err(path))?.next().is_some() {
        return Err(Error::NotEmpty(path.to_owned()));
    }
    Ok(())
}

/// Where a user's private mount points go: `$XDG_RUNTIME_DIR` if set (an absolute path to
/// a directory), else `/run` for root, else the temp dir (where [`MountPoint::private`]
/// relies on its unpredictable name alone).
pub fn runtime_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) {
        if d.is_absolute() && d.is_dir() {
            return d;
        }
    }
    // SAFETY: geteuid cannot fail and touches no memory.
    if unsafe { libc::geteuid() } == 0 && Path::new("/run").is_dir() {
        return PathBuf::from("/run");
    }
    std::env::temp_dir()
}

/// A directory to mount on; removed when dropped if it was made for the mount.
#[derive(Debug)]
pub struct MountPoint {
    path: PathBuf,
    created: bool,
}

impl MountPoint {
    /// A fresh private directory in [`runtime_dir`]: see [`MountPoint::private_in`].
    pub fn private(prefix: &str) -> Result<MountPoint, Error> {
        MountPoint::private_in(&runtime_dir(), prefix)
    }

    /// A fresh directory `<base>/<prefix>XXXXXX` (six random characters, as `mkdtemp`),
    /// mode 0700, made by us: never an existing directory or link.
    pub fn private_in(base: &Path, prefix: &str) -> Result<MountPoint, Error> {
        let template = base.join(format!("{prefix}XXXXXX"));
        let c = CString::new(template.as_os_str().as_bytes())
            .map_err(|e| io_err(&template)(io::Error::new(io::ErrorKind::InvalidInput, e)))?;
        let mut buf = c.into_bytes_with_nul();
        // SAFETY: a writable NUL-terminated buffer ending in XXXXXX, as mkdtemp wants.
        if unsafe { libc::mkdtemp(buf.as_mut_ptr().cast()) }.is_null() {
            return Err(io_err(&template)(io::Error::last_os_error()));
        }
        buf.pop();
        Ok(MountPoint {
            path: PathBuf::from(OsString::from_vec(buf)),
            created: true,
        })
    }

    /// A path the user gave: an empty directory that is not a symbolic link (kept when
    /// dropped), or a missing one whose parent exists (made, mode 0700, and removed when
    /// dropped). Anything else is refused, as `mount` would.
    pub fn at(path: impl AsRef<Path>) -> Result<MountPoint, Error> {
        let path = path.as_ref();
        match fs::symlink_metadata(path) {
            Ok(_) => {
                check(path)?;
                Ok(MountPoint {
                    path: path.to_owned(),
                    created: false,
                })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let parent = match path.parent() {
                    Some(p) if p.as_os_str().is_empty() => Path::new("."),
                    Some(p) => p,
                    None => Path::new("/"),
                };
                if !parent.is_dir() {
                    return Err(Error::NoParent(path.to_owned()));
                }
                fs::DirBuilder::new()
                    .mode(0o700)
                    .create(path)
                    .map_err(io_err(path))?;
                Ok(MountPoint {
                    path: path.to_owned(),
                    created: true,
                })
            }
            Err(e) => Err(io_err(path)(e)),
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether it was made for the mount (and goes when dropped).
    pub fn created(&self) -> bool {
        self.created
    }
}

impl Drop for MountPoint {
    fn drop(&mut self) {
        if self.created {
            // Fails (and keeps it) if still mounted on or no longer empty.
            let _ = fs::remove_dir(&self.path);
        }
    }
}
