//! The algebra every replicated type shares: join semilattices with deltas.
//!
//! A [`Lattice`] is a set of states with a `join` that is
//!
//! | law | statement |
//! | --- | --- |
//! | commutative | `x ⊔ y == y ⊔ x` |
//! | associative | `(x ⊔ y) ⊔ z == x ⊔ (y ⊔ z)` |
//! | idempotent | `x ⊔ x == x` |
//! | bottom | `⊥ ⊔ x == x`, where `⊥` is `Default::default()` |
//!
//! and a partial order [`Lattice::leq`] consistent with it: `x ≤ y ⇔ x ⊔ y == y`.
//!
//! Every mutator of every type in this crate changes `self` **and returns a
//! delta**: a value of the same type such that `old.join(delta) == new`. Deltas
//! are ordinary states, so one `join` serves full-state merge, delta merge and
//! the merge of delta groups (Almeida, Shoker, Baquero, *Delta State Replicated
//! Data Types*, 2018). Deltas may be delivered in any order, any number of times.
//!
//! The laws are checked for every type by the reusable checkers in
//! `tests/` (and, with the `proptest` feature, in the `laws` module).

use crate::causal::ReplicaId;
use crate::error::InvariantViolation;

/// A join semilattice: the state of a replicated data type.
///
/// # Laws
///
/// For all reachable states `x`, `y`, `z`:
/// `join` is commutative, associative and idempotent; `Default` is the bottom;
/// `x.leq(y)` holds exactly when `x ⊔ y == y`; and `join` returns `true`
/// exactly when `self` changed.
///
/// # Example
///
/// ```
/// use converge::{GCounter, Lattice, ReplicaId};
///
/// let (a, b) = (ReplicaId::new(1), ReplicaId::new(2));
/// let mut x = GCounter::new();
/// let mut y = GCounter::new();
/// x.increment(a, 2).unwrap();
/// y.increment(b, 3).unwrap();
///
/// let mut xy = x.clone();
/// assert!(xy.join(y.clone()));      // x grew
/// let mut yx = y.clone();
/// yx.join(x.clone());
/// assert_eq!(xy, yx);               // commutative
/// assert!(!xy.join(y));             // idempotent: nothing new
/// assert!(x.leq(&xy));              // upper bound
/// assert_eq!(xy.value(), 5);
/// ```
pub trait Lattice: Clone + Default + PartialEq {
    /// Joins `other` into `self` (least upper bound). Returns `true` if `self`
    /// changed.
    fn join(&mut self, other: Self) -> bool;

    /// The partial order of the lattice: `self ≤ other`, i.e. `other` already
    /// contains everything `self` knows.
    fn leq(&self, other: &Self) -> bool;

    /// Consuming form of [`join`](Lattice::join).
    #[must_use]
    fn joined(mut self, other: Self) -> Self {
        self.join(other);
        self
    }

    /// Whether this is the bottom element (`Default`).
    fn is_bottom(&self) -> bool {
        *self == Self::default()
    }

    /// Asks the value to number `replica`'s next events from `floor` on, at
    /// least (a no-op for types without per-replica event ids, the default).
    ///
    /// [`Embedded`](crate::Embedded) calls it before each update with a
    /// counter taken from the enclosing context, so that a value re-created
    /// after a reset (a removed map key written again) never reuses an event
    /// id of an earlier incarnation that a concurrent sibling still holds.
    fn number_events_from(&mut self, replica: ReplicaId, floor: u64) {
        let _ = (replica, floor);
    }

    /// The highest event counter of `replica` in this value (0 for types
    /// without per-replica event ids, the default). See
    /// [`number_events_from`](Self::number_events_from).
    fn last_event(&self, replica: ReplicaId) -> u64 {
        let _ = replica;
        0
    }
}

/// A lattice whose states can be checked against their invariants, and
/// joined with untrusted states only after the check.
///
/// `check_invariants` returns the first violation found, naming the offending
/// dot, replica or entry. `validated_join` also checks that `other` is
/// consistent with `self` (for example, that no dot names two different writes)
/// and leaves `self` unchanged when it returns an error.
pub trait Validate: Lattice {
    /// Checks the invariants of this state (I1–I4 of the test plan, and the
    /// type's own ones).
    fn check_invariants(&self) -> Result<(), InvariantViolation>;

