//! The `fuser::Filesystem`: requests in, runtime calls out. No statistics semantics here:
//! values, text, clear and errno all come from the runtime.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use fuser::{
    Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo, LockOwner,
    OpenAccMode, OpenFlags, RenameFlags, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory,
    ReplyEmpty, ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite, Request, TimeOrNow, WriteFlags,
};
use statsfs_kvm_binary::StatsFile;
use statsfs_runtime::{GroupSnapshot, Registry, Source, Visitor, WalkOptions};

use crate::inode::{Inodes, Node};
use crate::mount::{Options, BINARY_FILE, BULK_FILE};

/// The kernel caches entries and attributes: nothing in them changes while a node exists
/// (names, modes and kinds are fixed; `st_size` is 0, as in debugfs, since the text is only
/// known when read, and reads are direct I/O). The one thing that does change, a child
/// leaving its parent, is pushed to the kernel as an entry invalidation (see `mount`), so it
/// vanishes at once. This saves the LOOKUP and GETATTR round trips of every path component
/// on every open.
pub(crate) const TTL: Duration = Duration::from_secs(3600);

/// One open file: what it is and what its reads return.
struct Handle {
    node: Node,
    content: Content,
}

/// What reads of one open file see, as the kernel's own files behave.
enum Content {
    /// A text file (a value or the bulk file): taken afresh by every read at offset 0, as
    /// debugfs's `simple_attr` does, so a tool that keeps the file open and rereads it from
    /// the start sees new values; reads further on continue the text of that read, so
    /// partial reads of one pass see one number.
    Text(Mutex<Option<Arc<Vec<u8>>>>),
    /// The binary stats file: header and descriptors fixed at open, data read on every
    /// read that reaches it, as a KVM stats fd.
    Binary(Arc<StatsFile>),
}

/// One entry of a directory listing: (cookie, inode, kind, name).
type Entry = (u64, u64, FileType, String);

/// One open directory: its listing, taken at the listing's start (offset 0) and served
/// from there, so listing n entries costs O(n) however many READDIR requests it takes.
/// Entries are ordered by cookie, and a cookie is the entry's inode number (plus 2, after
/// `.` and `..`): it names the entry, not its position, so an offset stays valid whatever
/// is removed meanwhile, and `seekdir` to a cookie of another listing of the same
/// directory lands at the same entry.
#[derive(Default)]
struct Listing {
    entries: Option<Arc<Vec<Entry>>>,
}

pub(crate) struct StatsFs {
    registry: Registry,
    opts: Options,
    pub(crate) inodes: Arc<Mutex<Inodes>>,
    handles: Mutex<HashMap<u64, Handle>>,
    listings: Mutex<HashMap<u64, Listing>>,
    next_fh: AtomicU64,
    start: SystemTime,
    /// Requests answered, for benchmarks (round trips per file are the cost that matters).
    pub(crate) requests: Arc<AtomicU64>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn errno(e: &statsfs_runtime::Error) -> Errno {
    Errno::from_i32(e.errno())
}

/// Everything below a directory, one line per visible value: `path value`.
struct Bulk {
    path: Vec<String>,
    out: String,
}

impl Visitor for Bulk {
    fn enter(&mut self, source: &Source, depth: usize) -> bool {
        if depth > 0 {
            self.path.push(source.name().to_owned());
        }
        true
    }

    fn group(&mut self, _: &Source, group: &GroupSnapshot<'_>) {
        for (desc, value) in group.entries() {
            for p in &self.path {
                self.out.push_str(p);
                self.out.push('/');
            }
            self.out.push_str(&desc.name);
            self.out.push(' ');
            desc.write_text(value, &mut self.out);
        }
    }

