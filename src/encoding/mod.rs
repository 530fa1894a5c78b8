//! The compact binary encoding: versioned, canonical, and safe on untrusted
//! bytes.
//!
//! Every state and delta of the crate, and every [`sync::Message`](crate::sync::Message), encodes to
//! a 4-byte header — magic `b"cv"`, the format [`VERSION`], and a type tag
//! ([`Encodable::TYPE_TAG`]) — followed by a body in a compact serde format:
//! LEB128 varints in minimal form, zigzag for signed integers, length-prefixed
//! sequences, no field names. The body is the same shape the type's serde
//! representation describes, so sequence runs and causal-context ranges are
//! run-length encoded, and equal states encode to equal bytes. The format is
//! specified byte by byte in `docs/wire-format.md` and pinned by the golden
//! vectors in `tests/data/golden/`.
//!
//! Decoding treats the bytes as hostile (the contract C1–C7 of the test
//! plan): it never panics; every failure is a [`DecodeError`]; no length read
//! from the input is trusted before it is checked against the bytes left and
//! the [`Limits`]; container nesting is bounded by [`Limits::max_depth`]; and
//! every invariant is checked before a value is returned, so a value that
//! decodes is valid. [`join_encoded`] decodes and joins with the checks of
//! [`Validate::validated_join`], and leaves the replica unchanged on any
//! error.
//!
//! ```
//! use converge::encoding::{self, DecodeError};
//! use converge::{Lattice, OrSet, ReplicaId};
//!
//! let mut cart = OrSet::new();
//! let delta = cart.insert(ReplicaId::new(1), "milk".to_string());
//! let bytes = encoding::encode(&delta).unwrap();
//! assert_eq!(&bytes[..2], b"cv");
//!
//! // Another replica joins the bytes; a cut or corrupted message is an error
//! // and changes nothing.
//! let mut other: OrSet<String> = OrSet::new();
//! assert_eq!(
//!     encoding::join_encoded(&mut other, &bytes[..bytes.len() - 1]),
//!     Err(DecodeError::Truncated)
//! );
//! assert!(other.is_bottom());
//! assert_eq!(encoding::join_encoded(&mut other, &bytes), Ok(true));
//! assert_eq!(other, cart);
//! ```
//!
//! The body format is a serde data format, so the crate's serde
//! representations (which validate on deserialisation) are the one decoding
//! path for every format, this one included; see
//! `docs/decisions/0007-compact-encoding.md`.

// Decoding is the crate's attack surface: no panicking shortcuts, no
// unchecked indexing or arithmetic (TESTPLAN b.5). Tests opt back in.
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::panic,
        clippy::unwrap_used,
        clippy::expect_used
    )
)]

use alloc::boxed::Box;
use alloc::string::ToString;
use alloc::vec::Vec;
use core::fmt;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::InvariantViolation;
use crate::lattice::{DeltaSince, Validate};

pub(crate) mod budget;
pub(crate) mod collect;
mod de;
mod ser;
mod varint;

pub use ser::EncodeError;

/// The first two bytes of every encoding.
pub const MAGIC: [u8; 2] = *b"cv";

/// The format version this build writes and reads. A change to the bytes of
/// any type is a new version, a golden-vector diff and a CHANGELOG entry.
pub const VERSION: u8 = 1;

/// The length of the header: magic, version, type tag.
pub const HEADER_LEN: usize = 4;

/// A type with a compact encoding: its serde representation plus a type tag
/// that the header carries, so bytes of one type are never read as another
/// (B22).
///
/// The tag names the outer type (and a map's remove policy). Type parameters
/// — an `OrSet<u32>` against an `OrSet<String>` — are the application's
/// schema, as with any serde format; bytes of the wrong parameter type are
/// rejected whenever they do not parse as the declared type and its
/// invariants.
pub trait Encodable: Serialize + DeserializeOwned {
    /// The header's type tag (`docs/wire-format.md` §3).
    const TYPE_TAG: u8;
}

