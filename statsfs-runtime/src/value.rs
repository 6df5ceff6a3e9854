//! Handles to single values: what a filesystem file or a lookup resolves to.

use std::fmt;

use crate::desc::{AccessKind, ValueDesc};
use crate::error::{Error, Result};
use crate::fold::Flat;
use crate::instance::ErasedInstance;
use crate::read;
use crate::set::ValueSet;
use crate::source::{Slot, Source, Target};

/// One value of one group of one source. Holding it keeps the source alive, as an open
/// file does; after the source is revoked it reads 0.
#[derive(Clone)]
pub struct ValueRef {
    source: Source,
    set: &'static ValueSet,
    group: u32,
    index: u32,
}

/// What a path names.
#[derive(Clone, Debug)]
pub enum Entry {
    /// A directory.
    Source(Source),
    /// A file.
    Value(ValueRef),
}

impl ValueRef {
    pub(crate) fn new(source: Source, set: &'static ValueSet, group: usize, index: usize) -> Self {
        ValueRef {
            source,
            set,
            group: group as u32,
            index: index as u32,
        }
    }

    /// The source the value belongs to.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The value set.
    pub fn set(&self) -> &'static ValueSet {
        self.set
    }

    /// The descriptor.
    pub fn desc(&self) -> &'static ValueDesc {
        &self.set.values()[self.index as usize]
    }

    /// The value's (file) name.
    pub fn name(&self) -> &'static str {
        &self.desc().name
    }

    /// Index of the group within its source.
    pub fn group_index(&self) -> usize {
        self.group as usize
    }

    /// Index of the descriptor within its set.
    pub fn value_index(&self) -> usize {
        self.index as usize
    }

    /// Whether this is an aggregate (the group has no instance).
    pub fn is_aggregate(&self) -> bool {
        let st = self.source.0.read();
        matches!(st.groups[self.group as usize].slot, Slot::Aggregate(_))
    }

    /// Whether the group is hidden.
    pub fn is_hidden(&self) -> bool {
        self.source.0.read().groups[self.group as usize].hidden
    }

    /// Whether clear is allowed (reference §5).
    pub fn is_clearable(&self) -> bool {
        self.desc().is_clearable()
    }

    /// The file mode: 0644 when clearable, else 0444.
    pub fn file_mode(&self) -> u32 {
        self.desc().file_mode()
    }

    /// The value as a 64-bit carrier: the instance's field for a simple value, the fold over
    /// the subtree for an aggregate, 0 when dead.
    pub fn read(&self) -> u64 {
        self.resolve(
            |i| read::read(self.desc(), i),
            |f| f.fold(self.set, self.index as usize),
            0,
        )
    }

    /// Runs `simple` on the instance of a simple value or `aggregate` on the subtree's flat
    /// list; `dead` when revoked or dead. User code (custom getters and clears) never runs
    /// under the source's lock, since it may read the tree; field access runs none, so a
    /// simple value with field access is handled under the lock without cloning the handle.
    fn resolve<R>(
        &self,
        simple: impl FnOnce(&ErasedInstance) -> R,
        aggregate: impl FnOnce(&Flat) -> R,
        dead: R,
    ) -> R {
        let node = &self.source.0;
        let target = {
            let st = node.read();
            let g = &st.groups[self.group as usize];
            if let (AccessKind::Field { .. }, Slot::Simple(i), false) =
                (self.desc().access.0, &g.slot, node.is_revoked())
            {
                return simple(i);
            }
            // An aggregate of a field folds under the lock too, so a structural change
            // that write-locks this node never races it (retained totals never go back).
            if let (AccessKind::Field { .. }, Slot::Aggregate(cache), false) =
                (self.desc().access.0, &g.slot, node.is_revoked())
            {
                return aggregate(&node.flat(&st, g.set, cache));
            }
            node.flat_target(&st, g)
        };
        match target {
            Target::Simple(i) => simple(&i),
            Target::Flat(flat) => aggregate(&flat),
            Target::Values(_) | Target::Zero => dead,
        }
    }

    /// The value as the file shows it: `decimal\n`, or the show string and `\n` outside
    /// numeric trees ([`Source::set_numeric`]).
    pub fn text(&self) -> String {
        let (desc, v) = (self.desc(), self.read());
        let mut s = String::new();
        if desc.show.is_some() && self.source.is_numeric() {
            desc.write_number(v, &mut s);
        } else {
            desc.write_text(v, &mut s);
        }
        s
    }

    /// Clears the value; for an aggregate, in every simple instance of the subtree (hidden
    /// ones included). EPERM unless clearable.
    pub fn clear(&self) -> Result<()> {
        if !self.is_clearable() {
            return Err(Error::NotClearable {
                name: self.name().to_owned(),
            });
        }
        self.resolve(
            |i| read::clear(self.desc(), i),
            |f| f.clear(self.set, self.index as usize),
            (),
        );
        Ok(())
    }

    /// A write to the value's file: `0` with optional surrounding whitespace clears;
    /// anything else is EINVAL and changes nothing; a read-only value is EACCES.
    pub fn write_text(&self, text: &[u8]) -> Result<()> {
        if !self.is_clearable() {
            return Err(Error::ReadOnly {
                name: self.name().to_owned(),
            });
        }
        if text.trim_ascii() != b"0" {
            return Err(Error::InvalidWrite {
                name: self.name().to_owned(),
            });
        }
        self.clear()
    }
}

impl fmt::Debug for ValueRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValueRef")
            .field("source", &self.source.name())
            .field("set", &self.set.name())
            .field("name", &self.name())
            .finish()
    }
}
