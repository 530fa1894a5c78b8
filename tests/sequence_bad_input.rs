//! Bad input for the sequences (TESTPLAN b.5: B1, B5, B6, B16–B19, B21,
//! B22): deltas crafted through their serde form — origins that have not
//! arrived, ids reused with other content, impossible origins, overflowing
//! runs, a full pending buffer — plus local indices past the end and
//! malformed bytes.
//!
//! Contract checked: no panic on any input (C1); the exact
//! `InvariantViolation` where the API exposes one (C2); a rejected
//! `validated_join` leaves the replica unchanged — `==`, text and both
//! encodings (C3); validation at decode (C7).
//!
//! Serde shape (src/sequence/seq.rs, `repr`): `{"items": [{"id": Dot, "len",
//! "left": Dot?, "right": Dot?, "content": C?}], "deletes": [{"dot": Dot,
//! "len", "target": Dot, "reversed"}]}`, with `Dot = {"replica", "counter"}`
//! and `content` null for a tombstone. The malicious deltas below are valid
//! deltas serialised to a `serde_json::Value` and edited, so they follow the
//! shape without restating it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Debug;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use converge::*;
#[path = "common/rng.rs"]
mod rng;
use rng::SplitMix64;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

const A: ReplicaId = ReplicaId::new(1);
const B: ReplicaId = ReplicaId::new(2);
const C: ReplicaId = ReplicaId::new(3);

fn dot(r: ReplicaId, c: u64) -> Dot {
    Dot::new(r, c)
}

fn dot_json(r: ReplicaId, c: u64) -> Value {
    json!({ "replica": r.get(), "counter": c })
}

fn to_value<T: Serialize>(x: &T) -> Value {
    serde_json::to_value(x).unwrap()
}

fn from_value<T: DeserializeOwned>(v: &Value) -> Result<T, String> {
    serde_json::from_value::<T>(v.clone()).map_err(|e| e.to_string())
}

/// Sets the field at a JSON pointer (which must exist).
fn set(v: &mut Value, pointer: &str, x: Value) {
    let shown = v.to_string();
    *v.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer} in {shown}")) = x;
}

/// `v` is rejected at decode (serde_json) with exactly `expected`.
fn assert_decode_rejects<T: DeserializeOwned + Debug>(v: &Value, expected: &InvariantViolation) {
    match serde_json::from_value::<T>(v.clone()) {
        Ok(x) => panic!("accepted {v}\n as {x:?}"),
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.starts_with(&expected.to_string()),
                "{v}\n expected `{expected}`\n got      `{msg}`"
            );
        }
    }
}

/// `validated_join(bad)` fails with `expected` and leaves `target` unchanged:
/// `==`, its text (`Debug` of the visible value), and both encodings.
fn assert_rejected_join<T>(
    target: &T,
    bad: T,
    expected: &InvariantViolation,
    shown: impl Fn(&T) -> String,
) where
    T: Validate + Serialize + Debug,
{
    let json_before = serde_json::to_string(target).unwrap();
    let bytes_before = postcard::to_allocvec(target).unwrap();
    let mut t = target.clone();
    assert_eq!(t.validated_join(bad).as_ref(), Err(expected));
    assert_eq!(&t, target);
    assert_eq!(shown(&t), shown(target));
    assert_eq!(serde_json::to_string(&t).unwrap(), json_before);
    assert_eq!(postcard::to_allocvec(&t).unwrap(), bytes_before);
}

fn text_of(t: &Text) -> String {
    t.to_string()
}

fn vec_of<T: Clone + PartialEq + Debug>(l: &List<T>) -> String {
    format!("{:?}", l.to_vec())
}

// ===========================================================================
// B16: an item whose origin has not arrived waits, then lands in place
// ===========================================================================

/// B16: a delta (crafted through serde_json) whose left origin `C:5` is
/// unknown is accepted but not shown — never placed at a guessed position;
/// once C's run arrives it lands right after `C:5`, exactly where a replica
/// that received the two in causal order puts it, and nothing stays pending.
#[test]
fn b16_delta_with_an_unknown_origin_waits_until_the_origin_arrives() {
    // C types "abcde" (C:1..=C:5) into an empty text.
    let mut c_side = Text::new();
    let from_c = c_side.insert(C, 0, "abcde").unwrap();
    // B inserts "X" into its empty text; the crafted copy says B typed it
    // right after C's "e".
    let mut b_side = Text::new();
    let mut v = to_value(&b_side.insert(B, 0, "X").unwrap());
    assert_eq!(v.pointer("/items/0/left"), Some(&Value::Null), "{v}");
    set(&mut v, "/items/0/left", dot_json(C, 5));
    let crafted: Text = from_value(&v).unwrap();
    assert_eq!(crafted.pending_len(), 1);

    // A replica that already shows some text.
    let mut x = Text::new();
    x.join(x.clone().insert(A, 0, "hello").unwrap());
    let before = x.clone();
    assert_eq!(x.validated_join(crafted.clone()), Ok(true));
    assert_eq!(
        x.to_string(),
        "hello",
        "B16: shown before its origin arrived"
    );
    assert_eq!(x.len(), 5);
    assert_eq!(x.pending_len(), 1);
    assert!(before.leq(&x));
    // Twice changes nothing.
    assert_eq!(x.validated_join(crafted.clone()), Ok(false));
    assert_eq!(x.pending_len(), 1);

    assert_eq!(x.validated_join(from_c.clone()), Ok(true));
    assert_eq!(x.pending_len(), 0, "B16: pending after the origin arrived");
    // A (1) before C (3) at the start; X right after C's "e".
    assert_eq!(x.to_string(), "helloabcdeX");

    // The causal order gives the same state.
    let mut y = before.clone();
    y.validated_join(from_c).unwrap();
    y.validated_join(crafted).unwrap();
    assert_eq!(y, x);
    assert_eq!(y.to_string(), "helloabcdeX");
    x.check_invariants().unwrap();
}

/// B16 for runs and right origins, in `List`: C types `[1, 2, 3]`; B's
/// delta inserts `[7, 8]` between C's 1 and 2 (left `C:1`, right `C:2`).
/// Delivered before C's run, it waits; after, it sits between 1 and 2.
/// Also through postcard bytes.
#[test]
fn b16_list_run_between_two_unknown_origins_waits_and_lands_between_them() {
    let mut c_side: List<u32> = List::new();
    let from_c = c_side.insert_from(C, 0, [1, 2, 3]).unwrap();
    let mut b_side: List<u32> = List::new();
    b_side.join(from_c.clone());
    let from_b = b_side.insert_from(B, 1, [7, 8]).unwrap();
    assert_eq!(b_side.to_vec(), [1, 7, 8, 2, 3]);
    let bytes = postcard::to_allocvec(&from_b).unwrap();
    let from_b: List<u32> = postcard::from_bytes(&bytes).unwrap();

    let mut x: List<u32> = List::new();
    assert_eq!(x.validated_join(from_b.clone()), Ok(true));
    assert!(
        x.to_vec().is_empty(),
        "B16: {:?} shown without its origins",
        x.to_vec()
    );
    assert!(x.pending_len() >= 1);
    assert_eq!(x.validated_join(from_c), Ok(true));
    assert_eq!(x.to_vec(), [1, 7, 8, 2, 3]);
    assert_eq!(x.pending_len(), 0);
    assert_eq!(x, b_side);
}

