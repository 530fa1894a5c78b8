//! Streaming deserialisation for the crate's collections (C4): elements are
//! checked as they arrive, so an invalid input is rejected at its first bad
//! element rather than after it was all materialised, and vectors are
//! gathered in blocks as elements arrive, never on the strength of the
//! declared count alone.

use alloc::vec::Vec;
use core::fmt;
use core::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, SeqAccess, Visitor};

use super::budget::{self, Lease, OverBudget, Refusal};
use crate::error::InvariantViolation;

/// The most a collection without the lease ([`Collector::for_seq`])
/// allocates before its elements arrive: 4 KiB (at least 8 elements), never
/// more than the declared count. A larger preallocation from a claim adds
/// up in nested collections (with 64 KiB, a map nested six deep in 291
/// bytes held 109 KB, found by fuzzing); past it, memory follows the
/// elements actually read, each of which took input bytes.
const FIRST_BYTES: usize = 4096;

/// Calls `f(hint, element)` for each element of a sequence, stopping at the
/// first error (`hint`: the declared count, an untrusted claim).
pub(crate) fn for_each_element<'de, D, T, F>(d: D, mut f: F) -> Result<(), D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
    F: FnMut(usize, T) -> Result<(), Refusal>,
{
    fold_elements(d, |_| Ok(()), |(), hint, x| f(hint, x))
}

/// Folds the elements of a sequence into a state made by `start(hint)`
/// when the visit begins, before any element is read (where
/// [`Collector::for_seq`] must be called), stopping at the first error.
pub(crate) fn fold_elements<'de, D, T, S, I, F>(d: D, start: I, f: F) -> Result<S, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
    I: FnOnce(usize) -> Result<S, Refusal>,
    F: FnMut(&mut S, usize, T) -> Result<(), Refusal>,
{
    struct Fold<T, I, F>(I, F, PhantomData<T>);
    impl<'de, T, S, I, F> Visitor<'de> for Fold<T, I, F>
    where
        T: Deserialize<'de>,
        I: FnOnce(usize) -> Result<S, Refusal>,
        F: FnMut(&mut S, usize, T) -> Result<(), Refusal>,
    {
        type Value = S;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a sequence")
        }
        fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<S, A::Error> {
            let hint = seq.size_hint().unwrap_or(0);
            let mut state = (self.0)(hint).map_err(budget::refuse)?;
            while let Some(x) = seq.next_element::<T>()? {
                (self.1)(&mut state, hint, x).map_err(budget::refuse)?;
            }
            Ok(state)
        }
    }
    d.deserialize_seq(Fold(start, f, PhantomData))
}

/// Elements read one at a time, gathered without ever reallocating a
/// buffer: in blocks of [`FIRST_BYTES`] (fewer when the declared count says
/// fewer remain), moved once into one exact vector at the end.
///
/// A vector that grows by doubling holds its old and its new buffer at once
/// when it grows (3 × the elements' size at that moment), and a count that
/// declares twice the elements actually sent makes it grow once more than
/// they need. Here the peak is the elements twice (blocks and result) plus
/// one block, whatever the count claims; a collection of one block (an
/// honest count of at most 4 KiB of elements) is returned as it is, without
/// a copy or spare capacity. Every block, and the result, is charged to the
/// decode's allocation budget before it is allocated.
///
/// One made by [`for_seq`](Self::for_seq) may instead hold the decode's
/// [`Lease`]: then its count is backed by the input, its first block is
/// the whole count, and its elements are never copied.
pub(crate) struct Collector<T> {
    /// Full blocks, in order.
    full: Vec<Vec<T>>,
    /// The block being filled.
    cur: Vec<T>,
    /// Elements in `full`.
    before: usize,
    /// Held while `cur` was reserved from the declared count.
    _lease: Option<Lease>,
}

impl<T> Collector<T> {
    pub(crate) fn new() -> Self {
        Collector {
            full: Vec::new(),
            cur: Vec::new(),
            before: 0,
            _lease: None,
        }
    }

