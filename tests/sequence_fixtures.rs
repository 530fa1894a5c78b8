//! Sequence fixture scenarios (TESTPLAN a.4 Q6, Q7; b.3 item 4; acceptance F8).
//!
//! Each fixture is a small causal history of edits. Every edit is made on its
//! author's replica, after that replica has joined the deltas of everything the
//! author causally saw; the delta each mutator returns is recorded. The full set
//! of deltas is then integrated into a fresh replica
//!
//! * in 100 uniformly random orders, not necessarily causal (the sequence holds
//!   a delta whose origins are missing until they arrive);
//! * in 100 random topological (causal) orders, as josephg/reference-crdts'
//!   `integrateFuzz` does;
//! * in 100 random orders with about a third of the deltas delivered twice;
//!
//! and every order must give the expected content, `pending_len() == 0` and a
//! state equal (`==`) to the in-order integration. Every fixture runs on both
//! `Text` (content as chars) and `List<String>` (content as whole elements, as
//! reference-crdts' items are).
//!
//! Fixtures (expected outputs are FugueMax's = reference-crdts' YjsMod's):
//!
//! * reference-crdts `test.ts`: `concurrentAvsB`, `interleavingForward`,
//!   `interleavingForward2`, `interleavingBackward`, `interleavingBackward2`,
//!   `withTails`, `withTails2`, `localVsConcurrent`. There each item is given
//!   with explicit origins; here each one is produced by a positional local
//!   edit whose origins (the neighbours in the author's full sequence) are the
//!   same ids. Agent names map to replica ids in the same order, so ties break
//!   the same way: `A`→1, `B`→2, `C`→3, `D`→4 (and, for the renamed-agent
//!   variants, `X`→24, `Y`→25; in `withTails2` the agent `1` sorts before `A`,
//!   so there `1`→1, `A`→2, `B`→3).
//! * Weidner & Kleppmann, *The Art of the Fugue*, Prop. C.4 (Yjs is not
//!   maximally non-interleaving).
//! * y-crdt/y-octo PR #53 (`test_insert_before_leading_tombstone_converges`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use converge::{DeltaSince, Lattice, List, ReplicaId, Text};

/// Orders tried per fixture and integration mode.
const ORDERS: u64 = 100;

// ---------------------------------------------------------------------------
// A tiny deterministic PRNG (xorshift64), so failures name a reproducible seed.

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        // splitmix-style scrambling so that small consecutive seeds differ a lot
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

// ---------------------------------------------------------------------------
// Fixture description.

/// Where an insert goes on its author's replica.
#[derive(Clone, Copy, Debug)]
enum Pos {
    /// Index 0.
    Start,
    /// After the last visible unit.
    End,
    /// A unit index; only used where every unit before it is one char, so the
    /// index means the same on `Text` and on `List<String>`.
    At(usize),
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Insert(Pos, &'static str),
    /// `Delete(index, count)`, in units (only used on single-char units).
    Delete(usize, usize),
}

#[derive(Clone, Copy, Debug)]
struct Op {
    /// Raw replica id of the author.
    author: u64,
    /// Indices of earlier ops (of other authors) the author had seen; the
    /// author's own earlier ops and everything those saw are implied.
    saw: &'static [usize],
    kind: Kind,
}

const fn ins(author: u64, saw: &'static [usize], pos: Pos, content: &'static str) -> Op {
    Op {
        author,
        saw,
        kind: Kind::Insert(pos, content),
    }
}

const fn del(author: u64, saw: &'static [usize], index: usize, count: usize) -> Op {
    Op {
        author,
        saw,
        kind: Kind::Delete(index, count),
    }
}

// ---------------------------------------------------------------------------
// The two sequence types, behind one small interface.

trait Seq: Lattice + Clone + Debug + Default + PartialEq {
    const NAME: &'static str;
    fn units(&self) -> usize;
    fn insert_str(&mut self, replica: ReplicaId, index: usize, content: &str) -> Self;
    fn delete_units(&mut self, replica: ReplicaId, index: usize, count: usize) -> Self;
    /// The visible content: one string for `Text`, the elements for `List`.
    fn render(&self) -> Vec<String>;
    /// What `render` must give for a fixture's expected elements.
    fn expected(parts: &[&str]) -> Vec<String>;
    fn pending(&self) -> usize;
}

impl Seq for Text {
    const NAME: &'static str = "Text";

    fn units(&self) -> usize {
        self.len()
    }

