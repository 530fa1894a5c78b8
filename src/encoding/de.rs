//! The deserializer of the compact format. Every read is bounds-checked,
//! every length is checked against the bytes left before anything is
//! allocated, and every container counts against the depth limit
//! (`docs/wire-format.md` §2 and §4).

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use super::{varint, DecodeError, Limits};

/// Reads one body from a byte slice.
pub(crate) struct Reader<'de> {
    pub(crate) input: &'de [u8],
    depth: usize,
    limits: Limits,
}

impl<'de> Reader<'de> {
    pub(crate) fn new(input: &'de [u8], limits: Limits) -> Self {
        Self {
            input,
            depth: 0,
            limits,
        }
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        let (&b, rest) = self.input.split_first().ok_or(DecodeError::Truncated)?;
        self.input = rest;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&'de [u8], DecodeError> {
        if n > self.input.len() {
            return Err(DecodeError::Truncated);
        }
        let (head, rest) = self.input.split_at(n);
        self.input = rest;
        Ok(head)
    }

    fn uint(&mut self, bits: u32) -> Result<u128, DecodeError> {
        varint::read(&mut self.input, bits)
    }

    fn int(&mut self, bits: u32) -> Result<i128, DecodeError> {
        let v = varint::unzigzag(self.uint(bits)?);
        Ok(v)
    }

    /// A length or element count. Each element takes at least one byte, so a
    /// count above the bytes left is either a cut input (`Truncated`) or, if
    /// it exceeds the input limit itself, a lie (`LengthTooLarge`). Nothing
    /// is allocated from a count before this check.
    fn len(&mut self) -> Result<usize, DecodeError> {
        let n = self.uint(64)?;
        let n = u64::try_from(n).map_err(|_| DecodeError::InvalidVarint)?;
        if n > self.limits.max_bytes as u64 {
            return Err(DecodeError::LengthTooLarge {
                declared: n,
                limit: self.limits.max_bytes as u64,
            });
        }
        if n > self.input.len() as u64 {
            return Err(DecodeError::Truncated);
        }
        // n ≤ input.len(), a usize.
        usize::try_from(n).map_err(|_| DecodeError::Truncated)
    }

    /// Charges `n` bytes to the allocation budget ([`super::budget`]).
    fn charge(&self, n: usize) -> Result<(), DecodeError> {
        super::budget::charge(n).map_err(|_| {
            // Reported here, not through serde's `custom`.
            let _ = super::budget::take_tripped();
            DecodeError::AllocLimit {
                limit: self.limits.max_alloc,
            }
        })
    }

    fn enter(&mut self) -> Result<(), DecodeError> {
        if self.depth >= self.limits.max_depth {
            return Err(DecodeError::DepthExceeded {
                limit: self.limits.max_depth,
            });
        }
        self.depth = self.depth.saturating_add(1);
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn nested<V, F>(&mut self, f: F) -> Result<V, DecodeError>
    where
        F: FnOnce(&mut Self) -> Result<V, DecodeError>,
    {
        self.enter()?;
        let r = f(self);
        self.leave();
        r
    }
}

macro_rules! uint {
    ($($m:ident $visit:ident $t:ty, $bits:expr;)*) => {$(
        fn $m<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
            let x = self.uint($bits)?;
            v.$visit(<$t>::try_from(x).map_err(|_| DecodeError::InvalidVarint)?)
        }
    )*};
}
macro_rules! int {
    ($($m:ident $visit:ident $t:ty, $bits:expr;)*) => {$(
        fn $m<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
            let x = self.int($bits)?;
            v.$visit(<$t>::try_from(x).map_err(|_| DecodeError::InvalidVarint)?)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for &mut Reader<'de> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, DecodeError> {
        Err(DecodeError::Unsupported("self-describing values"))
    }
    fn deserialize_ignored_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, DecodeError> {
        Err(DecodeError::Unsupported("skipping values"))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        match self.byte()? {
            0 => v.visit_bool(false),
            1 => v.visit_bool(true),
            _ => Err(DecodeError::Malformed("a bool other than 0 or 1")),
        }
    }
    fn deserialize_u8<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        v.visit_u8(self.byte()?)
    }
    fn deserialize_i8<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        v.visit_i8(i8::from_le_bytes([self.byte()?]))
    }
    uint! {
        deserialize_u16 visit_u16 u16, 16;
        deserialize_u32 visit_u32 u32, 32;
        deserialize_u64 visit_u64 u64, 64;
        deserialize_u128 visit_u128 u128, 128;
    }
    int! {
        deserialize_i16 visit_i16 i16, 16;
        deserialize_i32 visit_i32 i32, 32;
        deserialize_i64 visit_i64 i64, 64;
        deserialize_i128 visit_i128 i128, 128;
    }
    fn deserialize_f32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        let b = self.take(4)?;
        let a: [u8; 4] = b.try_into().map_err(|_| DecodeError::Truncated)?;
        v.visit_f32(f32::from_le_bytes(a))
    }
    fn deserialize_f64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        let b = self.take(8)?;
        let a: [u8; 8] = b.try_into().map_err(|_| DecodeError::Truncated)?;
        v.visit_f64(f64::from_le_bytes(a))
    }
    fn deserialize_char<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        let x = self.uint(32)?;
        let c = u32::try_from(x)
            .ok()
            .and_then(char::from_u32)
            .ok_or(DecodeError::InvalidUtf8)?;
        v.visit_char(c)
    }
    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        let n = self.len()?;
        // Borrowed here, but most visitors copy it into a `String`.
        self.charge(n)?;
        let b = self.take(n)?;
        let s = core::str::from_utf8(b).map_err(|_| DecodeError::InvalidUtf8)?;
        v.visit_borrowed_str(s)
    }
    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        self.deserialize_str(v)
    }
    fn deserialize_bytes<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        let n = self.len()?;
        self.charge(n)?;
        v.visit_borrowed_bytes(self.take(n)?)
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        self.deserialize_bytes(v)
    }
    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        match self.byte()? {
            0 => v.visit_none(),
            1 => self.nested(|r| v.visit_some(r)),
            _ => Err(DecodeError::Malformed("an option tag other than 0 or 1")),
        }
    }
    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        v.visit_unit()
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        v: V,
    ) -> Result<V::Value, DecodeError> {
        v.visit_unit()
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        v: V,
    ) -> Result<V::Value, DecodeError> {
        self.nested(|r| v.visit_newtype_struct(r))
    }
    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        let n = self.len()?;
        // For the visitor's collection, which may ask for a lease before it
        // reads the first element (`budget::lease`). Cleared at that
        // element and after the visit, so that nothing nested in it, or
        // after it, finds this sequence's note.
        super::budget::note_seq(self.input.len());
        let r = self.nested(|r| {
            v.visit_seq(Elements {
                r,
                left: n,
                noted: true,
            })
        });
        super::budget::note_seq(0);
        r
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, n: usize, v: V) -> Result<V::Value, DecodeError> {
        self.nested(|r| {
            v.visit_seq(Elements {
                r,
                left: n,
                noted: false,
            })
        })
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        n: usize,
        v: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_tuple(n, v)
    }
    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        let n = self.len()?;
        self.nested(|r| {
            v.visit_map(Elements {
                r,
                left: n,
                noted: false,
            })
        })
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_tuple(fields.len(), v)
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DecodeError> {
        self.nested(|r| v.visit_enum(r))
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        let x = self.uint(32)?;
        v.visit_u32(u32::try_from(x).map_err(|_| DecodeError::InvalidVarint)?)
    }
    fn is_human_readable(&self) -> bool {
        false
    }
}

