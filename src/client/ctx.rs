//! [`Ctx`]: what every step of a compile needs from the environment,
//! read once by [`super::main`] and passed down. In its own file so that
//! `job`, `attempt` and `pump` can all take it without importing each
//! other (style.md, "The house as it grows").

use std::path::PathBuf;
use std::time::Duration;

use tracing::warn;

use crate::client::local::spawn::Spawner;
use crate::client::plan::Policy;
use crate::client::probe::native;
use crate::client::slots::locks::LockDir;
use crate::env::Vars;
use crate::pump::discrepancy::Counter;

/// Everything a compile needs from the environment, read once.
#[derive(Debug)]
pub struct Ctx {
    /// The environment snapshot.
    pub vars: Vars,
    /// How to start compilers.
    pub spawner: Spawner,
    /// `$DISTCC_DIR` or `~/.distcc`, if usable.
    pub topdir: Option<PathBuf>,
    /// `$TMPDIR` or `/tmp`.
    pub tmpdir: PathBuf,
    /// `DISTCC_IO_TIMEOUT`.
    pub io_timeout: Duration,
    /// `DISTCC_PAUSE_TIME_MSEC` (at least 1 ms: 0 would spin a core).
    pub pause: Duration,
    /// `DISTCC_BACKOFF_PERIOD` (zero: no backoff files).
    pub backoff: Duration,
    /// Fallback choices.
    pub policy: Policy,
    /// The build's pump-mode discrepancy counter, when pump mode is on and
    /// the build has a pump directory.
    pub discrepancies: Option<Counter>,
}

impl Ctx {
    pub(crate) fn lock_dir(&self) -> Option<LockDir> {
        let top = self.topdir.as_ref()?;
        match LockDir::open(top) {
            Ok(d) => Some(d),
            Err(e) => {
                warn!("{e}; running without slot locks");
                None
            }
        }
    }

    pub(crate) fn cache_dir(&self) -> Option<PathBuf> {
        self.topdir.as_deref().map(native::cache_dir)
    }
}
