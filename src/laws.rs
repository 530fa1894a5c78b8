//! Reusable law checkers and proptest strategies (feature `proptest`).
//!
//! The checkers return a [`LawViolation`] naming the law (by its TESTPLAN id)
//! instead of panicking, so they work inside `proptest!` bodies, fuzz targets
//! and simulations alike. Downstream crates can run them on their own use of
//! these types.
//!
//! States for the laws are *reachable*: they are built from bottom by
//! mutators and joins ([`Replay`] + [`Step`]), never by `Arbitrary` on raw
//! fields (arbitrary fields may break invariants; those are the business of
//! [`Validate`]).
//!
//! ```
//! use converge::laws::{check_join_laws, run_steps, Step};
//! use converge::laws::SetOp;
//! use converge::OrSet;
//!
//! let steps = vec![
//!     Step::Op(0, SetOp::Insert(1)),
//!     Step::Op(1, SetOp::Insert(1)),
//!     Step::Join(0, 1),
//!     Step::Op(0, SetOp::Remove(1)),
//! ];
//! let run = run_steps::<OrSet<u8>>(3, 1, &steps).unwrap();
//! check_join_laws(&run.replicas[0], &run.replicas[1], &run.replicas[2]).unwrap();
//! assert!(!run.replicas[0].contains(&1));
//! assert!(run.replicas[1].contains(&1));
//! ```

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Debug};

use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;

use crate::{
    CausalCounter, CausalCrdt, DeltaSince, DotStore, Embedded, EwFlag, GCounter, Lattice, List,
    LwwRegister, MvRegister, OrMap, OrSet, PnCounter, RemovePolicy, ReplicaId, RwSet, Text,
    Validate, VersionVector,
};

/// A broken law: which one (TESTPLAN id and name) and the states involved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LawViolation {
    /// The law, e.g. `"L1 commutativity"`.
    pub law: &'static str,
    /// The states or values that break it, formatted with `Debug`.
    pub detail: String,
}

impl fmt::Display for LawViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} violated: {}", self.law, self.detail)
    }
}

impl std::error::Error for LawViolation {}

fn fail<T>(law: &'static str, detail: String) -> Result<T, LawViolation> {
    Err(LawViolation { law, detail })
}

fn ensure(
    ok: bool,
    law: &'static str,
    detail: impl FnOnce() -> String,
) -> Result<(), LawViolation> {
    if ok {
        Ok(())
    } else {
        fail(law, detail())
    }
}

/// Joins that also check the change report: `join` returns `true` iff the
/// state changed.
pub fn join_checked<T: Lattice + Debug>(x: &mut T, y: T) -> Result<(), LawViolation> {
    let before = x.clone();
    let changed = x.join(y);
    ensure(
        changed == (*x != before),
        "join reports growth exactly",
        || format!("returned {changed} for {before:?} -> {x:?}"),
    )
}

/// L1–L6 on three states, plus the exactness of `join`'s change report.
pub fn check_join_laws<T: Lattice + Debug>(x: &T, y: &T, z: &T) -> Result<(), LawViolation> {
    let j = |a: &T, b: &T| -> Result<T, LawViolation> {
        let mut r = a.clone();
        join_checked(&mut r, b.clone())?;
        Ok(r)
    };
    let xy = j(x, y)?;
    let yx = j(y, x)?;
    ensure(xy == yx, "L1 commutativity", || format!("x={x:?} y={y:?}"))?;
    let xy_z = j(&xy, z)?;
    let x_yz = j(x, &j(y, z)?)?;
    ensure(xy_z == x_yz, "L2 associativity", || {
        format!("x={x:?} y={y:?} z={z:?}")
    })?;
    ensure(j(x, x)? == *x, "L3 idempotence", || format!("x={x:?}"))?;
    ensure(j(&T::default(), x)? == *x, "L4 bottom", || {
        format!("x={x:?}")
    })?;
    ensure(T::default().leq(x), "L4 bottom is least", || {
        format!("x={x:?}")
    })?;
    ensure(x.leq(&xy) && y.leq(&xy), "L5 upper bound", || {
        format!("x={x:?} y={y:?} xy={xy:?}")
    })?;
    for (a, b) in [(x, y), (y, x), (x, z), (z, y)] {
        let le = a.leq(b);
        let joins_to_b = j(a, b)? == *b;
        ensure(le == joins_to_b, "L6 order matches join", || {
            format!("leq={le} join==b:{joins_to_b} a={a:?} b={b:?}")
        })?;
    }
    ensure(x.leq(x), "L6 reflexive order", || format!("x={x:?}"))
}

