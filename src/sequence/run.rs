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

use alloc::collections::VecDeque;
#[cfg(test)]
use alloc::string::String;
use core::fmt::Debug;

use crate::causal::Dot;

/// How a split divided a run's storage (see [`Content::split_units`]).
pub(crate) enum Split<C> {
    /// The content kept the head; this is the tail, stored from 0.
    Tail(C),
    /// This is the head, stored from 0; the content kept the tail, stored
    /// from the given offset.
    Head(C, u32),
}

/// The content of a run: a sequence of units kept in a buffer of storage
/// elements (list values, or the UTF-8 bytes of a text).
///
/// A [`Run`] reads its units from a start offset into the buffer, so that a
/// split can leave the larger side where it is and take out only the
/// smaller one (C6: a long run split at every unit costs O(n log n), not
/// O(n²)). Offsets below are storage offsets; `n` is the number of units
/// stored from the given offset, which the run knows (its `len`).
pub(crate) trait Content: Clone + Default + PartialEq + Debug {
    /// What the units read as: the values, or a `str`.
    type View: ?Sized + PartialEq + Debug;
    /// Number of units stored from `from` (O(stored length) for text; only
    /// decode checks call it).
    fn units(&self, from: usize) -> usize;
    /// Length of the buffer in storage elements.
    fn stored(&self) -> usize;
    /// Storage elements allocated on the heap (0 when held inline).
    fn allocated(&self) -> usize;
    /// The units stored from `from`.
    fn view(&self, from: usize) -> &Self::View;
    /// A copy of units `[a, b)` of the `n` units stored from `from`.
    fn copy_units(&self, from: usize, a: usize, b: usize, n: usize) -> Self;
    /// Splits the `n` units stored from `from` at unit `k` (`0 < k < n`),
    /// taking out only the smaller side: O(min(k, n - k)).
    fn split_units(&mut self, from: usize, k: usize, n: usize) -> Split<Self>;
    /// Drops storage `[0, from)` and gives back the spare capacity.
    fn compact(&mut self, from: usize);
    /// Appends `other`'s units stored from `from`.
    fn append_from(&mut self, other: Self, from: usize);
    /// The first unit where two whole contents differ.
    fn first_difference(&self, other: &Self) -> Option<usize>;

    /// Whether the buffer, read from `from`, should be compacted: when the
    /// storage before `from` is more than the units held, or the capacity
    /// more than three times them. The gap between these and what an
    /// append leaves (at most twice the units) keeps a run that is both
    /// appended to and split from compacting on every split; the storage
    /// that triggers a compaction was paid for by the copies that removed
    /// it, so compactions cost O(1) per unit copied.
    fn needs_compact(&self, from: usize) -> bool {
        let live = self.stored().saturating_sub(from);
        from > live || self.allocated() > 3 * live
    }
}

/// List content: a ring buffer, so that either end of a run can be taken
/// out by moving only its own values (no clones, no values kept after the
/// run has let them go). A list run never has a start offset (`from` is
/// always 0 here).
impl<T: Clone + PartialEq + Debug> Content for VecDeque<T> {
    type View = VecDeque<T>;
    fn units(&self, _from: usize) -> usize {
        self.len()
    }
    fn stored(&self) -> usize {
        self.len()
    }
    fn allocated(&self) -> usize {
        self.capacity()
    }
    fn view(&self, from: usize) -> &VecDeque<T> {
        debug_assert_eq!(from, 0);
        self
    }
    fn copy_units(&self, from: usize, a: usize, b: usize, _n: usize) -> Self {
        debug_assert_eq!(from, 0);
        let b = b.min(self.len());
        self.range(a.min(b)..b).cloned().collect()
    }
    fn split_units(&mut self, from: usize, k: usize, _n: usize) -> Split<Self> {
        debug_assert_eq!(from, 0);
        let k = k.min(self.len());
        if k <= self.len() - k {
            work::add(k);
            Split::Head(self.drain(..k).collect(), 0)
        } else {
            work::add(self.len() - k);
            Split::Tail(self.split_off(k))
        }
    }
    fn compact(&mut self, _from: usize) {
        self.shrink_to_fit();
    }
    fn append_from(&mut self, mut other: Self, _from: usize) {
        self.append(&mut other);
    }
    fn first_difference(&self, other: &Self) -> Option<usize> {
        self.iter()
            .zip(other)
            .position(|(a, b)| a != b)
            .or((self.len() != other.len()).then(|| self.len().min(other.len())))
    }
}

