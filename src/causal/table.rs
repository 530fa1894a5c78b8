//! The hash map behind [`DotMap`](super::DotMap): entries in blocks that
//! never move, found through a hash index of their positions.
//!
//! A hash table that stores its entries in its slots holds 1.14–2.29 slots
//! per entry, and 3.4 while it grows (old and new table at once). For a
//! 48-byte `OrSet<String>` entry described by 8 wire bytes, that is 14–21×
//! the input, over the decode bound C4 (`16 × input + 64 KiB`;
//! `docs/decisions/0008-c4-in-memory-density.md`). Here an entry costs its
//! own size (blocks are full but the last) plus 6–12 bytes of index, and
//! growing never copies an entry: a decoded map is its entries, pushed as
//! they arrive, plus an index built once at the exact size.
//!
//! Positions are dense (`0..len`): a removal moves the last entry into the
//! gap (`swap_remove`) and re-points its index slot. Iteration order is
//! insertion order perturbed by removals, independent of the hasher.

use alloc::vec::Vec;
use core::hash::{BuildHasher, Hash};
use core::mem;

use hashbrown::{DefaultHashBuilder, HashTable};

/// Bytes per block: large enough that the block list is small, small enough
/// that a map's spare room (the rest of its last block) stays within the
/// decode bound's constant.
const BLOCK_BYTES: usize = 4096;

/// `log2` of the entries per block: about [`BLOCK_BYTES`] worth, a power of
/// two (a position splits into block and offset with a shift and a mask).
/// Also sizes the blocks of a sequence's runs (`sequence::blocks`).
pub(crate) const fn block_shift(entry_size: usize) -> u32 {
    let per = match BLOCK_BYTES.checked_div(entry_size) {
        Some(per) => per,
        None => BLOCK_BYTES,
    };
    if per <= 1 {
        0
    } else {
        usize::BITS - 1 - per.leading_zeros()
    }
}

/// A position in the index: 4 bytes, not 8, so that an index slot is 5
/// bytes with its control byte (C4: at up to 2.3 slots per entry, that is
/// 9 bytes an entry saved). A map holds at most [`MAX_LEN`] entries.
type Pos = u32;

/// The most entries a map holds: every position fits a [`Pos`]. Such a map
/// takes over 100 GiB; a decoder rejects a longer one with an error
/// ([`Unindexed::push`]).
pub(crate) const MAX_LEN: usize = Pos::MAX as usize;

/// `p` as an index position: `p < len ≤ MAX_LEN` (checked by
/// [`Table::push`]), so the cast keeps every bit.
#[inline]
fn pos(p: usize) -> Pos {
    debug_assert!(p < MAX_LEN);
    p as Pos
}

/// The panic of [`Table::push`] on a full map, out of the hot path.
#[cold]
#[inline(never)]
fn full() -> ! {
    panic!("a map holds at most 2^32 - 1 entries")
}

/// A map from `K` to `V` (see the module docs).
#[derive(Clone)]
pub(crate) struct Table<K, V> {
    /// Entries at positions `0..len`: position `p` is entry `p & MASK` of
    /// block `p >> SHIFT`. Every block but the last holds exactly `BLOCK`
    /// entries; the first grows like a vector up to `BLOCK` (a small map
    /// allocates what it holds), later ones are allocated whole.
    blocks: Vec<Vec<(K, V)>>,
    /// Number of entries.
    len: usize,
    /// The position of every entry, hashed by its key.
    index: HashTable<Pos>,
    hasher: DefaultHashBuilder,
}

impl<K, V> Default for Table<K, V> {
    fn default() -> Self {
        Table {
            blocks: Vec::new(),
            len: 0,
            index: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
        }
    }
}

/// The entry at position `p` (which must be below the length).
fn at<K, V>(blocks: &[Vec<(K, V)>], p: usize) -> &(K, V) {
    let shift = Table::<K, V>::SHIFT;
    &blocks[p >> shift][p & ((1 << shift) - 1)]
}