/// L7 inflation and L8 delta decomposition for one mutation: `before ≤ after`
/// and `before ⊔ delta == after`; also L9: the delta is a valid state.
pub fn check_mutation<T: Lattice + Validate + Debug>(
    before: &T,
    after: &T,
    delta: &T,
) -> Result<(), LawViolation> {
    ensure(before.leq(after), "L7 inflation", || {
        format!("before={before:?} after={after:?}")
    })?;
    let mut joined = before.clone();
    join_checked(&mut joined, delta.clone())?;
    ensure(joined == *after, "L8 delta decomposition", || {
        format!("before={before:?} delta={delta:?} after={after:?} before⊔delta={joined:?}")
    })?;
    delta.check_invariants().map_err(|e| LawViolation {
        law: "L9 delta is a valid state",
        detail: format!("{e}: {delta:?}"),
    })?;
    after.check_invariants().map_err(|e| LawViolation {
        law: "I1-I4 invariants after a mutation",
        detail: format!("{e}: {after:?}"),
    })
}

/// D2: `(x ⊔ d1) ⊔ d2 == x ⊔ (d1 ⊔ d2)`.
pub fn check_delta_group<T: Lattice + Debug>(x: &T, d1: &T, d2: &T) -> Result<(), LawViolation> {
    let one_by_one = x.clone().joined(d1.clone()).joined(d2.clone());
    let grouped = x.clone().joined(d1.clone().joined(d2.clone()));
    ensure(one_by_one == grouped, "D2 delta groups", || {
        format!("x={x:?} d1={d1:?} d2={d2:?}")
    })
}

/// D9: `y ⊔ x.delta_since(y.summary()) == x ⊔ y`, and the delta is minimal
/// by the type's own measure ([`Replay::delta_is_minimal`]).
pub fn check_delta_since<T: Replay>(x: &T, y: &T) -> Result<(), LawViolation> {
    let delta = x.delta_since(&y.summary());
    let got = y.clone().joined(delta.clone());
    let want = x.clone().joined(y.clone());
    ensure(got == want, "D9 delta since a summary", || {
        format!("x={x:?} y={y:?} delta={delta:?}")
    })?;
    ensure(T::delta_is_minimal(&delta, y), "D9 minimal delta", || {
        format!("delta={delta:?} repeats what y={y:?} knows")
    })?;
    delta.check_invariants().map_err(|e| LawViolation {
        law: "L9 delta_since is a valid state",
        detail: format!("{e}: {delta:?}"),
    })
}

/// A type whose states can be generated from op scripts.
pub trait Replay: Lattice + Validate + DeltaSince + Debug + 'static {
    /// One local operation.
    type Op: Clone + Debug + 'static;

    /// Operations, biased towards collisions (tiny element domains, extreme
    /// amounts).
    fn op_strategy() -> BoxedStrategy<Self::Op>;

    /// Applies `op` on behalf of `replica`; returns the delta (bottom when
    /// the operation fails, e.g. on counter overflow — the state must then be
    /// unchanged, which the delta law checks).
    fn apply(&mut self, replica: ReplicaId, op: &Self::Op) -> Self;

    /// D9 minimality: nothing in `delta` is already known to `peer`.
    fn delta_is_minimal(delta: &Self, peer: &Self) -> bool;
}

/// D9 minimality for causal types: no dot of the delta's store is in the
/// peer's context.
pub fn causal_delta_is_minimal<T: CausalCrdt>(delta: &T, peer: &T) -> bool {
    let mut ok = true;
    delta
        .store()
        .for_each_dot(&mut |d| ok &= !peer.context().contains(d));
    ok
}

fn vector_above(delta: &VersionVector, peer: &VersionVector) -> bool {
    delta.iter().all(|(r, n)| n > peer.get(r))
}

fn amount() -> BoxedStrategy<u64> {
    prop_oneof![
        4 => 0u64..4,
        1 => Just(u64::MAX - 1),
        1 => Just(u64::MAX),
        1 => any::<u64>(),
    ]
    .boxed()
}

/// Counter operations.
#[derive(Clone, Debug)]
pub enum CounterOp {
    /// Increment by an amount.
    Inc(u64),
    /// Decrement by an amount (ignored by `GCounter`).
    Dec(u64),
    /// Reset (only `CausalCounter`).
    Reset,
}

fn counter_ops(with_dec: bool, with_reset: bool) -> BoxedStrategy<CounterOp> {
    let inc = amount().prop_map(CounterOp::Inc);
    let dec = amount().prop_map(CounterOp::Dec);
    match (with_dec, with_reset) {
        (false, _) => inc.boxed(),
        (true, false) => prop_oneof![inc, dec].boxed(),
        (true, true) => prop_oneof![3 => inc, 2 => dec, 1 => Just(CounterOp::Reset)].boxed(),
    }
}