/// Storage elements a split looks at or moves, counted in this crate's
/// unit tests (the C6 test bounds them: no timing in tests).
#[cfg(all(test, feature = "std"))]
pub(crate) mod work {
    std::thread_local! {
        static WORK: core::cell::Cell<usize> = const { core::cell::Cell::new(0) };
    }
    pub(crate) fn add(n: usize) {
        WORK.with(|w| w.set(w.get() + n));
    }
    pub(crate) fn take() -> usize {
        WORK.with(|w| w.replace(0))
    }
}
#[cfg(not(all(test, feature = "std")))]
mod work {
    #[inline(always)]
    pub(crate) fn add(_: usize) {}
}

/// Whether `b` starts a UTF-8 char (is not a continuation byte).
#[inline]
fn starts_char(b: u8) -> bool {
    b & 0xC0 != 0x80
}

/// The byte offset of char `k` of the `n` chars in the UTF-8 `bytes`
/// (`k ≤ n`), scanning from the nearer end: O(min(k, n - k)) chars. When
/// every char is one byte (`bytes.len() == n`) it is `k`.
fn utf8_offset(bytes: &[u8], k: usize, n: usize) -> usize {
    let len = bytes.len();
    if len == n || k == 0 {
        return k.min(len);
    }
    if k >= n {
        return len;
    }
    if k <= n - k {
        let mut seen = 0;
        for (i, &b) in bytes.iter().enumerate() {
            if starts_char(b) {
                if seen == k {
                    work::add(i);
                    return i;
                }
                seen += 1;
            }
        }
        work::add(len);
        len
    } else {
        // Unit `k` is the `(n - k)`-th char start counted from the end.
        let want = n - k;
        let mut seen = 0;
        for (i, &b) in bytes.iter().enumerate().rev() {
            if starts_char(b) {
                seen += 1;
                if seen == want {
                    work::add(len - i);
                    return i;
                }
            }
        }
        work::add(len);
        0
    }
}

/// Byte offset of char `k` in `s` (`s.len()` when `k` is the char count).
pub(crate) fn char_to_byte(s: &str, k: usize) -> usize {
    if s.is_ascii() {
        return k.min(s.len());
    }
    s.char_indices().nth(k).map_or(s.len(), |(b, _)| b)
}

/// Where a UTF-8 buffer's `n` chars stored from `from` split at char `k`,
/// and whether the head (`[from, at)`) is the smaller side and can be
/// taken out with the tail kept from `at` (which must fit a run's start).
fn utf8_cut(bytes: &[u8], from: usize, k: usize, n: usize) -> (usize, bool) {
    let at = from + utf8_offset(bytes.get(from..).unwrap_or_default(), k, n);
    let at = at.min(bytes.len());
    let head = at - from.min(at) < bytes.len() - at && u32::try_from(at).is_ok();
    work::add(if head {
        at - from.min(at)
    } else {
        bytes.len() - at
    });
    (at, head)
}

/// The first char where two strings differ.
fn first_char_difference(a: &str, b: &str) -> Option<usize> {
    a.chars()
        .zip(b.chars())
        .position(|(x, y)| x != y)
        .or((a.len() != b.len()).then(|| a.chars().count().min(b.chars().count())))
}

/// Plain `String` content (the sequence's unit tests use it).
#[cfg(test)]
impl Content for String {
    type View = str;
    fn units(&self, from: usize) -> usize {
        self.view(from).chars().count()
    }
    fn stored(&self) -> usize {
        self.len()
    }
    fn allocated(&self) -> usize {
        self.capacity()
    }
    fn view(&self, from: usize) -> &str {
        self.get(from..).unwrap_or_default()
    }
    fn copy_units(&self, from: usize, a: usize, b: usize, n: usize) -> Self {
        let s = self.view(from);
        let i = utf8_offset(s.as_bytes(), a, n);
        let j = i + utf8_offset(s.as_bytes().get(i..).unwrap_or_default(), b - a, n - a);
        s.get(i..j).map_or_else(String::new, String::from)
    }
    fn split_units(&mut self, from: usize, k: usize, n: usize) -> Split<Self> {
        let (at, head) = utf8_cut(self.as_bytes(), from, k, n);
        assert!(self.is_char_boundary(at), "split inside a char");
        match u32::try_from(at) {
            Ok(at32) if head => Split::Head(
                self.view(from).get(..at - from).unwrap_or_default().into(),
                at32,
            ),
            _ => {
                let tail = String::from(self.get(at..).unwrap_or_default());
                self.truncate(at);
                Split::Tail(tail)
            }
        }
    }
    fn compact(&mut self, from: usize) {
        self.drain(..from);
        self.shrink_to_fit();
    }
    fn append_from(&mut self, other: Self, from: usize) {
        self.push_str(other.view(from));
    }
    fn first_difference(&self, other: &Self) -> Option<usize> {
        first_char_difference(self, other)
    }
}

