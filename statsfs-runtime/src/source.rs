//! Sources: the nodes of the aggregating tree.
//!
//! Locking: each node has one `RwLock` over its groups and children, always taken parent
//! before child, and never two writers at once across nodes except under [`TREE`]. Hot
//! paths take no lock at all: increments touch only the instance, and an aggregate read
//! takes its own node's read lock once and then folds a cached flat list of instances.
//! That list is rebuilt when the node's subtree generation moved; every structural change
//! bumps the generation of the changed node and all its ancestors *after* the change, so a
//! read that starts after a change returns sees it.
//!
//! Retained totals (see [`Source::set_retain_totals`]) need more: a change that moves
//! counts between live instances and retained stores (remove, re-add, revoke) write-locks
//! the whole chain from the root down to the changed node and bumps the generations before
//! unlocking. Aggregates of field-access values are folded under their node's read lock,
//! so no reader is folding the old list while the change takes its snapshot, and none
//! folds it afterwards: a counter can never be seen live above the total that replaces it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{
    Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak,
};
use std::{fmt, mem};

use crate::desc::AccessKind;
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
    /// Removed from a retaining tree and not attached since: the detached subtree keeps
    /// retaining, so what leaves it while it is away stays in the totals its old parent
    /// offsets when it comes back.
    detached_retain: AtomicBool,
    /// Files here and below read as numbers (see [`Source::set_numeric`]).
    numeric: AtomicBool,
    /// The id string of the binary stats view, when set (see [`Source::set_stats_id`]).
    stats_id: std::sync::OnceLock<Box<str>>,
    /// Structural generation of the subtree rooted here.
    gen: AtomicU64,
    /// Who hears removals in the tree rooted here; set only on a registry's root, when it
    /// is first watched (see [`crate::watch`]).
    watchers: std::sync::OnceLock<Arc<crate::watch::Watchers>>,
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

    /// This node and its ancestors, root first (stable under [`TREE`]).
    fn chain(self: &Arc<Node>) -> Vec<Arc<Node>> {
        let mut chain = Vec::new();
        let mut n = Some(self.clone());
        while let Some(node) = n {
            n = node.parent();
            chain.push(node);
        }
        chain.reverse();
        chain
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
        }
        // A revoked source's retained totals still count above it (it reads 0 itself).
        retained.extend(
            st.retained
                .iter()
                .filter(|r| ValueSet::same(r.set, set))
                .cloned(),
        );
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
            detached_retain: AtomicBool::new(false),
            numeric: AtomicBool::new(false),
            stats_id: std::sync::OnceLock::new(),
            gen: AtomicU64::new(0),
            watchers: std::sync::OnceLock::new(),
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

    /// The watchers of the tree rooted here (created on first use).
    pub(crate) fn watchers(&self) -> &Arc<crate::watch::Watchers> {
        self.0.watchers.get_or_init(Default::default)
    }

    /// Whether two handles are the same node.
    pub fn same(&self, other: &Source) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Opt-in beyond statsfs: when a child is removed from this source (or from any
    /// descendant), its cumulative SUM totals stay in this source's aggregates, so they never
    /// go backwards (what a Prometheus counter needs). Off by default, as in the reference.
    ///
    /// The invariant: a cumulative SUM aggregate of a source that retains (this flag on it
    /// or an ancestor, see [`Source::retains_totals`]) never reads less than it read before,
    /// under any sequence of tree operations and any interleaving with increments and
    /// reads, except through a clear of values it sums: a clear of this aggregate, of an
    /// aggregate above it (which zeroes the retained totals below too) or in its subtree, or
    /// of a simple value in its subtree. In detail:
    ///
    /// - **remove**: the parent keeps the child subtree's totals at the moment it left
    ///   (counts the child makes later are not added); every ancestor sees them.
    /// - **revoke**: a revoked source reads 0 itself (reference §6), but in a retaining tree
    ///   its own totals at the revoke and the totals it retained stay in its ancestors.
    ///   Counts added to an instance after its source is revoked are not counted (revoke
    ///   is called just before the instance goes away).
    /// - **re-add**: a child added back to the parent it left is counted live again and
    ///   its retained totals go, unless it counts less than they held (it was cleared, or
    ///   lost counts while away): then the difference stays, so the parent does not drop.
    /// - **nested detach**: a subtree removed from a retaining tree retains while detached,
    ///   so a grandchild leaving it meanwhile stays in its totals.
    /// - **move**: a child attached to another parent is counted live there while the
    ///   parent it left keeps what it had; a retaining ancestor of both sees both (a move is
    ///   an increase there, never a decrease). Moving between separate trees is exact.
    /// - **clear**: clearing an aggregate zeroes the instances and the retained totals in
    ///   its subtree; a removed child's own instances are not in it and keep counting.
    ///
    /// Values read through functions (custom getters, bulk readers) are folded outside the
    /// tree locks so they may read the tree; for them the invariant holds for changes not
    /// concurrent with their updates.
    pub fn set_retain_totals(&self, on: bool) {
        self.0.retain.store(on, SeqCst);
    }

    /// Whether removing a child from this source retains its totals: this source or an
    /// ancestor retains ([`Source::set_retain_totals`]), or this subtree was removed from a
    /// retaining tree and has not been attached anywhere since.
    pub fn retains_totals(&self) -> bool {
        retains(&self.0.chain())
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

    /// Sets, once, the id string binary stats views of this source carry (KVM writes
    /// `kvm-<tid>` for a VM and `kvm-<tid>/vcpu-<id>` for a vCPU). Returns false, changing
    /// nothing, if it was set before or is empty or holds a NUL. The format's own length
    /// limit is checked by `statsfs_kvm_binary::set_id`, which owns the format.
    pub fn set_stats_id(&self, id: &str) -> bool {
        !id.is_empty() && !id.contains('\0') && self.0.stats_id.set(id.into()).is_ok()
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
        let chain = self.0.chain();
        let mut guards = write_all(&chain);
        let st = guards.last_mut().expect("a chain holds its own node");
        // Only visible names collide (§7): a hidden child has no directory to clash with.
        if !child.is_hidden() && self.0.visible_names_clash(st, child.name()) {
            return Err(Error::NameCollision {
                name: child.name().to_owned(),
                source_name: self.name().to_owned(),
            });
        }
        *lock(&child.0.parent) = Arc::downgrade(&self.0);
        child.0.detached_retain.store(false, SeqCst);
        Self::settle_return(st, child);
        st.children.push(child.clone());
        self.0.bump();
        Ok(())
    }

    /// A child coming back: the totals retained when it left are live again, so its stores
    /// go; where it now counts less than a store held, the shortfall stays (merged), so
    /// nothing above goes backwards.
    fn settle_return(st: &mut State, child: &Source) {
        let cst = child.0.read();
        let mut i = 0;
        while i < st.retained.len() {
            let r = &st.retained[i];
            let mine = r
                .from
                .as_ref()
                .is_some_and(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(&child.0)));
            if !mine {
                i += 1;
                continue;
            }
            let live = child.0.build_flat(&cst, r.set, 0).retained(r.set);
            let gone = st.retained.remove(i);
            if let Some(short) = gone.shortfall(&live) {
                add_to_base(st, short);
            }
        }
    }

    /// Removes `child` from this source: its values leave every ancestor's aggregates at
    /// once (unless totals are retained, see [`Source::set_retain_totals`]). Returns false,
    /// changing nothing, when `child` is not a child of this source.
    pub fn remove_child(&self, child: &Source) -> bool {
        let tree = lock(&TREE);
        let chain = self.0.chain();
        let retain = retains(&chain);
        // The tree's root holds its watchers: the chain already walked up to it.
        let watchers = chain[0].watchers.get().cloned();
        let mut guards = write_all(&chain);
        let st = guards.last_mut().expect("a chain holds its own node");
        let Some(pos) = st.children.iter().position(|c| c.same(child)) else {
            return false;
        };
        if retain {
            Self::retain_subtree(st, child);
        }
        st.children.remove(pos);
        *lock(&child.0.parent) = Weak::new();
        child.0.detached_retain.store(retain, SeqCst);
        self.0.bump();
        drop_caches(&guards);
        drop(guards);
        drop(tree);
        if let Some(w) = watchers {
            w.notify(&crate::watch::Change::ChildRemoved {
                parent: self,
                child,
                name: child.name(),
            });
        }
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
            add_to_base(st, Retained::new(gone.set).merged(&gone));
        }
    }

    /// Called before the instances go away: every value of this source reads 0 from now on
    /// and contributes nothing to any aggregate (reference §6, "our rule"). The instances are
    /// released. Children are not affected.
    ///
    /// In a retaining tree the source's own cumulative SUM totals at this moment stay in
    /// its ancestors' aggregates, as do the totals it retained (see
    /// [`Source::set_retain_totals`]).
    pub fn revoke(&self) {
        let _tree = lock(&TREE);
        let chain = self.0.chain();
        let retain = retains(&chain) && !self.0.is_revoked();
        // Sets read through user code are folded before locking: a getter may read this
        // very source (such values are not covered against concurrent updates, see
        // `set_retain_totals`). The others are folded under the chain's locks.
        let by_user_code = if retain {
            Self::own_totals(&self.0.read(), |s| !runs_no_user_code(s))
        } else {
            Vec::new()
        };
        let mut guards = write_all(&chain);
        let st = guards.last_mut().expect("a chain holds its own node");
        if retain {
            for own in by_user_code
                .into_iter()
                .chain(Self::own_totals(st, runs_no_user_code))
            {
                add_to_base(st, own);
            }
        }
        self.0.revoked.store(true, SeqCst);
        for g in &mut st.groups {
            if let Slot::Simple(_) = g.slot {
                drop(mem::replace(&mut g.slot, Slot::Dead));
            }
        }
        self.0.bump();
        drop_caches(&guards);
    }

    /// The retainable totals of this source's own instances (not its children's), one
    /// store per set that `which` picks.
    fn own_totals(st: &State, which: impl Fn(&ValueSet) -> bool) -> Vec<Retained> {
        let mut sets: Vec<&'static ValueSet> = Vec::new();
        for g in &st.groups {
            let new = !sets.iter().any(|s| ValueSet::same(s, g.set));
            if matches!(g.slot, Slot::Simple(_)) && new && which(g.set) {
                sets.push(g.set);
            }
        }
        sets.into_iter()
            .map(|set| {
                let insts = st
                    .groups
                    .iter()
                    .filter_map(|g| match &g.slot {
                        Slot::Simple(i) if ValueSet::same(g.set, set) => Some(i.clone()),
                        _ => None,
                    })
                    .collect();
                Flat::new(0, insts, Vec::new()).retained(set)
            })
            .collect()
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

/// Whether removing a child from the last node of `chain` (root first) retains its totals.
fn retains(chain: &[Arc<Node>]) -> bool {
    chain.iter().any(|n| n.retain.load(SeqCst))
        || chain
            .first()
            .is_some_and(|r| r.detached_retain.load(SeqCst))
}

/// Write-locks every node of `chain`, root first (the tree's lock order), so no aggregate
/// of field-access values above the change is being folded while it happens.
fn write_all(chain: &[Arc<Node>]) -> Vec<RwLockWriteGuard<'_, State>> {
    chain.iter().map(|n| n.write()).collect()
}

