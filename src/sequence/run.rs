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

/// The content of a run: a sequence of units kept in a buffer of storage
/// elements (list values, or the UTF-8 bytes of a text).
///
/// A [`Run`] reads its units from a start offset into the buffer, so that a
/// split can leave the larger side where it is and copy only the smaller
/// one (C6: a long run split at every unit costs O(n log n), not O(n²)).
/// Offsets below are storage offsets; `n` is the number of units stored
/// from the given offset, which the run knows (its `len`).
pub(crate) trait Content: Clone + Default + PartialEq + Debug {
    /// What the units read as: a slice of values, or a `str`.
    type View: ?Sized + PartialEq + Debug;
    /// Number of units stored from `from` (O(stored length) for text; only
    /// decode checks call it).
    fn units(&self, from: usize) -> usize;
    /// Length of the buffer in storage elements.
    fn stored(&self) -> usize;
    /// Storage elements allocated on the heap (0 when held inline).
    fn allocated(&self) -> usize;
    /// The units stored from `from` (empty if `from` is out of range).
    fn view(&self, from: usize) -> &Self::View;
    /// The storage offset, counted from `from`, of unit `k` of the `n`
    /// units stored from `from` (`k ≤ n`): O(min(k, n - k)).
    fn offset(&self, from: usize, k: usize, n: usize) -> usize;
    /// A new content of exactly storage `[a, b)`.
    fn copy(&self, a: usize, b: usize) -> Self;
    /// Keeps storage `[0, at)`.
    fn truncate(&mut self, at: usize);
    /// Drops storage `[0, from)` and gives back the spare capacity.
    fn compact(&mut self, from: usize);
    /// Appends `other`'s storage from `from` on.
    fn append_from(&mut self, other: Self, from: usize);

    /// A copy of units `[from, to)` of the whole content (of `n` units).
    fn slice_units(&self, from: usize, to: usize, n: usize) -> Self {
        let a = self.offset(0, from, n);
        let b = a + self.offset(a, to - from, n - from);
        self.copy(a, b)
    }
}

impl<T: Clone + PartialEq + Debug> Content for Vec<T> {
    type View = [T];
    fn units(&self, from: usize) -> usize {
        self.len().saturating_sub(from)
    }
    fn stored(&self) -> usize {
        self.len()
    }
    fn allocated(&self) -> usize {
        self.capacity()
    }
    fn view(&self, from: usize) -> &[T] {
        self.get(from..).unwrap_or_default()
    }
    fn offset(&self, from: usize, k: usize, _n: usize) -> usize {
        k.min(self.len().saturating_sub(from))
    }
    fn copy(&self, a: usize, b: usize) -> Self {
        self.get(a..b).map_or_else(Vec::new, <[T]>::to_vec)
    }
    fn truncate(&mut self, at: usize) {
        Vec::truncate(self, at);
    }
    fn compact(&mut self, from: usize) {
        self.drain(..from.min(self.len()));
        self.shrink_to_fit();
    }
    fn append_from(&mut self, mut other: Self, from: usize) {
        if from == 0 {
            self.append(&mut other);
        } else {
            self.extend(other.drain(from.min(other.len())..));
        }
    }
}

/// Storage elements a split looks at or copies, counted in this crate's
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

