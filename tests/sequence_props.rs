//! Sequence properties (TESTPLAN a.4, b.1) for `List<T>` and `Text`:
//!
//! - Q4 / L13 / Q2: single-replica random edits equal a `Vec` / `String`
//!   model after every step; out-of-range indices are `IndexError` and
//!   change nothing;
//! - B19-adjacent: `Text` offset conversions agree with `str::char_indices`
//!   and `encode_utf16`; offsets inside a char or a surrogate pair are errors;
//! - Q3: one list order — every visible sequence, on every replica at every
//!   time, is a subsequence of one total order;
//! - Q5: deletes are final, also when the delete arrives before the insert;
//! - anchors resolve to the same place after concurrent edits;
//! - a differential oracle: a slow reference list CRDT (YjsMod / FugueMax
//!   integration, as in josephg/reference-crdts, integrating in causal order)
//!   and `List<u32>` (receiving the deltas in random, non-causal order with
//!   duplicates) show the same sequence;
//! - convergence of `OrMap<u8, Embedded<Text>>`.
//!
//! Case counts come from the tier: `CONVERGE_TEST_TIER=ci` (default, 256
//! cases per property) or `long` (10,000). `PROPTEST_CASES` overrides both;
//! `CONVERGE_SEED` fixes the seed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use converge::laws::{MapOp, Pos, Replay, SeqOp};
use converge::{
    Bias, DeltaSince, Embedded, IndexError, Lattice, List, OrMap, ReplicaId, Text, Validate,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

fn long_tier() -> bool {
    std::env::var("CONVERGE_TEST_TIER").as_deref() == Ok("long")
}

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if long_tier() { 10_000 } else { 256 });
    Config {
        cases,
        max_shrink_iters: 4096,
        rng_seed: seed(),
        ..Config::default()
    }
}

/// A fixed seed in CI unless `CONVERGE_SEED` gives one; fresh seeds in the
/// long tier.
fn seed() -> RngSeed {
    match std::env::var("CONVERGE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        Some(s) => RngSeed::Fixed(s),
        None if long_tier() => RngSeed::Random,
        None => RngSeed::Fixed(0x00C0_FFEE),
    }
}

fn script_len() -> std::ops::Range<usize> {
    if long_tier() {
        0..600
    } else {
        0..100
    }
}

fn fail(e: impl std::fmt::Debug) -> TestCaseError {
    TestCaseError::fail(format!("{e:?}"))
}

/// Positions: mostly fractions of the length (valid), sometimes past the end.
fn pos() -> impl Strategy<Value = Pos> {
    prop_oneof![
        12 => any::<u16>().prop_map(Pos::Frac),
        1 => (0u8..3).prop_map(Pos::PastEnd),
    ]
}

/// The error carries the offending index and the length.
fn check_index_error(
    e: &IndexError,
    index: usize,
    len: usize,
    what: &str,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        (e.index, e.len),
        (index, len),
        "{}: IndexError fields for index {} on length {}",
        what,
        index,
        len
    );
    Ok(())
}

/// A successful local edit: L7, L8, L9 (and invariants) through the shared
/// checker.
fn check_edit<T: Lattice + Validate + std::fmt::Debug>(
    before: &T,
    after: &T,
    delta: &T,
) -> Result<(), TestCaseError> {
    converge::laws::check_mutation(before, after, delta).map_err(fail)
}

/// Distinct replica ids: a random permutation of small ids (so that every
/// order between replicas occurs), sometimes huge ones.
fn replica_ids(n: usize) -> impl Strategy<Value = Vec<u64>> {
    prop_oneof![
        4 => Just((1..=8u64).collect::<Vec<_>>()),
        1 => Just((0..8u64).map(|k| u64::MAX - 64 + 3 * k).collect::<Vec<_>>()),
    ]
    .prop_shuffle()
    .prop_map(move |v| v.into_iter().take(n).collect())
}

// ===========================================================================
// Q4 / L13 / Q2: a single replica against Vec / String
// ===========================================================================

#[derive(Clone, Debug)]
enum ListEdit {
    Insert(Pos, u8),
    InsertFrom(Pos, Vec<u8>),
    Push(u8),
    Delete(Pos),
    /// Start, number of elements (0 = empty range).
    DeleteRange(Pos, u8),
}

fn list_edits() -> impl Strategy<Value = Vec<ListEdit>> {
    let edit = prop_oneof![
        4 => (pos(), any::<u8>()).prop_map(|(p, v)| ListEdit::Insert(p, v)),
        3 => (pos(), proptest::collection::vec(any::<u8>(), 1..=10))
            .prop_map(|(p, v)| ListEdit::InsertFrom(p, v)),
        1 => any::<u8>().prop_map(ListEdit::Push),
        3 => pos().prop_map(ListEdit::Delete),
        2 => (pos(), 0u8..=10).prop_map(|(p, n)| ListEdit::DeleteRange(p, n)),
    ];
    proptest::collection::vec(edit, script_len())
}

/// The end of a delete range starting at `start` over `n` elements: clamped
/// to the length while the start is in range, past it otherwise.
fn range_end(start: usize, n: u8, len: usize) -> usize {
    if start >= len {
        start + usize::from(n)
    } else {
        (start + usize::from(n)).min(len)
    }
}

/// The index an out-of-range `a..b` reports: the start when it is past the
/// end, the end otherwise.
fn range_error_index(a: usize, b: usize, len: usize) -> usize {
    if a > len {
        a
    } else {
        b
    }
}