/// Bounds on what one decode may consume. The defaults suit messages between
/// replicas; raise them for large snapshots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The most nested containers (sequences, tuples, structs, options, enum
    /// variants) a body may open. Default 64: a value nested so deep needs a
    /// type nested so deep, but the limit holds whatever the type. Exceeded ⇒
    /// [`DecodeError::DepthExceeded`].
    pub max_depth: usize,
    /// The largest input accepted, in bytes, header included. Default 1 GiB.
    /// Larger inputs ⇒ [`DecodeError::TooLarge`] before anything is read; a
    /// declared length above it ⇒ [`DecodeError::LengthTooLarge`].
    pub max_bytes: usize,
    /// The most a decode may allocate, in bytes: a hard cap, whatever the
    /// type (C4; not every type keeps to `16 × input + 64 KiB` yet, see
    /// `docs/untrusted-input.md` §3). Default 4 GiB (`usize::MAX` where
    /// that is less). The crate's collections and strings charge what they
    /// allocate before they allocate it; the I2 check and a sequence's tree
    /// charge an upper estimate before they are built. No charge is given
    /// back, so the cap bounds the total allocated, and it is conservative:
    /// the total is about twice the peak. Exceeded ⇒
    /// [`DecodeError::AllocLimit`]. Enforced with the `std` feature (the
    /// budget is per thread); §3 of that document says what is charged.
    pub max_alloc: usize,
}

impl Limits {
    /// The defaults: depth 64, input 1 GiB, allocation 4 GiB.
    pub const DEFAULT: Self = Self {
        max_depth: 64,
        max_bytes: 1 << 30,
        max_alloc: if usize::BITS > 32 {
            1usize.wrapping_shl(32)
        } else {
            usize::MAX
        },
    };

    /// These limits with another depth bound.
    pub const fn with_max_depth(mut self, max_depth: usize) -> Self {
        self.max_depth = max_depth;
        self
    }

