//! The extension's zstd bodies (docs/extension.md §4): one frame that
//! states its size, made with settings chosen by the body's size, by one
//! compression and one decompression context per thread that are kept
//! from body to body.
//!
//! Why keep them: a new context allocates its workspace (the compressor's
//! is some hundred KiB) and the first frame zeroes its match tables (48
//! KiB with the small-body settings); a context used again keeps both,
//! because zstd carries its window's index on from the last frame, so
//! entries left by earlier frames fall below the new window and are never
//! read. For the daemon's objects of a few KiB that set-up cost as much as
//! the compression (bench/RESULTS.md, "zstd's contexts"). The daemon's
//! threads each keep theirs; the client, one process per job, makes one
//! of each and loses nothing.

use std::cell::RefCell;
use std::io;

use zstd::zstd_safe::{self, CCtx, CParameter, DCtx, ResetDirective, Strategy};

/// The zstd level of bodies larger than [`SMALL`]: 1, the fastest of the
/// standard levels. On preprocessed C and C++ it already makes bodies
/// about 0.62-0.68x the size LZO1X-1 makes them; stronger settings cost
/// 20 % more instructions there (bench/RESULTS.md), where a big C++ job's
/// compression is a tenth of its client CPU.
pub const LEVEL: i32 = 1;

/// Bodies up to this size get [`LEVEL`] as zstd defines it, as large
/// ones do: they are mostly the daemon's objects and stderr, and on
/// objects of a few KiB level 1 makes the bytes of the double-fast
/// settings below for 23 % fewer instructions (machine code has few of
/// the long matches that double-fast finds; bench/RESULTS.md).
pub const TINY: usize = 16 * 1024;

/// Bodies above [`TINY`] up to this size (every preprocessed C file of
/// liblzma, most of any C project) are compressed with level 1's settings
/// but zstd's
/// double-fast match finder on small tables ([`SMALL_HASH_LOG`]): 4 %
/// smaller than level 1 for 16 % more instructions (level 3 gives the
/// same bytes for 34 % more), which is what brings small jobs' bytes on
/// the wire under 0.7x LZO's (bench/RESULTS.md, "The extension: zstd
/// against LZO"). Any zstd decoder reads either; the wire format is the
/// same frame.
pub const SMALL: usize = 256 * 1024;

/// The double-fast tables' size for small bodies: 2^13 entries in the
/// short hash, 2^12 in the long one, matches of at least 5 bytes.
pub const SMALL_HASH_LOG: u32 = 13;

/// The settings a body gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    /// Above [`TINY`] up to [`SMALL`]: double-fast on small tables.
    Small,
    /// The others: level 1 as zstd defines it.
    Level1,
}

impl Class {
    fn of(len: usize) -> Self {
        if len > TINY && len <= SMALL {
            Self::Small
        } else {
            Self::Level1
        }
    }

    fn apply(self, cctx: &mut CCtx<'static>) -> Result<(), usize> {
        cctx.reset(ResetDirective::Parameters)?;
        cctx.set_parameter(CParameter::CompressionLevel(LEVEL))?;
        if self == Self::Small {
            for p in [
                CParameter::Strategy(Strategy::ZSTD_dfast),
                CParameter::HashLog(SMALL_HASH_LOG),
                CParameter::ChainLog(SMALL_HASH_LOG - 1),
                CParameter::MinMatch(5),
            ] {
                cctx.set_parameter(p)?;
            }
        }
        Ok(())
    }
}

/// A compression context and the settings it holds.
struct Compressor {
    cctx: CCtx<'static>,
    class: Option<Class>,
}

thread_local! {
    static COMPRESSOR: RefCell<Option<Compressor>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<DCtx<'static>>> = const { RefCell::new(None) };
}

/// Run `f` with this thread's context in `slot` (made on first use), or
/// with a new one while the thread's is busy or being dropped.
fn with<T: 'static, R>(
    key: &'static std::thread::LocalKey<RefCell<Option<T>>>,
    make: fn() -> T,
    f: impl FnOnce(&mut T) -> R,
) -> R {
    let mut f = Some(f);
    let kept = key.try_with(|slot| {
        let mut slot = slot.try_borrow_mut().ok()?;
        let f = f.take()?;
        Some(f(slot.get_or_insert_with(make)))
    });
    match (kept, f) {
        (Ok(Some(r)), _) => r,
        (_, Some(f)) => f(&mut make()),
        (_, None) => unreachable!("f ran and returned"),
    }
}

fn zstd_error(code: usize) -> io::Error {
    io::Error::other(zstd_safe::get_error_name(code))
}