    fn leave(&mut self, _: &Source, depth: usize) {
        if depth > 0 {
            self.path.pop();
        }
    }
}

impl StatsFs {
    pub(crate) fn new(registry: Registry, opts: Options) -> StatsFs {
        StatsFs {
            inodes: Arc::new(Mutex::new(Inodes::new(registry.root().clone()))),
            registry,
            opts,
            handles: Mutex::new(HashMap::new()),
            listings: Mutex::new(HashMap::new()),
            next_fh: AtomicU64::new(1),
            start: SystemTime::now(),
            requests: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Whether a node's source has left the served tree.
    pub(crate) fn gone(registry: &Registry, node: &Node) -> bool {
        !registry.serves(crate::inode::source_of(node))
    }

    fn node(&self, ino: INodeNo) -> Result<Node, Errno> {
        lock(&self.inodes).get(ino.0).ok_or(Errno::ENOENT)
    }

    /// The node, if it is still in the served tree (a removed directory's inode answers
    /// ENOENT, as a deleted directory does).
    fn live(&self, ino: INodeNo) -> Result<Node, Errno> {
        let node = self.node(ino)?;
        if self.registry.serves(crate::inode::source_of(&node)) {
            Ok(node)
        } else {
            Err(Errno::ENOENT)
        }
    }

    fn ino(&self, node: Node) -> u64 {
        lock(&self.inodes).ino(node)
    }

    /// The text a file shows now. A value whose source has left the tree reads 0.
    fn text(&self, node: &Node) -> Vec<u8> {
        match node {
            Node::File(v) if self.registry.serves(v.source()) => v.text().into_bytes(),
            Node::File(v) => v.desc().text(0).into_bytes(),
            Node::Bulk(s) if self.registry.serves(s) => {
                let mut b = Bulk {
                    path: Vec::new(),
                    out: String::new(),
                };
                s.walk(WalkOptions::default(), &mut b);
                b.out.into_bytes()
            }
            Node::Bulk(_) | Node::Binary(_) | Node::Dir(_) => Vec::new(),
        }
    }

    fn attr(&self, ino: u64, node: &Node) -> FileAttr {
        let (kind, perm, size, nlink, time) = match node {
            Node::Dir(s) => {
                let perm = if s.same(self.registry.root()) {
                    self.opts.root_mode
                } else {
                    0o755
                };
                (FileType::Directory, perm, 0, 2, self.start)
            }
            Node::File(v) => (FileType::RegularFile, v.file_mode(), 0, 1, self.start),
            Node::Bulk(_) | Node::Binary(_) => (FileType::RegularFile, 0o444, 0, 1, self.start),
        };
        FileAttr {
            ino: INodeNo(ino),
            size,
            blocks: size.div_ceil(512),
            atime: time,
            mtime: time,
            ctime: time,
            crtime: self.start,
            kind,
            perm: perm as u16,
            nlink,
            uid: self.opts.uid,
            gid: self.opts.gid,
            rdev: 0,
            blksize: 4096,
            flags: 0,
        }
    }

    fn dir(&self, ino: INodeNo) -> Result<Source, Errno> {
        match self.live(ino)? {
            Node::Dir(s) => Ok(s),
            _ => Err(Errno::ENOTDIR),
        }
    }

    /// Every entry of `dir` now, ordered by cookie.
    fn list(&self, ino: INodeNo, dir: &Source) -> Vec<Entry> {
        let parent = dir.parent().filter(|_| !dir.same(self.registry.root()));
        let parent_ino = parent.map_or(ino.0, |p| self.ino(Node::Dir(p)));
        let mut entries: Vec<Entry> = vec![
            (1, ino.0, FileType::Directory, ".".into()),
            (2, parent_ino, FileType::Directory, "..".into()),
        ];
        // Taken before the inode table's lock: no runtime lock is held under it.
        let (children, values) = (dir.visible_children(), dir.visible_values());
        let mut inodes = lock(&self.inodes);
        let numbered: Vec<Source> = std::iter::once(dir.clone())
            .chain(children.iter().cloned())
            .collect();
        for c in children {
            let name = c.name().to_owned();
            let i = inodes.ino(Node::Dir(c));
            entries.push((i + 2, i, FileType::Directory, name));
        }
        for v in values {
            let name = v.name().to_owned();
            let i = inodes.ino(Node::File(v));
            entries.push((i + 2, i, FileType::RegularFile, name));
        }
        // A removal drops the removed subtree's unreferenced entries once, under this lock.
        // If `dir` left the tree while it was being listed, that may have happened before
        // these were numbered: drop them here, or nothing would.
        if !self.registry.serves(dir) {
            inodes.drop_removed(&numbered, |n| Self::gone(&self.registry, n));
        }
        drop(inodes);
        entries[2..].sort_unstable_by_key(|e| e.0);
        entries
    }

    fn lookup_in(&self, parent: INodeNo, name: &OsStr) -> Result<(u64, Node), Errno> {
        let dir = self.dir(parent)?;
        let name = name.to_str().ok_or(Errno::ENOENT)?;
        let node = if name == BULK_FILE {
            Node::Bulk(dir)
        } else if name == BINARY_FILE {
            Node::Binary(dir)
        } else if let Some(child) = dir.child(name) {
            Node::Dir(child)
        } else {
            Node::File(dir.lookup_visible(name).map_err(|e| errno(&e))?)
        };
        Ok((self.ino(node.clone()), node))
    }
}

impl Filesystem for StatsFs {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        self.requests.fetch_add(1, Relaxed);
        match self.lookup_in(parent, name) {
            Ok((ino, node)) => {
                lock(&self.inodes).looked_up(ino);
                reply.entry(&TTL, &self.attr(ino, &node), Generation(0))
            }
            Err(e) => reply.error(e),
        }
    }

    fn forget(&self, _req: &Request, ino: INodeNo, nlookup: u64) {
        self.requests.fetch_add(1, Relaxed);
        let registry = &self.registry;
        lock(&self.inodes).forget(ino.0, nlookup, |n| Self::gone(registry, n));
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, fh: Option<FileHandle>, reply: ReplyAttr) {
        self.requests.fetch_add(1, Relaxed);
        // An inode the kernel still holds (an open file, a working directory) answers after
        // its source left the tree, as a deleted file does: with no links. The kernel asks by
        // inode alone for `fstat`, so the handle cannot be required here; a removed entry
        // is invalidated, so a path lookup of it gets ENOENT before ever coming here.
        let node = match fh.and_then(|fh| lock(&self.handles).get(&fh.0).map(|h| h.node.clone())) {
            Some(n) => Ok(n),
            None => self.node(ino),
        };
        match node {
            Ok(node) => {
                let mut attr = self.attr(ino.0, &node);
                if Self::gone(&self.registry, &node) {
                    attr.nlink = 0;
                }
                reply.attr(&TTL, &attr)
            }
            Err(e) => reply.error(e),
        }
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        self.requests.fetch_add(1, Relaxed);
        let node = match self.live(ino) {
            Ok(n) => n,
            Err(e) => return reply.error(e),
        };
        if mode.is_some() || uid.is_some() || gid.is_some() {
            return reply.error(Errno::EPERM);
        }
        // `echo 0 > file` truncates first: to 0, allowed exactly where writing is (the times
        // the kernel sends along are ignored: they are fixed). Any other size is EINVAL, as
        // writing that number is. Setting times alone (`touch`) is refused like chmod:
        // debugfs would store them, but here they would not change, so say so.
        match (&node, size) {
            (Node::File(v), Some(_)) if !v.is_clearable() => reply.error(Errno::EACCES),
            (Node::File(_), Some(1..)) => reply.error(Errno::EINVAL),
            (Node::Dir(_), Some(_)) => reply.error(Errno::EISDIR),
            (Node::Bulk(_) | Node::Binary(_), Some(_)) => reply.error(Errno::EACCES),
            (_, None) if atime.is_some() || mtime.is_some() || ctime.is_some() => {
                reply.error(Errno::EPERM)
            }
            _ => reply.attr(&TTL, &self.attr(ino.0, &node)),
        }
    }

    fn open(&self, _req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        self.requests.fetch_add(1, Relaxed);
        let node = match self.live(ino) {
            Ok(n) => n,
            Err(e) => return reply.error(e),
        };
        let writes = flags.acc_mode() != OpenAccMode::O_RDONLY;
        match &node {
            Node::Dir(_) => return reply.error(Errno::EISDIR),
            Node::File(v) if writes && !v.is_clearable() => return reply.error(Errno::EACCES),
            Node::Bulk(_) | Node::Binary(_) if writes => return reply.error(Errno::EACCES),
            _ => {}
        }
        let content = match &node {
            Node::Binary(s) => Content::Binary(Arc::new(StatsFile::new(s))),
            _ => Content::Text(Mutex::new(None)),
        };
        let fh = self.next_fh.fetch_add(1, Relaxed);
        lock(&self.handles).insert(fh, Handle { node, content });
        // Direct I/O: reads come to us, so each open sees a fresh value, and st_size (0)
        // never truncates a read.
        reply.opened(FileHandle(fh), FopenFlags::FOPEN_DIRECT_IO);
    }

    fn read(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        self.requests.fetch_add(1, Relaxed);
        let slice = |t: &[u8]| {
            let start = (offset as usize).min(t.len());
            let end = start.saturating_add(size as usize).min(t.len());
            t[start..end].to_vec()
        };
        // Decide under the handle table's lock; read values outside it.
        let node = {
            let handles = lock(&self.handles);
            let Some(h) = handles.get(&fh.0) else {
                return reply.error(Errno::EBADF);
            };
            match &h.content {
                Content::Binary(file) if self.registry.serves(crate::inode::source_of(&h.node)) => {
                    let file = file.clone();
                    drop(handles);
                    return reply.data(&file.read_at(offset, size as usize));
                }
                // A source that left the tree: its binary file reads as empty.
                Content::Binary(_) => return reply.data(&[]),
                Content::Text(t) => match (offset, lock(t).clone()) {
                    (1.., Some(t)) => return reply.data(&slice(&t)),
                    _ => h.node.clone(),
                },
            }
        };
        let fresh = Arc::new(self.text(&node));
        let data = slice(&fresh);
        if let Some(Handle {
            content: Content::Text(t),
            ..
        }) = lock(&self.handles).get(&fh.0)
        {
            *lock(t) = Some(fresh);
        }
        reply.data(&data);
    }

    fn write(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        self.requests.fetch_add(1, Relaxed);
        let node = match lock(&self.handles).get(&fh.0) {
            Some(h) => h.node.clone(),
            None => return reply.error(Errno::EBADF),
        };
        // A file whose source left the tree changes nothing: clearing its detached instance
        // would show when the source is added back. EIO, as debugfs answers on a removed
        // file's open descriptor.
        if Self::gone(&self.registry, &node) {
            return reply.error(Errno::EIO);
        }
        match node {
            Node::File(v) => match v.write_text(data) {
                Ok(()) => reply.written(data.len() as u32),
                Err(e) => reply.error(errno(&e)),
            },
            _ => reply.error(Errno::EACCES),
        }
    }

    fn release(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        self.requests.fetch_add(1, Relaxed);
        lock(&self.handles).remove(&fh.0);
        reply.ok();
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        self.requests.fetch_add(1, Relaxed);
        match self.dir(ino) {
            Ok(_) => {
                let fh = self.next_fh.fetch_add(1, Relaxed);
                lock(&self.listings).insert(fh, Listing::default());
                reply.opened(FileHandle(fh), FopenFlags::empty())
            }
            Err(e) => reply.error(e),
        }
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        self.requests.fetch_add(1, Relaxed);
        let dir = match self.dir(ino) {
            Ok(d) => d,
            Err(e) => return reply.error(e),
        };
        // Offset 0 starts a listing (also after `rewinddir`): take the entries now.
        let kept = match lock(&self.listings).get(&fh.0) {
            Some(l) if offset > 0 => l.entries.clone(),
            _ => None,
        };
        let entries = kept.unwrap_or_else(|| {
            let fresh = Arc::new(self.list(ino, &dir));
            if let Some(l) = lock(&self.listings).get_mut(&fh.0) {
                l.entries = Some(fresh.clone());
            }
            fresh
        });
        let from = entries.partition_point(|e| e.0 <= offset);
        for (cookie, ino, kind, name) in &entries[from..] {
            if reply.add(INodeNo(*ino), *cookie, *kind, name) {
                break;
            }
        }
        reply.ok();
    }

    fn releasedir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        reply: ReplyEmpty,
    ) {
        self.requests.fetch_add(1, Relaxed);
        lock(&self.listings).remove(&fh.0);
        reply.ok();
    }

