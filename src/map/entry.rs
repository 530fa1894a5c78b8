use alloc::boxed::Box;
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
/// The dots take 24 bytes (C4, decision 0008: the densest map inputs are
/// 8–18 wire bytes an entry, and two dot sets took 48). Nearly every entry
/// holds one dot, inline, with whether it is a presence dot or a marker.
/// One with two or more (concurrent updates, or a presence dot and a
/// marker: a hidden key of a remove-wins map) keeps them in a box.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Entry<V> {
    dots: Dots,
    /// The nested value; its own context is always empty.
    pub(crate) value: V,
}

/// The presence dots (one per concurrent update that (re)created the key)
/// and the remove markers (only under [`RemoveWins`](crate::RemoveWins)),
/// each part strictly sorted. Canonical (the derived equality relies on
/// it): no dot is `None`, one is `Present` or `Removed`, two or more are
/// `Many`.
#[derive(Clone, Default, PartialEq, Eq)]
enum Dots {
    #[default]
    None,
    Present(Dot),
    Removed(Dot),
    /// The presence dots, then the markers; how many are presence dots.
    /// A `u32`, which keeps the type at 24 bytes: 2³² presence dots in one
    /// entry would take 64 GiB, and a decode is refused long before (its
    /// input is at most `Limits::max_bytes`, 1 GiB by default, and every
    /// dot takes at least 2 bytes of it).
    Many(Box<[Dot]>, u32),
}

impl Dots {
    /// Two sorted parts, copied.
    fn new(present: &[Dot], removed: &[Dot]) -> Self {
        match (present, removed) {
            ([], []) => Dots::None,
            ([d], []) => Dots::Present(*d),
            ([], [d]) => Dots::Removed(*d),
            _ => {
                let mut all = Vec::with_capacity(present.len() + removed.len());
                all.extend_from_slice(present);
                all.extend_from_slice(removed);
                Dots::from_vec(all, present.len())
            }
        }
    }

    /// The dots of `all`, the first `present` of them presence dots.
    fn from_vec(all: Vec<Dot>, present: usize) -> Self {
        match all[..] {
            [] => Dots::None,
            [d] if present == 1 => Dots::Present(d),
            [d] => Dots::Removed(d),
            _ => {
                debug_assert!(present <= all.len() && u32::try_from(present).is_ok());
                Dots::Many(all.into_boxed_slice(), present as u32)
            }
        }
    }

    /// The dots of `all`, the first `present` of them presence dots; a
    /// spilled vector is moved, not copied.
    fn from_small(all: SmallVec<[Dot; 1]>, present: usize) -> Self {
        if all.spilled() {
            Dots::from_vec(all.into_vec(), present)
        } else {
            let (p, r) = all.split_at(present.min(all.len()));
            Dots::new(p, r)
        }
    }

    /// Every dot: the presence dots, then the markers.
    fn all(&self) -> &[Dot] {
        match self {
            Dots::None => &[],
            Dots::Present(d) | Dots::Removed(d) => core::slice::from_ref(d),
            Dots::Many(all, _) => all,
        }
    }

    /// How many of [`all`](Self::all) are presence dots.
    fn present_len(&self) -> usize {
        match self {
            Dots::Present(_) => 1,
            Dots::None | Dots::Removed(_) => 0,
            Dots::Many(_, n) => *n as usize,
        }
    }

    fn is_empty(&self) -> bool {
        matches!(self, Dots::None)
    }
}

impl<V> Entry<V> {
    /// An entry of these presence dots and markers (each strictly sorted).
    pub(crate) fn new(present: &[Dot], removed: &[Dot], value: V) -> Self {
        Self {
            dots: Dots::new(present, removed),
            value,
        }
    }

    /// Whether the key is visible.
    pub fn is_visible(&self) -> bool {
        match &self.dots {
            Dots::Present(_) => true,
            Dots::None | Dots::Removed(_) => false,
            Dots::Many(all, n) => *n as usize == all.len(),
        }
    }

    /// The nested value (possibly hidden content of a removed key).
    pub fn value(&self) -> &V {
        &self.value
    }

    /// The presence dots, sorted.
    pub(crate) fn present(&self) -> &[Dot] {
        let all = self.dots.all();
        all.get(..self.dots.present_len()).unwrap_or(all)
    }

    /// The remove markers, sorted.
    pub(crate) fn removed(&self) -> &[Dot] {
        self.dots
            .all()
            .get(self.dots.present_len()..)
            .unwrap_or_default()
    }