impl Replay for GCounter {
    type Op = CounterOp;
    fn op_strategy() -> BoxedStrategy<CounterOp> {
        counter_ops(false, false)
    }
    fn apply(&mut self, r: ReplicaId, op: &CounterOp) -> Self {
        match op {
            CounterOp::Inc(n) | CounterOp::Dec(n) => self.increment(r, *n).unwrap_or_default(),
            CounterOp::Reset => Self::default(),
        }
    }
    fn delta_is_minimal(delta: &Self, peer: &Self) -> bool {
        vector_above(delta.as_vector(), peer.as_vector())
    }
}

impl Replay for PnCounter {
    type Op = CounterOp;
    fn op_strategy() -> BoxedStrategy<CounterOp> {
        counter_ops(true, false)
    }
    fn apply(&mut self, r: ReplicaId, op: &CounterOp) -> Self {
        match op {
            CounterOp::Inc(n) => self.increment(r, *n).unwrap_or_default(),
            CounterOp::Dec(n) => self.decrement(r, *n).unwrap_or_default(),
            CounterOp::Reset => Self::default(),
        }
    }
    fn delta_is_minimal(delta: &Self, peer: &Self) -> bool {
        vector_above(
            delta.increments().as_vector(),
            peer.increments().as_vector(),
        ) && vector_above(
            delta.decrements().as_vector(),
            peer.decrements().as_vector(),
        )
    }
}

impl Replay for CausalCounter {
    type Op = CounterOp;
    fn op_strategy() -> BoxedStrategy<CounterOp> {
        counter_ops(true, true)
    }
    fn apply(&mut self, r: ReplicaId, op: &CounterOp) -> Self {
        match op {
            CounterOp::Inc(n) => self.increment(r, *n).unwrap_or_default(),
            CounterOp::Dec(n) => self.decrement(r, *n).unwrap_or_default(),
            CounterOp::Reset => self.reset(),
        }
    }
    fn delta_is_minimal(delta: &Self, peer: &Self) -> bool {
        causal_delta_is_minimal(delta, peer)
    }
}

/// Register operations.
#[derive(Clone, Debug)]
pub enum RegisterOp {
    /// Write a value (LWW: at a small timestamp, forcing ties).
    Write(u8, u64),
    /// MV: resolve keeping siblings not observed (`resolve` with an empty
    /// read context); LWW: a write at an extreme timestamp.
    Resolve(u8),
    /// MV: clear.
    Clear,
}

impl Replay for LwwRegister<u8> {
    type Op = RegisterOp;
    fn op_strategy() -> BoxedStrategy<RegisterOp> {
        prop_oneof![
            6 => (0u8..4, 0u64..4).prop_map(|(v, t)| RegisterOp::Write(v, t)),
            1 => (0u8..4, prop_oneof![Just(0u64), Just(u64::MAX - 1), Just(u64::MAX)])
                .prop_map(|(v, t)| RegisterOp::Write(v, t)),
        ]
        .boxed()
    }
    fn apply(&mut self, r: ReplicaId, op: &RegisterOp) -> Self {
        match op {
            RegisterOp::Write(v, t) => self.write(r, *v, *t).unwrap_or_default(),
            RegisterOp::Resolve(v) => self.write(r, *v, 0).unwrap_or_default(),
            RegisterOp::Clear => Self::default(),
        }
    }
    /// Bottom when the peer has seen everything; otherwise something in
    /// the `seen` vector is news to the peer.
    fn delta_is_minimal(delta: &Self, peer: &Self) -> bool {
        delta.is_bottom() || !delta.seen().leq(peer.seen())
    }
}

impl Replay for MvRegister<u8> {
    type Op = RegisterOp;
    fn op_strategy() -> BoxedStrategy<RegisterOp> {
        prop_oneof![
            6 => (0u8..4).prop_map(|v| RegisterOp::Write(v, 0)),
            2 => (0u8..4).prop_map(RegisterOp::Resolve),
            1 => Just(RegisterOp::Clear),
        ]
        .boxed()
    }
    fn apply(&mut self, r: ReplicaId, op: &RegisterOp) -> Self {
        match op {
            RegisterOp::Write(v, _) => self.write(r, *v),
            RegisterOp::Resolve(v) => {
                // Supersede only the first sibling: a partial read.
                let partial = crate::CausalContext::from_dots(
                    self.read_context()
                        .ranges()
                        .take(1)
                        .map(|(rep, lo, _)| crate::Dot::new(rep, lo)),
                );
                self.resolve(r, *v, &partial)
            }
            RegisterOp::Clear => self.clear(),
        }
    }
    fn delta_is_minimal(delta: &Self, peer: &Self) -> bool {
        causal_delta_is_minimal(delta, peer)
    }
}

