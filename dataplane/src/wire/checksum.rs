//! RFC 1071 Internet checksum arithmetic for the encapsulation fast path.
//!
//! Values are big-endian 16-bit ones'-complement sums, folded but not complemented,
//! so partial sums of disjoint byte ranges (pseudo-header, header, payload) combine
//! with [`combine`] and the final field value is [`finish`].

/// The folded ones'-complement sum of `data`, as a big-endian value (odd trailing byte
/// padded with zero, as RFC 1071 specifies).
#[inline]
pub fn sum(data: &[u8]) -> u16 {
    // Summing 32-bit big-endian words into a wide accumulator and folding at the end
    // equals summing 16-bit words (ones'-complement addition is associative over
    // folds) and halves the work on the one pass the IPv6 UDP checksum needs.
    let mut acc: u64 = 0;
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        acc += u64::from(u32::from_be_bytes([c[0], c[1], c[2], c[3]]));
    }
    let rest = chunks.remainder();
    let mut tail = [0u8; 4];
    tail[..rest.len()].copy_from_slice(rest);
    acc += u64::from(u32::from_be_bytes(tail));
    fold(acc)
}

/// Folds a wide accumulator of 16-bit (or 32-bit) words to 16 bits with end-around carry.
#[inline]
pub const fn fold(mut acc: u64) -> u16 {
    acc = (acc >> 32) + (acc & 0xffff_ffff);
    acc = (acc >> 32) + (acc & 0xffff_ffff);
    acc = (acc >> 16) + (acc & 0xffff);
    acc = (acc >> 16) + (acc & 0xffff);
    acc as u16
}

/// Ones'-complement sum of two partial sums.
#[inline]
pub const fn combine(a: u16, b: u16) -> u16 {
    fold(a as u64 + b as u64)
}

/// The value to store in a checksum field, given the sum over everything it covers
/// (with the field itself zero).
#[inline]
pub const fn finish(sum: u16) -> u16 {
    !sum
}

/// The IPv4 header checksum of `header` (its checksum field is treated as zero).
#[inline]
pub fn ipv4_header(header: &[u8]) -> u16 {
    let stored = u16::from_be_bytes([header[10], header[11]]);
    // Subtracting the stored value in ones'-complement (adding its complement) avoids
    // a copy of the header just to zero the field.
    finish(combine(sum(header), !stored))
}

/// The partial sum of the IPv6 pseudo-header (RFC 8200 section 8.1) for an upper-layer
/// packet of `length` bytes with the given next header.
#[inline]
pub fn ipv6_pseudo_header(src: &[u8; 16], dst: &[u8; 16], next_header: u8, length: u32) -> u16 {
    let acc = u64::from(sum(src))
        + u64::from(sum(dst))
        + u64::from(length >> 16)
        + u64::from(length & 0xffff)
        + u64::from(next_header);
    fold(acc)
}

/// The partial sum of the IPv4 pseudo-header (RFC 768) for an upper-layer packet of
/// `length` bytes with the given protocol.
#[inline]
pub fn ipv4_pseudo_header(src: &[u8; 4], dst: &[u8; 4], protocol: u8, length: u16) -> u16 {
    let acc = u64::from(sum(src)) + u64::from(sum(dst)) + u64::from(length) + u64::from(protocol);
    fold(acc)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook 16-bit loop, as the independent reference.
    fn naive(data: &[u8]) -> u16 {
        let mut acc: u32 = 0;
        for pair in data.chunks(2) {
            let word = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
            acc += u32::from(word);
            acc = (acc & 0xffff) + (acc >> 16);
        }
        acc as u16
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 section 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2.
        assert_eq!(
            sum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            0xddf2
        );
    }

    #[test]
    fn matches_naive_for_all_lengths() {
        let data: Vec<u8> = (0..600u32).map(|i| (i * 7919 % 251) as u8 ^ 0xa5).collect();
        for len in 0..data.len() {
            assert_eq!(sum(&data[..len]), naive(&data[..len]), "len {len}");
        }
        let ones = vec![0xffu8; 70_000];
        assert_eq!(sum(&ones), naive(&ones));
    }

    #[test]
    fn ipv4_header_checksum_of_a_real_header() {
        // From the scapy-built inner frame used across the crate's tests; checksum 66c9.
        let header = crate::wire::hex("4500002100010000401166c90a0000010a000002");
        assert_eq!(ipv4_header(&header), 0x66c9);
        let mut zeroed = header.clone();
        zeroed[10..12].fill(0);
        assert_eq!(ipv4_header(&zeroed), 0x66c9);
    }
}
