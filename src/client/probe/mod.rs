//! What the client asks the compiler once and remembers: `-march=native`
//! resolution, the cross-compiler triple, the default include directories
//! (pump mode), and the on-disk cache they share (spec §3.3).
//!
//! * [`native`]: `-march=native` / `-mtune=native` resolved here.
//! * [`cross`]: 3.4's cross-compiler rewriting.
//! * [`sysdirs`]: the compiler's default include directories.
//! * [`cache`]: the probe cache in `$DISTCC_DIR`.

pub mod cache;
pub mod cross;
pub mod native;
pub mod sysdirs;
