//! Fuzz harness (feature `fuzzing`): one function per fuzz target of
//! TESTPLAN b.4, each taking raw bytes and panicking only when a property is
//! violated.
//!
//! The cargo-fuzz crate in `fuzz/` wraps each function in a one-line
//! `fuzz_target!`, and `tests/fuzz_replay.rs` replays the committed corpora
//! and crashers through the same functions under `cargo test`, so every crash
//! becomes a plain regression test.
//!
//! Inputs are read with a tiny byte reader ([`Bytes`]) that never fails: a
//! read past the end yields zeros, so every input means something. The first
//! byte selects the type; op scripts are decoded from the bytes that follow
//! and applied with [`Replay::apply`], so the states under test are reachable
//! (the decode targets, by contrast, feed the bytes straight to the
//! decoders).
//!
//! | target | what it asserts |
//! | --- | --- |
//! | [`decode_state`] | any bytes: `decode` never panics; an accepted value is valid, round-trips, and re-encodes to the same bytes; the same for `postcard` |
//! | [`decode_delta`] | as `decode_state`, for deltas and `sync::Message`s; an accepted delta is also a state (`⊥ ⊔ d == d`, `d ⊔ d == d`) |
//! | [`decode_header_valid`] | as `decode_state`, with a valid header prepended so mutations reach the body parser |
//! | [`join_untrusted`] | `join_encoded` into a reachable replica: `Err` ⇒ replica unchanged (value and bytes); `Ok` ⇒ valid, inflation, change report exact, joining again is `Ok(false)` |
//! | [`laws`] | L1–L6 on three reachable states; L7–L9 and the invariants after every step; D2, D9 |
//! | [`multi_replica`] | five replicas synced by deltas, full states and digests through the encoding; digest ≡ full state per pair; all equal after sync-all, and equal to the join of every operation's delta |
//! | [`network_sim`] | [`crate::sim::run_script`] on a byte-driven script: every simulator oracle |
//! | [`sequence_model`] | `Text` / `List<u8>` against a `Vec` model after every edit (Q2, Q4), with L8 |
//! | [`sequence_orders`] | a causal DAG of sequence edits integrated in several topological orders (and one arbitrary order): one result (Q1, Q6, D3) |
//! | [`ormap_nested`] | nested maps: the depth limit is honoured exactly, locally built values decode under the default limit (O6), `Debug` and `Drop` of accepted values |
//! | [`truncate_and_flip`] | prefixes and bit flips of a valid encoding: `Err` or a valid state; a rejected join leaves the replica unchanged |

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Debug;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::encoding::{self, DecodeError, Encodable, Limits, HEADER_LEN, MAGIC, VERSION};
use crate::laws::{
    check_delta_group, check_delta_since, check_join_laws, check_mutation, run_steps, CounterOp,
    MapOp, Pos, RegisterOp, Replay, SeqOp, SetOp, Step,
};
use crate::sim::{run_script, Event, SimConfig};
use crate::sync::Message;
use crate::{
    CausalContext, CausalCounter, DeltaSince, Embedded, EwFlag, GCounter, List, LwwRegister,
    MvRegister, ObservedReset, OrMap, OrSet, PnCounter, RemoveWins, ReplicaId, RwSet, Text,
    UpdateWins, Validate, VersionVector,
};

// ---------------------------------------------------------------------------
// Byte reader

/// A reader over fuzz input that never fails: past the end it yields zeros.
#[derive(Clone, Debug)]
pub struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Bytes { data }
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The bytes not read yet.
    pub fn rest(&self) -> &'a [u8] {
        self.data
    }

    /// The next byte, or 0 at the end.
    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// Two bytes, little-endian.
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    /// Eight bytes, little-endian.
    pub fn u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        for x in &mut b {
            *x = self.u8();
        }
        u64::from_le_bytes(b)
    }

    /// One bit of the next byte.
    pub fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }

    /// A number in `0..n` (`n > 0`), from one byte.
    pub fn below(&mut self, n: usize) -> usize {
        usize::from(self.u8()) % n.max(1)
    }

    /// Splits off the next `n` bytes (fewer at the end) as their own reader.
    pub fn take(&mut self, n: usize) -> Bytes<'a> {
        let n = n.min(self.data.len());
        let (head, tail) = self.data.split_at(n);
        self.data = tail;
        Bytes { data: head }
    }
}

/// Values that can be read from fuzz bytes: the operations of [`Replay`]
/// types, biased like their proptest strategies (tiny domains, extreme
/// amounts).
pub trait FromBytes: Sized {
    /// Reads one value.
    fn from_bytes(r: &mut Bytes<'_>) -> Self;
}

fn amount(r: &mut Bytes<'_>) -> u64 {
    let a = r.u8();
    match a >> 5 {
        0..=4 => u64::from(a & 3),
        5 => u64::MAX,
        6 => u64::MAX - 1,
        _ => r.u64(),
    }
}

impl FromBytes for CounterOp {
    fn from_bytes(r: &mut Bytes<'_>) -> Self {
        match r.u8() % 8 {
            0..=3 => CounterOp::Inc(amount(r)),
            4..=6 => CounterOp::Dec(amount(r)),
            _ => CounterOp::Reset,
        }
    }
}

impl FromBytes for RegisterOp {
    fn from_bytes(r: &mut Bytes<'_>) -> Self {
        let b = r.u8();
        let v = r.u8() % 4;
        match b % 8 {
            0..=4 => {
                let t = match b >> 3 {
                    0..=27 => u64::from(b >> 3) % 4,
                    28 => 0,
                    29 => u64::MAX - 1,
                    30 => u64::MAX,
                    _ => r.u64(),
                };
                RegisterOp::Write(v, t)
            }
            5 | 6 => RegisterOp::Resolve(v),
            _ => RegisterOp::Clear,
        }
    }
}

impl FromBytes for SetOp {
    fn from_bytes(r: &mut Bytes<'_>) -> Self {
        let b = r.u8();
        let e = (b >> 4) % 6;
        match b % 10 {
            0..=4 => SetOp::Insert(e),
            5..=8 => SetOp::Remove(e),
            _ => SetOp::Clear,
        }
    }
}

impl<O: FromBytes> FromBytes for MapOp<O> {
    fn from_bytes(r: &mut Bytes<'_>) -> Self {
        let b = r.u8();
        let k = (b >> 2) % 4;
        if b % 4 == 3 {
            MapOp::Remove(k)
        } else {
            MapOp::Update(k, O::from_bytes(r))
        }
    }
}

/// Units of text: colliding ASCII, multi-byte and astral chars, a combining
/// sequence and a ZWJ sequence (as the proptest strategy).
const UNITS: [&str; 11] = [
    "a",
    "b",
    "c",
    "x",
    "y",
    "z",
    "é",
    "😀",
    "ｶ",
    "e\u{301}",
    "👩\u{200d}💻",
];

fn text(r: &mut Bytes<'_>) -> String {
    let b = r.u8();
    let n = if b & 0x80 == 0 {
        1 + usize::from(b & 1)
    } else {
        1 + usize::from(b & 0x7f) % 10
    };
    (0..n).map(|_| UNITS[r.below(UNITS.len())]).collect()
}

fn pos(r: &mut Bytes<'_>) -> Pos {
    let b = r.u8();
    if b % 16 == 15 {
        Pos::PastEnd((b >> 4) % 3)
    } else {
        Pos::Frac(r.u16())
    }
}

impl FromBytes for SeqOp {
    fn from_bytes(r: &mut Bytes<'_>) -> Self {
        match r.u8() % 10 {
            0..=5 => SeqOp::Random {
                roll: r.u8(),
                at: pos(r),
                text: text(r),
                backwards: r.bool(),
                span: r.u8(),
            },
            6 | 7 => SeqOp::Insert {
                at: pos(r),
                text: text(r),
                backwards: r.bool(),
            },
            8 => SeqOp::Delete { at: pos(r) },
            _ => SeqOp::DeleteRange {
                at: pos(r),
                len: r.u8() % 11,
            },
        }
    }
}

/// A [`Replay`] type whose operations can be read from bytes.
pub trait Fuzzable: Replay + Subject {
    /// Whether `leq` means "reflects" (false for `LwwRegister`, whose order
    /// is by timestamp); the simulator's D5 check needs it.
    const CAUSAL_ORDER: bool = true;

