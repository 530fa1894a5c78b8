use core::convert::Infallible;
use core::fmt::Debug;

use crate::causal::{causal_crdt, CausalContext, DotFun, DotStore, ReplicaId};
use crate::lattice::Validate;

/// A non-causal lattice ([`LwwRegister`](crate::LwwRegister),
/// [`GCounter`](crate::GCounter), your own) made causal, so that it can live
/// inside an [`OrMap`](crate::OrMap) and be removed with the map's semantics.
///
/// Each update stores the replica's whole new value under a fresh dot and
/// supersedes the values it observed; concurrent updates are kept as siblings
/// and read as their join. A removal (or [`reset`](Self::reset)) drops the
/// values it observed, so the next update starts from the lattice's bottom.
///
/// **Conflict rule:** the inner lattice's join, applied on read. **Caveat
/// (riak_dt#100):** after a key is removed and re-created, an embedded
/// [`LwwRegister`](crate::LwwRegister) restarts from bottom, so its timestamp
/// can be lower than the removed value's; a concurrent update of the removed
/// key survives beside the new one and still wins if its stamp is higher.
/// Counters in maps should use [`CausalCounter`](crate::CausalCounter): its
/// deltas stay one entry and a removal resets per replica, where an embedded
/// [`GCounter`](crate::GCounter) keeps every replica's total whenever any
/// update was concurrent with the removal.
///
/// ```
/// use converge::{Embedded, Lattice, LwwRegister, OrMap, ReplicaId};
/// let (a, b) = (ReplicaId::new(1), ReplicaId::new(2));
/// let mut x: OrMap<&str, Embedded<LwwRegister<&str>>> = OrMap::new();
/// x.update(a, "status", |s| s.update(a, |r| r.write(a, "online", 10).unwrap()));
/// let mut y = x.clone();
/// y.update(b, "status", |s| s.update(b, |r| r.write(b, "away", 20).unwrap()));
/// x.update(a, "status", |s| s.update(a, |r| r.write(a, "busy", 15).unwrap()));
/// x.join(y.clone());
/// y.join(x.clone());
/// assert_eq!(x.get(&"status").unwrap().value().value(), Some(&"away"));
/// assert_eq!(x, y);
/// ```
///
/// Validation checks every sibling's own invariants, but not forged claims on
/// the local replica inside a sibling (`validated_join_as`): after a
/// [`reset`](Self::reset) nothing bounds what an honest peer may still hold of
/// this replica's earlier writes.
///
/// | operation | cost (S = concurrent siblings, usually 1) |
/// | --- | --- |
/// | `update` | O(S) joins of the inner value |
/// | `value` | O(S) joins |
/// | delta of `update` | the whole inner value |
#[derive(Clone, Debug)]
pub struct Embedded<L> {
    store: DotFun<L>,
    ctx: CausalContext,
}

impl<L> Default for Embedded<L> {
    fn default() -> Self {
        Self {
            store: DotFun::new(),
            ctx: CausalContext::new(),
        }
    }
}

causal_crdt!(Embedded<L> where [L: Validate + Debug,], DotFun<L>, {
    /// Every sibling is a valid inner state.
    fn check_type_invariants(&self) -> Result<(), crate::InvariantViolation> {
        for (_, v) in self.store.iter() {
            v.check_invariants()?;
        }
        Ok(())
    }
});

impl<L: Validate + Debug> Embedded<L> {
    /// An empty value (the inner lattice's bottom).
    pub fn new() -> Self {
        Self::default()
    }

    /// The inner value: the join of the concurrent siblings.
    pub fn value(&self) -> L {
        self.store
            .iter()
            .fold(L::default(), |acc, (_, v)| acc.joined(v.clone()))
    }

    /// Number of concurrent siblings (values not yet superseded).
    pub fn siblings(&self) -> usize {
        self.store.len()
    }

    /// Applies `f` to the current value on behalf of `replica` and stores
    /// the result, superseding the siblings observed here; returns the delta.
    /// `f`'s own return value (the inner delta) is not needed and dropped.
    pub fn update(&mut self, replica: ReplicaId, f: impl FnOnce(&mut L) -> L) -> Self {
        match self.try_update(replica, |l| Ok::<L, Infallible>(f(l))) {
            Ok(d) => d,
            Err(never) => match never {},
        }
    }

    /// Like [`update`](Self::update) for fallible inner mutators.
    ///
    /// # Errors
    ///
    /// Returns `f`'s error; `self` is then unchanged.
    pub fn try_update<E>(
        &mut self,
        replica: ReplicaId,
        f: impl FnOnce(&mut L) -> Result<L, E>,
    ) -> Result<Self, E> {
        let mut current = self.value();
        // Inner event ids (a nested `Text`'s) come from the enclosing
        // counter, right after this update's dot, and are recorded in the
        // context: a value re-created after a reset can never reuse one.
        let dot = self.ctx.next_dot(replica);
        current.number_events_from(replica, dot.counter.saturating_add(1));
        f(&mut current)?;
        let last = current.last_event(replica).max(dot.counter);
        let mut ctx = CausalContext::from_dots(self.store.take_dots());
        ctx.insert_range(replica, dot.counter, last);
        self.ctx.insert_range(replica, dot.counter, last);
        self.store.insert(dot, current.clone());
        Ok(Self {
            store: DotFun::single(dot, current),
            ctx,
        })
    }

    /// Drops every sibling observed here (the value reads as bottom);
    /// returns the delta.
    pub fn reset(&mut self) -> Self {
        Self {
            store: DotFun::new(),
            ctx: CausalContext::from_dots(self.store.take_dots()),
        }
    }

    /// Whether no value is held.
    pub fn is_empty(&self) -> bool {
        DotStore::is_empty(&self.store)
    }
}