fn at_mut<K, V>(blocks: &mut [Vec<(K, V)>], p: usize) -> &mut (K, V) {
    let shift = Table::<K, V>::SHIFT;
    &mut blocks[p >> shift][p & ((1 << shift) - 1)]
}

impl<K, V> Table<K, V> {
    const SHIFT: u32 = block_shift(mem::size_of::<(K, V)>());
    const BLOCK: usize = 1 << Self::SHIFT;

    /// Number of entries.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether there is no entry.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The entries, in position order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &V)> + '_ {
        self.blocks.iter().flatten().map(|(k, v)| (k, v))
    }

    /// Appends an entry at position `len` (the index is the caller's).
    ///
    /// # Panics
    ///
    /// If the map already holds [`MAX_LEN`] entries.
    fn push(&mut self, k: K, v: V) -> usize {
        if self.len >= MAX_LEN {
            full();
        }
        let block = Self::BLOCK;
        match self.blocks.last_mut() {
            Some(last) if last.len() < block => {
                if last.len() == last.capacity() {
                    // Only the first block (or a cloned last one) grows.
                    last.reserve_exact(last.len().max(4).min(block - last.len()));
                }
                last.push((k, v));
            }
            _ => {
                let cap = if self.blocks.is_empty() {
                    block.min(4)
                } else {
                    block
                };
                let mut b = Vec::with_capacity(cap);
                b.push((k, v));
                self.blocks.push(b);
            }
        }
        let p = self.len;
        self.len += 1;
        p
    }

    /// Removes the entry at position `len - 1` (the index is the caller's).
    fn pop(&mut self) -> Option<(K, V)> {
        let last = self.blocks.last_mut()?;
        let e = last.pop()?;
        if last.is_empty() {
            self.blocks.pop();
        }
        self.len -= 1;
        Some(e)
    }
}

impl<K: Hash + Eq, V> Table<K, V> {
    fn hash(&self, k: &K) -> u64 {
        self.hasher.hash_one(k)
    }

    fn find(&self, hash: u64, k: &K) -> Option<usize> {
        let blocks = &self.blocks;
        self.index
            .find(hash, |&p| at(blocks, p as usize).0 == *k)
            .map(|&p| p as usize)
    }

    /// Indexes the entry at position `p` under `hash`.
    fn index_at(&mut self, hash: u64, p: usize) {
        let Table {
            blocks,
            index,
            hasher,
            ..
        } = self;
        index.insert_unique(hash, pos(p), |&q| {
            hasher.hash_one(&at(blocks, q as usize).0)
        });
    }

    /// The value of `k`.
    pub(crate) fn get(&self, k: &K) -> Option<&V> {
        let p = self.find(self.hash(k), k)?;
        Some(&at(&self.blocks, p).1)
    }

    /// Inserts or replaces the value of `k`; returns the old one.
    pub(crate) fn insert(&mut self, k: K, v: V) -> Option<V> {
        match self.entry(k) {
            Entry::Occupied(mut o) => Some(mem::replace(o.get_mut(), v)),
            Entry::Vacant(e) => {
                e.insert(v);
                None
            }
        }
    }

    /// Removes `k`; returns its value.
    pub(crate) fn remove(&mut self, k: &K) -> Option<V> {
        let hash = self.hash(k);
        let p = self.find(hash, k)?;
        Some(self.remove_at(hash, p).1)
    }

    /// Removes the entry at position `p`, whose key hashes to `hash`: the
    /// last entry moves into its place.
    fn remove_at(&mut self, hash: u64, p: usize) -> (K, V) {
        if let Ok(slot) = self.index.find_entry(hash, |&q| q as usize == p) {
            slot.remove();
        }
        let last = self.len - 1;
        let Some(moved) = self.pop() else {
            unreachable!("remove_at on an empty table")
        };
        if p == last {
            return moved;
        }
        let old = mem::replace(at_mut(&mut self.blocks, p), moved);
        let h = self.hash(&at(&self.blocks, p).0);
        if let Some(slot) = self.index.find_mut(h, |&q| q as usize == last) {
            *slot = pos(p);
        }
        old
    }

