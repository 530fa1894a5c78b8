//! Bad input (TESTPLAN b.5): invariant-breaking states built in memory and
//! from bytes, counters and clocks at their extremes, hostile length prefixes,
//! random bytes and type confusion.
//!
//! Contract checked here: no panic or abort on any bytes (C1); a typed error,
//! asserted exactly where the API exposes one (C2); a rejected
//! `validated_join` leaves the target unchanged, byte for byte (C3); semantic
//! validation happens at decode (C7).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Debug;
use std::time::{Duration, Instant};

use converge::*;
#[path = "common/rng.rs"]
mod rng;
use rng::SplitMix64;
use serde::de::DeserializeOwned;
use serde::Serialize;

const A: ReplicaId = ReplicaId::new(1);
const B: ReplicaId = ReplicaId::new(2);

fn dot(r: ReplicaId, c: u64) -> Dot {
    Dot::new(r, c)
}

/// The serde_json error for `json`, which must be rejected.
fn json_error<T: DeserializeOwned + Debug>(json: &str) -> String {
    match serde_json::from_str::<T>(json) {
        Ok(v) => panic!("accepted {json}\n as {v:?}"),
        Err(e) => e.to_string(),
    }
}

/// `json` is rejected with exactly `expected` (serde_json appends the position).
fn assert_json_rejects<T: DeserializeOwned + Debug>(json: &str, expected: &InvariantViolation) {
    let msg = json_error::<T>(json);
    assert!(
        msg.starts_with(&expected.to_string()),
        "{json}\n expected `{expected}`\n got      `{msg}`"
    );
}

/// `validated_join(bad)` fails with `expected` and leaves `target` unchanged,
/// compared on its JSON and postcard encodings.
fn assert_rejected_join<T>(target: &T, bad: T, expected: &InvariantViolation)
where
    T: Validate + Serialize + Debug,
{
    let json_before = serde_json::to_string(target).unwrap();
    let bytes_before = postcard::to_allocvec(target).unwrap();
    let mut t = target.clone();
    assert_eq!(t.validated_join(bad).as_ref(), Err(expected));
    assert_eq!(serde_json::to_string(&t).unwrap(), json_before);
    assert_eq!(postcard::to_allocvec(&t).unwrap(), bytes_before);
    assert_eq!(&t, target);
}

fn some_orset() -> OrSet<String> {
    let mut s = OrSet::new();
    s.insert(B, "kept".to_string());
    s.insert(A, "x".to_string());
    s
}

// ===========================================================================
// B8: a dot in the store not covered by the context (I1)
// ===========================================================================

/// B8 in memory: states assembled with `from_parts` whose store holds a dot
/// the context lacks are reported as `DotNotInContext`, and rejected by
/// `validated_join` with the target unchanged; serialising such a state and
/// decoding it again fails the same way.
#[test]
fn b8_dot_not_in_context_built_with_from_parts_is_rejected() {
    let mut s = OrSet::new();
    s.insert(A, "e".to_string());
    let (store, _) = s.clone().into_parts();
    let bad = OrSet::from_parts(store.clone(), CausalContext::new());
    let expected = InvariantViolation::DotNotInContext { dot: dot(A, 1) };
    assert_eq!(bad.check_invariants(), Err(expected.clone()));
    assert_rejected_join(&some_orset(), bad.clone(), &expected);
    let json = serde_json::to_string(&bad).unwrap();
    assert_json_rejects::<OrSet<String>>(&json, &expected);
    let bytes = postcard::to_allocvec(&bad).unwrap();
    assert!(postcard::from_bytes::<OrSet<String>>(&bytes).is_err());

    // A context that covers other dots, but not this one.
    let other_ctx = CausalContext::from_dots([dot(A, 2), dot(B, 1)]);
    let bad = OrSet::from_parts(store, other_ctx);
    assert_eq!(bad.check_invariants(), Err(expected.clone()));

    // MV register, causal counter, flag.
    let mut r = MvRegister::new();
    r.write(A, 3u32);
    let (store, _) = r.into_parts();
    let bad = MvRegister::from_parts(store, CausalContext::from_dots([dot(B, 1)]));
    assert_eq!(bad.check_invariants(), Err(expected.clone()));
    assert_json_rejects::<MvRegister<u32>>(&serde_json::to_string(&bad).unwrap(), &expected);

    let mut c = CausalCounter::new();
    c.increment(A, 3).unwrap();
    let (store, _) = c.into_parts();
    let bad = CausalCounter::from_parts(store, CausalContext::new());
    assert_eq!(bad.check_invariants(), Err(expected.clone()));

    let mut f = EwFlag::new();
    f.enable(A);
    let (store, _) = f.into_parts();
    let bad = EwFlag::from_parts(store, CausalContext::new());
    assert_eq!(bad.check_invariants(), Err(expected.clone()));
}

/// B8 in a map: a nested dot (in the value, not the key's presence) the map's
/// context lacks.
#[test]
fn b8_nested_dot_not_in_map_context_is_rejected() {
    let mut m: OrMap<String, OrSet<String>> = OrMap::new();
    m.update(A, "k".into(), |s| s.insert(A, "x".into())); // nested a:1, presence a:2
    let (store, _) = m.clone().into_parts();
    let bad: OrMap<String, OrSet<String>> =
        OrMap::from_parts(store, CausalContext::from_dots([dot(A, 2)]));
    let expected = InvariantViolation::DotNotInContext { dot: dot(A, 1) };
    assert_eq!(bad.check_invariants(), Err(expected.clone()));
    let target: OrMap<String, OrSet<String>> = OrMap::new();
    assert_rejected_join(&target, bad.clone(), &expected);
    assert_json_rejects::<OrMap<String, OrSet<String>>>(
        &serde_json::to_string(&bad).unwrap(),
        &expected,
    );
}

