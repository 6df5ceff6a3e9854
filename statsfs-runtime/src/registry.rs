//! The registry: the root of the served tree, what the kernel's `/sys/kernel/stats` is.

use crate::error::Result;
use crate::source::Source;
use crate::value::Entry;

/// The root directory. Registering a source makes it a top-level directory of every
/// backend serving this registry.
#[derive(Clone, Debug)]
pub struct Registry {
    root: Source,
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}

impl Registry {
    /// An empty root.
    pub fn new() -> Registry {
        // The root has no name of its own (it is the mount point) and never holds groups,
        // so no aggregate crosses from one registered tree into another.
        Registry {
            root: Source::unchecked("", false),
        }
    }

    /// Attaches a root source (`kvm`, `net`).
    pub fn register(&self, source: &Source) -> Result<()> {
        self.root.add_child(source)
    }

    /// Detaches a root source; false if it was not registered here.
    pub fn unregister(&self, source: &Source) -> bool {
        self.root.remove_child(source)
    }

    /// The root, for walking everything.
    pub fn root(&self) -> &Source {
        &self.root
    }

    /// Whether `source` is in the served tree now: attached, through visible sources only,
    /// to this root. A file opened before its source was removed reads 0 by this test.
    pub fn serves(&self, source: &Source) -> bool {
        let mut cur = source.clone();
        loop {
            if cur.same(&self.root) {
                return true;
            }
            if cur.is_hidden() {
                return false;
            }
            match cur.parent() {
                Some(p) => cur = p,
                None => return false,
            }
        }
    }

    /// Calls `f` after every removal in this registry's tree (at any depth), until the
    /// returned guard is dropped; removals in other trees of the process are not heard.
    /// Clones of a registry share its watchers. `f` runs on the thread that made the change,
    /// after the tree's locks are released; it must not block for long.
    pub fn watch(
        &self,
        f: impl Fn(&crate::watch::Change<'_>) + Send + Sync + 'static,
    ) -> crate::watch::Watch {
        crate::watch::watch(self.root.watchers(), f)
    }

    /// Resolves `kvm/1234-5/vcpu0/exits` as the filesystem does.
    pub fn lookup(&self, path: &str) -> Result<Entry> {
        self.root.lookup_path(path)
    }
}