    fn insert_str(&mut self, replica: ReplicaId, index: usize, content: &str) -> Self {
        self.insert(replica, index, content).unwrap()
    }

    fn delete_units(&mut self, replica: ReplicaId, index: usize, count: usize) -> Self {
        self.delete(replica, index..index + count).unwrap()
    }

    fn render(&self) -> Vec<String> {
        vec![self.to_string()]
    }

    fn expected(parts: &[&str]) -> Vec<String> {
        vec![parts.concat()]
    }

    fn pending(&self) -> usize {
        self.pending_len()
    }
}

impl Seq for List<String> {
    const NAME: &'static str = "List<String>";

    fn units(&self) -> usize {
        self.len()
    }

    fn insert_str(&mut self, replica: ReplicaId, index: usize, content: &str) -> Self {
        self.insert(replica, index, content.to_string()).unwrap()
    }

    fn delete_units(&mut self, replica: ReplicaId, index: usize, count: usize) -> Self {
        self.delete_range(replica, index..index + count).unwrap()
    }

    fn render(&self) -> Vec<String> {
        self.to_vec()
    }

    fn expected(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|p| p.to_string()).collect()
    }

    fn pending(&self) -> usize {
        self.pending_len()
    }
}

// ---------------------------------------------------------------------------
// Building the deltas.

struct Built<S> {
    /// `deltas[i]` is what op `i` returned on its author's replica.
    deltas: Vec<S>,
    /// `past[i]`: every op in op `i`'s causal past.
    past: Vec<BTreeSet<usize>>,
    /// Final state of every author's replica.
    replicas: BTreeMap<u64, S>,
    /// Integration of every delta in op order.
    reference: S,
}

fn build<S: Seq>(name: &str, ops: &[Op]) -> Built<S> {
    let mut replicas: BTreeMap<u64, (S, BTreeSet<usize>)> = BTreeMap::new();
    let mut deltas: Vec<S> = Vec::new();
    let mut past: Vec<BTreeSet<usize>> = Vec::new();

    for (i, op) in ops.iter().enumerate() {
        let mut causal = BTreeSet::new();
        for (j, earlier) in ops[..i].iter().enumerate() {
            if earlier.author == op.author {
                causal.insert(j);
                causal.extend(past[j].iter().copied());
            }
        }
        for &j in op.saw {
            assert!(j < i, "{name}: op {i} cannot see op {j}");
            causal.insert(j);
            causal.extend(past[j].iter().copied());
        }

        let (state, known) = replicas.entry(op.author).or_default();
        // ascending index order is a causal order
        for &j in &causal {
            if known.insert(j) {
                state.join(deltas[j].clone());
            }
        }
        assert_eq!(
            state.pending(),
            0,
            "{name}/{}: author {} of op {i} waits for origins after joining its causal past",
            S::NAME,
            op.author
        );

        let before = state.clone();
        let replica = ReplicaId::new(op.author);
        let delta = match op.kind {
            Kind::Insert(pos, content) => {
                let index = match pos {
                    Pos::Start => 0,
                    Pos::End => state.units(),
                    Pos::At(n) => n,
                };
                state.insert_str(replica, index, content)
            }
            Kind::Delete(index, count) => state.delete_units(replica, index, count),
        };
        // the mutator's contract: old ⊔ delta == new
        let mut check = before;
        check.join(delta.clone());
        assert_eq!(
            &check,
            &*state,
            "{name}/{}: op {i}: old.join(delta) != new",
            S::NAME
        );
        known.insert(i);
        deltas.push(delta);
        past.push(causal);
    }

    let mut reference = S::default();
    for d in &deltas {
        reference.join(d.clone());
    }
    Built {
        deltas,
        past,
        replicas: replicas.into_iter().map(|(k, (s, _))| (k, s)).collect(),
        reference,
    }
}

// ---------------------------------------------------------------------------
// The three integration modes.

fn seed_for(name: &str, mode: u64, k: u64) -> u64 {
    // FNV-1a over the fixture name, so each fixture gets its own orders
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3);
    }
    h ^ (mode << 56) ^ k
}

