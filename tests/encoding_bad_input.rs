//! Bad input for the compact binary encoding (TESTPLAN b.5, cases B1–B23,
//! contract C1–C7), across every type with a compact encoding.
//!
//! The serde paths (JSON, postcard, bincode) have their own bad-input tests in
//! `tests/bad_input.rs` and `tests/sequence_bad_input.rs`; this file drives
//! the compact format (`converge::encoding`) and asserts what only it
//! exposes: the exact [`DecodeError`] variant (C2), `join_encoded` leaving
//! the replica unchanged on every rejection (C3), and the peak heap of every
//! decode measured with the per-thread counting allocator of
//! `tests/common/alloc.rs` against the C4 bound `16 × input + 64 KiB`.
//!
//! Every decode of a B-case goes through [`decode_checked`], which measures
//! the heap (C4) and, when a value is accepted, checks its invariants and
//! calls its read methods (C7). Every expected rejection goes through
//! [`assert_rejects`], which also joins the bytes into each value of the
//! type's corpus and checks that nothing changed (C3).
//!
//! Invalid bodies are written by hand with [`W`], a tiny writer of the wire
//! primitives; each builder names the layout it writes (the layouts are the
//! types' serde shapes: structs and tuples without a length, sequences with
//! a varint count, options and bools as one byte, strings as a varint length
//! and UTF-8 bytes).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::fmt::Debug;

use common::alloc::{c4_bound, measure};
use common::rng::SplitMix64 as Rng;
use converge::encoding::{self, DecodeError, Encodable, Limits};
use converge::sync::{Message, Node, SyncConfig, SyncError};
use converge::{
    CausalContext, CausalCounter, CausalCrdt, Dot, Embedded, EwFlag, GCounter, InvariantViolation,
    Lattice, List, LwwRegister, MvRegister, OrMap, OrSet, PnCounter, RemoveWins, ReplicaId, RwSet,
    Text, UpdateWins, Validate, VersionVector,
};

// ===========================================================================
// Wire writer
// ===========================================================================

/// A hand-written encoding: header, then body primitives appended in order.
#[derive(Clone, Debug, Default)]
struct W(Vec<u8>);

impl W {
    /// The header `b"cv"`, format version, type tag.
    fn header(tag: u8) -> Self {
        W(vec![b'c', b'v', encoding::VERSION, tag])
    }

    /// The header of `T`.
    fn of<T: Encodable>() -> Self {
        Self::header(T::TYPE_TAG)
    }

    /// An unsigned LEB128 varint in minimal form.
    fn v(mut self, mut n: u64) -> Self {
        loop {
            let low = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                self.0.push(low);
                return self;
            }
            self.0.push(low | 0x80);
        }
    }

    /// Raw bytes, as they are.
    fn raw(mut self, bytes: &[u8]) -> Self {
        self.0.extend_from_slice(bytes);
        self
    }

    /// A string: varint byte length, then the bytes.
    fn str(self, s: &str) -> Self {
        self.v(s.len() as u64).raw(s.as_bytes())
    }

    /// A `Dot`: the struct `(replica, counter)`, two varints.
    fn dot(self, replica: u64, counter: u64) -> Self {
        self.v(replica).v(counter)
    }

    /// `Option<Dot>`: tag 0, or tag 1 and the dot.
    fn opt_dot(self, d: Option<(u64, u64)>) -> Self {
        match d {
            None => self.raw(&[0]),
            Some((r, c)) => self.raw(&[1]).dot(r, c),
        }
    }

    /// A `CausalContext`: `[n] n × (replica, [m] m × (lo, hi))`.
    fn ctx(mut self, entries: &[(u64, &[(u64, u64)])]) -> Self {
        self = self.v(entries.len() as u64);
        for &(r, ranges) in entries {
            self = self.v(r).v(ranges.len() as u64);
            for &(lo, hi) in ranges {
                self = self.v(lo).v(hi);
            }
        }
        self
    }

    /// A `VersionVector` (and a `GCounter`): `[n] n × (replica, value)`.
    fn vv(mut self, entries: &[(u64, u64)]) -> Self {
        self = self.v(entries.len() as u64);
        for &(r, n) in entries {
            self = self.v(r).v(n);
        }
        self
    }

    /// Zero bytes up to `len` in all.
    fn pad_to(mut self, len: usize) -> Self {
        while self.0.len() < len {
            self.0.push(0);
        }
        self
    }

    fn bytes(self) -> Vec<u8> {
        self.0
    }
}

/// A sequence item: `(id, len, left, right, content)`, content written by `content`.
fn item(
    w: W,
    id: (u64, u64),
    len: u64,
    left: Option<(u64, u64)>,
    right: Option<(u64, u64)>,
    content: impl FnOnce(W) -> W,
) -> W {
    content(w.dot(id.0, id.1).v(len).opt_dot(left).opt_dot(right))
}

/// A live text item's content: `Some(string)`.
fn text(s: &str) -> impl FnOnce(W) -> W + '_ {
    move |w| w.raw(&[1]).str(s)
}

/// A tombstone's content: `None`.
fn dead(w: W) -> W {
    w.raw(&[0])
}

/// A delete run: `(dot, len, target, reversed)`.
fn del(w: W, dot: (u64, u64), len: u64, target: (u64, u64), reversed: bool) -> W {
    w.dot(dot.0, dot.1)
        .v(len)
        .dot(target.0, target.1)
        .raw(&[u8::from(reversed)])
}

// ===========================================================================
// The types under test
// ===========================================================================

const A: ReplicaId = ReplicaId::new(1);
const B: ReplicaId = ReplicaId::new(2);
const C: ReplicaId = ReplicaId::new(3);

fn dot(r: u64, c: u64) -> Dot {
    Dot::new(ReplicaId::new(r), c)
}

type MapMv = OrMap<String, MvRegister<String>>;
type MapSetUw = OrMap<String, OrSet<String>, UpdateWins>;
type MapCounterRw = OrMap<String, CausalCounter, RemoveWins>;
type MapNested = OrMap<String, OrMap<String, MvRegister<u64>>>;
type EmbLww = Embedded<LwwRegister<String>>;
type EmbG = Embedded<GCounter>;

/// A type the tests drive through the compact encoding.
trait Subject: Encodable + Clone + PartialEq + Debug {
    /// A short name for messages and the C4 table.
    const NAME: &'static str;

    /// Valid values: bottom, small deltas, states with several replicas,
    /// removes and concurrency. Every rejection is joined into each (C3).
    fn corpus() -> Vec<Self>;

    /// C7: the value's invariants hold and every read method runs.
    fn check_read(&self);

    /// What a user sees, compared before and after a rejected join (C3)
    /// besides `==` and the re-encoding.
    fn observable(&self) -> String {
        format!("{self:?}")
    }

    /// `join_encoded_with` into `self`, for the types that have it.
    fn join_bytes(&mut self, bytes: &[u8], limits: &Limits) -> Option<Result<bool, DecodeError>>;

    /// The in-memory `join`, for the types that have it.
    fn join_value(&mut self, other: Self) -> Option<bool>;
}

macro_rules! state_subject {
    ($ty:ty, $name:expr, |$x:ident| $read:block $(, observable |$o:ident| $obs:block)?) => {
        impl Subject for $ty {
            const NAME: &'static str = $name;
            fn corpus() -> Vec<Self> {
                corpus::<$ty>()
            }
            fn check_read(&self) {
                if let Err(v) = self.check_invariants() {
                    panic!("C7: {} decoded with a broken invariant: {v}", Self::NAME);
                }
                let $x = self;
                $read
            }
            $(fn observable(&self) -> String {
                let $o = self;
                $obs
            })?
            fn join_bytes(
                &mut self,
                bytes: &[u8],
                limits: &Limits,
            ) -> Option<Result<bool, DecodeError>> {
                Some(encoding::join_encoded_with(self, bytes, limits))
            }
            fn join_value(&mut self, other: Self) -> Option<bool> {
                Some(self.join(other))
            }
        }
    };
}

/// The corpus of a type (see [`Subject::corpus`]).
trait Corpus: Sized {
    fn corpus() -> Vec<Self>;
}

fn corpus<T: Corpus>() -> Vec<T> {
    T::corpus()
}

state_subject!(GCounter, "GCounter", |x| {
    let _ = (x.value(), x.entries().count(), x.as_vector().len());
});
state_subject!(PnCounter, "PnCounter", |x| {
    let _ = (x.value(), x.increments().value(), x.decrements().value());
});
state_subject!(CausalCounter, "CausalCounter", |x| {
    let _ = x.value();
});
state_subject!(LwwRegister<String>, "LwwRegister<String>", |x| {
    let _ = (x.value(), x.stamp(), x.seen().len(), x.lost_writes());
});
state_subject!(MvRegister<String>, "MvRegister<String>", |x| {
    let _ = (
        x.value(),
        x.values().count(),
        x.is_conflicted(),
        x.read_context(),
    );
});
state_subject!(OrSet<String>, "OrSet<String>", |x| {
    let _ = (x.len(), x.iter().count(), x.to_sorted_vec(), x.is_empty());
    for e in x.iter() {
        assert!(x.contains(e));
    }
});
state_subject!(RwSet<String>, "RwSet<String>", |x| {
    let _ = (x.len(), x.is_empty());
    for e in x.iter() {
        assert!(x.contains(e));
    }
});
state_subject!(EwFlag, "EwFlag", |x| {
    let _ = x.is_enabled();
});
state_subject!(MapMv, "OrMap<String, MvRegister<String>>", |x| {
    read_map(x, |v| {
        let _ = (v.value(), v.values().count());
    });
});
state_subject!(MapSetUw, "OrMap<String, OrSet<String>, UpdateWins>", |x| {
    read_map(x, |v| {
        let _ = v.to_sorted_vec();
    });
});
state_subject!(
    MapCounterRw,
    "OrMap<String, CausalCounter, RemoveWins>",
    |x| {
        read_map(x, |v| {
            let _ = v.value();
        });
    }
);
state_subject!(
    MapNested,
    "OrMap<String, OrMap<String, MvRegister<u64>>>",
    |x| {
        read_map(x, |inner| {
            read_map(inner, |v| {
                let _ = v.values().count();
            })
        });
    }
);
state_subject!(EmbLww, "Embedded<LwwRegister<String>>", |x| {
    let _ = (x.value().value().cloned(), x.siblings(), x.is_empty());
});
state_subject!(EmbG, "Embedded<GCounter>", |x| {
    let _ = (x.value().value(), x.siblings());
});
state_subject!(
    List<u64>,
    "List<u64>",
    |x| {
        let v = x.to_vec();
        assert_eq!(v.len(), x.len());
        assert_eq!(x.iter().count(), x.len());
        for (i, e) in v.iter().enumerate() {
            assert_eq!(x.get(i), Some(e));
        }
        let _ = (x.pending_len(), x.context().dot_count(), x.is_empty());
    },
    observable | x | { format!("{:?} pending {}", x.to_vec(), x.pending_len()) }
);
state_subject!(
    Text,
    "Text",
    |x| {
        let s = x.to_string();
        assert_eq!(s.chars().count(), x.len());
        assert_eq!(s.len(), x.len_utf8());
        assert_eq!(s.encode_utf16().count(), x.len_utf16());
        assert_eq!(x.chunks().collect::<String>(), s);
        let _ = (
            x.pending_len(),
            x.shape(),
            x.heap_bytes(),
            x.context().dot_count(),
        );
        if !x.is_empty() {
            let _ = (x.char_to_utf8(x.len()), x.char_to_utf16(x.len()));
        }
    },
    observable | x | { format!("{x} pending {}", x.pending_len()) }
);
state_subject!(List<char>, "List<char>", |x| {
    assert_eq!(x.iter().count(), x.len());
    let _ = (x.to_vec(), x.pending_len());
});
state_subject!(VersionVector, "VersionVector", |x| {
    let _ = (x.iter().count(), x.len(), x.is_empty());
});
state_subject!(CausalContext, "CausalContext", |x| {
    let _ = (
        x.vector(),
        // `cloud` yields one dot at a time: a 20-byte context can hold a
        // range of 2^62 dots, so only a prefix is read.
        x.cloud().take(1000).count(),
        x.ranges().count(),
        x.dot_count(),
    );
});

fn read_map<K, V, P>(m: &OrMap<K, V, P>, f: impl Fn(&V))
where
    K: std::hash::Hash + Eq + Clone + Debug,
    V: converge::CausalCrdt,
    P: converge::RemovePolicy,
{
    assert_eq!(m.iter().count(), m.len());
    assert_eq!(m.keys().count(), m.len());
    assert!(m.stored_entries() >= m.len());
    for (k, v) in m.iter() {
        assert!(m.contains_key(k));
        assert!(m.get(k).is_some());
        f(v);
    }
}

macro_rules! message_subject {
    ($inner:ty, $name:expr) => {
        impl Subject for Message<$inner> {
            const NAME: &'static str = $name;
            fn corpus() -> Vec<Self> {
                messages::<$inner>()
            }
            fn check_read(&self) {
                let _ = self.from();
                match self {
                    Message::Deltas { delta: x, .. } | Message::State { state: x, .. } => {
                        x.check_read()
                    }
                    Message::Digest { summary, .. } => {
                        let _ = format!("{summary:?}");
                    }
                    Message::Ack { .. } => {}
                }
            }
            fn join_bytes(&mut self, _: &[u8], _: &Limits) -> Option<Result<bool, DecodeError>> {
                None
            }
            fn join_value(&mut self, _: Self) -> Option<bool> {
                None
            }
        }
    };
}

message_subject!(OrSet<String>, "Message<OrSet<String>>");
message_subject!(PnCounter, "Message<PnCounter>");
message_subject!(Text, "Message<Text>");

/// Every message kind, built by real nodes from the type's corpus.
fn messages<T>() -> Vec<Message<T>>
where
    T: Subject + converge::DeltaSince + Validate,
{
    let mut out = vec![Message::Ack { from: A, upto: 3 }];
    for x in T::corpus() {
        out.push(Message::Deltas {
            from: B,
            start: 2,
            end: 5,
            delta: x.clone(),
        });
        out.push(Message::State {
            from: C,
            end: 7,
            state: x.clone(),
        });
        out.push(Message::Digest {
            from: A,
            summary: x.summary(),
        });
    }
    out
}

/// Runs `$f::<T>($args)` for every type under test.
macro_rules! for_each_subject {
    ($f:ident $(, $arg:expr)*) => {{
        $f::<GCounter>($($arg),*);
        $f::<PnCounter>($($arg),*);
        $f::<CausalCounter>($($arg),*);
        $f::<LwwRegister<String>>($($arg),*);
        $f::<MvRegister<String>>($($arg),*);
        $f::<OrSet<String>>($($arg),*);
        $f::<RwSet<String>>($($arg),*);
        $f::<EwFlag>($($arg),*);
        $f::<MapMv>($($arg),*);
        $f::<MapSetUw>($($arg),*);
        $f::<MapCounterRw>($($arg),*);
        $f::<MapNested>($($arg),*);
        $f::<EmbLww>($($arg),*);
        $f::<EmbG>($($arg),*);
        $f::<List<u64>>($($arg),*);
        $f::<Text>($($arg),*);
        $f::<VersionVector>($($arg),*);
        $f::<CausalContext>($($arg),*);
        $f::<Message<OrSet<String>>>($($arg),*);
        $f::<Message<PnCounter>>($($arg),*);
        $f::<Message<Text>>($($arg),*);
    }};
}

// ------------------------------------------------------------------ corpora

impl Corpus for GCounter {
    fn corpus() -> Vec<Self> {
        let mut x = GCounter::new();
        let d = x.increment(A, 3).unwrap();
        let mut y = x.clone();
        y.increment(B, 300).unwrap();
        y.increment(C, u64::MAX).unwrap();
        vec![GCounter::new(), d, x, y]
    }
}

impl Corpus for PnCounter {
    fn corpus() -> Vec<Self> {
        let mut x = PnCounter::new();
        let d = x.increment(A, 5).unwrap();
        x.decrement(B, 200).unwrap();
        x.decrement(A, 1).unwrap();
        vec![PnCounter::new(), d, x]
    }
}

impl Corpus for CausalCounter {
    fn corpus() -> Vec<Self> {
        let mut x = CausalCounter::new();
        let d = x.increment(A, 5).unwrap();
        x.decrement(B, 2).unwrap();
        let mut y = x.clone();
        let reset = y.reset();
        x.increment(A, 1).unwrap();
        x.join(y);
        vec![CausalCounter::new(), d, reset, x]
    }
}

impl Corpus for LwwRegister<String> {
    fn corpus() -> Vec<Self> {
        let mut x = LwwRegister::new();
        let d = x.write(A, "away".to_string(), 10).unwrap();
        let mut y = LwwRegister::new();
        y.write(B, "busy".to_string(), 12).unwrap();
        x.join(y);
        vec![LwwRegister::new(), d, x]
    }
}

impl Corpus for MvRegister<String> {
    fn corpus() -> Vec<Self> {
        let mut x = MvRegister::new();
        let d = x.write(A, "10:00".to_string());
        let mut y = x.clone();
        y.write(B, "11:00".to_string());
        x.write(A, "12:00".to_string());
        let mut z = x.clone();
        z.join(y);
        vec![MvRegister::new(), d, x, z]
    }
}

impl Corpus for OrSet<String> {
    fn corpus() -> Vec<Self> {
        let mut x = OrSet::new();
        let d = x.insert(A, "milk".to_string());
        x.insert(B, "eggs".to_string());
        x.insert(A, "tea".to_string());
        let r = x.remove(&"eggs".to_string());
        let mut y = x.clone();
        y.insert(C, "bread".to_string());
        vec![OrSet::new(), d, r, x, y]
    }
}

impl Corpus for RwSet<String> {
    fn corpus() -> Vec<Self> {
        let mut x = RwSet::new();
        let d = x.insert(A, "milk".to_string());
        x.insert(B, "eggs".to_string());
        let r = x.remove(A, "milk".to_string());
        vec![RwSet::new(), d, r, x]
    }
}

impl Corpus for EwFlag {
    fn corpus() -> Vec<Self> {
        let mut x = EwFlag::new();
        let d = x.enable(A);
        x.enable(B);
        let mut y = x.clone();
        let off = y.disable();
        x.enable(A);
        vec![EwFlag::new(), d, off, x, y]
    }
}

impl Corpus for MapMv {
    fn corpus() -> Vec<Self> {
        let mut x = MapMv::new();
        let d = x.update(A, "alice".into(), |r| r.write(A, "online".into()));
        x.update(B, "bob".into(), |r| r.write(B, "away".into()));
        let mut y = x.clone();
        let rm = y.remove(A, &"alice".into());
        x.update(C, "alice".into(), |r| r.write(C, "busy".into()));
        let mut z = x.clone();
        z.join(y);
        vec![MapMv::new(), d, rm, x, z]
    }
}

impl Corpus for MapSetUw {
    fn corpus() -> Vec<Self> {
        let mut x = MapSetUw::new();
        let d = x.update(A, "cart".into(), |s| s.insert(A, "book".into()));
        let mut y = x.clone();
        y.remove(B, &"cart".into());
        x.update(A, "cart".into(), |s| s.insert(A, "pen".into()));
        let mut z = x.clone();
        z.join(y);
        vec![MapSetUw::new(), d, x, z]
    }
}

impl Corpus for MapCounterRw {
    fn corpus() -> Vec<Self> {
        let mut x = MapCounterRw::new();
        let d = x.update(A, "likes".into(), |c| c.increment(A, 3).unwrap());
        x.update(B, "views".into(), |c| c.increment(B, 10).unwrap());
        let mut y = x.clone();
        let rm = y.remove(B, &"likes".into());
        x.update(A, "likes".into(), |c| c.increment(A, 1).unwrap());
        let mut z = x.clone();
        z.join(y);
        vec![MapCounterRw::new(), d, rm, x, z]
    }
}

impl Corpus for MapNested {
    fn corpus() -> Vec<Self> {
        let mut x = MapNested::new();
        let d = x.update(A, "doc".into(), |m| {
            m.update(A, "title".into(), |r| r.write(A, 1))
        });
        x.update(B, "doc".into(), |m| {
            m.update(B, "size".into(), |r| r.write(B, 2))
        });
        let mut y = x.clone();
        y.update(C, "doc".into(), |m| m.remove(C, &"title".into()));
        let mut z = x.clone();
        z.join(y);
        vec![MapNested::new(), d, x, z]
    }
}

impl Corpus for EmbLww {
    fn corpus() -> Vec<Self> {
        let mut x = EmbLww::new();
        let d = x.update(A, |r| r.write(A, "online".into(), 10).unwrap());
        let mut y = x.clone();
        y.update(B, |r| r.write(B, "away".into(), 20).unwrap());
        x.update(A, |r| r.write(A, "busy".into(), 15).unwrap());
        let mut z = x.clone();
        z.join(y);
        vec![EmbLww::new(), d, x, z]
    }
}

impl Corpus for EmbG {
    fn corpus() -> Vec<Self> {
        let mut x = EmbG::new();
        let d = x.update(A, |g| g.increment(A, 2).unwrap());
        let mut y = x.clone();
        y.update(B, |g| g.increment(B, 5).unwrap());
        x.reset();
        let mut z = x.clone();
        z.join(y);
        vec![EmbG::new(), d, z]
    }
}

impl Corpus for List<u64> {
    fn corpus() -> Vec<Self> {
        let mut x = List::new();
        let d = x.insert_from(A, 0, [10, 20, 30, 40]).unwrap();
        let mut y = x.clone();
        y.insert(B, 2, 25).unwrap();
        x.delete_range(A, 1..3).unwrap();
        x.insert(A, 0, 5).unwrap();
        let mut z = x.clone();
        z.join(y);
        vec![List::new(), d, x, z]
    }
}

