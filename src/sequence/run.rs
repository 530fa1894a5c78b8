//! Runs: consecutive units inserted by one replica, stored as one span.
//!
//! A run `r` stands for `r.len` units with ids `r.id`, `r.id + 1`, …. Unit
//! `k` has origin-left `r.left` when `k == 0` and unit `k - 1` otherwise; every
//! unit has origin-right `r.right`. This is exactly the shape sequential
//! typing produces, and the reason a run can be split anywhere and put back
//! together without changing its meaning.
//!
//! Span laws (property-tested in this module's tests):
//! - **split/append**: for `0 < k < r.len`, `let b = a.split(k)` leaves
//!   `a.can_append(&b)` true, and `a.append(b)` restores the original run.
//! - **slice**: `r.slice(i, j)` equals the run obtained by splitting at `i` and
//!   `j`; `r.slice(0, r.len) == r`.
//! - **units**: every operation preserves the per-unit meaning (id, origins,
//!   content, deleted flag) of every unit.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Debug;

use crate::causal::Dot;

/// The content of a run: a sequence of units that can be split and appended.
pub(crate) trait Content: Clone + Default + PartialEq + Debug {
    /// Number of units (list elements, or `char`s of a text).
    fn units(&self) -> usize;
    /// Keeps units `[0, at)` and returns units `[at, ..)`.
    fn split_off_units(&mut self, at: usize) -> Self;
    /// Appends `other`'s units.
    fn append_units(&mut self, other: Self);
    /// A copy of units `[from, to)`.
    fn slice_units(&self, from: usize, to: usize) -> Self;
}

/// Gives back the spare capacity of the head of a split once it is more
/// than half: a split copies the tail out and leaves the head's buffer as
/// it was, so splitting one long run at every other unit (items inserted
/// through it, in a decode or by local edits) would otherwise keep
/// memory quadratic in the run's length.
fn release_spare<T>(v: &mut Vec<T>) {
    if v.capacity() / 2 > v.len() {
        v.shrink_to_fit();
    }
}

impl<T: Clone + PartialEq + Debug> Content for Vec<T> {
    fn units(&self) -> usize {
        self.len()
    }
    fn split_off_units(&mut self, at: usize) -> Self {
        let tail = self.split_off(at);
        release_spare(self);
        tail
    }
    fn append_units(&mut self, mut other: Self) {
        self.append(&mut other);
    }
    fn slice_units(&self, from: usize, to: usize) -> Self {
        self[from..to].to_vec()
    }
}

/// Byte offset of char `k` in `s` (`s.len()` when `k` is the char count).
pub(crate) fn char_to_byte(s: &str, k: usize) -> usize {
    if s.is_ascii() {
        return k.min(s.len());
    }
    s.char_indices().nth(k).map_or(s.len(), |(b, _)| b)
}

impl Content for String {
    fn units(&self) -> usize {
        self.chars().count()
    }
    fn split_off_units(&mut self, at: usize) -> Self {
        let b = char_to_byte(self, at);
        let tail = self.split_off(b);
        if self.capacity() / 2 > self.len() {
            self.shrink_to_fit();
        }
        tail
    }
    fn append_units(&mut self, other: Self) {
        self.push_str(&other);
    }
    fn slice_units(&self, from: usize, to: usize) -> Self {
        let a = char_to_byte(self, from);
        let b = a + char_to_byte(&self[a..], to - from);
        String::from(&self[a..b])
    }
}

/// UTF-8 text stored inline up to 16 bytes (a keystroke's delta, a short
/// run, a split piece: no allocation), on the heap beyond.
///
/// Invariant: the bytes are valid UTF-8 — they only ever come from a `&str`
/// and are split at char boundaries. Reads go through the checked
/// `str::from_utf8`, so a broken invariant could only show as empty text,
/// never as undefined behaviour.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Utf8(smallvec::SmallVec<[u8; 16]>);

impl Utf8 {
    pub(crate) fn as_str(&self) -> &str {
        core::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl From<&str> for Utf8 {
    fn from(s: &str) -> Self {
        Utf8(smallvec::SmallVec::from_slice(s.as_bytes()))
    }
}

impl Debug for Utf8 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        Debug::fmt(self.as_str(), f)
    }
}

impl Content for Utf8 {
    fn units(&self) -> usize {
        self.as_str().chars().count()
    }
    fn split_off_units(&mut self, at: usize) -> Self {
        let b = char_to_byte(self.as_str(), at);
        let tail = Utf8(smallvec::SmallVec::from_slice(&self.0[b..]));
        self.0.truncate(b);
        // See `release_spare`.
        if self.0.capacity() / 2 > self.0.len() {
            self.0.shrink_to_fit();
        }
        tail
    }
    fn append_units(&mut self, other: Self) {
        self.0.extend_from_slice(&other.0);
    }
    fn slice_units(&self, from: usize, to: usize) -> Self {
        let s = self.as_str();
        let a = char_to_byte(s, from);
        let b = a + char_to_byte(&s[a..], to - from);
        Utf8::from(&s[a..b])
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Utf8 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Utf8 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Utf8;
            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Utf8, E> {
                Ok(Utf8::from(v))
            }
        }
        d.deserialize_str(V)
    }
}

