//! LEB128 varints, minimal form only (`docs/wire-format.md` §2.1).

use alloc::vec::Vec;

use super::DecodeError;

/// The longest varint: a `u128` takes 19 bytes of 7 bits.
pub(crate) const MAX_BYTES: usize = 19;

/// Appends `v` as an unsigned LEB128 varint: 7 bits per byte, least
/// significant group first, high bit set on every byte but the last.
pub(crate) fn write(out: &mut Vec<u8>, mut v: u128) {
    loop {
        let low = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

/// Reads a varint of at most `bits` bits from the front of `input`,
/// advancing it. Rejects an overlong form (a final byte of zero after the
/// first: the value has a shorter encoding), more bytes than `bits` needs, and
/// a value wider than `bits`. On error `input` is left where it was.
pub(crate) fn read(input: &mut &[u8], bits: u32) -> Result<u128, DecodeError> {
    let max_bytes = bits.div_ceil(7) as usize;
    let mut v: u128 = 0;
    for (i, &b) in input.iter().enumerate() {
        if i >= max_bytes {
            return Err(DecodeError::InvalidVarint);
        }
        let group = u128::from(b & 0x7f);
        // i < max_bytes ≤ 19, so shift < bits ≤ 128.
        let shift = (i as u32).saturating_mul(7);
        // Bits of this group that land at or beyond `bits` must be zero.
        let room = bits.saturating_sub(shift);
        if room < 7 && group >> room != 0 {
            return Err(DecodeError::InvalidVarint);
        }
        v |= group << shift;
        if b & 0x80 == 0 {
            if i > 0 && b == 0 {
                return Err(DecodeError::InvalidVarint);
            }
            *input = input.get(i.saturating_add(1)..).unwrap_or_default();
            return Ok(v);
        }
    }
    Err(DecodeError::Truncated)
}

/// Zigzag: 0, -1, 1, -2, ... map to 0, 1, 2, 3, ... so small magnitudes of
/// either sign take one byte.
pub(crate) fn zigzag(v: i128) -> u128 {
    ((v << 1) ^ (v >> 127)) as u128
}

/// The inverse of [`zigzag`].
pub(crate) fn unzigzag(v: u128) -> i128 {
    ((v >> 1) as i128) ^ ((v & 1) as i128).wrapping_neg()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn round_trips_and_minimal() {
        for v in [0u128, 1, 127, 128, 300, u64::MAX as u128, u128::MAX] {
            let mut out = Vec::new();
            write(&mut out, v);
            let mut input = &out[..];
            assert_eq!(read(&mut input, 128).unwrap(), v);
            assert!(input.is_empty());
        }
        for v in [0i128, -1, 1, i64::MIN as i128, i128::MIN, i128::MAX] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
    }

    #[test]
    fn b4_rejects_overlong_too_long_and_too_wide() {
        // 1 written in two bytes.
        assert_eq!(
            read(&mut &[0x81, 0x00][..], 64),
            Err(DecodeError::InvalidVarint)
        );
        // 0 in two bytes.
        assert_eq!(
            read(&mut &[0x80, 0x00][..], 64),
            Err(DecodeError::InvalidVarint)
        );
        // Eleven bytes for a u64.
        let eleven = [0xffu8; 10]
            .iter()
            .copied()
            .chain([0x01])
            .collect::<Vec<_>>();
        assert_eq!(read(&mut &eleven[..], 64), Err(DecodeError::InvalidVarint));
        // u64::MAX + 1: the tenth byte carries a bit beyond 64.
        let mut wide = Vec::new();
        write(&mut wide, u128::from(u64::MAX) + 1);
        assert_eq!(read(&mut &wide[..], 64), Err(DecodeError::InvalidVarint));
        // u64::MAX itself is fine; 256 does not fit a u8-wide read.
        let mut max = Vec::new();
        write(&mut max, u64::MAX.into());
        assert_eq!(read(&mut &max[..], 64).unwrap(), u64::MAX.into());
        assert_eq!(
            read(&mut &[0x80, 0x02][..], 8),
            Err(DecodeError::InvalidVarint)
        );
        // A varint cut short.
        assert_eq!(read(&mut &[0x80][..], 64), Err(DecodeError::Truncated));
    }
}