    /// These limits with another input-size bound.
    pub const fn with_max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// These limits with another allocation cap.
    ///
    /// ```
    /// use converge::encoding::{self, DecodeError, Limits};
    /// use converge::{OrSet, ReplicaId};
    ///
    /// let mut s = OrSet::new();
    /// for i in 0..1000u32 {
    ///     s.insert(ReplicaId::new(1), i);
    /// }
    /// let bytes = encoding::encode(&s).unwrap();
    /// let tight = Limits::DEFAULT.with_max_alloc(1024);
    /// assert_eq!(
    ///     encoding::decode_with::<OrSet<u32>>(&bytes, &tight).err(),
    ///     Some(DecodeError::AllocLimit { limit: 1024 })
    /// );
    /// let roomy = Limits::DEFAULT.with_max_alloc(1 << 20);
    /// assert_eq!(encoding::decode_with::<OrSet<u32>>(&bytes, &roomy), Ok(s));
    /// ```
    pub const fn with_max_alloc(mut self, max_alloc: usize) -> Self {
        self.max_alloc = max_alloc;
        self
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Why bytes were rejected. The replica a rejected input was meant for is
/// unchanged.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ends in the middle of a value (B1, B6).
    Truncated,
    /// A whole value was read and bytes are left over (B2).
    TrailingBytes {
        /// How many bytes follow the value.
        count: usize,
    },
    /// The input does not start with [`MAGIC`].
    BadMagic,
    /// The header's format version is not one this build reads (B3).
    UnknownVersion {
        /// The version in the header.
        found: u8,
    },
    /// The header names another type (B22).
    WrongType {
        /// The tag of the type asked for.
        expected: u8,
        /// The tag in the header.
        found: u8,
    },
    /// A varint is overlong (not minimal), longer than its type allows, or
    /// wider than its type (B4).
    InvalidVarint,
    /// A declared length or count exceeds [`Limits::max_bytes`] (B5).
    LengthTooLarge {
        /// The declared length.
        declared: u64,
        /// The limit.
        limit: u64,
    },
    /// Containers are nested deeper than [`Limits::max_depth`] (B7).
    DepthExceeded {
        /// The limit.
        limit: usize,
    },
    /// The input is larger than [`Limits::max_bytes`] (B23).
    TooLarge {
        /// The input's length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// Decoding the input would allocate more than [`Limits::max_alloc`].
    AllocLimit {
        /// The limit.
        limit: usize,
    },
    /// A string is not UTF-8, or a `char` is not a Unicode scalar value (B19).
    InvalidUtf8,
    /// A byte that has a fixed set of meanings has none of them (a `bool`
    /// or option tag other than 0 or 1).
    Malformed(&'static str),
    /// The format cannot express what the type asked for (self-describing
    /// values); a type with such a serde impl has no compact encoding.
    Unsupported(&'static str),
    /// The value parsed but breaks an invariant, or is inconsistent with the
    /// replica it was joined into (B8–B10, B14, B16–B18).
    Invalid(InvariantViolation),
    /// The value's serde impl rejected the bytes for another reason (an
    /// unknown enum variant index, a length that does not match the type);
    /// the message is serde's.
    Rejected(Box<str>),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("input ends in the middle of a value"),
            Self::TrailingBytes { count } => write!(f, "{count} bytes follow the value"),
            Self::BadMagic => f.write_str("input does not start with the converge magic"),
            Self::UnknownVersion { found } => {
                write!(
                    f,
                    "format version {found} is not supported (this build reads {VERSION})"
                )
            }
            Self::WrongType { expected, found } => write!(
                f,
                "bytes encode type tag {found:#04x}, expected {expected:#04x}"
            ),
            Self::InvalidVarint => f.write_str("varint is overlong, too long or too wide"),
            Self::LengthTooLarge { declared, limit } => {
                write!(f, "declared length {declared} exceeds the limit {limit}")
            }
            Self::DepthExceeded { limit } => write!(f, "nesting deeper than {limit}"),
            Self::TooLarge { len, limit } => {
                write!(f, "input of {len} bytes exceeds the limit {limit}")
            }
            Self::AllocLimit { limit } => {
                write!(
                    f,
                    "decoding would allocate more than the limit of {limit} bytes"
                )
            }
            Self::InvalidUtf8 => f.write_str("text is not valid UTF-8"),
            Self::Malformed(what) => write!(f, "malformed input: {what}"),
            Self::Unsupported(what) => write!(f, "the compact format has no {what}"),
            Self::Invalid(v) => write!(f, "invalid value: {v}"),
            Self::Rejected(m) => write!(f, "rejected: {m}"),
        }
    }
}

// `serde::de::StdError` is `std::error::Error` (`core::error::Error` on
// `no_std`), whichever serde was built with.
impl serde::de::StdError for DecodeError {}

impl serde::de::Error for DecodeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        if let Some(limit) = budget::take_tripped() {
            return Self::AllocLimit { limit };
        }
        match violation::take() {
            Some(v) => Self::Invalid(v),
            None => Self::Rejected(msg.to_string().into_boxed_str()),
        }
    }
}

/// Carries the typed [`InvariantViolation`] from a serde impl's validation to
/// the decoder, which only receives serde's `custom(message)`. With `std`,
/// the violation is parked in a thread-local slot; without it, the error is
/// [`DecodeError::Rejected`] with the violation's message.
pub(crate) mod violation {
    use crate::error::InvariantViolation;

    #[cfg(feature = "std")]
    std::thread_local! {
        static LAST: core::cell::Cell<Option<InvariantViolation>> =
            const { core::cell::Cell::new(None) };
    }

    /// Turns a violation found while deserialising into the format's error.
    /// The slot holds the violation only while `custom` runs: the compact
    /// decoder's `custom` takes it, and no other format sees a stale one.
    pub(crate) fn reject<E: serde::de::Error>(v: InvariantViolation) -> E {
        #[cfg(feature = "std")]
        LAST.with(|slot| slot.set(Some(v.clone())));
        let e = E::custom(&v);
        #[cfg(feature = "std")]
        LAST.with(|slot| slot.set(None));
        e
    }