/// B8 from hand-written JSON.
#[test]
fn b8_dot_not_in_context_from_json_is_rejected() {
    let expected = InvariantViolation::DotNotInContext { dot: dot(A, 1) };
    assert_json_rejects::<OrSet<String>>(r#"[[["e",[{"replica":1,"counter":1}]]],[]]"#, &expected);
    assert_json_rejects::<OrSet<String>>(
        r#"[[["e",[{"replica":1,"counter":1}]]],[[1,[[2,5]]],[2,[[1,1]]]]]"#,
        &expected,
    );
    assert_json_rejects::<MvRegister<u32>>(r#"[[[{"replica":1,"counter":1},5]],[]]"#, &expected);
    assert_json_rejects::<CausalCounter>(
        r#"[[[{"replica":1,"counter":1},[5,0]]],[[2,[[1,1]]]]]"#,
        &expected,
    );
    assert_json_rejects::<EwFlag>(r#"[[{"replica":1,"counter":1}],[]]"#, &expected);
    assert_json_rejects::<RwSet<u8>>(
        r#"[[[3,[[{"replica":1,"counter":1},true]]]],[]]"#,
        &expected,
    );
    // The presence dot of a map entry.
    assert_json_rejects::<OrMap<String, OrSet<String>>>(
        r#"[[["k",[[{"replica":1,"counter":1}],[],[]]]],[]]"#,
        &expected,
    );
    // Counter 0 is never a dot.
    assert_json_rejects::<OrSet<String>>(
        r#"[[["e",[{"replica":1,"counter":0}]]],[[1,[[1,1]]]]]"#,
        &InvariantViolation::ZeroDot { replica: A },
    );
}

// ===========================================================================
// B9: one dot twice (I2)
// ===========================================================================

/// B9 in memory: the same dot on two elements (assembled with the public
/// `DotStore::join_store` under empty contexts) is `DuplicateDot`.
#[test]
fn b9_same_dot_on_two_elements_is_a_duplicate_dot() {
    let mut x = OrSet::new();
    x.insert(A, "milk".to_string());
    let mut y = OrSet::new();
    y.insert(A, "eggs".to_string());
    let (mut store, ctx) = x.into_parts();
    let (other, _) = y.into_parts();
    store.join_store(&CausalContext::new(), other, &CausalContext::new(), true);
    assert_eq!(store.len(), 2);
    let bad = OrSet::from_parts(store, ctx);
    let expected = InvariantViolation::DuplicateDot { dot: dot(A, 1) };
    assert_eq!(bad.check_invariants(), Err(expected.clone()));
    assert_rejected_join(&some_orset(), bad.clone(), &expected);
    assert_json_rejects::<OrSet<String>>(&serde_json::to_string(&bad).unwrap(), &expected);

    // Hand-written.
    assert_json_rejects::<OrSet<String>>(
        r#"[[["eggs",[{"replica":1,"counter":1}]],["milk",[{"replica":1,"counter":1}]]],[[1,[[1,1]]]]]"#,
        &expected,
    );
    // Two map keys whose MV values share a dot.
    assert_json_rejects::<OrMap<String, MvRegister<u32>>>(
        r#"[[["j",[[{"replica":1,"counter":2}],[],[[{"replica":1,"counter":1},5]]]],
             ["k",[[{"replica":1,"counter":3}],[],[[{"replica":1,"counter":1},6]]]]],
            [[1,[[1,3]]]]]"#,
        &expected,
    );
    // A key's presence dot reused inside its own value.
    assert_json_rejects::<OrMap<String, MvRegister<u32>>>(
        r#"[[["k",[[{"replica":1,"counter":1}],[],[[{"replica":1,"counter":1},5]]]]],[[1,[[1,1]]]]]"#,
        &expected,
    );
}

/// B9 within one element or one register: a repeated dot in a dot set, or two
/// MV values under one dot, cannot be built in memory (the sets are sorted
/// and deduplicated); the deserialiser rejects them as `Unsorted` (the
/// documented behaviour: strictly increasing dots are the wire's normal form).
#[test]
fn b9_same_dot_twice_in_one_element_or_register_is_rejected_as_unsorted() {
    let unsorted = InvariantViolation::Unsorted;
    assert_json_rejects::<OrSet<String>>(
        r#"[[["e",[{"replica":1,"counter":1},{"replica":1,"counter":1}]]],[[1,[[1,1]]]]]"#,
        &unsorted,
    );
    assert_json_rejects::<DotSet>(
        r#"[{"replica":1,"counter":1},{"replica":1,"counter":1}]"#,
        &unsorted,
    );
    assert_json_rejects::<DotSet>(
        r#"[{"replica":1,"counter":2},{"replica":1,"counter":1}]"#,
        &unsorted,
    );
    assert_json_rejects::<MvRegister<u32>>(
        r#"[[[{"replica":1,"counter":1},5],[{"replica":1,"counter":1},6]],[[1,[[1,1]]]]]"#,
        &unsorted,
    );
    assert_json_rejects::<MvRegister<u32>>(
        r#"[[[{"replica":1,"counter":1},5],[{"replica":1,"counter":1},5]],[[1,[[1,1]]]]]"#,
        &unsorted,
    );
    assert_json_rejects::<CausalCounter>(
        r#"[[[{"replica":2,"counter":1},[1,0]],[{"replica":1,"counter":1},[1,0]]],[[1,[[1,1]]],[2,[[1,1]]]]]"#,
        &unsorted,
    );
}

// ===========================================================================
// B10: contexts, vectors and maps not in normal form
// ===========================================================================

/// B10 for causal contexts: overlapping, adjacent, unsorted or empty ranges,
/// `lo = 0`, `lo > hi`, counters above `Dot::MAX_COUNTER`, repeated or unsorted
/// replicas. Each is rejected by the deserialiser (alone and inside a state)
/// and by `CausalContext::from_ranges`, which runs `check_invariants`.
#[test]
fn b10_context_not_in_normal_form_is_rejected() {
    let max = Dot::MAX_COUNTER;
    let nc = InvariantViolation::NonCanonicalContext { replica: A };
    type Ranges = Vec<(ReplicaId, u64, u64)>;
    let cases: Vec<(String, Ranges, InvariantViolation)> = vec![
        (
            "[[1,[[1,3],[2,5]]]]".into(),
            vec![(A, 1, 3), (A, 2, 5)],
            nc.clone(),
        ),
        (
            "[[1,[[1,5],[3,3]]]]".into(),
            vec![(A, 1, 5), (A, 3, 3)],
            nc.clone(),
        ),
        (
            "[[1,[[1,2],[3,4]]]]".into(),
            vec![(A, 1, 2), (A, 3, 4)],
            nc.clone(),
        ),
        (
            "[[1,[[5,6],[1,2]]]]".into(),
            vec![(A, 5, 6), (A, 1, 2)],
            nc.clone(),
        ),
        ("[[1,[[3,2]]]]".into(), vec![(A, 3, 2)], nc.clone()),
        (
            format!("[[1,[[1,{}]]]]", max + 1),
            vec![(A, 1, max + 1)],
            nc.clone(),
        ),
        (
            format!("[[1,[[{},{}]]]]", max + 1, max + 1),
            vec![(A, max + 1, max + 1)],
            nc.clone(),
        ),
        (
            format!("[[1,[[1,{}]]]]", u64::MAX),
            vec![(A, 1, u64::MAX)],
            nc.clone(),
        ),
        (
            "[[1,[[0,2]]]]".into(),
            vec![(A, 0, 2)],
            InvariantViolation::ZeroDot { replica: A },
        ),
        (
            "[[1,[[0,0]]]]".into(),
            vec![(A, 0, 0)],
            InvariantViolation::ZeroDot { replica: A },
        ),
        (
            "[[2,[[1,1]]],[1,[[1,1]]]]".into(),
            vec![(B, 1, 1), (A, 1, 1)],
            InvariantViolation::Unsorted,
        ),
    ];
    for (json, ranges, expected) in &cases {
        assert_json_rejects::<CausalContext>(json, expected);
        assert_json_rejects::<OrSet<String>>(&format!("[[],{json}]"), expected);
        assert_json_rejects::<MvRegister<u32>>(&format!("[[],{json}]"), expected);
        assert_json_rejects::<OrMap<String, CausalCounter>>(&format!("[[],{json}]"), expected);
        assert_eq!(
            CausalContext::from_ranges(ranges.iter().copied()).as_ref(),
            Err(expected),
            "{json}"
        );
    }
    // Wire-only malformations (no in-memory form exists): a replica repeated
    // as two entries, and a replica with no ranges.
    assert_json_rejects::<CausalContext>(
        "[[1,[[1,1]]],[1,[[3,3]]]]",
        &InvariantViolation::Unsorted,
    );
    assert_json_rejects::<CausalContext>(
        "[[1,[[1,1]]],[1,[[1,1]]]]",
        &InvariantViolation::Unsorted,
    );
    assert_json_rejects::<CausalContext>("[[1,[]]]", &InvariantViolation::ZeroEntry { replica: A });

    // The boundary itself is fine.
    let edge = format!("[[1,[[1,{max}]]]]");
    let cx: CausalContext = serde_json::from_str(&edge).unwrap();
    assert_eq!(cx.max_counter(A), max);
    assert!(CausalContext::from_ranges([(A, 1, max)]).is_ok());
    assert!(CausalContext::from_ranges([(A, 1, 1), (A, 3, max)]).is_ok());
}

/// Counters above `Dot::MAX_COUNTER` in a context are `NonCanonicalContext`
/// (so local counters can never overflow); a store dot above it can never be
/// covered, so it is `DotNotInContext`.
#[test]
fn counters_above_max_counter_are_rejected() {
    let big = Dot::MAX_COUNTER + 1;
    let nc = InvariantViolation::NonCanonicalContext { replica: A };
    assert_json_rejects::<CausalContext>(&format!("[[1,[[{big},{big}]]]]"), &nc);
    assert_json_rejects::<EwFlag>(
        &format!(r#"[[{{"replica":1,"counter":{big}}}],[[1,[[1,{big}]]]]]"#),
        &nc,
    );
    assert_json_rejects::<EwFlag>(
        &format!(
            r#"[[{{"replica":1,"counter":{big}}}],[[1,[[1,{}]]]]]"#,
            Dot::MAX_COUNTER
        ),
        &InvariantViolation::DotNotInContext { dot: dot(A, big) },
    );
    assert_eq!(CausalContext::from_ranges([(A, 1, big)]), Err(nc));
}

/// A context at `Dot::MAX_COUNTER` for this replica is well-formed, but no
/// honest peer can send it: only this replica generates its own events. Had
/// it been accepted, this replica's next event would lie above the counter
/// range and every later state would be rejected by every peer. The join for
/// network input, `validated_join_as`, rejects it (`UnknownLocalEvent`) and
/// leaves the replica unchanged; local mutations keep producing valid states
/// that decode at peers and whose removes propagate.
#[test]
fn a_forged_context_at_max_counter_for_our_replica_is_rejected_and_local_mutations_stay_valid() {
    let max = Dot::MAX_COUNTER;
    let remote: OrSet<String> =
        serde_json::from_str(&format!("[[],[[1,[[{max},{max}]]]]]")).unwrap();
    remote.check_invariants().unwrap();
    let mut local = OrSet::new();
    local.insert(B, "b".to_string());
    local.insert(A, "a".to_string());
    let before = serde_json::to_string(&local).unwrap();
    assert_eq!(
        local.validated_join_as(A, remote.clone()),
        Err(InvariantViolation::UnknownLocalEvent { dot: dot(A, max) })
    );
    assert_eq!(serde_json::to_string(&local).unwrap(), before);
    // The same state is fine for a replica whose id it does not claim.
    assert_eq!(local.clone().validated_join_as(B, remote), Ok(true));

    let delta = local.insert(A, "mine".to_string());
    assert_eq!(
        local.check_invariants(),
        Ok(()),
        "local state after insert: {local:?}"
    );
    assert_eq!(delta.check_invariants(), Ok(()), "insert delta: {delta:?}");
    let json = serde_json::to_string(&local).unwrap();
    let back: OrSet<String> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, local);

    // A remove must reach a peer that got the insert.
    let mut peer = OrSet::new();
    assert_eq!(peer.validated_join_as(B, delta), Ok(true));
    let rm = local.remove(&"mine".to_string());
    assert_eq!(peer.validated_join_as(B, rm), Ok(true));
    assert!(
        !peer.contains(&"mine".to_string()),
        "remove did not propagate: {peer:?}"
    );
}

/// The other types reject forged claims on the local replica too.
#[test]
fn counters_and_lww_reject_claims_on_the_local_replica() {
    let mut forged = GCounter::new();
    forged.increment(A, 9).unwrap();
    let mut mine = GCounter::new();
    mine.increment(A, 3).unwrap();
    assert_eq!(
        mine.validated_join_as(A, forged.clone()),
        Err(InvariantViolation::UnknownLocalEvent { dot: dot(A, 9) })
    );
    assert_eq!(mine.get(A), 3);
    assert_eq!(mine.clone().validated_join_as(B, forged), Ok(true));

    let mut forged = PnCounter::new();
    forged.decrement(A, 2).unwrap();
    assert!(PnCounter::new().validated_join_as(A, forged).is_err());

    let mut forged = LwwRegister::new();
    forged.write(A, 1u8, 50).unwrap();
    let mut mine = LwwRegister::new();
    mine.write(A, 2u8, 10).unwrap();
    assert_eq!(
        mine.validated_join_as(A, forged),
        Err(InvariantViolation::UnknownLocalEvent { dot: dot(A, 50) })
    );
    assert_eq!(mine.value(), Some(&2));
}

/// B10 for version vectors (G-counter, PN-counter halves, LWW `seen`): a zero
/// entry is `ZeroEntry`; a repeated or unsorted replica is `Unsorted`. In
/// memory these cannot arise: `VersionVector::from_entries` drops zeros and
/// keeps the maximum of repeats.
#[test]
fn b10_version_vector_zero_duplicate_and_unsorted_entries_are_rejected() {
    let zero = InvariantViolation::ZeroEntry { replica: A };
    let unsorted = InvariantViolation::Unsorted;
    assert_json_rejects::<VersionVector>("[[1,0]]", &zero);
    assert_json_rejects::<GCounter>("[[1,0]]", &zero);
    assert_json_rejects::<GCounter>("[[1,3],[1,4]]", &unsorted);
    assert_json_rejects::<GCounter>("[[1,3],[1,3]]", &unsorted);
    assert_json_rejects::<GCounter>("[[2,3],[1,4]]", &unsorted);
    assert_json_rejects::<PnCounter>(r#"{"inc":[[1,5]],"dec":[[1,0]]}"#, &zero);
    assert_json_rejects::<PnCounter>(r#"{"inc":[[2,5],[1,5]],"dec":[]}"#, &unsorted);
    assert_json_rejects::<LwwRegister<u32>>(
        r#"{"current":[{"timestamp":5,"replica":1},7],"seen":[[1,5],[2,0]]}"#,
        &InvariantViolation::ZeroEntry { replica: B },
    );
    assert_json_rejects::<LwwRegister<u32>>(
        r#"{"current":[{"timestamp":5,"replica":1},7],"seen":[[1,5],[1,5]]}"#,
        &unsorted,
    );
    // An LWW winner its own `seen` vector does not cover.
    assert_json_rejects::<LwwRegister<u32>>(
        r#"{"current":[{"timestamp":5,"replica":1},7],"seen":[[1,4]]}"#,
        &InvariantViolation::UnseenWinner { replica: A },
    );

    let v = VersionVector::from_entries([(A, 0), (B, 3), (B, 1)]);
    assert_eq!(v.iter().collect::<Vec<_>>(), [(B, 3)]);
    v.check_invariants().unwrap();
    assert_eq!(GCounter::from_entries([(A, 0)]), GCounter::new());
}

/// B10 for dot maps: unsorted or repeated keys are `Unsorted`, an entry whose
/// nested store is empty is `EmptyEntry` (wire-only: in memory an empty entry
/// is a delta's key hint, which `check_invariants` accepts and serialisation
/// drops).
#[test]
fn b10_unsorted_repeated_or_empty_map_entries_are_rejected() {
    let unsorted = InvariantViolation::Unsorted;
    let empty = InvariantViolation::EmptyEntry;
    let ctx = "[[1,[[1,3]]]]";
    let a1 = r#"{"replica":1,"counter":1}"#;
    let a2 = r#"{"replica":1,"counter":2}"#;
    let a3 = r#"{"replica":1,"counter":3}"#;
    assert_json_rejects::<OrSet<String>>(
        &format!(r#"[[["b",[{a1}]],["a",[{a2}]]],{ctx}]"#),
        &unsorted,
    );
    assert_json_rejects::<OrSet<String>>(
        &format!(r#"[[["a",[{a1}]],["a",[{a2}]]],{ctx}]"#),
        &unsorted,
    );
    assert_json_rejects::<OrSet<u32>>(&format!(r#"[[[10,[{a1}]],[9,[{a2}]]],{ctx}]"#), &unsorted);
    assert_json_rejects::<OrSet<String>>(&format!(r#"[[["a",[]]],{ctx}]"#), &empty);
    assert_json_rejects::<OrSet<String>>(&format!(r#"[[["a",[{a1}]],["b",[]]],{ctx}]"#), &empty);
    assert_json_rejects::<RwSet<u8>>(&format!(r#"[[[3,[]]],{ctx}]"#), &empty);
    assert_json_rejects::<OrMap<String, OrSet<String>>>(
        &format!(r#"[[["k",[[],[],[]]]],{ctx}]"#),
        &empty,
    );
    // Nested: an empty element inside a visible key.
    assert_json_rejects::<OrMap<String, OrSet<String>>>(
        &format!(r#"[[["k",[[{a3}],[],[["x",[]]]]]],{ctx}]"#),
        &empty,
    );
    assert_json_rejects::<OrMap<String, OrSet<String>>>(
        &format!(r#"[[["k",[[{a3}],[],[["y",[{a1}]],["x",[{a2}]]]]]],{ctx}]"#),
        &unsorted,
    );

    // In memory, a remove delta's key hint is not a violation.
    let mut s = some_orset();
    let delta = s.remove(&"x".to_string());
    assert_eq!(delta.check_invariants(), Ok(()));
    let json = serde_json::to_string(&delta).unwrap();
    let back: OrSet<String> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, delta);
}

// ===========================================================================
// B12–B15: counters and clocks at their extremes
// ===========================================================================

/// B12: remote G-counter entries at `u64::MAX` decode and join; the value is
/// exact in `u128`; a local increment of such an entry is an `OverflowError`
/// and changes nothing. A value beyond `u64` is a decode error, not a panic.
#[test]
fn b12_gcounter_at_u64_max_from_remote() {
    let m = u64::MAX;
    let r1: GCounter = serde_json::from_str(&format!("[[1,{m}],[2,{m}]]")).unwrap();
    let r2: GCounter = serde_json::from_str(&format!("[[2,{m}],[3,{m}]]")).unwrap();
    let mut local = GCounter::new();
    local.increment(B, 7).unwrap();
    assert_eq!(local.validated_join(r1.clone()), Ok(true));
    assert_eq!(local.validated_join(r2.clone()), Ok(true));
    assert_eq!(local.value(), 3 * u128::from(m));
    assert_eq!(r1.clone().joined(r2.clone()), r2.joined(r1));
    let before = serde_json::to_string(&local).unwrap();
    let err = local.increment(A, 1).unwrap_err();
    assert_eq!((err.replica, err.current, err.amount), (A, m, 1));
    assert_eq!(serde_json::to_string(&local).unwrap(), before);
    assert!(serde_json::from_str::<GCounter>("[[1,18446744073709551616]]").is_err());
    assert!(serde_json::from_str::<GCounter>("[[1,-1]]").is_err());
}

/// B13: a PN-counter with both halves at the extremes decodes and reads
/// exactly in `i128`.
#[test]
fn b13_pncounter_at_extremes_from_remote() {
    let m = u64::MAX;
    let inc: Vec<String> = (1..=4).map(|r| format!("[{r},{m}]")).collect();
    let dec: Vec<String> = (1..=9).map(|r| format!("[{r},{m}]")).collect();
    let json = format!(r#"{{"inc":[{}],"dec":[{}]}}"#, inc.join(","), dec.join(","));
    let p: PnCounter = serde_json::from_str(&json).unwrap();
    assert_eq!(p.value(), -5 * i128::from(m));
    let only_inc: PnCounter =
        serde_json::from_str(&format!(r#"{{"inc":[{}],"dec":[]}}"#, inc.join(","))).unwrap();
    assert_eq!(only_inc.value(), 4 * i128::from(m));
    let mut local = PnCounter::new();
    local.validated_join(p).unwrap();
    let before = local.clone();
    assert!(local.decrement(A, 1).is_err());
    assert!(local.increment(A, 1).is_err());
    assert_eq!(local, before);
    local.increment(ReplicaId::new(99), 1).unwrap();
    assert_eq!(local.value(), -5 * i128::from(m) + 1);
}

/// B14 (W2): two LWW states with the same stamp and different values (a reused
/// replica id or a forged write) are rejected by `validated_join` as
/// `ConflictingWrite`, target unchanged; a plain `join` still commutes and is
/// idempotent (the tie is broken by the value's order).
#[test]
fn b14_lww_equal_stamp_different_values_is_a_conflicting_write() {
    let x: LwwRegister<u32> =
        serde_json::from_str(r#"{"current":[{"timestamp":5,"replica":1},7],"seen":[[1,5]]}"#)
            .unwrap();
    let y: LwwRegister<u32> =
        serde_json::from_str(r#"{"current":[{"timestamp":5,"replica":1},8],"seen":[[1,5]]}"#)
            .unwrap();
    let expected = InvariantViolation::ConflictingWrite {
        timestamp: 5,
        replica: A,
    };
    assert_rejected_join(&x, y.clone(), &expected);
    assert_rejected_join(&y, x.clone(), &expected);

    let xy = x.clone().joined(y.clone());
    let yx = y.clone().joined(x.clone());
    assert_eq!(xy, yx);
    assert_eq!(xy.value(), Some(&8));
    assert_eq!(xy.clone().joined(x.clone()), xy);
    assert_eq!(xy.clone().joined(xy.clone()), xy);

    // The same through actor reuse.
    let mut p = LwwRegister::new();
    let mut q = LwwRegister::new();
    p.write(A, "p", 10).unwrap();
    q.write(A, "q", 10).unwrap();
    assert_eq!(
        p.validated_join(q.clone()),
        Err(InvariantViolation::ConflictingWrite {
            timestamp: 10,
            replica: A
        })
    );
    assert_eq!(p.clone().joined(q.clone()), q.joined(p));
}

/// B15: a far-future timestamp is accepted (documented); local writes after it
/// keep working up to `u64::MAX` itself, and only then fail with
/// `OverflowError`, leaving the register unchanged.
#[test]
fn b15_far_future_lww_timestamp_is_accepted_and_overflows_only_at_u64_max() {
    let m = u64::MAX;
    let future: LwwRegister<u32> = serde_json::from_str(&format!(
        r#"{{"current":[{{"timestamp":{},"replica":2}},1],"seen":[[2,{}]]}}"#,
        m - 1,
        m - 1
    ))
    .unwrap();
    let mut local = LwwRegister::new();
    local.write(A, 0u32, 1_000).unwrap();
    assert_eq!(local.validated_join(future), Ok(true));
    assert_eq!(local.value(), Some(&1));

    local.write(A, 2, 2_000).unwrap(); // the last timestamp there is
    assert_eq!(local.value(), Some(&2));
    assert_eq!(local.stamp().unwrap().timestamp, m);
    let before = serde_json::to_string(&local).unwrap();
    let err = local.write(A, 3, 3_000).unwrap_err();
    assert_eq!((err.replica, err.current, err.amount), (A, m, 1));
    assert_eq!(serde_json::to_string(&local).unwrap(), before);
    assert_eq!(local.value(), Some(&2));

    // A remote write at u64::MAX exactly.
    let at_max: LwwRegister<u32> = serde_json::from_str(&format!(
        r#"{{"current":[{{"timestamp":{m},"replica":2}},9],"seen":[[2,{m}]]}}"#
    ))
    .unwrap();
    let mut other = LwwRegister::new();
    other.validated_join(at_max).unwrap();
    let before = other.clone();
    assert!(other.write(A, 5, 0).is_err());
    assert_eq!(other, before);

    // A local clock at u64::MAX: one write, then overflow.
    let mut r = LwwRegister::new();
    r.write(B, 1u8, m).unwrap();
    assert!(r.write(B, 2, m).is_err());
    assert_eq!(r.value(), Some(&1));
}

// ===========================================================================
// C3: atomicity of validated_join
// ===========================================================================

/// A `validated_join` that fails on a conflicting dot leaves the replica byte
/// for byte unchanged, for every causal type with payloads.
#[test]
fn validated_join_with_a_conflicting_dot_leaves_the_replica_byte_identical() {
    let conflict = InvariantViolation::ConflictingDot { dot: dot(A, 1) };

    let mut x = OrSet::new();
    x.insert(A, "milk".to_string());
    x.insert(B, "tea".to_string());
    let mut y = OrSet::new();
    y.insert(A, "eggs".to_string());
    y.insert(B, "tea".to_string());
    assert_rejected_join(&x, y, &conflict);

    let mut r = MvRegister::new();
    r.write(A, "one".to_string());
    let mut s = MvRegister::new();
    s.write(A, "two".to_string());
    assert_rejected_join(&r, s, &conflict);

    let mut c = CausalCounter::new();
    c.increment(A, 1).unwrap();
    let mut d = CausalCounter::new();
    d.increment(A, 2).unwrap();
    assert_rejected_join(&c, d, &conflict);

    let mut rw = RwSet::new();
    rw.insert(A, 1u8);
    let mut rw2 = RwSet::new();
    rw2.remove(A, 1u8);
    assert_rejected_join(&rw, rw2, &conflict);

    let mut m: OrMap<String, MvRegister<u32>> = OrMap::new();
    m.update(A, "k".into(), |r| r.write(A, 1));
    m.update(B, "j".into(), |r| r.write(B, 1));
    let mut n: OrMap<String, MvRegister<u32>> = OrMap::new();
    n.update(A, "k".into(), |r| r.write(A, 2));
    let mut t = m.clone();
    let before = serde_json::to_string(&t).unwrap();
    assert!(matches!(
        t.validated_join(n),
        Err(InvariantViolation::ConflictingDot { .. })
    ));
    assert_eq!(serde_json::to_string(&t).unwrap(), before);
    assert_eq!(t, m);
}

// ===========================================================================
// B5/B6: hostile length prefixes
// ===========================================================================

fn varint(mut n: u64, out: &mut Vec<u8>) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn padded(mut v: Vec<u8>, len: usize) -> Vec<u8> {
    v.resize(len.max(v.len()), 0);
    v
}

/// A byte decoder under test.
trait Decoder {
    /// Whether `bytes` decode as a `T`.
    fn accepts<T: DeserializeOwned>(bytes: &[u8]) -> bool;
}

struct Postcard;
struct Bincode;

impl Decoder for Postcard {
    fn accepts<T: DeserializeOwned>(bytes: &[u8]) -> bool {
        postcard::from_bytes::<T>(bytes).is_ok()
    }
}

impl Decoder for Bincode {
    fn accepts<T: DeserializeOwned>(bytes: &[u8]) -> bool {
        bincode::deserialize::<T>(bytes).is_ok()
    }
}

/// Every type rejects `b` (with decoder `D`) without panicking.
fn all_reject<D: Decoder>(b: &[u8]) {
    causal_reject::<D>(b);
    assert!(!D::accepts::<GCounter>(b), "GCounter {b:?}");
    assert!(!D::accepts::<PnCounter>(b), "PnCounter {b:?}");
    assert!(!D::accepts::<CausalContext>(b), "CausalContext {b:?}");
    assert!(!D::accepts::<VersionVector>(b), "VersionVector {b:?}");
}

/// Every causal type (encoded as `(store, context)`) rejects `b`. (A
/// G-counter reading an empty vector from the first bytes accepts, ignoring
/// the trailing bytes, as postcard and bincode's `deserialize` do.)
fn causal_reject<D: Decoder>(b: &[u8]) {
    assert!(!D::accepts::<OrSet<String>>(b), "OrSet {b:?}");
    assert!(!D::accepts::<OrSet<u64>>(b), "OrSet<u64> {b:?}");
    assert!(!D::accepts::<MvRegister<String>>(b), "MvRegister {b:?}");
    assert!(!D::accepts::<MvRegister<u64>>(b), "MvRegister<u64> {b:?}");
    assert!(!D::accepts::<CausalCounter>(b), "CausalCounter {b:?}");
    assert!(!D::accepts::<EwFlag>(b), "EwFlag {b:?}");
    assert!(!D::accepts::<RwSet<String>>(b), "RwSet {b:?}");
    assert!(
        !D::accepts::<OrMap<String, OrSet<String>>>(b),
        "OrMap {b:?}"
    );
    assert!(
        !D::accepts::<OrMap<u64, OrMap<u64, MvRegister<String>>>>(b),
        "OrMap3 {b:?}"
    );
}

const HUGE: [u64; 5] = [1 << 32, 1 << 40, 1 << 48, 1 << 62, u64::MAX];

/// B5/B6 with postcard: length prefixes of 2^32 … `u64::MAX` elements on a
/// 20-byte input, at the top level and at every nested sequence (entries,
/// dot sets, dot functions, keys, context entries and ranges), are errors —
/// no abort from a pre-allocation sized by the input, and fast.
#[test]
fn b5_b6_postcard_huge_length_prefixes_are_errors_not_aborts() {
    let start = Instant::now();
    for n in HUGE {
        let mut top = Vec::new();
        varint(n, &mut top);
        all_reject::<Postcard>(&padded(top, 20));

        // OrSet<String>: one entry, key "e", then a huge dot set.
        let mut v = vec![1, 1, b'e'];
        varint(n, &mut v);
        let v = padded(v, 20);
        assert!(postcard::from_bytes::<OrSet<String>>(&v).is_err());
        // One entry with a huge key.
        let mut v = vec![1];
        varint(n, &mut v);
        assert!(postcard::from_bytes::<OrSet<String>>(&padded(v, 20)).is_err());
        // Empty store, huge context; then one context entry with huge ranges.
        let mut v = vec![0];
        varint(n, &mut v);
        causal_reject::<Postcard>(&padded(v, 20));
        let mut v = vec![0, 1, 1];
        varint(n, &mut v);
        causal_reject::<Postcard>(&padded(v, 20));
        // A map entry whose presence set, remove set, or nested store is huge.
        for prefix in [
            vec![1u8, 1, b'k'],
            vec![1, 1, b'k', 0],
            vec![1, 1, b'k', 0, 0],
        ] {
            let mut v = prefix;
            varint(n, &mut v);
            let v = padded(v, 20);
            assert!(postcard::from_bytes::<OrMap<String, OrSet<String>>>(&v).is_err());
            assert!(postcard::from_bytes::<OrMap<String, MvRegister<String>>>(&v).is_err());
        }
        // An LWW register whose value is a huge string.
        let mut v = vec![1, 5, 1];
        varint(n, &mut v);
        assert!(postcard::from_bytes::<LwwRegister<String>>(&padded(v, 20)).is_err());
    }
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "took {:?}",
        start.elapsed()
    );
}

/// B5/B6 with bincode 1 (fixed-width `u64` lengths, no size limit, and a
/// size hint equal to the declared length): the same hostile prefixes are
/// errors, not aborts.
#[test]
fn b5_b6_bincode_huge_length_prefixes_are_errors_not_aborts() {
    let start = Instant::now();
    for n in HUGE {
        let le = n.to_le_bytes();
        all_reject::<Bincode>(&padded(le.to_vec(), 20));
        // OrSet<String>: one entry, key "e", huge dot set.
        let mut v = Vec::new();
        v.extend(1u64.to_le_bytes());
        v.extend(1u64.to_le_bytes());
        v.push(b'e');
        v.extend(le);
        assert!(bincode::deserialize::<OrSet<String>>(&padded(v, 40)).is_err());
        // MvRegister: a huge dot function.
        assert!(bincode::deserialize::<MvRegister<u64>>(&padded(le.to_vec(), 40)).is_err());
        // Empty store, huge context; one context entry with huge ranges.
        let mut v = Vec::new();
        v.extend(0u64.to_le_bytes());
        v.extend(le);
        causal_reject::<Bincode>(&padded(v, 40));
        let mut v = Vec::new();
        v.extend(0u64.to_le_bytes());
        v.extend(1u64.to_le_bytes());
        v.extend(1u64.to_le_bytes());
        v.extend(le);
        causal_reject::<Bincode>(&padded(v, 48));
    }
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "took {:?}",
        start.elapsed()
    );
}

/// The process's peak virtual memory (`VmPeak`), where `/proc` has it.
fn vm_peak_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmPeak:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// B5/C4: decoding a short input that declares 2^26 elements (≥ 1 GiB if
/// pre-allocated) must not reserve memory for them. Bincode 1 passes the
/// declared length as the size hint, so a visitor that trusts it (as
/// smallvec's does) reserves the whole amount before failing; serde's own
/// `Vec` visitor caps the reservation at 1 MiB. Measured as the growth of
/// the process's peak virtual memory (Linux only; skipped elsewhere), in a
/// child process running only this test, so that no other test thread
/// allocates meanwhile.
#[test]
fn b5_declared_huge_sequences_reserve_no_memory_for_their_length() {
    const NAME: &str = "b5_declared_huge_sequences_reserve_no_memory_for_their_length";
    const CHILD: &str = "CONVERGE_BAD_INPUT_VMPEAK_CHILD";
    if std::env::var_os(CHILD).is_none() {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", NAME, "--test-threads=1", "--nocapture"])
            .env(CHILD, "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "child failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    let Some(before) = vm_peak_bytes() else {
        eprintln!("no /proc/self/status: skipped");
        return;
    };
    let n: u64 = 1 << 26;
    let le = n.to_le_bytes();
    let mut inputs: Vec<Vec<u8>> = Vec::new();
    // OrSet<String>: one entry "e" with a huge dot set.
    let mut v = Vec::new();
    v.extend(1u64.to_le_bytes());
    v.extend(1u64.to_le_bytes());
    v.push(b'e');
    v.extend(le);
    inputs.push(padded(v, 64));
    // MvRegister / CausalCounter: a huge dot function; any causal type: a huge
    // store or context.
    inputs.push(padded(le.to_vec(), 64));
    let mut v = Vec::new();
    v.extend(0u64.to_le_bytes());
    v.extend(le);
    inputs.push(padded(v, 64));
    for b in &inputs {
        assert!(bincode::deserialize::<OrSet<String>>(b).is_err());
        assert!(bincode::deserialize::<MvRegister<u64>>(b).is_err());
        assert!(bincode::deserialize::<CausalCounter>(b).is_err());
        assert!(bincode::deserialize::<OrMap<u64, OrSet<u64>>>(b).is_err());
        assert!(bincode::deserialize::<EwFlag>(b).is_err());
    }
    let after = vm_peak_bytes().unwrap();
    let grew = after.saturating_sub(before);
    assert!(
        grew < 256 << 20,
        "peak virtual memory grew by {} MiB decoding {}-byte inputs",
        grew >> 20,
        inputs[0].len()
    );
}

/// B1-lite: every strict prefix of a valid encoding is an error.
#[test]
fn b1_every_strict_prefix_of_a_valid_encoding_is_an_error() {
    fn check<T: Serialize + DeserializeOwned + Debug>(x: &T) {
        let p = postcard::to_allocvec(x).unwrap();
        for i in 0..p.len() {
            assert!(
                postcard::from_bytes::<T>(&p[..i]).is_err(),
                "postcard prefix {i} of {p:?}"
            );
        }
        let b = bincode::serialize(x).unwrap();
        for i in 0..b.len() {
            assert!(
                bincode::deserialize::<T>(&b[..i]).is_err(),
                "bincode prefix {i}"
            );
        }
        let j = serde_json::to_string(x).unwrap();
        for i in 0..j.len() {
            assert!(
                serde_json::from_str::<T>(&j[..i]).is_err(),
                "json prefix {}",
                &j[..i]
            );
        }
    }
    for x in corpus_orsets() {
        check(&x);
    }
    for x in corpus_maps() {
        check(&x);
    }
    check(&corpus_mv());
    check(&corpus_lww());
    check(&corpus_pn());
}

// ===========================================================================
// B21-lite: random bytes; B22: type confusion
// ===========================================================================

fn corpus_orsets() -> Vec<OrSet<String>> {
    let mut s = OrSet::new();
    let mut out = vec![s.clone()];
    s.insert(A, "a".into());
    out.push(s.clone());
    s.insert(B, "b".into());
    s.insert(A, "a".into());
    let mut t = s.clone();
    t.remove(&"b".to_string());
    t.insert(ReplicaId::new(300), "c".into());
    out.push(s);
    out.push(t);
    out
}

fn corpus_maps() -> Vec<OrMap<String, OrSet<String>>> {
    let mut m: OrMap<String, OrSet<String>> = OrMap::new();
    m.update(A, "k".into(), |s| s.insert(A, "x".into()));
    let mut n = m.clone();
    n.update(B, "j".into(), |s| s.insert(B, "y".into()));
    n.remove(B, &"k".to_string());
    vec![m, n]
}

fn corpus_mv() -> MvRegister<String> {
    let mut r = MvRegister::new();
    r.write(A, "v".to_string());
    let mut s = MvRegister::new();
    s.write(B, "w".to_string());
    r.joined(s)
}

fn corpus_lww() -> LwwRegister<String> {
    let mut l = LwwRegister::new();
    l.write(A, "v".to_string(), 3).unwrap();
    let mut m = LwwRegister::new();
    m.write(B, "w".to_string(), 2).unwrap();
    l.joined(m)
}

fn corpus_pn() -> PnCounter {
    let mut p = PnCounter::new();
    p.increment(A, 3).unwrap();
    p.decrement(B, 2).unwrap();
    p
}

/// Encodings of valid states of several types: the seeds that mutations start
/// from (and that every type is asked to decode: type confusion).
fn seeds() -> (Vec<Vec<u8>>, Vec<String>) {
    let mut bin = Vec::new();
    let mut json = Vec::new();
    macro_rules! add {
        ($x:expr) => {{
            let x = $x;
            bin.push(postcard::to_allocvec(&x).unwrap());
            json.push(serde_json::to_string(&x).unwrap());
        }};
    }
    for s in corpus_orsets() {
        add!(s);
    }
    for m in corpus_maps() {
        add!(m);
    }
    add!(corpus_mv());
    add!(corpus_lww());
    add!(corpus_pn());
    let mut g = GCounter::new();
    g.increment(A, 1).unwrap();
    add!(g);
    let mut c = CausalCounter::new();
    c.increment(A, 2).unwrap();
    c.decrement(B, 1).unwrap();
    add!(c);
    let mut f = EwFlag::new();
    f.enable(A);
    add!(f);
    let mut rw = RwSet::new();
    rw.insert(A, 1u8);
    rw.remove(B, 2u8);
    add!(rw);
    let mut m3: OrMap<u8, OrMap<u8, MvRegister<u8>>> = OrMap::new();
    m3.update(A, 1, |i| i.update(A, 2, |r| r.write(A, 3)));
    add!(m3);
    let mut mu: OrMap<u8, MvRegister<u32>, UpdateWins> = OrMap::new();
    mu.update(A, 1, |r| r.write(A, 1));
    mu.remove(A, &1);
    add!(mu);
    let mut mr: OrMap<u8, CausalCounter, RemoveWins> = OrMap::new();
    mr.update(A, 1, |c| c.increment(A, 1).unwrap());
    mr.remove(B, &1);
    add!(mr);
    let mut me: OrMap<u8, Embedded<LwwRegister<u8>>> = OrMap::new();
    me.update(A, 1, |e| e.update(A, |l| l.write(A, 1, 1).unwrap()));
    add!(me);
    add!(CausalContext::from_dots([dot(A, 1), dot(A, 3), dot(B, 2)]));
    (bin, json)
}

fn mutate(rng: &mut SplitMix64, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..=rng.below(3) {
        match rng.below(6) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = rng.small_byte();
            }
            2 if !v.is_empty() => {
                let i = rng.below(v.len());
                v.truncate(i);
            }
            3 => {
                let i = rng.below(v.len() + 1);
                let b = rng.small_byte();
                v.insert(i, b);
            }
            4 if !v.is_empty() => {
                let i = rng.below(v.len());
                v.remove(i);
            }
            _ if !v.is_empty() => {
                let i = rng.below(v.len());
                let j = i + rng.below(v.len() - i) + 1;
                let chunk = v[i..j].to_vec();
                let k = rng.below(v.len() + 1);
                v.splice(k..k, chunk);
            }
            _ => v.push(rng.small_byte()),
        }
    }
    v
}

fn mutate_json(rng: &mut SplitMix64, seed: &str) -> Vec<u8> {
    const TOKENS: [&str; 16] = [
        "[",
        "]",
        ",",
        "0",
        "1",
        "2",
        "3",
        "{",
        "}",
        "\"e\"",
        "true",
        "\"replica\":1",
        "\"counter\":2",
        "[1,[[1,2]]]",
        "null",
        "9223372036854775808",
    ];
    let mut v = seed.as_bytes().to_vec();
    for _ in 0..=rng.below(3) {
        let i = rng.below(v.len() + 1);
        match rng.below(3) {
            0 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                v.splice(i..i, t.bytes());
            }
            1 if i < v.len() => {
                let j = (i + 1 + rng.below(4)).min(v.len());
                v.drain(i..j);
            }
            _ if i < v.len() && v[i].is_ascii_digit() => v[i] = b'0' + rng.below(10) as u8,
            _ => v.truncate(i),
        }
    }
    v
}

#[derive(Default)]
struct Tally {
    postcard_ok: usize,
    json_ok: usize,
    /// Accepted values other than bottom.
    nontrivial: usize,
}

/// Decodes `bytes` as `T` with postcard and serde_json. Never panics; any
/// accepted value satisfies its invariants, re-encodes stably, round-trips,
/// and behaves as a lattice element (idempotent, bottom is neutral).
fn decode_as<T>(bytes: &[u8], tally: &mut Tally)
where
    T: Validate + Serialize + DeserializeOwned + Debug,
{
    let run = || {
        let mut ok = (false, false, 0);
        if let Ok(x) = postcard::from_bytes::<T>(bytes) {
            ok.0 = true;
            ok.2 += usize::from(!x.is_bottom());
            check_accepted(&x);
        }
        if let Ok(x) = serde_json::from_slice::<T>(bytes) {
            ok.1 = true;
            ok.2 += usize::from(!x.is_bottom());
            check_accepted(&x);
        }
        ok
    };
    match std::panic::catch_unwind(run) {
        Ok((p, j, n)) => {
            tally.postcard_ok += usize::from(p);
            tally.json_ok += usize::from(j);
            tally.nontrivial += n;
        }
        Err(e) => {
            eprintln!(
                "decoding {} panicked on {:02x?} ({:?})",
                std::any::type_name::<T>(),
                bytes,
                String::from_utf8_lossy(bytes)
            );
            std::panic::resume_unwind(e);
        }
    }
}

fn check_accepted<T>(x: &T)
where
    T: Validate + Serialize + DeserializeOwned + Debug,
{
    assert_eq!(x.check_invariants(), Ok(()), "accepted an invalid {x:?}");
    let p = postcard::to_allocvec(x).unwrap();
    let y: T = postcard::from_bytes(&p).unwrap();
    assert_eq!(&y, x);
    assert_eq!(
        postcard::to_allocvec(&y).unwrap(),
        p,
        "postcard re-encoding not stable"
    );
    let j = serde_json::to_string(x).unwrap();
    let z: T = serde_json::from_str(&j).unwrap();
    assert_eq!(&z, x);
    assert_eq!(
        serde_json::to_string(&z).unwrap(),
        j,
        "json re-encoding not stable"
    );
    assert_eq!(&x.clone().joined(x.clone()), x);
    assert_eq!(&T::default().joined(x.clone()), x);
    assert_eq!(&x.clone().joined(T::default()), x);
}

/// Feeds `bytes` to every type.
fn decode_as_every_type(bytes: &[u8], tally: &mut Tally) {
    decode_as::<OrSet<String>>(bytes, tally);
    decode_as::<OrSet<u8>>(bytes, tally);
    decode_as::<MvRegister<String>>(bytes, tally);
    decode_as::<MvRegister<u32>>(bytes, tally);
    decode_as::<LwwRegister<String>>(bytes, tally);
    decode_as::<LwwRegister<u8>>(bytes, tally);
    decode_as::<GCounter>(bytes, tally);
    decode_as::<PnCounter>(bytes, tally);
    decode_as::<CausalCounter>(bytes, tally);
    decode_as::<EwFlag>(bytes, tally);
    decode_as::<RwSet<u8>>(bytes, tally);
    decode_as::<OrMap<String, OrSet<String>>>(bytes, tally);
    decode_as::<OrMap<u8, OrSet<u8>, UpdateWins>>(bytes, tally);
    decode_as::<OrMap<u8, MvRegister<u32>, UpdateWins>>(bytes, tally);
    decode_as::<OrMap<u8, CausalCounter, RemoveWins>>(bytes, tally);
    decode_as::<OrMap<u8, OrMap<u8, MvRegister<u8>>>>(bytes, tally);
    decode_as::<OrMap<u8, Embedded<LwwRegister<u8>>>>(bytes, tally);
    decode_as::<CausalContext>(bytes, tally);
    decode_as::<VersionVector>(bytes, tally);
}

/// Iterations per input family: `CONVERGE_TEST_TIER=long` runs 8× more.
fn iterations() -> usize {
    match std::env::var("CONVERGE_TEST_TIER").as_deref() {
        Ok("long") => 40_000,
        _ => 5_000,
    }
}

/// B21-lite: a few thousand seeded random and mutated byte strings, decoded
/// with postcard and serde_json as every type, never panic; every accepted
/// value is valid and round-trips.
#[test]
fn b21_random_and_mutated_bytes_never_panic_and_accepted_values_are_valid() {
    let mut rng = SplitMix64::new(0x00C0_FFEE_D15E_A5E5);
    let (bin_seeds, json_seeds) = seeds();
    let mut tally = Tally::default();
    let n = iterations();
    for _ in 0..n {
        // Pure random bytes.
        let len = rng.below(48);
        let bytes: Vec<u8> = (0..len).map(|_| rng.small_byte()).collect();
        decode_as_every_type(&bytes, &mut tally);
        // Mutated postcard encodings of valid states.
        let seed = &bin_seeds[rng.below(bin_seeds.len())];
        decode_as_every_type(&mutate(&mut rng, seed), &mut tally);
        // Mutated JSON encodings.
        let seed = &json_seeds[rng.below(json_seeds.len())];
        decode_as_every_type(&mutate_json(&mut rng, seed), &mut tally);
    }
    eprintln!(
        "b21: {} inputs x 19 types, accepted: postcard {}, json {}, not bottom {}",
        3 * n,
        tally.postcard_ok,
        tally.json_ok,
        tally.nontrivial
    );
    // The inputs must reach the validation paths, not only the parser.
    assert!(
        tally.postcard_ok > n / 10,
        "too few accepted: {}",
        tally.postcard_ok
    );
    assert!(
        tally.json_ok > n / 50,
        "too few accepted: {}",
        tally.json_ok
    );
}

/// B22 type confusion: the encodings of valid states of one type, decoded as
/// every other type (postcard, JSON, bincode), give an error or a valid value
/// — never a panic, never an invariant-breaking state.
#[test]
fn b22_encodings_of_one_type_decoded_as_another_are_errors_or_valid() {
    let (bin_seeds, json_seeds) = seeds();
    let mut tally = Tally::default();
    for b in &bin_seeds {
        decode_as_every_type(b, &mut tally);
    }
    for j in &json_seeds {
        decode_as_every_type(j.as_bytes(), &mut tally);
    }
    // Bincode encodings of OR-sets, as other types.
    for s in corpus_orsets() {
        let b = bincode::serialize(&s).unwrap();
        macro_rules! as_type {
            ($t:ty) => {
                if let Ok(x) = bincode::deserialize::<$t>(&b) {
                    assert_eq!(x.check_invariants(), Ok(()), "{x:?}");
                }
            };
        }
        as_type!(MvRegister<String>);
        as_type!(OrMap<String, OrSet<String>>);
        as_type!(GCounter);
        as_type!(PnCounter);
        as_type!(CausalCounter);
        as_type!(LwwRegister<String>);
        as_type!(RwSet<String>);
    }
    // An OR-set's JSON is never read as a map, register or counter.
    let json = serde_json::to_string(&corpus_orsets()[3]).unwrap();
    assert!(serde_json::from_str::<MvRegister<String>>(&json).is_err());
    assert!(serde_json::from_str::<OrMap<String, OrSet<String>>>(&json).is_err());
    assert!(serde_json::from_str::<GCounter>(&json).is_err());
    assert!(serde_json::from_str::<LwwRegister<String>>(&json).is_err());
}

// ===========================================================================
// Regressions from the independent review (each names the bug it pins)
// ===========================================================================

/// A closure that replaces the nested value would lose the map's lent
/// context and reuse dots; `update` refuses with a panic instead of
/// corrupting the map silently.
#[test]
fn ormap_update_panics_when_the_closure_replaces_the_nested_value() {
    let mut m: OrMap<&str, OrSet<u8>> = OrMap::new();
    m.update(A, "x", |s| s.insert(A, 1));
    m.update(A, "y", |s| s.insert(A, 2));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        m.update(A, "y", |s| {
            *s = OrSet::new();
            s.insert(A, 3)
        })
    }));
    assert!(
        result.is_err(),
        "replacing the nested value must not pass silently"
    );
}

/// `try_update` is transactional: a closure that mutates and then fails
/// leaves the map exactly as it was (before: the local set kept the
/// mutation while no delta carried it, a lasting divergence).
#[test]
fn ormap_try_update_rolls_back_mutations_made_before_an_error() {
    let mut m: OrMap<&str, OrSet<u8>> = OrMap::new();
    m.update(A, "k", |s| s.insert(A, 1));
    let before = m.clone();
    let r: Result<_, &str> = m.try_update(A, "k", |s| {
        s.insert(A, 9);
        Err("later step failed")
    });
    assert_eq!(r.err(), Some("later step failed"));
    assert_eq!(m, before);
    // Also for a key that did not exist.
    let r: Result<_, &str> = m.try_update(A, "new", |s| {
        s.insert(A, 5);
        Err("no")
    });
    assert!(r.is_err());
    assert_eq!(m, before);
    m.check_invariants().unwrap();
}

/// B22 for policies: bytes of a remove-wins map (with a remove marker) are
/// rejected as an observed-reset or update-wins map.
#[test]
fn a_remove_wins_map_does_not_decode_as_another_policy() {
    let mut m: OrMap<String, OrSet<u8>, RemoveWins> = OrMap::new();
    m.update(A, "k".to_string(), |s| s.insert(A, 1));
    m.remove(A, &"k".to_string());
    let json = serde_json::to_string(&m).unwrap();
    assert!(serde_json::from_str::<OrMap<String, OrSet<u8>, RemoveWins>>(&json).is_ok());
    let err = serde_json::from_str::<OrMap<String, OrSet<u8>>>(&json).unwrap_err();
    assert!(err.to_string().contains("remove marker"), "{err}");
    let err = serde_json::from_str::<OrMap<String, OrSet<u8>, UpdateWins>>(&json).unwrap_err();
    assert!(err.to_string().contains("remove marker"), "{err}");
}

/// `Embedded<L>` validates its inner states like top-level ones (an inner
/// `GCounter` with a zero entry is rejected). Claims on the local replica
/// inside a sibling are not checked: after a reset nothing bounds what an
/// honest peer may still hold of our earlier writes, so such a check would
/// reject honest input — shown here with our own delta delivered again.
#[test]
fn embedded_values_are_validated_like_top_level_ones() {
    let json = r#"[[[{"replica":2,"counter":1},[[1,0]]]],[[2,[[1,1]]]]]"#;
    let err = serde_json::from_str::<Embedded<GCounter>>(json).unwrap_err();
    assert!(err.to_string().contains("zero"), "{err}");

    let mut x: Embedded<GCounter> = Embedded::new();
    let d = x.update(A, |c| c.increment(A, 5).unwrap());
    x.reset();
    assert_eq!(x.clone().validated_join(d.clone()), Ok(false));
    assert_eq!(x.validated_join_as(A, d), Ok(false));
}

/// A closure that swaps in a value whose context is as large as the map's
/// (but different) is caught too: the lent context must come back grown.
#[test]
fn ormap_update_panics_when_the_replacement_context_is_as_large() {
    let mut m: OrMap<u8, OrSet<u8>> = OrMap::new();
    m.update(B, 1, |s| s.insert(B, 7));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        m.update(A, 2, |s| {
            *s = OrSet::new();
            let mut d = s.insert(A, 1);
            d.join(s.insert(A, 2));
            d.join(s.insert(A, 3));
            d
        })
    }));
    assert!(result.is_err());
}

/// An LWW state whose `seen` vector runs ahead of its winning write would
/// make honest peers withhold later writes from it forever (`delta_since`
/// trusts `seen`); it is rejected (`SeenBeyondWinner`).
#[test]
fn lww_seen_beyond_the_winner_is_rejected() {
    let json = r#"{"current":[{"timestamp":5,"replica":2},1],"seen":[[2,5],[3,1000]]}"#;
    let err = serde_json::from_str::<LwwRegister<u8>>(json).unwrap_err();
    assert!(err.to_string().contains("later than its value"), "{err}");
    let json = r#"{"current":null,"seen":[[3,1000]]}"#;
    assert!(serde_json::from_str::<LwwRegister<u8>>(json).is_err());
}

/// Removing a big element set, or clearing it, builds the removal context
/// from sorted dots: linear, not quadratic in hash order (C6).
#[test]
fn clearing_a_large_set_builds_its_context_in_one_pass() {
    let mut s = OrSet::new();
    for e in 0..50_000u32 {
        s.insert(A, e);
    }
    let d = s.clear();
    assert_eq!(d.context().ranges().count(), 1);
    assert!(s.is_empty());
}

/// Joining contexts whose replica sets interleave is a merge walk, so
/// 10^5 distinct replicas (B20) join in linear time.
#[test]
fn b20_contexts_with_many_interleaved_replicas_join_linearly() {
    let even = CausalContext::from_dots((0..100_000u64).map(|r| dot(ReplicaId::new(2 * r), 1)));
    let odd = CausalContext::from_dots((0..100_000u64).map(|r| dot(ReplicaId::new(2 * r + 1), 1)));
    let mut j = even.clone();
    assert!(j.join(odd));
    assert_eq!(j.vector().len(), 200_000);
    j.check_invariants().unwrap();
}
