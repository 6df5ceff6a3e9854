//! Structural change notices for backends that cache: a filesystem that lets the kernel
//! cache directory entries must hear when an entry goes away. Values are never cached by
//! backends, so only removals are announced; additions need no notice (nothing cached a
//! name that did not exist).
//!
//! Notices are scoped to a registry ([`crate::Registry::watch`]): a backend serves one
//! registry, so it hears the removals in that registry's tree and nothing else in the
//! process. A process holding several registries (one per mount, per test, per tenant) then
//! pays per removal only for the backends that serve the changed tree.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, PoisonError, RwLock, Weak};

use crate::source::Source;

/// What changed.
#[derive(Debug)]
pub enum Change<'a> {
    /// `child` (named `name`) was removed from `parent`.
    ChildRemoved {
        /// The former parent.
        parent: &'a Source,
        /// The removed child, with its subtree as it is now: a backend can visit what it
        /// cached of that subtree alone instead of everything it caches.
        child: &'a Source,
        /// The removed child's name (its former directory name).
        name: &'a str,
    },
}

type Callback = Arc<dyn Fn(&Change<'_>) + Send + Sync>;

/// The watchers of one tree. Kept on the tree's root node (created on the first watch, so a
/// tree nobody watches carries nothing): a removal finds them by walking up from the parent
/// to the root, which it walks anyway to lock the chain.
#[derive(Default)]
pub(crate) struct Watchers {
    list: RwLock<Vec<(u64, Callback)>>,
}

static NEXT: AtomicU64 = AtomicU64::new(1);

impl Watchers {
    /// Calls every watcher registered now. Callbacks are copied out first, so one may drop
    /// its own (or another's) guard without deadlocking.
    pub(crate) fn notify(&self, change: &Change<'_>) {
        let watchers: Vec<Callback> = {
            let w = self.list.read().unwrap_or_else(PoisonError::into_inner);
            if w.is_empty() {
                return;
            }
            w.iter().map(|(_, f)| f.clone()).collect()
        };
        for f in watchers {
            f(change);
        }
    }
}

/// Registers `f` with `watchers` until the returned guard is dropped.
pub(crate) fn watch(
    watchers: &Arc<Watchers>,
    f: impl Fn(&Change<'_>) + Send + Sync + 'static,
) -> Watch {
    let id = NEXT.fetch_add(1, Relaxed);
    watchers
        .list
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .push((id, Arc::new(f)));
    Watch {
        id,
        watchers: Arc::downgrade(watchers),
    }
}

/// Keeps a watcher registered; dropping it unregisters. It does not keep the tree alive
/// (a guard outliving its registry just has nothing left to unregister from).
pub struct Watch {
    id: u64,
    watchers: Weak<Watchers>,
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watch").field("id", &self.id).finish()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Some(w) = self.watchers.upgrade() {
            w.list
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(|(id, _)| *id != self.id);
        }
    }
}
