//! The pump corpus's one table: each code base, its crate, sources and
//! flags (each crate's `build.rs` flags for x86-64 Linux, with cc's
//! [`CC_FLAGS`]).

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
    /// The optimisation flags the test suite's subset builds it with,
    /// once each (none: not in the subset; the full corpus uses
    /// [`CC_FLAGS`]). The subset holds at least one job of each way of
    /// keeping work here that the corpus has met.
    pub fast: &'static [&'static str],
    /// One translation unit that takes minutes at -O2: built first, so
    /// the others build beside it rather than after it.
    pub heavy: bool,
}

pub const CC_FLAGS: &str = "-O2 -fPIC -ffunction-sections -fdata-sections";
/// [`CC_FLAGS`] at -O1, for a heavy code base in the test suite's subset:
/// what is sent, and why, is the same as at -O2, in a third of the time.
pub const O1_FLAGS: &str = "-O1 -fPIC -ffunction-sections -fdata-sections";
/// [`CC_FLAGS`] unoptimised: a job pump mode cannot send is then compiled
/// here, as plain mode would change its code (`crate::args::plain` in the
/// library).
pub const O0_FLAGS: &str = "-O0 -fPIC -ffunction-sections -fdata-sections";

pub const CORPUS: &[Recipe] = &[
    Recipe {
        name: "zlib",
        krate: "libz-sys",
        version: "1.1.33",
        sources: &["src/zlib/"],
        skip: &[],
        cc: "gcc",
        flags: "-DSTDC -D_LARGEFILE64_SOURCE -fvisibility=hidden -Isrc/zlib",
        fast: &[CC_FLAGS],
        heavy: false,
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
        fast: &[CC_FLAGS],
        heavy: false,
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
        fast: &[],
        heavy: false,
    },
    Recipe {
        name: "meshoptimizer (C++)",
        krate: "meshopt",
        version: "0.4.1",
        sources: &["vendor/src/"],
        skip: &[],
        cc: "g++",
        flags: "-std=c++11 -Isrc",
        fast: &[CC_FLAGS],
        heavy: false,
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
        fast: &[],
        heavy: false,
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
        fast: &[],
        heavy: false,
    },
    Recipe {
        name: "lua 5.4",
        krate: "lua-src",
        version: "547.1.0",
        sources: &["lua-5.4.7/"],
        skip: &["lua", "luac", "onelua"],
        cc: "gcc",
        flags: "-DLUA_USE_LINUX -DLUA_COMPAT_5_3 -Ilua-5.4.7",
        fast: &[],
        heavy: false,
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
        fast: &[O1_FLAGS, O0_FLAGS],
        heavy: true,
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
        fast: &[CC_FLAGS],
        heavy: false,
    },
    Recipe {
        name: "brotli",
        krate: "brotli-sys",
        version: "0.3.2",
        sources: &["brotli/common/", "brotli/dec/", "brotli/enc/"],
        skip: &[],
        cc: "gcc",
        flags: "-Ibrotli/include",
        fast: &[],
        heavy: false,
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
        fast: &[],
        heavy: false,
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
        fast: &[],
        heavy: false,
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
        fast: &[],
        heavy: false,
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
        fast: &[],
        heavy: false,
    },
    Recipe {
        name: "harfbuzz (C++)",
        krate: "harfbuzz-sys",
        version: "0.6.1",
        sources: &["harfbuzz/src/harfbuzz.cc"],
        skip: &[],
        cc: "g++",
        flags: "-std=c++11 -DHAVE_PTHREAD=1",
        fast: &[],
        heavy: true,
    },
];
