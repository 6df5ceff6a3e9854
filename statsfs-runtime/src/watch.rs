//! Structural change notices for backends that cache: a filesystem that lets the kernel
//! cache directory entries must hear when an entry goes away. Values are never cached by
//! backends, so only removals are announced; additions need no notice (nothing cached a
//! name that did not exist).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, PoisonError, RwLock};

use crate::source::Source;

/// What changed.
#[derive(Debug)]
pub enum Change<'a> {
    /// `child` (named `name`) was removed from `parent`.
    ChildRemoved {
        /// The former parent.
        parent: &'a Source,
        /// The removed child's name (its former directory name).
        name: &'a str,
    },
}

type Callback = Arc<dyn Fn(&Change<'_>) + Send + Sync>;

static WATCHERS: RwLock<Vec<(u64, Callback)>> = RwLock::new(Vec::new());
static NEXT: AtomicU64 = AtomicU64::new(1);

/// Calls `f` after every structural change, anywhere in the process, until the returned
/// guard is dropped. `f` runs on the thread that made the change, after the tree's locks are
/// released; it must not block for long.
pub fn watch(f: impl Fn(&Change<'_>) + Send + Sync + 'static) -> Watch {
    let id = NEXT.fetch_add(1, Relaxed);
    WATCHERS
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .push((id, Arc::new(f)));
    Watch(id)
}

/// Keeps a watcher registered; dropping it unregisters.
#[derive(Debug)]
pub struct Watch(u64);

impl Drop for Watch {
    fn drop(&mut self) {
        WATCHERS
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(id, _)| *id != self.0);
    }
}

pub(crate) fn notify(change: &Change<'_>) {
    let watchers: Vec<Callback> = {
        let w = WATCHERS.read().unwrap_or_else(PoisonError::into_inner);
        if w.is_empty() {
            return;
        }
        w.iter().map(|(_, f)| f.clone()).collect()
    };
    for f in watchers {
        f(change);
    }
}
