use alloc::vec::Vec;
use core::fmt;

use smallvec::SmallVec;

use crate::causal::{check_sorted_dots, merge_dots, CausalContext, CausalCrdt, Dot, DotStore};
use crate::error::InvariantViolation;

/// One key's slot in an [`OrMap`](crate::OrMap): presence dots, remove
/// markers, and the nested value (sharing the map's context).
///
/// The key is visible iff it has a presence dot and no remove marker.
///
/// The two dot sets share one small vector: the presence dots, then the
/// markers, in 32 bytes where two sets took 48 (C4, decision 0008: the
/// densest map inputs are 8–18 wire bytes an entry). Nearly every entry
/// holds one dot, inline. One with two or more (concurrent updates, or a
/// presence dot and a marker: a hidden key of a remove-wins map) keeps them
/// on the heap, where two sets held one each inline.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Entry<V> {
    /// The presence dots (one per concurrent update that (re)created the
    /// key), then the remove markers (only under
    /// [`RemoveWins`](crate::RemoveWins)); each part strictly sorted.
    dots: SmallVec<[Dot; 1]>,
    /// How many of `dots` are presence dots.
    present: usize,
    /// The nested value; its own context is always empty.
    pub(crate) value: V,
}

impl<V> Entry<V> {
    /// An entry of these presence dots and markers (each strictly sorted).
    pub(crate) fn new(present: &[Dot], removed: &[Dot], value: V) -> Self {
        let mut dots = SmallVec::with_capacity(present.len() + removed.len());
        dots.extend_from_slice(present);
        dots.extend_from_slice(removed);
        Self {
            dots,
            present: present.len(),
            value,
        }
    }

    /// Whether the key is visible.
    pub fn is_visible(&self) -> bool {
        self.present > 0 && self.dots.len() == self.present
    }

    /// The nested value (possibly hidden content of a removed key).
    pub fn value(&self) -> &V {
        &self.value
    }

    /// The presence dots, sorted.
    pub(crate) fn present(&self) -> &[Dot] {
        self.dots.get(..self.present).unwrap_or_default()
    }

    /// The remove markers, sorted.
    pub(crate) fn removed(&self) -> &[Dot] {
        self.dots.get(self.present..).unwrap_or_default()
    }

    /// Takes the presence dots out; the markers stay.
    pub(crate) fn take_present(&mut self) -> SmallVec<[Dot; 1]> {
        let n = core::mem::take(&mut self.present);
        if n == self.dots.len() {
            // No marker (the usual case): the whole vector, moved.
            return core::mem::take(&mut self.dots);
        }
        self.dots.drain(..n).collect()
    }

    /// Takes the markers out; the presence dots stay.
    pub(crate) fn take_removed(&mut self) -> SmallVec<[Dot; 1]> {
        if self.present == 0 {
            return core::mem::take(&mut self.dots);
        }
        self.dots.drain(self.present..).collect()
    }

    /// Replaces the presence dots (strictly sorted); the markers stay.
    pub(crate) fn set_present(&mut self, present: &[Dot]) {
        if self.present == self.dots.len() {
            // No marker: overwrite in place.
            self.dots.clear();
            self.dots.extend_from_slice(present);
        } else {
            self.dots.drain(..self.present);
            self.dots.insert_from_slice(0, present);
        }
        self.present = present.len();
    }

    /// Replaces the markers (strictly sorted); the presence dots stay.
    pub(crate) fn set_removed(&mut self, removed: &[Dot]) {
        self.dots.truncate(self.present);
        self.dots.extend_from_slice(removed);
    }
}

/// Sorted dots, shown as a set (as a [`DotSet`](crate::DotSet) is).
struct AsSet<'a>(&'a [Dot]);

impl fmt::Debug for AsSet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.iter()).finish()
    }
}

impl<V: fmt::Debug> fmt::Debug for Entry<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("present", &AsSet(self.present()))
            .field("removed", &AsSet(self.removed()))
            .field("value", &self.value)
            .finish()
    }
}