proptest! {
    #![proptest_config(config())]

    /// Q4, L13, Q2 for `List<u8>`: every edit gives what `Vec` gives, the
    /// inserted values sit at the requested index, and an out-of-range index
    /// returns `IndexError { index, len }` leaving the list unchanged.
    #[test]
    fn q4_l13_q2_list_single_replica_matches_vec(
        id in prop_oneof![1u64..4, Just(u64::MAX - 1)],
        edits in list_edits(),
    ) {
        let r = ReplicaId::new(id);
        let mut list: List<u8> = List::new();
        let mut model: Vec<u8> = Vec::new();
        for edit in &edits {
            let before = list.clone();
            let len = model.len();
            match edit {
                ListEdit::Insert(p, v) => {
                    let i = p.insert_index(len);
                    match list.insert(r, i, *v) {
                        Ok(d) => {
                            prop_assert!(i <= len, "insert at {} accepted on length {}", i, len);
                            check_edit(&before, &list, &d)?;
                            model.insert(i, *v);
                            prop_assert_eq!(list.get(i), Some(v), "Q2: inserted value at its index");
                        }
                        Err(e) => {
                            prop_assert!(i > len, "insert at {} rejected on length {}: {:?}", i, len, e);
                            check_index_error(&e, i, len, "insert")?;
                            prop_assert_eq!(&list, &before, "C3: a failed edit changes nothing");
                        }
                    }
                }
                ListEdit::InsertFrom(p, vs) => {
                    let i = p.insert_index(len);
                    match list.insert_from(r, i, vs.iter().copied()) {
                        Ok(d) => {
                            prop_assert!(i <= len, "insert_from at {} accepted on length {}", i, len);
                            check_edit(&before, &list, &d)?;
                            model.splice(i..i, vs.iter().copied());
                            let got: Vec<u8> = (i..i + vs.len()).map(|k| *list.get(k).unwrap()).collect();
                            prop_assert_eq!(&got, vs, "Q2: inserted run at its index");
                        }
                        Err(e) => {
                            prop_assert!(i > len, "insert_from at {} rejected on length {}: {:?}", i, len, e);
                            check_index_error(&e, i, len, "insert_from")?;
                            prop_assert_eq!(&list, &before, "C3: a failed edit changes nothing");
                        }
                    }
                }
                ListEdit::Push(v) => {
                    let d = list.push(r, *v);
                    check_edit(&before, &list, &d)?;
                    model.push(*v);
                    prop_assert_eq!(list.get(len), Some(v));
                }
                ListEdit::Delete(p) => {
                    let i = p.delete_index(len);
                    match list.delete(r, i) {
                        Ok(d) => {
                            prop_assert!(i < len, "delete at {} accepted on length {}", i, len);
                            check_edit(&before, &list, &d)?;
                            model.remove(i);
                        }
                        Err(e) => {
                            prop_assert!(i >= len, "delete at {} rejected on length {}: {:?}", i, len, e);
                            check_index_error(&e, i, len, "delete")?;
                            prop_assert_eq!(&list, &before, "C3: a failed edit changes nothing");
                        }
                    }
                }
                ListEdit::DeleteRange(p, n) => {
                    let a = p.delete_index(len);
                    let b = range_end(a, *n, len);
                    match list.delete_range(r, a..b) {
                        Ok(d) => {
                            prop_assert!(b <= len, "delete_range {}..{} accepted on length {}", a, b, len);
                            check_edit(&before, &list, &d)?;
                            model.drain(a..b);
                        }
                        Err(e) => {
                            prop_assert!(b > len, "delete_range {}..{} rejected on length {}: {:?}", a, b, len, e);
                            check_index_error(&e, range_error_index(a, b, len), len, "delete_range")?;
                            prop_assert_eq!(&list, &before, "C3: a failed edit changes nothing");
                        }
                    }
                }
            }
            prop_assert_eq!(list.to_vec(), model.clone(), "L13/Q4 after {:?}", edit);
            prop_assert_eq!(list.iter().copied().collect::<Vec<_>>(), model.clone());
            prop_assert_eq!(list.len(), model.len());
            prop_assert_eq!(list.is_empty(), model.is_empty());
            prop_assert_eq!(list.get(model.len()), None);
            prop_assert_eq!(list.pending_len(), 0);
            list.check_invariants().map_err(fail)?;
        }
    }

    /// The error paths change nothing at all: `==` and the serialised bytes
    /// are those of before (C3 for local edits).
    #[test]
    fn q4_out_of_range_edits_leave_the_list_unchanged(
        init in proptest::collection::vec(any::<u8>(), 0..20),
        dels in 0u8..20,
        past in 0usize..3,
    ) {
        let r = ReplicaId::new(1);
        let mut list: List<u8> = List::new();
        if !init.is_empty() {
            list.insert_from(r, 0, init.iter().copied()).unwrap();
        }
        for _ in 0..(dels as usize).min(init.len()) {
            list.delete(r, 0).unwrap();
        }
        let len = list.len();
        let before = list.clone();
        let bytes = postcard::to_allocvec(&before).unwrap();
        let i = len + 1 + past;
        let e = list.insert(r, i, 0).unwrap_err();
        check_index_error(&e, i, len, "insert")?;
        prop_assert_eq!(&list, &before, "C3: a failed edit changes nothing");
        let e = list.insert_from(r, i, [1, 2]).unwrap_err();
        check_index_error(&e, i, len, "insert_from")?;
        prop_assert_eq!(&list, &before, "C3: a failed edit changes nothing");
        let e = list.delete(r, len + past).unwrap_err();
        check_index_error(&e, len + past, len, "delete")?;
        let e = list.delete_range(r, 0..len + 1 + past).unwrap_err();
        check_index_error(&e, len + 1 + past, len, "delete_range")?;
        let e = list.anchor(len + 1 + past, Bias::Left).unwrap_err();
        check_index_error(&e, len + 1 + past, len, "anchor")?;
        prop_assert_eq!(&list, &before);
        prop_assert_eq!(postcard::to_allocvec(&list).unwrap(), bytes);
    }
}

#[derive(Clone, Debug)]
enum TextEdit {
    Insert(Pos, String),
    /// Start, number of chars.
    Delete(Pos, u8),
}

/// Units: ASCII, two-byte, astral (surrogate pair in UTF-16), half-width
/// katakana, a combining sequence and a ZWJ sequence.
fn unit() -> impl Strategy<Value = &'static str> {
    prop::sample::select(
        &[
            "a",
            "b",
            "c",
            " ",
            "é",
            "😀",
            "ｶ",
            "e\u{301}",
            "👩\u{200d}💻",
            "\u{10FFFF}",
            "\u{7FF}",
            "\u{800}",
            "\u{FFFF}",
            "\u{10000}",
        ][..],
    )
}

fn short_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(unit(), 1..=6).prop_map(|u| u.concat())
}

fn text_edits() -> impl Strategy<Value = Vec<TextEdit>> {
    let edit = prop_oneof![
        5 => (pos(), short_text()).prop_map(|(p, s)| TextEdit::Insert(p, s)),
        3 => (pos(), 0u8..=8).prop_map(|(p, n)| TextEdit::Delete(p, n)),
    ];
    proptest::collection::vec(edit, script_len())
}

/// Byte offset of char `i` in `s` (`s.len()` at the end).
fn byte_of_char(s: &str, i: usize) -> usize {
    s.char_indices().nth(i).map_or(s.len(), |(b, _)| b)
}