fn assert_outcome<S: Seq>(
    name: &str,
    mode: &str,
    built: &Built<S>,
    got: &S,
    expected: &[String],
    order: &[usize],
    seed: u64,
) {
    assert_eq!(
        got.render(),
        expected,
        "{name}/{}: {mode} order {order:?} (seed {seed:#x}) gave the wrong content",
        S::NAME
    );
    assert_eq!(
        got.pending(),
        0,
        "{name}/{}: {mode} order {order:?} (seed {seed:#x}) left runs pending",
        S::NAME
    );
    assert_eq!(
        got,
        &built.reference,
        "{name}/{}: {mode} order {order:?} (seed {seed:#x}) gave a state != the in-order integration",
        S::NAME
    );
}

/// Build, then check the in-order integration and the authors' replicas.
fn prepare<S: Seq>(name: &str, ops: &[Op], expected: &[&str]) -> (Built<S>, Vec<String>) {
    let built = build::<S>(name, ops);
    let expected = S::expected(expected);
    let in_order: Vec<usize> = (0..ops.len()).collect();
    assert_outcome(
        name,
        "in-order",
        &built,
        &built.reference,
        &expected,
        &in_order,
        0,
    );

    // state-based sync of every author's final replica gives the same state
    let mut all = S::default();
    for state in built.replicas.values() {
        all.join(state.clone());
    }
    assert_eq!(
        all,
        built.reference,
        "{name}/{}: join of the authors' replicas != join of the deltas",
        S::NAME
    );
    (built, expected)
}

/// Uniformly random orders (not necessarily causal).
fn any_order<S: Seq>(name: &str, ops: &[Op], expected: &[&str]) {
    let (built, expected) = prepare::<S>(name, ops, expected);
    let mut held = false;
    for k in 0..ORDERS {
        let seed = seed_for(name, 1, k);
        let mut rng = Rng::new(seed);
        let mut order: Vec<usize> = (0..ops.len()).collect();
        rng.shuffle(&mut order);
        let mut replica = S::default();
        for &i in &order {
            replica.join(built.deltas[i].clone());
            held |= replica.pending() > 0;
        }
        assert_outcome(name, "any", &built, &replica, &expected, &order, seed);
    }
    // not vacuous: where an insert depends on earlier ops, some order must
    // have delivered it before its origins, and it must have been held
    let dependent_insert = ops
        .iter()
        .zip(&built.past)
        .any(|(op, past)| matches!(op.kind, Kind::Insert(..)) && !past.is_empty());
    assert!(
        held || !dependent_insert,
        "{name}/{}: no order ever held a delta (pending_len() stayed 0)",
        S::NAME
    );
}

/// Random topological orders: each delta after everything in its causal past.
fn causal_order<S: Seq>(name: &str, ops: &[Op], expected: &[&str]) {
    let (built, expected) = prepare::<S>(name, ops, expected);
    for k in 0..ORDERS {
        let seed = seed_for(name, 2, k);
        let mut rng = Rng::new(seed);
        let mut done: BTreeSet<usize> = BTreeSet::new();
        let mut order = Vec::new();
        let mut replica = S::default();
        while done.len() < ops.len() {
            let ready: Vec<usize> = (0..ops.len())
                .filter(|i| !done.contains(i) && built.past[*i].is_subset(&done))
                .collect();
            assert!(!ready.is_empty());
            let i = ready[rng.below(ready.len())];
            replica.join(built.deltas[i].clone());
            done.insert(i);
            order.push(i);
            assert_eq!(
                replica.pending(),
                0,
                "{name}/{}: causal order prefix {order:?} (seed {seed:#x}) left runs pending",
                S::NAME
            );
        }
        assert_outcome(name, "causal", &built, &replica, &expected, &order, seed);
    }
}

/// Random orders in which about a third of the deltas arrive twice.
fn duplicated<S: Seq>(name: &str, ops: &[Op], expected: &[&str]) {
    let (built, expected) = prepare::<S>(name, ops, expected);
    for k in 0..ORDERS {
        let seed = seed_for(name, 3, k);
        let mut rng = Rng::new(seed);
        let mut order: Vec<usize> = (0..ops.len()).collect();
        for i in 0..ops.len() {
            if rng.below(3) == 0 {
                order.push(i);
            }
        }
        rng.shuffle(&mut order);
        let mut replica = S::default();
        for &i in &order {
            replica.join(built.deltas[i].clone());
        }
        assert_outcome(
            name,
            "duplicated",
            &built,
            &replica,
            &expected,
            &order,
            seed,
        );
        // and once more, everything again: nothing changes
        let before = replica.clone();
        for d in &built.deltas {
            replica.join(d.clone());
        }
        assert_eq!(
            replica,
            before,
            "{name}/{}: re-delivering every delta after order {order:?} (seed {seed:#x}) changed the state",
            S::NAME
        );
    }
}

