//! The hard cap on what one decode allocates: [`Limits::max_alloc`]
//! (C4: "never more than a configured hard cap").
//!
//! [`decode_with`](super::decode_with) opens a per-thread budget of
//! `max_alloc` bytes, and a decode of the crate's own types charges it
//! before it allocates. Charges are never given back. Once a charge fails
//! the decode ends with
//! [`DecodeError::AllocLimit`](super::DecodeError::AllocLimit).
//!
//! Charged as they are allocated, at their size or (a dot map's blocks,
//! its index) at a bound on it:
//! - the strings and byte strings the reader hands out;
//! - the blocks, block list and final vector of every
//!   [`Collector`](super::collect::Collector), or its leased reservation;
//! - a dot map's blocks (twice its entries, charged entry by entry, so at
//!   most one 4 KiB block ahead of its charges) and its index.
//!
//! One collection of flat elements at a time may also reserve its whole
//! declared count at once, charged before it allocates, when the input bytes left back it
//! ([`Lease`]): that is how the decode of a long collection stays within
//! C4's `16 × input` without copying its elements.
//!
//! Charged as upper estimates, before the work that allocates:
//! - the I2 check of a causal value, a word for each of its dots and one
//!   for each replica of its context;
//! - a sequence's checks and tree, per run (`Seq::from_repr`).
//!
//! These two are estimates from the code's structure. They are checked by
//! measurement, not proved: `c4_hard_cap_*` in
//! `tests/encoding_bad_input.rs` and `tests/fuzz_replay.rs`.
//!
//! Not charged:
//! - allocations of a constant size per decode;
//! - serde's own impls for type parameters (a `Vec<u8>` value inside an
//!   `MvRegister`), beyond their strings.
//!
//! The budget lives in a thread-local, so it needs the `std` feature;
//! without it only `max_bytes` and `max_depth` bound a decode. Other serde
//! formats open no budget, and their decodes charge nothing, except inside
//! a compact decode (a type parameter whose impl runs another format), where
//! they charge the compact decode's budget.
//!
//! [`Limits::max_alloc`]: super::Limits::max_alloc

/// A charge that the open budget could not cover.
#[derive(Debug)]
pub(crate) struct OverBudget;

#[cfg(feature = "std")]
#[derive(Clone, Copy)]
struct Open {
    limit: usize,
    left: usize,
    tripped: bool,
}

#[cfg(feature = "std")]
std::thread_local! {
    static OPEN: core::cell::Cell<Option<Open>> = const { core::cell::Cell::new(None) };
    /// The input bytes left after the count of the sequence the compact
    /// reader started last, until a collection takes it (0: none; see
    /// [`lease`]). Apart from `OPEN`, which every charge copies in and out.
    static SEQ_INPUT: core::cell::Cell<usize> = const { core::cell::Cell::new(0) };
    /// Whether a collection of the open decode holds its [`Lease`].
    static LEASED: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

/// The budget of one decode, open until dropped (then the enclosing one, if
/// any, is open again).
pub(crate) struct Scope {
    #[cfg(feature = "std")]
    prev: Option<Open>,
}

/// Opens a budget of `limit` bytes for this thread.
pub(crate) fn open(limit: usize) -> Scope {
    #[cfg(feature = "std")]
    {
        let prev = OPEN.with(|o| {
            o.replace(Some(Open {
                limit,
                left: limit,
                tripped: false,
            }))
        });
        // A decode nested in another (a type parameter's impl) keeps the
        // outer one's lease flag: its bytes are the outer input's, so it
        // may not lease while the outer decode holds the lease.
        SEQ_INPUT.with(|s| s.set(0));
        Scope { prev }
    }
    #[cfg(not(feature = "std"))]
    {
        let _ = limit;
        Scope {}
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        #[cfg(feature = "std")]
        {
            OPEN.with(|o| o.set(self.prev));
            SEQ_INPUT.with(|s| s.set(0));
        }
    }
}

/// Charges `bytes` to the open budget, if one is open.
pub(crate) fn charge(bytes: usize) -> Result<(), OverBudget> {
    #[cfg(feature = "std")]
    {
        OPEN.with(|o| match o.get() {
            None => Ok(()),
            Some(mut b) => match b.left.checked_sub(bytes) {
                Some(left) => {
                    b.left = left;
                    o.set(Some(b));
                    Ok(())
                }
                None => {
                    b.left = 0;
                    b.tripped = true;
                    o.set(Some(b));
                    Err(OverBudget)
                }
            },
        })
    }
    #[cfg(not(feature = "std"))]
    {
        let _ = bytes;
        Ok(())
    }
}

/// Charges `n` values of type `T`.
pub(crate) fn charge_for<T>(n: usize) -> Result<(), OverBudget> {
    charge(n.saturating_mul(core::mem::size_of::<T>()))
}

/// The limit of the open budget, if a charge against it failed (and clears
/// the mark, so that one failure is reported once).
pub(crate) fn take_tripped() -> Option<usize> {
    #[cfg(feature = "std")]
    {
        OPEN.with(|o| match o.get() {
            Some(mut b) if b.tripped => {
                b.tripped = false;
                o.set(Some(b));
                Some(b.limit)
            }
            _ => None,
        })
    }
    #[cfg(not(feature = "std"))]
    {
        None
    }
}

/// How many bytes a [`Lease`] may reserve for each input byte left, and
/// the most bytes an element of a leased collection may take per input
/// byte it needs (`collect::leasable`). The densest valid collection of
/// the crate, the siblings of an `MvRegister<String>` (3 input bytes for a
/// 40-byte `(Dot, String)`, 13.3), fits. A lie costs at most this much of
/// the bytes left once, plus its elements' strings (one byte per input
/// byte); an honest leased collection holds at most this much of the bytes
/// it read. Both stay under C4's 16 × input together with the rest of a
/// decode, as `c4_*` in `tests/encoding_bad_input.rs` measure.
#[cfg_attr(not(feature = "std"), allow(dead_code))]
pub(crate) const LEASE_RATIO: usize = 14;

/// Notes that the compact reader has just read the count of a sequence,
/// with `input` bytes left after it (the count is at most `input`).
pub(crate) fn note_seq(input: usize) {
    #[cfg(feature = "std")]
    SEQ_INPUT.with(|s| s.set(input));
    #[cfg(not(feature = "std"))]
    let _ = input;
}

/// The right of one collection at a time to trust its declared count: to
/// reserve all of it at once, so that its elements are never copied. Held
/// until dropped.
///
/// A count alone proves nothing, so a lease is granted only inside a
/// compact decode with a budget open, to the visitor that asks before the
/// sequence's first element is read ([`note_seq`]), and only when the
/// reservation is at most [`LEASE_RATIO`] times the input bytes left: a
/// liar then wastes at most that much before the elements it claimed fail
/// to parse and the decode ends. Only one lease is out at a time (decodes
/// nested in a decode included), and only collections of flat, dense
/// enough elements ask for one (`collect::leasable`): nothing nested in a
/// leased collection reserves from its count or gathers blocks.
#[cfg_attr(not(feature = "std"), allow(dead_code))]
pub(crate) struct Lease {
    /// Not `Send`: the flag it clears when dropped is this thread's.
    _thread: core::marker::PhantomData<*const ()>,
}

/// A [`Lease`] to reserve `bytes` at once for the sequence whose count was
/// read last, if one may be granted; takes that sequence's note either way.
pub(crate) fn lease(bytes: usize) -> Option<Lease> {
    #[cfg(feature = "std")]
    {
        let input = SEQ_INPUT.with(|s| s.replace(0));
        let open = OPEN.with(|o| o.get().is_some());
        let granted =
            open && bytes <= input.saturating_mul(LEASE_RATIO) && !LEASED.with(|l| l.replace(true));
        // Not `then_some`: it would build a `Lease` eagerly, and dropping
        // a refused one would clear the holder's flag.
        if granted {
            Some(Lease {
                _thread: core::marker::PhantomData,
            })
        } else {
            None
        }
    }
    #[cfg(not(feature = "std"))]
    {
        let _ = bytes;
        None
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        #[cfg(feature = "std")]
        LEASED.with(|l| l.set(false));
    }
}

/// What a visitor or a check refuses an input for.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// The value breaks an invariant.
    Invalid(crate::error::InvariantViolation),
    /// Decoding it would allocate past [`Limits::max_alloc`](super::Limits::max_alloc).
    OverBudget,
    /// A map would hold more entries than a map can (2^32 - 1).
    TooManyEntries,
}