proptest! {
    #![proptest_config(config())]

    /// Q4, L13, Q2 for `Text`: char-indexed edits (multi-char, non-ASCII,
    /// astral) give what `String` gives; out-of-range char indices return
    /// `IndexError { index, len }` (len in chars) and change nothing.
    #[test]
    fn q4_l13_q2_text_single_replica_matches_string(
        id in prop_oneof![1u64..4, Just(u64::MAX - 1)],
        edits in text_edits(),
    ) {
        let r = ReplicaId::new(id);
        let mut text = Text::new();
        let mut model = String::new();
        for edit in &edits {
            let before = text.clone();
            let len = model.chars().count();
            match edit {
                TextEdit::Insert(p, s) => {
                    let i = p.insert_index(len);
                    match text.insert(r, i, s) {
                        Ok(d) => {
                            prop_assert!(i <= len);
                            check_edit(&before, &text, &d)?;
                            let b = byte_of_char(&model, i);
                            model.insert_str(b, s);
                            // Q2: the inserted string is at char index i.
                            let shown = text.to_string();
                            let b = byte_of_char(&shown, i);
                            prop_assert!(shown[b..].starts_with(s.as_str()), "Q2: {:?} not at {} in {:?}", s, i, shown);
                        }
                        Err(e) => {
                            prop_assert!(i > len, "insert at {} rejected on length {}: {:?}", i, len, e);
                            check_index_error(&e, i, len, "Text::insert")?;
                            prop_assert_eq!(&text, &before, "C3: a failed edit changes nothing");
                        }
                    }
                }
                TextEdit::Delete(p, n) => {
                    let a = p.delete_index(len);
                    let b = range_end(a, *n, len);
                    match text.delete(r, a..b) {
                        Ok(d) => {
                            prop_assert!(b <= len);
                            check_edit(&before, &text, &d)?;
                            let (ba, bb) = (byte_of_char(&model, a), byte_of_char(&model, b));
                            model.replace_range(ba..bb, "");
                        }
                        Err(e) => {
                            prop_assert!(b > len, "delete {}..{} rejected on length {}: {:?}", a, b, len, e);
                            check_index_error(&e, range_error_index(a, b, len), len, "Text::delete")?;
                            prop_assert_eq!(&text, &before, "C3: a failed edit changes nothing");
                        }
                    }
                }
            }
            prop_assert_eq!(text.to_string(), model.clone(), "L13/Q4 after {:?}", edit);
            prop_assert_eq!(format!("{text}"), model.clone());
            prop_assert_eq!(text.len(), model.chars().count());
            prop_assert_eq!(text.is_empty(), model.is_empty());
            prop_assert_eq!(text.len_utf8(), model.len());
            prop_assert_eq!(text.len_utf16(), model.encode_utf16().count());
            prop_assert_eq!(text.pending_len(), 0);
            text.check_invariants().map_err(fail)?;
        }
    }

    /// Failed `Text` edits change nothing (`==` and bytes).
    #[test]
    fn q4_out_of_range_text_edits_leave_the_text_unchanged(
        init in proptest::collection::vec(unit(), 0..12),
        past in 0usize..3,
    ) {
        let r = ReplicaId::new(1);
        let mut text = Text::new();
        if !init.is_empty() {
            text.insert(r, 0, &init.concat()).unwrap();
        }
        let len = text.len();
        let before = text.clone();
        let bytes = postcard::to_allocvec(&before).unwrap();
        let e = text.insert(r, len + 1 + past, "x").unwrap_err();
        check_index_error(&e, len + 1 + past, len, "Text::insert")?;
        let e = text.delete(r, 0..len + 1 + past).unwrap_err();
        check_index_error(&e, len + 1 + past, len, "Text::delete")?;
        let e = text.anchor(len + 1 + past, Bias::Right).unwrap_err();
        check_index_error(&e, len + 1 + past, len, "Text::anchor")?;
        prop_assert_eq!(&text, &before);
        prop_assert_eq!(text.to_string(), init.concat());
        prop_assert_eq!(postcard::to_allocvec(&text).unwrap(), bytes);
    }

    /// Offset conversions against `str::char_indices` and `encode_utf16` on
    /// texts built by random edits (several runs): every char boundary maps
    /// both ways; a byte offset inside a multi-byte char, a UTF-16 offset
    /// between the two halves of a surrogate pair, and offsets past the end
    /// are errors.
    #[test]
    fn b19_text_offset_conversions_match_std(
        edits in proptest::collection::vec((any::<u16>(), unit()), 0..40),
    ) {
        let r = ReplicaId::new(1);
        let mut text = Text::new();
        let mut model = String::new();
        for (f, u) in &edits {
            let len = model.chars().count();
            let i = Pos::Frac(*f).insert_index(len);
            text.insert(r, i, u).unwrap();
            let b = byte_of_char(&model, i);
            model.insert_str(b, u);
        }
        prop_assert_eq!(text.to_string(), model.clone());
        let n = model.chars().count();
        let n8 = model.len();
        let n16 = model.encode_utf16().count();
        // char index -> (utf8, utf16) offsets, ending with the lengths.
        let mut utf8_of = Vec::with_capacity(n + 1);
        let mut utf16_of = Vec::with_capacity(n + 1);
        let mut u16_acc = 0;
        for (b, c) in model.char_indices() {
            utf8_of.push(b);
            utf16_of.push(u16_acc);
            u16_acc += c.len_utf16();
        }
        utf8_of.push(n8);
        utf16_of.push(n16);
        for i in 0..=n {
            prop_assert_eq!(text.char_to_utf8(i), Ok(utf8_of[i]), "char_to_utf8({})", i);
            prop_assert_eq!(text.char_to_utf16(i), Ok(utf16_of[i]), "char_to_utf16({})", i);
        }
        for i in [n + 1, n + 2, usize::MAX] {
            let e = text.char_to_utf8(i).unwrap_err();
            check_index_error(&e, i, n, "char_to_utf8 past the end")?;
            let e = text.char_to_utf16(i).unwrap_err();
            check_index_error(&e, i, n, "char_to_utf16 past the end")?;
        }
        for b in 0..=n8 + 1 {
            match utf8_of.iter().position(|&x| x == b) {
                Some(i) => prop_assert_eq!(text.utf8_to_char(b), Ok(i), "utf8_to_char({})", b),
                None => {
                    let e = text.utf8_to_char(b);
                    prop_assert!(e.is_err(), "utf8_to_char({}) inside a char or past the end: {:?}", b, e);
                    check_index_error(&e.unwrap_err(), b, n8, "utf8_to_char (len in bytes)")?;
                }
            }
        }
        for u in 0..=n16 + 1 {
            match utf16_of.iter().position(|&x| x == u) {
                Some(i) => prop_assert_eq!(text.utf16_to_char(u), Ok(i), "utf16_to_char({})", u),
                None => {
                    let e = text.utf16_to_char(u);
                    prop_assert!(e.is_err(), "utf16_to_char({}) inside a surrogate pair or past the end: {:?}", u, e);
                    check_index_error(&e.unwrap_err(), u, n16, "utf16_to_char (len in UTF-16 units)")?;
                }
            }
        }
        prop_assert!(text.utf8_to_char(usize::MAX).is_err());
        prop_assert!(text.utf16_to_char(usize::MAX).is_err());
    }
}