/// Set and flag operations on a tiny element domain.
#[derive(Clone, Debug)]
pub enum SetOp {
    /// Add an element (flag: enable).
    Insert(u8),
    /// Remove an element (flag: disable).
    Remove(u8),
    /// Remove everything observed.
    Clear,
}

fn set_ops() -> BoxedStrategy<SetOp> {
    prop_oneof![
        5 => (0u8..6).prop_map(SetOp::Insert),
        4 => (0u8..6).prop_map(SetOp::Remove),
        1 => Just(SetOp::Clear),
    ]
    .boxed()
}

impl Replay for OrSet<u8> {
    type Op = SetOp;
    fn op_strategy() -> BoxedStrategy<SetOp> {
        set_ops()
    }
    fn apply(&mut self, r: ReplicaId, op: &SetOp) -> Self {
        match op {
            SetOp::Insert(e) => self.insert(r, *e),
            SetOp::Remove(e) => self.remove(e),
            SetOp::Clear => self.clear(),
        }
    }
    fn delta_is_minimal(delta: &Self, peer: &Self) -> bool {
        causal_delta_is_minimal(delta, peer)
    }
}

impl Replay for RwSet<u8> {
    type Op = SetOp;
    fn op_strategy() -> BoxedStrategy<SetOp> {
        set_ops()
    }
    fn apply(&mut self, r: ReplicaId, op: &SetOp) -> Self {
        match op {
            SetOp::Insert(e) => self.insert(r, *e),
            SetOp::Remove(e) => self.remove(r, *e),
            SetOp::Clear => Self::default(),
        }
    }
    fn delta_is_minimal(delta: &Self, peer: &Self) -> bool {
        causal_delta_is_minimal(delta, peer)
    }
}

impl Replay for EwFlag {
    type Op = SetOp;
    fn op_strategy() -> BoxedStrategy<SetOp> {
        set_ops()
    }
    fn apply(&mut self, r: ReplicaId, op: &SetOp) -> Self {
        match op {
            SetOp::Insert(_) => self.enable(r),
            SetOp::Remove(_) | SetOp::Clear => self.disable(),
        }
    }
    fn delta_is_minimal(delta: &Self, peer: &Self) -> bool {
        causal_delta_is_minimal(delta, peer)
    }
}

/// Map operations: update a key with a nested operation, or remove a key.
#[derive(Clone, Debug)]
pub enum MapOp<O> {
    /// Apply the nested operation to the value under the key.
    Update(u8, O),
    /// Remove the key.
    Remove(u8),
}

impl<V, P> Replay for OrMap<u8, V, P>
where
    V: Replay + CausalCrdt,
    P: RemovePolicy,
{
    type Op = MapOp<V::Op>;
    fn op_strategy() -> BoxedStrategy<Self::Op> {
        prop_oneof![
            3 => (0u8..4, V::op_strategy()).prop_map(|(k, o)| MapOp::Update(k, o)),
            1 => (0u8..4).prop_map(MapOp::Remove),
        ]
        .boxed()
    }
    fn apply(&mut self, r: ReplicaId, op: &Self::Op) -> Self {
        match op {
            MapOp::Update(k, o) => self.update(r, *k, |v| v.apply(r, o)),
            MapOp::Remove(k) => self.remove(r, k),
        }
    }
    fn delta_is_minimal(delta: &Self, peer: &Self) -> bool {
        causal_delta_is_minimal(delta, peer)
    }
}

impl<L> Replay for Embedded<L>
where
    L: Replay,
{
    type Op = L::Op;
    fn op_strategy() -> BoxedStrategy<L::Op> {
        L::op_strategy()
    }
    fn apply(&mut self, r: ReplicaId, op: &L::Op) -> Self {
        self.update(r, |l| l.apply(r, op))
    }
    fn delta_is_minimal(delta: &Self, peer: &Self) -> bool {
        causal_delta_is_minimal(delta, peer)
    }
}

/// A position in a sequence, relative to its current visible length, so that
/// most generated operations are valid whatever the state they meet.
#[derive(Clone, Copy, Debug)]
pub enum Pos {
    /// A fraction `f / 2^16` of the length: for an insert the index
    /// `f * (len + 1) / 2^16` (`0..=len`), for a delete `f * len / 2^16`
    /// (`0..len`, invalid only on an empty sequence).
    Frac(u16),
    /// `k` past the last valid index: always out of range (an `IndexError`,
    /// so the delta is bottom and the state unchanged).
    PastEnd(u8),
}