/// B16 through a chain: C types five chars backwards (each before the
/// previous one); the deltas arrive newest first — each waits for the next
/// one — and the text appears only when the first arrives.
#[test]
fn b16_a_chain_of_waiting_deltas_resolves_when_its_root_arrives() {
    let mut c_side = Text::new();
    let deltas: Vec<Text> = "edcba"
        .chars()
        .map(|ch| c_side.insert(C, 0, &ch.to_string()).unwrap())
        .collect();
    assert_eq!(c_side.to_string(), "abcde");
    let mut x = Text::new();
    for (k, d) in deltas.iter().enumerate().rev().take(4) {
        x.validated_join(d.clone()).unwrap();
        assert_eq!(x.to_string(), "", "after delta {k}");
    }
    assert_eq!(x.pending_len(), 4);
    x.validated_join(deltas[0].clone()).unwrap();
    assert_eq!(x.to_string(), "abcde");
    assert_eq!(x.pending_len(), 0);
    assert_eq!(x, c_side);
}

// ===========================================================================
// B17: one id, two meanings; two items with one id; equal summaries
// ===========================================================================

/// B17 / b.3 item 7 (actor reuse): a delta that reuses an id the replica
/// holds, with other content, is `ConflictingDot`; the replica is unchanged
/// (`==`, text, bytes). Covers a unit inside a run, a different origin with
/// the same content, and a whole run re-used.
#[test]
fn b17_a_reused_id_with_other_content_is_a_conflicting_dot() {
    let mut x = Text::new();
    let d = x.insert(A, 0, "abc").unwrap();
    x.join(x.clone().insert(B, 3, "!").unwrap());
    let v = to_value(&d);

    // Unit A:2 alone, with content "z".
    let mut forged = json!({"items": [{
        "id": dot_json(A, 2), "len": 1, "left": dot_json(A, 1), "right": null, "content": "z"
    }], "deletes": []});
    let bad: Text = from_value(&forged).unwrap();
    assert_rejected_join(
        &x,
        bad,
        &InvariantViolation::ConflictingDot { dot: dot(A, 2) },
        text_of,
    );

    // Same content "b", another origin.
    set(&mut forged, "/items/0/content", json!("b"));
    set(&mut forged, "/items/0/right", dot_json(B, 1));
    let bad: Text = from_value(&forged).unwrap();
    assert_rejected_join(
        &x,
        bad,
        &InvariantViolation::ConflictingDot { dot: dot(A, 2) },
        text_of,
    );

    // The same content and origins are fine (a duplicate, not a conflict).
    set(&mut forged, "/items/0/right", Value::Null);
    let same: Text = from_value(&forged).unwrap();
    let mut y = x.clone();
    assert_eq!(y.validated_join(same), Ok(false));
    assert_eq!(y, x);

    // The whole run, its first unit changed.
    let mut w = v.clone();
    set(&mut w, "/items/0/content", json!("zbc"));
    let bad: Text = from_value(&w).unwrap();
    assert_rejected_join(
        &x,
        bad,
        &InvariantViolation::ConflictingDot { dot: dot(A, 1) },
        text_of,
    );

    // In a List, the first value changed.
    let mut l: List<u32> = List::new();
    let d = l.insert_from(A, 0, [10, 20, 30]).unwrap();
    let mut w = to_value(&d);
    set(&mut w, "/items/0/content", json!([11, 20, 30]));
    let bad: List<u32> = from_value(&w).unwrap();
    assert_rejected_join(
        &l,
        bad,
        &InvariantViolation::ConflictingDot { dot: dot(A, 1) },
        vec_of,
    );
}

/// `ConflictingDot` names a dot that has two meanings: when a reused run
/// differs from the held one only in a later unit, that unit (not the run's
/// first unit, which means the same thing on both sides).
#[test]
fn b17_conflicting_dot_names_the_unit_that_differs() {
    let mut x = Text::new();
    let d = x.insert(A, 0, "abc").unwrap();
    let mut w = to_value(&d);
    set(&mut w, "/items/0/content", json!("abd"));
    let bad: Text = from_value(&w).unwrap();
    assert_rejected_join(
        &x,
        bad,
        &InvariantViolation::ConflictingDot { dot: dot(A, 3) },
        text_of,
    );

    let mut l: List<u32> = List::new();
    let d = l.insert_from(A, 0, [10, 20, 30]).unwrap();
    let mut w = to_value(&d);
    set(&mut w, "/items/0/content", json!([10, 21, 30]));
    let bad: List<u32> = from_value(&w).unwrap();
    assert_rejected_join(
        &l,
        bad,
        &InvariantViolation::ConflictingDot { dot: dot(A, 2) },
        vec_of,
    );
}

/// B17: a dot used by a delete here, named as an item by a peer (or the
/// other way round), or a delete dot reused to delete something else, is
/// `ConflictingDot`, and the replica is unchanged.
#[test]
fn b17_a_delete_dot_reused_is_a_conflicting_dot() {
    let mut x = Text::new();
    x.insert(A, 0, "abc").unwrap();
    let del = x.delete(A, 0..1).unwrap(); // dot A:4 deletes A:1
    assert_eq!(x.to_string(), "bc");
    let dv = to_value(&del);
    assert_eq!(dv.pointer("/deletes/0/dot"), Some(&dot_json(A, 4)), "{dv}");

    // An item with id A:4.
    let item = json!({"items": [{
        "id": dot_json(A, 4), "len": 1, "left": dot_json(A, 3), "right": null, "content": "q"
    }], "deletes": []});
    let bad: Text = from_value(&item).unwrap();
    assert_rejected_join(
        &x,
        bad,
        &InvariantViolation::ConflictingDot { dot: dot(A, 4) },
        text_of,
    );

    // The delete dot A:4 deleting A:2 instead.
    let mut w = dv.clone();
    set(&mut w, "/deletes/0/target", dot_json(A, 2));
    let bad: Text = from_value(&w).unwrap();
    assert_rejected_join(
        &x,
        bad,
        &InvariantViolation::ConflictingDot { dot: dot(A, 4) },
        text_of,
    );

    // The other way round: the replica holds item A:5, the peer says A:5 is a delete.
    let mut y = x.clone();
    y.insert(A, 2, "d").unwrap(); // A:5
    let bad_del = json!({"items": [], "deletes": [{
        "dot": dot_json(A, 5), "len": 1, "target": dot_json(A, 2), "reversed": false
    }]});
    let bad: Text = from_value(&bad_del).unwrap();
    assert_rejected_join(
        &y,
        bad,
        &InvariantViolation::ConflictingDot { dot: dot(A, 5) },
        text_of,
    );
}