// ===========================================================================
// Multi-replica histories of List<u32> with unique values (Q3, Q5, anchors)
// ===========================================================================

/// One event of a multi-replica history.
#[derive(Clone, Debug)]
enum Ev {
    /// Replica `r` edits: diamond-types' mix (`roll`), 1..=`n` values
    /// inserted (forwards or typed backwards) or 1..=min(10, len) deleted.
    Edit {
        r: usize,
        roll: u8,
        at: u16,
        n: u8,
        backwards: bool,
    },
    /// Replica `to` receives delta `k` (modulo the count) of the history so
    /// far: any order, duplicates, causal gaps.
    Deliver { to: usize, k: usize },
    /// Replica `to` joins replica `from`'s full state.
    Join { to: usize, from: usize },
}

fn events(replicas: usize, len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<Ev>> {
    let ev = prop_oneof![
        8 => (0..replicas, any::<u8>(), any::<u16>(), prop_oneof![4 => 0u8..2, 1 => 0u8..10], any::<bool>())
            .prop_map(|(r, roll, at, n, backwards)| Ev::Edit { r, roll, at, n, backwards }),
        4 => (0..replicas, any::<usize>()).prop_map(|(to, k)| Ev::Deliver { to, k }),
        1 => (0..replicas, 0..replicas).prop_map(|(to, from)| Ev::Join { to, from }),
    ];
    proptest::collection::vec(ev, len)
}

/// A local edit resolved against the current length.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Local {
    /// Insert these many values at the index, forwards or backwards.
    Insert(usize, usize, bool),
    /// Delete the range.
    Delete(usize, usize),
}

fn resolve_edit(roll: u8, at: u16, n: u8, backwards: bool, len: usize) -> Local {
    let insert_threshold = if len < 100 { 141 } else { 115 };
    if roll < insert_threshold || len == 0 {
        Local::Insert(
            Pos::Frac(at).insert_index(len),
            1 + usize::from(n),
            backwards,
        )
    } else {
        let a = Pos::Frac(at).delete_index(len);
        let span = 1 + usize::from(n) % len.min(10);
        Local::Delete(a, (a + span).min(len))
    }
}

/// The kind of operation a delta came from.
#[derive(Clone, Debug)]
enum Made {
    /// Inserted these values.
    Inserted(Vec<u32>),
    /// Deleted these values.
    Deleted(Vec<u32>),
}

/// Applies a local edit to a `List<u32>`, with fresh unique values from
/// `next`; returns the deltas (one per call) and what each did.
fn apply_local(
    list: &mut List<u32>,
    r: ReplicaId,
    edit: &Local,
    next: &mut u32,
) -> Result<Vec<(List<u32>, Made)>, TestCaseError> {
    let before = list.clone();
    let mut out = Vec::new();
    match *edit {
        Local::Insert(i, n, backwards) => {
            let values: Vec<u32> = (0..n as u32).map(|k| *next + k).collect();
            *next += n as u32;
            if backwards {
                for &v in values.iter().rev() {
                    let b = list.clone();
                    let d = list.insert(r, i, v).map_err(fail)?;
                    check_edit(&b, list, &d)?;
                    out.push((d, Made::Inserted(vec![v])));
                }
            } else {
                let d = if n == 1 {
                    list.insert(r, i, values[0]).map_err(fail)?
                } else {
                    list.insert_from(r, i, values.iter().copied())
                        .map_err(fail)?
                };
                check_edit(&before, list, &d)?;
                out.push((d, Made::Inserted(values.clone())));
            }
            // Q2: the values are at the requested index, in order.
            let shown = list.to_vec();
            prop_assert_eq!(&shown[i..i + n], &values[..], "Q2 local intent");
        }
        Local::Delete(a, b) => {
            let gone = before.to_vec()[a..b].to_vec();
            let d = if b == a + 1 {
                list.delete(r, a).map_err(fail)?
            } else {
                list.delete_range(r, a..b).map_err(fail)?
            };
            check_edit(&before, list, &d)?;
            let mut want = before.to_vec();
            want.drain(a..b);
            prop_assert_eq!(list.to_vec(), want, "Q2: exactly the range is gone");
            out.push((d, Made::Deleted(gone)));
        }
    }
    Ok(out)
}

/// The outcome of [`run_history`].
struct History {
    /// Every visible sequence observed, on every replica after every step.
    observations: Vec<Vec<u32>>,
    /// Every delta and what made it.
    deltas: Vec<(List<u32>, Made)>,
    /// Final replica states (before the final sync).
    replicas: Vec<List<u32>>,
}