impl Corpus for Text {
    fn corpus() -> Vec<Self> {
        let mut x = Text::new();
        let d = x.insert(A, 0, "hello world").unwrap();
        let mut y = x.clone();
        y.insert(B, 5, ", dear").unwrap();
        x.delete(A, 0..1).unwrap();
        x.insert(A, 0, "H").unwrap();
        x.delete(A, 6..8).unwrap();
        let mut z = x.clone();
        z.join(y);
        z.insert(C, 0, "é😀").unwrap();
        vec![Text::new(), d, x, z]
    }
}

impl Corpus for List<char> {
    fn corpus() -> Vec<Self> {
        let mut x = List::new();
        let d = x.insert_from(A, 0, "a\u{10FFFF}".chars()).unwrap();
        vec![List::new(), d, x]
    }
}

impl Corpus for VersionVector {
    fn corpus() -> Vec<Self> {
        vec![
            VersionVector::new(),
            VersionVector::from_entries([(A, 3)]),
            VersionVector::from_entries([(A, 3), (B, 7), (ReplicaId::new(1 << 40), u64::MAX)]),
        ]
    }
}

impl Corpus for CausalContext {
    fn corpus() -> Vec<Self> {
        vec![
            CausalContext::new(),
            CausalContext::from_dots([dot(1, 1), dot(1, 2)]),
            CausalContext::from_ranges([(A, 1, 4), (A, 7, 7), (A, 9, 12), (C, 2, 2)]).unwrap(),
        ]
    }
}

// ===========================================================================
// The checks every case goes through
// ===========================================================================

/// Decodes `bytes` as `T` under `limits`: measures the peak heap against the
/// C4 bound, and checks any accepted value (C7).
fn decode_checked<T: Subject>(bytes: &[u8], limits: &Limits) -> Result<T, DecodeError> {
    let (r, peak) = measure(|| encoding::decode_with::<T>(bytes, limits));
    assert!(
        peak <= c4_bound(bytes.len()),
        "C4: {} decoding {} bytes peaked at {peak} bytes (bound {})",
        T::NAME,
        bytes.len(),
        c4_bound(bytes.len())
    );
    if let Ok(x) = &r {
        x.check_read();
    }
    r
}

/// [`decode_checked`] under the default limits.
fn decode<T: Subject>(bytes: &[u8]) -> Result<T, DecodeError> {
    decode_checked(bytes, &Limits::DEFAULT)
}

fn enc<T: Encodable>(x: &T) -> Vec<u8> {
    encoding::encode(x).unwrap()
}

/// `after` is indistinguishable from `before`: equal, byte-identical
/// re-encoding, same observable content (C3).
fn assert_unchanged<T: Subject>(before: &T, after: &T) {
    assert_eq!(before, after, "C3: {} changed", T::NAME);
    assert_eq!(
        enc(before),
        enc(after),
        "C3: {} re-encodes differently",
        T::NAME
    );
    assert_eq!(before.observable(), after.observable(), "C3: {}", T::NAME);
}

/// `bytes` are rejected with exactly `expected` (C2) within the C4 bound,
/// and joining them into any corpus value changes nothing (C3).
fn assert_rejects<T: Subject>(bytes: &[u8], expected: &DecodeError) {
    assert_rejects_with::<T>(bytes, &Limits::DEFAULT, expected);
}

fn assert_rejects_with<T: Subject>(bytes: &[u8], limits: &Limits, expected: &DecodeError) {
    assert_eq!(
        decode_checked::<T>(bytes, limits).as_ref().err(),
        Some(expected),
        "{} decoding {bytes:02x?}",
        T::NAME
    );
    for target in T::corpus() {
        assert_join_rejects(&target, bytes, limits, expected);
    }
}

/// Joining `bytes` into (a copy of) `target` fails with `expected` and
/// leaves it unchanged (C3).
fn assert_join_rejects<T: Subject>(
    target: &T,
    bytes: &[u8],
    limits: &Limits,
    expected: &DecodeError,
) {
    let mut t = target.clone();
    if let Some(r) = t.join_bytes(bytes, limits) {
        assert_eq!(r.as_ref().err(), Some(expected), "{} join", T::NAME);
        assert_unchanged(target, &t);
    }
}

fn invalid(v: InvariantViolation) -> DecodeError {
    DecodeError::Invalid(v)
}

// ===========================================================================
// B1: empty input and every strict prefix
// ===========================================================================

/// B1: the empty input, and every strict prefix of the header, is
/// `Truncated` for every type.
#[test]
fn b1_empty_input_and_header_prefixes_are_truncated() {
    fn check<T: Subject>() {
        let header = W::of::<T>().bytes();
        for n in 0..header.len() {
            assert_rejects::<T>(&header[..n], &DecodeError::Truncated);
        }
        // A complete header with no body: the body's first read runs out.
        assert_rejects::<T>(&header, &DecodeError::Truncated);
    }
    for_each_subject!(check);
}

/// B1, exhaustive: every strict prefix of the encoding of every corpus value
/// of every type is `Truncated` (never another error, never a shorter value:
/// lengths and fixed arities make a cut input always end inside a value),
/// and joining it changes nothing.
#[test]
fn b1_every_strict_prefix_of_every_encoding_is_truncated() {
    fn check<T: Subject>() {
        let corpus = T::corpus();
        let richest = corpus.last().unwrap();
        let mut prefixes = 0;
        for x in &corpus {
            let bytes = enc(x);
            for n in 0..bytes.len() {
                assert_eq!(
                    decode::<T>(&bytes[..n]).err(),
                    Some(DecodeError::Truncated),
                    "{} prefix {n} of {bytes:02x?}",
                    T::NAME
                );
                assert_join_rejects(
                    richest,
                    &bytes[..n],
                    &Limits::DEFAULT,
                    &DecodeError::Truncated,
                );
                prefixes += 1;
            }
            // The whole encoding is accepted (the prefixes are the only cut).
            assert_eq!(decode::<T>(&bytes).as_ref(), Ok(x));
        }
        assert!(prefixes > 4 * corpus.len(), "{}", T::NAME);
    }
    for_each_subject!(check);
}

// ===========================================================================
// B2: trailing bytes
// ===========================================================================

/// B2: a valid encoding followed by anything — a zero, garbage, a second
/// encoding — is `TrailingBytes` with the count of what follows. The
/// compact API reads whole inputs only (no streaming form that would stop
/// early).
#[test]
fn b2_trailing_bytes_after_a_valid_encoding_are_counted_and_rejected() {
    fn check<T: Subject>() {
        for x in T::corpus() {
            let bytes = enc(&x);
            for extra in [vec![0u8], vec![0xff; 3], bytes.clone(), vec![0x80; 1000]] {
                let mut b = bytes.clone();
                b.extend_from_slice(&extra);
                assert_rejects::<T>(&b, &DecodeError::TrailingBytes { count: extra.len() });
            }
        }
    }
    for_each_subject!(check);
}

// ===========================================================================
// B3: magic, version, type tag
// ===========================================================================

/// B3: an unknown format version is `UnknownVersion`, checked before the
/// type tag (so a future version's tags can mean anything).
#[test]
fn b3_unknown_format_version_is_unknown_version() {
    fn check<T: Subject>() {
        for x in T::corpus() {
            for version in [0u8, 2, 3, 0x7f, 0x80, 0xff] {
                let mut b = enc(&x);
                b[2] = version;
                assert_rejects::<T>(&b, &DecodeError::UnknownVersion { found: version });
                // Another type's tag under the unknown version: still the version.
                b[3] = T::TYPE_TAG ^ 0x20;
                assert_rejects::<T>(&b, &DecodeError::UnknownVersion { found: version });
            }
        }
    }
    for_each_subject!(check);
}

/// B3: bytes that do not start with `b"cv"` are `BadMagic` as soon as one
/// byte disagrees, however short; a strict prefix of the magic is
/// `Truncated` (B1).
#[test]
fn b3_bad_magic_is_rejected_as_soon_as_a_byte_disagrees() {
    fn check<T: Subject>() {
        let body = enc(&T::corpus().pop().unwrap())[encoding::HEADER_LEN..].to_vec();
        for magic in [*b"CV", *b"vc", *b"cw", *b"xv", [0, 0], [0xff, 0xff]] {
            let b = W::default()
                .raw(&magic)
                .raw(&[encoding::VERSION, T::TYPE_TAG])
                .raw(&body)
                .bytes();
            assert_rejects::<T>(&b, &DecodeError::BadMagic);
        }
        for short in [&b"x"[..], b"C", b"cx", b"cV", b"\0"] {
            assert_rejects::<T>(short, &DecodeError::BadMagic);
        }
        // A cut header that agrees with the magic so far, whatever its
        // version byte: the header is incomplete, so `Truncated`.
        assert_rejects::<T>(b"cv\x02", &DecodeError::Truncated);
    }
    for_each_subject!(check);
}

/// B3/B22: every type tag but the type's own, on an otherwise valid
/// encoding, is `WrongType` naming both tags — all 255 of them, for every
/// type.
#[test]
fn b3_every_other_type_tag_is_wrong_type() {
    fn check<T: Subject>() {
        let mut b = enc(&T::corpus().pop().unwrap());
        for tag in 0..=u8::MAX {
            if tag == T::TYPE_TAG {
                continue;
            }
            b[3] = tag;
            assert_rejects::<T>(
                &b,
                &DecodeError::WrongType {
                    expected: T::TYPE_TAG,
                    found: tag,
                },
            );
        }
    }
    for_each_subject!(check);
}

// ===========================================================================
// B4: overlong and oversized varints
// ===========================================================================

/// B4 at chosen places: an overlong count, replica, counter, range bound,
/// timestamp or item length is `InvalidVarint`, as are eleven bytes for a
/// `u64`, a tenth byte carrying bits beyond 64, and an enum variant index
/// beyond `u32`. The ten-byte form of `u64::MAX` itself is fine.
#[test]
fn b4_overlong_and_oversized_varints_inside_bodies_are_invalid_varint() {
    let bad = DecodeError::InvalidVarint;
    // GCounter: [n] n × (replica, value).
    let g = || W::of::<GCounter>();
    // The count 1 written in two bytes.
    assert_rejects::<GCounter>(&g().raw(&[0x81, 0x00]).v(1).v(5).bytes(), &bad);
    // The replica 1 in two bytes; 0 in two bytes.
    assert_rejects::<GCounter>(&g().v(1).raw(&[0x81, 0x00]).v(5).bytes(), &bad);
    assert_rejects::<GCounter>(&g().v(1).raw(&[0x80, 0x00]).v(5).bytes(), &bad);
    // The value 5 in three bytes.
    assert_rejects::<GCounter>(&g().v(1).v(1).raw(&[0x85, 0x80, 0x00]).bytes(), &bad);
    // Eleven bytes for a u64.
    let eleven = [
        0xffu8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
    ];
    assert_rejects::<GCounter>(&g().v(1).v(1).raw(&eleven).bytes(), &bad);
    // 2^64: the tenth byte carries a bit beyond 64.
    let wide = [0x80u8, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02];
    assert_rejects::<GCounter>(&g().v(1).v(1).raw(&wide).bytes(), &bad);
    // u64::MAX in ten bytes is a valid entry.
    let max = decode::<GCounter>(&g().v(1).v(1).v(u64::MAX).bytes()).unwrap();
    assert_eq!(max.get(A), u64::MAX);

    // OrSet<String>: [n] n × (key, [m] m × dot) then the context; the
    // element's dot counter and the context's upper bound overlong.
    assert_rejects::<OrSet<String>>(
        &W::of::<OrSet<String>>()
            .v(1)
            .str("a")
            .v(1)
            .v(1)
            .raw(&[0x81, 0x00])
            .ctx(&[(1, &[(1, 1)])])
            .bytes(),
        &bad,
    );
    assert_rejects::<OrSet<String>>(
        &W::of::<OrSet<String>>()
            .v(1)
            .str("a")
            .v(1)
            .dot(1, 1)
            .v(1)
            .v(1)
            .v(1)
            .v(1)
            .raw(&[0x81, 0x80, 0x00])
            .bytes(),
        &bad,
    );
    // LwwRegister<String>: option tag 1, Stamp (timestamp, replica), value,
    // then the seen vector; the timestamp overlong.
    assert_rejects::<LwwRegister<String>>(
        &W::of::<LwwRegister<String>>()
            .raw(&[1, 0x8a, 0x00])
            .v(1)
            .str("x")
            .vv(&[(1, 10)])
            .bytes(),
        &bad,
    );
    // Text: [n] items (id, len, left, right, content); the length overlong.
    assert_rejects::<Text>(
        &W::of::<Text>()
            .v(1)
            .dot(1, 1)
            .raw(&[0x81, 0x00])
            .opt_dot(None)
            .opt_dot(None)
            .raw(&[1])
            .str("a")
            .v(0)
            .bytes(),
        &bad,
    );
    // Message: the variant index is a u32: 2^32 is too wide, 1 in five
    // bytes overlong.
    type M = Message<OrSet<String>>;
    assert_rejects::<M>(&W::of::<M>().v(1 << 32).v(1).v(1).pad_to(24).bytes(), &bad);
    assert_rejects::<M>(
        &W::of::<M>()
            .raw(&[0x81, 0x80, 0x80, 0x80, 0x00])
            .v(1)
            .v(1)
            .bytes(),
        &bad,
    );
}

/// B4 everywhere: every body byte below 0x80 ends a varint or is a one-byte
/// item (an option or bool tag, a byte of a string). Rewriting it as
/// `[b | 0x80, 0x00]` — for a varint, the same value in an overlong form —
/// is always rejected: `InvalidVarint` where it ended a varint, `Malformed`
/// where it was a tag (0x80 and 0x81 are not tags), `InvalidUtf8` inside a
/// string (the byte becomes a lead or continuation byte followed by 0x00).
/// The bytes before it are unchanged, so the decoder reaches it in the same
/// role; every corpus encoding of every type is rewritten at every such byte.
#[test]
fn b4_the_overlong_form_of_any_body_varint_is_rejected() {
    fn check<T: Subject>() {
        let target = T::corpus().pop().unwrap();
        let mut varints = 0;
        for x in T::corpus() {
            let bytes = enc(&x);
            for i in encoding::HEADER_LEN..bytes.len() {
                let b = bytes[i];
                if b >= 0x80 {
                    continue;
                }
                let mut edited = bytes[..i].to_vec();
                edited.extend_from_slice(&[b | 0x80, 0x00]);
                edited.extend_from_slice(&bytes[i + 1..]);
                let e = decode::<T>(&edited).err();
                match e {
                    Some(DecodeError::InvalidVarint) => varints += 1,
                    Some(DecodeError::Malformed(_) | DecodeError::InvalidUtf8) => {}
                    other => panic!("{} byte {i} of {bytes:02x?}: {other:?}", T::NAME),
                }
                assert_join_rejects(&target, &edited, &Limits::DEFAULT, &e.unwrap());
            }
        }
        assert!(varints > 0, "{}", T::NAME);
    }
    for_each_subject!(check);
}

// ===========================================================================
// B5/B6: hostile lengths and counts
// ===========================================================================

/// The places where each type reads a length or count first, as the bytes
/// that lead to it: the top-level sequence and the nested ones (keys,
/// values, dot sets, dot functions, context entries and ranges, item
/// contents, delete runs, a message's payload).
fn length_sites() -> Vec<(&'static str, Site)> {
    fn site<T: Subject>(prefix: impl Fn() -> W + 'static) -> Site {
        Box::new(move |n| (prefix().v(n).pad_to(20).bytes(), checker::<T>()))
    }
    vec![
        // [n] entries
        ("GCounter entries", site::<GCounter>(W::of::<GCounter>)),
        (
            "VersionVector entries",
            site::<VersionVector>(W::of::<VersionVector>),
        ),
        // (inc, dec): the dec half after an empty inc half
        (
            "PnCounter dec",
            site::<PnCounter>(|| W::of::<PnCounter>().v(0)),
        ),
        // [n] (replica, [m] ranges)
        (
            "CausalContext entries",
            site::<CausalContext>(W::of::<CausalContext>),
        ),
        (
            "CausalContext ranges",
            site::<CausalContext>(|| W::of::<CausalContext>().v(1).v(1)),
        ),
        // (store, ctx)
        ("EwFlag dots", site::<EwFlag>(W::of::<EwFlag>)),
        ("EwFlag context", site::<EwFlag>(|| W::of::<EwFlag>().v(0))),
        (
            "CausalCounter entries",
            site::<CausalCounter>(W::of::<CausalCounter>),
        ),
        (
            "MvRegister values",
            site::<MvRegister<String>>(W::of::<MvRegister<String>>),
        ),
        (
            "MvRegister string",
            site::<MvRegister<String>>(|| W::of::<MvRegister<String>>().v(1).dot(1, 1)),
        ),
        (
            "OrSet entries",
            site::<OrSet<String>>(W::of::<OrSet<String>>),
        ),
        (
            "OrSet key",
            site::<OrSet<String>>(|| W::of::<OrSet<String>>().v(1)),
        ),
        (
            "OrSet dots",
            site::<OrSet<String>>(|| W::of::<OrSet<String>>().v(1).str("a")),
        ),
        (
            "RwSet tokens",
            site::<RwSet<String>>(|| W::of::<RwSet<String>>().v(1).str("a")),
        ),
        // Some((stamp, value)), seen
        (
            "LwwRegister value",
            site::<LwwRegister<String>>(|| W::of::<LwwRegister<String>>().raw(&[1]).v(1).v(1)),
        ),
        (
            "LwwRegister seen",
            site::<LwwRegister<String>>(|| W::of::<LwwRegister<String>>().raw(&[0])),
        ),
        // [n] (key, present, removed, nested store)
        ("OrMap entries", site::<MapMv>(W::of::<MapMv>)),
        ("OrMap key", site::<MapMv>(|| W::of::<MapMv>().v(1))),
        (
            "OrMap present",
            site::<MapMv>(|| W::of::<MapMv>().v(1).str("k")),
        ),
        (
            "OrMap removed",
            site::<MapMv>(|| W::of::<MapMv>().v(1).str("k").v(0)),
        ),
        (
            "OrMap nested",
            site::<MapMv>(|| W::of::<MapMv>().v(1).str("k").v(0).v(0)),
        ),
        (
            "nested OrMap inner entries",
            site::<MapNested>(|| W::of::<MapNested>().v(1).str("k").v(0).v(0)),
        ),
        (
            "RemoveWins OrMap nested",
            site::<MapCounterRw>(|| W::of::<MapCounterRw>().v(1).str("k").v(0).v(0)),
        ),
        (
            "UpdateWins OrMap nested",
            site::<MapSetUw>(|| W::of::<MapSetUw>().v(1).str("").v(0).v(0)),
        ),
        // [n] (dot, inner)
        ("Embedded siblings", site::<EmbLww>(W::of::<EmbLww>)),
        (
            "Embedded inner string",
            site::<EmbLww>(|| W::of::<EmbLww>().v(1).dot(1, 1).raw(&[1]).v(1).v(1)),
        ),
        (
            "Embedded inner vector",
            site::<EmbG>(|| W::of::<EmbG>().v(1).dot(1, 1)),
        ),
        // (items, deletes)
        ("List items", site::<List<u64>>(W::of::<List<u64>>)),
        (
            "List content",
            site::<List<u64>>(|| W::of::<List<u64>>().v(1).dot(1, 1).v(1).raw(&[0, 0, 1])),
        ),
        (
            "List deletes",
            site::<List<u64>>(|| W::of::<List<u64>>().v(0)),
        ),
        ("Text items", site::<Text>(W::of::<Text>)),
        (
            "Text content",
            site::<Text>(|| W::of::<Text>().v(1).dot(1, 1).v(1).raw(&[0, 0, 1])),
        ),
        ("Text deletes", site::<Text>(|| W::of::<Text>().v(0))),
        // Deltas { from, start, end, delta }
        (
            "Message delta",
            site::<Message<OrSet<String>>>(|| {
                W::of::<Message<OrSet<String>>>().v(0).v(1).v(0).v(1)
            }),
        ),
        // Digest { from, summary }
        (
            "Message summary",
            site::<Message<Text>>(|| W::of::<Message<Text>>().v(2).v(1)),
        ),
    ]
}

/// Builds the input with a given declared length at one site, and its
/// checker.
type Site = Box<dyn Fn(u64) -> (Vec<u8>, Checker)>;

/// Checks the decode of a hand-written input as one type; returns the
/// error and the peak heap.
type Checker = Box<dyn Fn(&[u8], &DecodeError) -> usize>;

fn checker<T: Subject>() -> Checker {
    Box::new(|bytes, expected| {
        let (_, peak) = measure(|| decode::<T>(bytes));
        assert_rejects::<T>(bytes, expected);
        peak
    })
}

/// B5: a length or count of `u64::MAX`, `2^40` or `2^30 + 1` on a 20-byte
/// input, at the top level and at every nested sequence of every type, is
/// `LengthTooLarge` naming the declared length and the limit (1 GiB). It is
/// checked when the length is read, before anything is allocated for it:
/// the peak heap stays a few KiB (what the enclosing sequences of at most
/// 16 elements reserve), not the 16 EiB a `with_capacity(len)` would ask.
#[test]
fn b5_length_u64_max_or_2_pow_40_on_20_bytes_is_length_too_large() {
    let limit = Limits::DEFAULT.max_bytes as u64;
    for (site, build) in length_sites() {
        for declared in [u64::MAX, 1 << 40, limit + 1] {
            let (bytes, check) = build(declared);
            assert!(bytes.len() <= 24, "{site}: {} bytes", bytes.len());
            let peak = check(&bytes, &DecodeError::LengthTooLarge { declared, limit });
            assert!(peak < 4096, "{site}: {declared} peaked at {peak} bytes");
        }
    }
}