    /// The slot of `k`, for one-lookup updates.
    pub(crate) fn entry(&mut self, k: K) -> Entry<'_, K, V> {
        let hash = self.hash(&k);
        match self.find(hash, &k) {
            Some(pos) => Entry::Occupied(OccupiedEntry {
                table: self,
                hash,
                pos,
            }),
            None => Entry::Vacant(VacantEntry {
                table: self,
                hash,
                key: k,
            }),
        }
    }

    /// Keeps the entries for which `keep` returns `true`.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        // Backwards: a removal moves the last entry, already visited, into
        // the gap.
        for p in (0..self.len).rev() {
            let (k, v) = at_mut(&mut self.blocks, p);
            if !keep(k, v) {
                let hash = self.hash(&at(&self.blocks, p).0);
                self.remove_at(hash, p);
            }
        }
    }

    /// Makes room in the index for `n` more entries.
    pub(crate) fn reserve(&mut self, n: usize) {
        let Table {
            blocks,
            index,
            hasher,
            ..
        } = self;
        index.reserve(n, |&q| hasher.hash_one(&at(blocks, q as usize).0));
    }

    /// A map of `entries`, whose keys must be distinct (tests).
    #[cfg(test)]
    pub(crate) fn from_distinct(entries: impl IntoIterator<Item = (K, V)>) -> Self {
        let mut t = Unindexed::new();
        for (k, v) in entries {
            assert!(t.push(k, v).is_ok(), "fewer than MAX_LEN entries");
        }
        t.index()
    }
}

/// A map that holds [`MAX_LEN`] entries refused one more.
#[cfg(any(feature = "serde", test))]
#[derive(Debug)]
pub(crate) struct Full;

/// A table being filled with entries whose keys are distinct (a decoded
/// map's keys are strictly sorted): they go into blocks as they come, and
/// [`Unindexed::index`] indexes them once, at the exact size.
#[cfg(any(feature = "serde", test))]
pub(crate) struct Unindexed<K, V>(Table<K, V>);

#[cfg(any(feature = "serde", test))]
impl<K: Hash + Eq, V> Unindexed<K, V> {
    pub(crate) fn new() -> Self {
        Unindexed(Table::default())
    }

    /// Entries pushed so far.
    pub(crate) fn len(&self) -> usize {
        self.0.len
    }

    /// The key pushed last.
    pub(crate) fn last_key(&self) -> Option<&K> {
        self.0.blocks.last()?.last().map(|(k, _)| k)
    }

    /// Appends an entry; its key must differ from every other's. Refused
    /// (`Err`) when the map already holds [`MAX_LEN`] entries.
    pub(crate) fn push(&mut self, k: K, v: V) -> Result<(), Full> {
        if self.0.len >= MAX_LEN {
            return Err(Full);
        }
        self.0.push(k, v);
        Ok(())
    }

    /// What [`index`](Self::index) allocates for `len` entries, at most:
    /// hashbrown's buckets for that capacity (a power of two at least 8/7 of
    /// it, or 4 or 8), a position and a control byte each, plus one group of
    /// control bytes and the alignment.
    pub(crate) fn index_bytes(len: usize) -> usize {
        let buckets = match len {
            0..=3 => 4,
            4..=7 => 8,
            _ => (len / 7)
                .saturating_mul(8)
                .saturating_add(8)
                .next_power_of_two(),
        };
        buckets
            .saturating_mul(core::mem::size_of::<Pos>() + 1)
            .saturating_add(32)
    }