impl From<crate::error::InvariantViolation> for Refusal {
    fn from(v: crate::error::InvariantViolation) -> Self {
        Refusal::Invalid(v)
    }
}

impl From<OverBudget> for Refusal {
    fn from(_: OverBudget) -> Self {
        Refusal::OverBudget
    }
}

/// The serde error for a refusal (see [`super::violation`]).
pub(crate) fn refuse<E: serde::de::Error>(r: Refusal) -> E {
    match r {
        Refusal::Invalid(v) => super::violation::reject(v),
        Refusal::OverBudget => over_budget(OverBudget),
        Refusal::TooManyEntries => E::custom("a map holds at most 2^32 - 1 entries"),
    }
}

/// The serde error for a failed charge: the compact decoder turns it into
/// [`DecodeError::AllocLimit`](super::DecodeError::AllocLimit).
pub(crate) fn over_budget<E: serde::de::Error>(_: OverBudget) -> E {
    E::custom("the decode would allocate more than Limits::max_alloc")
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    #[test]
    fn c4_a_lease_needs_an_open_budget_a_fresh_count_and_input_behind_it() {
        // No budget open (another format): never.
        note_seq(1000);
        assert!(lease(1).is_none());

        let _scope = open(usize::MAX);
        // No count read yet.
        assert!(lease(1).is_none());
        // At most LEASE_RATIO bytes per input byte left.
        note_seq(100);
        assert!(lease(100 * LEASE_RATIO + 1).is_none());
        // The note is taken by the first visitor that asks.
        assert!(lease(1).is_none());
        note_seq(100);
        let held = lease(100 * LEASE_RATIO);
        assert!(held.is_some());
        // One lease at a time: a nested collection reserves nothing.
        note_seq(100);
        assert!(lease(1).is_none());
        drop(held);
        note_seq(100);
        assert!(lease(1).is_some());
    }

    #[test]
    fn c4_one_lease_at_a_time_nested_decodes_included() {
        let outer = open(usize::MAX);
        note_seq(10);
        let held = lease(10);
        assert!(held.is_some());
        {
            // A decode nested in this one (a type parameter's impl) reads
            // bytes of the outer input: no second lease.
            let _inner = open(usize::MAX);
            note_seq(10);
            assert!(lease(10).is_none());
        }
        note_seq(10);
        assert!(lease(10).is_none(), "the outer lease is still held");
        drop(held);
        {
            // Nor does a nested decode take a note of the outer one.
            note_seq(10);
            let _inner = open(usize::MAX);
            assert!(lease(10).is_none());
            note_seq(10);
            assert!(lease(10).is_some());
        }
        drop(outer);
        note_seq(10);
        assert!(lease(10).is_none(), "no budget open");
    }
}