/// Runs a history, checking after every step: invariants; Q5 (per replica,
/// a value once gone never comes back, and a value whose delete the replica
/// has received is not visible, whatever the order of arrival); Q2 on every
/// local edit; B17 (replicas with equal summaries are equal).
fn run_history(ids: &[u64], evs: &[Ev]) -> Result<History, TestCaseError> {
    let n = ids.len();
    let mut lists: Vec<List<u32>> = vec![List::new(); n];
    let mut known: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); n];
    let mut gone: Vec<BTreeSet<u32>> = vec![BTreeSet::new(); n];
    let mut seen: Vec<BTreeSet<u32>> = vec![BTreeSet::new(); n];
    let mut deltas: Vec<(List<u32>, Made)> = Vec::new();
    let mut observations = Vec::new();
    let mut next = 0u32;
    for ev in evs {
        let touched = match *ev {
            Ev::Edit {
                r,
                roll,
                at,
                n: k,
                backwards,
            } => {
                let edit = resolve_edit(roll, at, k, backwards, lists[r].len());
                for d in apply_local(&mut lists[r], ReplicaId::new(ids[r]), &edit, &mut next)? {
                    known[r].insert(deltas.len());
                    deltas.push(d);
                }
                r
            }
            Ev::Deliver { to, k } => {
                if deltas.is_empty() {
                    continue;
                }
                let k = k % deltas.len();
                let before = lists[to].clone();
                converge::laws::join_checked(&mut lists[to], deltas[k].0.clone()).map_err(fail)?;
                prop_assert!(before.leq(&lists[to]));
                known[to].insert(k);
                to
            }
            Ev::Join { to, from } => {
                let other = lists[from].clone();
                converge::laws::join_checked(&mut lists[to], other).map_err(fail)?;
                let k = known[from].clone();
                known[to].extend(k);
                to
            }
        };
        let list = &lists[touched];
        list.check_invariants().map_err(fail)?;
        let shown = list.to_vec();
        let visible: BTreeSet<u32> = shown.iter().copied().collect();
        prop_assert_eq!(
            visible.len(),
            shown.len(),
            "a value shows twice: {:?}",
            shown
        );
        // Q5: gone stays gone.
        for v in &gone[touched] {
            prop_assert!(
                !visible.contains(v),
                "Q5: value {} reappeared on replica {}: {:?}",
                v,
                touched,
                shown
            );
        }
        for &k in &known[touched] {
            if let Made::Deleted(vs) = &deltas[k].1 {
                for v in vs {
                    prop_assert!(
                        !visible.contains(v),
                        "Q5/D4: value {} visible after its delete arrived on replica {}",
                        v,
                        touched
                    );
                }
            }
        }
        // yrs#632 (B17): equal summaries mean equal states.
        for (k, other) in lists.iter().enumerate() {
            if k != touched && other.summary() == list.summary() {
                prop_assert_eq!(
                    other,
                    list,
                    "B17: replicas {} and {} have equal summaries",
                    k,
                    touched
                );
            }
        }
        let vanished: Vec<u32> = seen[touched].difference(&visible).copied().collect();
        gone[touched].extend(vanished);
        seen[touched] = visible;
        observations.push(shown);
    }
    Ok(History {
        observations,
        deltas,
        replicas: lists,
    })
}

/// Brings every replica up to date (every delta, then full states) and
/// checks L14 and quiescence.
fn sync_all(h: &History) -> Result<List<u32>, TestCaseError> {
    let mut lists = h.replicas.clone();
    for l in &mut lists {
        for (d, _) in h.deltas.iter().rev() {
            l.join(d.clone());
        }
    }
    let all = lists
        .iter()
        .cloned()
        .fold(List::new(), |acc, x| acc.joined(x));
    for l in &lists {
        prop_assert_eq!(l, &all, "L14: every delta delivered, replicas differ");
        prop_assert_eq!(l.pending_len(), 0, "B16: pending after quiescence");
    }
    Ok(all)
}

proptest! {
    #![proptest_config(config())]

    /// Q3 single list order: every visible sequence observed on any replica
    /// at any time is a subsequence of one total order — the order of a
    /// witness replica that receives every insert and no delete.
    #[test]
    fn q3_one_list_order_across_replicas_and_time(
        ids in replica_ids(3),
        evs in events(3, script_len()),
    ) {
        let h = run_history(&ids, &evs)?;
        let mut witness: List<u32> = List::new();
        let mut inserted = BTreeSet::new();
        for (d, made) in &h.deltas {
            if let Made::Inserted(vs) = made {
                witness.join(d.clone());
                inserted.extend(vs.iter().copied());
            }
        }
        prop_assert_eq!(witness.pending_len(), 0);
        let lo = witness.to_vec();
        prop_assert_eq!(lo.iter().copied().collect::<BTreeSet<_>>(), inserted.clone());
        prop_assert_eq!(lo.len(), inserted.len());
        let rank: BTreeMap<u32, usize> = lo.iter().enumerate().map(|(i, &v)| (v, i)).collect();
        for obs in h.observations.iter().chain(std::iter::once(&sync_all(&h)?.to_vec())) {
            let ranks: Vec<usize> = obs.iter().map(|v| rank[v]).collect();
            prop_assert!(
                ranks.windows(2).all(|w| w[0] < w[1]),
                "Q3: {:?} is not a subsequence of {:?}", obs, lo
            );
        }
    }

    /// Q5 deletes are final (checked on every step inside `run_history`),
    /// and after full sync exactly the values never deleted remain.
    #[test]
    fn q5_deleted_elements_never_reappear(
        ids in replica_ids(3),
        evs in events(3, script_len()),
    ) {
        let h = run_history(&ids, &evs)?;
        let all = sync_all(&h)?;
        let mut inserted = BTreeSet::new();
        let mut deleted = BTreeSet::new();
        for (_, made) in &h.deltas {
            match made {
                Made::Inserted(vs) => inserted.extend(vs.iter().copied()),
                Made::Deleted(vs) => deleted.extend(vs.iter().copied()),
            }
        }
        let want: BTreeSet<u32> = inserted.difference(&deleted).copied().collect();
        let got: BTreeSet<u32> = all.to_vec().into_iter().collect();
        prop_assert_eq!(got, want);
    }
}

// ===========================================================================
// Anchors
// ===========================================================================