    /// The table, indexed.
    pub(crate) fn index(self) -> Table<K, V> {
        let mut t = self.0;
        t.index = HashTable::with_capacity(t.len);
        for p in 0..t.len {
            let hash = t.hash(&at(&t.blocks, p).0);
            t.index_at(hash, p);
        }
        t
    }
}

impl<K, V> IntoIterator for Table<K, V> {
    type Item = (K, V);
    type IntoIter = core::iter::Flatten<alloc::vec::IntoIter<Vec<(K, V)>>>;

    /// The entries in position order; each block is freed once emptied.
    fn into_iter(self) -> Self::IntoIter {
        self.blocks.into_iter().flatten()
    }
}

/// A key's slot: see [`Table::entry`].
pub(crate) enum Entry<'a, K, V> {
    /// The key is present.
    Occupied(OccupiedEntry<'a, K, V>),
    /// The key is absent.
    Vacant(VacantEntry<'a, K, V>),
}

impl<'a, K: Hash + Eq, V: Default> Entry<'a, K, V> {
    /// The value, inserting `V::default()` if the key is absent.
    pub(crate) fn or_default(self) -> &'a mut V {
        match self {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(e) => e.insert(V::default()),
        }
    }
}

/// A present key's slot.
pub(crate) struct OccupiedEntry<'a, K, V> {
    table: &'a mut Table<K, V>,
    hash: u64,
    pos: usize,
}

impl<'a, K: Hash + Eq, V> OccupiedEntry<'a, K, V> {
    /// The value.
    pub(crate) fn get(&self) -> &V {
        &at(&self.table.blocks, self.pos).1
    }

    /// The value, mutably.
    pub(crate) fn get_mut(&mut self) -> &mut V {
        &mut at_mut(&mut self.table.blocks, self.pos).1
    }

    /// The value, for as long as the table is borrowed.
    pub(crate) fn into_mut(self) -> &'a mut V {
        &mut at_mut(&mut self.table.blocks, self.pos).1
    }

    /// Removes the entry; returns its value.
    pub(crate) fn remove(self) -> V {
        self.table.remove_at(self.hash, self.pos).1
    }
}

/// An absent key's slot.
pub(crate) struct VacantEntry<'a, K, V> {
    table: &'a mut Table<K, V>,
    hash: u64,
    key: K,
}

impl<'a, K: Hash + Eq, V> VacantEntry<'a, K, V> {
    /// Inserts the value; returns it, mutably.
    pub(crate) fn insert(self, v: V) -> &'a mut V {
        let p = self.table.push(self.key, v);
        self.table.index_at(self.hash, p);
        &mut at_mut(&mut self.table.blocks, p).1
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Op {
        Insert(u16, u32),
        Remove(u16),
        EntryAdd(u16, u32),
        EntryRemove(u16),
        Retain(u16),
    }

    fn op() -> impl Strategy<Value = Op> {
        // Keys from a small range, so that removals and replacements hit.
        let key = 0u16..600;
        prop_oneof![
            4 => (key.clone(), any::<u32>()).prop_map(|(k, v)| Op::Insert(k, v)),
            2 => key.clone().prop_map(Op::Remove),
            2 => (key.clone(), any::<u32>()).prop_map(|(k, v)| Op::EntryAdd(k, v)),
            1 => key.clone().prop_map(Op::EntryRemove),
            1 => (1u16..8).prop_map(Op::Retain),
        ]
    }

