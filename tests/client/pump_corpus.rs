//! Pump mode is safe system-wide (issue 16): real C and C++ code bases,
//! the ones `-sys` crates of the Rust registry vendor, built with their
//! own flags through `pump make -j4` and our daemon on loopback. Every
//! object must be byte-identical to a local build's, and every job must
//! either go out in pump mode or say why not (preprocessed here, or
//! compiled here): never a failed build, never a silent difference.
//!
//! [`CORPUS`] is the one table. The test suite builds the entries marked
//! `fast` (about a minute); `bench/pump-corpus.sh` builds them all and
//! prints the table recorded in bench/RESULTS.md. The flags are each
//! crate's `build.rs` flags for x86-64 Linux, with cc's `-O2 -fPIC
//! -ffunction-sections -fdata-sections`.

use std::collections::BTreeMap;
use std::path::Path;

use super::harness::{Farm, Kind, assert_ok, text};
use super::realbuilds::registry_crate;
use crate::support;

/// One code base: a crate, the sources it compiles (a path ending in `/`
/// is every `.c`/`.cc`/`.cpp` directly in that directory), and its flags.
pub struct Recipe {
    pub name: &'static str,
    pub krate: &'static str,
    pub version: &'static str,
    pub sources: &'static [&'static str],
    /// File stems left out of directories (programs, generators, amalgamations).
    pub skip: &'static [&'static str],
    pub cc: &'static str,
    pub flags: &'static str,
    /// In the test suite's subset.
    pub fast: bool,
}

const CC_FLAGS: &str = "-O2 -fPIC -ffunction-sections -fdata-sections";

