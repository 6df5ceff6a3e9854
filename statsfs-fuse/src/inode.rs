//! Inode numbers: stable for as long as the filesystem is mounted. A node keeps its number
//! when it is removed and added back, so a re-added child gets the same files again.

use std::collections::HashMap;

use statsfs_runtime::{Source, ValueRef};

/// What an inode is.
#[derive(Clone)]
pub(crate) enum Node {
    /// A source's directory.
    Dir(Source),
    /// A value's file.
    File(ValueRef),
    /// The bulk file of a directory.
    Bulk(Source),
    /// The directory's values in KVM's binary stats layout.
    Binary(Source),
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Dir(usize),
    File(usize, usize, usize),
    Bulk(usize),
    Binary(usize),
}

fn key(node: &Node) -> Key {
    match node {
        Node::Dir(s) => Key::Dir(s.id()),
        Node::File(v) => Key::File(v.source().id(), v.group_index(), v.value_index()),
        Node::Bulk(s) => Key::Bulk(s.id()),
        Node::Binary(s) => Key::Binary(s.id()),
    }
}

/// The table, with an index by source so that a removal visits the removed sources' entries
/// alone. An entry holds its source alive (so a source id in the table cannot be reused
/// by another source) and counts the kernel's references to it (`nlookup`). Entries of
/// sources that left the tree are dropped once the kernel holds none, so a tree whose
/// sources come and go for days keeps a bounded table.
pub(crate) struct Inodes {
    by_ino: HashMap<u64, (Node, u64)>,
    by_key: HashMap<Key, u64>,
    /// The entries of each source (keyed by [`Source::id`]): its directory, files, bulk
    /// and binary files.
    by_source: HashMap<usize, Vec<u64>>,
    next: u64,
    /// Entries examined so far to drop removed sources' entries ([`crate::Mount::removal_visits`]).
    pub(crate) visits: u64,
}

/// The source an entry belongs to.
pub(crate) fn source_of(node: &Node) -> &Source {
    match node {
        Node::Dir(s) | Node::Bulk(s) | Node::Binary(s) => s,
        Node::File(v) => v.source(),
    }
}

impl Inodes {
    pub(crate) fn new(root: Source) -> Inodes {
        let mut t = Inodes {
            by_ino: HashMap::new(),
            by_key: HashMap::new(),
            by_source: HashMap::new(),
            next: 1,
            visits: 0,
        };
        t.ino(Node::Dir(root));
        t
    }

    /// The inode of `node`, assigned on first sight.
    pub(crate) fn ino(&mut self, node: Node) -> u64 {
        let k = key(&node);
        if let Some(&ino) = self.by_key.get(&k) {
            return ino;
        }
        let ino = self.next;
        self.next += 1;
        self.by_key.insert(k, ino);
        self.by_source
            .entry(source_of(&node).id())
            .or_default()
            .push(ino);
        self.by_ino.insert(ino, (node, 0));
        ino
    }

    /// The kernel got `ino` in a lookup reply: one more reference.
    pub(crate) fn looked_up(&mut self, ino: u64) {
        if let Some(e) = self.by_ino.get_mut(&ino) {
            e.1 += 1;
        }
    }

    /// The kernel dropped `n` references; the entry goes when none remain and `gone(node)`
    /// (its source left the tree). The root is never dropped.
    pub(crate) fn forget(&mut self, ino: u64, n: u64, gone: impl Fn(&Node) -> bool) {
        let Some(e) = self.by_ino.get_mut(&ino) else {
            return;
        };
        e.1 = e.1.saturating_sub(n);
        if e.1 == 0 && ino != 1 && gone(&e.0) {
            self.remove(ino);
        }
    }

    /// Drops the entries of `sources` (a removed subtree) that the kernel holds no reference
    /// to and whose source left the tree: the ones `readdir` numbered but nothing looked
    /// up. Entries the kernel holds go when it forgets them; entries of a source already
    /// back in the tree stay. Only these sources' entries are visited, so a removal costs
    /// the size of the removed subtree, not of the table.
    pub(crate) fn drop_removed(&mut self, sources: &[Source], gone: impl Fn(&Node) -> bool) {
        let mut dead = Vec::new();
        for s in sources {
            let Some(inos) = self.by_source.get(&s.id()) else {
                continue;
            };
            self.visits += inos.len() as u64;
            dead.extend(inos.iter().copied().filter(|&ino| {
                self.by_ino
                    .get(&ino)
                    .is_some_and(|(node, refs)| ino != 1 && *refs == 0 && gone(node))
            }));
        }
        for ino in dead {
            self.remove(ino);
        }
    }

    fn remove(&mut self, ino: u64) {
        if let Some((node, _)) = self.by_ino.remove(&ino) {
            self.by_key.remove(&key(&node));
            let id = source_of(&node).id();
            if let Some(inos) = self.by_source.get_mut(&id) {
                inos.retain(|&i| i != ino);
                if inos.is_empty() {
                    self.by_source.remove(&id);
                }
            }
        }
    }

    /// The inode of a source's directory, if the kernel has seen it.
    pub(crate) fn dir_ino(&self, source: &Source) -> Option<u64> {
        self.by_key.get(&Key::Dir(source.id())).copied()
    }

    pub(crate) fn get(&self, ino: u64) -> Option<Node> {
        self.by_ino.get(&ino).map(|e| e.0.clone())
    }

    pub(crate) fn len(&self) -> usize {
        self.by_ino.len()
    }
}