/// B5 with a configured limit: a declared length above
/// `Limits::max_bytes` is `LengthTooLarge` naming that limit.
#[test]
fn b5_declared_length_above_a_configured_limit_names_the_limit() {
    let limits = Limits::DEFAULT.with_max_bytes(100);
    let bytes = W::of::<OrSet<String>>().v(1).v(101).pad_to(40).bytes();
    assert_rejects_with::<OrSet<String>>(
        &bytes,
        &limits,
        &DecodeError::LengthTooLarge {
            declared: 101,
            limit: 100,
        },
    );
    // At the limit, the length is believed and found to be a lie.
    let bytes = W::of::<OrSet<String>>().v(1).v(100).pad_to(40).bytes();
    assert_rejects_with::<OrSet<String>>(&bytes, &limits, &DecodeError::Truncated);
}

/// B6: a count within the limit but above the bytes left (each element
/// takes at least one byte) is `Truncated` when it is read, at every site;
/// so is a count the bytes left could only hold if elements were smaller
/// than they are (found when the bytes run out).
#[test]
fn b6_count_beyond_the_remaining_bytes_is_truncated() {
    for (_, build) in length_sites() {
        for declared in [1_000, 1 << 30] {
            let (bytes, check) = build(declared);
            check(&bytes, &DecodeError::Truncated);
        }
    }
    // Eight (replica, value) entries need at least 16 bytes; 8 are left,
    // four valid entries.
    let bytes = W::of::<GCounter>()
        .v(8)
        .raw(&[1, 1, 2, 1, 3, 1, 4, 1])
        .bytes();
    assert_rejects::<GCounter>(&bytes, &DecodeError::Truncated);
    // Two items need at least 12 bytes; 11 are left: a whole first item
    // ((1, 1), one unit "a"), then a second one that runs out. (Items are
    // checked as they arrive: filler that is a bad item is that error.)
    let bytes = W::of::<Text>()
        .v(2)
        .raw(&[1, 1, 1, 0, 0, 1, 1, b'a'])
        .raw(&[1, 2, 1])
        .bytes();
    assert_rejects::<Text>(&bytes, &DecodeError::Truncated);
}

// ===========================================================================
// B7/C5: depth
// ===========================================================================

/// OR-maps nested over an enable-wins flag, one key per level.
trait Deep: Subject + Validate + converge::CausalCrdt + Default {
    /// Levels of `OrMap` above the flag.
    const LEVELS: usize;
    /// Writes one key at every level and the flag at the bottom; returns
    /// the delta.
    fn fill(&mut self, r: ReplicaId) -> Self;
}

impl Deep for EwFlag {
    const LEVELS: usize = 0;
    fn fill(&mut self, r: ReplicaId) -> Self {
        self.enable(r)
    }
}

/// `OrMap<u8, V>` as a test subject (the key type keeps the bytes short).
type M<V> = OrMap<u8, V>;

impl<V: Deep> Subject for M<V>
where
    V::Store: serde::Serialize + serde::de::DeserializeOwned,
{
    const NAME: &'static str = "nested OrMap<u8, _>";
    fn corpus() -> Vec<Self> {
        let mut x = Self::default();
        let d = x.fill(A);
        vec![Self::default(), d]
    }
    fn check_read(&self) {
        self.check_invariants().unwrap();
        let _ = format!("{self:?}");
    }
    fn join_bytes(&mut self, bytes: &[u8], limits: &Limits) -> Option<Result<bool, DecodeError>> {
        Some(encoding::join_encoded_with(self, bytes, limits))
    }
    fn join_value(&mut self, other: Self) -> Option<bool> {
        Some(self.join(other))
    }
}

impl<V: Deep> Deep for M<V>
where
    V::Store: serde::Serialize + serde::de::DeserializeOwned,
{
    const LEVELS: usize = V::LEVELS + 1;
    fn fill(&mut self, r: ReplicaId) -> Self {
        self.update(r, 0, |v| v.fill(r))
    }
}

type D1 = M<EwFlag>;
type D2 = M<D1>;
type D3 = M<D2>;
type D5 = M<M<D3>>;
type D10 = M<M<M<M<M<D5>>>>>;
type D20 = M<M<M<M<M<M<M<M<M<M<D10>>>>>>>>>>;
type D21 = M<D20>;

/// The containers a filled value of `T` opens, counted as the decoder
/// counts them (every sequence, tuple, struct, option and enum):
///
/// - the flag alone: `(store, context)` 1, the context's entries 2, an entry
///   `(replica, ranges)` 3, its ranges 4, a range `(lo, hi)` 5;
/// - each map level adds 3 on the way down: its entries (a sequence), an
///   entry `(key, (present, removed, store))` as a tuple, and the entry
///   value's tuple; the flag's dot set at the bottom adds 2 (the sequence
///   and a `Dot` struct), so `L` levels need `3L + 3` (≥ 6, above the
///   context's 5 once `L ≥ 1`).
fn required_depth(levels: usize) -> usize {
    (3 * levels + 3).max(5)
}

/// The smallest `max_depth` under which the filled value decodes, found
/// by asking the decoder; every smaller limit is `DepthExceeded` naming it,
/// and a join under it changes nothing (C3).
fn measured_depth<T: Deep>() -> usize {
    let mut x = T::default();
    x.fill(A);
    let bytes = enc(&x);
    let need = (1..200)
        .find(|&k| decode_checked::<T>(&bytes, &Limits::DEFAULT.with_max_depth(k)).is_ok())
        .unwrap();
    for k in 0..need {
        assert_rejects_with::<T>(
            &bytes,
            &Limits::DEFAULT.with_max_depth(k),
            &DecodeError::DepthExceeded { limit: k },
        );
    }
    assert_eq!(
        decode_checked::<T>(&bytes, &Limits::DEFAULT.with_max_depth(need)).unwrap(),
        x
    );
    need
}

/// B7/C5: OR-maps nested `L` deep (0 to 3 levels, and 20) need exactly
/// `max(5, 3L + 3)` levels of depth; `Limits::with_max_depth(k)` below that
/// is `DepthExceeded { limit: k }`, and the replica is unchanged.
#[test]
fn b7_or_maps_nested_deeper_than_max_depth_are_depth_exceeded() {
    assert_eq!(measured_depth::<EwFlag>(), required_depth(EwFlag::LEVELS));
    assert_eq!(measured_depth::<D1>(), required_depth(D1::LEVELS));
    assert_eq!(measured_depth::<D2>(), required_depth(D2::LEVELS));
    assert_eq!(measured_depth::<D3>(), required_depth(D3::LEVELS));
    assert_eq!(D20::LEVELS, 20);
    assert_eq!(measured_depth::<D20>(), required_depth(20));
}

/// B7/C5 at the default limit (64): OR-maps nested 20 deep need depth 63
/// and decode; 21 deep need 66 and are `DepthExceeded { limit: 64 }`.
#[test]
fn b7_default_depth_64_admits_or_maps_20_deep_and_rejects_21() {
    assert_eq!(Limits::DEFAULT.max_depth, 64);
    assert_eq!(required_depth(20), 63);
    assert_eq!(required_depth(21), 66);
    let mut x = D20::default();
    x.fill(A);
    assert_eq!(decode::<D20>(&enc(&x)).unwrap(), x);
    let mut y = D21::default();
    let delta = y.fill(A);
    for bytes in [enc(&y), enc(&delta)] {
        assert_rejects::<D21>(&bytes, &DecodeError::DepthExceeded { limit: 64 });
    }
    // Under a raised limit it decodes, and its `Debug` and `Drop` (fixed by
    // the type, 21 levels) are unremarkable.
    let back = decode_checked::<D21>(&enc(&y), &Limits::DEFAULT.with_max_depth(66)).unwrap();
    assert_eq!(back, y);
    assert!(format!("{back:?}").len() > 21);
}

/// B7/C5 with 100,000 levels of bytes: the decoder is driven by the Rust
/// type, which fixes the nesting (an `OrMap<u8, OrMap<u8, …>>` of 21 levels
/// can open at most 66 containers, whatever the bytes say), so a byte
/// pattern that keeps opening "one more map entry" can never make it recurse
/// deeper than the type: there is no self-describing `deserialize_any` path
/// (it is `Unsupported`). The pattern below is one map level's prefix —
/// `[1 entry] key 0, present [1 dot (1,1)], removed [0]`, then the nested
/// store — repeated 100,000 times (600 KB). As the 21-level type it is
/// `DepthExceeded` at the default limit; with no depth limit at all the type
/// runs out of levels after 21 and the bytes fail to parse as the flag at the
/// bottom; as shallower types they fail as soon as the pattern disagrees.
/// None of this overflows the stack.
#[test]
fn b7_a_100000_level_byte_pattern_is_rejected_without_deep_recursion() {
    let level = [1u8, 0, 1, 1, 1, 0];
    let mut w = W::of::<D21>();
    for _ in 0..100_000 {
        w = w.raw(&level);
    }
    let bytes = w.bytes();
    assert_eq!(bytes.len(), 600_004);
    assert_rejects::<D21>(&bytes, &DecodeError::DepthExceeded { limit: 64 });
    let unlimited = Limits::DEFAULT.with_max_depth(usize::MAX);
    let e = decode_checked::<D21>(&bytes, &unlimited).unwrap_err();
    assert!(!matches!(e, DecodeError::DepthExceeded { .. }), "{e:?}");
    // Every observed-reset map has the same tag: the bytes are offered to
    // shallower map types as they are.
    assert!(decode_checked::<D2>(&bytes, &unlimited).is_err());
    assert!(decode_checked::<D1>(&bytes, &unlimited).is_err());
    assert!(decode_checked::<MapNested>(&bytes, &unlimited).is_err());
}

// ===========================================================================
// B8: a dot in the store that the context does not cover (I1)
// ===========================================================================

/// B8: for every causal type, a store dot missing from the context is
/// `Invalid(DotNotInContext { dot })` naming that dot — at the top level,
/// in a map key's presence or remove markers, in a nested value, in an
/// embedded sibling. (Sequences have no separate context on the wire: their
/// context is the set of their item and delete ids, so I1 holds by
/// construction.)
#[test]
fn b8_a_dot_the_context_lacks_is_dot_not_in_context_naming_it() {
    let uncovered = |r, c| invalid(InvariantViolation::DotNotInContext { dot: dot(r, c) });
    // EwFlag: [n] dots, context. Empty context; another replica's; a
    // counter past the covered range.
    let flag = |ctx: &[(u64, &[(u64, u64)])]| W::of::<EwFlag>().v(1).dot(1, 3).ctx(ctx).bytes();
    assert_rejects::<EwFlag>(&flag(&[]), &uncovered(1, 3));
    assert_rejects::<EwFlag>(&flag(&[(2, &[(1, 3)])]), &uncovered(1, 3));
    assert_rejects::<EwFlag>(&flag(&[(1, &[(1, 2)])]), &uncovered(1, 3));
    assert_rejects::<EwFlag>(&flag(&[(1, &[(1, 2), (4, 9)])]), &uncovered(1, 3));
    assert!(decode::<EwFlag>(&flag(&[(1, &[(3, 3)])])).is_ok());
    // MvRegister<String>: [n] (dot, value), context.
    assert_rejects::<MvRegister<String>>(
        &W::of::<MvRegister<String>>()
            .v(1)
            .dot(1, 2)
            .str("x")
            .ctx(&[(1, &[(1, 1)])])
            .bytes(),
        &uncovered(1, 2),
    );
    // CausalCounter: [n] (dot, (inc, dec)), context.
    assert_rejects::<CausalCounter>(
        &W::of::<CausalCounter>()
            .v(1)
            .dot(2, 1)
            .v(5)
            .v(0)
            .ctx(&[(1, &[(1, 1)])])
            .bytes(),
        &uncovered(2, 1),
    );
    // OrSet<String>: [n] (element, [m] dots), context.
    assert_rejects::<OrSet<String>>(
        &W::of::<OrSet<String>>()
            .v(1)
            .str("a")
            .v(1)
            .dot(1, 1)
            .ctx(&[])
            .bytes(),
        &uncovered(1, 1),
    );
    // RwSet<String>: [n] (element, [m] (dot, add)), context.
    assert_rejects::<RwSet<String>>(
        &W::of::<RwSet<String>>()
            .v(1)
            .str("a")
            .v(1)
            .dot(1, 1)
            .raw(&[1])
            .ctx(&[])
            .bytes(),
        &uncovered(1, 1),
    );
    // OrMap: [n] (key, present, removed, nested store), context. The
    // presence dot uncovered; the nested value's dot uncovered.
    let map = |present: u64, value: u64, ctx: &[(u64, &[(u64, u64)])]| {
        W::of::<MapMv>()
            .v(1)
            .str("k")
            .v(1)
            .dot(1, present)
            .v(0)
            .v(1)
            .dot(1, value)
            .str("v")
            .ctx(ctx)
            .bytes()
    };
    assert_rejects::<MapMv>(&map(2, 1, &[(1, &[(1, 1)])]), &uncovered(1, 2));
    assert_rejects::<MapMv>(&map(1, 2, &[(1, &[(1, 1)])]), &uncovered(1, 2));
    assert!(decode::<MapMv>(&map(2, 1, &[(1, &[(1, 2)])])).is_ok());
    // Two levels down: the inner map's value dot.
    assert_rejects::<MapNested>(
        &W::of::<MapNested>()
            .v(1)
            .str("doc")
            .v(1)
            .dot(1, 3)
            .v(0)
            // inner map store: [1] ("title", present [1:2], removed [], [(1:9, 7)])
            .v(1)
            .str("title")
            .v(1)
            .dot(1, 2)
            .v(0)
            .v(1)
            .dot(1, 9)
            .v(7)
            .ctx(&[(1, &[(1, 3)])])
            .bytes(),
        &uncovered(1, 9),
    );
    // A remove marker (remove-wins map) the context lacks.
    assert_rejects::<MapCounterRw>(
        &W::of::<MapCounterRw>()
            .v(1)
            .str("k")
            .v(1)
            .dot(1, 1)
            .v(1)
            .dot(2, 4)
            .v(0)
            .ctx(&[(1, &[(1, 1)])])
            .bytes(),
        &uncovered(2, 4),
    );
    // Embedded<LwwRegister<String>>: [n] (dot, register), context; the
    // register is valid, its dot uncovered.
    assert_rejects::<EmbLww>(
        &W::of::<EmbLww>()
            .v(1)
            .dot(1, 1)
            .raw(&[1])
            .v(10)
            .v(1)
            .str("x")
            .vv(&[(1, 10)])
            .ctx(&[])
            .bytes(),
        &uncovered(1, 1),
    );
    // A message carrying such a state: the same error from inside.
    type Mo = Message<OrSet<String>>;
    let b = W::of::<Mo>()
        .v(3)
        .v(2)
        .v(7)
        .v(1)
        .str("a")
        .v(1)
        .dot(1, 1)
        .ctx(&[])
        .bytes();
    assert_rejects::<Mo>(&b, &uncovered(1, 1));
}

// ===========================================================================
// B9: one dot twice (I2)
// ===========================================================================

/// B9: one dot on two elements, two map keys, or a key's presence and its
/// nested value is `Invalid(DuplicateDot { dot })` naming it.
#[test]
fn b9_one_dot_on_two_elements_is_duplicate_dot() {
    let dup = |r, c| invalid(InvariantViolation::DuplicateDot { dot: dot(r, c) });
    let ctx: &[(u64, &[(u64, u64)])] = &[(1, &[(1, 2)])];
    assert_rejects::<OrSet<String>>(
        &W::of::<OrSet<String>>()
            .v(2)
            .str("a")
            .v(1)
            .dot(1, 2)
            .str("b")
            .v(2)
            .dot(1, 1)
            .dot(1, 2)
            .ctx(ctx)
            .bytes(),
        &dup(1, 2),
    );
    assert_rejects::<RwSet<String>>(
        &W::of::<RwSet<String>>()
            .v(2)
            .str("a")
            .v(1)
            .dot(1, 1)
            .raw(&[1])
            .str("b")
            .v(1)
            .dot(1, 1)
            .raw(&[0])
            .ctx(ctx)
            .bytes(),
        &dup(1, 1),
    );
    // Map: two keys' presence; one key's presence and its nested value.
    let entry = |w: W, key: &str, present: u64, value: Option<u64>| {
        let w = w.str(key).v(1).dot(1, present).v(0);
        match value {
            None => w.v(0),
            Some(c) => w.v(1).dot(1, c).str("v"),
        }
    };
    let two = entry(entry(W::of::<MapMv>().v(2), "a", 1, None), "b", 1, None);
    assert_rejects::<MapMv>(&two.ctx(ctx).bytes(), &dup(1, 1));
    let one = entry(W::of::<MapMv>().v(1), "a", 2, Some(2));
    assert_rejects::<MapMv>(&one.ctx(ctx).bytes(), &dup(1, 2));
    // A nested set's element dot equal to another key's presence dot.
    let nested = W::of::<MapSetUw>()
        .v(2)
        .str("a")
        .v(1)
        .dot(1, 1)
        .v(0)
        .v(1)
        .str("x")
        .v(1)
        .dot(1, 2)
        .str("b")
        .v(1)
        .dot(1, 2)
        .v(0)
        .v(0);
    assert_rejects::<MapSetUw>(&nested.ctx(ctx).bytes(), &dup(1, 2));
}

/// B9 across replicas and levels: the repeated dot is found in the bucket
/// of its replica (the check sorts each replica's counters apart), the
/// least one is named whichever keys hold it, and a presence dot that is
/// also its own key's remove marker, or a dot repeated two map levels
/// apart, is found too.
#[test]
fn b9_the_least_repeated_dot_is_named_across_replicas_and_levels() {
    let dup = |r, c| invalid(InvariantViolation::DuplicateDot { dot: dot(r, c) });
    let ctx: &[(u64, &[(u64, u64)])] = &[(1, &[(1, 3)]), (2, &[(1, 3)]), (5, &[(1, 2)])];
    // Keys with one presence dot each (observed-reset map of registers).
    let map = |dots: &[(u64, u64)]| {
        let mut w = W::of::<MapMv>().v(dots.len() as u64);
        for (i, &(r, c)) in dots.iter().enumerate() {
            w = w.str(&format!("k{i}")).v(1).dot(r, c).v(0).v(0);
        }
        w.ctx(ctx).bytes()
    };
    // Replica 1 has no repeat; 2 and 5 have one each: 2:3 is the least.
    let both = [(5, 1), (1, 1), (2, 3), (1, 2), (5, 1), (2, 3), (2, 1)];
    assert_rejects::<MapMv>(&map(&both), &dup(2, 3));
    // Only the last replica's bucket has one.
    let last = [(5, 2), (1, 1), (2, 2), (1, 3), (5, 2), (2, 1)];
    assert_rejects::<MapMv>(&map(&last), &dup(5, 2));
    // A remove-wins key whose presence dot is also its marker: each part
    // is sorted on its own, so only the search across the store finds it.
    let hidden = W::of::<MapCounterRw>()
        .v(1)
        .str("a")
        .v(1)
        .dot(2, 2)
        .v(1)
        .dot(2, 2)
        .v(0)
        .ctx(ctx)
        .bytes();
    assert_rejects::<MapCounterRw>(&hidden, &dup(2, 2));
    // A map of maps: key "b"'s presence dot is the presence dot of the
    // inner key of "a".
    let nested = W::of::<MapNested>()
        .v(2)
        .str("a")
        .v(1)
        .dot(1, 1)
        .v(0)
        .v(1)
        .str("x")
        .v(1)
        .dot(5, 2)
        .v(0)
        .v(0)
        .str("b")
        .v(1)
        .dot(5, 2)
        .v(0)
        .v(0)
        .ctx(ctx)
        .bytes();
    assert_rejects::<MapNested>(&nested, &dup(5, 2));
}

/// C2 with a repeated dot and a bad entry: the entries are checked one by
/// one first, and the least violation among them is reported, here the
/// zero dot under "a"; a dot repeated across entries ("b" and "c") is
/// looked for only once every entry is sound, so that the search needs no
/// copy of the dots on the error path (C4). The same error every time.
#[test]
fn c2_a_bad_entry_is_reported_before_a_repeated_dot() {
    let ctx: &[(u64, &[(u64, u64)])] = &[(1, &[(1, 2)])];
    let bytes = W::of::<MapMv>()
        .v(3)
        .str("a")
        .v(1)
        .dot(1, 0)
        .v(0)
        .v(0)
        .str("b")
        .v(1)
        .dot(1, 1)
        .v(0)
        .v(0)
        .str("c")
        .v(1)
        .dot(1, 1)
        .v(0)
        .v(0)
        .ctx(ctx)
        .bytes();
    for _ in 0..64 {
        assert_eq!(
            decode::<MapMv>(&bytes).unwrap_err(),
            invalid(InvariantViolation::ZeroDot {
                replica: ReplicaId::new(1)
            })
        );
    }
}

