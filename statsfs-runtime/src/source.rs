//! Sources: the nodes of the aggregating tree.
//!
//! Locking: each node has one `RwLock` over its groups and children, always taken parent
//! before child, and never two writers at once across nodes except under [`TREE`]. Hot
//! paths take no lock at all: increments touch only the instance, and an aggregate read
//! takes its own node's read lock once and then folds a cached flat list of instances.
//! That list is rebuilt when the node's subtree generation moved; every structural change
//! bumps the generation of the changed node and all its ancestors *after* the change, so a
//! read that starts after a change returns sees it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{
    Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak,
};
use std::{fmt, mem};

use crate::error::{Error, Result};
use crate::fold::{Flat, Retained};
use crate::instance::{ErasedInstance, Instance, StatsSource};
use crate::name::validate_name;
use crate::set::ValueSet;
use crate::value::{Entry, ValueRef};

/// Serialises attaching and detaching, so "has no parent" and "is not an ancestor" stay
/// true between the check and the change. These are rare (VM and vCPU creation).
static TREE: Mutex<()> = Mutex::new(());

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A node of the tree: a directory in the filesystem view. Cloning gives another handle to
/// the same node; a parent keeps its children alive, and so does any handle.
///
/// Trees are walked recursively: depth is expected to be small (`kvm/<vm>/vcpu<N>` is 3);
/// a chain thousands of sources deep can exhaust a thread's stack.
#[derive(Clone)]
pub struct Source(pub(crate) Arc<Node>);

pub(crate) struct Node {
    name: Box<str>,
    hidden: bool,
    revoked: AtomicBool,
    retain: AtomicBool,
    /// Files here and below read as numbers (see [`Source::set_numeric`]).
    numeric: AtomicBool,
    /// The id string of the binary stats view, when set (see [`Source::set_stats_id`]).
    stats_id: std::sync::OnceLock<Box<str>>,
    /// Structural generation of the subtree rooted here.
    gen: AtomicU64,
    parent: Mutex<Weak<Node>>,
    state: RwLock<State>,
}

#[derive(Default)]
pub(crate) struct State {
    pub(crate) groups: Vec<Group>,
    pub(crate) children: Vec<Source>,
    /// Retained totals of removed children, one per set.
    pub(crate) retained: Vec<Arc<Retained>>,
}

pub(crate) struct Group {
    pub(crate) set: &'static ValueSet,
    pub(crate) slot: Slot,
    pub(crate) hidden: bool,
}

pub(crate) enum Slot {
    /// Simple values, read from this instance.
    Simple(ErasedInstance),
    /// Aggregates over the subtree, with the cached flat list of instances.
    Aggregate(Box<Mutex<Option<Arc<Flat>>>>),
    /// A simple group of a revoked source: reads 0, contributes nothing.
    Dead,
}

impl Node {
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn is_revoked(&self) -> bool {
        self.revoked.load(SeqCst)
    }

    fn parent(&self) -> Option<Arc<Node>> {
        lock(&self.parent).upgrade()
    }

    /// Drops the cached flat lists of this node's and every ancestor's aggregate groups, so
    /// instances that left (revoked, removed) are released now, not at the next read.
    fn drop_caches_upward(self: &Arc<Node>) {
        let mut n = Some(self.clone());
        while let Some(node) = n {
            for g in &node.read().groups {
                if let Slot::Aggregate(cache) = &g.slot {
                    *lock(cache) = None;
                }
            }
            n = node.parent();
        }
    }

    /// Invalidates the aggregate caches of this node and every ancestor.
    fn bump(self: &Arc<Node>) {
        let mut n = Some(self.clone());
        while let Some(node) = n {
            node.gen.fetch_add(1, SeqCst);
            n = node.parent();
        }
    }

    /// The flat list of live simple instances of `set` in this subtree, from the cache
    /// when nothing changed since it was built. `st` is this node's state, already locked.
    pub(crate) fn flat(
        &self,
        st: &State,
        set: &'static ValueSet,
        cache: &Mutex<Option<Arc<Flat>>>,
    ) -> Arc<Flat> {
        let gen = self.gen.load(SeqCst);
        let mut cached = lock(cache);
        if let Some(f) = cached.as_ref().filter(|f| f.gen == gen) {
            return f.clone();
        }
        let f = Arc::new(self.build_flat(st, set, gen));
        *cached = Some(f.clone());
        f
    }