impl<V> Entry<V> {
    /// Drops the dots `seen` has seen (presence dots and markers alike);
    /// returns whether any was dropped.
    fn retain_unseen(&mut self, seen: &CausalContext) -> bool {
        let before = self.dots.len();
        let (mut i, mut present) = (0, 0);
        let n = self.present;
        self.dots.retain(|d| {
            let keep = !seen.contains(*d);
            if keep && i < n {
                present += 1;
            }
            i += 1;
            keep
        });
        self.present = present;
        self.dots.len() != before
    }
}

impl<V: CausalCrdt> DotStore for Entry<V> {
    fn is_empty(&self) -> bool {
        self.dots.is_empty() && DotStore::is_empty(&self.value)
    }

    fn has_entries(&self) -> bool {
        !self.dots.is_empty() || self.value.has_entries()
    }

    fn for_each_dot(&self, f: &mut dyn FnMut(Dot)) {
        self.dots.iter().for_each(|&d| f(d));
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
        let Entry {
            dots,
            present,
            value,
        } = other;
        // Fast paths, as `DotSet`'s: equal dots, or one side without any
        // (no new vector; the other side's is moved, not copied).
        let dots_changed = if self.dots == dots && self.present == present {
            false
        } else if dots.is_empty() {
            self.retain_unseen(other_ctx)
        } else if self.dots.is_empty() {
            self.dots = dots;
            self.present = present;
            self.retain_unseen(ctx);
            !self.dots.is_empty()
        } else {
            let mut out: SmallVec<[Dot; 1]> =
                SmallVec::with_capacity(self.dots.len().max(dots.len()));
            let (theirs_present, theirs_removed) = dots.split_at(present.min(dots.len()));
            let p = merge_dots(self.present(), theirs_present, ctx, other_ctx, &mut out);
            let n = out.len();
            let r = merge_dots(self.removed(), theirs_removed, ctx, other_ctx, &mut out);
            self.dots = out;
            self.present = n;
            p | r
        };
        dots_changed | self.value.join_store(ctx, value, other_ctx, scan_value)
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
        let dots = self.dots.iter().filter(|&&d| other_ctx.contains(d)).count() as u64;
        Some(dots + value)
    }

    fn filter_dots(&self, keep: &dyn Fn(Dot) -> bool) -> Self {
        let mut dots: SmallVec<[Dot; 1]> = self
            .present()
            .iter()
            .copied()
            .filter(|&d| keep(d))
            .collect();
        let present = dots.len();
        dots.extend(self.removed().iter().copied().filter(|&d| keep(d)));
        Self {
            dots,
            present,
            value: self.value.filter_dots(keep),
        }
    }

    fn check_store(
        &self,
        ctx: &CausalContext,
        seen: &mut Vec<Dot>,
    ) -> Result<(), InvariantViolation> {
        check_sorted_dots(self.present().iter().copied(), ctx, Some(seen))?;
        check_sorted_dots(self.removed().iter().copied(), ctx, Some(seen))?;
        self.value.check_store(ctx, seen)
    }
}

#[cfg(feature = "serde")]
mod serde_impl {
    use super::*;
    use crate::causal::DotSet;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Wire shape: `(present, removed, nested store)`; the nested value's
    /// (empty) context is not written.
    impl<V> Serialize for Entry<V>
    where
        V: CausalCrdt,
        V::Store: Serialize,
    {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            // Each part as a `DotSet` writes itself: a sequence of dots.
            (self.present(), self.removed(), self.value.store()).serialize(s)
        }
    }

    impl<'de, V> Deserialize<'de> for Entry<V>
    where
        V: CausalCrdt,
        V::Store: Deserialize<'de>,
    {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let (mut present, mut removed, store) = <(DotSet, DotSet, V::Store)>::deserialize(d)?;
            let value = V::from_parts(store, CausalContext::new());
            if removed.is_empty() {
                // The presence set's vector, as it is (no copy).
                let n = present.len();
                Ok(Self {
                    dots: present.take(),
                    present: n,
                    value,
                })
            } else {
                // A hidden key: the markers follow the presence dots.
                let n = present.len();
                let removed = removed.take();
                let mut dots = present.take();
                dots.reserve_exact(removed.len());
                dots.extend(removed);
                Ok(Self {
                    dots,
                    present: n,
                    value,
                })
            }
        }
    }
}