macro_rules! fixture {
    ($ops:ident => $expected:expr;
     any: $any:ident, causal: $causal:ident, dup: $dup:ident) => {
        #[test]
        fn $any() {
            any_order::<Text>(stringify!($ops), $ops, $expected);
            any_order::<List<String>>(stringify!($ops), $ops, $expected);
        }

        #[test]
        fn $causal() {
            causal_order::<Text>(stringify!($ops), $ops, $expected);
            causal_order::<List<String>>(stringify!($ops), $ops, $expected);
        }

        #[test]
        fn $dup() {
            duplicated::<Text>(stringify!($ops), $ops, $expected);
            duplicated::<List<String>>(stringify!($ops), $ops, $expected);
        }
    };
}

// ---------------------------------------------------------------------------
// reference-crdts test.ts fixtures.

const A: u64 = 1;
const B: u64 = 2;
const C: u64 = 3;
const D: u64 = 4;
const X: u64 = 24;
const Y: u64 = 25;

/// `concurrentAvsB`: a and b inserted concurrently into empty lists.
const CONCURRENT_A_VS_B: &[Op] = &[ins(A, &[], Pos::Start, "a"), ins(B, &[], Pos::Start, "b")];

fixture!(CONCURRENT_A_VS_B => &["a", "b"];
    any: q6_concurrent_a_vs_b_any_order,
    causal: q6_concurrent_a_vs_b_causal_order,
    dup: q6_concurrent_a_vs_b_duplicated);

/// `interleavingForward`: A and B each type three chars left to right,
/// concurrently, at the same place (one op, one delta per char).
const INTERLEAVING_FORWARD: &[Op] = &[
    ins(A, &[], Pos::At(0), "a"),
    ins(A, &[], Pos::At(1), "a"),
    ins(A, &[], Pos::At(2), "a"),
    ins(B, &[], Pos::At(0), "b"),
    ins(B, &[], Pos::At(1), "b"),
    ins(B, &[], Pos::At(2), "b"),
];

fixture!(INTERLEAVING_FORWARD => &["a", "a", "a", "b", "b", "b"];
    any: q6_interleaving_forward_any_order,
    causal: q6_interleaving_forward_causal_order,
    dup: q6_interleaving_forward_duplicated);

/// The forward passages typed as one run each (one delta per passage).
const INTERLEAVING_FORWARD_RUNS: &[Op] = &[
    ins(A, &[], Pos::Start, "aaa"),
    ins(B, &[], Pos::Start, "bbb"),
];

fixture!(INTERLEAVING_FORWARD_RUNS => &["aaa", "bbb"];
    any: q6_interleaving_forward_runs_any_order,
    causal: q6_interleaving_forward_runs_causal_order,
    dup: q6_interleaving_forward_runs_duplicated);

/// `interleavingForward2` (Q7): the same shape with every char by a different
/// agent (A, X, Y and B, C, D), each having seen its predecessor.
const INTERLEAVING_FORWARD_RENAMED: &[Op] = &[
    ins(A, &[], Pos::At(0), "a"),
    ins(X, &[0], Pos::At(1), "a"),
    ins(Y, &[1], Pos::At(2), "a"),
    ins(B, &[], Pos::At(0), "b"),
    ins(C, &[3], Pos::At(1), "b"),
    ins(D, &[4], Pos::At(2), "b"),
];

fixture!(INTERLEAVING_FORWARD_RENAMED => &["a", "a", "a", "b", "b", "b"];
    any: q7_interleaving_forward_renamed_any_order,
    causal: q7_interleaving_forward_renamed_causal_order,
    dup: q7_interleaving_forward_renamed_duplicated);

/// `interleavingBackward`: both type right to left (each char inserted before
/// the previous one). RGA (Automerge) interleaves this.
const INTERLEAVING_BACKWARD: &[Op] = &[
    ins(A, &[], Pos::Start, "a"),
    ins(A, &[], Pos::Start, "a"),
    ins(A, &[], Pos::Start, "a"),
    ins(B, &[], Pos::Start, "b"),
    ins(B, &[], Pos::Start, "b"),
    ins(B, &[], Pos::Start, "b"),
];

fixture!(INTERLEAVING_BACKWARD => &["a", "a", "a", "b", "b", "b"];
    any: q6_interleaving_backward_any_order,
    causal: q6_interleaving_backward_causal_order,
    dup: q6_interleaving_backward_duplicated);