impl Pos {
    /// The index for an insert into a sequence of `len` elements.
    pub fn insert_index(self, len: usize) -> usize {
        match self {
            Pos::Frac(f) => scale(f, len.saturating_add(1)),
            Pos::PastEnd(k) => len.saturating_add(1).saturating_add(usize::from(k)),
        }
    }

    /// The index of an element to delete in a sequence of `len` elements.
    pub fn delete_index(self, len: usize) -> usize {
        match self {
            Pos::Frac(f) => scale(f, len),
            Pos::PastEnd(k) => len.saturating_add(usize::from(k)),
        }
    }
}

fn scale(f: u16, n: usize) -> usize {
    // f < 2^16 and n is a small test length: no overflow in u128.
    ((u128::from(f) * n as u128) >> 16) as usize
}

/// Sequence operations for [`List<u8>`](crate::List) and
/// [`Text`]. A `List<u8>` receives the UTF-8 bytes of the
/// text; a `Text` its chars (indices count chars there).
#[derive(Clone, Debug)]
pub enum SeqOp {
    /// Insert `text` at `at` in one call (`List::insert` when it is one byte,
    /// `insert_from` otherwise); with `backwards`, unit by unit, each before
    /// the previous one (typed right to left), the deltas joined.
    Insert {
        /// Where.
        at: Pos,
        /// What (1–10 chars).
        text: String,
        /// Typed right to left.
        backwards: bool,
    },
    /// Delete one element (`List::delete`; for `Text` a one-char range).
    Delete {
        /// Which.
        at: Pos,
    },
    /// Delete `len` elements from `at` (`delete_range`), clamped to the end
    /// unless `at` is past it.
    DeleteRange {
        /// First deleted element.
        at: Pos,
        /// How many (1..=10; 0 makes an empty range).
        len: u8,
    },
    /// diamond-types' random edit: an insert of `text` with probability
    /// 0.55 (`roll < 141`) while the visible length is below 100 and 0.45
    /// (`roll < 115`) from then on, otherwise a delete of
    /// `1..=min(10, len)` elements (`span` scaled) at `at`.
    Random {
        /// Decides insert or delete against the current length.
        roll: u8,
        /// Where.
        at: Pos,
        /// What, if an insert.
        text: String,
        /// Typed right to left, if an insert.
        backwards: bool,
        /// Delete span selector (`1 + span % min(10, len)`).
        span: u8,
    },
}

/// Units of text: ASCII (colliding a lot), multi-byte and astral chars,
/// a combining sequence and a ZWJ sequence.
fn seq_unit() -> BoxedStrategy<&'static str> {
    prop_oneof![
        8 => prop::sample::select(&["a", "b", "c", "x", "y", "z"][..]),
        1 => Just("é"),
        1 => Just("😀"),
        1 => Just("ｶ"),
        1 => Just("e\u{301}"),
        1 => Just("👩\u{200d}💻"),
    ]
    .boxed()
}

fn seq_text() -> BoxedStrategy<String> {
    prop_oneof![
        4 => proptest::collection::vec(seq_unit(), 1..=2),
        1 => proptest::collection::vec(seq_unit(), 1..=10),
    ]
    .prop_map(|units| units.concat())
    .boxed()
}

fn seq_pos() -> BoxedStrategy<Pos> {
    prop_oneof![
        15 => any::<u16>().prop_map(Pos::Frac),
        1 => (0u8..3).prop_map(Pos::PastEnd),
    ]
    .boxed()
}

/// The operation mix: mostly diamond-types-style random edits, plus each
/// mutator on its own.
pub fn seq_ops() -> BoxedStrategy<SeqOp> {
    prop_oneof![
        6 => (any::<u8>(), seq_pos(), seq_text(), any::<bool>(), any::<u8>()).prop_map(
            |(roll, at, text, backwards, span)| SeqOp::Random { roll, at, text, backwards, span }
        ),
        2 => (seq_pos(), seq_text(), any::<bool>())
            .prop_map(|(at, text, backwards)| SeqOp::Insert { at, text, backwards }),
        1 => seq_pos().prop_map(|at| SeqOp::Delete { at }),
        1 => (seq_pos(), 0u8..=10).prop_map(|(at, len)| SeqOp::DeleteRange { at, len }),
    ]
    .boxed()
}

/// A sequence edit resolved against the current length.
enum SeqEdit<'a> {
    Insert(usize, &'a str, bool),
    Delete(usize),
    DeleteRange(usize, usize),
}