    /// Checks that `other` can be joined into `self` without breaking an
    /// invariant that neither state breaks on its own (for example, one dot
    /// attached to two different elements). Both states are assumed valid.
    fn check_compatible(&self, other: &Self) -> Result<(), InvariantViolation> {
        let _ = other;
        Ok(())
    }

    /// Checks that `other` claims no event of `local` (this replica) that
    /// this state has not generated. An honest peer can only know this
    /// replica's events from this replica, so such a claim is forged, or comes
    /// from another replica using the same id (which must never happen: a
    /// replica that lost its state needs a new id). Accepting it would make
    /// this replica's next events collide or exceed the counter range.
    fn check_local_claims(&self, local: ReplicaId, other: &Self) -> Result<(), InvariantViolation> {
        let _ = (local, other);
        Ok(())
    }

    /// Validates `other`, then joins it. On error `self` is unchanged.
    ///
    /// ```
    /// use converge::{GCounter, Validate, ReplicaId};
    /// let mut x = GCounter::new();
    /// let mut remote = GCounter::new();
    /// remote.increment(ReplicaId::new(7), 1).unwrap();
    /// assert_eq!(x.validated_join(remote), Ok(true));
    /// ```
    fn validated_join(&mut self, other: Self) -> Result<bool, InvariantViolation> {
        other.check_invariants()?;
        self.check_compatible(&other)?;
        Ok(self.join(other))
    }

    /// [`validated_join`](Self::validated_join) for a replica that writes as
    /// `local`: also rejects states that claim events of `local` this replica
    /// never generated ([`check_local_claims`](Self::check_local_claims)).
    /// This is the join to use for bytes from the network.
    ///
    /// ```
    /// use converge::{CausalCrdt, CausalContext, Dot, InvariantViolation, OrSet, ReplicaId, Validate};
    /// let me = ReplicaId::new(1);
    /// let mut mine: OrSet<u8> = OrSet::new();
    /// mine.insert(me, 1);
    /// // A peer claims our event 1000, which we never generated.
    /// let forged = OrSet::from_parts(Default::default(), CausalContext::from_dots([Dot::new(me, 1000)]));
    /// assert_eq!(
    ///     mine.validated_join_as(me, forged),
    ///     Err(InvariantViolation::UnknownLocalEvent { dot: Dot::new(me, 1000) })
    /// );
    /// ```
    fn validated_join_as(
        &mut self,
        local: ReplicaId,
        other: Self,
    ) -> Result<bool, InvariantViolation> {
        other.check_invariants()?;
        self.check_compatible(&other)?;
        self.check_local_claims(local, &other)?;
        Ok(self.join(other))
    }
}

/// "What am I missing?" sync: the smallest delta that brings a peer up to date.
///
/// For every state `x` and peer `y`:
/// `y ⊔ x.delta_since(&y.summary()) == x ⊔ y`, and the delta's payload holds
/// nothing `y` already knows (TESTPLAN D9): for causal types no dot of its
/// store is in `y`'s context (its context may repeat dots `y` knows, to tell
/// `y` which of them were removed); for counters every entry exceeds `y`'s.
///
/// ```
/// use converge::{DeltaSince, Lattice, OrSet, ReplicaId};
/// let (a, b) = (ReplicaId::new(1), ReplicaId::new(2));
/// let mut x = OrSet::new();
/// x.insert(a, "milk");
/// let mut y = x.clone();
/// x.insert(a, "eggs");
/// y.insert(b, "tea");
///
/// let delta = x.delta_since(&y.summary());
/// assert_eq!(delta.len(), 1); // only "eggs" is news to y
/// let expected = x.clone().joined(y.clone());
/// y.join(delta);
/// assert_eq!(y, expected);
/// ```
pub trait DeltaSince: Lattice {
    /// What a replica sends so that others can compute what it lacks.
    type Summary: Clone + Default + PartialEq + core::fmt::Debug;

    /// The summary of this state's knowledge.
    fn summary(&self) -> Self::Summary;

    /// The part of `self` not covered by `summary`.
    fn delta_since(&self, summary: &Self::Summary) -> Self;
}