/// `interleavingBackward2` (Q7): A's second char is typed by agent X, who saw
/// A's first one.
const INTERLEAVING_BACKWARD_RENAMED: &[Op] = &[
    ins(A, &[], Pos::Start, "a"),
    ins(X, &[0], Pos::Start, "a"),
    ins(B, &[], Pos::Start, "b"),
    ins(B, &[], Pos::Start, "b"),
];

fixture!(INTERLEAVING_BACKWARD_RENAMED => &["a", "a", "b", "b"];
    any: q7_interleaving_backward_renamed_any_order,
    causal: q7_interleaving_backward_renamed_causal_order,
    dup: q7_interleaving_backward_renamed_duplicated);

/// `withTails`: each of A and B inserts `x`, then `x0` before it and `x1`
/// after it. RGA fails this.
const WITH_TAILS: &[Op] = &[
    ins(A, &[], Pos::Start, "a"),
    ins(A, &[], Pos::Start, "a0"),
    ins(A, &[], Pos::End, "a1"),
    ins(B, &[], Pos::Start, "b"),
    ins(B, &[], Pos::Start, "b0"),
    ins(B, &[], Pos::End, "b1"),
];

fixture!(WITH_TAILS => &["a0", "a", "a1", "b0", "b", "b1"];
    any: q6_with_tails_any_order,
    causal: q6_with_tails_causal_order,
    dup: q6_with_tails_duplicated);

/// `withTails2` (Q7): B's left tail `b0` is typed by agent `1` (having seen
/// `b`), whose name sorts before `A` and `B`: ids `1`→1, `A`→2, `B`→3. Yjs
/// fails this.
const WITH_TAILS_RENAMED: &[Op] = &[
    ins(2, &[], Pos::Start, "a"),
    ins(2, &[], Pos::Start, "a0"),
    ins(2, &[], Pos::End, "a1"),
    ins(3, &[], Pos::Start, "b"),
    ins(1, &[3], Pos::Start, "b0"),
    ins(3, &[], Pos::End, "b1"),
];

fixture!(WITH_TAILS_RENAMED => &["a0", "a", "a1", "b0", "b", "b1"];
    any: q7_with_tails_renamed_any_order,
    causal: q7_with_tails_renamed_causal_order,
    dup: q7_with_tails_renamed_duplicated);

/// `localVsConcurrent`: a, b, c inserted concurrently into empty lists; D,
/// having seen a and c (so its list is `ac`), inserts d between them. d stays
/// between a and c; reference-crdts expects `adbc`.
const LOCAL_VS_CONCURRENT: &[Op] = &[
    ins(A, &[], Pos::Start, "a"),
    ins(B, &[], Pos::Start, "b"),
    ins(C, &[], Pos::Start, "c"),
    ins(D, &[0, 2], Pos::At(1), "d"),
];

fixture!(LOCAL_VS_CONCURRENT => &["a", "d", "b", "c"];
    any: q6_local_vs_concurrent_any_order,
    causal: q6_local_vs_concurrent_causal_order,
    dup: q6_local_vs_concurrent_duplicated);

// ---------------------------------------------------------------------------
// Fugue paper, Prop. C.4: Yjs is not maximally non-interleaving.
//
// C inserts c into the empty list; A, after seeing c, inserts a before it
// (origins: start, c); B concurrently inserts b into its empty list (origins:
// start, end). Yjs gives `abc`, putting b inside A's passage `ac`.
//
// FugueMax: c is a right child of the root; a's left origin is the root and c
// descends from it, so a is a *left* child of c; b is a right child of the
// root. The root's right children b and c have the same right origin (end), so
// they are ordered by replica id, B (2) < C (3): b first. In-order traversal:
// b, then c's subtree = (a, c). Result `bac`: a immediately precedes c.
// (Checked by hand against reference-crdts' YjsMod integration: integrating b
// into [a, c] scans past a (same left origin, right origin c before end), then
// meets c (same origins as b, B < C) and inserts at the scan start: b a c; and
// integrating a into [b, c] lands directly before its right origin c.)

const YJS_PROP_C4: &[Op] = &[
    ins(C, &[], Pos::Start, "c"),
    ins(A, &[0], Pos::Start, "a"),
    ins(B, &[], Pos::Start, "b"),
];