impl SeqOp {
    fn resolve(&self, len: usize) -> SeqEdit<'_> {
        match self {
            SeqOp::Insert {
                at,
                text,
                backwards,
            } => SeqEdit::Insert(at.insert_index(len), text, *backwards),
            SeqOp::Delete { at } => SeqEdit::Delete(at.delete_index(len)),
            SeqOp::DeleteRange { at, len: n } => {
                let start = at.delete_index(len);
                let end = if start >= len {
                    start.saturating_add(usize::from(*n))
                } else {
                    start.saturating_add(usize::from(*n)).min(len)
                };
                SeqEdit::DeleteRange(start, end)
            }
            SeqOp::Random {
                roll,
                at,
                text,
                backwards,
                span,
            } => {
                let threshold = if len < 100 { 141 } else { 115 };
                if *roll < threshold || len == 0 {
                    SeqEdit::Insert(at.insert_index(len), text, *backwards)
                } else {
                    let start = at.delete_index(len);
                    let n = 1 + usize::from(*span) % len.min(10);
                    if n == 1 {
                        SeqEdit::Delete(start)
                    } else if start >= len {
                        SeqEdit::DeleteRange(start, start.saturating_add(n))
                    } else {
                        SeqEdit::DeleteRange(start, start.saturating_add(n).min(len))
                    }
                }
            }
        }
    }
}

/// Applies units one by one at the same index, each before the previous one.
fn insert_backwards<T: Lattice, U>(
    target: &mut T,
    units: impl DoubleEndedIterator<Item = U>,
    mut insert: impl FnMut(&mut T, U) -> Result<T, crate::IndexError>,
) -> T {
    let mut delta = T::default();
    for u in units.rev() {
        match insert(target, u) {
            Ok(d) => {
                delta.join(d);
            }
            Err(_) => return delta,
        }
    }
    delta
}

/// D9 minimality for sequences: no dot of the delta is known to the peer.
fn seq_delta_is_minimal<T: DeltaSince<Summary = crate::CausalContext>>(
    delta: &T,
    peer: &T,
) -> bool {
    delta.summary().overlap(&peer.summary()) == 0
}

impl Replay for List<u8> {
    type Op = SeqOp;
    fn op_strategy() -> BoxedStrategy<SeqOp> {
        seq_ops()
    }
    fn apply(&mut self, r: ReplicaId, op: &SeqOp) -> Self {
        let result = match op.resolve(self.len()) {
            SeqEdit::Insert(i, text, false) => match text.as_bytes() {
                [b] => self.insert(r, i, *b),
                bytes => self.insert_from(r, i, bytes.iter().copied()),
            },
            SeqEdit::Insert(i, text, true) => Ok(insert_backwards(self, text.bytes(), |l, b| {
                l.insert(r, i, b)
            })),
            SeqEdit::Delete(i) => self.delete(r, i),
            SeqEdit::DeleteRange(a, b) => self.delete_range(r, a..b),
        };
        result.unwrap_or_default()
    }
    fn delta_is_minimal(delta: &Self, peer: &Self) -> bool {
        seq_delta_is_minimal(delta, peer)
    }
}

impl Replay for Text {
    type Op = SeqOp;
    fn op_strategy() -> BoxedStrategy<SeqOp> {
        seq_ops()
    }
    fn apply(&mut self, r: ReplicaId, op: &SeqOp) -> Self {
        let result = match op.resolve(self.len()) {
            SeqEdit::Insert(i, text, false) => self.insert(r, i, text),
            SeqEdit::Insert(i, text, true) => Ok(insert_backwards(self, text.chars(), |t, c| {
                let mut buf = [0u8; 4];
                t.insert(r, i, c.encode_utf8(&mut buf))
            })),
            SeqEdit::Delete(i) => self.delete(r, i..i.saturating_add(1)),
            SeqEdit::DeleteRange(a, b) => self.delete(r, a..b),
        };
        result.unwrap_or_default()
    }
    fn delta_is_minimal(delta: &Self, peer: &Self) -> bool {
        seq_delta_is_minimal(delta, peer)
    }
}

/// One step of a replica script.
#[derive(Clone, Debug)]
pub enum Step<O> {
    /// Replica `i` applies an operation.
    Op(usize, O),
    /// Replica `i` joins replica `j`'s full state.
    Join(usize, usize),
}

/// Scripts over `replicas` replicas, with joins interleaved so that states
/// hold concurrency, not only chains.
pub fn steps<T: Replay>(
    replicas: usize,
    len: core::ops::Range<usize>,
) -> BoxedStrategy<Vec<Step<T::Op>>> {
    let r = replicas.max(1);
    let step = prop_oneof![
        3 => (0..r, T::op_strategy()).prop_map(|(i, o)| Step::Op(i, o)),
        1 => (0..r, 0..r).prop_map(|(i, j)| Step::Join(i, j)),
    ];
    proptest::collection::vec(step, len).boxed()
}