/// B17: two items with one id inside one delta (a repeated run, overlapping
/// runs, an item and a delete sharing a dot) are rejected at decode as
/// `DuplicateDot`.
#[test]
fn b17_two_items_with_one_id_in_one_delta_are_duplicate_dots() {
    let mut t = Text::new();
    let d = t.insert(A, 0, "abc").unwrap();
    let v = to_value(&d);
    let run = v.pointer("/items/0").unwrap().clone();

    let mut w = v.clone();
    w["items"] = json!([run.clone(), run.clone()]);
    assert_decode_rejects::<Text>(&w, &InvariantViolation::DuplicateDot { dot: dot(A, 1) });

    let inner = json!({"id": dot_json(A, 2), "len": 1, "left": dot_json(A, 1), "right": null, "content": "b"});
    w["items"] = json!([run.clone(), inner]);
    assert_decode_rejects::<Text>(&w, &InvariantViolation::DuplicateDot { dot: dot(A, 2) });

    w["items"] = json!([run]);
    w["deletes"] =
        json!([{"dot": dot_json(A, 3), "len": 1, "target": dot_json(B, 1), "reversed": false}]);
    assert_decode_rejects::<Text>(&w, &InvariantViolation::DuplicateDot { dot: dot(A, 3) });
}

/// yrs#632 shape (B17): replicas with equal summaries (version vectors
/// with dot clouds) hold equal states, after a stream with gaps in one
/// replica's counters (the deletes use counters between the inserts).
#[test]
fn b17_equal_summaries_mean_equal_states_after_gapped_streams() {
    let mut a = Text::new();
    let mut deltas = vec![a.insert(A, 0, "hello").unwrap()];
    deltas.push(a.delete(A, 1..2).unwrap());
    deltas.push(a.insert(A, 1, "a").unwrap());
    deltas.push(a.delete(A, 0..1).unwrap());
    deltas.push(a.insert(A, 0, "J").unwrap());
    // Every subset in a couple of orders: equal summaries => equal states.
    let n = deltas.len();
    let mut seen: Vec<(CausalContext, Text)> = Vec::new();
    for mask in 0u32..(1 << n) {
        for rev in [false, true] {
            let mut t = Text::new();
            let idx: Vec<usize> = if rev {
                (0..n).rev().collect()
            } else {
                (0..n).collect()
            };
            for k in idx {
                if mask >> k & 1 == 1 {
                    t.validated_join(deltas[k].clone()).unwrap();
                }
            }
            t.check_invariants().unwrap();
            for (s, u) in &seen {
                if *s == t.summary() {
                    assert_eq!(u, &t, "equal summaries, different states");
                    assert_eq!(u.to_string(), t.to_string());
                }
            }
            seen.push((t.summary(), t));
        }
    }
    let full = seen.last().unwrap().1.clone();
    assert_eq!(full, a);
    assert_eq!(full.to_string(), "Jallo");
}

// ===========================================================================
// Impossible origins and malformed items (rejected at decode)
// ===========================================================================

/// An item whose origin is on its own replica at or after its own counter
/// (itself included) can never have been generated: `ImpossibleOrigin` at
/// decode, left or right, JSON and postcard.
#[test]
fn an_origin_on_the_items_own_replica_at_or_after_it_is_impossible() {
    let mut t = Text::new();
    t.insert(B, 0, "xy").unwrap();
    let d = t.insert(B, 1, "q").unwrap(); // B:3, left B:1, right B:2
    let v = to_value(&d);
    assert_eq!(v.pointer("/items/0/id"), Some(&dot_json(B, 3)), "{v}");
    for field in ["left", "right"] {
        for c in [3, 4, 1 << 40] {
            let mut w = v.clone();
            set(&mut w, &format!("/items/0/{field}"), dot_json(B, c));
            assert_decode_rejects::<Text>(
                &w,
                &InvariantViolation::ImpossibleOrigin { dot: dot(B, 3) },
            );
        }
    }
    // Counter 0 is never generated.
    let mut w = v.clone();
    set(&mut w, "/items/0/left", dot_json(A, 0));
    assert_decode_rejects::<Text>(&w, &InvariantViolation::ZeroDot { replica: A });
    let mut w = v.clone();
    set(&mut w, "/items/0/id", dot_json(B, 0));
    assert_decode_rejects::<Text>(&w, &InvariantViolation::ZeroDot { replica: B });
    // Beyond the counter range.
    let mut w = v.clone();
    set(&mut w, "/items/0/left", dot_json(A, u64::MAX));
    assert_decode_rejects::<Text>(&w, &InvariantViolation::ImpossibleOrigin { dot: dot(B, 3) });
}

/// Items whose content disagrees with their length or tombstone state are
/// `MalformedItem` at decode: content longer or shorter than `len`, `len`
/// 0, a tombstone (null content) nothing deletes, a live item a delete
/// targets.
#[test]
fn items_whose_content_disagrees_with_len_or_tombstones_are_malformed() {
    let mut t = Text::new();
    let d = t.insert(A, 0, "ab").unwrap();
    let v = to_value(&d);
    let bad = InvariantViolation::MalformedItem { dot: dot(A, 1) };
    for (len, content) in [
        (json!(2), json!("abc")),
        (json!(2), json!("a")),
        (json!(0), json!("")),
        (json!(2), Value::Null),
        (json!(3), json!("ab")),
    ] {
        let mut w = v.clone();
        set(&mut w, "/items/0/len", len);
        set(&mut w, "/items/0/content", content);
        assert_decode_rejects::<Text>(&w, &bad);
    }
    // A delete targeting a unit shipped as live.
    let mut w = v.clone();
    w["deletes"] =
        json!([{"dot": dot_json(B, 1), "len": 1, "target": dot_json(A, 2), "reversed": false}]);
    assert_decode_rejects::<Text>(&w, &bad);
    // Lists: one value short.
    let mut l: List<u8> = List::new();
    let mut w = to_value(&l.insert_from(A, 0, [1, 2, 3]).unwrap());
    set(&mut w, "/items/0/content", json!([1, 2]));
    assert_decode_rejects::<List<u8>>(&w, &bad);
}

// ===========================================================================
// B18: runs and delete ranges at the edges of the counter space
// ===========================================================================

