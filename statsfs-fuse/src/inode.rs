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

/// The table. Nodes are never forgotten while mounted: a node holds its source alive, so
/// its id cannot be reused by another source.
pub(crate) struct Inodes {
    by_ino: HashMap<u64, Node>,
    by_key: HashMap<Key, u64>,
    next: u64,
}

impl Inodes {
    pub(crate) fn new(root: Source) -> Inodes {
        let mut t = Inodes {
            by_ino: HashMap::new(),
            by_key: HashMap::new(),
            next: 1,
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
        self.by_ino.insert(ino, node);
        ino
    }

    /// The inode of a source's directory, if the kernel has seen it.
    pub(crate) fn dir_ino(&self, source: &Source) -> Option<u64> {
        self.by_key.get(&Key::Dir(source.id())).copied()
    }

    pub(crate) fn get(&self, ino: u64) -> Option<Node> {
        self.by_ino.get(&ino).cloned()
    }

    pub(crate) fn len(&self) -> usize {
        self.by_ino.len()
    }
}