    // The namespace is the tree's: nothing is created, removed or renamed through the
    // filesystem. The errnos are debugfs's (checked as root on /sys/kernel/debug/kvm):
    // EPERM where the kernel finds no such operation, EACCES for creating a regular file.

    fn mknod(
        &self,
        _req: &Request,
        _parent: INodeNo,
        _name: &OsStr,
        mode: u32,
        _umask: u32,
        _rdev: u32,
        reply: ReplyEntry,
    ) {
        self.requests.fetch_add(1, Relaxed);
        if mode & libc::S_IFMT == libc::S_IFREG {
            reply.error(Errno::EACCES)
        } else {
            reply.error(Errno::EPERM)
        }
    }

    fn create(
        &self,
        _req: &Request,
        _parent: INodeNo,
        _name: &OsStr,
        _mode: u32,
        _umask: u32,
        _flags: i32,
        reply: ReplyCreate,
    ) {
        self.requests.fetch_add(1, Relaxed);
        reply.error(Errno::EACCES);
    }

    fn mkdir(
        &self,
        _req: &Request,
        _parent: INodeNo,
        _name: &OsStr,
        _mode: u32,
        _umask: u32,
        reply: ReplyEntry,
    ) {
        self.requests.fetch_add(1, Relaxed);
        reply.error(Errno::EPERM);
    }