pub const CORPUS: &[Recipe] = &[
    Recipe {
        name: "zlib",
        krate: "libz-sys",
        version: "1.1.33",
        sources: &["src/zlib/"],
        skip: &[],
        cc: "gcc",
        flags: "-DSTDC -D_LARGEFILE64_SOURCE -fvisibility=hidden -Isrc/zlib",
        fast: true,
    },
    Recipe {
        name: "bzip2",
        krate: "bzip2-sys",
        version: "0.1.13+1.0.8",
        sources: &[
            "bzip2-1.0.8/blocksort.c",
            "bzip2-1.0.8/huffman.c",
            "bzip2-1.0.8/crctable.c",
            "bzip2-1.0.8/randtable.c",
            "bzip2-1.0.8/compress.c",
            "bzip2-1.0.8/decompress.c",
            "bzip2-1.0.8/bzlib.c",
        ],
        skip: &[],
        cc: "gcc",
        flags: "-Ibzip2-1.0.8 -D_FILE_OFFSET_BITS=64 -DBZ_NO_STDIO",
        fast: true,
    },
    Recipe {
        name: "lz4",
        krate: "lz4-sys",
        version: "1.11.1+lz4-1.10.0",
        sources: &[
            "liblz4/lib/lz4.c",
            "liblz4/lib/lz4frame.c",
            "liblz4/lib/lz4hc.c",
            "liblz4/lib/xxhash.c",
        ],
        skip: &[],
        cc: "gcc",
        flags: "-Iliblz4/lib",
        fast: false,
    },
    Recipe {
        name: "meshoptimizer (C++)",
        krate: "meshopt",
        version: "0.4.1",
        sources: &["vendor/src/"],
        skip: &[],
        cc: "g++",
        flags: "-std=c++11 -Isrc",
        fast: true,
    },
    Recipe {
        name: "liblzma",
        krate: "lzma-sys",
        version: "0.1.20",
        sources: &[
            "xz-5.2/src/liblzma/common/",
            "xz-5.2/src/liblzma/lzma/",
            "xz-5.2/src/liblzma/lz/",
            "xz-5.2/src/liblzma/check/",
            "xz-5.2/src/liblzma/delta/",
            "xz-5.2/src/liblzma/rangecoder/",
            "xz-5.2/src/liblzma/simple/",
            "xz-5.2/src/common/tuklib_cpucores.c",
            "xz-5.2/src/common/tuklib_physmem.c",
        ],
        skip: &[
            "crc32_small",
            "crc64_small",
            "crc32_tablegen",
            "crc64_tablegen",
            "price_tablegen",
            "fastpos_tablegen",
        ],
        cc: "gcc",
        flags: "-std=c99 -pthread -DHAVE_CONFIG_H=1 -Ixz-5.2/src/liblzma/api \
                -Ixz-5.2/src/liblzma/common -Ixz-5.2/src/liblzma/lzma -Ixz-5.2/src/liblzma/lz \
                -Ixz-5.2/src/liblzma/check -Ixz-5.2/src/liblzma/delta \
                -Ixz-5.2/src/liblzma/rangecoder -Ixz-5.2/src/liblzma/simple \
                -Ixz-5.2/src/common -I.",
        fast: false,
    },
    Recipe {
        name: "zstd",
        krate: "zstd-sys",
        version: "2.2.0+zstd.1.6.0",
        sources: &[
            "zstd/lib/common/",
            "zstd/lib/compress/",
            "zstd/lib/decompress/",
            "zstd/lib/dictBuilder/",
        ],
        skip: &[],
        cc: "gcc",
        flags: "-Izstd/lib -Izstd/lib/common -fvisibility=hidden -DZSTD_MULTITHREAD -pthread \
                -DZSTD_LEGACY_SUPPORT=0 -DZSTD_DISABLE_ASM",
        fast: false,
    },
    Recipe {
        name: "lua 5.4",
        krate: "lua-src",
        version: "547.1.0",
        sources: &["lua-5.4.7/"],
        skip: &["lua", "luac", "onelua"],
        cc: "gcc",
        flags: "-DLUA_USE_LINUX -DLUA_COMPAT_5_3 -Ilua-5.4.7",
        fast: false,
    },
    Recipe {
        name: "sqlite",
        krate: "libsqlite3-sys",
        version: "0.30.1",
        sources: &["sqlite3/sqlite3.c"],
        skip: &[],
        cc: "gcc",
        flags: "-DSQLITE_CORE -DSQLITE_DEFAULT_FOREIGN_KEYS=1 -DSQLITE_ENABLE_API_ARMOR \
                -DSQLITE_ENABLE_COLUMN_METADATA -DSQLITE_ENABLE_DBSTAT_VTAB -DSQLITE_ENABLE_FTS3 \
                -DSQLITE_ENABLE_FTS3_PARENTHESIS -DSQLITE_ENABLE_FTS5 -DSQLITE_ENABLE_JSON1 \
                -DSQLITE_ENABLE_LOAD_EXTENSION=1 -DSQLITE_ENABLE_MEMORY_MANAGEMENT \
                -DSQLITE_ENABLE_RTREE -DSQLITE_ENABLE_STAT4 -DSQLITE_SOUNDEX \
                -DSQLITE_THREADSAFE=1 -DSQLITE_USE_URI -DHAVE_USLEEP=1 -DHAVE_ISNAN \
                -D_POSIX_THREAD_SAFE_FUNCTIONS -DHAVE_LOCALTIME_R",
        fast: false,
    },
    Recipe {
        name: "mimalloc",
        krate: "libmimalloc-sys",
        version: "0.1.49",
        sources: &["c_src/mimalloc/v2/src/static.c"],
        skip: &[],
        cc: "gcc",
        flags: "-Ic_src/mimalloc/v2/include -Ic_src/mimalloc/v2/src -DMI_DEBUG=0 \
                -DMI_BUILD_RELEASE -DNDEBUG -ftls-model=initial-exec -fno-builtin-malloc",
        fast: false,
    },
    Recipe {
        name: "brotli",
        krate: "brotli-sys",
        version: "0.3.2",
        sources: &["brotli/common/", "brotli/dec/", "brotli/enc/"],
        skip: &[],
        cc: "gcc",
        flags: "-Ibrotli/include",
        fast: false,
    },
    Recipe {
        name: "libwebp",
        krate: "libwebp-sys",
        version: "0.9.6",
        sources: &[
            "vendor/src/dec/",
            "vendor/src/demux/",
            "vendor/src/dsp/",
            "vendor/src/enc/",
            "vendor/src/mux/",
            "vendor/src/utils/",
            "vendor/sharpyuv/",
        ],
        skip: &[],
        cc: "gcc",
        flags: "-Ivendor -DNDEBUG",
        fast: false,
    },
    Recipe {
        name: "tree-sitter",
        krate: "tree-sitter",
        version: "0.24.7",
        sources: &["src/lib.c"],
        skip: &[],
        cc: "gcc",
        flags: "-std=c11 -fvisibility=hidden -Wno-unused-parameter \
                -Wno-incompatible-pointer-types -Isrc -Isrc/wasm -Iinclude",
        fast: false,
    },
    Recipe {
        name: "freetype (as C++)",
        krate: "freetype-sys",
        version: "0.20.1",
        sources: &[
            "freetype2/src/autofit/autofit.c",
            "freetype2/src/base/ftbase.c",
            "freetype2/src/base/ftbbox.c",
            "freetype2/src/base/ftbitmap.c",
            "freetype2/src/base/ftglyph.c",
            "freetype2/src/base/ftinit.c",
            "freetype2/src/base/ftsystem.c",
            "freetype2/src/cff/cff.c",
            "freetype2/src/gzip/ftgzip.c",
            "freetype2/src/psnames/psnames.c",
            "freetype2/src/raster/raster.c",
            "freetype2/src/sfnt/sfnt.c",
            "freetype2/src/smooth/smooth.c",
            "freetype2/src/truetype/truetype.c",
        ],
        skip: &[],
        cc: "g++",
        flags: "-I. -Ifreetype2/include -DFT2_BUILD_LIBRARY",
        fast: false,
    },
    Recipe {
        name: "Dear ImGui (C++)",
        krate: "imgui-sys",
        version: "0.12.0",
        sources: &["include_imgui_master.cpp"],
        skip: &[],
        cc: "g++",
        flags: "-std=c++11 -fno-exceptions -fno-rtti -Ithird-party/imgui-master \
                -Ithird-party/imgui-master/imgui",
        fast: false,
    },
    Recipe {
        name: "harfbuzz (C++)",
        krate: "harfbuzz-sys",
        version: "0.6.1",
        sources: &["harfbuzz/src/harfbuzz.cc"],
        skip: &[],
        cc: "g++",
        flags: "-std=c++11 -DHAVE_PTHREAD=1",
        fast: false,
    },
];

