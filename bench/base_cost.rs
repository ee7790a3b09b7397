//! What a base costs and saves (docs/extension.md §12, issue 12): each
//! file given is sent as the extension sends it without a base (`zstd`:
//! [`Codec::Zstd`]), as protocol 2 does (`lzo`), and as a delta against
//! the base made of the first file (`delta`: [`bodybase::delta`], its
//! bytes zstd-compressed), then rebuilt as the daemon does. Prints the
//! bytes; the work is done in functions named `cost_<what>` so that
//! `valgrind --tool=callgrind --toggle-collect='*cost_delta*'` counts the
//! instructions of one of them alone.
//!
//! ```sh
//! cargo build --release --example base-cost
//! target/release/examples/base-cost BASE_SOURCE FILE...
//! ```

use distcc::protocol::bodybase;
use distcc::protocol::codec::Codec;

#[inline(never)]
fn cost_lzo(body: &[u8]) -> usize {
    Codec::Lzo.compress(body).len()
}

#[inline(never)]
fn cost_zstd(body: &[u8]) -> usize {
    Codec::Zstd.compress(body).len()
}

/// What the client does: find the copies, compress the delta.
#[inline(never)]
fn cost_delta(base: &[u8], body: &[u8]) -> Vec<u8> {
    match bodybase::delta(base, body) {
        Some((copies, lits)) => Codec::Zstd.compress(&bodybase::encode(&copies, &lits)),
        None => Codec::Zstd.compress(body),
    }
}

/// What the daemon does: decompress the delta, rebuild the body.
#[inline(never)]
fn cost_rebuild(base: &[u8], frame: &[u8]) -> Vec<u8> {
    let delta = Codec::Zstd.decompress(frame, u64::MAX).expect("frame");
    bodybase::rebuild(base, &delta, u64::MAX).expect("delta")
}

#[inline(never)]
fn cost_unzstd(frame: &[u8]) -> Vec<u8> {
    Codec::Zstd.decompress(frame, u64::MAX).expect("frame")
}

#[inline(never)]
fn cost_unlzo(packed: &[u8]) -> Vec<u8> {
    // As the daemon reads protocol 2: the size first, then the body.
    Codec::Lzo.decompressed_len(packed, u64::MAX).expect("size");
    Codec::Lzo.decompress(packed, u64::MAX).expect("body")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    assert!(args.len() >= 2, "usage: base-cost BASE_SOURCE FILE...");
    let read = |f: &String| std::fs::read(f).unwrap_or_else(|e| panic!("{f}: {e}"));
    let base = bodybase::base_of(&read(&args[0]));
    let (mut raw, mut lzo, mut zstd, mut delta) = (0, 0, 0, 0);
    for f in &args[1..] {
        let body = read(f);
        raw += body.len();
        let packed = Codec::Lzo.compress(&body);
        lzo += cost_lzo(&body);
        assert_eq!(cost_unlzo(&packed), body);
        zstd += cost_zstd(&body);
        assert_eq!(cost_unzstd(&Codec::Zstd.compress(&body)), body);
        let frame = cost_delta(&base, &body);
        delta += frame.len();
        if bodybase::delta(&base, &body).is_some() {
            assert_eq!(cost_rebuild(&base, &frame), body);
        }
    }
    let n = args.len() - 1;
    println!("{n} files, {raw} bytes; base {} bytes", base.len());
    println!("| | bytes | / LZO |");
    println!("|---|---:|---:|");
    for (what, b) in [("LZO", lzo), ("zstd", zstd), ("zstd delta", delta)] {
        println!("| {what} | {b} | {:.3} |", b as f64 / lzo as f64);
    }
}