    fn build_flat(&self, st: &State, set: &'static ValueSet, gen: u64) -> Flat {
        let mut insts = Vec::new();
        let mut retained = Vec::new();
        self.collect(st, set, &mut insts, &mut retained);
        Flat::new(gen, insts, retained)
    }

    /// Reference §3 steps 1-2: this node and every descendant, hidden ones included; only
    /// simple groups of exactly `set`; aggregate groups skipped; revoked sources skipped.
    fn collect(
        &self,
        st: &State,
        set: &'static ValueSet,
        insts: &mut Vec<ErasedInstance>,
        retained: &mut Vec<Arc<Retained>>,
    ) {
        if !self.is_revoked() {
            for g in &st.groups {
                if let (Slot::Simple(i), true) = (&g.slot, ValueSet::same(g.set, set)) {
                    insts.push(i.clone());
                }
            }
            retained.extend(
                st.retained
                    .iter()
                    .filter(|r| ValueSet::same(r.set, set))
                    .cloned(),
            );
        }
        for c in &st.children {
            let cst = c.0.read();
            c.0.collect(&cst, set, insts, retained);
        }
    }

    /// Every set with simple values or retained totals anywhere in this subtree.
    fn sets_in_subtree(&self, st: &State, out: &mut Vec<&'static ValueSet>) {
        let add = |s: &'static ValueSet, out: &mut Vec<&'static ValueSet>| {
            if !out.iter().any(|o| ValueSet::same(o, s)) {
                out.push(s);
            }
        };
        for g in &st.groups {
            if matches!(g.slot, Slot::Simple(_)) {
                add(g.set, out);
            }
        }
        for r in &st.retained {
            add(r.set, out);
        }
        for c in &st.children {
            let cst = c.0.read();
            c.0.sets_in_subtree(&cst, out);
        }
    }

    /// Names a directory listing of this node shows, for collision checks.
    fn visible_names_clash(&self, st: &State, name: &str) -> bool {
        st.groups.iter().filter(|g| !g.hidden).any(|g| {
            let aggregate = matches!(g.slot, Slot::Aggregate(_));
            g.set
                .values()
                .iter()
                .any(|d| d.is_shown(aggregate, false) && d.name == name)
        }) || st
            .children
            .iter()
            .any(|c| !c.is_hidden() && &*c.0.name == name)
    }
}

impl Source {
    /// A visible source.
    pub fn new(name: &str) -> Result<Source> {
        validate_name(name)?;
        Ok(Source::unchecked(name, false))
    }

    /// A hidden source: no directory (and so none of its children either), but its values
    /// still count in every ancestor's aggregates.
    pub fn new_hidden(name: &str) -> Result<Source> {
        validate_name(name)?;
        Ok(Source::unchecked(name, true))
    }

    pub(crate) fn unchecked(name: &str, hidden: bool) -> Source {
        Source(Arc::new(Node {
            name: name.into(),
            hidden,
            revoked: AtomicBool::new(false),
            retain: AtomicBool::new(false),
            numeric: AtomicBool::new(false),
            stats_id: std::sync::OnceLock::new(),
            gen: AtomicU64::new(0),
            parent: Mutex::new(Weak::new()),
            state: RwLock::new(State::default()),
        }))
    }

    /// The source's name (its directory name).
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// Whether the source has no directory.
    pub fn is_hidden(&self) -> bool {
        self.0.hidden
    }

    /// Whether [`Source::revoke`] was called.
    pub fn is_revoked(&self) -> bool {
        self.0.is_revoked()
    }

    /// A number identifying the node while any handle to it lives (backends key inode
    /// tables by it).
    pub fn id(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }

