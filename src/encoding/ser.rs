//! The serializer of the compact format: serde's data model onto bytes
//! (`docs/wire-format.md` §2).

use alloc::boxed::Box;
use alloc::string::ToString;
use alloc::vec::Vec;
use core::fmt;

use serde::ser::{self, Serialize};

use super::varint;

/// Serialising a value failed. Only a `Serialize` impl outside this crate can
/// fail (every type of the crate serialises without error); the message is
/// that impl's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodeError {
    message: Box<str>,
}

impl EncodeError {
    fn zero_sized() -> Self {
        Self {
            message: "a sequence or map whose elements encode to zero bytes \
                      (the decoder requires at least one byte per element)"
                .into(),
        }
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot encode: {}", self.message)
    }
}

// `serde::ser::StdError` is `std::error::Error` (`core::error::Error` on
// `no_std`), whichever serde was built with.
impl serde::ser::StdError for EncodeError {}

impl ser::Error for EncodeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self {
            message: msg.to_string().into_boxed_str(),
        }
    }
}

/// Writes the body of an encoding into `out`.
pub(crate) struct Writer<'a> {
    pub(crate) out: &'a mut Vec<u8>,
}

impl Writer<'_> {
    fn uint(&mut self, v: u128) {
        varint::write(self.out, v);
    }
    fn int(&mut self, v: i128) {
        varint::write(self.out, varint::zigzag(v));
    }
    fn len(&mut self, n: usize) {
        // usize is at most 128 bits on every target Rust supports.
        self.uint(n as u128);
    }
}

/// A container whose length was unknown when it started: the elements are
/// counted and the count is inserted in front of them at the end.
pub(crate) struct Compound<'a, 'b> {
    w: &'b mut Writer<'a>,
    /// `Some((start, count))` when the length is written at the end.
    deferred: Option<(usize, usize)>,
    /// For a sequence or map: where its elements start, and how many.
    counted: Option<(usize, usize)>,
}

impl Compound<'_, '_> {
    fn element(&mut self) {
        if let Some((_, n)) = &mut self.deferred {
            *n = n.saturating_add(1);
        }
        if let Some((_, n)) = &mut self.counted {
            *n = n.saturating_add(1);
        }
    }
    fn finish(self) -> Result<(), EncodeError> {
        // The decoder bounds a count by the bytes left, so every element
        // must take at least one byte: refuse to write what cannot be read
        // back (a sequence of `()` or of empty structs).
        if let Some((start, n)) = self.counted {
            if self.w.out.len().saturating_sub(start) < n {
                return Err(EncodeError::zero_sized());
            }
        }
        if let Some((start, n)) = self.deferred {
            let mut prefix = Vec::with_capacity(varint::MAX_BYTES);
            varint::write(&mut prefix, n as u128);
            self.w.out.splice(start..start, prefix);
        }
        Ok(())
    }
}

impl<'a, 'b> ser::Serializer for &'b mut Writer<'a> {
    type Ok = ();
    type Error = EncodeError;
    type SerializeSeq = Compound<'a, 'b>;
    type SerializeTuple = Compound<'a, 'b>;
    type SerializeTupleStruct = Compound<'a, 'b>;
    type SerializeTupleVariant = Compound<'a, 'b>;
    type SerializeMap = Compound<'a, 'b>;
    type SerializeStruct = Compound<'a, 'b>;
    type SerializeStructVariant = Compound<'a, 'b>;