/// Drops the cached flat lists of the locked nodes, so instances that left (revoked,
/// removed) are released now, not at the next read.
fn drop_caches(guards: &[RwLockWriteGuard<'_, State>]) {
    for st in guards {
        for g in &st.groups {
            if let Slot::Aggregate(cache) = &g.slot {
                *lock(cache) = None;
            }
        }
    }
}

/// Adds `r`'s totals to the node's base store of its set (the one of no child), which
/// replaces the old one: stores are never changed in place except by clear.
fn add_to_base(st: &mut State, r: Retained) {
    let set = r.set;
    match st
        .retained
        .iter()
        .position(|b| b.from.is_none() && ValueSet::same(b.set, set))
    {
        Some(b) => st.retained[b] = Arc::new(st.retained[b].merged(&r)),
        None => st.retained.push(Arc::new(r)),
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
    /// An aggregate group folded already, under the source's lock (no user code runs).
    Values(Vec<u64>),
    /// A dead group or a revoked source: reads 0.
    Zero,
}

impl Node {
    /// The target of group `g` (this node's state `st` is locked by the caller), for
    /// reading the whole group: aggregates of sets that run no user code are folded here,
    /// under the lock, so retained totals never go backwards (see the module notes).
    pub(crate) fn target(&self, st: &State, g: &Group) -> Target {
        match self.flat_target(st, g) {
            Target::Flat(flat) if runs_no_user_code(g.set) => {
                let mut values = Vec::with_capacity(g.set.values().len());
                flat.fold_all(g.set, &mut values);
                Target::Values(values)
            }
            t => t,
        }
    }

    /// The target of group `g`, with aggregates left to fold by the caller.
    pub(crate) fn flat_target(&self, st: &State, g: &Group) -> Target {
        match (&g.slot, self.is_revoked()) {
            (Slot::Simple(i), false) => Target::Simple(i.clone()),
            (Slot::Aggregate(cache), false) => Target::Flat(self.flat(st, g.set, cache)),
            _ => Target::Zero,
        }
    }
}

/// Whether reading `set` runs only loads: field access everywhere and no bulk reader.
fn runs_no_user_code(set: &ValueSet) -> bool {
    set.read_all().is_none()
        && set
            .values()
            .iter()
            .all(|d| matches!(d.access.0, AccessKind::Field { .. }))
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
            Target::Values(values) => out.extend_from_slice(values),
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