    /// Whether two handles are the same node.
    pub fn same(&self, other: &Source) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Opt-in beyond statsfs: when a child is removed from this source (or from any
    /// descendant), its cumulative SUM totals stay in this source's aggregates, so they never
    /// go backwards (what a Prometheus counter needs). Off by default, as in the reference.
    pub fn set_retain_totals(&self, on: bool) {
        self.0.retain.store(on, SeqCst);
    }

    /// Whether this source or an ancestor retains removed children's totals.
    pub fn retains_totals(&self) -> bool {
        let mut n = Some(self.0.clone());
        while let Some(node) = n {
            if node.retain.load(SeqCst) {
                return true;
            }
            n = node.parent();
        }
        false
    }

    /// Makes every file of this source and of its subtree read as a decimal integer, show
    /// functions notwithstanding (their text stays in the bulk file, JSON and `statsfs
    /// top`). For trees that tools parse as numbers: kvm_stat reads every file of KVM's
    /// debugfs directories with `int()`, and one `HLT` kills it. Off by default, so the
    /// reference's show files (§7) are what a plain tree serves.
    pub fn set_numeric(&self, on: bool) {
        self.0.numeric.store(on, SeqCst);
    }

    /// Whether this source or an ancestor is numeric ([`Source::set_numeric`]).
    pub fn is_numeric(&self) -> bool {
        let mut n = Some(self.0.clone());
        while let Some(node) = n {
            if node.numeric.load(SeqCst) {
                return true;
            }
            n = node.parent();
        }
        false
    }

    /// Sets, once, the id string the binary stats view of this source carries (KVM writes
    /// `kvm-<tid>` for a VM and `kvm-<tid>/vcpu-<id>` for a vCPU). Returns false, changing
    /// nothing, if it was set before or does not fit the format's 47 bytes.
    pub fn set_stats_id(&self, id: &str) -> bool {
        id.len() < crate::kvm_binary::NAME_SIZE && self.0.stats_id.set(id.into()).is_ok()
    }

    /// The id string of the binary stats view: the one set with [`Source::set_stats_id`], or
    /// else the source's name.
    pub fn stats_id(&self) -> &str {
        self.0.stats_id.get().map_or(self.name(), |s| s)
    }

    /// Adds a group: simple values read from `instance`, or aggregates of `set` over this
    /// subtree when `instance` is `None`. `hidden` groups have no files but still count.
    ///
    /// Fails, changing nothing, on an invalid set, an instance of the wrong type, a
    /// duplicate `(set, instance)` or aggregate (EEXIST), or a visible value whose file name
    /// is already taken in this source (EEXIST).
    pub fn add_values(
        &self,
        set: &'static ValueSet,
        instance: Option<ErasedInstance>,
        hidden: bool,
    ) -> Result<()> {
        let owner = set.validate()?;
        if let (Some(owner), Some(inst)) = (owner, &instance) {
            if inst.type_id() != owner {
                return Err(Error::TypeMismatch {
                    set: set.name().to_owned(),
                });
            }
        }
        let mut st = self.0.write();
        let duplicate = st.groups.iter().any(|g| {
            ValueSet::same(g.set, set)
                && match (&g.slot, &instance) {
                    (Slot::Simple(a), Some(b)) => a.same(b),
                    (Slot::Aggregate(_), None) => true,
                    _ => false,
                }
        });
        if duplicate {
            return Err(Error::GroupExists {
                set: set.name().to_owned(),
                source_name: self.name().to_owned(),
            });
        }
        if !hidden {
            if let Some(d) = set
                .values()
                .iter()
                .filter(|d| d.is_shown(instance.is_none(), false))
                .find(|d| self.0.visible_names_clash(&st, &d.name))
            {
                return Err(Error::NameCollision {
                    name: d.name.to_string(),
                    source_name: self.name().to_owned(),
                });
            }
        }
        let slot = match instance {
            Some(i) => Slot::Simple(i),
            None => Slot::Aggregate(Box::default()),
        };
        // Exact capacity: a source has few groups, and the budget is 64 bytes per group.
        st.groups.reserve_exact(1);
        st.groups.push(Group { set, slot, hidden });
        drop(st);
        self.0.bump();
        Ok(())
    }

    /// Adds the simple values of a typed instance.
    pub fn add_instance<T: StatsSource>(&self, instance: &Instance<T>) -> Result<()> {
        self.add_values(T::value_set(), Some(instance.erase()), false)
    }

    /// Adds the simple values of an instance held in a plain `Arc`.
    pub fn add_arc<T: StatsSource>(&self, instance: &Arc<T>) -> Result<()> {
        self.add_values(
            T::value_set(),
            Some(ErasedInstance::from_arc(instance.clone())),
            false,
        )
    }

    /// Adds aggregates of `set` over this subtree.
    pub fn add_aggregate(&self, set: &'static ValueSet) -> Result<()> {
        self.add_values(set, None, false)
    }

    /// Adds aggregates of `T`'s set over this subtree.
    pub fn add_aggregate_of<T: StatsSource>(&self) -> Result<()> {
        self.add_aggregate(T::value_set())
    }

    /// Makes `child` a subordinate of this source. A source has at most one parent: adding
    /// one that has a parent fails (EBUSY), as does a cycle; a visible child whose name is
    /// already a visible child's or value's file name fails with EEXIST.
    pub fn add_child(&self, child: &Source) -> Result<()> {
        let _tree = lock(&TREE);
        if child.0.parent().is_some() {
            return Err(Error::HasParent {
                name: child.name().to_owned(),
            });
        }
        let mut n = Some(self.0.clone());
        while let Some(node) = n {
            if Arc::ptr_eq(&node, &child.0) {
                return Err(Error::Cycle {
                    name: child.name().to_owned(),
                });
            }
            n = node.parent();
        }
        let mut st = self.0.write();
        // Only visible names collide (§7): a hidden child has no directory to clash with.
        if !child.is_hidden() && self.0.visible_names_clash(&st, child.name()) {
            return Err(Error::NameCollision {
                name: child.name().to_owned(),
                source_name: self.name().to_owned(),
            });
        }
        *lock(&child.0.parent) = Arc::downgrade(&self.0);
        // A child coming back: the totals retained when it left are live again.
        st.retained.retain(|r| {
            !r.from
                .as_ref()
                .is_some_and(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(&child.0)))
        });
        st.children.push(child.clone());
        drop(st);
        self.0.bump();
        Ok(())
    }