/// UTF-8 text stored inline up to 16 bytes (a keystroke's delta, a short
/// run, a split piece: no allocation), on the heap beyond.
///
/// Invariant: the bytes are valid UTF-8 — they only ever come from a `&str`
/// and are cut at char boundaries. Reads go through the checked
/// `str::from_utf8`, so a broken invariant could only show as empty text,
/// never as undefined behaviour.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Utf8(smallvec::SmallVec<[u8; 16]>);

impl Utf8 {
    /// The whole text.
    pub(crate) fn as_str(&self) -> &str {
        self.view(0)
    }

    fn bytes(&self, a: usize, b: usize) -> &[u8] {
        self.0.get(a..b.min(self.0.len())).unwrap_or_default()
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
    type View = str;
    fn units(&self, from: usize) -> usize {
        self.bytes(from, usize::MAX)
            .iter()
            .filter(|&&b| starts_char(b))
            .count()
    }
    fn stored(&self) -> usize {
        self.0.len()
    }
    fn allocated(&self) -> usize {
        if self.0.spilled() {
            self.0.capacity()
        } else {
            0
        }
    }
    fn view(&self, from: usize) -> &str {
        core::str::from_utf8(self.bytes(from, usize::MAX)).unwrap_or_default()
    }
    fn copy_units(&self, from: usize, a: usize, b: usize, n: usize) -> Self {
        let s = self.bytes(from, usize::MAX);
        let i = utf8_offset(s, a, n);
        let j = i + utf8_offset(s.get(i..).unwrap_or_default(), b - a, n - a);
        Utf8(smallvec::SmallVec::from_slice(
            s.get(i..j).unwrap_or_default(),
        ))
    }
    fn split_units(&mut self, from: usize, k: usize, n: usize) -> Split<Self> {
        let (at, head) = utf8_cut(&self.0, from, k, n);
        match u32::try_from(at) {
            Ok(at32) if head => Split::Head(
                Utf8(smallvec::SmallVec::from_slice(self.bytes(from, at))),
                at32,
            ),
            _ => {
                let tail = Utf8(smallvec::SmallVec::from_slice(self.bytes(at, usize::MAX)));
                self.0.truncate(at);
                Split::Tail(tail)
            }
        }
    }
    fn compact(&mut self, from: usize) {
        self.0.drain(..from.min(self.0.len()));
        self.0.shrink_to_fit();
    }
    fn append_from(&mut self, other: Self, from: usize) {
        self.0.extend_from_slice(other.bytes(from, usize::MAX));
    }
    fn first_difference(&self, other: &Self) -> Option<usize> {
        first_char_difference(self.as_str(), other.as_str())
    }
}

/// The whole buffer: a run serialises its own units through
/// [`Run::into_content`], which copies them out from its start.
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

/// An origin in a dot's 16 bytes (an `Option<Dot>` takes 24): counters
/// start at 1, so counter 0 stands for none (an origin with counter 0
/// reads as none; decoding checks the origins as read and rejects it:
/// `ZeroDot`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Origin(Dot);

impl Origin {
    /// Every "none" packs to the same dot, so origins compare as options.
    #[inline]
    fn new(o: Option<Dot>) -> Self {
        match o {
            Some(d) if d.counter != 0 => Origin(d),
            _ => Origin(Dot::new(crate::causal::ReplicaId::new(0), 0)),
        }
    }