/// What happened to one code base.
pub struct Outcome {
    pub name: &'static str,
    pub files: usize,
    pub pump: usize,
    /// Preprocessed here (plain mode on the same host), by reason.
    pub plain: BTreeMap<String, usize>,
    /// Compiled here, with the reasons the client gave.
    pub local: Vec<String>,
    /// Objects that differ from the local build's.
    pub differ: Vec<String>,
    pub seconds: f64,
}

fn sources(root: &Path, r: &Recipe) -> Vec<String> {
    let mut out = Vec::new();
    for s in r.sources {
        let Some(dir) = s.strip_suffix('/') else {
            out.push(s.to_string());
            continue;
        };
        let mut found: Vec<String> = std::fs::read_dir(root.join(dir))
            .unwrap_or_else(|e| panic!("{}: {dir}: {e}", r.name))
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.extension()
                    .is_some_and(|e| e == "c" || e == "cc" || e == "cpp")
            })
            .filter(|p| {
                let stem = p.file_stem().unwrap().to_string_lossy();
                !r.skip.iter().any(|k| stem == *k)
            })
            .map(|p| format!("{dir}/{}", p.file_name().unwrap().to_string_lossy()))
            .collect();
        found.sort();
        out.extend(found);
    }
    out
}

fn object(src: &str) -> String {
    format!("{}.o", src.replace('/', "_"))
}

/// A Makefile building every source to `$(OUT)/<name>.o` with
/// `$(DCC) <cc> <flags>`, run from the crate's directory.
fn makefile(r: &Recipe, srcs: &[String]) -> String {
    let objs: Vec<String> = srcs
        .iter()
        .map(|s| format!("$(OUT)/{}", object(s)))
        .collect();
    let mut text = format!("all: {}\n", objs.join(" "));
    for (s, o) in srcs.iter().zip(&objs) {
        text.push_str(&format!(
            "{o}: {s}\n\t$(DCC) {} {CC_FLAGS} {} -c {s} -o $@\n",
            r.cc, r.flags
        ));
    }
    text
}