    /// Reads one operation.
    fn read_op(r: &mut Bytes<'_>) -> Self::Op;
}

macro_rules! fuzzable {
    ($($t:ty),* $(,)?) => {$(
        impl Fuzzable for $t {
            fn read_op(r: &mut Bytes<'_>) -> Self::Op {
                FromBytes::from_bytes(r)
            }
        }
    )*};
}

/// A map nested three deep (O1, O6).
pub type NestedMap = OrMap<u8, OrMap<u8, MvRegister<u8>>>;
/// A map nested six deep, for the depth limit.
pub type DeepMap = OrMap<u8, OrMap<u8, OrMap<u8, OrMap<u8, OrMap<u8, OrMap<u8, EwFlag>>>>>>;

fuzzable!(
    GCounter,
    PnCounter,
    CausalCounter,
    MvRegister<u8>,
    OrSet<u8>,
    RwSet<u8>,
    EwFlag,
    OrMap<u8, MvRegister<u8>, ObservedReset>,
    OrMap<u8, OrSet<u8>, UpdateWins>,
    OrMap<u8, CausalCounter, RemoveWins>,
    NestedMap,
    DeepMap,
    Embedded<LwwRegister<u8>>,
    List<u8>,
    Text,
);

impl Fuzzable for LwwRegister<u8> {
    const CAUSAL_ORDER: bool = false;
    fn read_op(r: &mut Bytes<'_>) -> RegisterOp {
        RegisterOp::from_bytes(r)
    }
}

/// Calls `$f::<T>($args)` for the `Fuzzable` type selected by `$sel`.
macro_rules! with_fuzzable {
    ($sel:expr, $f:ident ( $($arg:expr),* )) => {
        match $sel % 17 {
            0 => $f::<GCounter>($($arg),*),
            1 => $f::<PnCounter>($($arg),*),
            2 => $f::<CausalCounter>($($arg),*),
            3 => $f::<LwwRegister<u8>>($($arg),*),
            4 => $f::<MvRegister<u8>>($($arg),*),
            5 => $f::<OrSet<u8>>($($arg),*),
            6 => $f::<RwSet<u8>>($($arg),*),
            7 => $f::<EwFlag>($($arg),*),
            8 => $f::<OrMap<u8, MvRegister<u8>, ObservedReset>>($($arg),*),
            9 => $f::<OrMap<u8, OrSet<u8>, UpdateWins>>($($arg),*),
            10 => $f::<OrMap<u8, CausalCounter, RemoveWins>>($($arg),*),
            11 => $f::<NestedMap>($($arg),*),
            12 => $f::<Embedded<LwwRegister<u8>>>($($arg),*),
            13 => $f::<List<u8>>($($arg),*),
            14 => $f::<Text>($($arg),*),
            15 => $f::<DeepMap>($($arg),*),
            _ => $f::<OrMap<u8, MvRegister<u8>, ObservedReset>>($($arg),*),
        }
    };
}

/// The number of types the replay-based targets choose from (the first
/// byte modulo this).
pub const FUZZABLE_TYPES: u8 = 17;

// ---------------------------------------------------------------------------
// Decoded values

/// A decodable value whose validity the harness can check: every state type,
/// and `sync::Message`s (valid when their payload is).
pub trait Subject: Encodable + Clone + Debug + PartialEq {
    /// The value's invariants (for a message, its payload's).
    fn check(&self) -> Result<(), String>;

    /// Whether the decoder accepts only the canonical encoding, so that
    /// accepted bytes are exactly the value's encoding (every type but the
    /// sequences, which normalise; `docs/wire-format.md` §6.1).
    const STRICT: bool = true;