/// B18: item runs and delete runs whose `counter + len` or
/// `target ± len` leave the counter range (or `u64`) are errors, never an
/// arithmetic overflow panic, and fast; huge *valid* tombstone runs (a few
/// bytes describing 2^40 deleted units) are accepted or rejected, but never
/// allocate per unit (checked by time) and never change the visible text.
#[test]
fn b18_runs_and_deletes_overflowing_the_counter_space_are_errors_not_panics() {
    let start = Instant::now();
    let max = Dot::MAX_COUNTER;
    let mut base = Text::new();
    base.insert(A, 0, "abc").unwrap();

    // (input, must it be rejected?)
    let mut cases: Vec<(Value, bool)> = Vec::new();
    for (id, len) in [
        (max, 2),
        (max + 1, 1),
        (u64::MAX, 1),
        (u64::MAX - 1, 2),
        (1, u64::MAX),
        (2, u64::MAX),
        (1, max + 1),
    ] {
        // Past the counter space: as a tombstone (any len) and live.
        cases.push((
            json!({"items": [{"id": dot_json(B, id), "len": len, "left": null, "right": null,
            "content": null}], "deletes": [{"dot": dot_json(C, 1), "len": len, "target": dot_json(B, id), "reversed": false}]}),
            true,
        ));
        cases.push((
            json!({"items": [{"id": dot_json(B, id), "len": len, "left": null, "right": null,
            "content": "xy"}], "deletes": []}),
            true,
        ));
    }
    for (dot_c, len, target, reversed, reject) in [
        // Targets past the counter space, or before counter 1.
        (1, 1, u64::MAX, false, true),
        (1, 2, u64::MAX, true, true),
        (1, 2, u64::MAX - 1, false, true),
        (1, u64::MAX, 1, false, true),
        (1, u64::MAX, u64::MAX, true, true),
        (1, 3, 2, true, true),
        (1, 2, 1, true, true),
        (1, 1, max + 1, false, true),
        (1, 1 << 40, max, false, true),
        // Delete dots past the counter space.
        (u64::MAX, 1, 1, false, true),
        (max, 2, 1, false, true),
        // Plausible.
        (1, 1 << 40, 1 << 41, true, false),
        (1, 2, max, true, false),
        (1, 1, max, false, false),
    ] {
        cases.push((
            json!({"items": [], "deletes": [{"dot": dot_json(C, dot_c), "len": len,
            "target": dot_json(A, target), "reversed": reversed}]}),
            reject,
        ));
    }
    // Huge but plausible tombstone runs and deletes.
    for len in [1u64 << 20, 1 << 40, max - 10] {
        cases.push((json!({"items": [{"id": dot_json(B, 1), "len": len, "left": dot_json(A, 3), "right": null,
            "content": null}], "deletes": [{"dot": dot_json(C, 1), "len": len, "target": dot_json(B, 1), "reversed": false}]}), false));
        cases.push((
            json!({"items": [], "deletes": [{"dot": dot_json(C, 1), "len": len,
            "target": dot_json(A, 2), "reversed": false}]}),
            false,
        ));
        cases.push((
            json!({"items": [], "deletes": [{"dot": dot_json(C, 1), "len": len,
            "target": dot_json(A, len + 1), "reversed": true}]}),
            false,
        ));
    }
    // Every case runs; the problems are reported together.
    let mut problems: Vec<String> = Vec::new();
    for (case, must_reject) in &cases {
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let decoded: Result<Text, _> = serde_json::from_value(case.clone());
            let accepted = decoded.is_ok();
            if let Ok(x) = decoded {
                x.check_invariants().unwrap();
                let mut y = base.clone();
                let before = y.clone();
                match y.validated_join(x.clone()) {
                    Ok(_) => {
                        assert!(before.leq(&y));
                        y.check_invariants().unwrap();
                        // Only the units of A can disappear; nothing appears.
                        assert!(y.len() <= 3);
                        let z = serde_json::to_value(&y).unwrap();
                        let back: Text = serde_json::from_value(z).unwrap();
                        assert_eq!(back, y);
                    }
                    Err(_) => assert_eq!(y, before),
                }
            }
            accepted
        }));
        match outcome {
            Err(_) => problems.push(format!("panicked on {case}")),
            Ok(true) if *must_reject => problems.push(format!("accepted {case}")),
            Ok(_) => {}
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {} cases:\n{}",
        problems.len(),
        cases.len(),
        problems.join("\n")
    );
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
}

// ===========================================================================
// Pending limit
// ===========================================================================

/// A replica with `with_pending_limit(2)` accepts two waiting runs; a third
/// is `PendingLimit { limit: 2 }` and leaves it unchanged; once the origins
/// arrive the waiting runs integrate and the rejected delta is accepted.
#[test]
fn pending_limit_rejects_the_run_that_would_exceed_it() {
    // C types backwards: each char waits for the previous one (its right
    // origin), and no two can merge into one run.
    let mut c_side = Text::new();
    let deltas: Vec<Text> = "dcba"
        .chars()
        .map(|ch| c_side.insert(C, 0, &ch.to_string()).unwrap())
        .collect();
    let mut x = Text::with_pending_limit(2);
    x.join(Text::new().insert(A, 0, "z").unwrap());
    assert_eq!(x.validated_join(deltas[1].clone()), Ok(true));
    assert_eq!(x.validated_join(deltas[2].clone()), Ok(true));
    assert_eq!(x.pending_len(), 2);
    assert_rejected_join(
        &x,
        deltas[3].clone(),
        &InvariantViolation::PendingLimit { limit: 2 },
        text_of,
    );
    assert_eq!(x.pending_len(), 2);
    assert_eq!(x.validated_join(deltas[0].clone()), Ok(true));
    assert_eq!(x.pending_len(), 0);
    assert_eq!(x.validated_join(deltas[3].clone()), Ok(true));
    assert_eq!(x.pending_len(), 0);
    let mut want = Text::new();
    for d in &deltas {
        want.join(d.clone());
    }
    want.join(Text::new().insert(A, 0, "z").unwrap());
    assert_eq!(x, want);

    // Lists: limit 0 rejects any waiting run, one delta with two waiting
    // runs is rejected by limit 1.
    let mut c_list: List<u8> = List::new();
    let d1 = c_list.insert(C, 0, 1).unwrap();
    let d2 = c_list.insert(C, 0, 2).unwrap();
    let d3 = c_list.insert(C, 0, 3).unwrap();
    let mut l: List<u8> = List::with_pending_limit(0);
    assert_rejected_join(
        &l,
        d2.clone(),
        &InvariantViolation::PendingLimit { limit: 0 },
        vec_of,
    );
    assert_eq!(l.validated_join(d1.clone()), Ok(true));
    assert_eq!(l.validated_join(d2.clone()), Ok(true));
    let mut m: List<u8> = List::with_pending_limit(1);
    let both = d2.joined(d3);
    assert_rejected_join(
        &m,
        both.clone(),
        &InvariantViolation::PendingLimit { limit: 1 },
        vec_of,
    );
    assert_eq!(m.validated_join(d1), Ok(true));
    assert_eq!(m.validated_join(both), Ok(true));
    assert_eq!(m.to_vec(), [3, 2, 1]);
}