proptest! {
    #![proptest_config(config())]

    /// An anchor taken at index `i` with `Bias::Right` resolves to the index
    /// of the element that was at `i`; with `Bias::Left`, to one past the
    /// element that was at `i - 1` — on every replica, after concurrent
    /// inserts anywhere (also at the anchor) and deletes of other elements.
    #[test]
    fn anchors_follow_their_element_through_concurrent_edits(
        ids in replica_ids(3),
        init in 1usize..12,
        at in any::<u16>(),
        evs in events(3, script_len()),
    ) {
        let rid: Vec<ReplicaId> = ids.iter().map(|&i| ReplicaId::new(i)).collect();
        let mut lists: Vec<List<u32>> = vec![List::new(); 3];
        let mut next = 0u32;
        let d = lists[0].insert_from(rid[0], 0, (0..init as u32).collect::<Vec<_>>()).unwrap();
        next += init as u32;
        for l in &mut lists[1..] {
            l.join(d.clone());
        }
        // Right: the element at i (i < init); Left: after the element at j - 1 (j >= 1).
        let i = Pos::Frac(at).delete_index(init);
        let j = 1 + Pos::Frac(at).delete_index(init);
        let right = lists[0].anchor(i, Bias::Right).unwrap();
        let left = lists[0].anchor(j, Bias::Left).unwrap();
        let start = lists[0].anchor(0, Bias::Left).unwrap();
        let end = lists[0].anchor(init, Bias::Right).unwrap();
        let (rv, lv) = (i as u32, (j - 1) as u32);
        let protected = [rv, lv];
        // The anchors travel (serde) to the other replicas.
        let right: converge::Anchor = serde_json::from_str(&serde_json::to_string(&right).unwrap()).unwrap();
        let mut deltas: Vec<List<u32>> = vec![d];
        for ev in &evs {
            match *ev {
                Ev::Edit { r, roll, at, n, backwards } => {
                    let len = lists[r].len();
                    let mut edit = resolve_edit(roll, at, n, backwards, len);
                    if let Local::Delete(a, _) = edit {
                        // Delete one element that is not anchored.
                        let v = lists[r].to_vec()[a];
                        if protected.contains(&v) {
                            continue;
                        }
                        edit = Local::Delete(a, a + 1);
                    }
                    for (d, _) in apply_local(&mut lists[r], rid[r], &edit, &mut next)? {
                        deltas.push(d);
                    }
                }
                Ev::Deliver { to, k } => {
                    let d = deltas[k % deltas.len()].clone();
                    lists[to].join(d);
                }
                Ev::Join { to, from } => {
                    let other = lists[from].clone();
                    lists[to].join(other);
                }
            }
            for (k, l) in lists.iter().enumerate() {
                let shown = l.to_vec();
                let ri = shown.iter().position(|&v| v == rv).unwrap();
                let li = shown.iter().position(|&v| v == lv).unwrap();
                prop_assert_eq!(l.resolve(&right), Some(ri), "Bias::Right on replica {}: {:?}", k, shown);
                prop_assert_eq!(l.resolve(&left), Some(li + 1), "Bias::Left on replica {}: {:?}", k, shown);
                prop_assert_eq!(l.resolve(&start), Some(0), "Bias::Left at 0 stays at the start");
                prop_assert_eq!(l.resolve(&end), Some(shown.len()), "Bias::Right at the end stays at the end");
            }
        }
    }
}

// ===========================================================================
// Differential oracle: a slow reference list CRDT
// ===========================================================================

/// `(replica, seq)`: seqs count the reference's own inserts, from 1.
type RefId = (u64, u64);

#[derive(Clone, Debug)]
struct RefItem {
    id: RefId,
    origin_left: Option<RefId>,
    origin_right: Option<RefId>,
    value: u32,
}

/// The reference: every item ever inserted, in document order, plus the set
/// of deleted ids. Integration is YjsMod (== FugueMax), one item at a time,
/// in causal order; the obvious O(n²) code, with no runs, no trees, no
/// pending queue.
#[derive(Clone, Debug, Default)]
struct RefDoc {
    items: Vec<RefItem>,
    /// Last seq integrated per replica.
    version: BTreeMap<u64, u64>,
    deleted: BTreeSet<RefId>,
}

impl RefDoc {
    fn has(&self, id: Option<RefId>) -> bool {
        match id {
            None => true,
            Some((_, 0)) => true,
            Some((r, s)) => self.version.get(&r).is_some_and(|&v| v >= s),
        }
    }

    fn index(&self, id: RefId) -> usize {
        self.items
            .iter()
            .position(|it| it.id == id)
            .expect("origin integrated")
    }

    /// Index of a left origin; -1 for the start.
    fn left_index(&self, id: Option<RefId>) -> isize {
        id.map_or(-1, |id| self.index(id) as isize)
    }

    /// Index of a right origin; the length for the end.
    fn right_index(&self, id: Option<RefId>) -> usize {
        id.map_or(self.items.len(), |id| self.index(id))
    }

    /// YjsMod integration: scan from just after the left origin up to the
    /// right origin; items whose left origin is further left end the scan;
    /// items with the same left origin and a right origin further right are
    /// skipped; with the same right origin too (a true conflict) the smaller
    /// replica id goes first; items with the same left origin and a right
    /// origin closer in are skipped tentatively ("scanning") — we go after
    /// them only if a later item says so.
    fn integrate(&mut self, item: RefItem) {
        let (agent, seq) = item.id;
        assert_eq!(
            self.version.get(&agent).copied().unwrap_or(0) + 1,
            seq,
            "reference integrates in causal order"
        );
        self.version.insert(agent, seq);
        let left = self.left_index(item.origin_left);
        let right = self.right_index(item.origin_right);
        let mut dest = (left + 1) as usize;
        let mut scanning = false;
        let mut i = dest;
        loop {
            if !scanning {
                dest = i;
            }
            if i == self.items.len() || i == right {
                break;
            }
            let other = &self.items[i];
            let oleft = self.left_index(other.origin_left);
            let oright = self.right_index(other.origin_right);
            if oleft < left {
                break;
            }
            if oleft == left {
                if oright < right {
                    scanning = true;
                } else if oright == right {
                    if agent < other.id.0 {
                        break;
                    }
                    scanning = false;
                } else {
                    scanning = false;
                }
            }
            i += 1;
        }
        self.items.insert(dest, item);
    }

    fn is_visible(&self, it: &RefItem) -> bool {
        !self.deleted.contains(&it.id)
    }

    /// Where a local insert before visible index `pos` goes in `items`:
    /// directly after the visible item `pos - 1` (the start for 0), before
    /// any tombstones that follow it — the rule of `converge` (and of Yjs'
    /// arrays). reference-crdts' `localInsert` instead goes after those
    /// tombstones; both keep the origins adjacent (Q12), but concurrent
    /// histories then differ, so the oracle generates origins the way the
    /// implementation under test documents and checks integration.
    fn raw_index(&self, pos: usize) -> usize {
        if pos == 0 {
            return 0;
        }
        let mut seen = 0;
        for (k, it) in self.items.iter().enumerate() {
            if self.is_visible(it) {
                seen += 1;
                if seen == pos {
                    return k + 1;
                }
            }
        }
        panic!("reference: insert past the end");
    }

    fn local_insert(&mut self, agent: u64, pos: usize, value: u32) {
        let k = self.raw_index(pos);
        let item = RefItem {
            id: (agent, self.version.get(&agent).copied().unwrap_or(0) + 1),
            origin_left: k.checked_sub(1).map(|k| self.items[k].id),
            origin_right: self.items.get(k).map(|it| it.id),
            value,
        };
        self.integrate(item);
    }

    fn local_delete(&mut self, a: usize, b: usize) {
        let ids: Vec<RefId> = self
            .items
            .iter()
            .filter(|it| self.is_visible(it))
            .skip(a)
            .take(b - a)
            .map(|it| it.id)
            .collect();
        self.deleted.extend(ids);
    }