    /// A collector for a sequence of `hint` declared elements, made when its
    /// visit starts (before any element is read): with the decode's
    /// [`Lease`], if `lease()` says the elements may hold one ([`leasable`])
    /// and it is granted, it reserves all `hint` at once.
    pub(crate) fn for_seq(hint: usize, lease: fn() -> bool) -> Result<Self, OverBudget> {
        let mut c = Self::new();
        let bytes = hint.saturating_mul(core::mem::size_of::<T>());
        // One block would hold them anyway: no lease needed (and no
        // thread-local touched, on the path of every small collection).
        if bytes > FIRST_BYTES && lease() {
            if let Some(lease) = budget::lease(bytes) {
                budget::charge(bytes)?;
                c.cur = Vec::with_capacity(hint);
                c._lease = Some(lease);
            }
        }
        Ok(c)
    }

    /// Elements gathered so far.
    pub(crate) fn len(&self) -> usize {
        self.before.saturating_add(self.cur.len())
    }

    /// Whether nothing was gathered.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The last element gathered.
    pub(crate) fn last(&self) -> Option<&T> {
        self.cur
            .last()
            .or_else(|| self.full.last().and_then(|b| b.last()))
    }

    /// Adds `x`; `hint` is the declared count (an untrusted claim: it only
    /// keeps a block from being larger than the elements said to remain).
    pub(crate) fn push(&mut self, hint: usize, x: T) -> Result<(), OverBudget> {
        if self.cur.len() == self.cur.capacity() {
            let block = FIRST_BYTES
                .checked_div(core::mem::size_of::<T>())
                .unwrap_or(FIRST_BYTES)
                .max(8);
            let left = hint.saturating_sub(self.len()).max(1);
            let cap = block.min(left);
            budget::charge_for::<T>(cap)?;
            let next = Vec::with_capacity(cap);
            let done = core::mem::replace(&mut self.cur, next);
            if !done.is_empty() {
                if self.full.len() == self.full.capacity() {
                    // The block list grows as a `Vec` does (to at least 4).
                    budget::charge_for::<Vec<T>>(self.full.capacity().saturating_mul(2).max(4))?;
                }
                self.before = self.before.saturating_add(done.len());
                self.full.push(done);
            }
        }
        self.cur.push(x);
        Ok(())
    }

    /// The elements in order, in one vector.
    pub(crate) fn finish(self) -> Result<Vec<T>, OverBudget> {
        if self.full.is_empty() {
            return Ok(self.cur);
        }
        let n = self.before.saturating_add(self.cur.len());
        budget::charge_for::<T>(n)?;
        let mut out = Vec::with_capacity(n);
        for block in self.full {
            out.extend(block);
        }
        out.extend(self.cur);
        Ok(out)
    }
}

/// The fewest bytes a value of type `T` takes in the compact format, if `T`
/// is known to be read without any nested sequence ("flat"), else `None`.
///
/// A collection may hold a [`Lease`] only if its elements are flat and
/// dense enough ([`leasable`]). Flat: a nested collection's own blocks,
/// inside a leased collection whose count lies, would add up with the
/// reservation (about 30×, found in review). Known types only, compared by
/// name and size (there is no specialisation to ask `T`; `TypeId` needs
/// `'static`): anything else is treated as possibly nested, which only
/// costs the lease.
pub(crate) fn flat_wire<T>() -> Option<usize> {
    use alloc::string::String;
    use core::any::type_name;
    use core::mem::size_of;
    fn is<T, U>() -> bool {
        type_name::<T>() == type_name::<U>() && size_of::<T>() == size_of::<U>()
    }
    if is::<T, String>()
        || is::<T, u8>()
        || is::<T, u16>()
        || is::<T, u32>()
        || is::<T, u64>()
        || is::<T, u128>()
        || is::<T, i8>()
        || is::<T, i16>()
        || is::<T, i32>()
        || is::<T, i64>()
        || is::<T, i128>()
        || is::<T, bool>()
        || is::<T, char>()
    {
        Some(1)
    } else if is::<T, f32>() {
        Some(4)
    } else if is::<T, f64>() {
        Some(8)
    } else if is::<T, (u64, u64)>() {
        Some(2)
    } else {
        None
    }
}

