//! Include analysis for pump mode (spec §5): which files a compile may
//! read, worked out on the client without running the preprocessor.
//!
//! In pump mode the client sends the source and every non-system header;
//! the server rebuilds them at the same absolute paths and preprocesses
//! there with its own (assumed identical) system headers. distcc 3.4 asks
//! its Python include server; we do the same analysis in-process:
//!
//! * `search.rs`: [`SearchPath`], gcc's search chain from the argv, with
//!   its duplicate removal;
//! * `lexer.rs` (+ `chars.rs`, `directives.rs`): the names each file
//!   mentions, from every branch of every conditional, so the answer is a
//!   superset;
//! * `walk.rs`: [`closure`], which follows user headers; files in the
//!   compiler's default directories are neither sent nor scanned.
//!   `walk/resolve.rs` resolves each name exactly as gcc does (current
//!   directory, `-iquote`, `-I`, `-isystem`, defaults, `-idirafter`,
//!   `#include_next`); with `walk/macros.rs` an `#include MACRO` is
//!   followed to every header name the macro is defined as in the files
//!   scanned or with `-D`;
//! * `paths.rs`: lexical normalisation checked against symbolic links,
//!   and cached `stat`s;
//! * `cache.rs`: [`Cache`], what one process learned about each header (its names,
//!   `stat`, digest), reused by the build's other processes; `cachelog.rs`
//!   its files (a log per directory of headers); `bound.rs` keeps it to a
//!   number of logs.
//!
//! System headers are not scanned: they are most of the bytes, and their
//! computed includes (glibc's, Boost's) would make us give up. So a user
//! header that only a system header includes is missed: a `-I` directory
//! holding a header named like one of those (`-I.` with a `./limits.h`).
//!
//! Whenever the answer could be wrong (an `#include MACRO` whose values
//! cannot all be listed, a `..` out
//! of a symbolic link, an option we do not model) the analysis gives up
//! with a reason and the caller preprocesses locally, as 3.4 does when its
//! include server fails. Only `stat` and file reads here; no processes,
//! no environment (see [`ENV_GIVE_UP`]).

mod bound;
mod cache;
mod cachelog;
mod lexer;
mod paths;
mod search;
mod walk;

use std::fmt;

pub use cache::{Cache, CacheStats};
pub use search::SearchPath;
pub use walk::{Closure, Known, closure, closure_cached};

/// Why the analysis cannot vouch for a file list, for `DISTCC_VERBOSE`
/// ("computed #include at foo.h:12").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GiveUp(pub String);

impl fmt::Display for GiveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GiveUp {}

/// Environment variables through which gcc adds include directories. The
/// server does not get our environment, and the caller's `cc -E -v` probe
/// would list these directories as default ones (so their headers would
/// not be sent): when any is set and non-empty, do not use pump mode.
pub const ENV_GIVE_UP: &[&str] = &[
    "CPATH",
    "C_INCLUDE_PATH",
    "CPLUS_INCLUDE_PATH",
    "OBJC_INCLUDE_PATH",
    "OBJCPLUS_INCLUDE_PATH",
];