    #[inline]
    fn get(self) -> Option<Dot> {
        (self.0.counter != 0).then_some(self.0)
    }
}

/// One run of units (see the module docs for its meaning).
#[derive(Clone, Debug)]
pub(crate) struct Run<C> {
    /// Id of the first unit.
    pub(crate) id: Dot,
    /// Number of units, ≥ 1.
    pub(crate) len: u64,
    /// Origin-left of the first unit (none: the start of the sequence).
    left: Origin,
    /// Origin-right of every unit (none: the end of the sequence).
    right: Origin,
    /// Whether the units are deleted (tombstones).
    pub(crate) deleted: bool,
    /// Whether the run waits for its right origin (else for its left):
    /// meaningful only while it is pending, so that pending needs no key
    /// beside the run (it sits in the padding after `deleted`, as `start`
    /// does; equality ignores it).
    waits_right: bool,
    /// Where the units start in `content`: storage before it belongs to
    /// a run this one was split from (it sits in the padding after
    /// `deleted`, so a run is no larger for it).
    start: u32,
    /// The units' values from `start` on; empty when deleted (a tombstone
    /// costs O(1) bytes).
    content: C,
}

impl<C: Content> PartialEq for Run<C> {
    /// Equal units: where each run's storage starts does not matter.
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.len == other.len
            && self.left == other.left
            && self.right == other.right
            && self.deleted == other.deleted
            && self.content() == other.content()
    }
}

impl<C: Content> Run<C> {
    /// A run of `len` units from `id`; `content` `None` is a tombstone.
    pub(crate) fn new(
        id: Dot,
        len: u64,
        left: Option<Dot>,
        right: Option<Dot>,
        content: Option<C>,
    ) -> Self {
        Run {
            id,
            len,
            left: Origin::new(left),
            right: Origin::new(right),
            deleted: content.is_none(),
            waits_right: false,
            start: 0,
            content: content.unwrap_or_default(),
        }
    }

    /// The origin a pending run waits for (see [`Self::wait_for`]); its
    /// key in pending.
    #[inline]
    pub(crate) fn waiting_for(&self) -> Dot {
        if self.waits_right {
            self.right.0
        } else {
            self.left.0
        }
    }

    /// Marks the run as waiting for `missing`, one of its origins (the left
    /// one, if both are `missing`).
    #[inline]
    pub(crate) fn wait_for(&mut self, missing: Dot) {
        self.waits_right = self.left.get() != Some(missing);
        debug_assert_eq!(self.waiting_for(), missing);
    }

    /// The units' values (empty for a tombstone).
    #[inline]
    pub(crate) fn content(&self) -> &C::View {
        self.content.view(self.start as usize)
    }

    /// The units' values, `None` for a tombstone.
    #[cfg_attr(not(feature = "serde"), allow(dead_code))]
    pub(crate) fn into_content(self) -> Option<C> {
        if self.deleted {
            None
        } else if self.start == 0 {
            Some(self.content)
        } else {
            let n = self.len as usize;
            Some(self.content.copy_units(self.start as usize, 0, n, n))
        }
    }

    /// Units counted in the content (the checks compare it with `len`).
    pub(crate) fn content_units(&self) -> usize {
        self.content.units(self.start as usize)
    }

    /// A copy of the values of units `[from, to)` (`from ≤ to ≤ len`).
    pub(crate) fn content_slice(&self, from: u64, to: u64) -> C {
        self.content.copy_units(
            self.start as usize,
            from as usize,
            to as usize,
            self.len as usize,
        )
    }

    /// Marks every unit deleted and drops the content.
    pub(crate) fn tombstone(&mut self) {
        self.deleted = true;
        self.start = 0;
        self.content = C::default();
    }

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

    /// Origin-left of the first unit (`None`: the start of the sequence).
    #[inline]
    pub(crate) fn left(&self) -> Option<Dot> {
        self.left.get()
    }

    /// Origin-right of every unit (`None`: the end of the sequence).
    #[inline]
    pub(crate) fn right(&self) -> Option<Dot> {
        self.right.get()
    }