/// B9 within one element: a dot twice in one dot set, two values (or two
/// counter entries, two siblings) under one dot. The wire's normal form is
/// strictly increasing dots, so these are rejected as `Invalid(Unsorted)`
/// (documented: rejected, not deduplicated).
#[test]
fn b9_one_dot_twice_in_one_element_is_unsorted() {
    let unsorted = invalid(InvariantViolation::Unsorted);
    let ctx: &[(u64, &[(u64, u64)])] = &[(1, &[(1, 1)])];
    assert_rejects::<EwFlag>(
        &W::of::<EwFlag>().v(2).dot(1, 1).dot(1, 1).ctx(ctx).bytes(),
        &unsorted,
    );
    assert_rejects::<OrSet<String>>(
        &W::of::<OrSet<String>>()
            .v(1)
            .str("a")
            .v(2)
            .dot(1, 1)
            .dot(1, 1)
            .ctx(ctx)
            .bytes(),
        &unsorted,
    );
    assert_rejects::<MvRegister<String>>(
        &W::of::<MvRegister<String>>()
            .v(2)
            .dot(1, 1)
            .str("x")
            .dot(1, 1)
            .str("y")
            .ctx(ctx)
            .bytes(),
        &unsorted,
    );
    assert_rejects::<CausalCounter>(
        &W::of::<CausalCounter>()
            .v(2)
            .dot(1, 1)
            .v(1)
            .v(0)
            .dot(1, 1)
            .v(2)
            .v(0)
            .ctx(ctx)
            .bytes(),
        &unsorted,
    );
    assert_rejects::<EmbG>(
        &W::of::<EmbG>()
            .v(2)
            .dot(1, 1)
            .vv(&[(1, 1)])
            .dot(1, 1)
            .vv(&[(1, 2)])
            .ctx(ctx)
            .bytes(),
        &unsorted,
    );
    // Dots out of order are the same error (the order is the normal form).
    assert_rejects::<EwFlag>(
        &W::of::<EwFlag>()
            .v(2)
            .dot(1, 2)
            .dot(1, 1)
            .ctx(&[(1, &[(1, 2)])])
            .bytes(),
        &unsorted,
    );
}

/// B9 across states: bytes that are valid alone but give a dot the replica
/// already holds different content (a reused replica id, a forged delta)
/// decode, and `join_encoded` rejects them with `ConflictingDot` naming the
/// dot, leaving the replica unchanged.
#[test]
fn b9_a_known_dot_with_other_content_is_conflicting_dot_and_changes_nothing() {
    let conflict = |r, c| invalid(InvariantViolation::ConflictingDot { dot: dot(r, c) });
    // MvRegister: 1:1 is "10:00" here, "forged" in the bytes.
    let mut mv = MvRegister::new();
    mv.write(A, "10:00".to_string());
    let forged = W::of::<MvRegister<String>>()
        .v(1)
        .dot(1, 1)
        .str("forged")
        .ctx(&[(1, &[(1, 1)])])
        .bytes();
    assert!(decode::<MvRegister<String>>(&forged).is_ok());
    assert_join_rejects(&mv, &forged, &Limits::DEFAULT, &conflict(1, 1));
    // OrSet: 1:1 adds "milk" here, "poison" in the bytes.
    let mut set = OrSet::new();
    set.insert(A, "milk".to_string());
    let forged = W::of::<OrSet<String>>()
        .v(1)
        .str("poison")
        .v(1)
        .dot(1, 1)
        .ctx(&[(1, &[(1, 1)])])
        .bytes();
    assert!(decode::<OrSet<String>>(&forged).is_ok());
    assert_join_rejects(&set, &forged, &Limits::DEFAULT, &conflict(1, 1));
    // Text: 1:1..1:5 is "hello" here; the bytes say "jelly" (units 1:1 and
    // 1:5 differ; the first is named).
    let mut t = Text::new();
    t.insert(A, 0, "hello").unwrap();
    let forged = item(W::of::<Text>().v(1), (1, 1), 5, None, None, text("jelly"))
        .v(0)
        .bytes();
    assert!(decode::<Text>(&forged).is_ok());
    assert_join_rejects(&t, &forged, &Limits::DEFAULT, &conflict(1, 1));
}

// ===========================================================================
// B10: contexts, vectors and maps not in normal form
// ===========================================================================

/// B10 for causal contexts (the vector is the range starting at 1, the dot
/// cloud the other ranges): a cloud range the vector already covers
/// (overlapping), one adjacent to it (it should have been merged), ranges
/// out of order, `lo > hi`, or a counter above `Dot::MAX_COUNTER` are
/// `NonCanonicalContext { replica }`; a range starting at 0 is `ZeroDot`;
/// a replica with no range is `ZeroEntry`; a replica listed twice or out of
/// order is `Unsorted`. All rejected — never canonicalised — alone and
/// inside a state.
#[test]
fn b10_context_not_in_normal_form_is_rejected_naming_the_replica() {
    let nc = |r| {
        invalid(InvariantViolation::NonCanonicalContext {
            replica: ReplicaId::new(r),
        })
    };
    let max = Dot::MAX_COUNTER;
    type Entries = Vec<(u64, Vec<(u64, u64)>)>;
    let cases: Vec<(Entries, DecodeError)> = vec![
        (vec![(7, vec![(1, 3), (2, 5)])], nc(7)),
        (vec![(7, vec![(1, 3), (3, 3)])], nc(7)),
        (vec![(7, vec![(1, 3), (4, 5)])], nc(7)),
        (vec![(7, vec![(5, 6), (1, 2)])], nc(7)),
        (vec![(7, vec![(3, 2)])], nc(7)),
        (vec![(7, vec![(1, max + 1)])], nc(7)),
        (vec![(7, vec![(1, u64::MAX)])], nc(7)),
        (
            vec![(7, vec![(0, 3)])],
            invalid(InvariantViolation::ZeroDot {
                replica: ReplicaId::new(7),
            }),
        ),
        (
            vec![(7, vec![])],
            invalid(InvariantViolation::ZeroEntry {
                replica: ReplicaId::new(7),
            }),
        ),
        (
            vec![(7, vec![(1, 1)]), (7, vec![(3, 3)])],
            invalid(InvariantViolation::Unsorted),
        ),
        (
            vec![(8, vec![(1, 1)]), (7, vec![(1, 1)])],
            invalid(InvariantViolation::Unsorted),
        ),
    ];
    for (entries, expected) in cases {
        let refs: Vec<(u64, &[(u64, u64)])> = entries.iter().map(|(r, v)| (*r, &v[..])).collect();
        assert_rejects::<CausalContext>(&W::of::<CausalContext>().ctx(&refs).bytes(), &expected);
        // The same context inside states that carry one.
        assert_rejects::<EwFlag>(&W::of::<EwFlag>().v(0).ctx(&refs).bytes(), &expected);
        assert_rejects::<OrSet<String>>(
            &W::of::<OrSet<String>>().v(0).ctx(&refs).bytes(),
            &expected,
        );
        assert_rejects::<Message<Text>>(
            &W::of::<Message<Text>>().v(2).v(1).ctx(&refs).bytes(),
            &expected,
        );
    }
    // At the bound itself, the context is well-formed.
    let ok = W::of::<CausalContext>()
        .ctx(&[(7, &[(1, 3), (5, max)])])
        .bytes();
    assert!(decode::<CausalContext>(&ok).is_ok());
}

/// B10 for version vectors (G-counters, both halves of a PN-counter, an LWW
/// register's `seen`): an explicit zero entry is `ZeroEntry { replica }`; a
/// replica listed twice or out of order is `Unsorted`. Rejected, not
/// canonicalised (dropping the zero or keeping the maximum would make two
/// byte strings one state).
#[test]
fn b10_version_vector_zero_and_repeated_entries_are_rejected() {
    let zero = invalid(InvariantViolation::ZeroEntry {
        replica: ReplicaId::new(5),
    });
    let unsorted = invalid(InvariantViolation::Unsorted);
    let cases: [(&[(u64, u64)], &DecodeError); 4] = [
        (&[(1, 3), (5, 0)], &zero),
        (&[(5, 0)], &zero),
        (&[(5, 1), (5, 2)], &unsorted),
        (&[(6, 1), (5, 2)], &unsorted),
    ];
    for (entries, expected) in cases {
        assert_rejects::<VersionVector>(&W::of::<VersionVector>().vv(entries).bytes(), expected);
        assert_rejects::<GCounter>(&W::of::<GCounter>().vv(entries).bytes(), expected);
        assert_rejects::<PnCounter>(&W::of::<PnCounter>().vv(entries).vv(&[]).bytes(), expected);
        assert_rejects::<PnCounter>(&W::of::<PnCounter>().vv(&[]).vv(entries).bytes(), expected);
        assert_rejects::<EmbG>(
            &W::of::<EmbG>()
                .v(1)
                .dot(1, 1)
                .vv(entries)
                .ctx(&[(1, &[(1, 1)])])
                .bytes(),
            expected,
        );
        assert_rejects::<Message<PnCounter>>(
            &W::of::<Message<PnCounter>>()
                .v(2)
                .v(1)
                .vv(entries)
                .vv(&[])
                .bytes(),
            expected,
        );
    }
    // LWW `seen`: None and an empty vector is bottom; a zero entry is
    // rejected before the winner is compared with it.
    assert_rejects::<LwwRegister<String>>(
        &W::of::<LwwRegister<String>>()
            .raw(&[1])
            .v(3)
            .v(5)
            .str("x")
            .vv(&[(5, 0)])
            .bytes(),
        &zero,
    );
}

/// B10 for dot maps (set elements, map keys): a key listed twice or out of
/// order is `Unsorted`; an entry whose nested store is empty (normal form
/// has none) is `EmptyEntry`. Rejected, not merged: serde's own maps would
/// silently keep the last duplicate.
#[test]
fn b10_repeated_unsorted_or_empty_map_entries_are_rejected() {
    let ctx: &[(u64, &[(u64, u64)])] = &[(1, &[(1, 2)])];
    let set = |a: &str, b: &str| {
        W::of::<OrSet<String>>()
            .v(2)
            .str(a)
            .v(1)
            .dot(1, 1)
            .str(b)
            .v(1)
            .dot(1, 2)
            .ctx(ctx)
            .bytes()
    };
    assert_rejects::<OrSet<String>>(&set("a", "a"), &invalid(InvariantViolation::Unsorted));
    assert_rejects::<OrSet<String>>(&set("b", "a"), &invalid(InvariantViolation::Unsorted));
    assert!(decode::<OrSet<String>>(&set("a", "b")).is_ok());
    assert_rejects::<OrSet<String>>(
        &W::of::<OrSet<String>>().v(1).str("a").v(0).ctx(ctx).bytes(),
        &invalid(InvariantViolation::EmptyEntry),
    );
    assert_rejects::<MapMv>(
        &W::of::<MapMv>()
            .v(1)
            .str("k")
            .v(0)
            .v(0)
            .v(0)
            .ctx(ctx)
            .bytes(),
        &invalid(InvariantViolation::EmptyEntry),
    );
    let map = W::of::<MapMv>()
        .v(2)
        .str("k")
        .v(1)
        .dot(1, 1)
        .v(0)
        .v(0)
        .str("k")
        .v(1)
        .dot(1, 2)
        .v(0)
        .v(0)
        .ctx(ctx)
        .bytes();
    assert_rejects::<MapMv>(&map, &invalid(InvariantViolation::Unsorted));
    // A remove marker in a map whose policy has none.
    let marker = |w: W| {
        w.v(1)
            .str("k")
            .v(1)
            .dot(1, 1)
            .v(1)
            .dot(1, 2)
            .v(0)
            .ctx(ctx)
            .bytes()
    };
    assert_rejects::<MapSetUw>(
        &marker(W::of::<MapSetUw>()),
        &invalid(InvariantViolation::UnexpectedRemoveMarker { dot: dot(1, 2) }),
    );
    assert_rejects::<MapMv>(
        &marker(W::of::<MapMv>()),
        &invalid(InvariantViolation::UnexpectedRemoveMarker { dot: dot(1, 2) }),
    );
    assert!(decode::<MapCounterRw>(&marker(W::of::<MapCounterRw>())).is_ok());
}

// ===========================================================================
// B11: gaps
// ===========================================================================

/// B11: a delta whose dots skip ahead of the replica's context (A's events
/// 1–2 known, the bytes carry A's event 5 alone) decodes and joins; the
/// dot goes to the dot cloud and the gap 3–4 stays open — nothing fills it
/// (D4, I3). The replica's next event for A comes after the cloud. A later
/// delta covering 3–4 closes the gap and the context compacts to `1..=5`.
#[test]
fn b11_a_delta_ahead_of_the_context_is_accepted_without_filling_the_gap() {
    let mut x = OrSet::new();
    x.insert(A, "milk".to_string());
    x.insert(A, "eggs".to_string());
    let gapped = W::of::<OrSet<String>>()
        .v(1)
        .str("late")
        .v(1)
        .dot(1, 5)
        .ctx(&[(1, &[(5, 5)])])
        .bytes();
    let d = decode::<OrSet<String>>(&gapped).unwrap();
    assert_eq!(d.context().ranges().collect::<Vec<_>>(), [(A, 5, 5)]);
    assert_eq!(encoding::join_encoded(&mut x, &gapped), Ok(true));
    x.check_read();
    assert!(x.contains(&"late".to_string()));
    let cx = x.context();
    assert_eq!(cx.ranges().collect::<Vec<_>>(), [(A, 1, 2), (A, 5, 5)]);
    assert_eq!(cx.vector().get(A), 2);
    assert!(!cx.contains(dot(1, 3)) && !cx.contains(dot(1, 4)));
    assert_eq!(cx.cloud().collect::<Vec<_>>(), [dot(1, 5)]);
    assert_eq!(cx.next_dot(A), dot(1, 6));
    // The gap's events arrive (here: a remove that observed them, a
    // context-only delta).
    let filler = W::of::<OrSet<String>>().v(0).ctx(&[(1, &[(3, 4)])]).bytes();
    assert_eq!(encoding::join_encoded(&mut x, &filler), Ok(true));
    assert_eq!(x.context().ranges().collect::<Vec<_>>(), [(A, 1, 5)]);
    assert_eq!(x.len(), 3);
    // A sequence delta with a gap in its own replica's ids (B17): accepted
    // the same way.
    let gapped = item(W::of::<Text>().v(2), (1, 1), 2, None, None, text("ab"));
    let gapped = item(gapped, (1, 7), 1, Some((1, 2)), None, text("x"))
        .v(0)
        .bytes();
    let t = decode::<Text>(&gapped).unwrap();
    assert_eq!(t.to_string(), "abx");
    assert_eq!(
        t.context().ranges().collect::<Vec<_>>(),
        [(A, 1, 2), (A, 7, 7)]
    );
}

/// B11 in the sync protocol, where contiguity is required: a delta interval
/// that starts after what the receiver acknowledged to its sender decodes
/// (the bytes are fine) and `Node::receive` rejects it with
/// `SyncError::Gap` naming the sender, the acknowledged end and the start;
/// the node (state, counters, buffer) is unchanged. From the acknowledged
/// point the same payload is joined and acknowledged; an interval that
/// ends before it starts is `EmptyInterval`.
#[test]
fn b11_a_sync_interval_with_a_gap_is_a_gap_error_and_the_node_is_unchanged() {
    type Set = OrSet<String>;
    let mut y: Node<Set> = Node::new(B, [A], SyncConfig::default());
    y.update(|s, r| s.insert(r, "mine".to_string()));
    let mut src = Set::new();
    let delta = src.insert(A, "milk".to_string());
    let wire = |start, end| {
        let m = Message::Deltas {
            from: A,
            start,
            end,
            delta: delta.clone(),
        };
        decode::<Message<Set>>(&enc(&m)).unwrap()
    };
    let (before, buffered) = (y.durable(), y.buffered());
    assert_eq!(
        y.receive(wire(5, 6)),
        Err(SyncError::Gap {
            from: A,
            acknowledged: 0,
            start: 5
        })
    );
    assert_eq!((y.durable(), y.buffered()), (before.clone(), buffered));
    assert_eq!(
        y.receive(wire(3, 2)),
        Err(SyncError::EmptyInterval { from: A })
    );
    assert_eq!((y.durable(), y.buffered()), (before, buffered));
    assert_eq!(
        y.receive(wire(0, 6)),
        Ok(vec![Message::Ack { from: B, upto: 6 }])
    );
    assert!(y.state().contains(&"milk".to_string()));
    assert_eq!(y.acked_to(A), 6);
    let before = y.durable();
    assert_eq!(
        y.receive(wire(7, 8)),
        Err(SyncError::Gap {
            from: A,
            acknowledged: 6,
            start: 7
        })
    );
    assert_eq!(y.durable(), before);
}

// ===========================================================================
// B12–B15: counters and clocks at their extremes
// ===========================================================================

/// B12: G-counter entries at `u64::MAX` from a peer decode and join (join
/// is the maximum: two states at the maximum stay there); `value()` is
/// exact in `u128`; a local increment of such an entry is an
/// `OverflowError` naming it and changes nothing.
#[test]
fn b12_gcounter_entries_at_u64_max_decode_join_and_read_exactly() {
    let max = u64::MAX;
    let bytes = W::of::<GCounter>().vv(&[(1, max), (2, max)]).bytes();
    let g = decode::<GCounter>(&bytes).unwrap();
    assert_eq!(g.value(), 2 * u128::from(max));
    let mut x = GCounter::new();
    x.increment(A, 5).unwrap();
    x.increment(C, 7).unwrap();
    assert_eq!(encoding::join_encoded(&mut x, &bytes), Ok(true));
    assert_eq!(encoding::join_encoded(&mut x, &bytes), Ok(false));
    let other = W::of::<GCounter>().vv(&[(2, max), (3, max)]).bytes();
    assert_eq!(encoding::join_encoded(&mut x, &other), Ok(true));
    assert_eq!(x.value(), 3 * u128::from(max));
    let before = x.clone();
    let e = x.increment(A, 1).unwrap_err();
    assert_eq!((e.replica, e.current, e.amount), (A, max, 1));
    assert_unchanged(&before, &x);
    assert_eq!(
        decode::<GCounter>(&enc(&x)).unwrap().value(),
        3 * u128::from(max)
    );
}

/// B13: PN-counters with both halves at the extremes, and causal counters
/// whose entries are at `u64::MAX`, decode and read exactly in `i128`.
#[test]
fn b13_pn_and_causal_counters_at_the_extremes_read_exactly() {
    let max = u64::MAX;
    let m = i128::from(max);
    let up = W::of::<PnCounter>()
        .vv(&[(1, max), (2, max)])
        .vv(&[(3, max)])
        .bytes();
    let down = W::of::<PnCounter>()
        .vv(&[])
        .vv(&[(1, max), (2, max), (3, max)])
        .bytes();
    assert_eq!(decode::<PnCounter>(&up).unwrap().value(), m);
    assert_eq!(decode::<PnCounter>(&down).unwrap().value(), -3 * m);
    let mut x = decode::<PnCounter>(&up).unwrap();
    assert_eq!(encoding::join_encoded(&mut x, &down), Ok(true));
    assert_eq!(x.value(), -m);
    // CausalCounter: [n] (dot, (inc, dec)), context.
    let cc = |a: (u64, u64), b: (u64, u64)| {
        W::of::<CausalCounter>()
            .v(2)
            .dot(1, 1)
            .v(a.0)
            .v(a.1)
            .dot(2, 1)
            .v(b.0)
            .v(b.1)
            .ctx(&[(1, &[(1, 1)]), (2, &[(1, 1)])])
            .bytes()
    };
    assert_eq!(
        decode::<CausalCounter>(&cc((max, 0), (0, max)))
            .unwrap()
            .value(),
        0
    );
    assert_eq!(
        decode::<CausalCounter>(&cc((max, 0), (max, 0)))
            .unwrap()
            .value(),
        2 * m
    );
    assert_eq!(
        decode::<CausalCounter>(&cc((0, max), (0, max)))
            .unwrap()
            .value(),
        -2 * m
    );
    let mut y = decode::<CausalCounter>(&cc((max, 0), (max, 0))).unwrap();
    let before = y.clone();
    assert!(y.increment(A, 1).is_err());
    assert_unchanged(&before, &y);
}

/// B14 (W2): bytes of an LWW register whose winning write has the same
/// stamp `(timestamp, replica)` as the replica's but another value (a
/// reused replica id, or a forged write) are valid alone and decode;
/// `join_encoded` rejects them with `ConflictingWrite` naming the stamp and
/// leaves the replica unchanged. A plain `join` still commutes.
#[test]
fn b14_lww_equal_stamp_different_value_is_conflicting_write() {
    let mut x = LwwRegister::new();
    x.write(A, "away".to_string(), 10).unwrap();
    // Some((Stamp { timestamp: 10, replica: 1 }, "busy")), seen [(1, 10)]
    let forged = W::of::<LwwRegister<String>>()
        .raw(&[1])
        .v(10)
        .v(1)
        .str("busy")
        .vv(&[(1, 10)])
        .bytes();
    let y = decode::<LwwRegister<String>>(&forged).unwrap();
    assert_join_rejects(
        &x,
        &forged,
        &Limits::DEFAULT,
        &invalid(InvariantViolation::ConflictingWrite {
            timestamp: 10,
            replica: A,
        }),
    );
    assert_eq!(x.clone().joined(y.clone()), y.joined(x));
    // The same bytes with the same value are a duplicate, not a conflict.
    let mut z = LwwRegister::new();
    z.write(A, "busy".to_string(), 10).unwrap();
    assert_eq!(encoding::join_encoded(&mut z, &forged), Ok(false));
}

/// B15: a write stamped `u64::MAX` (far in the future) is accepted and wins
/// (documented: there is no clock-skew bound); after it no later write
/// exists, so a local write is an `OverflowError` and changes nothing.
#[test]
fn b15_a_far_future_lww_timestamp_is_accepted_and_local_writes_then_overflow() {
    let future = W::of::<LwwRegister<String>>()
        .raw(&[1])
        .v(u64::MAX)
        .v(2)
        .str("future")
        .vv(&[(2, u64::MAX)])
        .bytes();
    let mut x = <LwwRegister<String> as Subject>::corpus().pop().unwrap();
    assert_eq!(encoding::join_encoded(&mut x, &future), Ok(true));
    assert_eq!(x.value(), Some(&"future".to_string()));
    assert_eq!(x.stamp().unwrap().timestamp, u64::MAX);
    let before = x.clone();
    let e = x.write(A, "now".to_string(), 5).unwrap_err();
    assert_eq!((e.replica, e.current, e.amount), (A, u64::MAX, 1));
    assert_unchanged(&before, &x);
    // One below the maximum: the next local write takes the maximum.
    let almost = W::of::<LwwRegister<String>>()
        .raw(&[1])
        .v(u64::MAX - 1)
        .v(2)
        .str("soon")
        .vv(&[(2, u64::MAX - 1)])
        .bytes();
    let mut y = decode::<LwwRegister<String>>(&almost).unwrap();
    y.write(A, "now".to_string(), 5).unwrap();
    assert_eq!(y.stamp().unwrap().timestamp, u64::MAX);
}