    /// A valid value built from bytes (reachable states from an op script),
    /// for seed corpora.
    fn sample(r: &mut Bytes<'_>) -> Self;
}

macro_rules! validated_subject {
    ($($t:ty => |$r:ident| $sample:expr $(, strict = $strict:expr)?;)*) => {$(
        impl Subject for $t {
            $(const STRICT: bool = $strict;)?
            fn check(&self) -> Result<(), String> {
                self.check_invariants().map_err(|e| e.to_string())
            }
            fn sample($r: &mut Bytes<'_>) -> Self {
                $sample
            }
        }
    )*};
}

/// The join of two reachable replicas built from `r`.
fn joined_sample<T: Fuzzable>(r: &mut Bytes<'_>) -> T {
    let mut replicas = reachable::<T>(r, 2);
    let second = replicas.pop().unwrap_or_default();
    let first = replicas.pop().unwrap_or_default();
    first.joined(second)
}

validated_subject! {
    GCounter => |r| joined_sample(r);
    PnCounter => |r| joined_sample(r);
    CausalCounter => |r| joined_sample(r);
    LwwRegister<u8> => |r| joined_sample(r);
    MvRegister<u8> => |r| joined_sample(r);
    OrSet<u8> => |r| joined_sample(r);
    RwSet<u8> => |r| joined_sample(r);
    EwFlag => |r| joined_sample(r);
    OrMap<u8, MvRegister<u8>, ObservedReset> => |r| joined_sample(r);
    OrMap<u8, OrSet<u8>, UpdateWins> => |r| joined_sample(r);
    OrMap<u8, CausalCounter, RemoveWins> => |r| joined_sample(r);
    NestedMap => |r| joined_sample(r);
    DeepMap => |r| joined_sample(r);
    Embedded<LwwRegister<u8>> => |r| joined_sample(r);
    List<u8> => |r| joined_sample(r), strict = false;
    Text => |r| joined_sample(r), strict = false;
    OrSet<String> => |r| {
        let mut s = OrSet::new();
        while !r.is_empty() {
            let id = ReplicaId::new(1 + u64::from(r.u8() % 3));
            let e = text(r);
            if r.bool() {
                s.remove(&e);
            } else {
                s.insert(id, e);
            }
        }
        s
    };
    VersionVector => |r| joined_sample::<GCounter>(r).as_vector().clone();
    CausalContext => |r| crate::CausalCrdt::context(&joined_sample::<OrSet<u8>>(r)).clone();
}

/// A [`DeltaSince::Summary`] whose validity the harness can check.
pub trait CheckSummary {
    /// The summary's invariants.
    fn check_summary(&self) -> Result<(), String>;
}

impl CheckSummary for VersionVector {
    fn check_summary(&self) -> Result<(), String> {
        self.check_invariants().map_err(|e| e.to_string())
    }
}

impl CheckSummary for CausalContext {
    fn check_summary(&self) -> Result<(), String> {
        self.check_invariants().map_err(|e| e.to_string())
    }
}

impl CheckSummary for (VersionVector, VersionVector) {
    fn check_summary(&self) -> Result<(), String> {
        self.0.check_summary()?;
        self.1.check_summary()
    }
}

impl<T> Subject for Message<T>
where
    T: Subject + DeltaSince,
    T::Summary: Serialize + DeserializeOwned + CheckSummary,
{
    const STRICT: bool = T::STRICT;

    fn sample(r: &mut Bytes<'_>) -> Self {
        let from = ReplicaId::new(1 + u64::from(r.u8() % 3));
        let kind = r.u8();
        let a = u64::from(r.u8());
        let x = T::sample(r);
        match kind % 4 {
            0 => Message::Deltas {
                from,
                start: a,
                end: a + 1 + (kind >> 2) as u64,
                delta: x,
            },
            1 => Message::State {
                from,
                end: a,
                state: x,
            },
            2 => Message::Digest {
                from,
                summary: x.summary(),
            },
            _ => Message::Ack { from, upto: a },
        }
    }

    fn check(&self) -> Result<(), String> {
        match self {
            Message::Deltas { delta, .. } => delta.check(),
            Message::State { state, .. } => state.check(),
            Message::Digest { summary, .. } => summary.check_summary(),
            Message::Ack { .. } => Ok(()),
        }
    }
}

/// Calls `$f::<T>($args)` for the decodable type selected by `$sel`.
macro_rules! with_subject {
    ($sel:expr, $f:ident ( $($arg:expr),* )) => {
        match $sel % 24 {
            0 => $f::<GCounter>($($arg),*),
            1 => $f::<PnCounter>($($arg),*),
            2 => $f::<CausalCounter>($($arg),*),
            3 => $f::<LwwRegister<u8>>($($arg),*),
            4 => $f::<MvRegister<u8>>($($arg),*),
            5 => $f::<OrSet<u8>>($($arg),*),
            6 => $f::<OrSet<String>>($($arg),*),
            7 => $f::<RwSet<u8>>($($arg),*),
            8 => $f::<EwFlag>($($arg),*),
            9 => $f::<OrMap<u8, MvRegister<u8>, ObservedReset>>($($arg),*),
            10 => $f::<OrMap<u8, OrSet<u8>, UpdateWins>>($($arg),*),
            11 => $f::<OrMap<u8, CausalCounter, RemoveWins>>($($arg),*),
            12 => $f::<NestedMap>($($arg),*),
            13 => $f::<Embedded<LwwRegister<u8>>>($($arg),*),
            14 => $f::<List<u8>>($($arg),*),
            15 => $f::<Text>($($arg),*),
            16 => $f::<VersionVector>($($arg),*),
            17 => $f::<CausalContext>($($arg),*),
            18 => $f::<Message<GCounter>>($($arg),*),
            19 => $f::<Message<OrSet<u8>>>($($arg),*),
            20 => $f::<Message<Text>>($($arg),*),
            21 => $f::<Message<OrMap<u8, MvRegister<u8>, ObservedReset>>>($($arg),*),
            22 => $f::<Message<PnCounter>>($($arg),*),
            _ => $f::<DeepMap>($($arg),*),
        }
    };
}

/// The number of types the decode targets choose from (the first byte
/// modulo this).
pub const SUBJECT_TYPES: u8 = 24;

// ---------------------------------------------------------------------------
// Decode targets

fn encode_ok<T: Encodable + Debug>(x: &T) -> Vec<u8> {
    match encoding::encode(x) {
        Ok(b) => b,
        Err(e) => panic!("encode failed: {e} for {x:?}"),
    }
}

/// The properties of an accepted value: valid, round trip, stable bytes.
fn check_accepted<T: Subject>(x: &T, input: Option<&[u8]>) {
    if let Err(e) = x.check() {
        panic!("C7: decoded value breaks an invariant: {e}\n{x:?}");
    }
    let bytes = encode_ok(x);
    match encoding::decode::<T>(&bytes) {
        Ok(y) => {
            assert!(y == *x, "L12: decode(encode(x)) != x\n{x:?}\n{y:?}");
            assert!(encode_ok(&y) == bytes, "L12: re-encoding is not stable");
        }
        Err(e) => panic!("L12: encode(x) does not decode: {e}\n{x:?}"),
    }
    if let Some(input) = input {
        // Strict types: bytes ↔ values is a bijection, so accepted bytes are
        // the value's own encoding. Sequences normalise: other bytes may
        // decode to the value, deterministically.
        assert!(
            !T::STRICT || input == bytes.as_slice(),
            "L12 strict decoding: accepted bytes are not the canonical encoding\n{x:?}"
        );
        if input != bytes.as_slice() {
            match encoding::decode::<T>(input) {
                Ok(z) => assert!(z == *x, "decoding is not deterministic"),
                Err(e) => panic!("accepted input rejected on a second decode: {e}"),
            }
        }
    }
}

/// The same checks through postcard, the serde path.
fn check_postcard<T: Subject>(body: &[u8]) {
    if let Ok(x) = postcard::from_bytes::<T>(body) {
        if let Err(e) = x.check() {
            panic!("C7 (serde): deserialized value breaks an invariant: {e}\n{x:?}");
        }
        match postcard::to_allocvec(&x) {
            Ok(bytes) => match postcard::from_bytes::<T>(&bytes) {
                Ok(y) => {
                    assert!(y == x, "L12 (serde): round trip differs\n{x:?}\n{y:?}");
                    assert!(
                        postcard::to_allocvec(&y).ok() == Some(bytes),
                        "L12 (serde): re-encoding is not stable"
                    );
                }
                Err(e) => panic!("L12 (serde): own encoding rejected: {e}\n{x:?}"),
            },
            Err(e) => panic!("postcard encode failed: {e}"),
        }
        // Both formats describe one value.
        check_accepted(&x, None);
    }
}

fn decode_both<T: Subject>(bytes: &[u8]) {
    let uncapped = encoding::decode::<T>(bytes);
    match &uncapped {
        Ok(x) => check_accepted(x, Some(bytes)),
        Err(e) => assert_typed(e),
    }
    check_capped(bytes, &uncapped);
    let body = bytes.get(HEADER_LEN..).unwrap_or(&[]);
    check_postcard::<T>(body);
}

/// C4's hard cap changes no outcome but one: under `Limits::max_alloc` of
/// 0–7 times the input (picked by its last byte), a decode gives what the
/// uncapped decode gave, or `AllocLimit` naming the cap.
fn check_capped<T: Subject>(bytes: &[u8], uncapped: &Result<T, DecodeError>) {
    let k = bytes.last().map_or(0, |b| usize::from(b % 8));
    let cap = bytes.len().saturating_mul(k);
    let limits = encoding::Limits::DEFAULT.with_max_alloc(cap);
    match encoding::decode_with::<T>(bytes, &limits) {
        Err(DecodeError::AllocLimit { limit }) => {
            assert!(limit == cap, "C4 cap: AllocLimit names {limit}, not {cap}");
        }
        capped => assert!(
            &capped == uncapped,
            "C4 cap: under a cap of {cap} B the decode gave {capped:?}, uncapped {uncapped:?}"
        ),
    }
}

/// C2: rejected input gets a typed error; `Rejected` (serde's free-text
/// message) is allowed but must carry a message.
fn assert_typed(e: &DecodeError) {
    if let DecodeError::Rejected(m) = e {
        assert!(!m.is_empty(), "C2: empty rejection message");
    }
}

fn decode_state_of<T: Subject>(data: &[u8]) {
    decode_both::<T>(data);
}

/// Target `decode_state`: the first byte picks a type (of
/// [`SUBJECT_TYPES`]), the rest is decoded as it, in the compact encoding
/// and (after the 4-byte header) with postcard.
pub fn decode_state(data: &[u8]) {
    let mut r = Bytes::new(data);
    let sel = r.u8();
    with_subject!(sel, decode_state_of(r.rest()));
}

fn delta_of<T: Fuzzable>(data: &[u8]) {
    decode_both::<T>(data);
    if let Ok(d) = encoding::decode::<T>(data) {
        // A delta is a state (L9): it joins into bottom as itself, and into
        // itself as nothing new.
        let mut b = T::default();
        match b.validated_join(d.clone()) {
            Ok(changed) => {
                assert!(changed != d.is_bottom(), "join report into bottom");
                assert!(b == d, "L4: bottom joined with a delta is not the delta");
            }
            Err(e) => panic!("an accepted delta is rejected by validated_join: {e}\n{d:?}"),
        }
        let mut dd = d.clone();
        assert!(!dd.join(d.clone()), "L3: d ⊔ d reports growth");
        assert!(dd == d, "L3: d ⊔ d != d");
        assert!(T::default().leq(&d), "L4: bottom is not below a delta");
    }
}

/// Target `decode_delta`: as [`decode_state`], but the selected types are
/// read as deltas of the [`Fuzzable`] types (first byte modulo
/// [`FUZZABLE_TYPES`]), with the delta laws on accepted values, or — for odd
/// selector bytes ≥ 128 — as `sync::Message`s.
pub fn decode_delta(data: &[u8]) {
    let mut r = Bytes::new(data);
    let sel = r.u8();
    if sel >= 128 && sel % 2 == 1 {
        let m = (sel >> 1) % 5;
        let rest = r.rest();
        match m {
            0 => decode_both::<Message<GCounter>>(rest),
            1 => decode_both::<Message<OrSet<u8>>>(rest),
            2 => decode_both::<Message<Text>>(rest),
            3 => decode_both::<Message<OrMap<u8, MvRegister<u8>, ObservedReset>>>(rest),
            _ => decode_both::<Message<PnCounter>>(rest),
        }
    } else {
        with_fuzzable!(sel, delta_of(r.rest()));
    }
}

fn header_valid_of<T: Subject>(body: &[u8]) {
    let mut bytes = Vec::with_capacity(HEADER_LEN + body.len());
    bytes.extend_from_slice(&MAGIC);
    bytes.push(VERSION);
    bytes.push(T::TYPE_TAG);
    bytes.extend_from_slice(body);
    decode_both::<T>(&bytes);
}

/// Target `decode_header_valid`: the first byte picks a type (of
/// [`SUBJECT_TYPES`]); the rest is a body, to which the harness prepends a
/// valid header for that type before decoding, so that mutations reach the
/// body parser.
pub fn decode_header_valid(data: &[u8]) {
    let mut r = Bytes::new(data);
    let sel = r.u8();
    with_subject!(sel, header_valid_of(r.rest()));
}

/// Which decode target an input belongs to (for [`decode_only`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeTarget {
    /// [`decode_state`] inputs.
    State,
    /// [`decode_delta`] inputs.
    Delta,
    /// [`decode_header_valid`] inputs.
    HeaderValid,
}

/// Which decoder [`decode_only`] runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decoder {
    /// The crate's compact encoding ([`encoding::decode`]).
    Compact,
    /// postcard on the body (the bytes after the 4-byte header).
    Postcard,
    /// The compact encoding under [`Limits::max_alloc`](encoding::Limits::max_alloc)
    /// of this many bytes ([`encoding::decode_with`]).
    CompactCapped(usize),
}

fn capped(cap: usize) -> encoding::Limits {
    encoding::Limits::DEFAULT.with_max_alloc(cap)
}

fn only_of<T: Subject>(bytes: &[u8], decoder: Decoder) -> bool {
    match decoder {
        Decoder::Compact => encoding::decode::<T>(bytes).is_ok(),
        Decoder::CompactCapped(cap) => encoding::decode_with::<T>(bytes, &capped(cap)).is_ok(),
        Decoder::Postcard => {
            let body = bytes.get(HEADER_LEN..).unwrap_or(&[]);
            postcard::from_bytes::<T>(body).is_ok()
        }
    }
}

/// `body` behind a valid header for `T` (a copy: the harness's allocation,
/// of the input's size, counted with the decode's).
fn with_header<T: Subject>(body: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HEADER_LEN + body.len());
    bytes.extend_from_slice(&MAGIC);
    bytes.push(VERSION);
    bytes.push(T::TYPE_TAG);
    bytes.extend_from_slice(body);
    bytes
}