/// One run of units (see the module docs for its meaning).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Run<C> {
    /// Id of the first unit.
    pub(crate) id: Dot,
    /// Number of units, ≥ 1.
    pub(crate) len: u64,
    /// Origin-left of the first unit (`None`: the start of the sequence).
    pub(crate) left: Option<Dot>,
    /// Origin-right of every unit (`None`: the end of the sequence).
    pub(crate) right: Option<Dot>,
    /// Whether the units are deleted (tombstones).
    pub(crate) deleted: bool,
    /// The units' values; empty when deleted (a tombstone costs O(1) bytes).
    pub(crate) content: C,
}

impl<C: Content> Run<C> {
    /// Counter one past the last unit.
    #[inline]
    pub(crate) fn end(&self) -> u64 {
        self.id.counter + self.len
    }

    /// Id of unit `k`.
    #[inline]
    pub(crate) fn unit(&self, k: u64) -> Dot {
        Dot::new(self.id.replica, self.id.counter + k)
    }

    /// Id of the last unit.
    #[inline]
    pub(crate) fn last(&self) -> Dot {
        self.unit(self.len - 1)
    }

    /// Whether the run holds the unit `d`.
    #[inline]
    pub(crate) fn contains(&self, d: Dot) -> bool {
        d.replica == self.id.replica && d.counter >= self.id.counter && d.counter < self.end()
    }

    /// Origin-left of unit `k`.
    #[inline]
    pub(crate) fn left_of(&self, k: u64) -> Option<Dot> {
        if k == 0 {
            self.left
        } else {
            Some(self.unit(k - 1))
        }
    }

    /// Visible units.
    #[inline]
    pub(crate) fn visible(&self) -> u64 {
        if self.deleted {
            0
        } else {
            self.len
        }
    }

    /// Keeps units `[0, k)` and returns units `[k, len)` (`0 < k < len`).
    pub(crate) fn split(&mut self, k: u64) -> Self {
        debug_assert!(k > 0 && k < self.len);
        let content = if self.deleted {
            C::default()
        } else {
            self.content.split_off_units(k as usize)
        };
        let tail = Run {
            id: self.unit(k),
            len: self.len - k,
            left: Some(self.unit(k - 1)),
            right: self.right,
            deleted: self.deleted,
            content,
        };
        self.len = k;
        tail
    }

    /// Whether `next` continues this run unit for unit (so `append` keeps
    /// every unit's meaning).
    #[inline]
    pub(crate) fn can_append(&self, next: &Self) -> bool {
        next.id.replica == self.id.replica
            && next.id.counter == self.end()
            && next.left == Some(self.last())
            && next.right == self.right
            && next.deleted == self.deleted
    }

    /// Appends `next` (requires `can_append`).
    pub(crate) fn append(&mut self, next: Self) {
        debug_assert!(self.can_append(&next));
        self.len += next.len;
        if !self.deleted {
            self.content.append_units(next.content);
        }
    }

    /// Units `[from, to)` as a run (`from < to ≤ len`).
    pub(crate) fn slice(&self, from: u64, to: u64) -> Self {
        debug_assert!(from < to && to <= self.len);
        Run {
            id: self.unit(from),
            len: to - from,
            left: self.left_of(from),
            right: self.right,
            deleted: self.deleted,
            content: if self.deleted {
                C::default()
            } else {
                self.content.slice_units(from as usize, to as usize)
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::causal::ReplicaId;
    use alloc::string::ToString;
    use proptest::prelude::*;

    fn run(text: &str, deleted: bool) -> Run<String> {
        let r = ReplicaId::new(3);
        Run {
            id: Dot::new(r, 10),
            len: text.chars().count() as u64,
            left: Some(Dot::new(ReplicaId::new(1), 4)),
            right: None,
            deleted,
            content: if deleted {
                String::new()
            } else {
                text.to_string()
            },
        }
    }

    type Unit = (Dot, Option<Dot>, Option<Dot>, Option<char>);

    fn units(r: &Run<String>) -> Vec<Unit> {
        let chars: Vec<char> = r.content.chars().collect();
        (0..r.len)
            .map(|k| {
                let c = if r.deleted {
                    None
                } else {
                    Some(chars[k as usize])
                };
                (r.unit(k), r.left_of(k), r.right, c)
            })
            .collect()
    }

    proptest! {
        /// Span law: split then append restores the run; the pieces keep
        /// every unit's meaning.
        #[test]
        fn split_append_law(text in "[a-zé😀]{2,12}", k in 1usize..12, deleted in any::<bool>()) {
            let original = run(&text, deleted);
            let k = (k as u64) % (original.len - 1) + 1;
            let mut a = original.clone();
            let b = a.split(k);
            let mut pieces = units(&a);
            pieces.extend(units(&b));
            prop_assert_eq!(pieces, units(&original));
            prop_assert!(a.can_append(&b));
            a.append(b);
            prop_assert_eq!(a, original);
        }

        /// Span law: a slice equals splitting at both ends.
        #[test]
        fn slice_law(text in "[a-zé😀]{1,12}", i in 0usize..12, j in 0usize..12) {
            let original = run(&text, false);
            let n = original.len as usize;
            let (i, j) = (i % n, j % n + 1);
            prop_assume!(i < j);
            let s = original.slice(i as u64, j as u64);
            let mut expect = original.clone();
            if (j as u64) < expect.len {
                expect.split(j as u64);
            }
            if i > 0 {
                expect = expect.split(i as u64);
            }
            prop_assert_eq!(s, expect);
            prop_assert_eq!(original.slice(0, original.len), original);
        }
    }
}
