//! `Text`: a replicated string indexed by Unicode scalar values.

use core::fmt;
use core::ops::Range;

use super::run::{char_to_byte, Utf8};
use super::seq::Seq;
use super::{Anchor, Bias, IndexError};
use crate::causal::{CausalContext, ReplicaId};

/// A replicated text (FugueMax order; see the [module docs](super)).
///
/// **Indexes count Unicode scalar values** (Rust `char`s). Editors that
/// count UTF-8 bytes or UTF-16 code units (browsers, LSP) convert with
/// [`utf8_to_char`](Self::utf8_to_char), [`char_to_utf8`](Self::char_to_utf8),
/// [`utf16_to_char`](Self::utf16_to_char) and
/// [`char_to_utf16`](Self::char_to_utf16). A multi-codepoint grapheme (an
/// emoji with modifiers, a letter with combining marks) is several `char`s:
/// each is an element, and concurrent edits keep each inserted passage
/// contiguous, so a grapheme inserted in one edit is never split by
/// another replica's concurrent insert.
///
/// ```
/// use converge::{Lattice, ReplicaId, Text};
/// let mut t = Text::new();
/// t.insert(ReplicaId::new(1), 0, "héllo 😀!")?;
/// assert_eq!(t.len(), 8);                       // chars
/// assert_eq!(t.len_utf8(), 12);                 // bytes
/// assert_eq!(t.len_utf16(), 9);                 // UTF-16 units
/// assert_eq!(t.char_to_utf8(7)?, 11);          // the "!" starts at byte 11
/// assert_eq!(t.utf16_to_char(8)?, 7);
/// t.delete(ReplicaId::new(1), 1..2)?;
/// assert_eq!(t.to_string(), "hllo 😀!");
/// # Ok::<(), converge::IndexError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Text {
    seq: Seq<Utf8>,
}

impl Text {
    /// The empty text.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty text whose pending buffer holds at most `limit` runs (see
    /// [`List::with_pending_limit`](crate::List::with_pending_limit)).
    pub fn with_pending_limit(limit: usize) -> Self {
        Text {
            seq: Seq::with_pending_limit(limit),
        }
    }

    /// Changes the pending limit.
    pub fn set_pending_limit(&mut self, limit: usize) {
        self.seq.set_pending_limit(limit);
    }

    /// Length in `char`s.
    pub fn len(&self) -> usize {
        self.seq.len() as usize
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Length in UTF-8 bytes (O(runs)).
    pub fn len_utf8(&self) -> usize {
        self.chunks().map(str::len).sum()
    }

    /// Length in UTF-16 code units (O(length)).
    pub fn len_utf16(&self) -> usize {
        self.chunks().map(|c| c.encode_utf16().count()).sum()
    }

    /// The visible text as string slices, in order.
    pub fn chunks(&self) -> impl Iterator<Item = &str> + '_ {
        self.seq.live_runs().map(|r| r.content())
    }

    /// Inserts `text` before char `index` (`≤ len`) on behalf of `replica`.
    #[inline]
    pub fn insert(
        &mut self,
        replica: ReplicaId,
        index: usize,
        text: &str,
    ) -> Result<Self, IndexError> {
        let n = text.chars().count() as u64;
        self.seq
            .insert(replica, index as u64, Utf8::from(text), n)
            .map(|seq| Text { seq })
    }

    /// Deletes the chars in `range` (`end ≤ len`).
    #[inline]
    pub fn delete(&mut self, replica: ReplicaId, range: Range<usize>) -> Result<Self, IndexError> {
        self.seq
            .delete(replica, range.start as u64, range.end as u64)
            .map(|seq| Text { seq })
    }

    /// The UTF-8 byte offset of char index `index` (`≤ len`).
    pub fn char_to_utf8(&self, index: usize) -> Result<usize, IndexError> {
        self.convert(index, char_to_byte, str::len, self.len())
    }

    /// The UTF-16 offset of char index `index` (`≤ len`).
    pub fn char_to_utf16(&self, index: usize) -> Result<usize, IndexError> {
        self.convert(
            index,
            |s, k| s.chars().take(k).map(char::len_utf16).sum(),
            |s| s.encode_utf16().count(),
            self.len(),
        )
    }

    /// Walks chunks: `inner(chunk, k)` converts `k` chars of a chunk, `whole`
    /// measures a whole chunk.
    fn convert(
        &self,
        index: usize,
        inner: impl Fn(&str, usize) -> usize,
        whole: impl Fn(&str) -> usize,
        len: usize,
    ) -> Result<usize, IndexError> {
        if index > len {
            return Err(IndexError { index, len });
        }
        let (mut left, mut out) = (index, 0);
        for r in self.seq.live_runs() {
            let n = r.len as usize;
            if left <= n {
                return Ok(out + inner(r.content(), left));
            }
            left -= n;
            out += whole(r.content());
        }
        Ok(out)
    }

    /// The char index at UTF-8 byte offset `byte`, which must be a char
    /// boundary (`≤ len_utf8`); otherwise an [`IndexError`] with `len` in
    /// bytes.
    pub fn utf8_to_char(&self, byte: usize) -> Result<usize, IndexError> {
        self.back(byte, |c| c.len_utf8())
    }

    /// The char index at UTF-16 offset `unit`, which must not split a
    /// surrogate pair (`≤ len_utf16`); otherwise an [`IndexError`] with
    /// `len` in UTF-16 units.
    pub fn utf16_to_char(&self, unit: usize) -> Result<usize, IndexError> {
        self.back(unit, char::len_utf16)
    }

    fn back(&self, target: usize, width: impl Fn(char) -> usize) -> Result<usize, IndexError> {
        let (mut at, mut chars) = (0usize, 0usize);
        for chunk in self.chunks() {
            for c in chunk.chars() {
                if at == target {
                    return Ok(chars);
                }
                if at > target {
                    break;
                }
                at += width(c);
                chars += 1;
            }
        }
        if at == target {
            return Ok(chars);
        }
        let len = self.chunks().flat_map(str::chars).map(&width).sum();
        Err(IndexError { index: target, len })
    }

    /// A stable position at char `index` (`≤ len`); see [`Anchor`].
    pub fn anchor(&self, index: usize, bias: Bias) -> Result<Anchor, IndexError> {
        super::anchor_at(&self.seq, index, bias)
    }

    /// The current char index of `anchor`, or `None` when the char it sticks
    /// to has not arrived here yet.
    pub fn resolve(&self, anchor: &Anchor) -> Option<usize> {
        super::resolve(&self.seq, anchor)
    }

    /// Item runs waiting for origins that have not arrived.
    pub fn pending_len(&self) -> usize {
        self.seq.pending_len()
    }

    /// Every event this text holds (inserted chars and deletes).
    pub fn context(&self) -> &CausalContext {
        self.seq.context()
    }

    /// Diagnostics: (runs in the document tree including tombstones, delete
    /// runs, pending runs).
    pub fn shape(&self) -> (usize, usize, usize) {
        self.seq.shape()
    }

    /// Approximate heap bytes of the document structure.
    pub fn heap_bytes(&self) -> usize {
        self.seq.heap_bytes() + self.len_utf8()
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.chunks() {
            f.write_str(c)?;
        }
        Ok(())
    }
}

seq_impls!(impl[] ser[] de['de] Text, Utf8);

impl Eq for Text {}