    pub(crate) fn take() -> Option<InvariantViolation> {
        #[cfg(feature = "std")]
        {
            LAST.with(|slot| slot.take())
        }
        #[cfg(not(feature = "std"))]
        {
            None
        }
    }
}

/// Encodes `value` with the default header.
///
/// # Errors
///
/// Only if a `Serialize` impl of a type parameter fails; the crate's own types
/// never do.
pub fn encode<T: Encodable>(value: &T) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    encode_into(value, &mut out)?;
    Ok(out)
}

/// Appends the encoding of `value` to `out` (header first). On error `out` is
/// left as it was.
///
/// # Errors
///
/// As [`encode`].
pub fn encode_into<T: Encodable>(value: &T, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let start = out.len();
    out.extend_from_slice(&MAGIC);
    out.push(VERSION);
    out.push(T::TYPE_TAG);
    let r = value.serialize(&mut ser::Writer { out: &mut *out });
    if r.is_err() {
        out.truncate(start);
    }
    r
}

/// Decodes a `T` from `bytes` (the whole input: trailing bytes are an
/// error) under the default [`Limits`]. Every invariant of the value is
/// checked before it is returned.
///
/// # Errors
///
/// Any [`DecodeError`]; see the variants.
pub fn decode<T: Encodable>(bytes: &[u8]) -> Result<T, DecodeError> {
    decode_with(bytes, &Limits::DEFAULT)
}

/// [`decode`] under explicit limits.
///
/// # Errors
///
/// Any [`DecodeError`]; see the variants.
pub fn decode_with<T: Encodable>(bytes: &[u8], limits: &Limits) -> Result<T, DecodeError> {
    let body = check_header(bytes, T::TYPE_TAG, limits)?;
    let _budget = budget::open(limits.max_alloc);
    let mut r = de::Reader::new(body, *limits);
    let value = T::deserialize(&mut r)?;
    if !r.input.is_empty() {
        return Err(DecodeError::TrailingBytes {
            count: r.input.len(),
        });
    }
    Ok(value)
}