// ===========================================================================
// Local indices past the end
// ===========================================================================

/// Local edits past the end return `IndexError { index, len }` and change
/// nothing (`==`, text, bytes).
#[test]
fn local_indices_past_the_end_are_index_errors_and_change_nothing() {
    let mut t = Text::new();
    t.insert(A, 0, "héllo😀").unwrap();
    t.delete(A, 0..1).unwrap();
    let before = t.clone();
    let bytes = postcard::to_allocvec(&t).unwrap();
    let len = t.len();
    assert_eq!(len, 5);
    assert_eq!(t.insert(A, 6, "x"), Err(IndexError { index: 6, len: 5 }));
    assert_eq!(
        t.insert(A, usize::MAX, "x"),
        Err(IndexError {
            index: usize::MAX,
            len: 5
        })
    );
    assert_eq!(t.delete(A, 3..6), Err(IndexError { index: 6, len: 5 }));
    assert_eq!(t.delete(A, 7..9), Err(IndexError { index: 7, len: 5 }));
    assert_eq!(
        t.delete(A, 0..usize::MAX),
        Err(IndexError {
            index: usize::MAX,
            len: 5
        })
    );
    #[allow(clippy::reversed_empty_ranges)]
    let reversed = t.delete(A, 4..2);
    assert!(reversed.is_err(), "{reversed:?}");
    assert_eq!(
        t.anchor(6, Bias::Left),
        Err(IndexError { index: 6, len: 5 })
    );
    assert_eq!(t.char_to_utf8(6), Err(IndexError { index: 6, len: 5 }));
    assert_eq!(t, before);
    assert_eq!(t.to_string(), "éllo😀");
    assert_eq!(postcard::to_allocvec(&t).unwrap(), bytes);

    let mut l: List<u8> = List::new();
    l.insert_from(A, 0, [1, 2, 3]).unwrap();
    let before = l.clone();
    assert_eq!(l.insert(A, 4, 0), Err(IndexError { index: 4, len: 3 }));
    assert_eq!(
        l.insert_from(A, 5, [0, 0]),
        Err(IndexError { index: 5, len: 3 })
    );
    assert_eq!(l.delete(A, 3), Err(IndexError { index: 3, len: 3 }));
    assert_eq!(
        l.delete(A, usize::MAX),
        Err(IndexError {
            index: usize::MAX,
            len: 3
        })
    );
    assert_eq!(
        l.delete_range(A, 1..4),
        Err(IndexError { index: 4, len: 3 })
    );
    assert_eq!(l, before);
    assert_eq!(l.to_vec(), [1, 2, 3]);
}

// ===========================================================================
// Malformed bytes: garbage, truncation, huge lengths, invalid UTF-8
// ===========================================================================

fn corpus_texts() -> Vec<Text> {
    let mut t = Text::new();
    let mut out = vec![t.clone()];
    out.push(t.insert(A, 0, "héllo😀").unwrap());
    t.insert(B, 2, "ｶ").unwrap();
    t.delete(A, 0..2).unwrap();
    let mut u = Text::new();
    u.insert(C, 0, "x").unwrap();
    out.push(u.clone());
    out.push(t.clone());
    out.push(t.joined(u));
    out
}

fn corpus_lists() -> Vec<List<u8>> {
    let mut l: List<u8> = List::new();
    let mut out = vec![l.clone()];
    out.push(l.insert_from(A, 0, [1, 2, 3, 200]).unwrap());
    l.delete(A, 1).unwrap();
    l.insert(B, 0, 9).unwrap();
    out.push(l.clone());
    out.push(l.delete_range(B, 0..2).unwrap());
    out.push(l);
    out
}

/// Garbage JSON (empty, truncated, wrong types, wrong shapes, trailing
/// tokens) is an error, never a panic.
#[test]
fn b21_garbage_json_is_an_error() {
    for bad in [
        "",
        "{",
        "[",
        "null",
        "42",
        "\"text\"",
        "[]",
        "{}",
        "{\"items\":5,\"deletes\":[]}",
        "{\"items\":[],\"deletes\":{}}",
        "{\"items\":[{}],\"deletes\":[]}",
        "{\"items\":[{\"id\":1,\"len\":1,\"left\":null,\"right\":null,\"content\":\"a\"}],\"deletes\":[]}",
        "{\"items\":[],\"deletes\":[]} x",
        "{\"items\":[],\"deletes\":[],\"items\":[]}",
        "{\"items\":[{\"id\":{\"replica\":-1,\"counter\":1},\"len\":1,\"left\":null,\"right\":null,\"content\":\"a\"}],\"deletes\":[]}",
        "{\"items\":[{\"id\":{\"replica\":1,\"counter\":1},\"len\":18446744073709551616,\"left\":null,\"right\":null,\"content\":\"a\"}],\"deletes\":[]}",
    ] {
        let t = catch_unwind(|| serde_json::from_str::<Text>(bad).is_err());
        assert_eq!(t.ok(), Some(true), "Text accepted or panicked on {bad}");
        let l = catch_unwind(|| serde_json::from_str::<List<u8>>(bad).is_err());
        assert_eq!(l.ok(), Some(true), "List accepted or panicked on {bad}");
    }
}

/// B19: text content that is not Unicode scalar values — a lone surrogate
/// escape in JSON, invalid UTF-8 in postcard — is an error.
#[test]
fn b19_invalid_utf8_and_lone_surrogates_are_errors() {
    let mut t = Text::new();
    let d = t.insert(A, 0, "QQQQ").unwrap();
    let json = serde_json::to_string(&d).unwrap();
    for bad in ["\\ud800QQQ", "\\udfffQQQ", "Q\\ud83dQQ"] {
        let j = json.replace("QQQQ", bad);
        assert!(serde_json::from_str::<Text>(&j).is_err(), "accepted {j}");
    }
    let bytes = postcard::to_allocvec(&d).unwrap();
    let at = bytes.windows(4).position(|w| w == b"QQQQ").unwrap();
    for bad in [
        [0xff, b'Q', b'Q', b'Q'],
        [0xc3, b'Q', b'Q', b'Q'],
        [0xed, 0xa0, 0x80, b'Q'], // an encoded surrogate
        [b'Q', b'Q', b'Q', 0xe2],
    ] {
        let mut b = bytes.clone();
        b[at..at + 4].copy_from_slice(&bad);
        assert!(postcard::from_bytes::<Text>(&b).is_err(), "accepted {b:?}");
    }
}

/// B1: every strict prefix of a valid encoding (postcard, bincode, JSON) is
/// an error.
#[test]
fn b1_every_strict_prefix_of_a_sequence_encoding_is_an_error() {
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
        for i in (0..j.len()).filter(|&i| j.is_char_boundary(i)) {
            assert!(
                serde_json::from_str::<T>(&j[..i]).is_err(),
                "json prefix {}",
                &j[..i]
            );
        }
    }
    for t in corpus_texts() {
        check(&t);
    }
    for l in corpus_lists() {
        check(&l);
    }
}

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