    fn unlink(&self, _req: &Request, _parent: INodeNo, _name: &OsStr, reply: ReplyEmpty) {
        self.requests.fetch_add(1, Relaxed);
        reply.error(Errno::EPERM);
    }

    fn rmdir(&self, _req: &Request, _parent: INodeNo, _name: &OsStr, reply: ReplyEmpty) {
        self.requests.fetch_add(1, Relaxed);
        reply.error(Errno::EPERM);
    }

    fn symlink(
        &self,
        _req: &Request,
        _parent: INodeNo,
        _link_name: &OsStr,
        _target: &std::path::Path,
        reply: ReplyEntry,
    ) {
        self.requests.fetch_add(1, Relaxed);
        reply.error(Errno::EPERM);
    }

    fn rename(
        &self,
        _req: &Request,
        _parent: INodeNo,
        _name: &OsStr,
        _newparent: INodeNo,
        _newname: &OsStr,
        _flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        self.requests.fetch_add(1, Relaxed);
        reply.error(Errno::EPERM);
    }

    fn link(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _newparent: INodeNo,
        _newname: &OsStr,
        reply: ReplyEntry,
    ) {
        self.requests.fetch_add(1, Relaxed);
        reply.error(Errno::EPERM);
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        self.requests.fetch_add(1, Relaxed);
        let files = lock(&self.inodes).len() as u64;
        reply.statfs(0, 0, 0, files, 0, 4096, 255, 4096);
    }
}