/// Replica id bases: mostly small ids (so that orderings between replicas
/// vary), sometimes huge ones.
pub fn replica_base() -> BoxedStrategy<u64> {
    prop_oneof![4 => 1u64..4, 1 => (u64::MAX - 64)..(u64::MAX - 16)].boxed()
}

/// The outcome of a script: the final replica states and every delta the
/// operations produced, in order, with the index of the replica that made it.
#[derive(Clone, Debug)]
pub struct Run<T> {
    /// Final state of each replica.
    pub replicas: Vec<T>,
    /// `(replica index, delta)` for every operation, in execution order.
    pub deltas: Vec<(usize, T)>,
}

/// Runs a script from bottom, checking L7, L8, L9, the invariants, and the
/// exactness of `join`'s change report after every step. Replica `i` has id
/// `base + i`.
pub fn run_steps<T: Replay>(
    replicas: usize,
    base: u64,
    steps: &[Step<T::Op>],
) -> Result<Run<T>, LawViolation> {
    let n = replicas.max(1);
    let mut states: Vec<T> = (0..n).map(|_| T::default()).collect();
    let mut deltas = Vec::new();
    for step in steps {
        match step {
            Step::Op(i, op) => {
                let i = *i % n;
                let id = ReplicaId::new(base.wrapping_add(i as u64));
                let before = states[i].clone();
                let delta = states[i].apply(id, op);
                check_mutation(&before, &states[i], &delta)?;
                deltas.push((i, delta));
            }
            Step::Join(i, j) => {
                let (i, j) = (*i % n, *j % n);
                let other = states[j].clone();
                join_checked(&mut states[i], other)?;
                states[i].check_invariants().map_err(|e| LawViolation {
                    law: "I1-I4 invariants after a join",
                    detail: format!("{e}"),
                })?;
            }
        }
    }
    Ok(Run {
        replicas: states,
        deltas,
    })
}

/// D3 / L14: joining every delta of a run, each one or more times, in the
/// given order, gives the join of all replicas (the state full-state sync
/// reaches). `order` indexes into `run.deltas` (out-of-range indices wrap);
/// every delta is delivered at least once at the end, so drops are resent.
pub fn check_any_delivery_order<T: Replay>(
    run: &Run<T>,
    order: &[usize],
) -> Result<(), LawViolation> {
    let want = run
        .replicas
        .iter()
        .cloned()
        .fold(T::default(), |acc, x| acc.joined(x));
    let mut got = T::default();
    if !run.deltas.is_empty() {
        for &k in order {
            let d = run.deltas[k % run.deltas.len()].1.clone();
            join_checked(&mut got, d)?;
            got.check_invariants().map_err(|e| LawViolation {
                law: "I1-I4 invariants during delivery",
                detail: format!("{e}"),
            })?;
        }
        for (_, d) in &run.deltas {
            join_checked(&mut got, d.clone())?;
        }
    }
    ensure(got == want, "D3 any delivery order", || {
        format!("deltas joined = {got:?}, states joined = {want:?}")
    })
}

/// One event of a simulated network (for [`check_network`]).
#[derive(Clone, Debug)]
pub enum NetStep<O> {
    /// Replica `i` applies an operation and broadcasts its delta.
    Op(usize, O),
    /// Deliver the in-flight message at this index (modulo the count).
    Deliver(usize),
    /// Duplicate the in-flight message at this index.
    Duplicate(usize),
    /// Drop the in-flight message at this index (it is resent at the end).
    Drop(usize),
    /// Split replicas into two sides by a bit mask; messages across the cut
    /// wait until [`NetStep::Heal`].
    Partition(u32),
    /// Remove the partition.
    Heal,
    /// Replica `i` sends its full state to replica `j` (anti-entropy).
    FullSync(usize, usize),
    /// Replica `j` sends `i` the delta since `i`'s summary (digest sync).
    DigestSync(usize, usize),
}

/// Network schedules over `replicas` replicas.
pub fn net_steps<T: Replay>(
    replicas: usize,
    len: core::ops::Range<usize>,
    partitions: bool,
) -> BoxedStrategy<Vec<NetStep<T::Op>>> {
    let r = replicas.max(1);
    let base = prop_oneof![
        6 => (0..r, T::op_strategy()).prop_map(|(i, o)| NetStep::Op(i, o)),
        8 => any::<usize>().prop_map(NetStep::Deliver),
        1 => any::<usize>().prop_map(NetStep::Duplicate),
        2 => any::<usize>().prop_map(NetStep::Drop),
        1 => (0..r, 0..r).prop_map(|(i, j)| NetStep::FullSync(i, j)),
        1 => (0..r, 0..r).prop_map(|(i, j)| NetStep::DigestSync(i, j)),
    ];
    let step: BoxedStrategy<NetStep<T::Op>> = if partitions {
        prop_oneof![
            18 => base,
            1 => any::<u32>().prop_map(NetStep::Partition),
            1 => Just(NetStep::Heal),
        ]
        .boxed()
    } else {
        base.boxed()
    };
    proptest::collection::vec(step, len).boxed()
}