/// The size hint for `left` more elements when `remaining` input bytes are
/// left: the declared count, which was checked against the bytes left when
/// it was read (`left ≤ remaining`). The crate's own collections reserve at
/// most 4 KiB from it and grow towards it as elements arrive, except one
/// collection of flat elements at a time, which reserves it at once when
/// the bytes left back it (`encoding::collect`, `budget::Lease`); serde's
/// own `Vec` caps its preallocation at 1 MiB.
fn hint(left: usize, remaining: usize) -> usize {
    left.min(remaining)
}

/// The elements of a sequence, tuple or map: `left` more to read.
struct Elements<'a, 'de> {
    r: &'a mut Reader<'de>,
    left: usize,
    /// Whether the sequence's note (`budget::note_seq`) is still to be
    /// cleared, at the first element.
    noted: bool,
}

impl<'de> de::SeqAccess<'de> for Elements<'_, 'de> {
    type Error = DecodeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DecodeError> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left = self.left.saturating_sub(1);
        if self.noted {
            self.noted = false;
            super::budget::note_seq(0);
        }
        seed.deserialize(&mut *self.r).map(Some)
    }
    fn size_hint(&self) -> Option<usize> {
        Some(hint(self.left, self.r.input.len()))
    }
}

impl<'de> de::MapAccess<'de> for Elements<'_, 'de> {
    type Error = DecodeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DecodeError> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left = self.left.saturating_sub(1);
        seed.deserialize(&mut *self.r).map(Some)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DecodeError> {
        seed.deserialize(&mut *self.r)
    }
    fn size_hint(&self) -> Option<usize> {
        Some(hint(self.left, self.r.input.len()))
    }
}

impl<'de> de::EnumAccess<'de> for &mut Reader<'de> {
    type Error = DecodeError;
    type Variant = Self;
    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self), DecodeError> {
        let x = self.uint(32)?;
        let index = u32::try_from(x).map_err(|_| DecodeError::InvalidVarint)?;
        let v = seed.deserialize(index.into_deserializer())?;
        Ok((v, self))
    }
}

impl<'de> de::VariantAccess<'de> for &mut Reader<'de> {
    type Error = DecodeError;
    fn unit_variant(self) -> Result<(), DecodeError> {
        Ok(())
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, DecodeError> {
        seed.deserialize(self)
    }
    fn tuple_variant<V: Visitor<'de>>(self, n: usize, v: V) -> Result<V::Value, DecodeError> {
        de::Deserializer::deserialize_tuple(self, n, v)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DecodeError> {
        de::Deserializer::deserialize_tuple(self, fields.len(), v)
    }
}