/// Builds `r` locally and through `pump make` against `daemon`'s host.
pub fn build(farm: &Farm, hosts: &str, r: &Recipe) -> Outcome {
    let start = std::time::Instant::now();
    let root = registry_crate(farm, r.krate, r.version);
    let srcs = sources(&root, r);
    assert!(!srcs.is_empty(), "{}: no sources", r.name);
    let tag = r.krate;
    let mk = farm.path(&format!("{tag}.mk"));
    std::fs::write(&mk, makefile(r, &srcs)).unwrap();
    let (reference, pumped) = (
        farm.path(&format!("{tag}-local")),
        farm.path(&format!("{tag}-pump")),
    );
    let log = farm.path(&format!("{tag}-client.log"));
    for (out, dcc) in [
        (&reference, String::new()),
        (&pumped, support::bin("distcc").display().to_string()),
    ] {
        std::fs::create_dir_all(out).unwrap();
        let make = [
            "make".to_string(),
            "-s".into(),
            "-j4".into(),
            "-f".into(),
            mk.display().to_string(),
            format!("OUT={}", out.display()),
            format!("DCC={dcc}"),
        ];
        let make: Vec<&str> = make.iter().map(String::as_str).collect();
        let mut cmd = if dcc.is_empty() {
            farm.command(Path::new("/usr/bin/make"), "", &make[1..], &[])
        } else {
            farm.command(
                &support::bin("pump"),
                hosts,
                &make,
                &[
                    ("DISTCC_VERBOSE", "1"),
                    ("DISTCC_LOG", log.to_str().unwrap()),
                ],
            )
        };
        let out = cmd.current_dir(&root).output().expect("run make");
        assert_ok(&out, &format!("{}: make DCC={dcc}", r.name));
        assert!(
            !text(&out.stderr).contains("pump-mode job"),
            "{}: discrepancies:\n{}",
            r.name,
            text(&out.stderr)
        );
    }
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    let mut outcome = Outcome {
        name: r.name,
        files: srcs.len(),
        pump: 0,
        plain: BTreeMap::new(),
        local: Vec::new(),
        differ: Vec::new(),
        seconds: 0.0,
    };
    for s in &srcs {
        if log.contains(&format!("pump: {s} needs ")) {
            outcome.pump += 1;
        } else if let Some(why) = log
            .lines()
            .find_map(|l| l.split_once(&format!("pump: preprocessing {s} here because ")))
        {
            *outcome.plain.entry(why.1.to_string()).or_default() += 1;
        }
        let o = object(s);
        if std::fs::read(reference.join(&o)).ok() != std::fs::read(pumped.join(&o)).ok() {
            outcome.differ.push(o);
        }
    }
    outcome.local = log
        .lines()
        .filter(|l| l.contains("running locally"))
        .map(str::to_string)
        .collect();
    outcome.seconds = start.elapsed().as_secs_f64();
    outcome
}

/// The checks every code base must pass: each job accounted for, each
/// object identical.
pub fn check(o: &Outcome) {
    let plain: usize = o.plain.values().sum();
    assert!(
        o.differ.is_empty(),
        "{}: objects differ: {:?}",
        o.name,
        o.differ
    );
    assert_eq!(
        o.pump + plain + o.local.len(),
        o.files,
        "{}: {} pump, {:?} plain, local {:?}",
        o.name,
        o.pump,
        o.plain,
        o.local
    );
    for l in &o.local {
        assert!(
            l.contains("because") || l.contains("instead"),
            "{}: {l}",
            o.name
        );
    }
}

/// A row of the results table.
pub fn row(o: &Outcome) -> String {
    let plain = if o.plain.is_empty() {
        "-".to_string()
    } else {
        o.plain
            .iter()
            .map(|(why, n)| format!("{n}: {why}"))
            .collect::<Vec<_>>()
            .join("; ")
    };
    format!(
        "| {} | {} | {} | {} | {} | {} | {:.0} s |",
        o.name,
        o.files,
        o.pump,
        plain,
        o.local.len(),
        o.files - o.differ.len(),
        o.seconds
    )
}

fn run(all: bool) {
    crate::require_tool!("gcc");
    crate::require_tool!("g++");
    crate::require_tool!("make");
    crate::require_tool!("cargo");
    let farm = Farm::new("pump-corpus");
    let daemon = farm.daemon(Kind::Ours);
    let hosts = daemon.host(",cpp,lzo");
    let mut rows = vec![
        "| code base | files | pump mode | preprocessed here (reason) | compiled here | identical objects | time |".to_string(),
        "|---|---:|---:|---|---:|---:|---:|".to_string(),
    ];
    let mut outcomes = Vec::new();
    for r in CORPUS.iter().filter(|r| all || r.fast) {
        let o = build(&farm, &hosts, r);
        rows.push(row(&o));
        eprintln!("{}", rows.last().unwrap());
        outcomes.push(o);
    }
    println!("{}", rows.join("\n"));
    for o in &outcomes {
        check(o);
    }
}

#[test]
fn pump_builds_of_real_code_bases_match_local_builds() {
    run(false);
}

/// The whole corpus (`bench/pump-corpus.sh`): too slow for the suite.
#[test]
#[ignore]
fn pump_corpus_full() {
    run(true);
}