/// Plain `String` content (the sequence's unit tests use it).
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
    fn offset(&self, from: usize, k: usize, n: usize) -> usize {
        utf8_offset(self.as_bytes().get(from..).unwrap_or_default(), k, n)
    }
    fn copy(&self, a: usize, b: usize) -> Self {
        self.get(a..b).map_or_else(String::new, String::from)
    }
    fn truncate(&mut self, at: usize) {
        if self.is_char_boundary(at) {
            String::truncate(self, at);
        }
    }
    fn compact(&mut self, from: usize) {
        if self.is_char_boundary(from) {
            self.drain(..from);
        }
        self.shrink_to_fit();
    }
    fn append_from(&mut self, other: Self, from: usize) {
        self.push_str(other.view(from));
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
        self.0
            .get(from..)
            .unwrap_or_default()
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
        core::str::from_utf8(self.0.get(from..).unwrap_or_default()).unwrap_or_default()
    }
    fn offset(&self, from: usize, k: usize, n: usize) -> usize {
        utf8_offset(self.0.get(from..).unwrap_or_default(), k, n)
    }
    fn copy(&self, a: usize, b: usize) -> Self {
        Utf8(smallvec::SmallVec::from_slice(
            self.0.get(a..b).unwrap_or_default(),
        ))
    }
    fn truncate(&mut self, at: usize) {
        self.0.truncate(at);
    }
    fn compact(&mut self, from: usize) {
        self.0.drain(..from.min(self.0.len()));
        self.0.shrink_to_fit();
    }
    fn append_from(&mut self, other: Self, from: usize) {
        self.0
            .extend_from_slice(other.0.get(from..).unwrap_or_default());
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
#[derive(Clone, Debug)]
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
            left,
            right,
            deleted: content.is_none(),
            start: 0,
            content: content.unwrap_or_default(),
        }
    }

    /// The units' values (empty for a tombstone).
    #[inline]
    pub(crate) fn content(&self) -> &C::View {
        self.content.view(self.start as usize)
    }

    /// The units' values, `None` for a tombstone.
    pub(crate) fn into_content(self) -> Option<C> {
        if self.deleted {
            None
        } else if self.start == 0 {
            Some(self.content)
        } else {
            Some(
                self.content
                    .copy(self.start as usize, self.content.stored()),
            )
        }
    }

    /// Units counted in the content (the checks compare it with `len`).
    pub(crate) fn content_units(&self) -> usize {
        self.content.units(self.start as usize)
    }

    /// A copy of the values of units `[from, to)` (`from ≤ to ≤ len`).
    pub(crate) fn content_slice(&self, from: u64, to: u64) -> C {
        let (s, n) = (self.start as usize, self.len as usize);
        let a = s + self.content.offset(s, from as usize, n);
        let b = a + self
            .content
            .offset(a, (to - from) as usize, n - from as usize);
        self.content.copy(a, b)
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
    ///
    /// Only the smaller side is copied (C6): when the head is smaller, it
    /// moves to a new buffer and the tail keeps this one from the split
    /// point on. Splitting a run of n units at every unit, in any order,
    /// then copies O(n log n) units in all, where copying the tail each
    /// time cost O(n²). A buffer kept with more than half of it spare
    /// (capacity, or storage before the split point) is compacted, so the
    /// memory stays linear too (C4); each compaction at least halves it.
    pub(crate) fn split(&mut self, k: u64) -> Self {
        debug_assert!(k > 0 && k < self.len);
        let mut tail = Run {
            id: self.unit(k),
            len: self.len - k,
            left: Some(self.unit(k - 1)),
            right: self.right,
            deleted: self.deleted,
            start: 0,
            content: C::default(),
        };
        self.len = k;
        if self.deleted {
            return tail;
        }
        let from = self.start as usize;
        let end = self.content.stored();
        let n = (self.len + tail.len) as usize;
        let at = (from + self.content.offset(from, k as usize, n)).min(end);
        match u32::try_from(at) {
            Ok(at32) if at - from < end - at => {
                work::add(at - from);
                let head = self.content.copy(from, at);
                tail.content = core::mem::replace(&mut self.content, head);
                tail.start = at32;
                self.start = 0;
                tail.release_spare();
            }
            _ => {
                work::add(end - at);
                tail.content = self.content.copy(at, end);
                self.content.truncate(at);
                self.release_spare();
            }
        }
        tail
    }

    /// Compacts the content once more than half of its buffer is spare.
    fn release_spare(&mut self) {
        let from = self.start as usize;
        let live = self.content.stored().saturating_sub(from);
        if self.content.allocated().max(self.content.stored()) / 2 > live {
            work::add(live);
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
            && next.left == Some(self.last())
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
            left: self.left_of(from),
            right: self.right,
            deleted: self.deleted,
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

        /// C6/C4: a run split again and again, at any unit of any piece,
        /// keeps every unit in order (for list, text and plain string
        /// content); each piece holds at most about twice its own units
        /// (its buffer is compacted once more than half is spare).
        #[test]
        fn repeated_splits_keep_units_and_stay_compact(
            text in "[a-z\u{e9}\u{1F600}]{1,200}",
            cuts in proptest::collection::vec((any::<u16>(), any::<u16>()), 0..120),
        ) {
            let n = text.chars().count() as u64;
            let list: Vec<char> = text.chars().collect();
            fn mk<C: Content>(n: u64, c: C) -> Run<C> {
                Run::new(Dot::new(ReplicaId::new(3), 10), n, None, None, Some(c))
            }
            fn pieces<C: Content>(mut all: Vec<Run<C>>, cuts: &[(u16, u16)]) -> Vec<Run<C>> {
                for &(p, k) in cuts {
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
            /// At most twice the piece's own storage (inline text, up to
            /// 16 bytes, is never compacted: it costs no heap).
            fn compact<C: Content>(p: &Run<C>) -> bool {
                let live = p.content.stored() - p.start as usize;
                p.content.allocated().max(p.content.stored()) <= 2 * live + 16
            }
            let t = pieces(alloc::vec![mk(n, Utf8::from(text.as_str()))], &cuts);
            let v = pieces(alloc::vec![mk(n, list.clone())], &cuts);
            let s = pieces(alloc::vec![mk(n, text.clone())], &cuts);
            prop_assert_eq!(t.len(), v.len());
            let joined: String = t.iter().map(|p| p.content()).collect();
            prop_assert_eq!(&joined, &text);
            let joined: String = s.iter().map(|p| p.content()).collect();
            prop_assert_eq!(&joined, &text);
            let joined: Vec<char> = v.iter().flat_map(|p| p.content().iter().copied()).collect();
            prop_assert_eq!(&joined, &list);
            for ((a, b), c) in t.iter().zip(&v).zip(&s) {
                prop_assert_eq!(a.content_units() as u64, a.len);
                prop_assert_eq!(b.content_units() as u64, b.len);
                prop_assert_eq!(c.content_units() as u64, c.len);
                prop_assert!(compact(a), "{:?}: {} stored, {} allocated", a, a.content.stored(), a.content.allocated());
                prop_assert!(compact(b), "{:?}: {} stored, {} allocated", b, b.content.stored(), b.content.allocated());
                prop_assert_eq!(&a.clone(), a);
            }
            // Put back together, the pieces are the original run.
            let mut whole = t.into_iter();
            let Some(mut first) = whole.next() else {
                return Err(TestCaseError::fail("no pieces"));
            };
            for p in whole {
                prop_assert!(first.can_append(&p));
                first.append(p);
            }
            prop_assert_eq!(first, mk(n, Utf8::from(text.as_str())));
        }
    }

    /// A split leaves the larger side in place: splitting near the start
    /// moves the head out, and the tail reads its units from an offset.
    #[test]
    fn a_split_copies_the_smaller_side() {
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
        assert_eq!(a.content.stored(), 20);
        let mut c = Run::new(
            Dot::new(r, 1),
            100,
            None,
            None,
            Some((0..100u64).collect::<Vec<_>>()),
        );
        let d = c.split(90);
        assert_eq!((c.start, d.start), (0, 0));
        assert_eq!(d.content(), &(90..100u64).collect::<Vec<_>>()[..]);
        assert_eq!(c.content().len(), 90);
        // A tombstone drops the buffer and its start.
        let mut e = b;
        e.tombstone();
        assert_eq!(e.start, 0);
        assert_eq!(e.content(), "");
        assert_eq!(e.into_content(), None);
    }

    /// The start offset lives in the padding: a run is no larger for it.
    #[test]
    fn the_start_offset_costs_no_space() {
        assert_eq!(core::mem::size_of::<Run<Vec<u64>>>(), 104);
        assert_eq!(core::mem::size_of::<Run<Utf8>>(), 104);
    }
}

#[cfg(all(test, feature = "std"))]
mod c6 {
    use super::*;
    use crate::causal::ReplicaId;

    /// Splits a run of `n` units into single units, in the order `pick`
    /// gives (it picks the piece to split and where), and returns the
    /// storage elements scanned and copied.
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

    /// C6: splitting a run of n units at every unit, front to back, back
    /// to front or in a scattered order, scans and copies O(n log n)
    /// storage elements (n log2 n, with a factor 4 for 2-byte chars and
    /// compactions). Copying the tail at each split, as before, is about
    /// n²/2: 4 M elements here against a bound of 0.2 M.
    #[test]
    fn c6_splitting_a_run_at_every_unit_is_n_log_n() {
        const N: u64 = 1 << 12;
        let bound = |bytes_per_unit: usize| 4 * bytes_per_unit * (N as usize) * 12;
        let front = |all: &[Run<_>]| (all.len() - 1, 1);
        let back = |all: &[Run<_>]| (0, all[0].len - 1);
        for order in 0..3 {
            let mut seed = 0x2545_f491_4f6c_dd1d_u64;
            let mut scattered = move |all: &[Run<Utf8>]| {
                // Any piece longer than one unit, at any unit.
                loop {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let at = (seed % all.len() as u64) as usize;
                    if all[at].len > 1 {
                        return (at, (seed >> 32) % (all[at].len - 1) + 1);
                    }
                }
            };
            for text in ["\u{e9}", "a"] {
                let content = Utf8::from(text.repeat(N as usize).as_str());
                let spent = match order {
                    0 => split_all(N, content, front),
                    1 => split_all(N, content, back),
                    _ => split_all(N, content, &mut scattered),
                };
                assert!(
                    spent <= bound(text.len()),
                    "order {order}, {text:?}: {spent} elements"
                );
            }
            let content: Vec<u64> = (0..N).collect();
            let spent = match order {
                0 => split_all(N, content, |all: &[Run<Vec<u64>>]| (all.len() - 1, 1)),
                1 => split_all(N, content, |all: &[Run<Vec<u64>>]| (0, all[0].len - 1)),
                _ => split_all(N, content, |all: &[Run<Vec<u64>>]| {
                    let at = all.iter().position(|r| r.len > 1).unwrap_or(0);
                    (at, all[at].len / 2)
                }),
            };
            assert!(spent <= bound(1), "order {order}, list: {spent} elements");
        }
    }
}
