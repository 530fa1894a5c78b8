//! Streaming deserialisation for the crate's collections (C4): elements are
//! checked as they arrive, so an invalid input is rejected at its first bad
//! element rather than after it was all materialised, and vectors grow
//! towards the declared count, as elements arrive, without overshooting it.

use alloc::vec::Vec;
use core::fmt;
use core::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, SeqAccess, Visitor};

use crate::error::InvariantViolation;

/// The most a collection allocates before its elements arrive: 4 KiB (at
/// least 8 elements), never more than the declared count. A larger
/// preallocation from a claim adds up in nested collections (with 64 KiB, a
/// map nested six deep in 291 bytes held 109 KB, found by fuzzing); past it,
/// memory follows the elements actually read, each of which took input
/// bytes.
const FIRST_BYTES: usize = 4096;

/// Calls `f(hint, element)` for each element of a sequence, stopping at the
/// first error (`hint`: the declared count, an untrusted claim).
pub(crate) fn for_each_element<'de, D, T, F>(d: D, f: F) -> Result<(), D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
    F: FnMut(usize, T) -> Result<(), InvariantViolation>,
{
    struct Each<T, F>(F, PhantomData<T>);
    impl<'de, T, F> Visitor<'de> for Each<T, F>
    where
        T: Deserialize<'de>,
        F: FnMut(usize, T) -> Result<(), InvariantViolation>,
    {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a sequence")
        }
        fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
            let hint = seq.size_hint().unwrap_or(0);
            while let Some(x) = seq.next_element::<T>()? {
                (self.0)(hint, x).map_err(super::violation::reject)?;
            }
            Ok(())
        }
    }
    d.deserialize_seq(Each(f, PhantomData))
}

/// Pushes onto a vector that grows by doubling from [`FIRST_BYTES`] worth,
/// but not past `hint` while the hint holds (an honest count costs no
/// overshoot, a lying one no memory).
pub(crate) fn push_bounded<T>(v: &mut Vec<T>, hint: usize, x: T) {
    if v.len() == v.capacity() {
        let first = FIRST_BYTES
            .checked_div(core::mem::size_of::<T>())
            .unwrap_or(FIRST_BYTES)
            .max(8);
        let room = if v.is_empty() { first } else { v.len() };
        let want = match hint.checked_sub(v.len()) {
            Some(left) if left > 0 => room.min(left),
            _ => room,
        };
        v.reserve_exact(want.max(1));
    }
    v.push(x);
}

/// A vector whose every element passes `check(previous, element)` as it
/// arrives (sortedness, non-zero counters, …).
pub(crate) fn checked_vec<'de, D, T, C>(d: D, mut check: C) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
    C: FnMut(Option<&T>, &T) -> Result<(), InvariantViolation>,
{
    let mut out = Vec::new();
    for_each_element(d, |hint, x: T| {
        check(out.last(), &x)?;
        push_bounded(&mut out, hint, x);
        Ok(())
    })?;
    Ok(out)
}
