//! Causality: replicas, dots, version vectors, causal contexts, dot stores,
//! and the generic causal CRDT (DESIGN §2–§3).
//!
//! Every observed-remove type in this crate ([`MvRegister`](crate::MvRegister),
//! [`OrSet`](crate::OrSet), [`OrMap`](crate::OrMap), …) is a pair of a
//! [`DotStore`] and a [`CausalContext`], and gets its join, order, validation
//! and "delta since" from the blanket implementations over [`CausalCrdt`].

mod context;
mod dot;
mod dotstore;
pub(crate) mod table;
mod version_vector;

use alloc::vec::Vec;

use hashbrown::HashSet;

pub use context::CausalContext;
pub use dot::{Dot, ReplicaId};
pub(crate) use dotstore::{check_sorted_dots, context_of, merge_dots};
pub use dotstore::{needs_scan, DotFun, DotMap, DotSet, DotStore};
pub use version_vector::VersionVector;

use crate::error::InvariantViolation;
use crate::lattice::{DeltaSince, Lattice, Validate};

/// A causal CRDT: a dot store plus the causal context it was built under.
///
/// Implementing this trait gives a type its [`Lattice`], [`Validate`],
/// [`DeltaSince`] and [`DotStore`] implementations; the last one lets the type
/// be nested in an [`OrMap`](crate::OrMap), where it shares the map's context
/// (its own context is then empty).
pub trait CausalCrdt: Clone + Default + PartialEq + core::fmt::Debug {
    /// The dot store holding the payload.
    type Store: DotStore;

    /// The dot store.
    fn store(&self) -> &Self::Store;

    /// The causal context: every event this state has seen.
    fn context(&self) -> &CausalContext;

    /// Both halves, mutably (crate-internal: mutators must keep I1–I4).
    #[doc(hidden)]
    fn parts_mut(&mut self) -> (&mut Self::Store, &mut CausalContext);

    /// Assembles a state from its halves without checking; call
    /// [`Validate::check_invariants`] on the result if the parts are untrusted.
    fn from_parts(store: Self::Store, context: CausalContext) -> Self;

    /// Splits a state into its halves.
    fn into_parts(self) -> (Self::Store, CausalContext);

    /// Type-specific invariants beyond I1–I4 (for example, a map's remove
    /// policy, or the inner state of an [`Embedded`](crate::Embedded)),
    /// checked by [`Validate::check_invariants`] at every nesting level.
    fn check_type_invariants(&self) -> Result<(), InvariantViolation> {
        Ok(())
    }
}

impl<T: CausalCrdt> Lattice for T {
    fn join(&mut self, other: Self) -> bool {
        let (other_store, other_ctx) = other.into_parts();
        let (store, ctx) = self.parts_mut();
        let scan = needs_scan(store, ctx, &other_store, &other_ctx);
        let changed = store.join_store(ctx, other_store, &other_ctx, scan);
        ctx.join(other_ctx) | changed
    }

    /// `x ≤ y` iff `y`'s context covers `x`'s and joining `x` into `y`
    /// changes nothing. O(|x| + |y|).
    fn leq(&self, other: &Self) -> bool {
        self.context().leq(other.context()) && !other.clone().join(self.clone())
    }

    fn is_bottom(&self) -> bool {
        self.context().is_empty() && self.store().is_empty()
    }
}

impl<T: CausalCrdt> Validate for T {
    fn check_invariants(&self) -> Result<(), InvariantViolation> {
        self.context().check_invariants()?;
        self.check_type_invariants()?;
        self.store().check_all(self.context())
    }

    fn check_local_claims(&self, local: ReplicaId, other: &Self) -> Result<(), InvariantViolation> {
        let claimed = other.context().max_counter(local);
        if claimed > self.context().max_counter(local) {
            return Err(InvariantViolation::UnknownLocalEvent {
                dot: Dot::new(local, claimed),
            });
        }
        Ok(())
    }

    /// Rejects a dot that names different content in `self` and `other`
    /// (I2 across states). Finds the offending dot by bisection, so the cost is
    /// O(n log n) even when the check fails.
    fn check_compatible(&self, other: &Self) -> Result<(), InvariantViolation> {
        // Only dots of `other`'s store that `self` has seen can be in both
        // stores: a delta of new events costs O(|other|).
        let mut theirs = HashSet::new();
        other.store().for_each_dot(&mut |d| {
            if self.context().contains(d) {
                theirs.insert(d);
            }
        });
        if theirs.is_empty() {
            return Ok(());
        }
        let mut common: Vec<Dot> = Vec::new();
        self.store().for_each_dot(&mut |d| {
            if theirs.contains(&d) {
                common.push(d);
            }
        });
        if common.is_empty() {
            return Ok(());
        }
        common.sort_unstable();
        let differs = |n: usize| {
            let prefix = &common[..n];
            let keep = |d: Dot| prefix.binary_search(&d).is_ok();
            self.store().filter_dots(&keep) != other.store().filter_dots(&keep)
        };
        if !differs(common.len()) {
            return Ok(());
        }
        // Smallest prefix whose projections differ ends at an offending dot.
        let (mut lo, mut hi) = (1, common.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if differs(mid) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        Err(InvariantViolation::ConflictingDot {
            dot: common[lo - 1],
        })
    }
}

impl<T: CausalCrdt> DeltaSince for T {
    type Summary = CausalContext;

    fn summary(&self) -> CausalContext {
        self.context().clone()
    }