    /// The table agrees with a `BTreeMap` after every operation: same
    /// entries, every key found at its position, dense positions.
    fn check(t: &Table<u16, u32>, m: &BTreeMap<u16, u32>) {
        assert_eq!(t.len(), m.len());
        assert_eq!(t.index.len(), m.len());
        let mut seen: Vec<(u16, u32)> = t.iter().map(|(k, v)| (*k, *v)).collect();
        seen.sort_unstable();
        let want: Vec<(u16, u32)> = m.iter().map(|(k, v)| (*k, *v)).collect();
        assert_eq!(seen, want);
        for (k, v) in m {
            assert_eq!(t.get(k), Some(v));
        }
        let blocks = t.blocks.len();
        for (i, b) in t.blocks.iter().enumerate() {
            assert!(!b.is_empty());
            if i + 1 < blocks {
                assert_eq!(b.len(), Table::<u16, u32>::BLOCK);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn agrees_with_a_btree_map(ops in proptest::collection::vec(op(), 1..3000)) {
            let mut t: Table<u16, u32> = Table::default();
            let mut m: BTreeMap<u16, u32> = BTreeMap::new();
            for op in ops {
                match op {
                    Op::Insert(k, v) => prop_assert_eq!(t.insert(k, v), m.insert(k, v)),
                    Op::Remove(k) => prop_assert_eq!(t.remove(&k), m.remove(&k)),
                    Op::EntryAdd(k, v) => {
                        *t.entry(k).or_default() += v % 7;
                        *m.entry(k).or_default() += v % 7;
                    }
                    Op::EntryRemove(k) => {
                        let got = match t.entry(k) {
                            Entry::Occupied(o) => Some(o.remove()),
                            Entry::Vacant(_) => None,
                        };
                        prop_assert_eq!(got, m.remove(&k));
                    }
                    Op::Retain(d) => {
                        t.retain(|k, v| {
                            *v = v.wrapping_add(1);
                            k % d != 0
                        });
                        m.retain(|k, _| k % d != 0);
                        for v in m.values_mut() {
                            *v = v.wrapping_add(1);
                        }
                    }
                }
                check(&t, &m);
            }
            let c = t.clone();
            check(&c, &m);
            let mut all: Vec<(u16, u32)> = t.into_iter().collect();
            all.sort_unstable();
            prop_assert_eq!(all, m.into_iter().collect::<Vec<_>>());
        }
    }

    #[test]
    fn from_distinct_indexes_every_entry_and_fills_blocks() {
        let t = Table::from_distinct((0..10_000u32).map(|k| (k, k * 2)));
        assert_eq!(t.len(), 10_000);
        for k in 0..10_000u32 {
            assert_eq!(t.get(&k), Some(&(k * 2)));
        }
        assert_eq!(t.get(&10_000), None);
        let block = Table::<u32, u32>::BLOCK;
        assert_eq!(block, 512);
        assert_eq!(t.blocks.len(), 10_000usize.div_ceil(block));
        // Blocks after the first are allocated whole, never grown.
        assert!(t.blocks.iter().skip(1).all(|b| b.capacity() == block));
    }

    /// A full map (its length set by hand: 2^32 entries do not fit in a
    /// test) refuses a decoded entry with an error and panics on an insert,
    /// before touching its blocks or index.
    #[test]
    fn a_map_of_max_len_entries_takes_no_more() {
        let mut u = Unindexed::<u32, u32>::new();
        assert!(u.push(1, 1).is_ok());
        u.0.len = MAX_LEN;
        assert!(u.push(2, 2).is_err());
        assert_eq!(u.0.blocks.iter().map(Vec::len).sum::<usize>(), 1);

        let mut t = Table::<u32, u32> {
            len: MAX_LEN,
            ..Table::default()
        };
        let full = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            t.insert(7, 7);
        }));
        assert!(full.is_err());
        assert!(t.blocks.is_empty() && t.index.is_empty());
        // The last position still fits the index.
        assert_eq!(pos(MAX_LEN - 1), u32::MAX - 1);
    }

    #[test]
    fn a_small_map_allocates_what_it_holds() {
        let mut t: Table<u64, u64> = Table::default();
        assert_eq!(t.blocks.capacity(), 0);
        t.insert(1, 1);
        assert_eq!(t.blocks[0].capacity(), 4);
        for k in 2..=5 {
            t.insert(k, k);
        }
        assert_eq!(t.blocks[0].capacity(), 8);
    }
}