    /// Merges everything `src` has, integrating its items in a causal order.
    fn merge(&mut self, src: &RefDoc) {
        loop {
            let mut missing = false;
            let mut progress = false;
            for it in &src.items {
                if self.has(Some(it.id)) {
                    continue;
                }
                missing = true;
                if self.has(Some((it.id.0, it.id.1 - 1)))
                    && self.has(it.origin_left)
                    && self.has(it.origin_right)
                {
                    self.integrate(it.clone());
                    progress = true;
                }
            }
            if !missing {
                break;
            }
            assert!(progress, "reference: causally closed source");
        }
        self.deleted.extend(src.deleted.iter().copied());
    }

    fn visible(&self) -> Vec<u32> {
        self.items
            .iter()
            .filter(|it| self.is_visible(it))
            .map(|it| it.value)
            .collect()
    }
}

/// Hand-checked reference behaviour on the reference-crdts fixtures, so that
/// the oracle itself is trusted.
#[test]
fn oracle_passes_the_reference_crdts_fixtures() {
    let (a, b) = (1u64, 2u64);
    // concurrentAvsB: smaller replica first.
    let mut x = RefDoc::default();
    let mut y = RefDoc::default();
    x.local_insert(a, 0, 1);
    y.local_insert(b, 0, 2);
    x.merge(&y);
    y.merge(&x);
    assert_eq!(x.visible(), [1, 2]);
    assert_eq!(y.visible(), [1, 2]);
    // interleavingForward: aaa bbb.
    let mut x = RefDoc::default();
    let mut y = RefDoc::default();
    for k in 0..3 {
        x.local_insert(a, k, 10 + k as u32);
        y.local_insert(b, k, 20 + k as u32);
    }
    x.merge(&y);
    assert_eq!(x.visible(), [10, 11, 12, 20, 21, 22]);
    // interleavingBackward: each typed at 0.
    let mut x = RefDoc::default();
    let mut y = RefDoc::default();
    for k in 0..3 {
        x.local_insert(a, 0, 12 - k);
        y.local_insert(b, 0, 22 - k);
    }
    x.merge(&y);
    assert_eq!(x.visible(), [10, 11, 12, 20, 21, 22]);
    // withTails: x, then x0 before and x1 after, on both.
    let mut x = RefDoc::default();
    let mut y = RefDoc::default();
    for (d, r, base) in [(&mut x, a, 10u32), (&mut y, b, 20u32)] {
        d.local_insert(r, 0, base + 1);
        d.local_insert(r, 0, base);
        d.local_insert(r, 2, base + 2);
    }
    x.merge(&y);
    y.merge(&x);
    assert_eq!(x.visible(), [10, 11, 12, 20, 21, 22]);
    assert_eq!(y.visible(), x.visible());
    // localVsConcurrent: a and c from different replicas, d between them by
    // a replica that saw both, b concurrent.
    let mut x = RefDoc::default();
    let mut y = RefDoc::default();
    let mut z = RefDoc::default();
    x.local_insert(a, 0, 1); // a
    y.local_insert(b, 0, 3); // c
    x.merge(&y);
    x.local_insert(a, 1, 4); // d between a and c
    z.local_insert(3, 0, 2); // b, concurrent
    z.merge(&x);
    let v = z.visible();
    let pos = |val| v.iter().position(|&w| w == val).unwrap();
    assert_eq!(pos(4), pos(1) + 1, "{v:?}");
    assert_eq!(pos(3), pos(4) + 1, "{v:?}");
}

proptest! {
    #![proptest_config(config())]

    /// Differential oracle (b.2's sequence oracle): on every replica after
    /// every step the `List<u32>` shows what the reference shows; at the
    /// end a fresh `List<u32>` that receives every delta in a random order
    /// with duplicates and causal gaps shows what the reference shows after
    /// merging all replicas.
    #[test]
    fn q1_list_matches_a_reference_yjsmod_implementation(
        ids in replica_ids(3),
        evs in events(3, script_len()),
        order in proptest::collection::vec(any::<usize>(), 0..128),
    ) {
        let n = ids.len();
        let mut lists: Vec<List<u32>> = vec![List::new(); n];
        let mut refs: Vec<RefDoc> = vec![RefDoc::default(); n];
        let mut deltas: Vec<List<u32>> = Vec::new();
        let mut next = 0u32;
        for ev in &evs {
            let touched = match *ev {
                Ev::Edit { r, roll, at, n: k, backwards } => {
                    let edit = resolve_edit(roll, at, k, backwards, lists[r].len());
                    let first = next;
                    for (d, _) in apply_local(&mut lists[r], ReplicaId::new(ids[r]), &edit, &mut next)? {
                        deltas.push(d);
                    }
                    match edit {
                        Local::Insert(i, cnt, false) => {
                            for k in 0..cnt {
                                refs[r].local_insert(ids[r], i + k, first + k as u32);
                            }
                        }
                        Local::Insert(i, cnt, true) => {
                            for k in (0..cnt).rev() {
                                refs[r].local_insert(ids[r], i, first + k as u32);
                            }
                        }
                        Local::Delete(a, b) => refs[r].local_delete(a, b),
                    }
                    r
                }
                // Full-state syncs keep every replica causally closed, which
                // the reference needs; the random-order delivery is tested on
                // the collector below.
                Ev::Deliver { to, k } | Ev::Join { to, from: k } => {
                    let from = k % n;
                    let other = lists[from].clone();
                    lists[to].join(other);
                    let src = refs[from].clone();
                    refs[to].merge(&src);
                    to
                }
            };
            prop_assert_eq!(
                lists[touched].to_vec(),
                refs[touched].visible(),
                "replica {} differs from the reference after {:?}", touched, ev
            );
        }
        // The collector: random order with duplicates, then every delta
        // again from the last to the first (maximal causal gaps).
        let mut collector: List<u32> = List::new();
        if !deltas.is_empty() {
            for &k in &order {
                collector.join(deltas[k % deltas.len()].clone());
                collector.check_invariants().map_err(fail)?;
            }
        }
        for d in deltas.iter().rev() {
            collector.join(d.clone());
        }
        let mut all = RefDoc::default();
        for r in &refs {
            all.merge(r);
        }
        prop_assert_eq!(collector.pending_len(), 0, "B16: pending after every delta arrived");
        prop_assert_eq!(collector.to_vec(), all.visible(), "collector differs from the reference");
        let joined = lists.iter().cloned().fold(List::new(), |acc, x| acc.joined(x));
        prop_assert_eq!(&collector, &joined, "L14: deltas in any order == full states");
    }
}