// ===========================================================================
// B16–B18: sequences
// ===========================================================================

/// B16: C types "abc" one char at a time; the receiver gets the three
/// deltas as bytes in reverse order. Each item whose origin is unknown
/// waits (pending), invisible, and is never placed at a guessed position;
/// when the first arrives, all land in order and nothing is pending. The
/// receiver also holds its own text, which is untouched meanwhile.
#[test]
fn b16_sequence_items_with_unknown_origins_wait_and_are_never_misplaced() {
    let mut src = Text::new();
    let deltas = [
        enc(&src.insert(C, 0, "a").unwrap()),
        enc(&src.insert(C, 1, "b").unwrap()),
        enc(&src.insert(C, 2, "c").unwrap()),
    ];
    let mut dst = Text::new();
    dst.insert(A, 0, "xyz").unwrap();
    let expected = dst.clone().joined(src.clone());
    for (waiting, bytes) in deltas.iter().rev().enumerate().take(2) {
        assert_eq!(encoding::join_encoded(&mut dst, bytes), Ok(true));
        assert_eq!(dst.to_string(), "xyz");
        assert_eq!(dst.pending_len(), waiting + 1);
        dst.check_read();
        // The waiting items are part of the state: they re-encode and
        // decode to the same state.
        assert_eq!(decode::<Text>(&enc(&dst)).unwrap(), dst);
    }
    assert_eq!(encoding::join_encoded(&mut dst, &deltas[0]), Ok(true));
    assert_eq!(dst.pending_len(), 0);
    assert_eq!(dst, expected);
    assert_eq!(dst.to_string(), expected.to_string());

    // The same for a list, with an origin that never arrives: the item
    // waits for good, and the list reads as if it were absent.
    let bytes = W::of::<List<u64>>()
        .v(1)
        .dot(9, 1)
        .v(1)
        .opt_dot(Some((8, 5)))
        .opt_dot(None)
        .raw(&[1])
        .v(1)
        .v(42)
        .v(0)
        .bytes();
    let mut l = <List<u64> as Subject>::corpus().pop().unwrap();
    let visible = l.to_vec();
    assert_eq!(encoding::join_encoded(&mut l, &bytes), Ok(true));
    assert_eq!(l.to_vec(), visible);
    assert_eq!(l.pending_len(), 1);
    assert_eq!(decode::<List<u64>>(&enc(&l)).unwrap(), l);
}

/// B16 with a bound: a replica configured to hold at most one waiting run
/// rejects bytes that would leave two waiting (`PendingLimit`), unchanged.
#[test]
fn b16_waiting_items_beyond_the_pending_limit_are_rejected() {
    let two = item(
        W::of::<Text>().v(2),
        (9, 1),
        1,
        Some((8, 1)),
        None,
        text("p"),
    );
    let two = item(two, (9, 3), 1, Some((8, 2)), None, text("q"))
        .v(0)
        .bytes();
    assert_eq!(decode::<Text>(&two).unwrap().pending_len(), 2);
    let mut t = Text::with_pending_limit(1);
    t.insert(A, 0, "kept").unwrap();
    assert_join_rejects(
        &t,
        &two,
        &Limits::DEFAULT,
        &invalid(InvariantViolation::PendingLimit { limit: 1 }),
    );
}

/// B17: two items with one id (a run overlapping another, a run repeated,
/// an item id reused by a delete, two overlapping delete runs) are
/// `DuplicateDot` naming the first repeated unit. (A gap in one replica's
/// ids is accepted: see B11.)
#[test]
fn b17_two_items_or_deletes_with_one_id_are_duplicate_dot() {
    let dup = |r, c| invalid(InvariantViolation::DuplicateDot { dot: dot(r, c) });
    let ab = |n| item(W::of::<Text>().v(n), (1, 1), 2, None, None, text("ab"));
    let overlap = item(ab(2), (1, 2), 1, Some((1, 1)), None, text("x"))
        .v(0)
        .bytes();
    assert_rejects::<Text>(&overlap, &dup(1, 2));
    let repeated = item(ab(2), (1, 1), 2, None, None, text("ab")).v(0).bytes();
    assert_rejects::<Text>(&repeated, &dup(1, 1));
    let reused = del(ab(1).v(1), (1, 2), 1, (9, 1), false).bytes();
    assert_rejects::<Text>(&reused, &dup(1, 2));
    let deletes = del(
        del(ab(1).v(2), (2, 1), 2, (9, 1), false),
        (2, 2),
        1,
        (9, 5),
        false,
    );
    assert_rejects::<Text>(&deletes.bytes(), &dup(2, 2));
    // The same in a list.
    let list = W::of::<List<u64>>()
        .v(2)
        .dot(1, 1)
        .v(1)
        .raw(&[0, 0, 1])
        .v(1)
        .v(7)
        .dot(1, 1)
        .v(1)
        .raw(&[0, 0, 1])
        .v(1)
        .v(8)
        .v(0)
        .bytes();
    assert_rejects::<List<u64>>(&list, &dup(1, 1));
}

/// B18: delete runs and item runs whose `counter + len` would leave the
/// counter space (or wrap a `u64`), zero or oversized lengths, backwards
/// runs longer than their target, lengths that disagree with the content,
/// tombstones without a delete, and more units in all than the crate holds
/// are errors naming the run — never an arithmetic panic.
#[test]
fn b18_runs_overflowing_the_counter_space_are_malformed_items() {
    let max = Dot::MAX_COUNTER;
    let mal = |r, c| invalid(InvariantViolation::MalformedItem { dot: dot(r, c) });
    let dels = |dot: (u64, u64), len: u64, target: (u64, u64), reversed: bool| {
        del(W::of::<Text>().v(0).v(1), dot, len, target, reversed).bytes()
    };
    assert_rejects::<Text>(&dels((2, max), 2, (9, 1), false), &mal(2, max));
    assert_rejects::<Text>(&dels((2, 1), 0, (9, 1), false), &mal(2, 1));
    assert_rejects::<Text>(&dels((2, 1), u64::MAX, (9, 1), false), &mal(2, 1));
    assert_rejects::<Text>(&dels((2, 1), 2, (9, max), false), &mal(2, 1));
    assert_rejects::<Text>(&dels((2, 1), 2, (9, u64::MAX), false), &mal(2, 1));
    assert_rejects::<Text>(&dels((2, 1), 3, (9, 2), true), &mal(2, 1));
    assert_rejects::<Text>(&dels((2, 1), 1, (9, 2), true), &mal(2, 1));
    assert_rejects::<Text>(&dels((2, max + 1), 1, (9, 1), false), &mal(2, max + 1));
    assert!(decode::<Text>(&dels((2, 1), 2, (9, 2), true)).is_ok());
    assert!(decode::<Text>(&dels((2, max), 1, (9, max), false)).is_ok());
    let zero = |r| {
        invalid(InvariantViolation::ZeroDot {
            replica: ReplicaId::new(r),
        })
    };
    assert_rejects::<Text>(&dels((2, 0), 1, (9, 1), false), &zero(2));

    let items = |id: (u64, u64), len: u64, content: &str| {
        item(W::of::<Text>().v(1), id, len, None, None, text(content))
            .v(0)
            .bytes()
    };
    // A run longer than the crate's unit bound is that error first.
    assert_rejects::<Text>(
        &items((1, 1), u64::MAX, "a"),
        &invalid(InvariantViolation::SequenceTooLong { limit: max }),
    );
    assert_rejects::<Text>(&items((1, max), 2, "ab"), &mal(1, max));
    assert_rejects::<Text>(&items((1, max + 1), 1, "a"), &mal(1, max + 1));
    assert_rejects::<Text>(&items((1, 1), 0, ""), &mal(1, 1));
    assert_rejects::<Text>(&items((1, 1), 3, "ab"), &mal(1, 1));
    assert_rejects::<Text>(&items((1, 0), 1, "a"), &zero(1));
    // A tombstone no delete explains; a live item a delete covers.
    let tomb = item(W::of::<Text>().v(1), (1, 1), 1, None, None, dead)
        .v(0)
        .bytes();
    assert_rejects::<Text>(&tomb, &mal(1, 1));
    let live = del(
        item(W::of::<Text>().v(1), (1, 1), 1, None, None, text("a")).v(1),
        (2, 1),
        1,
        (1, 1),
        false,
    )
    .bytes();
    assert_rejects::<Text>(&live, &mal(1, 1));
    // An origin on the item's own replica at or after it.
    let selfish = item(
        W::of::<Text>().v(1),
        (1, 3),
        1,
        Some((1, 3)),
        None,
        text("a"),
    )
    .v(0)
    .bytes();
    assert_rejects::<Text>(
        &selfish,
        &invalid(InvariantViolation::ImpossibleOrigin { dot: dot(1, 3) }),
    );
    // Two tombstone runs of 2^62 units each: more than the crate holds.
    let huge = item(W::of::<Text>().v(2), (7, 1), max, None, None, dead);
    let huge = item(huge, (8, 1), max, None, None, dead).v(0).bytes();
    assert_rejects::<Text>(
        &huge,
        &invalid(InvariantViolation::SequenceTooLong { limit: max }),
    );
    // The local API: ranges past the end are index errors.
    let mut t = <Text as Subject>::corpus().pop().unwrap();
    let before = t.clone();
    assert!(t.delete(A, 0..usize::MAX).is_err());
    assert!(t.delete(A, usize::MAX - 1..usize::MAX).is_err());
    assert_unchanged(&before, &t);
}

/// B18: a dot with counter 0 is `ZeroDot` naming the replica of that dot:
/// a delete run's own dot, an item's origin, and a delete run's target.
#[test]
fn b18_a_zero_counter_names_the_replica_of_the_zero_dot() {
    let zero = |r| {
        invalid(InvariantViolation::ZeroDot {
            replica: ReplicaId::new(r),
        })
    };
    let origin = item(
        W::of::<Text>().v(1),
        (1, 1),
        1,
        Some((5, 0)),
        None,
        text("a"),
    )
    .v(0)
    .bytes();
    assert_rejects::<Text>(&origin, &zero(5));
    let own = del(W::of::<Text>().v(0).v(1), (2, 0), 1, (9, 1), false).bytes();
    assert_rejects::<Text>(&own, &zero(2));
    let target = del(W::of::<Text>().v(0).v(1), (2, 1), 1, (9, 0), false).bytes();
    assert_rejects::<Text>(&target, &zero(9));
}

/// B18/C4 for run-length content: 40 bytes describe a tombstone run of
/// 2^62 units (the most a sequence holds) and the delete run that explains
/// it. The state stays run-length in memory (a few KiB, not 2^62 of
/// anything). Joined into a text that holds anything, it would exceed the
/// unit bound (`SequenceTooLong`, text unchanged); a run 1,000 units
/// shorter joins, keeps the visible text, and the text stays editable.
#[test]
fn b18_a_deleted_run_of_2_pow_62_units_stays_run_length_in_memory() {
    let max = Dot::MAX_COUNTER;
    let run = |len: u64| {
        del(
            item(W::of::<Text>().v(1), (7, 1), len, None, None, dead).v(1),
            (8, 1),
            len,
            (7, 1),
            false,
        )
        .bytes()
    };
    let bytes = run(max);
    assert!(bytes.len() < 48, "{}", bytes.len());
    let (t, peak) = measure(|| decode::<Text>(&bytes).unwrap());
    assert!(peak < 16 * 1024, "peak {peak}");
    assert_eq!((t.len(), t.to_string().as_str()), (0, ""));
    assert!(t.heap_bytes() < 16 * 1024);
    assert_eq!(decode::<Text>(&enc(&t)).unwrap(), t);
    let x = <Text as Subject>::corpus().pop().unwrap();
    assert_join_rejects(
        &x,
        &bytes,
        &Limits::DEFAULT,
        &invalid(InvariantViolation::SequenceTooLong { limit: max }),
    );
    let mut x = x;
    let visible = x.to_string();
    let bytes = run(max - 1000);
    let (r, peak) = measure(|| encoding::join_encoded(&mut x, &bytes));
    assert_eq!(r, Ok(true));
    assert!(peak < 64 * 1024, "join peak {peak}");
    assert_eq!(x.to_string(), visible);
    x.insert(A, 0, ">").unwrap();
    assert_eq!(x.to_string(), format!(">{visible}"));
    x.check_read();
}

// ===========================================================================
// B19: text that is not Unicode
// ===========================================================================

/// B19: invalid UTF-8 — a stray byte, a surrogate half in CESU-8 form, an
/// overlong form, a cut multi-byte char, a code point above U+10FFFF — in
/// text content, set elements, map keys, register values and a message's
/// text is `InvalidUtf8`; a `char` that is not a Unicode scalar value
/// (a surrogate, above U+10FFFF) is `InvalidUtf8` too, and one wider than
/// 32 bits is `InvalidVarint`.
#[test]
fn b19_invalid_utf8_and_surrogates_are_invalid_utf8() {
    let bad = DecodeError::InvalidUtf8;
    let strings: [&[u8]; 6] = [
        &[0xff],
        &[0xed, 0xa0, 0x80],
        &[0xed, 0xbf, 0xbf],
        &[0xc0, 0x80],
        &[0xe2, 0x82],
        &[0xf4, 0x90, 0x80, 0x80],
    ];
    for s in strings {
        let raw = |w: W| w.v(s.len() as u64).raw(s);
        // Text: one live item of one unit, the content the bad string.
        let t = W::of::<Text>().v(1).dot(1, 1).v(1).raw(&[0, 0, 1]);
        assert_rejects::<Text>(&raw(t).v(0).bytes(), &bad);
        let m = W::of::<Message<Text>>()
            .v(3)
            .v(1)
            .v(1)
            .v(1)
            .dot(1, 1)
            .v(1)
            .raw(&[0, 0, 1]);
        assert_rejects::<Message<Text>>(&raw(m).v(0).bytes(), &bad);
        let set = raw(W::of::<OrSet<String>>().v(1))
            .v(1)
            .dot(1, 1)
            .ctx(&[(1, &[(1, 1)])]);
        assert_rejects::<OrSet<String>>(&set.bytes(), &bad);
        let mv = raw(W::of::<MvRegister<String>>().v(1).dot(1, 1)).ctx(&[(1, &[(1, 1)])]);
        assert_rejects::<MvRegister<String>>(&mv.bytes(), &bad);
        let lww = raw(W::of::<LwwRegister<String>>().raw(&[1]).v(1).v(1)).vv(&[(1, 1)]);
        assert_rejects::<LwwRegister<String>>(&lww.bytes(), &bad);
        let map = raw(W::of::<MapMv>().v(1))
            .v(1)
            .dot(1, 1)
            .v(0)
            .v(0)
            .ctx(&[(1, &[(1, 1)])]);
        assert_rejects::<MapMv>(&map.bytes(), &bad);
    }
    // List<char>: [n] items (id, len, left, right, Some([k] k × char)); a
    // char is a varint of its code point.
    let chars = |c: u64| {
        W::of::<List<char>>()
            .v(1)
            .dot(1, 1)
            .v(1)
            .raw(&[0, 0, 1])
            .v(1)
            .v(c)
            .v(0)
            .bytes()
    };
    for c in [
        0xd800,
        0xdbff,
        0xdc00,
        0xdfff,
        0x11_0000,
        u64::from(u32::MAX),
    ] {
        assert_rejects::<List<char>>(&chars(c), &bad);
    }
    assert_rejects::<List<char>>(&chars(1 << 32), &DecodeError::InvalidVarint);
    let ok = decode::<List<char>>(&chars(0x10_ffff)).unwrap();
    assert_eq!(ok.to_vec(), ['\u{10FFFF}']);
}

// ===========================================================================
// B20: a million replicas
// ===========================================================================

const MILLION: u64 = 1_000_000;

/// Decodes a B20 input and reports its peak heap per input byte.
fn b20_decode<T: Subject>(bytes: &[u8]) -> T {
    let (x, peak) = measure(|| decode::<T>(bytes).unwrap());
    eprintln!(
        "B20 {}: {} bytes, peak {} bytes, {:.2} per input byte",
        T::NAME,
        bytes.len(),
        peak,
        peak as f64 / bytes.len() as f64
    );
    x
}

/// B20 for G-counters and version vectors: 10^6 distinct replicas (ids
/// `i · 2^35`, eight bytes each, value 1000: ten bytes an entry, 10 MB)
/// decode within the C4 bound and read exactly; a second such state whose
/// replicas interleave with the first joins into it (a merge walk: 2 · 10^6
/// entries).
#[test]
fn b20_a_million_replicas_in_a_gcounter_and_a_version_vector() {
    let bytes = |tag: u8, offset: u64| {
        let mut w = W::header(tag).v(MILLION);
        for i in 1..=MILLION {
            w = w.v((i << 35) | offset).v(1000);
        }
        w.bytes()
    };
    let first = bytes(GCounter::TYPE_TAG, 0);
    assert!(
        (9_900_000..10_100_000).contains(&first.len()),
        "{}",
        first.len()
    );
    let mut g = b20_decode::<GCounter>(&first);
    assert_eq!(
        (g.value(), g.entries().len()),
        (1000 * u128::from(MILLION), MILLION as usize)
    );
    let second = bytes(GCounter::TYPE_TAG, 1 << 34);
    assert_eq!(encoding::join_encoded(&mut g, &second), Ok(true));
    assert_eq!(g.value(), 2000 * u128::from(MILLION));
    assert_eq!(g.entries().len(), 2 * MILLION as usize);
    let v = b20_decode::<VersionVector>(&bytes(VersionVector::TYPE_TAG, 0));
    assert_eq!(v.len(), MILLION as usize);
}

/// B20 for causal contexts: 10^6 replicas (ids `i · 2^21`, six bytes) with
/// one range `1..=1000` each: ten bytes a replica, 10 MB.
#[test]
fn b20_a_million_replicas_in_a_causal_context() {
    let mut w = W::of::<CausalContext>().v(MILLION);
    for i in 1..=MILLION {
        w = w.v(i << 21).v(1).v(1).v(1000);
    }
    let bytes = w.bytes();
    let cx = b20_decode::<CausalContext>(&bytes);
    assert_eq!(cx.dot_count(), 1000 * MILLION);
    assert_eq!(cx.vector().len(), MILLION as usize);
}

/// B20 for an OR-set: one element added concurrently by 10^6 replicas (a
/// dot each) — four bytes a dot, six a context entry: 10 MB.
#[test]
fn b20_a_million_replicas_adding_one_set_element() {
    let mut w = W::of::<OrSet<String>>().v(1).str("x").v(MILLION);
    for i in 1..=MILLION {
        w = w.dot(i, 1);
    }
    w = w.v(MILLION);
    for i in 1..=MILLION {
        w = w.v(i).v(1).v(1).v(1);
    }
    let bytes = w.bytes();
    let mut s = b20_decode::<OrSet<String>>(&bytes);
    assert_eq!(s.len(), 1);
    // A remove that observed them all removes the element.
    let removal = s.clone().remove(&"x".to_string());
    let mut t = s.clone();
    assert_eq!(encoding::join_encoded(&mut t, &enc(&removal)), Ok(true));
    assert!(t.is_empty());
    assert_eq!(encoding::join_encoded(&mut s, &bytes), Ok(false));
}

/// B20 for a multi-value register: 10^6 concurrent siblings, one per
/// replica (five bytes a sibling, six a context entry: 11 MB).
#[test]
fn b20_a_million_concurrent_register_siblings() {
    let mut w = W::of::<MvRegister<String>>().v(MILLION);
    for i in 1..=MILLION {
        w = w.dot(i, 1).str("");
    }
    w = w.v(MILLION);
    for i in 1..=MILLION {
        w = w.v(i).v(1).v(1).v(1);
    }
    let r = b20_decode::<MvRegister<String>>(&w.bytes());
    assert_eq!(r.values().len(), MILLION as usize);
    assert!(r.is_conflicted() && r.value().is_none());
}

/// C2, determinism: the same bytes are rejected with the same error each
/// time they are decoded — an OR-set whose two elements both carry a dot the
/// context lacks; a map whose keys break two different invariants; a nested
/// map with two bad inner keys. (Found by B21: the store was checked in the
/// iteration order of its hash map, whose hasher is seeded per map, so one
/// input was `ZeroDot` on one decode and `DotNotInContext` on the next.)
#[test]
fn c2_the_same_bytes_are_rejected_with_the_same_violation() {
    fn same_error_every_time<T: Subject>(bytes: &[u8]) {
        let errors: std::collections::BTreeSet<String> = (0..64)
            .map(|_| format!("{:?}", decode::<T>(bytes).unwrap_err()))
            .collect();
        assert_eq!(errors.len(), 1, "{}: {errors:?}", T::NAME);
    }
    // Two elements, each with a dot the context lacks.
    let set = W::of::<OrSet<String>>()
        .v(2)
        .str("a")
        .v(1)
        .dot(1, 1)
        .str("b")
        .v(1)
        .dot(2, 1)
        .ctx(&[])
        .bytes();
    same_error_every_time::<OrSet<String>>(&set);
    // Two keys breaking different invariants: a zero dot under "a", an
    // uncovered nested dot under "b".
    let map = W::of::<MapMv>()
        .v(2)
        .str("a")
        .v(1)
        .dot(1, 0)
        .v(0)
        .v(0)
        .str("b")
        .v(1)
        .dot(1, 1)
        .v(0)
        .v(1)
        .dot(3, 9)
        .str("v")
        .ctx(&[(1, &[(1, 1)])])
        .bytes();
    same_error_every_time::<MapMv>(&map);
    // Nested: two inner keys, each with an uncovered dot.
    let nested = W::of::<MapNested>()
        .v(1)
        .str("doc")
        .v(1)
        .dot(1, 1)
        .v(0)
        .v(2)
        .str("x")
        .v(1)
        .dot(4, 1)
        .v(0)
        .v(0)
        .str("y")
        .v(1)
        .dot(5, 1)
        .v(0)
        .v(0)
        .ctx(&[(1, &[(1, 1)])])
        .bytes();
    same_error_every_time::<MapNested>(&nested);
}

