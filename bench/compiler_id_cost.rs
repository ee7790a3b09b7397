//! What the compiler check costs the client per job (issue 12): the
//! identity of a compiler, computed once and then looked up in
//! `$DISTCC_DIR/compiler-id/` (a `stat` of the driver, one small read, a
//! `stat` of each hashed program). Times the first, uncached call and the
//! median of many cached ones, with the client's own code.
//!
//! ```sh
//! cargo build --release --example compiler-id-cost
//! target/release/examples/compiler-id-cost [COMPILER ...]
//! ```

use std::ffi::OsStr;
use std::path::PathBuf;
use std::time::Instant;

use distcc::client::compiler_id::identity;
use distcc::client::local::spawn::Spawner;

const CACHED_CALLS: usize = 2000;

fn main() {
    let mut names: Vec<String> = std::env::args().skip(1).collect();
    if names.is_empty() {
        names = vec!["gcc".into(), "g++".into(), "clang".into()];
    }
    let top = std::env::temp_dir().join(format!("compiler-id-cost-{}", std::process::id()));
    let spawner = Spawner {
        path: vec![PathBuf::from("/usr/bin"), PathBuf::from("/bin")],
        set_path: false,
        safeguard: "1".into(),
    };
    println!(
        "| compiler | first call (computed), ms | cached call, median µs | cached call, p99 µs |"
    );
    println!("|---|---:|---:|---:|");
    for name in &names {
        let name = OsStr::new(name);
        let began = Instant::now();
        let Some(id) = identity(&top, &spawner, name) else {
            eprintln!("{}: no identity", name.to_string_lossy());
            continue;
        };
        let first = began.elapsed();
        let mut times: Vec<f64> = (0..CACHED_CALLS)
            .map(|_| {
                let t = Instant::now();
                let again = identity(&top, &spawner, name).expect("cached");
                let us = t.elapsed().as_secs_f64() * 1e6;
                assert_eq!(again, id);
                us
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "| {} ({}) | {:.1} | {:.1} | {:.1} |",
            name.to_string_lossy(),
            id,
            first.as_secs_f64() * 1e3,
            times[times.len() / 2],
            times[times.len() * 99 / 100]
        );
    }
    let _ = std::fs::remove_dir_all(&top);
}