// ===========================================================================
// Nesting: OrMap<u8, Embedded<Text>>
// ===========================================================================

type Doc = OrMap<u8, Embedded<Text>>;

#[derive(Clone, Debug)]
enum DocEv {
    Op(usize, MapOp<SeqOp>),
    Deliver(usize, usize),
    Join(usize, usize),
    DigestSync(usize, usize),
}

fn doc_events() -> impl Strategy<Value = Vec<DocEv>> {
    let ev = prop_oneof![
        6 => (0..2usize, Doc::op_strategy()).prop_map(|(r, o)| DocEv::Op(r, o)),
        3 => (0..2usize, any::<usize>()).prop_map(|(r, k)| DocEv::Deliver(r, k)),
        1 => (0..2usize, 0..2usize).prop_map(|(a, b)| DocEv::Join(a, b)),
        1 => (0..2usize, 0..2usize).prop_map(|(a, b)| DocEv::DigestSync(a, b)),
    ];
    proptest::collection::vec(ev, script_len())
}

fn texts(doc: &Doc) -> BTreeMap<u8, String> {
    doc.iter()
        .map(|(k, v)| (*k, v.value().to_string()))
        .collect()
}

proptest! {
    #![proptest_config(config())]

    /// Two replicas edit texts nested in a map (updates, concurrent edits of
    /// one key, key removals), exchange deltas in random order with
    /// duplicates, full states and digests; once everything is delivered
    /// they are equal and show the same texts.
    #[test]
    fn l14_nested_texts_in_a_map_converge(
        ids in replica_ids(2),
        evs in doc_events(),
    ) {
        let rid: Vec<ReplicaId> = ids.iter().map(|&i| ReplicaId::new(i)).collect();
        let mut docs: Vec<Doc> = vec![Doc::new(), Doc::new()];
        let mut deltas: Vec<Doc> = Vec::new();
        for ev in &evs {
            match ev {
                DocEv::Op(r, op) => {
                    let before = docs[*r].clone();
                    let d = docs[*r].apply(rid[*r], op);
                    check_edit(&before, &docs[*r], &d)?;
                    deltas.push(d);
                }
                DocEv::Deliver(r, k) => {
                    if !deltas.is_empty() {
                        let d = deltas[k % deltas.len()].clone();
                        converge::laws::join_checked(&mut docs[*r], d).map_err(fail)?;
                    }
                }
                DocEv::Join(a, b) => {
                    let other = docs[*b].clone();
                    converge::laws::join_checked(&mut docs[*a], other).map_err(fail)?;
                }
                DocEv::DigestSync(a, b) => {
                    let d = docs[*b].delta_since(&docs[*a].summary());
                    converge::laws::join_checked(&mut docs[*a], d).map_err(fail)?;
                }
            }
            for d in &docs {
                d.check_invariants().map_err(fail)?;
            }
        }
        for d in deltas.iter().rev() {
            docs[0].join(d.clone());
            docs[1].join(d.clone());
        }
        prop_assert_eq!(&docs[0], &docs[1]);
        prop_assert_eq!(texts(&docs[0]), texts(&docs[1]));
        for (_, v) in docs[0].iter() {
            prop_assert_eq!(v.value().pending_len(), 0);
        }
    }
}

// ===========================================================================
// Named regressions (shrunk failures of the properties above)
// ===========================================================================

/// Shrunk from `q3`, `q5`, `q1`, the anchors property and the `laws` D3/L14
/// suites for `List`/`Text`: a delete that arrives while the item it deletes
/// still waits for its origin. In every delivery order, every intermediate
/// state is valid and survives a serde round trip, and the end state is the
/// sender's. The delta group "insert ⊔ delete" is itself a valid state (L9).
#[test]
fn q5_b16_a_delete_for_an_item_still_waiting_for_its_origin_keeps_the_state_valid() {
    let a = ReplicaId::new(1);
    let mut src = Text::new();
    let d1 = src.insert(a, 0, "x").unwrap();
    let d2 = src.insert(a, 1, "y").unwrap(); // waits for x
    let d3 = src.delete(a, 1..2).unwrap(); // deletes y
    assert_eq!(src.to_string(), "x");
    let ds = [d1, d2, d3];
    for order in [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ] {
        let mut r = Text::new();
        for &k in &order {
            r.join(ds[k].clone());
            assert_eq!(
                r.check_invariants(),
                Ok(()),
                "order {order:?}, after delta {k}"
            );
            let json = serde_json::to_string(&r).unwrap();
            let back: Text = serde_json::from_str(&json)
                .unwrap_or_else(|e| panic!("order {order:?}: {e} decoding {json}"));
            assert_eq!(back, r);
        }
        assert_eq!(r, src, "order {order:?}");
        assert_eq!(r.to_string(), "x");
        assert_eq!(r.pending_len(), 0);
    }
    let group = ds[1].clone().joined(ds[2].clone());
    assert_eq!(group.check_invariants(), Ok(()), "L9: {group:?}");
}

/// Shrunk from `l14_nested_texts_in_a_map_converge`: a `Text` nested in an
/// `Embedded` (or an `OrMap` entry) restarts from bottom after a reset (key
/// removal), so its replica's next dots restart at 1 and collide with the
/// dots that replica used before the reset, which concurrent siblings still
/// hold. Replica 5's delete `r5:1` (of replica 8's "a") and its later insert
/// `r5:1` ("c") then meet in `value()`, which must still be a valid text
/// showing "b" and "c" and not "a".
#[test]
fn nested_text_recreated_after_a_reset_keeps_a_valid_value() {
    let (r8, r5) = (ReplicaId::new(8), ReplicaId::new(5));
    let mut x: Embedded<Text> = Embedded::new();
    x.update(r8, |t| t.insert(r8, 0, "a").unwrap());
    let mut y = x.clone();
    let del = y.update(r5, |t| t.delete(r5, 0..1).unwrap());
    x.join(del);
    x.update(r8, |t| t.insert(r8, 0, "b").unwrap());
    y.reset();
    y.update(r5, |t| t.insert(r5, 0, "c").unwrap());
    let z = x.clone().joined(y.clone());
    assert_eq!(z, y.clone().joined(x.clone()));
    let value = z.value();
    assert_eq!(value.check_invariants(), Ok(()), "value {value:?}");
    let mut shown: Vec<char> = value.to_string().chars().collect();
    shown.sort_unstable();
    assert_eq!(shown, ['b', 'c']);
}
