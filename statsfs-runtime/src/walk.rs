//! The walker and snapshots every backend shares, so none of them re-implements
//! aggregation: a backend sees only sources, groups and already-computed carriers.

use crate::set::ValueSet;
use crate::source::{Slot, Source};

/// What a walk includes.
#[derive(Clone, Copy, Debug, Default)]
pub struct WalkOptions {
    /// Visit hidden sources and groups too (the filesystem view does not).
    pub include_hidden: bool,
}

/// One group's values, read together.
#[derive(Debug)]
pub struct GroupSnapshot<'a> {
    /// Position among the source's groups.
    pub index: usize,
    /// The set; `values[i]` is the carrier of `set.values()[i]`.
    pub set: &'static ValueSet,
    /// Whether the values are aggregates.
    pub aggregate: bool,
    /// Whether the group is hidden.
    pub hidden: bool,
    /// The carriers, one per descriptor, hidden values included (use
    /// [`GroupSnapshot::entries`] for what a backend shows).
    pub values: &'a [u64],
    include_hidden: bool,
}

impl<'a> GroupSnapshot<'a> {
    /// The values a backend shows, with their descriptors: hidden values are left out
    /// unless the walk includes hidden things, and so are aggregates of values that have
    /// none ([`crate::ValueDesc::is_shown`]).
    pub fn entries(&self) -> impl Iterator<Item = (&'static crate::ValueDesc, u64)> + '_ {
        let (include_hidden, aggregate) = (self.include_hidden, self.aggregate);
        self.set
            .values()
            .iter()
            .zip(self.values.iter().copied())
            .filter(move |(d, _)| d.is_shown(aggregate, include_hidden))
    }
}

/// Receives a walk. Values arrive in a buffer the walker reuses, so visiting a large tree
/// allocates nothing per value.
pub trait Visitor {
    /// A source is entered; return false to skip it and its subtree.
    fn enter(&mut self, source: &Source, depth: usize) -> bool {
        let _ = (source, depth);
        true
    }
    /// One group of the current source.
    fn group(&mut self, source: &Source, group: &GroupSnapshot<'_>);
    /// The source and its subtree are done.
    fn leave(&mut self, source: &Source, depth: usize) {
        let _ = (source, depth);
    }
}

struct GroupMeta {
    index: usize,
    set: &'static ValueSet,
    aggregate: bool,
    hidden: bool,
    start: usize,
}

impl Source {
    /// Visits this source and its subtree, parents before children, groups oldest first.
    /// Each source's groups are read under one lock hold; the visitor runs without locks.
    pub fn walk<V: Visitor + ?Sized>(&self, options: WalkOptions, visitor: &mut V) {
        let mut buf = Vec::new();
        let mut meta = Vec::new();
        self.walk_at(0, options, visitor, &mut buf, &mut meta);
    }

    fn walk_at<V: Visitor + ?Sized>(
        &self,
        depth: usize,
        options: WalkOptions,
        visitor: &mut V,
        buf: &mut Vec<u64>,
        meta: &mut Vec<GroupMeta>,
    ) {
        if !visitor.enter(self, depth) {
            return;
        }
        buf.clear();
        meta.clear();
        // Resolve every group under one lock hold; read them after releasing it.
        let (targets, children): (Vec<crate::source::Target>, Vec<Source>) = {
            let st = self.0.read();
            let mut targets = Vec::new();
            for (index, g) in st.groups.iter().enumerate() {
                if g.hidden && !options.include_hidden {
                    continue;
                }
                meta.push(GroupMeta {
                    index,
                    set: g.set,
                    aggregate: matches!(g.slot, Slot::Aggregate(_)),
                    hidden: g.hidden,
                    start: 0,
                });
                targets.push(self.0.target(&st, g));
            }
            let children = st
                .children
                .iter()
                .filter(|c| options.include_hidden || !c.is_hidden())
                .cloned()
                .collect();
            (targets, children)
        };
        for (m, t) in meta.iter_mut().zip(&targets) {
            m.start = buf.len();
            t.read_into(m.set, buf);
        }
        for m in meta.iter() {
            let values = &buf[m.start..m.start + m.set.values().len()];
            visitor.group(
                self,
                &GroupSnapshot {
                    index: m.index,
                    set: m.set,
                    aggregate: m.aggregate,
                    hidden: m.hidden,
                    values,
                    include_hidden: options.include_hidden,
                },
            );
        }
        for c in &children {
            c.walk_at(depth + 1, options, visitor, buf, meta);
        }
        visitor.leave(self, depth);
    }

    /// An owned copy of the subtree's values, each group read consistently.
    pub fn snapshot(&self, options: WalkOptions) -> Snapshot {
        struct Build(Vec<Snapshot>);
        impl Visitor for Build {
            fn enter(&mut self, source: &Source, _: usize) -> bool {
                self.0.push(Snapshot {
                    name: source.name().to_owned(),
                    hidden: source.is_hidden(),
                    groups: Vec::new(),
                    children: Vec::new(),
                });
                true
            }
            fn group(&mut self, _: &Source, g: &GroupSnapshot<'_>) {
                if let Some(top) = self.0.last_mut() {
                    top.groups.push(SnapshotGroup {
                        set: g.set,
                        aggregate: g.aggregate,
                        hidden: g.hidden,
                        values: g.values.to_vec(),
                    });
                }
            }
            fn leave(&mut self, _: &Source, depth: usize) {
                if depth > 0 {
                    if let Some(done) = self.0.pop() {
                        if let Some(parent) = self.0.last_mut() {
                            parent.children.push(done);
                        }
                    }
                }
            }
        }
        let mut b = Build(Vec::new());
        self.walk(options, &mut b);
        b.0.pop().unwrap_or_else(|| Snapshot {
            name: self.name().to_owned(),
            hidden: self.is_hidden(),
            groups: Vec::new(),
            children: Vec::new(),
        })
    }
}

/// An owned, nested copy of a subtree's values.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// Source name.
    pub name: String,
    /// Whether the source is hidden.
    pub hidden: bool,
    /// Its groups, oldest first.
    pub groups: Vec<SnapshotGroup>,
    /// Its children, in order.
    pub children: Vec<Snapshot>,
}

/// One group in a [`Snapshot`].
#[derive(Clone, Debug)]
pub struct SnapshotGroup {
    /// The set.
    pub set: &'static ValueSet,
    /// Whether the values are aggregates.
    pub aggregate: bool,
    /// Whether the group is hidden.
    pub hidden: bool,
    /// One carrier per descriptor.
    pub values: Vec<u64>,
}

impl Snapshot {
    /// The carrier of `name` looked up as [`Source::lookup`] does: newest group first.
    pub fn value(&self, name: &str) -> Option<u64> {
        self.groups
            .iter()
            .rev()
            .find_map(|g| g.set.position(name).map(|i| g.values[i]))
    }

    /// The child called `name`.
    pub fn child(&self, name: &str) -> Option<&Snapshot> {
        self.children.iter().find(|c| c.name == name)
    }
}