    /// Origin-left of unit `k`.
    #[inline]
    pub(crate) fn left_of(&self, k: u64) -> Option<Dot> {
        if k == 0 {
            self.left()
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
    ///
    /// Only the smaller side is taken out (C6, [`Content::split_units`]):
    /// when the head is smaller, it goes to a new buffer and the tail keeps
    /// this one (a text's from the split point on). Splitting a run of n
    /// units at every unit, in any order, then moves O(n log n) units in
    /// all, where copying the tail each time cost O(n²). The side that
    /// keeps the buffer is compacted when [`Content::needs_compact`], so
    /// memory stays linear too (C4).
    pub(crate) fn split(&mut self, k: u64) -> Self {
        debug_assert!(k > 0 && k < self.len);
        let mut tail = Run {
            id: self.unit(k),
            len: self.len - k,
            left: Origin::new(Some(self.unit(k - 1))),
            right: self.right,
            deleted: self.deleted,
            waits_right: false,
            start: 0,
            content: C::default(),
        };
        let n = self.len as usize;
        self.len = k;
        if self.deleted {
            return tail;
        }
        match self.content.split_units(self.start as usize, k as usize, n) {
            Split::Tail(c) => {
                tail.content = c;
                self.release_spare();
            }
            Split::Head(head, at) => {
                tail.content = core::mem::replace(&mut self.content, head);
                tail.start = at;
                self.start = 0;
                tail.release_spare();
            }
        }
        tail
    }

    /// Compacts the content when it holds too much besides the run's units.
    fn release_spare(&mut self) {
        let from = self.start as usize;
        if self.content.needs_compact(from) {
            work::add(self.content.stored().saturating_sub(from));
            self.content.compact(from);
            self.start = 0;
        }
    }

    /// Whether `next` continues this run unit for unit (so `append` keeps
    /// every unit's meaning).
    #[inline]
    pub(crate) fn can_append(&self, next: &Self) -> bool {
        next.id.replica == self.id.replica
            && next.id.counter == self.end()
            && next.left() == Some(self.last())
            && next.right == self.right
            && next.deleted == self.deleted
    }

    /// Appends `next` (requires `can_append`).
    pub(crate) fn append(&mut self, next: Self) {
        debug_assert!(self.can_append(&next));
        self.len += next.len;
        if !self.deleted {
            let from = next.start as usize;
            self.content.append_from(next.content, from);
        }
    }

    /// Units `[from, to)` as a run (`from < to ≤ len`).
    pub(crate) fn slice(&self, from: u64, to: u64) -> Self {
        debug_assert!(from < to && to <= self.len);
        Run {
            id: self.unit(from),
            len: to - from,
            left: Origin::new(self.left_of(from)),
            right: self.right,
            deleted: self.deleted,
            waits_right: false,
            start: 0,
            content: if self.deleted {
                C::default()
            } else {
                self.content_slice(from, to)
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
        Run::new(
            Dot::new(r, 10),
            text.chars().count() as u64,
            Some(Dot::new(ReplicaId::new(1), 4)),
            None,
            (!deleted).then(|| text.to_string()),
        )
    }

    /// The pending flag and the buffer offset sit in padding: a text run
    /// is 88 bytes and a list run 96 (decoding memory, C4).
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn runs_keep_their_size() {
        assert_eq!(core::mem::size_of::<Run<Utf8>>(), 88);
        assert_eq!(
            core::mem::size_of::<Run<alloc::collections::VecDeque<u64>>>(),
            96
        );
    }

    #[test]
    fn a_pending_run_waits_for_the_origin_it_was_parked_on() {
        let (a, b) = (
            Dot::new(ReplicaId::new(1), 4),
            Dot::new(ReplicaId::new(2), 7),
        );
        let mut r: Run<String> =
            Run::new(Dot::new(ReplicaId::new(3), 1), 1, Some(a), Some(b), None);
        r.wait_for(b);
        assert_eq!(r.waiting_for(), b);
        r.wait_for(a);
        assert_eq!(r.waiting_for(), a);
        // Both origins the same unit (forged): the left one.
        let mut same: Run<String> =
            Run::new(Dot::new(ReplicaId::new(3), 1), 1, Some(a), Some(a), None);
        same.wait_for(a);
        assert_eq!(same.waiting_for(), a);
        assert!(!same.waits_right);
    }

    type Unit = (Dot, Option<Dot>, Option<Dot>, Option<char>);

    fn units(r: &Run<String>) -> Vec<Unit> {
        let chars: Vec<char> = r.content().chars().collect();
        (0..r.len)
            .map(|k| {
                let c = if r.deleted {
                    None
                } else {
                    Some(chars[k as usize])
                };
                (r.unit(k), r.left_of(k), r.right(), c)
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

        /// C6/C4: a run split again and again at any unit of any piece,
        /// and appended to at its end, keeps every unit in order (list,
        /// text and plain string content), and each piece holds at most
        /// about four times its own storage (three times its units of
        /// capacity and no more storage before its start than units after
        /// a split, which appends may then double).
        #[test]
        fn splits_and_appends_keep_units_and_stay_compact(
            text in "[a-z\u{e9}\u{1F600}]{1,200}",
            ops in proptest::collection::vec((any::<bool>(), any::<u16>(), any::<u16>()), 0..160),
        ) {
            fn mk<C: Content>(counter: u64, n: u64, left: Option<Dot>, c: C) -> Run<C> {
                Run::new(Dot::new(ReplicaId::new(3), counter), n, left, None, Some(c))
            }
            /// Applies `ops` (split a piece at a unit; or append `more`'s
            /// next char to the last piece) and returns the pieces.
            fn play<C: Content>(
                first: Run<C>,
                more: &[C],
                ops: &[(bool, u16, u16)],
            ) -> Vec<Run<C>> {
                let mut all = alloc::vec![first];
                let mut next = 0;
                for &(append, p, k) in ops {
                    if append {
                        let Some(c) = more.get(next) else { continue };
                        next += 1;
                        let Some(last) = all.last_mut() else { continue };
                        let x = mk(last.end(), 1, Some(last.last()), c.clone());
                        last.append(x);
                        continue;
                    }
                    let at = usize::from(p) % all.len();
                    if all[at].len < 2 {
                        continue;
                    }
                    let k = u64::from(k) % (all[at].len - 1) + 1;
                    let tail = all[at].split(k);
                    all.insert(at + 1, tail);
                }
                all
            }
            fn compact<C: Content>(p: &Run<C>) -> bool {
                let live = p.content.stored() - p.start as usize;
                // Inline text (16 bytes) costs no heap and is left as it is.
                p.content.allocated().max(p.content.stored()) <= 4 * live + 16
            }
            let n = text.chars().count() as u64;
            let chars: Vec<char> = text.chars().collect();
            let extra: Vec<char> = chars.iter().rev().copied().collect();
            let t = play(
                mk(10, n, None, Utf8::from(text.as_str())),
                &extra.iter().map(|c| Utf8::from(c.to_string().as_str())).collect::<Vec<_>>(),
                &ops,
            );
            let v = play(
                mk(10, n, None, chars.iter().copied().collect::<VecDeque<char>>()),
                &extra.iter().map(|&c| VecDeque::from([c])).collect::<Vec<_>>(),
                &ops,
            );
            let s = play(
                mk(10, n, None, text.clone()),
                &extra.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
                &ops,
            );
            let appended = ops.iter().filter(|o| o.0).count().min(extra.len());
            let mut expect: Vec<char> = chars.clone();
            expect.extend(&extra[..appended]);
            let expect_text: String = expect.iter().collect();
            let joined: String = t.iter().map(|p| p.content()).collect();
            prop_assert_eq!(&joined, &expect_text);
            let joined: String = s.iter().map(|p| p.content()).collect();
            prop_assert_eq!(&joined, &expect_text);
            let joined: Vec<char> = v.iter().flat_map(|p| p.content().iter().copied()).collect();
            prop_assert_eq!(&joined, &expect);
            for ((a, b), c) in t.iter().zip(&v).zip(&s) {
                prop_assert_eq!(a.content_units() as u64, a.len);
                prop_assert_eq!(b.content_units() as u64, b.len);
                prop_assert_eq!(c.content_units() as u64, c.len);
                prop_assert!(compact(a), "{:?}: {} stored, {} allocated", a, a.content.stored(), a.content.allocated());
                prop_assert!(compact(b), "{:?}: {} stored, {} allocated", b, b.content.stored(), b.content.allocated());
                prop_assert!(compact(c), "{:?}: {} stored, {} allocated", c, c.content.stored(), c.content.allocated());
                // A copy holds the same units, from wherever they start.
                let copy = a.content_slice(0, a.len);
                prop_assert_eq!(copy.as_str(), a.content());
            }
            // Put back together, the pieces are one run of every unit.
            let mut whole = t.into_iter();
            let Some(mut first) = whole.next() else {
                return Err(TestCaseError::fail("no pieces"));
            };
            for p in whole {
                prop_assert!(first.can_append(&p));
                first.append(p);
            }
            prop_assert_eq!(first.len, expect.len() as u64);
            prop_assert_eq!(first.into_content().map(|c| String::from(c.as_str())), Some(expect_text));
        }
    }

    /// A split leaves the larger side in place: splitting a text near the
    /// start copies the head out, and the tail reads its units from an
    /// offset; a list moves the smaller side's values out.
    #[test]
    fn a_split_moves_the_smaller_side() {
        let r = ReplicaId::new(3);
        let text = "\u{e9}".repeat(100);
        let mut a = Run::new(
            Dot::new(r, 1),
            100,
            None,
            None,
            Some(Utf8::from(text.as_str())),
        );
        let b = a.split(10);
        assert_eq!((a.start, b.start), (0, 20));
        assert_eq!((a.content(), b.content()), (&text[..20], &text[20..]));
        assert_eq!((a.content.stored(), b.content.stored()), (20, 200));
        let own = b
            .clone()
            .into_content()
            .map(|c| (c.stored(), String::from(c.as_str())));
        assert_eq!(own, Some((180, text[20..].to_string())));
        let mut c = a.clone();
        let d = c.split(9);
        assert_eq!(
            (c.start, d.start, c.content(), d.content()),
            (0, 0, &text[..18], &text[18..20])
        );
        let list = |r: core::ops::Range<u64>| r.collect::<VecDeque<u64>>();
        let mut e = Run::new(Dot::new(r, 1), 100, None, None, Some(list(0..100)));
        let f = e.split(90);
        assert_eq!((e.content(), f.content()), (&list(0..90), &list(90..100)));
        // The larger side keeps the buffer of 100 values; the smaller
        // side's values moved to a new one.
        assert!(e.content.allocated() >= 100 && f.content.allocated() < 90);
        let g = e.split(5);
        assert_eq!((e.content(), g.content()), (&list(0..5), &list(5..90)));
        assert!(g.content.allocated() >= 100 && e.content.allocated() < 85);
        // A tombstone drops the buffer and its start.
        let mut h = b;
        h.tombstone();
        assert_eq!((h.start, h.content()), (0, ""));
        assert_eq!(h.into_content(), None);
    }

    /// A list run's values move, never clone: a value held by a split
    /// piece lives exactly as long as the piece (no copy kept elsewhere).
    #[test]
    fn a_list_split_moves_values() {
        let r = ReplicaId::new(3);
        let values: VecDeque<alloc::rc::Rc<u8>> = (0..10).map(alloc::rc::Rc::new).collect();
        let probe = alloc::rc::Rc::clone(&values[1]);
        let mut a = Run::new(Dot::new(r, 1), 10, None, None, Some(values));
        let b = a.split(4);
        let c = a.split(1);
        assert_eq!(alloc::rc::Rc::strong_count(&probe), 2);
        drop((a, b));
        assert_eq!(alloc::rc::Rc::strong_count(&probe), 2);
        let mut c = c;
        c.tombstone();
        assert_eq!(alloc::rc::Rc::strong_count(&probe), 1);
    }

    /// A packed origin reads back as it was given, and every "none" (an
    /// origin with counter 0 included) is the same none.
    #[test]
    fn packed_origins_read_back() {
        let r = ReplicaId::new(5);
        let run = |left, right| Run::new(Dot::new(r, 9), 1, left, right, Some(Utf8::from("x")));
        let (a, b) = (Dot::new(ReplicaId::new(0), 3), Dot::new(r, 1));
        let x = run(Some(a), Some(b));
        assert_eq!(
            (x.left(), x.right(), x.left_of(0)),
            (Some(a), Some(b), Some(a))
        );
        let y = run(None, None);
        assert_eq!((y.left(), y.right()), (None, None));
        assert_eq!(run(Some(Dot::new(r, 0)), None), y);
    }

    /// The start offset lives in the padding: a text run is no larger for
    /// it than the same fields without it; and packed origins save 16
    /// bytes against two `Option<Dot>`s.
    #[test]
    fn the_start_offset_costs_no_space() {
        #[allow(dead_code)]
        struct Unpacked<C> {
            id: Dot,
            len: u64,
            left: Option<Dot>,
            right: Option<Dot>,
            deleted: bool,
            content: C,
        }
        fn check<C>() {
            assert_eq!(
                core::mem::size_of::<Run<C>>() + 16,
                core::mem::size_of::<Unpacked<C>>()
            );
        }
        check::<Utf8>();
        check::<VecDeque<u64>>();
    }
}

#[cfg(all(test, feature = "std"))]
mod c6 {
    use super::*;
    use crate::causal::ReplicaId;

    /// Splits a run of `n` units into single units, in the order `pick`
    /// gives (the piece to split, and where), and returns the storage
    /// elements scanned and moved.
    fn split_all<C: Content>(
        n: u64,
        content: C,
        mut pick: impl FnMut(&[Run<C>]) -> (usize, u64),
    ) -> usize {
        let mut all = alloc::vec![Run::new(
            Dot::new(ReplicaId::new(1), 1),
            n,
            None,
            None,
            Some(content)
        )];
        work::take();
        while all.len() < n as usize {
            let (at, k) = pick(&all);
            let tail = all[at].split(k);
            all.insert(at + 1, tail);
        }
        let spent = work::take();
        for (i, r) in all.iter().enumerate() {
            assert_eq!(
                (r.id.counter, r.len, r.content_units()),
                (1 + i as u64, 1, 1)
            );
        }
        spent
    }

    /// Front to back, back to front, or scattered (xorshift).
    fn order<C: Content>(which: u8) -> impl FnMut(&[Run<C>]) -> (usize, u64) {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        move |all: &[Run<C>]| match which {
            0 => (all.len() - 1, 1),
            1 => (0, all[0].len - 1),
            _ => loop {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let at = (seed % all.len() as u64) as usize;
                if all[at].len > 1 {
                    break (at, (seed >> 32) % (all[at].len - 1) + 1);
                }
            },
        }
    }

    const N: u64 = 1 << 12;
    /// n log2 n, times 4 for 2-byte chars and compactions. Taking the
    /// tail out at every split, as before, is about n²/2: 8 M elements for
    /// 1-byte units here, 16 M for 2-byte chars.
    fn bound(bytes_per_unit: usize) -> usize {
        4 * bytes_per_unit * (N as usize) * 12
    }

    /// C6: splitting a run of n units at every unit, in any order, scans
    /// and moves O(n log n) storage elements.
    #[test]
    fn c6_splitting_a_run_at_every_unit_is_n_log_n() {
        for which in 0..3 {
            for text in ["\u{e9}", "a"] {
                let content = Utf8::from(text.repeat(N as usize).as_str());
                let spent = split_all(N, content, order(which));
                assert!(
                    spent <= bound(text.len()),
                    "order {which}, {text:?}: {spent} elements"
                );
            }
            let spent = split_all(N, (0..N).collect::<VecDeque<u64>>(), order(which));
            assert!(spent <= bound(1), "order {which}, list: {spent} elements");
        }
    }

    /// C6: a run that is typed at its end by one replica while another
    /// deletes at its front (a chat window, a bounded log) is split near
    /// its start after every append. An append can double the buffer's
    /// capacity; had a split compacted whenever half of it was spare, each
    /// round here (one unit typed, two cut) would copy the whole run: 25 M
    /// elements for the list, 213 K for the text (its capacity grows by
    /// powers of two), against a bound of 65 K. With the slack between
    /// growth (at most 2×) and compaction (3×), a round costs O(1),
    /// amortised.
    #[test]
    fn c6_a_run_typed_at_its_end_and_cut_at_its_front_stays_linear() {
        fn rounds<C: Content>(first: C, one: impl Fn() -> C) -> usize {
            let mut run = Run::new(
                Dot::new(ReplicaId::new(1), 1),
                2 * N,
                None,
                None,
                Some(first),
            );
            work::take();
            for _ in 0..N {
                let more = Run::new(
                    Dot::new(run.id.replica, run.end()),
                    1,
                    Some(run.last()),
                    None,
                    Some(one()),
                );
                run.append(more);
                run = run.split(2);
            }
            assert_eq!(run.content_units() as u64, N);
            let live = run.content.stored() - run.start as usize;
            assert!(run.content.allocated() <= 4 * live && run.start as usize <= live);
            work::take()
        }
        let text = rounds(Utf8::from("\u{e9}".repeat(2 * N as usize).as_str()), || {
            Utf8::from("\u{e9}")
        });
        let list = rounds((0..2 * N).collect::<VecDeque<u64>>(), || {
            VecDeque::from([7])
        });
        assert!(text <= 16 * N as usize, "text: {text} elements");
        assert!(list <= 16 * N as usize, "list: {list} elements");
    }
}