/// C2, determinism, for remove markers: an observed-reset map (no remove
/// markers allowed) whose keys "a" and "b" both hold one (`2:1`, `2:2`) is
/// `UnexpectedRemoveMarker`, and must name the same marker on every decode.
/// (Found by B21 on a nested map: `OrMap::check_type_invariants` reported
/// the first entry met in hash-map order; it now reports the least marker.)
#[test]
fn c2_the_same_remove_marker_is_named_every_time() {
    let markers = |w: W| {
        w.v(2)
            .str("a")
            .v(1)
            .dot(1, 1)
            .v(1)
            .dot(2, 1)
            .v(0)
            .str("b")
            .v(1)
            .dot(1, 2)
            .v(1)
            .dot(2, 2)
            .v(0)
    };
    let ctx: &[(u64, &[(u64, u64)])] = &[(1, &[(1, 2)]), (2, &[(1, 2)])];
    let top = markers(W::of::<MapMv>()).ctx(ctx).bytes();
    // The same map nested under the key "doc" (presence 1:3).
    let nested = markers(W::of::<MapNested>().v(1).str("doc").v(1).dot(1, 3).v(0))
        .ctx(&[(1, &[(1, 3)]), (2, &[(1, 2)])])
        .bytes();
    for _ in 0..64 {
        assert_eq!(
            decode::<MapMv>(&top).unwrap_err(),
            invalid(InvariantViolation::UnexpectedRemoveMarker { dot: dot(2, 1) })
        );
        assert_eq!(
            decode::<MapNested>(&nested).unwrap_err(),
            invalid(InvariantViolation::UnexpectedRemoveMarker { dot: dot(2, 1) })
        );
    }
}

// ===========================================================================
// B21: random and mutated bytes
// ===========================================================================

/// One to three edits of `seed`: bit flips, special bytes, insertions,
/// deletions, extreme varints, truncation, a chunk of another encoding of
/// the type spliced in, a chunk repeated, a byte nudged by one. The header
/// is kept but for one edit in 32.
fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let h = encoding::HEADER_LEN;
    let mut b = seed.to_vec();
    for _ in 0..1 + rng.below(3) {
        let start = if rng.below(32) == 0 {
            0
        } else {
            h.min(b.len())
        };
        let pos = start + rng.below(b.len() - start + 1);
        let at = pos < b.len();
        match rng.below(9) {
            0 if at => b[pos] ^= 1 << rng.below(8),
            1 if at => b[pos] = [0, 1, 0x7f, 0x80, 0xff, rng.byte()][rng.below(6)],
            2 => b.insert(pos, rng.byte()),
            3 if at => {
                let end = (pos + 1 + rng.below(4)).min(b.len());
                b.drain(pos..end);
            }
            4 => {
                let extremes = [
                    u64::MAX,
                    1 << 62,
                    (1 << 62) + 1,
                    1 << 40,
                    1 << 30,
                    (1 << 30) + 1,
                    0,
                    1,
                    127,
                    128,
                ];
                let v = W::default().v(extremes[rng.below(extremes.len())]).bytes();
                let end = (pos + 1).min(b.len());
                b.splice(pos..end, v);
            }
            5 => b.truncate(pos),
            6 if other.len() > h => {
                let s = h + rng.below(other.len() - h);
                let e = (s + 1 + rng.below(16)).min(other.len());
                b.splice(pos..pos, other[s..e].iter().copied());
            }
            7 if at => {
                let end = (pos + 1 + rng.below(8)).min(b.len());
                let chunk = b[pos..end].to_vec();
                b.splice(pos..pos, chunk);
            }
            _ if at => b[pos] = b[pos].wrapping_add(if rng.below(2) == 0 { 1 } else { 255 }),
            _ => b.push(rng.byte()),
        }
    }
    b
}

/// Inputs per type: `CONVERGE_TEST_TIER=long` runs 50× more.
fn b21_iterations() -> usize {
    match std::env::var("CONVERGE_TEST_TIER").as_deref() {
        Ok("long") => 1_000_000,
        _ => 20_000,
    }
}

/// B21 for one type: seeded random bodies (one input in eight) and
/// mutations of the corpus encodings, each decoded (no panic, C4 bound,
/// C7 on anything accepted) and joined into a corpus value (an error is the
/// decode error or an incompatibility, and changes nothing: C3; a success
/// is exactly the in-memory join). Accepted values round-trip through the
/// encoding. Returns the outcome tally; at least one mutated input is
/// accepted and at least three kinds of error occur, so the inputs reach
/// past the header.
fn fuzz<T: Subject>() -> BTreeMap<String, usize> {
    let seeds: Vec<Vec<u8>> = T::corpus().iter().map(enc).collect();
    let targets = T::corpus();
    let mut rng = Rng::new(0x00C0_FFEE ^ u64::from(T::TYPE_TAG) ^ ((T::NAME.len() as u64) << 32));
    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    for i in 0..b21_iterations() {
        let input = if i % 8 == 0 {
            let n = rng.below(48);
            let mut b = W::of::<T>().bytes();
            b.extend((0..n).map(|_| rng.byte()));
            b
        } else {
            let seed = &seeds[rng.below(seeds.len())];
            let other = &seeds[rng.below(seeds.len())];
            mutate(&mut rng, seed, other)
        };
        if seeds.contains(&input) {
            continue;
        }
        let decoded = decode::<T>(&input);
        let kind = match &decoded {
            Ok(x) => {
                let again = enc(x);
                assert_eq!(
                    decode::<T>(&again).as_ref(),
                    Ok(x),
                    "{} round trip",
                    T::NAME
                );
                if again == input {
                    "accepted".to_string()
                } else {
                    "accepted, re-encoded differently".to_string()
                }
            }
            Err(e) => format!("{e:?}")
                .split([' ', '(', '{'])
                .next()
                .unwrap()
                .to_string(),
        };
        *tally.entry(kind).or_default() += 1;
        let target = &targets[i % targets.len()];
        let mut t = target.clone();
        if let Some(joined) = t.join_bytes(&input, &Limits::DEFAULT) {
            match (decoded, joined) {
                (Err(e), Err(je)) => {
                    // The same error, to the dot it names (C2: the same
                    // bytes, the same error; see
                    // `c2_the_same_bytes_are_rejected_with_the_same_violation`).
                    assert_eq!(e, je, "{} on {input:02x?}", T::NAME);
                    assert_unchanged(target, &t);
                }
                (Ok(_), Err(DecodeError::Invalid(_))) => assert_unchanged(target, &t),
                (Ok(x), Ok(changed)) => {
                    // Exactly the in-memory join of the decoded value.
                    let mut expected = target.clone();
                    let expected_changed = expected.join_value(x);
                    assert_eq!(Some(changed), expected_changed, "{}", T::NAME);
                    assert_eq!(t, expected, "{} join result", T::NAME);
                    assert_eq!(changed, t != *target, "{} join result", T::NAME);
                    t.check_read();
                }
                (d, j) => panic!("{}: decode {d:?} but join {j:?} on {input:02x?}", T::NAME),
            }
        }
    }
    eprintln!("B21 {}: {tally:?}", T::NAME);
    assert!(
        tally.keys().any(|k| k.starts_with("accepted")),
        "{}: nothing accepted",
        T::NAME
    );
    assert!(tally.len() >= 4, "{}: {tally:?}", T::NAME);
    tally
}

macro_rules! b21_tests {
    ($($name:ident: $ty:ty,)*) => {$(
        /// B21 (C1–C7) for this type: see [`fuzz`].
        #[test]
        fn $name() {
            fuzz::<$ty>();
        }
    )*};
}

b21_tests! {
    b21_random_and_mutated_bytes_gcounter: GCounter,
    b21_random_and_mutated_bytes_pncounter: PnCounter,
    b21_random_and_mutated_bytes_causal_counter: CausalCounter,
    b21_random_and_mutated_bytes_lww_register: LwwRegister<String>,
    b21_random_and_mutated_bytes_mv_register: MvRegister<String>,
    b21_random_and_mutated_bytes_orset: OrSet<String>,
    b21_random_and_mutated_bytes_rwset: RwSet<String>,
    b21_random_and_mutated_bytes_ewflag: EwFlag,
    b21_random_and_mutated_bytes_ormap_observed_reset: MapMv,
    b21_random_and_mutated_bytes_ormap_update_wins: MapSetUw,
    b21_random_and_mutated_bytes_ormap_remove_wins: MapCounterRw,
    b21_random_and_mutated_bytes_ormap_nested: MapNested,
    b21_random_and_mutated_bytes_embedded_lww: EmbLww,
    b21_random_and_mutated_bytes_embedded_gcounter: EmbG,
    b21_random_and_mutated_bytes_list: List<u64>,
    b21_random_and_mutated_bytes_list_of_chars: List<char>,
    b21_random_and_mutated_bytes_text: Text,
    b21_random_and_mutated_bytes_version_vector: VersionVector,
    b21_random_and_mutated_bytes_causal_context: CausalContext,
    b21_random_and_mutated_bytes_message_orset: Message<OrSet<String>>,
    b21_random_and_mutated_bytes_message_pncounter: Message<PnCounter>,
    b21_random_and_mutated_bytes_message_text: Message<Text>,
}

/// Documented acceptance found by B21: a sequence accepts item runs that
/// its canonical form would merge ("a" at 1:1 and "b" at 1:2 right after
/// it, sent as two runs), decodes them to the same state as the merged run,
/// and re-encodes them merged. (Every other type's accepted mutations in
/// B21 re-encoded to the input bytes: their decoders accept the canonical
/// form only.)
#[test]
fn sequences_accept_split_runs_and_re_encode_them_merged() {
    let split = item(W::of::<Text>().v(2), (1, 1), 1, None, None, text("a"));
    let split = item(split, (1, 2), 1, Some((1, 1)), None, text("b"))
        .v(0)
        .bytes();
    let merged = item(W::of::<Text>().v(1), (1, 1), 2, None, None, text("ab"))
        .v(0)
        .bytes();
    let a = decode::<Text>(&split).unwrap();
    let b = decode::<Text>(&merged).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.to_string(), "ab");
    assert_eq!(enc(&a), merged);
}

// ===========================================================================
// B22: type confusion
// ===========================================================================

