use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::causal::{CausalContext, CausalCrdt, Dot, DotSet, DotStore};
use crate::error::InvariantViolation;

/// An entry's remove markers: a [`DotSet`] behind a box, absent when empty.
///
/// Only [`RemoveWins`](crate::RemoveWins) maps place markers, and only on
/// removed keys, so nearly every entry has none. Boxed, they cost 8 bytes
/// per entry instead of a `DotSet`'s 24, at every nesting level: the densest
/// nested-map input holds two entries per 18 wire bytes (C4, decision 0008).
///
/// Invariant: a box holds at least one dot, so that equal marker sets are
/// equal values.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Markers(Option<Box<DotSet>>);

impl Markers {
    /// The marker set of one dot.
    pub(crate) fn single(dot: Dot) -> Self {
        Self(Some(Box::new(DotSet::single(dot))))
    }

    /// Boxes `set`, unless it is empty.
    fn from_set(set: DotSet) -> Self {
        if set.is_empty() {
            Self(None)
        } else {
            Self(Some(Box::new(set)))
        }
    }

    /// Whether there is no marker.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// The markers, sorted.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Dot> + '_ {
        self.0.iter().flat_map(|set| set.iter())
    }
}

impl core::fmt::Debug for Markers {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl DotStore for Markers {
    fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    fn for_each_dot(&self, f: &mut dyn FnMut(Dot)) {
        if let Some(set) = &self.0 {
            set.for_each_dot(f);
        }
    }

    fn join_store(
        &mut self,
        ctx: &CausalContext,
        other: Self,
        other_ctx: &CausalContext,
        scan: bool,
    ) -> bool {
        let other = other.0.map_or_else(DotSet::new, |set| *set);
        match &mut self.0 {
            Some(mine) => {
                let changed = mine.join_store(ctx, other, other_ctx, scan);
                if mine.is_empty() {
                    self.0 = None;
                }
                changed
            }
            None if other.is_empty() => false,
            None => {
                let mut mine = DotSet::new();
                let changed = mine.join_store(ctx, other, other_ctx, scan);
                *self = Self::from_set(mine);
                changed
            }
        }
    }

    fn filter_dots(&self, keep: &dyn Fn(Dot) -> bool) -> Self {
        match &self.0 {
            Some(set) => Self::from_set(set.filter_dots(keep)),
            None => Self(None),
        }
    }

    fn check_store(
        &self,
        ctx: &CausalContext,
        seen: &mut Vec<Dot>,
    ) -> Result<(), InvariantViolation> {
        match &self.0 {
            Some(set) => set.check_store(ctx, seen),
            None => Ok(()),
        }
    }
}

/// One key's slot in an [`OrMap`](crate::OrMap): presence dots, remove
/// markers, and the nested value (sharing the map's context).
///
/// The key is visible iff `present` is non-empty and `removed` is empty.
#[derive(Clone, Default, PartialEq, Eq, Debug)]
pub struct Entry<V> {
    /// One dot per concurrent update that (re)created the key.
    pub(crate) present: DotSet,
    /// Remove markers (only under [`RemoveWins`](crate::RemoveWins)).
    pub(crate) removed: Markers,
    /// The nested value; its own context is always empty.
    pub(crate) value: V,
}

impl<V> Entry<V> {
    /// Whether the key is visible.
    pub fn is_visible(&self) -> bool {
        !self.present.is_empty() && self.removed.is_empty()
    }

    /// The nested value (possibly hidden content of a removed key).
    pub fn value(&self) -> &V {
        &self.value
    }
}

impl<V: CausalCrdt> DotStore for Entry<V> {
    fn is_empty(&self) -> bool {
        self.present.is_empty() && self.removed.is_empty() && DotStore::is_empty(&self.value)
    }

    fn has_entries(&self) -> bool {
        !self.present.is_empty() || !self.removed.is_empty() || self.value.has_entries()
    }

    fn for_each_dot(&self, f: &mut dyn FnMut(Dot)) {
        self.present.for_each_dot(f);
        self.removed.for_each_dot(f);
        self.value.for_each_dot(f);
    }

    fn join_store(
        &mut self,
        ctx: &CausalContext,
        other: Self,
        other_ctx: &CausalContext,
        scan: bool,
    ) -> bool {
        // A key remove's entry carries no nested value: visit all of ours.
        let scan_value = scan || !other.value.has_entries();
        self.present.join_store(ctx, other.present, other_ctx, scan)
            | self.removed.join_store(ctx, other.removed, other_ctx, scan)
            | self
                .value
                .join_store(ctx, other.value, other_ctx, scan_value)
    }

    fn count_along(
        &self,
        other: &Self,
        other_ctx: &CausalContext,
        budget: &mut usize,
    ) -> Option<u64> {
        let value = if !other.value.has_entries() {
            self.value.count_dots_in(other_ctx)
        } else {
            self.value.count_along(&other.value, other_ctx, budget)?
        };
        Some(self.present.count_dots_in(other_ctx) + self.removed.count_dots_in(other_ctx) + value)
    }

    fn filter_dots(&self, keep: &dyn Fn(Dot) -> bool) -> Self {
        Self {
            present: self.present.filter_dots(keep),
            removed: self.removed.filter_dots(keep),
            value: self.value.filter_dots(keep),
        }
    }

    fn check_store(
        &self,
        ctx: &CausalContext,
        seen: &mut Vec<Dot>,
    ) -> Result<(), InvariantViolation> {
        self.present.check_store(ctx, seen)?;
        self.removed.check_store(ctx, seen)?;
        self.value.check_store(ctx, seen)
    }
}

#[cfg(feature = "serde")]
mod serde_impl {
    use super::*;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Wire shape: `(present, removed, nested store)`; the nested value's
    /// (empty) context is not written.
    impl<V> Serialize for Entry<V>
    where
        V: CausalCrdt,
        V::Store: Serialize,
    {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            match &self.removed.0 {
                Some(removed) => (&self.present, &**removed, self.value.store()).serialize(s),
                None => (&self.present, &DotSet::new(), self.value.store()).serialize(s),
            }
        }
    }

    impl<'de, V> Deserialize<'de> for Entry<V>
    where
        V: CausalCrdt,
        V::Store: Deserialize<'de>,
    {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let (present, removed, store) = <(DotSet, DotSet, V::Store)>::deserialize(d)?;
            Ok(Self {
                present,
                removed: Markers::from_set(removed),
                value: V::from_parts(store, CausalContext::new()),
            })
        }
    }
}