fn only_header_of<T: Subject>(body: &[u8], decoder: Decoder) -> bool {
    match decoder {
        Decoder::Compact => encoding::decode::<T>(&with_header::<T>(body)).is_ok(),
        Decoder::CompactCapped(cap) => {
            encoding::decode_with::<T>(&with_header::<T>(body), &capped(cap)).is_ok()
        }
        Decoder::Postcard => postcard::from_bytes::<T>(body).is_ok(),
    }
}

/// Decodes an input of a decode target the way the target does, with one
/// decoder and without the round-trip checks; returns whether the decoder
/// accepted it. For measuring allocation (C4).
pub fn decode_only(target: DecodeTarget, decoder: Decoder, data: &[u8]) -> bool {
    let mut r = Bytes::new(data);
    let sel = r.u8();
    let rest = r.rest();
    match target {
        DecodeTarget::State => with_subject!(sel, only_of(rest, decoder)),
        DecodeTarget::HeaderValid => with_subject!(sel, only_header_of(rest, decoder)),
        DecodeTarget::Delta => {
            if sel >= 128 && sel % 2 == 1 {
                match (sel >> 1) % 5 {
                    0 => only_of::<Message<GCounter>>(rest, decoder),
                    1 => only_of::<Message<OrSet<u8>>>(rest, decoder),
                    2 => only_of::<Message<Text>>(rest, decoder),
                    3 => {
                        only_of::<Message<OrMap<u8, MvRegister<u8>, ObservedReset>>>(rest, decoder)
                    }
                    _ => only_of::<Message<PnCounter>>(rest, decoder),
                }
            } else {
                with_fuzzable!(sel, only_of(rest, decoder))
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Op scripts

/// Replica ids are `base + i`: mostly small, sometimes near `u64::MAX`.
fn replica_base(r: &mut Bytes<'_>) -> u64 {
    let b = r.u8();
    if b >= 0xf0 {
        u64::MAX - 64 + u64::from(b & 0x0f)
    } else {
        1 + u64::from(b % 3)
    }
}

/// The most steps a script runs (keeps every execution fast).
const MAX_STEPS: usize = 256;

/// A script over `replicas` replicas: mostly operations, a join every
/// fourth step on average.
fn read_steps<T: Fuzzable>(r: &mut Bytes<'_>, replicas: usize) -> Vec<Step<T::Op>> {
    let mut steps = Vec::new();
    while !r.is_empty() && steps.len() < MAX_STEPS {
        let b = r.u8();
        let i = usize::from(b >> 2) % replicas;
        if b % 4 == 3 {
            let j = usize::from(r.u8()) % replicas;
            steps.push(Step::Join(i, j));
        } else {
            steps.push(Step::Op(i, T::read_op(r)));
        }
    }
    steps
}

/// Runs a script with the law checks of [`run_steps`] (L7–L9, invariants
/// after every step); a violation panics.
fn reachable<T: Fuzzable>(r: &mut Bytes<'_>, replicas: usize) -> Vec<T> {
    let base = replica_base(r);
    let steps = read_steps::<T>(r, replicas);
    match run_steps::<T>(replicas, base, &steps) {
        Ok(run) => run.replicas,
        Err(v) => panic!("{v}\nsteps: {steps:?}"),
    }
}

fn law<T>(res: Result<T, crate::laws::LawViolation>) -> T {
    match res {
        Ok(t) => t,
        Err(v) => panic!("{v}"),
    }
}

fn valid<T: Subject>(x: &T, what: &str) {
    if let Err(e) = x.check() {
        panic!("invariants broken {what}: {e}\n{x:?}");
    }
}

// ---------------------------------------------------------------------------
// join_untrusted

fn join_untrusted_of<T: Fuzzable>(data: &[u8]) {
    let mut r = Bytes::new(data);
    let script_len = usize::from(r.u8());
    let mut script = r.take(script_len);
    let replicas = reachable::<T>(&mut script, 2);
    let remote = r.rest();
    for local in replicas {
        let before = local.clone();
        let before_bytes = encode_ok(&before);
        let mut local = local;
        match encoding::join_encoded(&mut local, remote) {
            Err(e) => {
                assert_typed(&e);
                assert!(local == before, "C3: a rejected join changed the replica");
                assert!(
                    encode_ok(&local) == before_bytes,
                    "C3: a rejected join changed the replica's bytes"
                );
            }
            Ok(changed) => {
                valid(&local, "after join_encoded");
                assert!(
                    changed == (local != before),
                    "join_encoded reports growth inexactly"
                );
                assert!(before.leq(&local), "L7: join_encoded is not an inflation");
                match encoding::decode::<T>(remote) {
                    Ok(x) => assert!(x.leq(&local), "L5: the joined value is not below"),
                    Err(e) => panic!("join_encoded accepted bytes decode rejects: {e}"),
                }
                let again = local.clone();
                assert!(
                    encoding::join_encoded(&mut local, remote) == Ok(false),
                    "L3: joining the same bytes again changed the replica"
                );
                assert!(local == again, "L3: joining again changed the replica");
            }
        }
    }
}

/// Target `join_untrusted`: `[type][n][n bytes of op script][remote bytes]`.
/// Two reachable replicas are built from the script, and the remote bytes
/// are joined into each with [`encoding::join_encoded`].
pub fn join_untrusted(data: &[u8]) {
    let mut r = Bytes::new(data);
    let sel = r.u8();
    with_fuzzable!(sel, join_untrusted_of(r.rest()));
}

// ---------------------------------------------------------------------------
// laws

fn laws_of<T: Fuzzable>(data: &[u8]) {
    let mut r = Bytes::new(data);
    let base = replica_base(&mut r);
    let steps = read_steps::<T>(&mut r, 3);
    let run = law(run_steps::<T>(3, base, &steps));
    let [x, y, z] = [&run.replicas[0], &run.replicas[1], &run.replicas[2]];
    law(check_join_laws(x, y, z));
    law(check_join_laws(z, x, y));
    law(check_delta_since(x, y));
    law(check_delta_since(z, x));
    if let [.., (_, d1), (_, d2)] = run.deltas.as_slice() {
        law(check_delta_group(x, d1, d2));
    }
}

/// Target `laws`: `[type][base][script over three replicas]`; the script's
/// steps are checked by [`run_steps`] (L7–L9, invariants), the three final
/// states by [`check_join_laws`] (L1–L6) in two rotations, and
/// [`check_delta_since`] (D9) and [`check_delta_group`] (D2).
pub fn laws(data: &[u8]) {
    let mut r = Bytes::new(data);
    let sel = r.u8();
    with_fuzzable!(sel, laws_of(r.rest()));
}

// ---------------------------------------------------------------------------
// multi_replica

/// Joins `value` into `target` through the compact encoding; honest bytes
/// must be accepted (SEC-2).
fn join_via_bytes<T: Fuzzable>(target: &mut T, value: &T) {
    let bytes = encode_ok(value);
    if let Err(e) = encoding::join_encoded(target, &bytes) {
        panic!("SEC-2: honest bytes rejected: {e}\n{value:?}");
    }
}

fn join_via_postcard<T: Fuzzable>(target: &mut T, value: &T) {
    let bytes = match postcard::to_allocvec(value) {
        Ok(b) => b,
        Err(e) => panic!("postcard encode failed: {e}"),
    };
    match postcard::from_bytes::<T>(&bytes) {
        Ok(v) => {
            if let Err(e) = target.validated_join(v) {
                panic!("SEC-2: honest state rejected by validated_join: {e}");
            }
        }
        Err(e) => panic!("SEC-2: honest postcard bytes rejected: {e}\n{value:?}"),
    }
}

const REPLICAS: usize = 5;

fn multi_replica_of<T: Fuzzable>(data: &[u8]) {
    let mut r = Bytes::new(data);
    let base = replica_base(&mut r);
    let mut states: Vec<T> = (0..REPLICAS).map(|_| T::default()).collect();
    // Each replica's own deltas, and how many of them each peer has been sent.
    let mut own: Vec<Vec<T>> = (0..REPLICAS).map(|_| Vec::new()).collect();
    let mut sent = [[0usize; REPLICAS]; REPLICAS];
    let mut all = T::default();
    let mut steps = 0;
    while !r.is_empty() && steps < MAX_STEPS {
        steps += 1;
        let b = r.u8();
        let i = usize::from(b >> 3) % REPLICAS;
        let j = (i + 1 + usize::from(b >> 6) % (REPLICAS - 1)) % REPLICAS;
        match b % 8 {
            0..=3 => {
                let op = T::read_op(&mut r);
                let id = ReplicaId::new(base.wrapping_add(i as u64));
                let before = states[i].clone();
                let delta = states[i].apply(id, &op);
                law(check_mutation(&before, &states[i], &delta));
                all.join(delta.clone());
                own[i].push(delta);
            }
            4 => {
                // i sends j the join of its own deltas j has not been sent.
                let mut interval = T::default();
                for d in &own[i][sent[i][j]..] {
                    interval.join(d.clone());
                }
                sent[i][j] = own[i].len();
                let full = states[j].clone().joined(states[i].clone());
                join_via_bytes(&mut states[j], &interval);
                valid(&states[j], "after a delta sync");
                assert!(
                    states[j].leq(&full),
                    "a delta interval brought more than the full state"
                );
            }
            5 | 6 => {
                // Digest and full state, each checked against the other.
                let summary = states[j].summary();
                let delta = states[i].delta_since(&summary);
                let mut by_digest = states[j].clone();
                join_via_bytes(&mut by_digest, &delta);
                let mut by_state = states[j].clone();
                join_via_postcard(&mut by_state, &states[i]);
                assert!(
                    by_digest == by_state,
                    "D9: digest sync != full-state sync\n{by_digest:?}\n{by_state:?}"
                );
                states[j] = if b % 8 == 5 { by_state } else { by_digest };
                valid(&states[j], "after a digest / full-state sync");
            }
            _ => sync_all(&mut states),
        }
    }
    sync_all(&mut states);
    for s in &states[1..] {
        assert!(*s == states[0], "L14: replicas differ after sync-all");
    }
    assert!(
        states[0] == all,
        "D3: the synced state is not the join of every operation's delta\n{:?}\n{all:?}",
        states[0]
    );
}

/// Everyone sends everyone its full state (through the encoding), in two
/// rounds around the ring, after which all replicas must be equal.
fn sync_all<T: Fuzzable>(states: &mut [T]) {
    let n = states.len();
    for _round in 0..2 {
        for i in 0..n {
            let from = states[i].clone();
            let to = (i + 1) % n;
            join_via_bytes(&mut states[to], &from);
        }
    }
    for s in &states[1..] {
        assert!(*s == states[0], "L14: replicas differ after sync-all");
    }
}

/// Target `multi_replica`: `[type][base][actions]` over five replicas. An
/// action is a local operation, a delta-interval sync of a pair, a digest or
/// full-state sync of a pair (each computed both ways and compared), or a
/// sync-all; at the end all replicas are equal and equal to the join of
/// every operation's delta.
pub fn multi_replica(data: &[u8]) {
    let mut r = Bytes::new(data);
    let sel = r.u8();
    with_fuzzable!(sel, multi_replica_of(r.rest()));
}

// ---------------------------------------------------------------------------
// network_sim

/// The most events a simulated script has (each runs in four modes).
const MAX_EVENTS: usize = 384;

fn network_sim_of<T: Fuzzable>(data: &[u8]) {
    let mut r = Bytes::new(data);
    let seed = u64::from(r.u16());
    let n = 2 + r.below(4);
    let base = replica_base(&mut r);
    let max_buffer = 1 + r.below(64);
    let mut events = Vec::new();
    let mut ops = 0;
    let full = (1u64 << n) - 1;
    while !r.is_empty() && events.len() < MAX_EVENTS {
        let b = r.u8();
        let a = usize::from(b >> 4) % n;
        events.push(match b % 16 {
            0..=4 => {
                ops += 1;
                Event::Op(a, T::read_op(&mut r))
            }
            5 | 6 => Event::Sync(a, (a + 1 + r.below(n - 1)) % n),
            7..=10 => Event::Deliver(u64::from(r.u8())),
            11 => Event::Drop(u64::from(r.u8())),
            12 => Event::Duplicate(u64::from(r.u8())),
            13 => Event::Partition(1 + u64::from(r.u8()) % (full - 1)),
            14 => Event::Heal,
            _ => Event::Crash(a),
        });
    }
    let mut config = SimConfig::new(n, ops);
    config.steps = events.len();
    config.max_buffer = max_buffer;
    config.check_causal = T::CAUSAL_ORDER;
    config.replica_base = Some(base);
    if let Err(f) = run_script::<T>(seed, &config, &events) {
        panic!("{f}\nevents: {events:?}");
    }
}

/// Target `network_sim`: `[type][seed: 2][replicas][base][max buffer]
/// [events]` drives [`run_script`] (2–5 replicas, up to 384 events), whose
/// oracles judge the run in all four sync modes.
pub fn network_sim(data: &[u8]) {
    let mut r = Bytes::new(data);
    let sel = r.u8();
    with_fuzzable!(sel, network_sim_of(r.rest()));
}

// ---------------------------------------------------------------------------
// sequence_model

fn scaled(f: u16, n: usize) -> usize {
    ((u64::from(f) * n as u64) >> 16) as usize
}

/// One single-replica edit, resolved against the model's length.
enum Edit {
    Insert(usize, String),
    Delete(usize, usize),
}

fn read_edit(r: &mut Bytes<'_>, len: usize) -> Edit {
    let b = r.u8();
    let f = r.u16();
    let past = b & 0xf0 == 0xf0;
    if b % 8 < 5 {
        let i = if past {
            len + 1 + usize::from(b & 3)
        } else {
            scaled(f, len + 1)
        };
        Edit::Insert(i, text(r))
    } else {
        let n = usize::from(r.u8() % 11);
        let start = if past {
            len + usize::from(b & 3)
        } else {
            scaled(f, len)
        };
        let end = if start >= len {
            start + n
        } else {
            (start + n).min(len)
        };
        Edit::Delete(start, end)
    }
}

fn text_model(data: &[u8]) {
    let mut r = Bytes::new(data);
    let mut t = Text::new();
    let mut model: Vec<char> = Vec::new();
    let mut steps = 0;
    while !r.is_empty() && steps < MAX_STEPS {
        steps += 1;
        let id = ReplicaId::new(1 + u64::from(r.u8() % 3));
        let before = t.clone();
        match read_edit(&mut r, model.len()) {
            Edit::Insert(i, s) => match t.insert(id, i, &s) {
                Ok(delta) => {
                    assert!(i <= model.len(), "insert past the end accepted");
                    let chars: Vec<char> = s.chars().collect();
                    model.splice(i..i, chars.iter().copied());
                    law(check_mutation(&before, &t, &delta));
                    let now: Vec<char> = t.to_string().chars().collect();
                    assert!(
                        now.get(i..i + chars.len()) == Some(&chars[..]),
                        "Q2: insert"
                    );
                }
                Err(_) => {
                    assert!(i > model.len(), "Q2: valid insert rejected");
                    assert!(t == before, "a failed insert changed the text");
                }
            },
            Edit::Delete(a, b) => match t.delete(id, a..b) {
                Ok(delta) => {
                    assert!(a <= b && b <= model.len(), "invalid delete accepted");
                    model.drain(a..b);
                    law(check_mutation(&before, &t, &delta));
                }
                Err(_) => {
                    assert!(b > model.len() || a > b, "Q2: valid delete rejected");
                    assert!(t == before, "a failed delete changed the text");
                }
            },
        }
        let want: String = model.iter().collect();
        assert!(t.to_string() == want, "Q4: text != model");
        assert!(t.len() == model.len(), "Q4: length != model");
        assert!(t.len_utf8() == want.len(), "UTF-8 length != model");
        valid(&t, "after a text edit");
    }
}

fn list_model(data: &[u8]) {
    let mut r = Bytes::new(data);
    let mut l: List<u8> = List::new();
    let mut model: Vec<u8> = Vec::new();
    let mut steps = 0;
    while !r.is_empty() && steps < MAX_STEPS {
        steps += 1;
        let id = ReplicaId::new(1 + u64::from(r.u8() % 3));
        let before = l.clone();
        match read_edit(&mut r, model.len()) {
            Edit::Insert(i, s) => {
                let bytes = s.as_bytes();
                let res = match bytes {
                    [one] => l.insert(id, i, *one),
                    _ => l.insert_from(id, i, bytes.iter().copied()),
                };
                match res {
                    Ok(delta) => {
                        assert!(i <= model.len(), "insert past the end accepted");
                        model.splice(i..i, bytes.iter().copied());
                        law(check_mutation(&before, &l, &delta));
                        for (k, b) in bytes.iter().enumerate() {
                            assert!(l.get(i + k) == Some(b), "Q2: insert");
                        }
                    }
                    Err(_) => {
                        assert!(i > model.len(), "Q2: valid insert rejected");
                        assert!(l == before, "a failed insert changed the list");
                    }
                }
            }
            Edit::Delete(a, b) => {
                let res = if b == a + 1 {
                    l.delete(id, a)
                } else {
                    l.delete_range(id, a..b)
                };
                match res {
                    Ok(delta) => {
                        assert!(a <= b && b <= model.len(), "invalid delete accepted");
                        model.drain(a..b);
                        law(check_mutation(&before, &l, &delta));
                    }
                    Err(_) => {
                        assert!(b > model.len() || a > b, "Q2: valid delete rejected");
                        assert!(l == before, "a failed delete changed the list");
                    }
                }
            }
        }
        assert!(l.to_vec() == model, "Q4: list != model");
        assert!(l.len() == model.len(), "Q4: length != model");
        valid(&l, "after a list edit");
    }
}

/// Target `sequence_model`: `[even: Text, odd: List<u8>][edits]`. Each edit
/// (insert 1–10 units at an index, delete a range; sometimes past the end)
/// is applied to one replica and to a `Vec` model: the visible sequence
/// equals the model after every edit (Q4), an insert's content sits at its
/// index (Q2), out-of-range edits fail and change nothing, and every delta
/// satisfies L7–L9.
pub fn sequence_model(data: &[u8]) {
    let mut r = Bytes::new(data);
    if r.u8() % 2 == 0 {
        text_model(r.rest());
    } else {
        list_model(r.rest());
    }
}

// ---------------------------------------------------------------------------
// sequence_orders

fn orders_of<T: Fuzzable>(data: &[u8]) {
    let mut r = Bytes::new(data);
    let n = 2 + r.below(3);
    let base = replica_base(&mut r);
    let seed = u64::from(r.u16());
    let mut states: Vec<T> = (0..n).map(|_| T::default()).collect();
    let mut seen: Vec<Vec<bool>> = vec![Vec::new(); n];
    let mut deltas: Vec<T> = Vec::new();
    let mut deps: Vec<Vec<usize>> = Vec::new();
    let mut steps = 0;
    while !r.is_empty() && steps < MAX_STEPS {
        steps += 1;
        let b = r.u8();
        let i = usize::from(b >> 2) % n;
        if b % 4 == 3 {
            let j = (i + 1 + r.below(n - 1)) % n;
            let other = states[j].clone();
            states[i].join(other);
            let theirs = seen[j].clone();
            let mine = &mut seen[i];
            mine.resize(mine.len().max(theirs.len()), false);
            for (m, t) in mine.iter_mut().zip(theirs) {
                *m |= t;
            }
        } else {
            let op = T::read_op(&mut r);
            let id = ReplicaId::new(base.wrapping_add(i as u64));
            let before = states[i].clone();
            let delta = states[i].apply(id, &op);
            law(check_mutation(&before, &states[i], &delta));
            if delta.is_bottom() {
                continue;
            }
            let k = deltas.len();
            deps.push(
                seen[i]
                    .iter()
                    .enumerate()
                    .filter_map(|(d, &s)| s.then_some(d))
                    .collect(),
            );
            deltas.push(delta);
            seen[i].resize(k + 1, false);
            seen[i][k] = true;
        }
    }
    let want = states
        .iter()
        .cloned()
        .fold(T::default(), |acc, s| acc.joined(s));
    let integrate = |order: &[usize], what: &str| {
        let mut x = T::default();
        for &k in order {
            if let Err(e) = x.validated_join(deltas[k].clone()) {
                panic!("SEC-2: an honest delta rejected ({what}): {e}");
            }
            valid(&x, what);
        }
        assert!(
            x == want,
            "Q1/Q6: integration order ({what}) {order:?} gives another result\n{x:?}\n{want:?}"
        );
    };
    // Generation order is a topological order.
    let generated: Vec<usize> = (0..deltas.len()).collect();
    integrate(&generated, "generation order");
    // Random topological orders (Kahn's algorithm with a seeded choice).
    let mut rng = crate::sim::SplitMix64::new(seed);
    for _ in 0..4 {
        let mut done = vec![false; deltas.len()];
        let mut order = Vec::with_capacity(deltas.len());
        while order.len() < deltas.len() {
            let ready: Vec<usize> = (0..deltas.len())
                .filter(|&k| !done[k] && deps[k].iter().all(|&d| done[d]))
                .collect();
            let k = ready[rng.below(ready.len() as u64) as usize];
            done[k] = true;
            order.push(k);
        }
        integrate(&order, "random causal order");
    }
    // Any order converges too (D3): reversed, so items wait for their origins.
    let reversed: Vec<usize> = (0..deltas.len()).rev().collect();
    integrate(&reversed, "reversed order");
}

/// Target `sequence_orders`: `[even: Text, odd: List<u8>][replicas][base]
/// [seed: 2][steps]`. Replicas edit and join each other; every delta is
/// recorded with the deltas its replica had seen (a causal DAG). The deltas
/// are then integrated from bottom in generation order, four random
/// topological orders and reverse order: each gives the join of the final
/// replicas (Q1, Q6, D3), with no honest delta rejected.
pub fn sequence_orders(data: &[u8]) {
    let mut r = Bytes::new(data);
    if r.u8() % 2 == 0 {
        orders_of::<Text>(r.rest());
    } else {
        orders_of::<List<u8>>(r.rest());
    }
}

// ---------------------------------------------------------------------------
// ormap_nested

/// The depth limit `d` at which `bytes` decode: `Ok` for every `d ≥ d*`,
/// `DepthExceeded { limit: d }` below (checked at `d* - 1` and `d*`).
fn min_depth<T: Subject>(bytes: &[u8], x: &T) -> usize {
    let at = |d: usize| encoding::decode_with::<T>(bytes, &Limits::DEFAULT.with_max_depth(d));
    let (mut lo, mut hi) = (0usize, Limits::DEFAULT.max_depth);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if at(mid).is_ok() {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    match at(lo) {
        Ok(y) => assert!(y == *x, "O6: decode at the minimal depth differs"),
        Err(e) => panic!("O6: a local value does not decode at the default depth: {e}"),
    }
    if lo > 0 {
        match at(lo - 1) {
            Err(DecodeError::DepthExceeded { limit }) => {
                assert!(limit == lo - 1, "DepthExceeded names the wrong limit");
            }
            other => panic!("C5: below the minimal depth: {other:?}"),
        }
    }
    lo
}

fn nested_of<T: Fuzzable>(data: &[u8]) {
    let mut r = Bytes::new(data);
    let depth = usize::from(r.u8() % 72);
    let script_len = usize::from(r.u8());
    let mut script = r.take(script_len);
    let replicas = reachable::<T>(&mut script, 2);
    let x = replicas[0].clone().joined(replicas[1].clone());
    let _ = format!("{x:?}");
    let bytes = encode_ok(&x);
    let d_star = min_depth(&bytes, &x);
    let at = encoding::decode_with::<T>(&bytes, &Limits::DEFAULT.with_max_depth(depth));
    match at {
        Ok(y) => {
            assert!(depth >= d_star, "decoded below the minimal depth");
            assert!(y == x, "decode under a depth limit differs");
        }
        Err(DecodeError::DepthExceeded { limit }) => {
            assert!(depth < d_star && limit == depth, "C5: wrong depth verdict");
        }
        Err(e) => panic!("a local value rejected under a depth limit: {e}"),
    }
    // Untrusted bytes under the fuzzer's depth limit.
    let limits = Limits::DEFAULT.with_max_depth(depth);
    let remote = r.rest();
    match encoding::decode_with::<T>(remote, &limits) {
        Ok(y) => {
            check_accepted(&y, Some(remote));
            let _ = format!("{y:?}");
            assert!(
                encoding::decode::<T>(remote).as_ref() == Ok(&y),
                "a value accepted under a lower depth limit is rejected under the default"
            );
        }
        Err(e) => assert_typed(&e),
    }
    let mut local = x.clone();
    match encoding::join_encoded_with(&mut local, remote, &limits) {
        Ok(_) => valid(&local, "after a nested join"),
        Err(_) => assert!(local == x, "C3: a rejected nested join changed the map"),
    }
}

/// Target `ormap_nested`: `[even: map nested 3 deep, odd: 6 deep][depth]
/// [n][n bytes of op script][remote bytes]`. A reachable nested map decodes
/// under the default limit (O6) and exactly at depths ≥ its minimal depth,
/// with `DepthExceeded` naming the limit below it (C5); the remote bytes
/// are decoded and joined under the fuzzer's depth limit; accepted values
/// round-trip and their `Debug` and `Drop` run.
pub fn ormap_nested(data: &[u8]) {
    let mut r = Bytes::new(data);
    if r.u8() % 2 == 0 {
        nested_of::<NestedMap>(r.rest());
    } else {
        nested_of::<DeepMap>(r.rest());
    }
}

// ---------------------------------------------------------------------------
// truncate_and_flip

/// At most this many cut points per input (all of them for shorter
/// encodings, evenly spaced ones for longer).
const MAX_CUTS: usize = 1024;

fn damaged<T: Fuzzable>(bytes: &[u8], target: &T) {
    match encoding::decode::<T>(bytes) {
        Ok(y) => check_accepted(&y, Some(bytes)),
        Err(e) => assert_typed(&e),
    }
    let mut t = target.clone();
    match encoding::join_encoded(&mut t, bytes) {
        Ok(_) => valid(&t, "after joining damaged bytes"),
        Err(_) => assert!(t == *target, "C3: a rejected join changed the replica"),
    }
}

fn truncate_and_flip_of<T: Fuzzable>(data: &[u8]) {
    let mut r = Bytes::new(data);
    let script_len = usize::from(r.u8()) * 2;
    let mut script = r.take(script_len);
    let replicas = reachable::<T>(&mut script, 2);
    let x = replicas[0].clone().joined(replicas[1].clone());
    let target = &replicas[1];
    let bytes = encode_ok(&x);
    let step = bytes.len().div_ceil(MAX_CUTS).max(1);
    for cut in (0..bytes.len()).step_by(step) {
        let prefix = &bytes[..cut];
        match encoding::decode::<T>(prefix) {
            Ok(y) => check_accepted(&y, Some(prefix)),
            Err(e) => assert_typed(&e),
        }
    }
    let pc = match postcard::to_allocvec(&x) {
        Ok(b) => b,
        Err(e) => panic!("postcard encode failed: {e}"),
    };
    for cut in (0..pc.len()).step_by(step) {
        if let Ok(y) = postcard::from_bytes::<T>(&pc[..cut]) {
            valid(&y, "decoded from a postcard prefix");
        }
    }
    // Bit flips: each pair of bytes names a position and a bit; the flips
    // accumulate, and each intermediate result is checked.
    let mut flipped = bytes.clone();
    let mut flips = 0;
    while !r.is_empty() && flips < 16 && !flipped.is_empty() {
        flips += 1;
        let p = usize::from(r.u16()) % flipped.len();
        let bit = r.u8() % 8;
        flipped[p] ^= 1 << bit;
        damaged(&flipped, target);
        // The same flip alone.
        let mut one = bytes.clone();
        one[p] ^= 1 << bit;
        damaged(&one, target);
    }
}

/// Target `truncate_and_flip`: `[type][n][2n bytes of op script][flips]`. The
/// join of two reachable replicas is encoded; every prefix (or up to 1,024
/// evenly spaced ones) and up to 16 bit flips (single and accumulated) must
/// decode to `Err` or a valid state that round-trips, never panic, and a
/// rejected join must leave the replica unchanged.
pub fn truncate_and_flip(data: &[u8]) {
    let mut r = Bytes::new(data);
    let sel = r.u8();
    with_fuzzable!(sel, truncate_and_flip_of(r.rest()));
}

// ---------------------------------------------------------------------------
// Seed corpora

/// The fuzz targets, by name.
pub const TARGETS: [&str; 11] = [
    "decode_state",
    "decode_delta",
    "decode_header_valid",
    "join_untrusted",
    "laws",
    "multi_replica",
    "network_sim",
    "sequence_model",
    "sequence_orders",
    "ormap_nested",
    "truncate_and_flip",
];

/// Runs the target named `name` (one of [`TARGETS`]) on `data`; `false` if
/// there is no such target.
pub fn run_target(name: &str, data: &[u8]) -> bool {
    let f: fn(&[u8]) = match name {
        "decode_state" => decode_state,
        "decode_delta" => decode_delta,
        "decode_header_valid" => decode_header_valid,
        "join_untrusted" => join_untrusted,
        "laws" => laws,
        "multi_replica" => multi_replica,
        "network_sim" => network_sim,
        "sequence_model" => sequence_model,
        "sequence_orders" => sequence_orders,
        "ormap_nested" => ormap_nested,
        "truncate_and_flip" => truncate_and_flip,
        _ => return false,
    };
    f(data);
    true
}

fn random_bytes(rng: &mut crate::sim::SplitMix64, n: usize) -> Vec<u8> {
    (0..n).map(|_| rng.next_u64() as u8).collect()
}

fn encoded_sample<T: Subject>(script: &[u8]) -> Vec<u8> {
    encode_ok(&T::sample(&mut Bytes::new(script)))
}

fn delta_sample<T: Fuzzable>(script: &[u8]) -> Vec<u8> {
    // The delta since a smaller replica's summary: a genuine delta group.
    let replicas = reachable::<T>(&mut Bytes::new(script), 2);
    let d = replicas[0].delta_since(&replicas[1].summary());
    encode_ok(&d)
}

fn join_sample<T: Fuzzable>(script: &[u8], remote: &[u8]) -> Vec<u8> {
    let n = script.len().min(255);
    let mut out = vec![n as u8];
    out.extend_from_slice(&script[..n]);
    out.extend_from_slice(&encoded_sample::<T>(remote));
    out
}

fn nested_sample<T: Subject>(depth: u8, script: &[u8], remote: &[u8]) -> Vec<u8> {
    let n = script.len().min(255);
    let mut out = vec![depth, n as u8];
    out.extend_from_slice(&script[..n]);
    out.extend_from_slice(&encoded_sample::<T>(remote));
    out
}

/// Seed inputs for the target `name`, generated deterministically from
/// `seed`: valid encodings of reachable states (decode targets, remote
/// bytes of `join_untrusted` and `ormap_nested`) and random op scripts,
/// for every type the target selects from.
pub fn seeds(name: &str, seed: u64) -> Vec<Vec<u8>> {
    let mut rng = crate::sim::SplitMix64::new(seed);
    let mut out = Vec::new();
    for size in [8usize, 48, 200] {
        let types = match name {
            "decode_state" | "decode_header_valid" => SUBJECT_TYPES,
            "sequence_model" | "sequence_orders" | "ormap_nested" => 2,
            _ => FUZZABLE_TYPES,
        };
        for sel in 0..types {
            let script = random_bytes(&mut rng, size);
            let other = random_bytes(&mut rng, size);
            let mut input = vec![sel];
            match name {
                "decode_state" => input.extend(with_subject!(sel, encoded_sample(&script))),
                "decode_header_valid" => {
                    let bytes = with_subject!(sel, encoded_sample(&script));
                    input.extend_from_slice(bytes.get(HEADER_LEN..).unwrap_or(&[]));
                }
                "decode_delta" => input.extend(with_fuzzable!(sel, delta_sample(&script))),
                "join_untrusted" => {
                    input.extend(with_fuzzable!(sel, join_sample(&script, &other)));
                }
                "ormap_nested" => {
                    let depth = rng.next_u64() as u8;
                    input.extend(if sel == 0 {
                        nested_sample::<NestedMap>(depth, &script, &other)
                    } else {
                        nested_sample::<DeepMap>(depth, &script, &other)
                    });
                }
                "truncate_and_flip" => {
                    input.push((size / 2) as u8);
                    input.extend_from_slice(&script);
                    input.extend_from_slice(&other[..other.len().min(24)]);
                }
                _ => input.extend_from_slice(&script),
            }
            out.push(input);
        }
    }
    if name == "decode_delta" {
        for m in 0..5u8 {
            let script = random_bytes(&mut rng, 64);
            // `decode_delta` reads message kind `(sel >> 1) % 5`.
            let sel = 129 + 2 * ((m + 1) % 5);
            let bytes = match m {
                0 => encoded_sample::<Message<GCounter>>(&script),
                1 => encoded_sample::<Message<OrSet<u8>>>(&script),
                2 => encoded_sample::<Message<Text>>(&script),
                3 => encoded_sample::<Message<OrMap<u8, MvRegister<u8>, ObservedReset>>>(&script),
                _ => encoded_sample::<Message<PnCounter>>(&script),
            };
            let mut input = vec![sel];
            input.extend(bytes);
            out.push(input);
        }
    }
    out
}