    /// Takes the presence dots out; the markers stay.
    pub(crate) fn take_present(&mut self) -> SmallVec<[Dot; 1]> {
        let taken = SmallVec::from_slice(self.present());
        self.set_present(&[]);
        taken
    }

    /// Takes the markers out; the presence dots stay.
    pub(crate) fn take_removed(&mut self) -> SmallVec<[Dot; 1]> {
        let taken = SmallVec::from_slice(self.removed());
        self.set_removed(&[]);
        taken
    }

    /// Replaces the presence dots (strictly sorted); the markers stay.
    pub(crate) fn set_present(&mut self, present: &[Dot]) {
        self.dots = Dots::new(present, self.removed());
    }

    /// Replaces the markers (strictly sorted); the presence dots stay.
    pub(crate) fn set_removed(&mut self, removed: &[Dot]) {
        self.dots = Dots::new(self.present(), removed);
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
        let all = self.dots.all();
        let n = self.dots.present_len();
        let mut kept: SmallVec<[Dot; 2]> = SmallVec::new();
        let mut present = 0;
        for (i, &d) in all.iter().enumerate() {
            if !seen.contains(d) {
                kept.push(d);
                present += usize::from(i < n);
            }
        }
        if kept.len() == all.len() {
            return false;
        }
        let (p, r) = kept.split_at(present);
        self.dots = Dots::new(p, r);
        true
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
        self.dots.all().iter().for_each(|&d| f(d));
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
        let Entry { dots, value } = other;
        // Fast paths, as `DotSet`'s: equal dots, or one side without any
        // (the other side's are moved, not copied).
        let dots_changed = if self.dots == dots {
            false
        } else if dots.is_empty() {
            self.retain_unseen(other_ctx)
        } else if self.dots.is_empty() {
            self.dots = dots;
            self.retain_unseen(ctx);
            !self.dots.is_empty()
        } else {
            let mut out: SmallVec<[Dot; 1]> =
                SmallVec::with_capacity(self.dots.all().len().max(dots.all().len()));
            let (theirs_present, theirs_removed) = dots.all().split_at(dots.present_len());
            let p = merge_dots(self.present(), theirs_present, ctx, other_ctx, &mut out);
            let n = out.len();
            let r = merge_dots(self.removed(), theirs_removed, ctx, other_ctx, &mut out);
            self.dots = Dots::from_small(out, n);
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
        let dots = self
            .dots
            .all()
            .iter()
            .filter(|&&d| other_ctx.contains(d))
            .count() as u64;
        Some(dots + value)
    }

    fn filter_dots(&self, keep: &dyn Fn(Dot) -> bool) -> Self {
        let present: SmallVec<[Dot; 1]> = self
            .present()
            .iter()
            .copied()
            .filter(|&d| keep(d))
            .collect();
        let removed: SmallVec<[Dot; 1]> = self
            .removed()
            .iter()
            .copied()
            .filter(|&d| keep(d))
            .collect();
        Self {
            dots: Dots::new(&present, &removed),
            value: self.value.filter_dots(keep),
        }
    }

    fn check_store(&self, ctx: &CausalContext) -> Result<(), InvariantViolation> {
        check_sorted_dots(self.present().iter().copied(), ctx)?;
        check_sorted_dots(self.removed().iter().copied(), ctx)?;
        self.value.check_store(ctx)
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
            // A set's spilled vector is moved, not copied, when the other
            // is empty (one dot is inline in a set).
            let n = present.len();
            let dots = if removed.is_empty() {
                Dots::from_small(present.take(), n)
            } else if n == 0 {
                Dots::from_small(removed.take(), 0)
            } else {
                Dots::new(&present.take(), &removed.take())
            };
            Ok(Self { dots, value })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::causal::ReplicaId;
    use crate::{CausalCounter, MvRegister};
    use alloc::collections::BTreeSet;
    use proptest::prelude::*;

    type Set = BTreeSet<Dot>;

    /// Disjoint presence dots and markers, and extra dots seen.
    fn side() -> impl Strategy<Value = (Set, Set, Set)> {
        let d = (0u64..2, 1u64..6).prop_map(|(r, c)| Dot::new(ReplicaId::new(r), c));
        (
            prop::collection::btree_set(d.clone(), 0..4),
            prop::collection::btree_set(d.clone(), 0..3),
            prop::collection::btree_set(d, 0..4),
        )
            .prop_map(|(p, r, seen)| {
                let r: Set = r.difference(&p).copied().collect();
                (p, r, seen)
            })
    }

    fn entry(p: &Set, r: &Set) -> Entry<CausalCounter> {
        let p: Vec<Dot> = p.iter().copied().collect();
        let r: Vec<Dot> = r.iter().copied().collect();
        Entry::new(&p, &r, CausalCounter::new())
    }

    /// A side of a join: kept if both hold it, or if the other has not
    /// seen it.
    fn joined(a: &Set, b: &Set, ctx: &CausalContext, other_ctx: &CausalContext) -> Set {
        a.union(b)
            .copied()
            .filter(|&d| {
                (a.contains(&d) && b.contains(&d))
                    || (a.contains(&d) && !other_ctx.contains(d))
                    || (b.contains(&d) && !ctx.contains(d))
            })
            .collect()
    }

    proptest! {
        /// `join_store`, `retain_unseen` and `filter_dots` agree with two
        /// sets, and their results equal the entry built from those sets
        /// (canonical form).
        #[test]
        fn entry_dots_agree_with_two_sets(
            (p1, r1, s1) in side(),
            (p2, r2, s2) in side(),
            keep_counter in 1u64..6,
        ) {
            let ctx = CausalContext::from_dots(p1.iter().chain(&r1).chain(&s1).copied());
            let other_ctx = CausalContext::from_dots(p2.iter().chain(&r2).chain(&s2).copied());
            let mut a = entry(&p1, &r1);
            let changed = a.join_store(&ctx, entry(&p2, &r2), &other_ctx, true);
            let (p, r) = (joined(&p1, &p2, &ctx, &other_ctx), joined(&r1, &r2, &ctx, &other_ctx));
            prop_assert!(a == entry(&p, &r), "{a:?} != {p:?} {r:?}");
            prop_assert_eq!(changed, p != p1 || r != r1);

            let mut b = entry(&p1, &r1);
            let dropped = b.retain_unseen(&other_ctx);
            let keep = |s: &Set| -> Set { s.iter().copied().filter(|&d| !other_ctx.contains(d)).collect() };
            prop_assert!(b == entry(&keep(&p1), &keep(&r1)));
            prop_assert_eq!(dropped, keep(&p1) != p1 || keep(&r1) != r1);

            let f = entry(&p1, &r1).filter_dots(&|d| d.counter != keep_counter);
            let keep = |s: &Set| -> Set { s.iter().copied().filter(|d| d.counter != keep_counter).collect() };
            prop_assert!(f == entry(&keep(&p1), &keep(&r1)));
        }
    }

    fn dot(c: u64) -> Dot {
        Dot::new(ReplicaId::new(1), c)
    }

    #[test]
    fn entry_dots_take_24_bytes() {
        assert_eq!(core::mem::size_of::<Dots>(), 24);
        // The remove-wins counter map's entry: dots, the counter's store
        // and its (empty) context.
        assert_eq!(core::mem::size_of::<Entry<CausalCounter>>(), 24 + 40 + 24);
        assert_eq!(core::mem::size_of::<Entry<MvRegister<u64>>>(), 24 + 32 + 24);
    }

    /// However they are built, the same dots are the same value (the
    /// derived equality relies on the canonical form).
    #[test]
    fn entry_dots_are_canonical() {
        let parts: [(&[Dot], &[Dot]); 6] = [
            (&[], &[]),
            (&[dot(1)], &[]),
            (&[], &[dot(1)]),
            (&[dot(1)], &[dot(2)]),
            (&[dot(1), dot(2)], &[]),
            (&[], &[dot(1), dot(2)]),
        ];
        for (p, r) in parts {
            let a = Dots::new(p, r);
            let all: Vec<Dot> = p.iter().chain(r).copied().collect();
            let b = Dots::from_vec(all.clone(), p.len());
            let c = Dots::from_small(SmallVec::from_vec(all.clone()), p.len());
            assert!(a == b && b == c, "{p:?} {r:?}");
            assert_eq!(a.all(), &all[..]);
            assert_eq!(a.present_len(), p.len());
            let e = Entry::new(p, r, CausalCounter::new());
            assert_eq!(e.present(), p);
            assert_eq!(e.removed(), r);
            assert_eq!(e.is_visible(), !p.is_empty() && r.is_empty());
            let mut f = e.clone();
            assert_eq!(&f.take_present()[..], p);
            assert_eq!((f.present(), f.removed()), (&[][..], r));
            f.set_present(p);
            assert!(f == e);
            assert_eq!(&f.take_removed()[..], r);
            assert_eq!((f.present(), f.removed()), (p, &[][..]));
            f.set_removed(r);
            assert!(f == e);
        }
    }
}
