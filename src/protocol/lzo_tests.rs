//! LZO1X round trips, agreement with the lzo1x crate, and the
//! decompressor on hostile input (truncation, trailing bytes, the output
//! cap, bombs, garbage).

use super::*;

const CAP: u64 = 1 << 30;

#[test]
fn empty_is_never_compressed() {
    assert!(compress(b"").is_empty());
    assert_eq!(decompress(b"", CAP).unwrap(), b"");
}

#[test]
fn round_trips_assorted_inputs() {
    let mut inputs: Vec<Vec<u8>> = vec![
        b"a".to_vec(),
        b"hello, world".to_vec(),
        vec![0xaa; 100],
        vec![0; 70_000],
        (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect(),
    ];
    let text: Vec<u8> = (0..5000)
        .flat_map(|i| format!("int f{i}(void) {{ return {i}; }}\n").into_bytes())
        .collect();
    inputs.push(text);
    for input in inputs {
        let c = compress(&input);
        assert_eq!(&c[c.len() - 3..], &[0x11, 0, 0], "end marker");
        assert_eq!(decompress(&c, CAP).unwrap(), input);
    }
}

#[test]
fn decodes_what_lzo1x_crate_decodes() {
    let data: Vec<u8> = b"abcabcabcabcXYZ".repeat(1000);
    for level in 1..=13 {
        let c = lzo1x::compress(&data, lzo1x::CompressLevel::new(level));
        assert_eq!(decompress(&c, CAP).unwrap(), data, "level {level}");
    }
}

#[test]
fn truncated_stream_is_an_error() {
    let c = compress(&b"some text that compresses, some text that compresses".repeat(20));
    for cut in [1, 2, 3, c.len() / 2] {
        assert!(decompress(&c[..c.len() - cut], CAP).is_err(), "cut {cut}");
    }
}

#[test]
fn trailing_bytes_are_an_error() {
    let mut c = compress(b"payload payload payload");
    c.push(0);
    assert_eq!(decompress(&c, CAP), Err(LzoError::TrailingInput(1)));
}

#[test]
fn output_cap_is_enforced() {
    let c = compress(&vec![7u8; 1 << 20]);
    assert_eq!(decompress(&c, 1000), Err(LzoError::OutputTooLarge(1000)));
}

#[test]
fn garbage_never_panics() {
    for seed in 0..2000u32 {
        let junk: Vec<u8> = (0..(seed % 64))
            .map(|i| (seed.wrapping_mul(2654435761) >> (i % 24)) as u8)
            .collect();
        let _ = decompress(&junk, 1 << 16);
    }
}

/// A bomb: a literal, then one M3 match whose length is spelled out
/// in `zeros` zero bytes (255 each): 255 * zeros bytes of output.
fn bomb(zeros: usize) -> Vec<u8> {
    let mut b = vec![17 + 1, b'x', 0x20];
    b.extend(std::iter::repeat_n(0u8, zeros));
    b.extend_from_slice(&[1, 0, 0]); // last length byte, distance 1
    b.extend_from_slice(&[0x11, 0, 0]);
    b
}

#[test]
fn a_bomb_is_measured_without_being_expanded() {
    let b = bomb(40_000); // ~10 MB of output from 40 KB
    let n = decompressed_len(&b, CAP).unwrap();
    assert!(n > 10_000_000, "{n}");
    assert_eq!(decompress(&b, CAP).unwrap().len() as u64, n);
    assert_eq!(
        decompressed_len(&b, 1 << 20),
        Err(LzoError::OutputTooLarge(1 << 20))
    );
}

#[test]
fn all_three_outputs_agree() {
    let mut inputs = vec![bomb(10), bomb(9000)];
    inputs.push(compress(
        &(0..3_000_000u32)
            .map(|i| (i.wrapping_mul(i) >> 7) as u8)
            .collect::<Vec<_>>(),
    ));
    inputs.push(compress(&b"xyz".repeat(800_000)));
    for c in inputs {
        let whole = decompress(&c, CAP).unwrap();
        assert_eq!(decompressed_len(&c, CAP).unwrap(), whole.len() as u64);
        let mut streamed = Vec::new();
        let n = decompress_to(&c, CAP, &mut streamed).unwrap();
        assert_eq!(n, whole.len() as u64);
        assert!(streamed == whole, "streamed output differs");
    }
}

#[test]
fn streaming_reports_stream_and_sink_errors() {
    let c = compress(&b"abc".repeat(1000));
    let err = decompress_to(&c[..c.len() - 1], CAP, &mut Vec::new()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    assert!(err.to_string().contains("truncated"), "{err}");
    struct Full;
    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::other("disk full"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let big = compress(&vec![1u8; 5 << 20]);
    let err = decompress_to(&big, CAP, &mut Full).unwrap_err();
    assert!(err.to_string().contains("disk full"), "{err}");
}