/// Statistics of one [`check_network`] run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetStats {
    /// Operations applied.
    pub ops: usize,
    /// Messages delivered (including duplicates and resends).
    pub delivered: usize,
    /// Messages dropped (and resent after the run).
    pub dropped: usize,
    /// Messages duplicated.
    pub duplicated: usize,
}

/// L14 / SEC-1 under an unreliable network: every operation's delta is
/// broadcast; messages are delivered in a random order, duplicated, dropped
/// (and resent at the end) and held back by partitions. After every delivery
/// the receiver's invariants hold and its state only grows; at the end, once
/// everything is delivered, all replicas are equal.
pub fn check_network<T: Replay>(
    replicas: usize,
    base: u64,
    schedule: &[NetStep<T::Op>],
) -> Result<NetStats, LawViolation> {
    let n = replicas.max(1);
    let mut states: Vec<T> = (0..n).map(|_| T::default()).collect();
    // (from, to, delta)
    let mut flight: Vec<(usize, usize, T)> = Vec::new();
    let mut dropped: Vec<(usize, usize, T)> = Vec::new();
    let mut cut: Option<u32> = None;
    let mut stats = NetStats::default();
    let side = |cut: Option<u32>, i: usize| cut.is_some_and(|m| m >> (i % 32) & 1 == 1);
    let crosses =
        |cut: Option<u32>, a: usize, b: usize| cut.is_some() && side(cut, a) != side(cut, b);

    let deliver = |states: &mut Vec<T>, to: usize, d: T| -> Result<(), LawViolation> {
        let before = states[to].clone();
        join_checked(&mut states[to], d)?;
        ensure(before.leq(&states[to]), "inflation on delivery", || {
            format!("{before:?}")
        })?;
        states[to].check_invariants().map_err(|e| LawViolation {
            law: "I1-I4 invariants after delivery",
            detail: format!("{e}"),
        })
    };

    for step in schedule {
        match step {
            NetStep::Op(i, op) => {
                let i = *i % n;
                let id = ReplicaId::new(base.wrapping_add(i as u64));
                let before = states[i].clone();
                let delta = states[i].apply(id, op);
                check_mutation(&before, &states[i], &delta)?;
                stats.ops += 1;
                for j in 0..n {
                    if j != i {
                        flight.push((i, j, delta.clone()));
                    }
                }
            }
            NetStep::Deliver(k) | NetStep::Duplicate(k) | NetStep::Drop(k) => {
                let open: Vec<usize> = (0..flight.len())
                    .filter(|&m| !crosses(cut, flight[m].0, flight[m].1))
                    .collect();
                if open.is_empty() {
                    continue;
                }
                let m = open[k % open.len()];
                match step {
                    NetStep::Deliver(_) => {
                        let (_, to, d) = flight.swap_remove(m);
                        deliver(&mut states, to, d)?;
                        stats.delivered += 1;
                    }
                    NetStep::Duplicate(_) => {
                        let copy = flight[m].clone();
                        flight.push(copy);
                        stats.duplicated += 1;
                    }
                    _ => {
                        dropped.push(flight.swap_remove(m));
                        stats.dropped += 1;
                    }
                }
            }
            NetStep::Partition(mask) => cut = Some(*mask),
            NetStep::Heal => cut = None,
            NetStep::FullSync(i, j) => {
                let (i, j) = (*i % n, *j % n);
                if !crosses(cut, i, j) {
                    let s = states[i].clone();
                    deliver(&mut states, j, s)?;
                }
            }
            NetStep::DigestSync(i, j) => {
                let (i, j) = (*i % n, *j % n);
                if !crosses(cut, i, j) {
                    let summary = states[i].summary();
                    let d = states[j].delta_since(&summary);
                    deliver(&mut states, i, d)?;
                }
            }
        }
    }
    // Heal, resend what was dropped, deliver everything.
    for (_, to, d) in flight.into_iter().chain(dropped) {
        deliver(&mut states, to, d)?;
        stats.delivered += 1;
    }
    for w in states.windows(2) {
        ensure(w[0] == w[1], "L14 convergence", || {
            format!("{:?} != {:?}", w[0], w[1])
        })?;
    }
    Ok(stats)
}

/// Delivery orders for [`check_any_delivery_order`]: indices with repeats.
pub fn delivery_order() -> BoxedStrategy<Vec<usize>> {
    proptest::collection::vec(any::<usize>(), 0..96).boxed()
}