/// One frame of `data` with its content size.
pub fn compress(data: &[u8]) -> io::Result<Vec<u8>> {
    let class = Class::of(data.len());
    let make = || Compressor {
        cctx: CCtx::create(),
        class: None,
    };
    with(&COMPRESSOR, make, |c| {
        if c.class != Some(class) {
            c.class = None;
            class.apply(&mut c.cctx).map_err(zstd_error)?;
            c.class = Some(class);
        }
        let mut out = Vec::with_capacity(zstd_safe::compress_bound(data.len()));
        c.cctx.compress2(&mut out, data).map_err(|e| {
            // Whatever state the failure left, the next body starts over.
            c.class = None;
            let _ = c.cctx.reset(ResetDirective::SessionAndParameters);
            zstd_error(e)
        })?;
        Ok(out)
    })
}

/// The frame `src` decoded into exactly `size` bytes at most (the size it
/// states, checked by the caller): more is an error.
pub fn decompress(src: &[u8], size: usize) -> Result<Vec<u8>, String> {
    with(&DECOMPRESSOR, DCtx::create, |d| {
        // The capacity, never zeroed, is all zstd may write.
        let mut out = Vec::with_capacity(size);
        match d.decompress(&mut out, src) {
            Ok(_) => Ok(out),
            Err(e) => {
                let _ = d.reset(ResetDirective::SessionOnly);
                Err(zstd_safe::get_error_name(e).to_owned())
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Text like a preprocessed file, `len` bytes.
    fn text(len: usize) -> Vec<u8> {
        let mut v = Vec::new();
        let mut i = 0u64;
        while v.len() < len {
            v.extend_from_slice(
                format!("extern int f{}(int x, const char *s);\n", i % 977).as_bytes(),
            );
            i = i
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407)
                >> 7;
        }
        v.truncate(len);
        v
    }

    fn size_of(frame: &[u8]) -> Option<u64> {
        zstd_safe::get_frame_content_size(frame).ok().flatten()
    }

    #[test]
    fn every_size_class_round_trips_on_one_kept_context_in_any_order() {
        // Both classes, their edges, and tiny bodies whose tables zstd
        // shrinks, alternating so each body finds the other's settings.
        let sizes = [
            1,
            100,
            TINY,
            TINY + 1,
            SMALL,
            SMALL + 1,
            60_000,
            3 * SMALL,
            2,
            SMALL - 1,
        ];
        for len in sizes {
            let data = text(len);
            let frame = compress(&data).unwrap();
            assert_eq!(size_of(&frame), Some(len as u64), "{len}");
            assert_eq!(decompress(&frame, len).unwrap(), data, "{len}");
            // What a fresh zstd reads: the frame is ordinary zstd.
            assert_eq!(zstd::bulk::decompress(&frame, len).unwrap(), data);
        }
    }

    #[test]
    fn tiny_and_large_bodies_are_zstds_level_1_and_the_others_smaller() {
        for len in [3000, TINY, SMALL + 1] {
            let data = text(len);
            let level1 = zstd::bulk::compress(&data, LEVEL).unwrap();
            assert_eq!(compress(&data).unwrap(), level1, "{len}");
        }
        let data = text(TINY + 1);
        let level1 = zstd::bulk::compress(&data, LEVEL).unwrap();
        assert_ne!(compress(&data).unwrap(), level1);
    }

    #[test]
    fn kept_contexts_give_the_bytes_new_ones_give() {
        // The window's index carried over from earlier frames must not
        // change what a frame holds.
        let a = text(90_000);
        let first = compress(&a).unwrap();
        compress(&text(SMALL + 10)).unwrap();
        compress(&text(3000)).unwrap();
        let again = compress(&a).unwrap();
        let fresh = std::thread::spawn(move || compress(&a).unwrap())
            .join()
            .unwrap();
        assert_eq!(first, again);
        assert_eq!(first, fresh);
    }

    #[test]
    fn a_kept_decompressor_works_after_a_broken_frame() {
        let data = text(50_000);
        let frame = compress(&data).unwrap();
        // Cut, too small a promise, corrupted in the middle.
        assert!(decompress(&frame[..frame.len() / 2], data.len()).is_err());
        assert!(decompress(&frame, data.len() - 1).is_err());
        let mut bad = frame.clone();
        let mid = bad.len() / 2;
        bad[mid] ^= 0x55;
        bad[mid + 1] ^= 0xaa;
        let _ = decompress(&bad, data.len());
        assert_eq!(decompress(&frame, data.len()).unwrap(), data);
    }

    #[test]
    fn a_busy_context_gives_way_to_a_new_one() {
        // Nested use on one thread (not done today) must not panic.
        let data = text(10_000);
        compress(&data).unwrap();
        let nested = with(&COMPRESSOR, || unreachable!(), |_| compress(&data));
        assert_eq!(decompress(&nested.unwrap(), data.len()).unwrap(), data);
    }
}
