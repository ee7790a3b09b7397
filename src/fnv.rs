//! 64-bit FNV-1a: a stable, dependency-free hash for short names and
//! checksums of our own files (not for security, not for content
//! addressing: those use SHA-256).

/// FNV-1a's offset basis: the hash of no bytes.
pub const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0100_0000_01b3;

/// The hash `h` continued over `data`, for input in several parts.
pub fn extend(h: u64, data: &[u8]) -> u64 {
    data.iter()
        .fold(h, |h, &b| (h ^ u64::from(b)).wrapping_mul(PRIME))
}

/// The hash of `data`.
pub fn fnv1a(data: &[u8]) -> u64 {
    extend(OFFSET, data)
}

/// `h` with its bits mixed (splitmix64's finaliser), where the high or
/// low bits are used alone: FNV leaves those of similar inputs (paths
/// that differ in a letter) alike.
pub fn mix(mut h: u64) -> u64 {
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_and_parts() {
        // FNV-1a 64 test vectors.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
        assert_eq!(extend(fnv1a(b"foo"), b"bar"), fnv1a(b"foobar"));
    }
}