fixture!(YJS_PROP_C4 => &["b", "a", "c"];
    any: q6_yjs_prop_c4_any_order,
    causal: q6_yjs_prop_c4_causal_order,
    dup: q6_yjs_prop_c4_duplicated);

#[test]
fn q6_yjs_prop_c4_a_immediately_precedes_c() {
    let built = build::<Text>("YJS_PROP_C4", YJS_PROP_C4);
    let s = built.reference.to_string();
    assert!(s.contains("ac"), "A's passage `ac` was split: {s:?}");
    assert_eq!(s, "bac");
}

// ---------------------------------------------------------------------------
// y-crdt/y-octo PR #53 ("avoid generating divergence-causing items in
// ListType::find_pos"): 3 replicas, 5 edits (4 inserts, 1 delete), 4 syncs.
// y-octo created `d` (inserted at index 0 before the leading tombstone `a`)
// with origins (start, c), not adjacent in the full sequence, and the two
// replicas ended as "dcb" vs "bdc". y-octo clients 0, 1, 2 are our replicas
// 1, 2, 3 (same order).
//
// Expected here: a is a right child of the root; b and c are right children
// of a with the same right origin (end), ordered by replica id: c (1) before
// b (2). d inserted at index 0 has adjacent origins: either (start, a) — d is
// a left child of a — or (a, c) — d is a left child of c; both give d before c,
// so the visible text is `dcb`.

const Y_OCTO_PR53: &[Op] = &[
    ins(1, &[], Pos::Start, "a"),  // c0: insert(0, "a")
    ins(2, &[0], Pos::At(1), "b"), // sync c0 -> c1; c1: insert(1, "b")
    ins(1, &[], Pos::At(1), "c"),  // c0: insert(1, "c")
    del(1, &[], 0, 1),             // c0: remove(0, 1)
    ins(3, &[3], Pos::Start, "d"), // sync c0 -> c2; c2: insert(0, "d")
];

fixture!(Y_OCTO_PR53 => &["d", "c", "b"];
    any: q6_y_octo_pr53_any_order,
    causal: q6_y_octo_pr53_causal_order,
    dup: q6_y_octo_pr53_duplicated);

/// The PR's exact schedule, syncing by "what am I missing" deltas
/// (`delta_since(summary)`) as y-octo syncs by state vector.
fn y_octo_pr53_schedule<S: Seq + DeltaSince>(full_state: bool) -> (S, S, S) {
    fn sync<S: Seq + DeltaSince>(from: &S, to: &mut S, full_state: bool) {
        if full_state {
            to.join(from.clone());
        } else {
            let delta = from.delta_since(&to.summary());
            to.join(delta);
        }
    }
    let (r0, r1, r2) = (ReplicaId::new(1), ReplicaId::new(2), ReplicaId::new(3));
    let mut c0 = S::default();
    let mut c1 = S::default();
    let mut c2 = S::default();

    c0.insert_str(r0, 0, "a");
    sync(&c0, &mut c1, full_state);
    c1.insert_str(r1, 1, "b");

    c0.insert_str(r0, 1, "c");
    c0.delete_units(r0, 0, 1);

    sync(&c0, &mut c2, full_state);
    assert_eq!(c2.render(), S::expected(&["c"]));
    c2.insert_str(r2, 0, "d");

    sync(&c1, &mut c2, full_state);
    sync(&c2, &mut c1, full_state);
    (c0, c1, c2)
}

fn check_pr53_schedule<S: Seq + DeltaSince>(full_state: bool) {
    let (c0, c1, c2) = y_octo_pr53_schedule::<S>(full_state);
    let how = if full_state {
        "full-state"
    } else {
        "delta_since"
    };
    assert_eq!(c0.render(), S::expected(&["c"]), "{}/{how}: c0", S::NAME);
    assert_eq!(
        c1.render(),
        c2.render(),
        "{}/{how}: c1 and c2 diverged",
        S::NAME
    );
    assert_eq!(c1, c2, "{}/{how}: c1 != c2", S::NAME);
    assert_eq!(
        c1.render(),
        S::expected(&["d", "c", "b"]),
        "{}/{how}",
        S::NAME
    );
    assert_eq!(c1.pending(), 0);
    assert_eq!(c2.pending(), 0);
}

#[test]
fn q6_y_octo_pr53_sync_schedule() {
    check_pr53_schedule::<Text>(false);
    check_pr53_schedule::<Text>(true);
    check_pr53_schedule::<List<String>>(false);
    check_pr53_schedule::<List<String>>(true);
}