/// Every corpus encoding of `T`, with its tag and name.
fn collect_encodings<T: Subject>(out: &mut Vec<(u8, &'static str, Vec<u8>)>) {
    out.extend(T::corpus().iter().map(|x| (T::TYPE_TAG, T::NAME, enc(x))));
}

/// Decodes every encoding in `all` as `U`: another type's tag is
/// `WrongType` naming both tags (C3: joins change nothing). Records, for the
/// encodings that carry `U`'s tag but come from another type, whether they
/// decode.
fn confuse<U: Subject>(
    all: &[(u8, &'static str, Vec<u8>)],
    same_tag: &mut Vec<(&'static str, &'static str, bool)>,
) {
    for (tag, name, bytes) in all {
        if *tag != U::TYPE_TAG {
            assert_rejects::<U>(
                bytes,
                &DecodeError::WrongType {
                    expected: U::TYPE_TAG,
                    found: *tag,
                },
            );
        } else if *name != U::NAME {
            same_tag.push((name, U::NAME, decode::<U>(bytes).is_ok()));
        }
    }
}

/// B22: the encodings of every corpus value of every type, decoded as every
/// other type, are `WrongType` — the header's tag names the outer type (and
/// a map's remove policy, and which type a message wraps), so no bytes are
/// read as another type's body. The pairs that share a tag are one outer
/// type with other type parameters; what they do is listed exactly: an
/// empty value, or a remove delta (a context and no store), decodes as any
/// parameterisation (it holds nothing typed); maps and embedded values with
/// content fail; `List<char>` and `List<u64>` read each other (a `char` is
/// the varint of its code point, and these numbers are code points).
#[test]
fn b22_bytes_of_one_type_decoded_as_another_are_wrong_type() {
    let mut all = Vec::new();
    for_each_subject!(collect_encodings, &mut all);
    collect_encodings::<List<char>>(&mut all);
    let mut same_tag = Vec::new();
    for_each_subject!(confuse, &all, &mut same_tag);
    confuse::<List<char>>(&all, &mut same_tag);
    let n = "OrMap<String, MvRegister<String>>";
    let nn = "OrMap<String, OrMap<String, MvRegister<u64>>>";
    let (el, eg) = ("Embedded<LwwRegister<String>>", "Embedded<GCounter>");
    let (lc, lu) = ("List<char>", "List<u64>");
    // In corpus order: bottom first, then deltas and states.
    let expected = [
        (n, nn, "ok err ok err err"),
        (nn, n, "ok err err err"),
        (el, eg, "ok err err err"),
        (eg, el, "ok err err"),
        (lu, lc, "ok ok ok ok"),
        (lc, lu, "ok ok ok"),
    ];
    for (from, to, outcomes) in expected {
        let got: Vec<&str> = same_tag
            .iter()
            .filter(|(f, t, _)| *f == from && *t == to)
            .map(|(_, _, ok)| if *ok { "ok" } else { "err" })
            .collect();
        assert_eq!(got.join(" "), outcomes, "{from} as {to}");
    }
    assert_eq!(same_tag.len(), 23);
}

/// Decodes `bytes` as a type outside the corpus, within the C4 bound.
fn decode_plain<T: Encodable>(bytes: &[u8]) -> Result<T, DecodeError> {
    let (r, peak) = measure(|| encoding::decode::<T>(bytes));
    assert!(peak <= c4_bound(bytes.len()));
    r
}

/// B22 within one outer type: the tag does not name type parameters (they
/// are the application's schema, as in any serde format), so bytes of
/// `X<P>` offered as `X<Q>` are read as `Q`. What happens, exactly:
///
/// - a parameter whose encoding is the same reads the same value: `u8`
///   below 128, `u32` and `u64` share varints, `String` and `Vec<u8>` share
///   "length, bytes" — accepted, same content;
/// - otherwise the bytes are misparsed and fail: `OrSet<String>` bytes as
///   `OrSet<u64>` read the key's length as the key and its first letter as
///   the dot count (`Truncated`); `OrSet<u64>` bytes as `OrSet<String>`
///   read the number as a length (`Truncated`, or `InvalidUtf8`);
///   a `u8` of 128 or more read as a varint runs into the next byte.
/// - a value too wide for the narrower type is `InvalidVarint`.
///
/// An accepted value is always a valid state of the type it was read as (the
/// invariants hold); whether it means what the sender meant is the schema's
/// business.
#[test]
fn b22_same_outer_type_with_another_parameter_type() {
    // Identical encodings.
    let mut small = OrSet::new();
    small.insert(A, 7u8);
    small.insert(B, 100u8);
    let as_u64 = decode_plain::<OrSet<u64>>(&enc(&small)).unwrap();
    assert_eq!(as_u64.to_sorted_vec(), [7, 100]);
    as_u64.check_invariants().unwrap();
    let mut mv = MvRegister::new();
    mv.write(A, 70_000u32);
    assert_eq!(
        decode_plain::<MvRegister<u64>>(&enc(&mv)).unwrap().value(),
        Some(&70_000)
    );
    let mut lww = LwwRegister::new();
    lww.write(A, "hé".to_string(), 3).unwrap();
    assert_eq!(
        decode_plain::<LwwRegister<Vec<u8>>>(&enc(&lww))
            .unwrap()
            .value(),
        Some(&"hé".as_bytes().to_vec())
    );
    // Misparsed: String keys as u64 keys. Body: [1] [4 "milk"] [1 dot 1:1]
    // ctx…; as u64: key 4, dot count 'm' = 109 > bytes left.
    let mut milk = OrSet::new();
    milk.insert(A, "milk".to_string());
    assert_eq!(
        decode_plain::<OrSet<u64>>(&enc(&milk)).unwrap_err(),
        DecodeError::Truncated
    );
    // u64 keys as String keys: [1] [key 300 = ac 02] …: a string of 300
    // bytes, 8 are left.
    let mut big = OrSet::new();
    big.insert(A, 300u64);
    assert_eq!(
        decode_plain::<OrSet<String>>(&enc(&big)).unwrap_err(),
        DecodeError::Truncated
    );
    // A small u64 key as a String key. Body: [1] [key 3] [1 dot 1:1]
    // [ctx 1: (1, [(1, 1)])] = 01 03 01 01 01 01 01 01 01 01; as String:
    // a 3-byte key "\x01\x01\x01" (the dot set), then the context's bytes
    // as the dot set, and the context runs out: `Truncated`.
    let mut three = OrSet::new();
    three.insert(A, 3u64);
    assert_eq!(
        decode_plain::<OrSet<String>>(&enc(&three)).unwrap_err(),
        DecodeError::Truncated
    );
    // A u8 of 200 is the raw byte c8, a varint continuation as a u64: with
    // the next byte (the dot count, 1) it reads as 200 again, and the rest
    // shifts by one byte: `Truncated`.
    let mut wide = OrSet::new();
    wide.insert(A, 200u8);
    assert_eq!(
        decode_plain::<OrSet<u64>>(&enc(&wide)).unwrap_err(),
        DecodeError::Truncated
    );
    // Too wide for the narrower type.
    let mut mv = MvRegister::new();
    mv.write(A, u64::from(u32::MAX) + 1);
    assert_eq!(
        decode_plain::<MvRegister<u32>>(&enc(&mv)).unwrap_err(),
        DecodeError::InvalidVarint
    );
    // Messages: the tag names the payload's outer type only, like states.
    let m = Message::State {
        from: A,
        end: 1,
        state: milk,
    };
    assert_eq!(
        decode_plain::<Message<OrSet<u64>>>(&enc(&m)).unwrap_err(),
        DecodeError::Truncated
    );
}

// ===========================================================================
// B23: the input-size limit
// ===========================================================================

/// B23: an input longer than `Limits::max_bytes` is `TooLarge` naming its
/// length and the limit, before anything is read (the header is not even
/// looked at, and nothing is allocated); the replica is unchanged. At the
/// limit it is accepted.
#[test]
fn b23_input_above_max_bytes_is_too_large_and_changes_nothing() {
    fn check<T: Subject>() {
        for x in T::corpus() {
            let bytes = enc(&x);
            let n = bytes.len();
            assert_rejects_with::<T>(
                &bytes,
                &Limits::DEFAULT.with_max_bytes(n - 1),
                &DecodeError::TooLarge {
                    len: n,
                    limit: n - 1,
                },
            );
            assert_eq!(
                decode_checked::<T>(&bytes, &Limits::DEFAULT.with_max_bytes(n)).unwrap(),
                x
            );
        }
        let garbage = vec![0xffu8; 100];
        assert_rejects_with::<T>(
            &garbage,
            &Limits::DEFAULT.with_max_bytes(10),
            &DecodeError::TooLarge {
                len: 100,
                limit: 10,
            },
        );
    }
    for_each_subject!(check);
    // A validated-looking but huge remote state (100,000 replicas, 600 KB)
    // against a 64 KiB limit: rejected without allocating.
    let mut w = W::of::<GCounter>().v(100_000);
    for i in 1..=100_000u64 {
        w = w.v(i << 20).v(1);
    }
    let bytes = w.bytes();
    let limits = Limits::DEFAULT.with_max_bytes(64 * 1024);
    let mut g = <GCounter as Subject>::corpus().pop().unwrap();
    let before = g.clone();
    let (r, peak) = measure(|| encoding::join_encoded_with(&mut g, &bytes, &limits));
    assert_eq!(
        r,
        Err(DecodeError::TooLarge {
            len: bytes.len(),
            limit: 64 * 1024
        })
    );
    assert_eq!(peak, 0);
    assert_unchanged(&before, &g);
}

// ===========================================================================
// C4: adversarial inputs that maximise memory per input byte
// ===========================================================================

/// One adversarial input and whether it is valid.
struct Flood {
    what: &'static str,
    bytes: Vec<u8>,
    valid: bool,
}

/// A count of elements filling about `bytes` at `per` bytes each, moved to
/// the worst case of a doubling `Vec`: one past a power of two (its buffer
/// has just doubled, and the move of the old half is counted too).
fn worst_count(bytes: usize, per: usize) -> u64 {
    let n = (bytes / per).max(2) as u64;
    (1u64 << (63 - n.leading_zeros())) + 1
}

/// A fixed-width three-char key (base 128, so byte order is numeric order).
fn key3(i: u64) -> String {
    [(i >> 14) & 0x7f, (i >> 7) & 0x7f, i & 0x7f]
        .iter()
        .map(|&b| char::from(b as u8))
        .collect()
}

/// A fixed-width two-char key (base 128; `i < 2^14`).
fn key2(i: u64) -> String {
    [(i >> 7) & 0x7f, i & 0x7f]
        .iter()
        .map(|&b| char::from(b as u8))
        .collect()
}

/// A count the remaining bytes could hold at one byte an element (and at
/// two, three and four), followed by bytes that fail the first element (ten
/// 0xff are an overlong varint): a decoder that reserves from the count
/// reserves `count × element size` before failing. The smaller counts are
/// the ones a collection may reserve at once (`budget::Lease`, at most 14
/// bytes per byte left): this is what a lie costs there, up to the largest
/// such count for elements of 16, 24, 32 and 40 bytes. Sizes 1 KiB to
/// 64 KiB.
fn lying_counts(prefix: &W) -> Vec<Flood> {
    let mut v = Vec::new();
    for size in [1usize << 10, 1 << 12, 1 << 14, 1 << 16] {
        let left = size - prefix.0.len() - 3;
        for (count, what) in [
            (left, "count = bytes left, then garbage"),
            (left / 2, "count = bytes left ÷ 2, then garbage"),
            (left / 3, "count = bytes left ÷ 3, then garbage"),
            (left / 4, "count = bytes left ÷ 4, then garbage"),
            (left * 14 / 16, "count = 14 × bytes left ÷ 16, then garbage"),
            (left * 14 / 24, "count = 14 × bytes left ÷ 24, then garbage"),
            (left * 14 / 32, "count = 14 × bytes left ÷ 32, then garbage"),
            (left * 14 / 40, "count = 14 × bytes left ÷ 40, then garbage"),
        ] {
            v.push(Flood {
                what,
                bytes: prefix
                    .clone()
                    .v(count as u64)
                    .raw(&vec![0xff; left])
                    .bytes(),
                valid: false,
            });
        }
    }
    v
}

/// A count that lies, then one element holding a nested collection of
/// about `size` bytes (`element(k)`, `k` nested elements), then the end:
/// Truncated after the element, if it is valid. The count is 14 × the bytes after it ÷ 48
/// (÷ 112 for sequence items), so that a collection of elements of at most
/// 48 (112) bytes could reserve it at once (`budget::Lease`). Only flat
/// elements may (the review of the lease, 875c5d6): here a lease would add
/// up with the nested collection's own blocks and copy, ≈ 25–30×, and the
/// C4 bound fails.
fn lying_count_then_one_nested<T: Subject>(
    what: &'static str,
    size: usize,
    element: impl Fn(u64) -> W,
) -> Flood {
    // The largest k whose element fits in `size` bytes.
    let (mut lo, mut hi) = (1u64, 2u64);
    while element(hi).0.len() <= size {
        (lo, hi) = (hi, 2 * hi);
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if element(mid).0.len() <= size {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let tail = element(lo);
    let per = if T::NAME.starts_with("List") || T::NAME.contains("Text") {
        112
    } else {
        48
    };
    let count = tail.0.len() * 14 / per;
    Flood {
        what,
        bytes: W::of::<T>().v(count as u64).raw(&tail.0).bytes(),
        valid: false,
    }
}

/// `n` repetitions of `element` after `prefix` and a count, then `suffix`.
fn repeat(prefix: W, n: u64, element: &[u8], suffix: &[u8]) -> Vec<u8> {
    let mut b = prefix.v(n).bytes();
    b.reserve(n as usize * element.len() + suffix.len());
    for _ in 0..n {
        b.extend_from_slice(element);
    }
    b.extend_from_slice(suffix);
    b
}

std::thread_local! {
    /// While set, [`build`] declares twice the elements it writes.
    static OVERDECLARE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// `n` elements written by `f` after `prefix` and a count, then `suffix`
/// (the count is `2n` while [`OVERDECLARE`] is set).
fn build(prefix: W, n: u64, f: impl Fn(W, u64) -> W, suffix: impl FnOnce(W) -> W) -> Vec<u8> {
    let declared = if OVERDECLARE.with(std::cell::Cell::get) {
        2 * n
    } else {
        n
    };
    let mut w = prefix.v(declared);
    for i in 1..=n {
        w = f(w, i);
    }
    suffix(w).bytes()
}

/// A context with one range `(1, 1)` for each replica `1..=n`.
fn ctx_each(w: W, n: u64) -> W {
    let mut w = w.v(n);
    for i in 1..=n {
        w = w.v(i).v(1).v(1).v(1);
    }
    w
}

/// The adversarial inputs of a type, about `size` bytes each.
trait Floods: Subject {
    fn floods(size: usize) -> Vec<Flood>;
}

fn flood(what: &'static str, bytes: Vec<u8>, valid: bool) -> Flood {
    Flood { what, bytes, valid }
}

/// Two floods of `T` with the same `m` elements written by `element`: the
/// valid one (`covered`) ends with the context `ctx`, the other
/// (`uncovered`) with an empty one, so that it can only be rejected after
/// every element is read.
fn covered_and_uncovered<T: Subject>(
    covered: &'static str,
    uncovered: &'static str,
    m: u64,
    element: impl Fn(W, u64) -> W + Copy,
    ctx: impl FnOnce(W) -> W,
) -> [Flood; 2] {
    [
        flood(covered, build(W::of::<T>(), m, element, ctx), true),
        flood(
            uncovered,
            build(W::of::<T>(), m, element, |w| w.v(0)),
            false,
        ),
    ]
}

impl Floods for GCounter {
    fn floods(size: usize) -> Vec<Flood> {
        let n = worst_count(size, 2);
        let m = worst_count(size, 4);
        let mut v = vec![
            flood(
                "n × (0, 0): 2 B each, Unsorted at the end",
                repeat(W::of::<Self>(), n, &[0, 0], &[]),
                false,
            ),
            flood(
                "distinct replicas, value 1",
                build(W::of::<Self>(), m, |w, i| w.v(i).v(1), |w| w),
                true,
            ),
        ];
        v.push(flood(
            "distinct replicas, the last at 0: rejected last",
            build(
                W::of::<Self>(),
                m,
                |w, i| w.v(i).v(u64::from(i != m)),
                |w| w,
            ),
            false,
        ));
        v.extend(lying_counts(&W::of::<Self>()));
        v
    }
}

impl Floods for VersionVector {
    fn floods(size: usize) -> Vec<Flood> {
        let n = worst_count(size, 2);
        let m = worst_count(size, 4);
        let mut v = vec![
            flood(
                "n × (0, 0)",
                repeat(W::of::<Self>(), n, &[0, 0], &[]),
                false,
            ),
            flood(
                "distinct replicas, value 1",
                build(W::of::<Self>(), m, |w, i| w.v(i).v(1), |w| w),
                true,
            ),
            flood(
                "distinct replicas, the last at 0: rejected last",
                build(
                    W::of::<Self>(),
                    m,
                    |w, i| w.v(i).v(u64::from(i != m)),
                    |w| w,
                ),
                false,
            ),
        ];
        v.extend(lying_counts(&W::of::<Self>()));
        v
    }
}

impl Floods for PnCounter {
    fn floods(size: usize) -> Vec<Flood> {
        let n = worst_count(size, 2);
        let m = worst_count(size, 4);
        let mut v = vec![
            flood(
                "inc n × (0, 0)",
                repeat(W::of::<Self>(), n, &[0, 0], &[0]),
                false,
            ),
            flood(
                "dec: distinct replicas",
                build(W::of::<Self>().v(0), m, |w, i| w.v(i).v(1), |w| w),
                true,
            ),
        ];
        v.push(flood(
            "dec: distinct replicas, the last at 0: rejected last",
            build(
                W::of::<Self>().v(0),
                m,
                |w, i| w.v(i).v(u64::from(i != m)),
                |w| w,
            ),
            false,
        ));
        v.extend(lying_counts(&W::of::<Self>()));
        v
    }
}

impl Floods for CausalContext {
    fn floods(size: usize) -> Vec<Flood> {
        let n = worst_count(size, 2);
        let m = worst_count(size, 6);
        let mut v = vec![
            flood(
                "n × (replica 0, no ranges): 2 B each",
                repeat(W::of::<Self>(), n, &[0, 0], &[]),
                false,
            ),
            flood(
                "distinct replicas, one range each",
                build(W::of::<Self>(), m, |w, i| w.v(i).v(1).v(1).v(1), |w| w),
                true,
            ),
            flood(
                "one replica, ranges (2i+1, 2i+1)",
                build(
                    W::of::<Self>().v(1).v(1),
                    worst_count(size, 6),
                    |w, i| w.v(2 * i + 1).v(2 * i + 1),
                    |w| w,
                ),
                true,
            ),
        ];
        v.push(lying_count_then_one_nested::<Self>(
            "a lying entry count, then one replica with all the ranges",
            size,
            // 2 bytes a range: the densest, rejected (overlapping) only
            // once the entry is complete.
            |k| W(Vec::new()).v(1).v(k).raw(&[1, 1].repeat(k as usize)),
        ));
        v.push(flood(
            "distinct replicas, the last without ranges: rejected last",
            build(
                W::of::<Self>(),
                m,
                |w, i| {
                    if i == m {
                        w.v(i).v(0)
                    } else {
                        w.v(i).v(1).v(1).v(1)
                    }
                },
                |w| w,
            ),
            false,
        ));
        v.extend(lying_counts(&W::of::<Self>()));
        v
    }
}

impl Floods for EwFlag {
    fn floods(size: usize) -> Vec<Flood> {
        let n = worst_count(size, 2);
        let m = worst_count(size, 4);
        let mut v = vec![flood(
            "n × dot (0, 0)",
            repeat(W::of::<Self>(), n, &[0, 0], &[0]),
            false,
        )];
        v.extend(covered_and_uncovered::<Self>(
            "dots (1, i)",
            "dots (1, i), empty context: rejected last",
            m,
            |w, i| w.dot(1, i),
            |w| w.ctx(&[(1, &[(1, m)])]),
        ));
        v.extend(lying_counts(&W::of::<Self>()));
        v
    }
}

impl Floods for MvRegister<String> {
    fn floods(size: usize) -> Vec<Flood> {
        let n = worst_count(size, 3);
        let m = worst_count(size, 10);
        let mut v = vec![flood(
            "n × (dot (0, 0), \"\")",
            repeat(W::of::<Self>(), n, &[0, 0, 0], &[0]),
            false,
        )];
        v.extend(covered_and_uncovered::<Self>(
            "siblings (i, 1) = \"\"",
            "siblings, empty context: rejected last",
            m,
            |w, i| w.dot(i, 1).str(""),
            |w| ctx_each(w, m),
        ));
        // The densest valid input: siblings of one replica (reachable, see
        // `mv_siblings_of_one_replica_are_reachable` in tests/scenarios.rs),
        // covered by one range: 3–4 bytes for a 40-byte sibling.
        let k = worst_count(size, 4);
        v.push(flood(
            "siblings (1, i) = \"\", one range",
            build(
                W::of::<Self>(),
                k,
                |w, i| w.dot(1, i).str(""),
                |w| w.ctx(&[(1, &[(1, k)])]),
            ),
            true,
        ));
        v.extend(lying_counts(&W::of::<Self>()));
        v
    }
}

impl Floods for CausalCounter {
    fn floods(size: usize) -> Vec<Flood> {
        let n = worst_count(size, 4);
        let m = worst_count(size, 11);
        let mut v = vec![flood(
            "n × (dot (0, 0), 0, 0)",
            repeat(W::of::<Self>(), n, &[0, 0, 0, 0], &[0]),
            false,
        )];
        v.extend(covered_and_uncovered::<Self>(
            "entries (i, 1) = (1, 0)",
            "entries, empty context: rejected last",
            m,
            |w, i| w.dot(i, 1).v(1).v(0),
            |w| ctx_each(w, m),
        ));
        v.extend(lying_counts(&W::of::<Self>()));
        v
    }
}

impl Floods for OrSet<String> {
    fn floods(size: usize) -> Vec<Flood> {
        let n = worst_count(size, 2);
        let m = worst_count(size, 9);
        let mut v = vec![flood(
            "n × (\"\", no dots)",
            repeat(W::of::<Self>(), n, &[0, 0], &[0]),
            false,
        )];
        v.extend(covered_and_uncovered::<Self>(
            "3-char keys, one dot each",
            "3-char keys, empty context: rejected last",
            m,
            |w, i| w.str(&key3(i)).v(1).dot(1, i),
            |w| w.ctx(&[(1, &[(1, m)])]),
        ));
        // The densest entries: 2-char keys (at most 2^14 of them, so at most
        // 64 KiB of input) and 2-byte dots, 7 bytes each.
        let k = worst_count(size.min(1 << 16), 7);
        v.push(flood(
            "2-char keys, one dot each",
            build(
                W::of::<Self>(),
                k,
                |w, i| w.str(&key2(i)).v(1).dot(1, i),
                |w| w.ctx(&[(1, &[(1, k)])]),
            ),
            true,
        ));
        v.extend(lying_counts(&W::of::<Self>()));
        v
    }
}

impl Floods for RwSet<String> {
    fn floods(size: usize) -> Vec<Flood> {
        let n = worst_count(size, 2);
        let m = worst_count(size, 10);
        let mut v = vec![flood(
            "n × (\"\", no tokens)",
            repeat(W::of::<Self>(), n, &[0, 0], &[0]),
            false,
        )];
        v.extend(covered_and_uncovered::<Self>(
            "3-char keys, one add token each",
            "3-char keys, empty context: rejected last",
            m,
            |w, i| w.str(&key3(i)).v(1).dot(1, i).raw(&[1]),
            |w| w.ctx(&[(1, &[(1, m)])]),
        ));
        v.extend(lying_counts(&W::of::<Self>()));
        v
    }
}

/// How a flood spells its dots.
#[derive(Clone, Copy, PartialEq)]
enum Dots {
    /// Dot `k` is `(1, k)`: one replica, counters of up to 3 varint bytes.
    OneReplica,
    /// Dot `k` goes to replica `1 + (k - 1) % 127`, counter `1 + (k - 1) /
    /// 127`: every replica and most counters take one varint byte, so a dot
    /// takes 2–3 bytes (the densest spelling of many dots, for the price of
    /// a context entry per replica). Keys take 2 chars where they can.
    Spread,
}

impl Dots {
    /// The spellings a map flood is built in.
    fn all() -> Vec<Dots> {
        vec![Dots::OneReplica, Dots::Spread]
    }

    fn dot(self, k: u64) -> (u64, u64) {
        match self {
            Dots::OneReplica => (1, k),
            Dots::Spread => (1 + (k - 1) % 127, 1 + (k - 1) / 127),
        }
    }

    /// A context of exactly dots `1..=k`.
    fn ctx(self, w: W, k: u64) -> W {
        match self {
            Dots::OneReplica => w.ctx(&[(1, &[(1, k)])]),
            Dots::Spread => {
                let ranges: Vec<(u64, [(u64, u64); 1])> = (1..=k.min(127))
                    .map(|r| (r, [(1, (k - r) / 127 + 1)]))
                    .collect();
                let entries: Vec<(u64, &[(u64, u64)])> =
                    ranges.iter().map(|(r, rs)| (*r, &rs[..])).collect();
                w.ctx(&entries)
            }
        }
    }

    /// The `i`th of `m` sorted keys: 2 chars when `m` allows it.
    fn key(self, i: u64, m: u64) -> String {
        if self == Dots::Spread && m < 1 << 14 {
            key2(i)
        } else {
            key3(i)
        }
    }

    /// Bytes an element of `per` bytes under [`Dots::OneReplica`] takes at
    /// most, spelled this way, with `dots` dots.
    fn per(self, per: usize, dots: usize) -> usize {
        match self {
            Dots::OneReplica => per,
            Dots::Spread => per - 1 - dots,
        }
    }
}

impl W {
    /// Dot `k` spelled by `dots`.
    fn dot_k(self, dots: Dots, k: u64) -> Self {
        let (r, c) = dots.dot(k);
        self.dot(r, c)
    }
}

/// Map floods: empty entries (4 bytes), and valid keys with a presence dot
/// (dot `2i - 1`) and a nested value written by `value` (with `dots` dots,
/// from dot `2i`), spelled both ways ([`Dots`]).
fn map_floods<T: Subject>(
    size: usize,
    per: usize,
    dots: usize,
    value: impl Fn(W, u64, Dots) -> W + Copy,
) -> Vec<Flood> {
    let n = worst_count(size, 4);
    let mut v = vec![flood(
        "n × (\"\", [], [], [])",
        repeat(W::of::<T>(), n, &[0, 0, 0, 0], &[0]),
        false,
    )];
    for spell in Dots::all() {
        let m = worst_count(size, spell.per(per, dots + 1));
        let (covered, uncovered) = match spell {
            Dots::OneReplica => (
                "3-char keys, a presence dot and a value each",
                "3-char keys, empty context: rejected last",
            ),
            Dots::Spread => (
                "short keys, dots over 127 replicas, a presence dot and a value each",
                "short keys, dots over 127 replicas, empty context: rejected last",
            ),
        };
        v.extend(covered_and_uncovered::<T>(
            covered,
            uncovered,
            m,
            |w, i| {
                let w = w.str(&spell.key(i, m)).v(1).dot_k(spell, 2 * i - 1).v(0);
                value(w, i, spell)
            },
            |w| spell.ctx(w, 2 * m),
        ));
    }
    v.extend(lying_counts(&W::of::<T>()));
    v
}

impl Floods for MapMv {
    fn floods(size: usize) -> Vec<Flood> {
        map_floods::<Self>(size, 15, 1, |w, i, d| w.v(1).dot_k(d, 2 * i).str(""))
    }
}

impl Floods for MapSetUw {
    fn floods(size: usize) -> Vec<Flood> {
        map_floods::<Self>(size, 15, 1, |w, i, d| w.v(1).str("").v(1).dot_k(d, 2 * i))
    }
}

impl Floods for MapCounterRw {
    fn floods(size: usize) -> Vec<Flood> {
        let mut v = map_floods::<Self>(size, 16, 1, |w, i, d| w.v(1).dot_k(d, 2 * i).v(1).v(0));
        // Removed keys: no presence dot, one remove marker, an empty counter
        // (about 11 bytes each, 8 spelled densely); and hidden keys: a
        // presence dot and a marker (concurrent update and remove), 14 and 10.
        for spell in Dots::all() {
            let dense = spell == Dots::Spread;
            let m = worst_count(size, if dense { 8 } else { 11 });
            let (covered, uncovered) = if dense {
                (
                    "short keys, markers over 127 replicas",
                    "short keys, markers over 127 replicas, empty context: rejected last",
                )
            } else {
                (
                    "3-char keys, a remove marker each",
                    "3-char keys, a remove marker each, empty context: rejected last",
                )
            };
            v.extend(covered_and_uncovered::<Self>(
                covered,
                uncovered,
                m,
                |w, i| w.str(&spell.key(i, m)).v(0).v(1).dot_k(spell, i).v(0),
                |w| spell.ctx(w, m),
            ));
            let m = worst_count(size, if dense { 10 } else { 14 });
            let (covered, uncovered) = if dense {
                (
                    "short keys, a presence dot and a marker each, over 127 replicas",
                    "short keys, a presence dot and a marker each, over 127 replicas, empty context: rejected last",
                )
            } else {
                (
                    "3-char keys, a presence dot and a marker each",
                    "3-char keys, a presence dot and a marker each, empty context: rejected last",
                )
            };
            v.extend(covered_and_uncovered::<Self>(
                covered,
                uncovered,
                m,
                |w, i| {
                    w.str(&spell.key(i, m))
                        .v(1)
                        .dot_k(spell, 2 * i - 1)
                        .v(1)
                        .dot_k(spell, 2 * i)
                        .v(0)
                },
                |w| spell.ctx(w, 2 * m),
            ));
        }
        v
    }
}

impl Floods for MapNested {
    fn floods(size: usize) -> Vec<Flood> {
        map_floods::<Self>(size, 20, 1, |w, i, d| {
            w.v(1).str("").v(1).dot_k(d, 2 * i).v(0).v(0)
        })
    }
}

impl Floods for EmbLww {
    fn floods(size: usize) -> Vec<Flood> {
        let n = worst_count(size, 4);
        let m = worst_count(size, 16);
        let mut v = vec![flood(
            "n × (dot (0, 0), None, [])",
            repeat(W::of::<Self>(), n, &[0, 0, 0, 0], &[0]),
            false,
        )];
        v.extend(covered_and_uncovered::<Self>(
            "siblings (i, 1) = write (1, i) \"\"",
            "siblings, empty context: rejected last",
            m,
            |w, i| w.dot(i, 1).raw(&[1]).v(1).v(i).str("").vv(&[(i, 1)]),
            |w| ctx_each(w, m),
        ));
        v.extend(lying_counts(&W::of::<Self>()));
        v
    }
}

impl Floods for EmbG {
    fn floods(size: usize) -> Vec<Flood> {
        let n = worst_count(size, 3);
        let m = worst_count(size, 12);
        let mut v = vec![flood(
            "n × (dot (0, 0), [])",
            repeat(W::of::<Self>(), n, &[0, 0, 0], &[0]),
            false,
        )];
        v.extend(covered_and_uncovered::<Self>(
            "siblings (i, 1) = {i: 1}",
            "siblings, empty context: rejected last",
            m,
            |w, i| w.dot(i, 1).vv(&[(i, 1)]),
            |w| ctx_each(w, m),
        ));
        v.push(lying_count_then_one_nested::<Self>(
            "a lying sibling count, then one sibling with all the entries",
            size,
            |k| {
                let entries: Vec<(u64, u64)> = (1..=k).map(|i| (i, 1)).collect();
                W(Vec::new()).dot(1, 1).vv(&entries)
            },
        ));
        v.extend(lying_counts(&W::of::<Self>()));
        v
    }
}

/// Sequence floods: zero items (6 bytes), a chain of one-unit items that
/// cannot merge (odd counters, each after the previous), and items waiting
/// for origins that never come. `unit` writes one unit's content.
fn sequence_floods<T: Subject>(size: usize, unit: impl Fn(W) -> W + Copy) -> Vec<Flood> {
    let n = worst_count(size, 6);
    let m = worst_count(size, 14);
    let chain = build(
        W::of::<T>(),
        m,
        |w, i| {
            let left = (i > 1).then(|| (1, 2 * i - 3));
            unit(
                w.dot(1, 2 * i - 1)
                    .v(1)
                    .opt_dot(left)
                    .opt_dot(None)
                    .raw(&[1]),
            )
        },
        |w| w.v(0),
    );
    let waiting = build(
        W::of::<T>(),
        m,
        |w, i| {
            unit(
                w.dot(1, 2 * i - 1)
                    .v(1)
                    .opt_dot(Some((2, i)))
                    .opt_dot(None)
                    .raw(&[1]),
            )
        },
        |w| w.v(0),
    );
    // The same shapes spelled densely (`Dots::Spread`: dots of 2–3
    // bytes): items of 10–12 bytes.
    let d = Dots::Spread;
    let k = worst_count(size, 11);
    let chain_spread = build(
        W::of::<T>(),
        k,
        |w, i| {
            let w = w.dot_k(d, i).v(1).opt_dot((i > 1).then(|| d.dot(i - 1)));
            unit(w.opt_dot(None).raw(&[1]))
        },
        |w| w.v(0),
    );
    // Item `i` waits for dot `k + i`, which is never sent (and is never of
    // the item's own replica: 127 does not divide `k = 2^j + 1`).
    let waiting_spread = build(
        W::of::<T>(),
        k,
        |w, i| {
            let w = w.dot_k(d, i).v(1).opt_dot(Some(d.dot(k + i)));
            unit(w.opt_dot(None).raw(&[1]))
        },
        |w| w.v(0),
    );
    // Items without origins, 8–9 bytes: all at the start, so each is
    // placed by a scan past the others, and the scan budget rejects them
    // (C6) once they are all read.
    let j = worst_count(size, 8);
    let unplaced = build(
        W::of::<T>(),
        j,
        |w, i| unit(w.dot_k(d, i).v(1).opt_dot(None).opt_dot(None).raw(&[1])),
        |w| w.v(0),
    );
    let mut v = vec![
        flood(
            "n × item (0:0, 0, None, None, None)",
            repeat(W::of::<T>(), n, &[0, 0, 0, 0, 0, 0], &[0]),
            false,
        ),
        flood("a chain of one-unit items", chain, true),
        flood("one-unit items waiting for missing origins", waiting, true),
        flood(
            "a chain of one-unit items, dots over 127 replicas",
            chain_spread,
            true,
        ),
        flood(
            "one-unit items waiting for missing origins, dots over 127 replicas",
            waiting_spread,
            true,
        ),
        flood(
            "one-unit items without origins, over 127 replicas: over the scan budget",
            unplaced,
            false,
        ),
    ];
    // The chain again, its last item claiming two units for one: rejected
    // when the runs are checked, after all are read.
    let late = build(
        W::of::<T>(),
        m,
        |w, i| {
            let left = (i > 1).then(|| (1, 2 * i - 3));
            let len = if i == m { 2 } else { 1 };
            unit(
                w.dot(1, 2 * i - 1)
                    .v(len)
                    .opt_dot(left)
                    .opt_dot(None)
                    .raw(&[1]),
            )
        },
        |w| w.v(0),
    );
    v.push(flood(
        "a chain, the last item malformed: rejected last",
        late,
        false,
    ));
    v.extend(lying_counts(&W::of::<T>()));
    v
}

impl Floods for List<u64> {
    fn floods(size: usize) -> Vec<Flood> {
        let mut v = sequence_floods::<Self>(size, |w| w.v(1).v(0));
        v.push(lying_count_then_one_nested::<Self>(
            "a lying item count, then one item of all the content",
            size,
            |k| {
                W(Vec::new())
                    .dot(1, 1)
                    .v(k)
                    .opt_dot(None)
                    .opt_dot(None)
                    .raw(&[1])
                    .v(k)
                    .raw(&vec![0; k as usize])
            },
        ));
        v
    }
}

impl Floods for List<char> {
    fn floods(size: usize) -> Vec<Flood> {
        sequence_floods::<Self>(size, |w| w.v(1).v(97))
    }
}

impl Floods for Text {
    fn floods(size: usize) -> Vec<Flood> {
        sequence_floods::<Self>(size, |w| w.str("a"))
    }
}

impl Floods for LwwRegister<String> {
    fn floods(size: usize) -> Vec<Flood> {
        let n = worst_count(size, 2);
        let m = worst_count(size, 4);
        let mut v = vec![
            flood(
                "seen n × (0, 0)",
                repeat(W::of::<Self>().raw(&[0]), n, &[0, 0], &[]),
                false,
            ),
            flood(
                "seen: distinct replicas at 1, winner at 1",
                build(
                    W::of::<Self>().raw(&[1]).v(1).v(m).str(""),
                    m,
                    |w, i| w.v(i).v(1),
                    |w| w,
                ),
                true,
            ),
            flood(
                "one long value",
                W::of::<Self>()
                    .raw(&[1])
                    .v(1)
                    .v(1)
                    .str(&"x".repeat(size))
                    .vv(&[(1, 1)])
                    .bytes(),
                true,
            ),
        ];
        v.push(flood(
            "seen: distinct replicas, the last at 0: rejected last",
            build(
                W::of::<Self>().raw(&[1]).v(1).v(m).str(""),
                m,
                |w, i| w.v(i).v(u64::from(i != m)),
                |w| w,
            ),
            false,
        ));
        v.extend(lying_counts(&W::of::<Self>().raw(&[0])));
        v
    }
}

/// A message's floods: its payload's, behind a `State` header.
fn message_floods<T: Floods + converge::DeltaSince>(size: usize) -> Vec<Flood>
where
    Message<T>: Subject,
{
    let head = W::of::<Message<T>>().v(3).v(1).v(1).bytes();
    T::floods(size)
        .into_iter()
        .map(|f| Flood {
            what: f.what,
            bytes: [&head[..], &f.bytes[encoding::HEADER_LEN..]].concat(),
            valid: f.valid,
        })
        .collect()
}

impl Floods for Message<OrSet<String>> {
    fn floods(size: usize) -> Vec<Flood> {
        message_floods::<OrSet<String>>(size)
    }
}

impl Floods for Message<PnCounter> {
    fn floods(size: usize) -> Vec<Flood> {
        message_floods::<PnCounter>(size)
    }
}

impl Floods for Message<Text> {
    fn floods(size: usize) -> Vec<Flood> {
        message_floods::<Text>(size)
    }
}

/// One row of the C4 table.
#[derive(Debug)]
struct Peak {
    what: &'static str,
    len: usize,
    peak: usize,
}

impl Peak {
    fn ratio(&self) -> f64 {
        self.peak as f64 / self.len as f64
    }
    fn within(&self) -> bool {
        self.peak <= c4_bound(self.len)
    }
}

/// The floods of `T`, plus each built one again with twice its element
/// count declared (the bytes run out, or the next field is misread, after
/// the real elements): a collection that trusts the count to grow doubles
/// once more than the elements need.
fn floods_and_overdeclared<T: Floods>(size: usize) -> Vec<Flood> {
    let honest = T::floods(size);
    OVERDECLARE.with(|o| o.set(true));
    let over = T::floods(size);
    OVERDECLARE.with(|o| o.set(false));
    assert_eq!(honest.len(), over.len());
    let mut all = Vec::new();
    for (h, o) in honest.into_iter().zip(over) {
        if h.bytes != o.bytes {
            let what: &'static str =
                Box::leak(format!("{} (twice the count declared)", o.what).into_boxed_str());
            all.push(Flood {
                what,
                bytes: o.bytes,
                valid: false,
            });
        }
        all.push(h);
    }
    all
}

/// Decodes every flood of `T` of about `size` bytes (and the overdeclared
/// ones), checks that each is accepted or rejected as designed (a valid one
/// passes C7), and returns the peak heap of each.
fn run_floods<T: Floods>(size: usize) -> Vec<Peak> {
    floods_and_overdeclared::<T>(size)
        .into_iter()
        .map(|f| {
            let (r, peak) = measure(|| encoding::decode::<T>(&f.bytes));
            assert_eq!(
                r.is_ok(),
                f.valid,
                "{}: {}: {:?}",
                T::NAME,
                f.what,
                r.as_ref().err()
            );
            if let Ok(x) = &r {
                x.check_read();
            }
            let row = Peak {
                what: f.what,
                len: f.bytes.len(),
                peak,
            };
            eprintln!(
                "C4 {} | {} | {} | {} B | peak {} B | {:.1}× | {}",
                T::NAME,
                if f.valid { "valid" } else { "invalid" },
                row.what,
                row.len,
                row.peak,
                row.ratio(),
                if row.within() { "within" } else { "EXCEEDS" }
            );
            row
        })
        .collect()
}

/// C4 for one type: every adversarial input of about 64 KiB and 1 MB (and
/// the lying counts of 1–64 KiB) decodes within `16 × input + 64 KiB`.
/// (Two sizes: a `Vec` that starts from serde's capped reservation of 1 MiB
/// overshoots less at 1 MB than one that grows from empty at 64 KiB.)
fn assert_floods_within_bound<T: Floods>() {
    let mut rows = run_floods::<T>(1 << 16);
    rows.extend(run_floods::<T>(1 << 20));
    let worst = rows
        .iter()
        .max_by(|a, b| a.ratio().total_cmp(&b.ratio()))
        .unwrap();
    let over: Vec<&Peak> = rows.iter().filter(|r| !r.within()).collect();
    assert!(
        over.is_empty(),
        "C4: {}: {} input(s) exceed the bound; worst {:.1}× ({}: {} B → {} B)",
        T::NAME,
        over.len(),
        worst.ratio(),
        worst.what,
        worst.len,
        worst.peak
    );
}

/// Every type's adversarial inputs, at 64 KiB: each is accepted or rejected
/// as designed (so the 1 MB runs below measure what they claim to), and
/// their peaks are printed (run with `--nocapture`).
#[test]
fn c4_adversarial_inputs_decode_as_designed() {
    fn check<T: Floods>() {
        let rows = run_floods::<T>(1 << 16);
        assert!(rows.len() >= 5, "{}", T::NAME);
    }
    for_each_subject!(check);
    check::<List<char>>();
}

/// The flood of `T` named `what`, at about 64 KiB.
fn flood_named<T: Floods>(what: &str) -> Flood {
    T::floods(1 << 16)
        .into_iter()
        .find(|f| f.what == what)
        .unwrap_or_else(|| panic!("{}: no flood {what:?}", T::NAME))
}

/// C4 on the error path of sets: entries that are all uncovered by an
/// empty context cost no more than the same entries under a covering
/// context (the least violation is found without collecting one per entry
/// or every dot; before, 24.7× against 18.8× for `OrSet<String>`).
#[test]
fn c4_sets_rejected_last_cost_no_more_than_valid() {
    fn check<T: Floods>(valid: &str, invalid: &str) {
        let ok = flood_named::<T>(valid);
        let bad = flood_named::<T>(invalid);
        assert!(ok.valid && !bad.valid);
        let (r, ok_peak) = measure(|| encoding::decode::<T>(&ok.bytes));
        assert!(r.is_ok(), "{}: {:?}", T::NAME, r.err());
        let (r, bad_peak) = measure(|| encoding::decode::<T>(&bad.bytes));
        assert!(
            matches!(
                r,
                Err(DecodeError::Invalid(
                    InvariantViolation::DotNotInContext { .. }
                ))
            ),
            "{}: {:?}",
            T::NAME,
            r.err()
        );
        assert!(
            bad_peak <= ok_peak + 4096,
            "{}: rejected input peaked at {bad_peak} B, the valid one at {ok_peak} B",
            T::NAME
        );
    }
    check::<OrSet<String>>(
        "3-char keys, one dot each",
        "3-char keys, empty context: rejected last",
    );
    check::<RwSet<String>>(
        "3-char keys, one add token each",
        "3-char keys, empty context: rejected last",
    );
}

/// C4 for sequences: items that are bad on their own (here a zero id) are
/// rejected as each arrives, before any is collected (before, 64 KiB of
/// such items peaked at 27.9× the input).
/// C4 for a lying count followed by one element that holds a long nested
/// collection: the count's collection must not reserve it at once (only
/// collections of flat elements hold the lease), or the reservation adds
/// up with the nested collection (≈ 25–30×; found in review of 8aaa883).
/// Run for `List<u64>` too.
#[test]
fn c4_a_lying_count_then_one_nested_element_stays_within_the_bound() {
    fn check<T: Floods>(what: &str, expected: DecodeError, over: &mut Vec<String>) {
        for size in [1 << 16, 1 << 20] {
            let f = T::floods(size)
                .into_iter()
                .find(|f| f.what == what)
                .expect("flood");
            let (r, peak) = measure(|| encoding::decode::<T>(&f.bytes));
            assert_eq!(r.err(), Some(expected.clone()), "{}", T::NAME);
            if peak > c4_bound(f.bytes.len()) {
                over.push(format!(
                    "{} {what}: {} B peaked at {peak} B ({:.1}×)",
                    T::NAME,
                    f.bytes.len(),
                    peak as f64 / f.bytes.len() as f64
                ));
            }
        }
    }
    let mut over = Vec::new();
    check::<CausalContext>(
        "a lying entry count, then one replica with all the ranges",
        DecodeError::Invalid(InvariantViolation::NonCanonicalContext {
            replica: ReplicaId::new(1),
        }),
        &mut over,
    );
    check::<List<u64>>(
        "a lying item count, then one item of all the content",
        DecodeError::Truncated,
        &mut over,
    );
    check::<EmbG>(
        "a lying sibling count, then one sibling with all the entries",
        DecodeError::Truncated,
        &mut over,
    );
    assert!(over.is_empty(), "C4 exceeded: {over:#?}");
}

#[test]
fn c4_sequence_bad_items_are_rejected_at_the_first() {
    fn check<T: Floods>() {
        let f = flood_named::<T>("n × item (0:0, 0, None, None, None)");
        let (r, peak) = measure(|| encoding::decode::<T>(&f.bytes));
        assert_eq!(
            r.err(),
            Some(DecodeError::Invalid(InvariantViolation::ZeroDot {
                replica: ReplicaId::new(0)
            })),
            "{}",
            T::NAME
        );
        assert!(
            peak < 1024,
            "{}: {} B input peaked at {peak} B",
            T::NAME,
            f.bytes.len()
        );
    }
    check::<Text>();
    check::<List<u64>>();
    check::<List<char>>();
    check::<Message<Text>>();
}

/// What a decode may allocate past `Limits::max_alloc`: what the budget
/// does not charge (constant per decode: the thread-local slots, a boxed
/// table header, a violation's name) and the one block of at most 4 KiB
/// that a dot map's table charges as it fills.
const CAP_SLACK: usize = 8 << 10;

/// C4's hard cap (`Limits::max_alloc`): every adversarial input of every
/// type, and the lying counts, decode within the cap, whatever it is: a
/// decode that would pass it stops with `AllocLimit` and names it, and a
/// valid input is refused for nothing else. Caps from a quarter of the
/// input to 64 times it; at 64 × + 64 KiB every valid input decodes (the
/// budget charges more than the peak: up to about four times it for a
/// sequence, whose tree is charged at an upper estimate per run).
#[test]
fn c4_hard_cap_bounds_every_flood() {
    fn check<T: Floods>() {
        for f in floods_and_overdeclared::<T>(1 << 16) {
            let len = f.bytes.len();
            let roomy = 64 * len + (64 << 10);
            for cap in [len / 4, len, 4 * len, 16 * len, roomy] {
                let limits = Limits::DEFAULT.with_max_alloc(cap);
                let (r, peak) = measure(|| encoding::decode_with::<T>(&f.bytes, &limits));
                match &r {
                    Ok(_) => assert!(f.valid, "{}: {}: accepted", T::NAME, f.what),
                    Err(DecodeError::AllocLimit { limit }) => {
                        assert_eq!(*limit, cap);
                        assert!(
                            cap < roomy,
                            "{}: {}: refused under {cap} B",
                            T::NAME,
                            f.what
                        );
                    }
                    Err(e) => assert!(!f.valid, "{}: {}: {e:?}", T::NAME, f.what),
                }
                assert!(
                    peak <= cap + CAP_SLACK,
                    "{}: {} ({len} B): peak {peak} B under a cap of {cap} B",
                    T::NAME,
                    f.what
                );
            }
        }
    }
    for_each_subject!(check);
    check::<List<char>>();
}

/// C4: one long run split at every other unit by another replica's items.
/// A decode integrates the run first; then each item splits what is left
/// of it. So do local edits that type through a pasted text. Each split
/// used to copy the tail out and leave the head's whole buffer in place:
/// memory quadratic in the run's length (2^14 units: about 64 MB). Found
/// by review. Now both stay linear.
#[test]
fn c4_long_run_split_at_every_other_unit_stays_linear() {
    const L: usize = 1 << 14;
    let (a, b) = (ReplicaId::new(1), ReplicaId::new(2));
    fn check<T: Encodable + PartialEq + Debug>(name: &str, (x, built): (T, usize)) {
        let bytes = encoding::encode(&x).unwrap();
        let (r, peak) = measure(|| encoding::decode::<T>(&bytes));
        assert_eq!(r.unwrap(), x);
        eprintln!(
            "split run {name}: built {built} B; {} B decode peak {peak} B ({:.1}×)",
            bytes.len(),
            peak as f64 / bytes.len() as f64
        );
        assert!(built <= 400 * L, "{name}: building peaked at {built} B");
        assert!(
            peak <= 40 * bytes.len(),
            "{name}: {} B decode peaked at {peak} B",
            bytes.len()
        );
        let cap = 4 * bytes.len();
        let (r, peak) =
            measure(|| encoding::decode_with::<T>(&bytes, &Limits::DEFAULT.with_max_alloc(cap)));
        assert_eq!(r.err(), Some(DecodeError::AllocLimit { limit: cap }));
        assert!(
            peak <= cap + CAP_SLACK,
            "{name}: peak {peak} B under a cap of {cap} B"
        );
    }
    check(
        "Text",
        measure(|| {
            let mut t = Text::new();
            t.insert(a, 0, &"x".repeat(L)).unwrap();
            for i in 0..L / 2 - 1 {
                t.insert(b, 3 * i + 2, "y").unwrap();
            }
            t
        }),
    );
    check(
        "List<u64>",
        measure(|| {
            let mut t = List::new();
            t.insert_from(a, 0, 0..L as u64).unwrap();
            for i in 0..L / 2 - 1 {
                t.insert(b, 3 * i + 2, 7).unwrap();
            }
            t
        }),
    );
}

/// The cap is per decode: a refused decode leaves no budget behind (the
/// next decode, and a decode in another serde format, are unaffected), and
/// `join_encoded_with` under a cap that refuses leaves the replica as it was.
#[test]
fn c4_hard_cap_is_per_decode() {
    let mut s = OrSet::new();
    for i in 0..2000u32 {
        s.insert(ReplicaId::new(1 + u64::from(i % 7)), i.to_string());
    }
    let bytes = encoding::encode(&s).unwrap();
    let tight = Limits::DEFAULT.with_max_alloc(bytes.len());
    assert_eq!(
        encoding::decode_with::<OrSet<String>>(&bytes, &tight).err(),
        Some(DecodeError::AllocLimit { limit: bytes.len() })
    );
    assert_eq!(encoding::decode::<OrSet<String>>(&bytes).as_ref(), Ok(&s));
    let json = serde_json::to_string(&s).unwrap();
    assert_eq!(serde_json::from_str::<OrSet<String>>(&json).unwrap(), s);

    let mut replica = OrSet::new();
    replica.insert(ReplicaId::new(9), "kept".to_string());
    let before = replica.clone();
    assert_eq!(
        encoding::join_encoded_with(&mut replica, &bytes, &tight),
        Err(DecodeError::AllocLimit { limit: bytes.len() })
    );
    assert_eq!(replica, before);
    assert_eq!(
        encoding::join_encoded_with(&mut replica, &bytes, &Limits::DEFAULT),
        Ok(true)
    );
}

macro_rules! c4_tests {
    ($($(#[$attr:meta])* $name:ident: $ty:ty,)*) => {$(
        /// C4 for this type: see [`assert_floods_within_bound`].
        #[test]
        $(#[$attr])*
        fn $name() {
            assert_floods_within_bound::<$ty>();
        }
    )*};
}

c4_tests! {
    c4_gcounter_adversarial_inputs_stay_within_the_bound: GCounter,
    c4_pncounter_adversarial_inputs_stay_within_the_bound: PnCounter,
    c4_causal_counter_adversarial_inputs_stay_within_the_bound: CausalCounter,
    c4_lww_register_adversarial_inputs_stay_within_the_bound: LwwRegister<String>,
    c4_mv_register_adversarial_inputs_stay_within_the_bound: MvRegister<String>,
    c4_orset_adversarial_inputs_stay_within_the_bound: OrSet<String>,
    c4_rwset_adversarial_inputs_stay_within_the_bound: RwSet<String>,
    c4_ewflag_adversarial_inputs_stay_within_the_bound: EwFlag,
    c4_ormap_observed_reset_adversarial_inputs_stay_within_the_bound: MapMv,
    c4_ormap_update_wins_adversarial_inputs_stay_within_the_bound: MapSetUw,
    c4_ormap_remove_wins_adversarial_inputs_stay_within_the_bound: MapCounterRw,
    c4_ormap_nested_adversarial_inputs_stay_within_the_bound: MapNested,
    c4_embedded_lww_adversarial_inputs_stay_within_the_bound: EmbLww,
    c4_embedded_gcounter_adversarial_inputs_stay_within_the_bound: EmbG,
    c4_list_adversarial_inputs_stay_within_the_bound: List<u64>,
    c4_list_of_chars_adversarial_inputs_stay_within_the_bound: List<char>,
    c4_text_adversarial_inputs_stay_within_the_bound: Text,
    c4_version_vector_adversarial_inputs_stay_within_the_bound: VersionVector,
    c4_causal_context_adversarial_inputs_stay_within_the_bound: CausalContext,
    c4_message_orset_adversarial_inputs_stay_within_the_bound: Message<OrSet<String>>,
    c4_message_pncounter_adversarial_inputs_stay_within_the_bound: Message<PnCounter>,
    c4_message_text_adversarial_inputs_stay_within_the_bound: Message<Text>,
}