    /// Removes `child` from this source: its values leave every ancestor's aggregates at
    /// once (unless totals are retained, see [`Source::set_retain_totals`]). Returns false,
    /// changing nothing, when `child` is not a child of this source.
    pub fn remove_child(&self, child: &Source) -> bool {
        let _tree = lock(&TREE);
        let retain = self.retains_totals();
        let mut st = self.0.write();
        let Some(pos) = st.children.iter().position(|c| c.same(child)) else {
            return false;
        };
        if retain {
            Self::retain_subtree(&mut st, child);
        }
        st.children.remove(pos);
        *lock(&child.0.parent) = Weak::new();
        drop(st);
        self.0.bump();
        self.0.drop_caches_upward();
        drop(_tree);
        crate::watch::notify(&crate::watch::Change::ChildRemoved {
            parent: self,
            name: child.name(),
        });
        true
    }

    /// Keeps the retainable totals of `child`'s subtree in stores of their own, tagged with
    /// the child: if it comes back, its store goes (its values are live again); stores of
    /// children that no longer exist merge into one, so churn keeps the list short.
    fn retain_subtree(st: &mut State, child: &Source) {
        let cst = child.0.read();
        let mut sets = Vec::new();
        child.0.sets_in_subtree(&cst, &mut sets);
        for set in sets {
            let mut r = child.0.build_flat(&cst, set, 0).retained(set);
            r.from = Some(Arc::downgrade(&child.0));
            st.retained.push(Arc::new(r));
        }
        drop(cst);
        // Merge the stores of children that are gone for good into one base store per set.
        let mut i = 0;
        while i < st.retained.len() {
            let dead = st.retained[i]
                .from
                .as_ref()
                .is_some_and(|w| w.strong_count() == 0);
            if !dead {
                i += 1;
                continue;
            }
            let gone = st.retained.remove(i);
            let set = gone.set;
            match st
                .retained
                .iter()
                .position(|r| r.from.is_none() && ValueSet::same(r.set, set))
            {
                Some(b) => st.retained[b] = Arc::new(st.retained[b].merged(&gone)),
                None => st.retained.push(Arc::new(Retained::new(set).merged(&gone))),
            }
        }
    }

