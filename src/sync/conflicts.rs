//! Conflict visibility: what a merge discovered.
//!
//! A CRDT merge never fails, but some merges bring concurrent writes
//! together: two values written to one multi-value register, an LWW write
//! that silently replaced a concurrent one, a map key updated on two sites.
//! [`Conflicts`] lets [`Node::receive_with`](super::Node::receive_with)
//! report them as they happen (on write), so an application can log them or
//! resolve them at once (for an `MvRegister`, with
//! [`MvRegister::resolve`], which writes the resolution back); reading
//! siblings later (on read) stays possible through the types' own API.
//!
//! The cost is proportional to the incoming delta: a snapshot of what the
//! delta touches is taken before the join and compared after it.

use alloc::vec::Vec;
use core::fmt::Debug;
use core::hash::Hash;

use crate::causal::CausalCrdt;
use crate::lattice::{Lattice, Validate};
use crate::map::{Embedded, OrMap, RemovePolicy};
use crate::register::{LwwRegister, MvRegister};

/// A type whose merges can reveal concurrent writes.
pub trait Conflicts: Lattice {
    /// One discovered conflict.
    type Conflict: Debug;
    /// What must be remembered before joining `incoming` (sized by
    /// `incoming`, not by `self`).
    type Snapshot;

    /// Takes the snapshot before `incoming` is joined into `self`.
    fn snapshot(&self, incoming: &Self) -> Self::Snapshot;

    /// After the join: reports the conflicts the join revealed.
    fn conflicts(&self, before: Self::Snapshot, report: &mut dyn FnMut(Self::Conflict));
}

/// Concurrent values of a multi-value register after a merge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Siblings<T> {
    /// Every concurrent value now held (≥ 2), in the register's order.
    pub values: Vec<T>,
}

impl<T: Clone + PartialEq + Debug> Conflicts for MvRegister<T> {
    type Conflict = Siblings<T>;
    /// The local values, when the incoming state wrote anything.
    type Snapshot = Option<Vec<T>>;

    fn snapshot(&self, incoming: &Self) -> Self::Snapshot {
        (incoming.values().len() > 0).then(|| self.values().cloned().collect())
    }

    /// Reports the siblings when the merge changed them and more than one
    /// remains (a duplicate or an already-known conflict is not reported
    /// again).
    fn conflicts(&self, before: Self::Snapshot, report: &mut dyn FnMut(Siblings<T>)) {
        let Some(before) = before else { return };
        if self.is_conflicted() && !self.values().eq(before.iter()) {
            report(Siblings {
                values: self.values().cloned().collect(),
            });
        }
    }
}

/// An LWW merge that discarded concurrent writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overwritten<T> {
    /// The value that won.
    pub kept: Option<T>,
    /// The concurrent value that lost (the local one, or the incoming one).
    pub lost: Option<T>,
    /// How many writes this merge discarded
    /// ([`LwwRegister::lost_writes`] grew by this much).
    pub count: u64,
}

impl<T: Clone + Ord + Debug> Conflicts for LwwRegister<T> {
    type Conflict = Overwritten<T>;
    /// Local losses, local value, incoming value.
    type Snapshot = (u64, Option<T>, Option<T>);

    fn snapshot(&self, incoming: &Self) -> Self::Snapshot {
        (
            self.lost_writes(),
            self.value().cloned(),
            incoming.value().cloned(),
        )
    }

    fn conflicts(
        &self,
        (lost, mine, theirs): Self::Snapshot,
        report: &mut dyn FnMut(Overwritten<T>),
    ) {
        let count = self.lost_writes().saturating_sub(lost);
        if count == 0 {
            return;
        }
        let kept = self.value().cloned();
        let lost = if kept == mine { theirs } else { mine };
        report(Overwritten { kept, lost, count });
    }
}

/// Concurrent updates of a value embedded in a map, kept side by side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Concurrent {
    /// How many concurrent versions are now held (≥ 2); they read as
    /// their join.
    pub versions: usize,
}

impl<L: Validate + Debug> Conflicts for Embedded<L> {
    type Conflict = Concurrent;
    /// The local value, when the incoming state wrote anything.
    type Snapshot = Option<L>;

    fn snapshot(&self, incoming: &Self) -> Option<L> {
        (!incoming.is_empty()).then(|| self.value())
    }

    /// Reports when the merge changed the value and concurrent versions
    /// remain side by side.
    fn conflicts(&self, before: Option<L>, report: &mut dyn FnMut(Concurrent)) {
        let Some(before) = before else { return };
        if self.siblings() > 1 && self.value() != before {
            report(Concurrent {
                versions: self.siblings(),
            });
        }
    }
}

/// A conflict inside the value of one map key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyConflict<K, C> {
    /// The key.
    pub key: K,
    /// The conflict in its value.
    pub conflict: C,
}

impl<K, V, P> Conflicts for OrMap<K, V, P>
where
    K: Hash + Eq + Clone + Debug,
    V: CausalCrdt + Conflicts,
    P: RemovePolicy,
{
    type Conflict = KeyConflict<K, V::Conflict>;
    /// The keys the incoming state writes, with their values' snapshots.
    type Snapshot = Vec<(K, V::Snapshot)>;

    fn snapshot(&self, incoming: &Self) -> Self::Snapshot {
        let empty = V::default();
        incoming
            .iter()
            .map(|(k, theirs)| {
                let mine = self.get(k).unwrap_or(&empty);
                (k.clone(), mine.snapshot(theirs))
            })
            .collect()
    }

    fn conflicts(&self, before: Self::Snapshot, report: &mut dyn FnMut(Self::Conflict)) {
        for (key, snap) in before {
            if let Some(v) = self.get(&key) {
                v.conflicts(snap, &mut |conflict| {
                    report(KeyConflict {
                        key: key.clone(),
                        conflict,
                    })
                });
            }
        }
    }
}
