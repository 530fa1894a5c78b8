//! Streaming deserialisation for the crate's collections (C4): elements are
//! checked as they arrive, so an invalid input is rejected at its first bad
//! element rather than after it was all materialised, and vectors grow
//! towards the declared count without overshooting it.

use alloc::vec::Vec;
use core::fmt;
use core::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, SeqAccess, Visitor};

use crate::error::InvariantViolation;

/// The most a collection preallocates from a declared count before any of
/// its elements arrived (the `64 KiB` of the C4 bound). Past that it grows
/// as elements arrive, each of which took input bytes.
const PREALLOC_BYTES: usize = 64 * 1024;

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

/// Pushes onto a vector that grows by doubling, from at most
/// [`PREALLOC_BYTES`] worth, but not past `hint` while the hint holds.
pub(crate) fn push_bounded<T>(v: &mut Vec<T>, hint: usize, x: T) {
    if v.len() == v.capacity() {
        let first = (PREALLOC_BYTES / core::mem::size_of::<T>().max(1)).max(1);
        let room = if v.is_empty() { first } else { v.len() };
        let want = if v.len() < hint {
            room.min(hint - v.len())
        } else {
            room
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