/// Checks the header and returns the body.
fn check_header<'a>(bytes: &'a [u8], tag: u8, limits: &Limits) -> Result<&'a [u8], DecodeError> {
    if bytes.len() > limits.max_bytes {
        return Err(DecodeError::TooLarge {
            len: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    let Some((header, body)) = bytes.split_first_chunk::<HEADER_LEN>() else {
        // A strict prefix of a header is a cut input, unless it already
        // disagrees with the magic.
        return Err(if MAGIC.iter().zip(bytes).all(|(m, b)| m == b) {
            DecodeError::Truncated
        } else {
            DecodeError::BadMagic
        });
    };
    let [m0, m1, version, found] = *header;
    if [m0, m1] != MAGIC {
        return Err(DecodeError::BadMagic);
    }
    if version != VERSION {
        return Err(DecodeError::UnknownVersion { found: version });
    }
    if found != tag {
        return Err(DecodeError::WrongType {
            expected: tag,
            found,
        });
    }
    Ok(body)
}

/// Decodes a remote state or delta from `bytes` and joins it into `replica`
/// with [`Validate::validated_join`]: the value's invariants and its
/// consistency with `replica` are checked first. Returns whether `replica`
/// changed. On any error `replica` is unchanged (C3).
///
/// # Errors
///
/// Any [`DecodeError`]; an inconsistency with `replica` (a dot naming two
/// different writes) is [`DecodeError::Invalid`].
pub fn join_encoded<T: Encodable + Validate>(
    replica: &mut T,
    bytes: &[u8],
) -> Result<bool, DecodeError> {
    join_encoded_with(replica, bytes, &Limits::DEFAULT)
}

/// [`join_encoded`] under explicit limits.
///
/// # Errors
///
/// As [`join_encoded`].
pub fn join_encoded_with<T: Encodable + Validate>(
    replica: &mut T,
    bytes: &[u8],
    limits: &Limits,
) -> Result<bool, DecodeError> {
    let other: T = decode_with(bytes, limits)?;
    replica.validated_join(other).map_err(DecodeError::Invalid)
}

mod tags {
    //! Type tags (`docs/wire-format.md` §3). Never reuse a retired tag.
    pub(super) const GCOUNTER: u8 = 0x01;
    pub(super) const PNCOUNTER: u8 = 0x02;
    pub(super) const CAUSAL_COUNTER: u8 = 0x03;
    pub(super) const LWW_REGISTER: u8 = 0x04;
    pub(super) const MV_REGISTER: u8 = 0x05;
    pub(super) const ORSET: u8 = 0x06;
    pub(super) const RWSET: u8 = 0x07;
    pub(super) const EWFLAG: u8 = 0x08;
    pub(super) const EMBEDDED: u8 = 0x09;
    pub(super) const LIST: u8 = 0x0a;
    pub(super) const TEXT: u8 = 0x0b;
    pub(super) const VERSION_VECTOR: u8 = 0x0c;
    pub(super) const CAUSAL_CONTEXT: u8 = 0x0d;
    /// `OrMap` with remove policy `ObservedReset`, `UpdateWins`, `RemoveWins`:
    /// this plus the policy's index.
    pub(super) const ORMAP: u8 = 0x10;
    /// A `sync::Message<T>`: this ORed with `T`'s tag.
    pub(super) const MESSAGE: u8 = 0x40;
}

macro_rules! encodable {
    ($($ty:ty => $tag:expr $(, where [$($g:tt)*])?;)*) => {$(
        impl<$($($g)*)?> Encodable for $ty {
            const TYPE_TAG: u8 = $tag;
        }
    )*};
}

use crate::causal::{CausalContext, CausalCrdt, VersionVector};
use crate::counter::{CausalCounter, GCounter, PnCounter};
use crate::map::{Embedded, OrMap, RemoveKind, RemovePolicy};
use crate::register::{LwwRegister, MvRegister};
use crate::sequence::{List, Text};
use crate::set::{EwFlag, OrSet, RwSet};
use core::fmt::Debug;
use core::hash::Hash;

encodable! {
    GCounter => tags::GCOUNTER;
    PnCounter => tags::PNCOUNTER;
    CausalCounter => tags::CAUSAL_COUNTER;
    EwFlag => tags::EWFLAG;
    Text => tags::TEXT;
    VersionVector => tags::VERSION_VECTOR;
    CausalContext => tags::CAUSAL_CONTEXT;
    LwwRegister<T> => tags::LWW_REGISTER, where [T: Clone + Ord + Serialize + DeserializeOwned];
    MvRegister<T> => tags::MV_REGISTER, where [T: Clone + PartialEq + Debug + Serialize + DeserializeOwned];
    OrSet<E> => tags::ORSET, where [E: Hash + Eq + Ord + Clone + Debug + Serialize + DeserializeOwned];
    RwSet<E> => tags::RWSET, where [E: Hash + Eq + Ord + Clone + Debug + Serialize + DeserializeOwned];
    Embedded<L> => tags::EMBEDDED, where [L: Validate + Debug + Serialize + DeserializeOwned];
    List<T> => tags::LIST, where [T: Clone + PartialEq + Debug + Serialize + DeserializeOwned];
}

impl<K, V, P> Encodable for OrMap<K, V, P>
where
    K: Hash + Eq + Clone + Debug + Ord + Serialize + DeserializeOwned,
    V: CausalCrdt,
    V::Store: Serialize + DeserializeOwned,
    P: RemovePolicy,
{
    const TYPE_TAG: u8 = tags::ORMAP
        + match P::KIND {
            RemoveKind::ObservedReset => 0,
            RemoveKind::UpdateWins => 1,
            RemoveKind::RemoveWins => 2,
        };
}

impl<T> Encodable for crate::sync::Message<T>
where
    T: Encodable + DeltaSince,
    T::Summary: Serialize + DeserializeOwned,
{
    const TYPE_TAG: u8 = tags::MESSAGE | T::TYPE_TAG;
}