    /// The entries whose dots `known` lacks, under a context that also tells
    /// the peer which of its dots this state has removed:
    /// `context \ (live dots the peer knows)`.
    fn delta_since(&self, known: &CausalContext) -> Self {
        let store = self.store().filter_dots(&|d| !known.contains(d));
        let mut known_live = Vec::new();
        self.store().for_each_dot(&mut |d| {
            if known.contains(d) {
                known_live.push(d);
            }
        });
        Self::from_parts(store, self.context().minus(known_live))
    }
}

/// A causal CRDT nested in a map is a dot store under the map's context.
impl<T: CausalCrdt> DotStore for T {
    fn is_empty(&self) -> bool {
        self.store().is_empty()
    }

    fn for_each_dot(&self, f: &mut dyn FnMut(Dot)) {
        self.store().for_each_dot(f);
    }

    fn join_store(
        &mut self,
        ctx: &CausalContext,
        other: Self,
        other_ctx: &CausalContext,
        scan: bool,
    ) -> bool {
        let (other_store, _) = other.into_parts();
        self.parts_mut()
            .0
            .join_store(ctx, other_store, other_ctx, scan)
    }

    fn count_along(
        &self,
        other: &Self,
        other_ctx: &CausalContext,
        budget: &mut usize,
    ) -> Option<u64> {
        self.store().count_along(other.store(), other_ctx, budget)
    }

    fn has_entries(&self) -> bool {
        self.store().has_entries()
    }

    fn filter_dots(&self, keep: &dyn Fn(Dot) -> bool) -> Self {
        Self::from_parts(self.store().filter_dots(keep), CausalContext::new())
    }

    fn check_store(&self, ctx: &CausalContext) -> Result<(), InvariantViolation> {
        if !self.context().is_empty() {
            return Err(InvariantViolation::NestedContext);
        }
        self.check_type_invariants()?;
        self.store().check_store(ctx)
    }
}

/// Implements [`CausalCrdt`] for a struct with fields `store` and `ctx`.
macro_rules! causal_crdt {
    ($ty:ident < $($g:ident),* > where [$($bounds:tt)*], $store:ty) => {
        $crate::causal::causal_crdt!($ty<$($g),*> where [$($bounds)*], $store, {});
    };
    ($ty:ident < $($g:ident),* > where [$($bounds:tt)*], $store:ty, { $($extra:tt)* }) => {
        impl<$($g),*> PartialEq for $ty<$($g),*> where $($bounds)* {
            fn eq(&self, other: &Self) -> bool {
                self.store == other.store && self.ctx == other.ctx
            }
        }

        impl<$($g),*> $crate::causal::CausalCrdt for $ty<$($g),*> where $($bounds)* {
            type Store = $store;
            fn store(&self) -> &Self::Store {
                &self.store
            }
            fn context(&self) -> &$crate::causal::CausalContext {
                &self.ctx
            }
            fn parts_mut(&mut self) -> (&mut Self::Store, &mut $crate::causal::CausalContext) {
                (&mut self.store, &mut self.ctx)
            }
            fn from_parts(store: Self::Store, ctx: $crate::causal::CausalContext) -> Self {
                Self { store, ctx }
            }
            fn into_parts(self) -> (Self::Store, $crate::causal::CausalContext) {
                (self.store, self.ctx)
            }
            $($extra)*
        }

        #[cfg(feature = "serde")]
        impl<$($g),*> serde::Serialize for $ty<$($g),*>
        where
            $($bounds)*
            $store: serde::Serialize,
        {
            fn serialize<Se: serde::Serializer>(&self, s: Se) -> Result<Se::Ok, Se::Error> {
                $crate::causal::serialize_causal(&self.store, &self.ctx, s)
            }
        }

        #[cfg(feature = "serde")]
        impl<'de, $($g),*> serde::Deserialize<'de> for $ty<$($g),*>
        where
            $($bounds)*
            $store: serde::Deserialize<'de>,
        {
            fn deserialize<De: serde::Deserializer<'de>>(d: De) -> Result<Self, De::Error> {
                $crate::causal::deserialize_causal(d)
            }
        }
    };
}
pub(crate) use causal_crdt;

/// Serialises a causal CRDT as the pair `(store, context)`.
#[cfg(feature = "serde")]
pub(crate) fn serialize_causal<St: serde::Serialize, Se: serde::Serializer>(
    store: &St,
    ctx: &CausalContext,
    s: Se,
) -> Result<Se::Ok, Se::Error> {
    use serde::Serialize;
    (store, ctx).serialize(s)
}

/// Deserialises `(store, context)` and validates every invariant.
#[cfg(feature = "serde")]
pub(crate) fn deserialize_causal<'de, T, De>(d: De) -> Result<T, De::Error>
where
    T: CausalCrdt,
    T::Store: serde::Deserialize<'de>,
    De: serde::Deserializer<'de>,
{
    use crate::encoding::budget;
    use serde::Deserialize;
    let (store, ctx) = <(T::Store, CausalContext)>::deserialize(d)?;
    // The I2 check sorts every dot's counter, with a bucket end per replica
    // of the context (`find_duplicate`): charged before it runs.
    let mut words = ctx.replica_count().saturating_add(1);
    store.for_each_dot(&mut |_| words = words.saturating_add(1));
    budget::charge_for::<u64>(words).map_err(budget::over_budget)?;
    let x = T::from_parts(store, ctx);
    x.check_invariants()
        .map_err(crate::encoding::violation::reject)?;
    Ok(x)
}