/// Whether a collection of `E`, flat elements of at least `min_wire` bytes
/// each, may hold the [`Lease`]: then `E` takes at most
/// [`LEASE_RATIO`](budget::LEASE_RATIO) bytes per input byte, so an honest
/// leased collection never holds more than that ratio of the bytes it read,
/// and a lie costs that ratio of the bytes left, once.
pub(crate) fn leasable<E>(min_wire: Option<usize>) -> bool {
    min_wire.is_some_and(|w| core::mem::size_of::<E>() <= budget::LEASE_RATIO.saturating_mul(w))
}

/// A vector whose every element passes `check(previous, element)` as it
/// arrives (sortedness, non-zero counters, …). `lease`: whether the vector
/// may take the decode's [`Lease`] and reserve its declared count at once
/// (see [`leasable`]); asked only for collections of more than 4 KiB.
pub(crate) fn checked_vec<'de, D, T, C>(
    d: D,
    lease: fn() -> bool,
    mut check: C,
) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
    C: FnMut(Option<&T>, &T) -> Result<(), InvariantViolation>,
{
    let out = fold_elements(
        d,
        |hint| Ok(Collector::for_seq(hint, lease)?),
        |out: &mut Collector<T>, hint, x: T| {
            check(out.last(), &x)?;
            out.push(hint, x)?;
            Ok(())
        },
    )?;
    out.finish().map_err(budget::over_budget)
}

#[cfg(all(test, feature = "std"))]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn c4_a_leased_collector_reserves_its_count_once_and_gives_the_lease_back() {
        let _scope = budget::open(usize::MAX);
        budget::note_seq(10_000);
        let mut c = Collector::<u64>::for_seq(1_000, || true)
            .map_err(|_| ())
            .unwrap();
        // The lease is held: a collection nested in it gets none.
        budget::note_seq(10_000);
        assert!(budget::lease(8_000).is_none());
        for i in 0..1_000 {
            c.push(1_000, i).map_err(|_| ()).unwrap();
        }
        let v = c.finish().map_err(|_| ()).unwrap();
        assert_eq!(v.len(), 1_000);
        assert_eq!(v.capacity(), 1_000, "reserved once, never copied");
        // Given back with the collector.
        budget::note_seq(10_000);
        assert!(budget::lease(8_000).is_some());
    }

    #[test]
    fn c4_a_lease_whose_charge_fails_is_given_back() {
        let _scope = budget::open(5_000);
        budget::note_seq(10_000);
        // 8,000 bytes leased, then refused by the 5,000-byte budget.
        assert!(Collector::<u64>::for_seq(1_000, || true).is_err());
        let _ = budget::take_tripped();
        budget::note_seq(10_000);
        assert!(budget::lease(4_500).is_some());
    }

    #[test]
    fn c4_only_known_flat_types_are_flat() {
        use crate::causal::Dot;
        assert_eq!(flat_wire::<u64>(), Some(1));
        assert_eq!(flat_wire::<alloc::string::String>(), Some(1));
        assert_eq!(flat_wire::<(u64, u64)>(), Some(2));
        assert_eq!(flat_wire::<Vec<u64>>(), None);
        assert_eq!(flat_wire::<Option<u64>>(), None);
        assert_eq!(flat_wire::<crate::VersionVector>(), None);
        // Dense enough: a register's `(Dot, String)` (40 bytes, 3 on the
        // wire); not: a list's `String` content (24 bytes, 1 on the wire).
        assert!(leasable::<(Dot, alloc::string::String)>(
            flat_wire::<alloc::string::String>().map(|w| w + 2)
        ));
        assert!(!leasable::<alloc::string::String>(flat_wire::<
            alloc::string::String,
        >()));
        assert!(!leasable::<Vec<u64>>(flat_wire::<Vec<u64>>()));
    }
}
