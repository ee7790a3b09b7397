//! What each body codec costs and saves on real jobs' bodies (issue 12):
//! LZO1X-1 (protocols 2 and 3), zstd at levels 1 to 3, and the
//! extension's zstd as the client and daemon make it (`ours`:
//! [`Codec::Zstd`]), compressing and decompressing each file given (e.g.
//! preprocessed liblzma sources). Prints the bytes and the median time
//! per file over the rounds; with one codec named (`--only
//! lzo|zstd1|zstd2|zstd3|ours`) it runs just that one, and with
//! `--compress-only` it skips decompressing, for
//! `valgrind --tool=callgrind`'s instruction counts.
//!
//! ```sh
//! cargo build --release --example codec-cost
//! target/release/examples/codec-cost [--rounds N] [--only CODEC] [--compress-only] FILE...
//! ```

use std::time::Instant;

use distcc::protocol::codec::Codec;

/// Name, and zstd level (0: not a plain level).
const CODECS: [(&str, i32); 5] = [
    ("lzo", 0),
    ("zstd1", 1),
    ("zstd2", 2),
    ("zstd3", 3),
    ("ours", 0),
];

fn compress(name: &str, level: i32, data: &[u8]) -> Vec<u8> {
    match name {
        "lzo" => Codec::Lzo.compress(data),
        "ours" => Codec::Zstd.compress(data),
        _ => zstd::bulk::compress(data, level).expect("zstd"),
    }
}

fn decompress(name: &str, data: &[u8], size: usize) -> Vec<u8> {
    let codec = if name == "lzo" {
        Codec::Lzo
    } else {
        Codec::Zstd
    };
    codec.decompress(data, size as u64).expect("decompress")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut rounds = 5;
    let mut only = None;
    let mut decompressing = true;
    let mut files = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--rounds" => {
                rounds = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--rounds N")
            }
            "--only" => only = args.next(),
            "--compress-only" => decompressing = false,
            _ => files.push(std::fs::read(&a).unwrap_or_else(|e| panic!("{a}: {e}"))),
        }
    }
    assert!(
        !files.is_empty(),
        "usage: codec-cost [--rounds N] [--only CODEC] [--compress-only] FILE..."
    );
    let raw: usize = files.iter().map(Vec::len).sum();
    println!(
        "{} files, {raw} bytes, {rounds} rounds; per file: median over rounds, summed",
        files.len()
    );
    println!("| codec | bytes | / LZO | compress, ms | decompress, ms |");
    println!("|---|---:|---:|---:|---:|");
    let mut lzo_bytes = None;
    for (name, level) in CODECS {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let (mut bytes, mut comp, mut decomp) = (0, 0.0, 0.0);
        for f in &files {
            let mut c = Vec::new();
            let mut d = Vec::new();
            let mut body = Vec::new();
            for _ in 0..rounds {
                let t = Instant::now();
                body = compress(name, level, f);
                c.push(t.elapsed().as_secs_f64());
                let t = Instant::now();
                if decompressing {
                    assert_eq!(decompress(name, &body, f.len()).len(), f.len());
                }
                d.push(t.elapsed().as_secs_f64());
            }
            bytes += body.len();
            comp += median(c);
            decomp += median(d);
        }
        let base = *lzo_bytes.get_or_insert(bytes);
        println!(
            "| {name} | {bytes} | {:.3} | {:.2} | {:.2} |",
            bytes as f64 / base as f64,
            comp * 1000.0,
            decomp * 1000.0
        );
    }
}