/// B5/B6: postcard length prefixes of 2^32 … `u64::MAX` — for the item
/// list, the delete list, and a run's content — on short inputs are errors,
/// not aborts from a pre-allocation, and fast. Also bincode's fixed-width
/// lengths.
#[test]
fn b5_b6_huge_length_prefixes_are_errors_not_aborts() {
    let start = Instant::now();
    for n in [1u64 << 32, 1 << 40, 1 << 48, 1 << 62, u64::MAX] {
        let mut prefixes: Vec<Vec<u8>> = Vec::new();
        // Huge item count.
        let mut v = Vec::new();
        varint(n, &mut v);
        prefixes.push(v);
        // No items, huge delete count.
        let mut v = vec![0];
        varint(n, &mut v);
        prefixes.push(v);
        // One item A:1 len 1, no origins, content Some(huge).
        let mut v = vec![1, 1, 1, 1, 0, 0, 1];
        varint(n, &mut v);
        prefixes.push(v);
        for p in prefixes {
            let p = padded(p, 24);
            assert!(postcard::from_bytes::<Text>(&p).is_err(), "Text {p:?}");
            assert!(
                postcard::from_bytes::<List<u8>>(&p).is_err(),
                "List<u8> {p:?}"
            );
            assert!(
                postcard::from_bytes::<List<u64>>(&p).is_err(),
                "List<u64> {p:?}"
            );
            assert!(
                postcard::from_bytes::<List<String>>(&p).is_err(),
                "List<String> {p:?}"
            );
        }
        let le = n.to_le_bytes();
        let mut v = le.to_vec();
        assert!(bincode::deserialize::<Text>(&padded(v.clone(), 48)).is_err());
        assert!(bincode::deserialize::<List<u8>>(&padded(v.clone(), 48)).is_err());
        v = 0u64.to_le_bytes().to_vec();
        v.extend(le);
        assert!(bincode::deserialize::<Text>(&padded(v.clone(), 48)).is_err());
        assert!(bincode::deserialize::<List<u8>>(&padded(v, 48)).is_err());
    }
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "took {:?}",
        start.elapsed()
    );
}

// ===========================================================================
// B21-lite: mutated encodings; B22: type confusion
// ===========================================================================