    /// Called before the instances go away: every value of this source reads 0 from now on
    /// and contributes nothing to any aggregate (reference §6, "our rule"). The instances are
    /// released. Children are not affected.
    pub fn revoke(&self) {
        let mut st = self.0.write();
        self.0.revoked.store(true, SeqCst);
        for g in &mut st.groups {
            if let Slot::Simple(_) = g.slot {
                drop(mem::replace(&mut g.slot, Slot::Dead));
            }
        }
        st.retained.clear();
        drop(st);
        self.0.bump();
        self.0.drop_caches_upward();
    }

    /// The parent, if attached.
    pub fn parent(&self) -> Option<Source> {
        self.0.parent().map(Source)
    }

    /// All children, hidden ones included, in the order they were added.
    pub fn children(&self) -> Vec<Source> {
        self.0.read().children.clone()
    }

    /// The children that have directories.
    pub fn visible_children(&self) -> Vec<Source> {
        let st = self.0.read();
        st.children
            .iter()
            .filter(|c| !c.is_hidden())
            .cloned()
            .collect()
    }

    /// The visible child called `name`.
    pub fn child(&self, name: &str) -> Option<Source> {
        let st = self.0.read();
        st.children
            .iter()
            .find(|c| !c.is_hidden() && c.name() == name)
            .cloned()
    }

    /// The groups, oldest first.
    pub fn groups(&self) -> Vec<GroupInfo> {
        let st = self.0.read();
        st.groups
            .iter()
            .enumerate()
            .map(|(index, g)| GroupInfo {
                index,
                set: g.set,
                kind: match g.slot {
                    Slot::Simple(_) => GroupKind::Simple,
                    Slot::Aggregate(_) => GroupKind::Aggregate,
                    Slot::Dead => GroupKind::Dead,
                },
                hidden: g.hidden,
            })
            .collect()
    }

    /// Every value of every group (hidden groups and values included), oldest group first.
    pub fn values(&self) -> Vec<ValueRef> {
        self.values_where(false)
    }

    /// The values that have files: the visible values of visible groups, without the
    /// aggregates of values that have none.
    pub fn visible_values(&self) -> Vec<ValueRef> {
        self.values_where(true)
    }

    fn values_where(&self, visible_only: bool) -> Vec<ValueRef> {
        let st = self.0.read();
        let mut out = Vec::new();
        for (gi, g) in st.groups.iter().enumerate() {
            if visible_only && g.hidden {
                continue;
            }
            let aggregate = matches!(g.slot, Slot::Aggregate(_));
            for (vi, d) in g.set.values().iter().enumerate() {
                if !visible_only || d.is_shown(aggregate, false) {
                    out.push(ValueRef::new(self.clone(), g.set, gi, vi));
                }
            }
        }
        out
    }

    /// Lookup by name (reference §4): only this source's own groups, newest first, the first
    /// entry of that name in a set. A child's values are never found: ENOENT.
    pub fn lookup(&self, name: &str) -> Result<ValueRef> {
        self.lookup_where(name, false)
    }

    /// Lookup among the values that have files (visible values of visible groups).
    pub fn lookup_visible(&self, name: &str) -> Result<ValueRef> {
        self.lookup_where(name, true)
    }

    fn lookup_where(&self, name: &str, visible_only: bool) -> Result<ValueRef> {
        let st = self.0.read();
        st.groups
            .iter()
            .enumerate()
            .rev()
            .filter(|(_, g)| !(visible_only && g.hidden))
            .find_map(|(gi, g)| {
                let aggregate = matches!(g.slot, Slot::Aggregate(_));
                g.set
                    .values()
                    .iter()
                    .position(|d| d.name == name && (!visible_only || d.is_shown(aggregate, false)))
                    .map(|vi| ValueRef::new(self.clone(), g.set, gi, vi))
            })
            .ok_or_else(|| Error::NotFound {
                name: name.to_owned(),
            })
    }