    fn serialize_bool(self, v: bool) -> Result<(), EncodeError> {
        self.out.push(u8::from(v));
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), EncodeError> {
        self.out.push(v.to_le_bytes()[0]);
        Ok(())
    }
    fn serialize_i16(self, v: i16) -> Result<(), EncodeError> {
        self.int(v.into());
        Ok(())
    }
    fn serialize_i32(self, v: i32) -> Result<(), EncodeError> {
        self.int(v.into());
        Ok(())
    }
    fn serialize_i64(self, v: i64) -> Result<(), EncodeError> {
        self.int(v.into());
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> Result<(), EncodeError> {
        self.int(v);
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result<(), EncodeError> {
        self.out.push(v);
        Ok(())
    }
    fn serialize_u16(self, v: u16) -> Result<(), EncodeError> {
        self.uint(v.into());
        Ok(())
    }
    fn serialize_u32(self, v: u32) -> Result<(), EncodeError> {
        self.uint(v.into());
        Ok(())
    }
    fn serialize_u64(self, v: u64) -> Result<(), EncodeError> {
        self.uint(v.into());
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> Result<(), EncodeError> {
        self.uint(v);
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result<(), EncodeError> {
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result<(), EncodeError> {
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), EncodeError> {
        self.uint(u32::from(v).into());
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), EncodeError> {
        self.serialize_bytes(v.as_bytes())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), EncodeError> {
        self.len(v.len());
        self.out.extend_from_slice(v);
        Ok(())
    }
    fn serialize_none(self) -> Result<(), EncodeError> {
        self.out.push(0);
        Ok(())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), EncodeError> {
        self.out.push(1);
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), EncodeError> {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), EncodeError> {
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        index: u32,
        _: &'static str,
    ) -> Result<(), EncodeError> {
        self.uint(index.into());
        Ok(())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        index: u32,
        _: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        self.uint(index.into());
        value.serialize(self)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'a, 'b>, EncodeError> {
        let deferred = match len {
            Some(n) => {
                self.len(n);
                None
            }
            None => Some((self.out.len(), 0)),
        };
        let counted = Some((self.out.len(), 0));
        Ok(Compound {
            w: self,
            deferred,
            counted,
        })
    }
    fn serialize_tuple(self, _: usize) -> Result<Compound<'a, 'b>, EncodeError> {
        Ok(Compound {
            w: self,
            deferred: None,
            counted: None,
        })
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Compound<'a, 'b>, EncodeError> {
        self.serialize_tuple(0)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        index: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Compound<'a, 'b>, EncodeError> {
        self.uint(index.into());
        self.serialize_tuple(0)
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'a, 'b>, EncodeError> {
        self.serialize_seq(len)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'a, 'b>, EncodeError> {
        self.serialize_tuple(0)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        index: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Compound<'a, 'b>, EncodeError> {
        self.uint(index.into());
        self.serialize_tuple(0)
    }
    fn is_human_readable(&self) -> bool {
        false
    }
}

impl ser::SerializeSeq for Compound<'_, '_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.element();
        value.serialize(&mut *self.w)
    }
    fn end(self) -> Result<(), EncodeError> {
        self.finish()
    }
}

macro_rules! fields {
    ($($tr:ident :: $m:ident),*) => {$(
        impl ser::$tr for Compound<'_, '_> {
            type Ok = ();
            type Error = EncodeError;
            fn $m<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), EncodeError> {
                value.serialize(&mut *self.w)
            }
            fn end(self) -> Result<(), EncodeError> {
                self.finish()
            }
        }
    )*};
}
fields!(
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), EncodeError> {
        self.element();
        key.serialize(&mut *self.w)
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), EncodeError> {
        value.serialize(&mut *self.w)
    }
    fn end(self) -> Result<(), EncodeError> {
        self.finish()
    }
}

macro_rules! named_fields {
    ($($tr:ident),*) => {$(
        impl ser::$tr for Compound<'_, '_> {
            type Ok = ();
            type Error = EncodeError;
            fn serialize_field<T: ?Sized + Serialize>(
                &mut self,
                _: &'static str,
                value: &T,
            ) -> Result<(), EncodeError> {
                value.serialize(&mut *self.w)
            }
            fn end(self) -> Result<(), EncodeError> {
                self.finish()
            }
        }
    )*};
}
named_fields!(SerializeStruct, SerializeStructVariant);