fn mutate(rng: &mut SplitMix64, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..=rng.below(3) {
        match rng.below(5) {
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
                v.remove(i);
            }
            3 => {
                let i = rng.below(v.len() + 1);
                let b = rng.small_byte();
                v.insert(i, b);
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

/// A number in a JSON text replaced by an extreme or nearby one.
fn mutate_json(rng: &mut SplitMix64, seed: &str) -> String {
    const NUMS: [&str; 8] = [
        "0",
        "1",
        "2",
        "3",
        "4611686018427387904",
        "4611686018427387905",
        "18446744073709551615",
        "9223372036854775808",
    ];
    const TOKENS: [&str; 6] = ["null", "true", "\"a\"", "[]", "{}", ","];
    let mut s = seed.to_string();
    for _ in 0..=rng.below(2) {
        let digits: Vec<usize> = s
            .char_indices()
            .filter(|(i, c)| c.is_ascii_digit() && !s[..*i].ends_with(|p: char| p.is_ascii_digit()))
            .map(|(i, _)| i)
            .collect();
        if rng.below(4) > 0 && !digits.is_empty() {
            let i = digits[rng.below(digits.len())];
            let end = s[i..]
                .find(|c: char| !c.is_ascii_digit())
                .map_or(s.len(), |e| i + e);
            s.replace_range(i..end, NUMS[rng.below(NUMS.len())]);
        } else {
            let mut i = rng.below(s.len() + 1);
            while !s.is_char_boundary(i) {
                i -= 1;
            }
            s.insert_str(i, TOKENS[rng.below(TOKENS.len())]);
        }
    }
    s
}

/// Decodes as `T` (postcard and JSON) without panicking; an accepted value
/// is valid, round-trips, joins into a valid state, and rejoining is a
/// no-op. Returns how many decodings were accepted.
fn decode_as<T>(bytes: &[u8], join_into: &T) -> usize
where
    T: Validate + Serialize + DeserializeOwned + Debug,
{
    let run = || {
        let mut ok = 0;
        let p = postcard::from_bytes::<T>(bytes).ok();
        let j = serde_json::from_slice::<T>(bytes).ok();
        for x in p.into_iter().chain(j) {
            ok += 1;
            assert_eq!(x.check_invariants(), Ok(()), "accepted an invalid {x:?}");
            let enc = postcard::to_allocvec(&x).unwrap();
            assert_eq!(&postcard::from_bytes::<T>(&enc).unwrap(), &x);
            let js = serde_json::to_string(&x).unwrap();
            assert_eq!(&serde_json::from_str::<T>(&js).unwrap(), &x);
            let mut y = join_into.clone();
            match y.validated_join(x.clone()) {
                Ok(_) => {
                    y.check_invariants().unwrap();
                    let again = y.clone();
                    assert_eq!(y.validated_join(x), Ok(false));
                    assert_eq!(y, again);
                }
                Err(_) => assert_eq!(&y, join_into),
            }
        }
        ok
    };
    match catch_unwind(AssertUnwindSafe(run)) {
        Ok(n) => n,
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

fn decode_as_sequences(bytes: &[u8], text: &Text, list: &List<u8>) -> usize {
    decode_as::<Text>(bytes, text)
        + decode_as::<List<u8>>(bytes, list)
        + decode_as::<List<u32>>(bytes, &List::new())
        + decode_as::<List<String>>(bytes, &List::new())
}

/// B21-lite: mutated postcard and JSON encodings of valid sequences decode
/// as an error or a valid value that joins cleanly (or is rejected without
/// change) — never a panic.
#[test]
fn b21_mutated_sequence_encodings_never_panic_and_accepted_values_are_valid() {
    let mut rng = SplitMix64::new(0x5E0_C0FFEE);
    let texts = corpus_texts();
    let lists = corpus_lists();
    let mut bin: Vec<Vec<u8>> = Vec::new();
    let mut js: Vec<String> = Vec::new();
    for t in &texts {
        bin.push(postcard::to_allocvec(t).unwrap());
        js.push(serde_json::to_string(t).unwrap());
    }
    for l in &lists {
        bin.push(postcard::to_allocvec(l).unwrap());
        js.push(serde_json::to_string(l).unwrap());
    }
    let n = match std::env::var("CONVERGE_TEST_TIER").as_deref() {
        Ok("long") => 40_000,
        _ => 4_000,
    };
    let (mut ok_bin, mut ok_json) = (0, 0);
    for k in 0..n {
        let target_t = &texts[k % texts.len()];
        let target_l = &lists[k % lists.len()];
        let seed = &bin[rng.below(bin.len())];
        ok_bin += decode_as_sequences(&mutate(&mut rng, seed), target_t, target_l);
        let seed = &js[rng.below(js.len())];
        ok_json += decode_as_sequences(mutate_json(&mut rng, seed).as_bytes(), target_t, target_l);
    }
    eprintln!("b21 sequences: {n} x 2 inputs, accepted: postcard {ok_bin}, json {ok_json}");
    assert!(ok_bin > n / 20, "too few accepted: {ok_bin}");
    assert!(ok_json > n / 20, "too few accepted: {ok_json}");
}

/// B22: a valid delta of another type is an error, never a misread state —
/// where the encoding tells the types apart (JSON: a string is not a list of
/// numbers; a set is not a sequence). Postcard does not tag types (a
/// `List<u8>` of UTF-8 bytes and a `Text` encode alike), so there the
/// contract is "an error or a valid state".
#[test]
fn b22_deltas_of_another_type_are_errors() {
    let mut t = Text::new();
    let td = t.insert(A, 0, "hi").unwrap();
    let mut l: List<u8> = List::new();
    let ld = l.insert_from(A, 0, [104, 105]).unwrap();
    let mut big: List<u32> = List::new();
    let bd = big.insert_from(A, 0, [1000, 2]).unwrap();
    let mut s: OrSet<u8> = OrSet::new();
    s.insert(A, 1);
    let mut m: OrMap<u8, Embedded<Text>> = OrMap::new();
    m.update(A, 1, |e| e.update(A, |x| x.insert(A, 0, "hi").unwrap()));
    let mut g = GCounter::new();
    g.increment(A, 2).unwrap();

    let tj = serde_json::to_string(&td).unwrap();
    let lj = serde_json::to_string(&ld).unwrap();
    let bj = serde_json::to_string(&bd).unwrap();
    let sj = serde_json::to_string(&s).unwrap();
    let mj = serde_json::to_string(&m).unwrap();
    let gj = serde_json::to_string(&g).unwrap();
    assert!(
        serde_json::from_str::<List<u8>>(&tj).is_err(),
        "Text as List<u8>: {tj}"
    );
    assert!(
        serde_json::from_str::<List<u32>>(&tj).is_err(),
        "Text as List<u32>"
    );
    assert!(
        serde_json::from_str::<Text>(&lj).is_err(),
        "List<u8> as Text: {lj}"
    );
    assert!(
        serde_json::from_str::<List<u8>>(&bj).is_err(),
        "List<u32> of 1000 as List<u8>"
    );
    for other in [&sj, &mj, &gj] {
        assert!(
            serde_json::from_str::<Text>(other).is_err(),
            "{other} as Text"
        );
        assert!(
            serde_json::from_str::<List<u8>>(other).is_err(),
            "{other} as List"
        );
    }
    assert!(
        serde_json::from_str::<OrSet<u8>>(&tj).is_err(),
        "Text as OrSet"
    );
    assert!(
        serde_json::from_str::<OrMap<u8, Embedded<Text>>>(&tj).is_err(),
        "Text as OrMap"
    );
    assert!(
        serde_json::from_str::<GCounter>(&tj).is_err(),
        "Text as GCounter"
    );

    // Any encoding as any sequence type: an error or a valid value.
    let seeds: Vec<Vec<u8>> = vec![
        postcard::to_allocvec(&td).unwrap(),
        postcard::to_allocvec(&ld).unwrap(),
        postcard::to_allocvec(&bd).unwrap(),
        postcard::to_allocvec(&s).unwrap(),
        postcard::to_allocvec(&m).unwrap(),
        postcard::to_allocvec(&g).unwrap(),
        tj.into_bytes(),
        lj.into_bytes(),
        bj.into_bytes(),
        sj.into_bytes(),
        mj.into_bytes(),
        gj.into_bytes(),
    ];
    for b in &seeds {
        decode_as_sequences(b, &t, &l);
        // And the sequence encodings as other types.
        let other = catch_unwind(|| {
            for x in postcard::from_bytes::<OrSet<u8>>(b)
                .ok()
                .into_iter()
                .chain(serde_json::from_slice::<OrSet<u8>>(b).ok())
            {
                x.check_invariants().unwrap();
            }
            for x in postcard::from_bytes::<OrMap<u8, Embedded<Text>>>(b)
                .ok()
                .into_iter()
                .chain(serde_json::from_slice::<OrMap<u8, Embedded<Text>>>(b).ok())
            {
                x.check_invariants().unwrap();
            }
        });
        assert!(other.is_ok(), "panicked on {b:?}");
    }
}

// ===========================================================================
// Review regressions (independent review of the sequence module)

/// Equality does not depend on how waiting units were delivered: three
/// keystroke deltas and one `delta_since` wait as 3 and 1 runs, but hold the
/// same units, so the states are equal, join commutes and serde round-trips.
#[test]
fn review_equality_ignores_how_waiting_runs_are_split() {
    let (a_id, c_id, z_id) = (ReplicaId::new(1), ReplicaId::new(3), ReplicaId::new(9));
    let mut c = Text::new();
    let o = c.insert(c_id, 0, "o").unwrap();
    let mut a = Text::new();
    a.join(o.clone());
    let d1 = a.insert(a_id, 1, "a").unwrap();
    let d2 = a.insert(a_id, 2, "b").unwrap();
    let d3 = a.insert(a_id, 3, "c").unwrap();
    let base = Text::new().insert(z_id, 0, "z").unwrap();
    let mut x = base.clone();
    x.join(d1);
    x.join(d2);
    x.join(d3);
    let mut y = base.clone();
    y.join(a.delta_since(&base.summary()).delta_since(o.context()));
    assert_eq!(x.pending_len(), 3);
    assert_eq!(y.pending_len(), 1);
    assert_eq!(x, y);
    assert_eq!(x.clone().joined(y.clone()), y.clone().joined(x.clone()));
    let back: Text = serde_json::from_str(&serde_json::to_string(&x).unwrap()).unwrap();
    assert_eq!(back, x);
    // Once "o" arrives, both show the same text and nothing waits.
    x.join(o.clone());
    y.join(o);
    // "o" (replica 3) and "z" (replica 9) were both typed into an empty
    // text: the smaller replica id comes first.
    assert_eq!(x.to_string(), "oabcz");
    assert_eq!(x, y);
    assert_eq!(x.pending_len(), 0);
}

/// A peer may not claim events of the local replica it never generated.
#[test]
fn review_forged_local_claims_are_rejected() {
    let me = ReplicaId::new(1);
    let mut mine = Text::new();
    mine.insert(me, 0, "a").unwrap();
    let forged: Text = serde_json::from_value(serde_json::json!({
        "items": [{"id": {"replica": 1, "counter": 1u64 << 62}, "len": 1,
                   "left": null, "right": null, "content": "x"}],
        "deletes": []
    }))
    .unwrap();
    let before = mine.clone();
    assert_eq!(
        mine.validated_join_as(me, forged),
        Err(InvariantViolation::UnknownLocalEvent {
            dot: converge::Dot::new(me, 1 << 62)
        })
    );
    assert_eq!(mine, before);
    // The replica's next edit is still acceptable to honest peers.
    let d = mine.insert(me, 0, "b").unwrap();
    assert_eq!(Text::new().validated_join(d), Ok(true));
}

/// Deletes of waiting units do not split the waiting runs, so they neither
/// overshoot the pending limit nor get refused because of it; an unrelated
/// complete delta is accepted afterwards.
#[test]
fn review_deletes_of_waiting_units_respect_the_pending_limit() {
    let (a_id, c_id, z_id) = (ReplicaId::new(1), ReplicaId::new(3), ReplicaId::new(9));
    let mut c = Text::new();
    let o = c.insert(c_id, 0, "o").unwrap();
    let mut a = Text::new();
    a.join(o.clone());
    let word = a.insert(a_id, 1, "abcdefghi").unwrap();
    let dels: Vec<Text> = [2usize, 3, 4, 5]
        .iter()
        .map(|&i| a.delete(a_id, i - 1..i).unwrap())
        .collect();
    let mut x = Text::with_pending_limit(2);
    let mut z = Text::new();
    x.join(z.insert(z_id, 0, "z").unwrap());
    assert_eq!(x.validated_join(word), Ok(true));
    for d in dels {
        assert_eq!(x.validated_join(d), Ok(true));
        assert!(x.pending_len() <= 2);
    }
    assert_eq!(x.validated_join(z.insert(z_id, 1, "q").unwrap()), Ok(true));
    x.join(o);
    assert_eq!(x.pending_len(), 0);
    assert_eq!(a.to_string(), "obdfhi");
    assert_eq!(x.to_string(), "obdfhizq");
}

/// Units (tombstones included) are bounded, so positions never overflow:
/// two valid states of 2^62 units each cannot both be joined.
#[test]
fn review_total_units_are_bounded() {
    let huge: u64 = 1 << 62;
    let tomb = |r: u64| -> Text {
        serde_json::from_value(serde_json::json!({
            "items": [{"id": {"replica": r, "counter": 1}, "len": huge,
                       "left": null, "right": null, "content": null}],
            "deletes": [{"dot": {"replica": r + 100, "counter": 1}, "len": huge,
                         "target": {"replica": r, "counter": 1}, "reversed": false}]
        }))
        .unwrap()
    };
    let mut x = Text::new();
    assert_eq!(x.validated_join(tomb(1)), Ok(true));
    let before = x.clone();
    assert_eq!(
        x.validated_join(tomb(2)),
        Err(InvariantViolation::SequenceTooLong { limit: huge })
    );
    assert_eq!(x, before);
    // One state holding both is rejected at decode.
    let both = serde_json::json!({
        "items": [
            {"id": {"replica": 1, "counter": 1}, "len": huge, "left": null, "right": null, "content": null},
            {"id": {"replica": 2, "counter": 1}, "len": huge, "left": null, "right": null, "content": null}],
        "deletes": [
            {"dot": {"replica": 101, "counter": 1}, "len": huge, "target": {"replica": 1, "counter": 1}, "reversed": false},
            {"dot": {"replica": 102, "counter": 1}, "len": huge, "target": {"replica": 2, "counter": 1}, "reversed": false}]
    });
    assert!(serde_json::from_value::<Text>(both).is_err());
}

// ------------------------------------------------- C6: forged sibling groups

/// A `Text` in the compact encoding whose items (one char each) all name the
/// same origins (none: the start and the end of the text), one item per
/// replica `first..first + n`: `n` "concurrent" inserts at one position.
/// Placing the k-th scans the k - 1 before it, O(n²) in all.
fn forged_siblings(first: u64, n: u64) -> Vec<u8> {
    let mut out = b"cv\x01\x0b".to_vec(); // magic, version 1, tag Text
    varint(n, &mut out); // items
    for r in first..first + n {
        varint(r, &mut out); // id.replica
        varint(1, &mut out); // id.counter
        out.extend_from_slice(&[1, 0, 0]); // len 1, left None, right None
        out.extend_from_slice(&[1, 1, b'x']); // content Some("x")
    }
    out.push(0); // deletes
    out
}

#[test]
fn c6_forged_sibling_groups_beyond_the_scan_budget_are_rejected_at_decode() {
    // 1,000 siblings: ~500k scan steps, within the budget (an honest
    // history with 1,000 concurrent inserts at one position still decodes).
    let ok: Text = converge::encoding::decode(&forged_siblings(1, 1_000)).unwrap();
    assert_eq!(ok.len(), 1_000);
    ok.check_invariants().unwrap();
    // 20,000 siblings: ~2×10⁸ steps unbounded; rejected once the budget
    // (2^20 + 64 per placed run) runs out.
    let bytes = forged_siblings(1, 20_000);
    match converge::encoding::decode::<Text>(&bytes) {
        Err(converge::encoding::DecodeError::Invalid(InvariantViolation::ScanLimit {
            allowed,
        })) => assert!(allowed >= 1 << 20, "{allowed}"),
        other => panic!("expected ScanLimit, got {other:?}"),
    }
    // The serde path shares the check.
    let json = serde_json::to_string(
        &converge::encoding::decode::<Text>(&forged_siblings(1, 1_000)).unwrap(),
    )
    .unwrap();
    serde_json::from_str::<Text>(&json).unwrap();
}

#[test]
fn c6_a_large_join_against_local_siblings_runs_out_of_budget_and_changes_nothing() {
    // The local replica holds 1,400 siblings at the start (accepted: ~10⁶
    // steps); a peer sends 800 more at the same place. Each costs a scan of
    // the 1,400+ already there: ~1.5×10⁶ steps > 2^20 + 64 × 800.
    let mut local: Text = converge::encoding::decode(&forged_siblings(1, 1_400)).unwrap();
    let before = local.clone();
    let incoming: Text = converge::encoding::decode(&forged_siblings(10_001, 800)).unwrap();
    let err = local.validated_join(incoming).unwrap_err();
    assert!(
        matches!(err, InvariantViolation::ScanLimit { allowed } if allowed > 1 << 20),
        "{err:?}"
    );
    assert_eq!(local, before);
    assert_eq!(local.to_string(), before.to_string());
    assert_eq!(
        converge::encoding::encode(&local).unwrap(),
        converge::encoding::encode(&before).unwrap()
    );
    // A join of at most 256 runs is not budgeted: its cost is at most that
    // many scans of the local state, linear in its size.
    let small: Text = converge::encoding::decode(&forged_siblings(20_001, 200)).unwrap();
    assert_eq!(local.validated_join(small), Ok(true));
    assert_eq!(local.len(), 1_600);
}