    /// Lookup by path as the filesystem sees it, relative to this source:
    /// `1234-5/vcpu0/exits`. Only visible sources and values are found.
    pub fn lookup_path(&self, path: &str) -> Result<Entry> {
        let mut parts = path.split('/').filter(|p| !p.is_empty()).peekable();
        let mut cur = self.clone();
        while let Some(part) = parts.next() {
            if let Some(c) = cur.child(part) {
                cur = c;
                continue;
            }
            if parts.peek().is_none() {
                return cur.lookup_visible(part).map(Entry::Value);
            }
            return Err(Error::NotFound {
                name: path.to_owned(),
            });
        }
        Ok(Entry::Source(cur))
    }

    /// Reads every value of group `index` in one pass, so they belong together (one bulk
    /// read for sets that have one). Dead groups and revoked sources read all zeros.
    pub fn read_group(&self, index: usize, out: &mut Vec<u64>) -> Result<()> {
        let (set, target) = {
            let st = self.0.read();
            let g = st.groups.get(index).ok_or_else(|| Error::NotFound {
                name: format!("group {index}"),
            })?;
            (g.set, self.0.target(&st, g))
        };
        target.read_into(set, out);
        Ok(())
    }
}

/// What a read of a group resolves to under the source's lock. The read itself happens
/// after the lock is released, so user code (custom getters, bulk readers) never runs under
/// a tree lock and may itself read the tree.
pub(crate) enum Target {
    /// A simple group's instance.
    Simple(ErasedInstance),
    /// An aggregate group's flat list of the subtree.
    Flat(Arc<Flat>),
    /// A dead group or a revoked source: reads 0.
    Zero,
}

impl Node {
    /// The target of group `g` (this node's state `st` is locked by the caller).
    pub(crate) fn target(&self, st: &State, g: &Group) -> Target {
        match (&g.slot, self.is_revoked()) {
            (Slot::Simple(i), false) => Target::Simple(i.clone()),
            (Slot::Aggregate(cache), false) => Target::Flat(self.flat(st, g.set, cache)),
            _ => Target::Zero,
        }
    }
}

impl Target {
    /// Appends the carriers of every value of `set` to `out`, read together.
    pub(crate) fn read_into(&self, set: &ValueSet, out: &mut Vec<u64>) {
        let values = set.values();
        let start = out.len();
        match self {
            Target::Simple(i) => match set.read_all() {
                Some(read_all) => {
                    out.resize(start + values.len(), 0);
                    read_all(i.stats(), &mut out[start..]);
                    for (v, d) in out[start..].iter_mut().zip(values) {
                        *v = d.ty.extend(*v);
                    }
                }
                None => out.extend(values.iter().map(|d| crate::read::read(d, i))),
            },
            Target::Flat(flat) => flat.fold_all(set, out),
            Target::Zero => out.resize(start + values.len(), 0),
        }
    }
}

/// What kind of group a [`GroupInfo`] describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupKind {
    /// Values read from an instance.
    Simple,
    /// Aggregates over the subtree.
    Aggregate,
    /// A simple group of a revoked source.
    Dead,
}

/// One group of a source, for introspection.
#[derive(Clone, Copy, Debug)]
pub struct GroupInfo {
    /// Position among the source's groups (stable: groups are never removed).
    pub index: usize,
    /// The value set.
    pub set: &'static ValueSet,
    /// Simple, aggregate or dead.
    pub kind: GroupKind,
    /// Whether the group has no files.
    pub hidden: bool,
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Source")
            .field("name", &self.name())
            .field("hidden", &self.is_hidden())
            .field("revoked", &self.is_revoked())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The memory budget: at most 64 bytes per group, before the instance itself.
    #[test]
    fn a_group_fits_in_64_bytes() {
        assert_eq!(mem::size_of::<Group>(), 56);
        assert_eq!(mem::size_of::<Slot>(), 40);
    }
}
