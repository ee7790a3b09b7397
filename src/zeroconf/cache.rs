//! `$DISTCC_DIR/zeroconf/hosts`: the daemons last found, as host-list
//! lines, where 3.4 keeps them too.
//!
//! 3.4 forks a helper that browses for as long as the file keeps being
//! read. We keep no process: the file is trusted for [`FRESH`] after it was
//! written, then the first client to need it takes `refresh.lock` and
//! browses for [`WINDOW`] (3.4's first client waits that long too), while
//! other clients go on with the older file rather than wait. Only a client
//! that finds no file at all waits for the refresh in progress.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use nix::fcntl::{Flock, FlockArg};

use crate::env::Vars;

use super::records::{Seen, render_cache};
use super::{compiler, mdns};

/// How long a refresh that found daemons is trusted.
pub const FRESH: Duration = Duration::from_secs(60);
/// How long a refresh that found nothing is trusted: daemons that start
/// after it are looked for again soon.
pub const FRESH_EMPTY: Duration = Duration::from_secs(5);
/// How long one refresh listens for answers.
pub const WINDOW: Duration = Duration::from_millis(1000);

/// `$DISTCC_DIR/zeroconf`.
pub fn dir(vars: &Vars) -> Option<PathBuf> {
    vars.distcc_dir().map(|d| d.join("zeroconf"))
}

/// The host lines to use for `+zeroconf`: the cached file if fresh, else
/// after a refresh (see the module comment).
pub fn hosts_text(vars: &Vars) -> Result<String, String> {
    let dir = dir(vars).ok_or("neither DISTCC_DIR nor HOME is set")?;
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let file = dir.join("hosts");
    if let Some(text) = fresh(&file) {
        return Ok(text);
    }
    let open = || {
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("refresh.lock"))
            .map_err(|e| format!("cannot open {}: {e}", dir.join("refresh.lock").display()))
    };
    // Held until the end of this function.
    let _lock = match Flock::lock(open()?, FlockArg::LockExclusiveNonblock) {
        Ok(held) => held,
        Err(_) => {
            if let Ok(text) = fs::read_to_string(&file) {
                return Ok(text);
            }
            Flock::lock(open()?, FlockArg::LockExclusive)
                .map_err(|(_, e)| format!("cannot lock {}: {e}", dir.display()))?
        }
    };
    // Someone may have refreshed while we waited for the lock.
    if let Some(text) = fresh(&file) {
        return Ok(text);
    }
    let seen = refresh(&dir)?;
    Ok(render_cache(&seen))
}

/// Browse now and rewrite the cache in `dir` (atomically: readers see the
/// old or the new file). Returns what was found.
pub fn refresh(dir: &Path) -> Result<Vec<Seen>, String> {
    let cc = compiler::default_compiler();
    let subtype = cc.as_ref().map(|(m, v)| (m.as_str(), v.as_str()));
    let seen = mdns::browse(subtype, WINDOW)?;
    write(dir, &seen).map_err(|e| format!("cannot write {}: {e}", dir.join("hosts").display()))?;
    Ok(seen)
}

fn write(dir: &Path, seen: &[Seen]) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let tmp = dir.join(format!("hosts.{}", std::process::id()));
    let mut f = File::create(&tmp)?;
    f.write_all(render_cache(seen).as_bytes())?;
    drop(f);
    fs::rename(&tmp, dir.join("hosts"))
}

/// The file's text if it was written recently enough to trust.
fn fresh(file: &Path) -> Option<String> {
    let age = fs::metadata(file)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())?;
    let text = fs::read_to_string(file).ok()?;
    let empty = crate::hosts::parse(&text).map_or(true, |l| l.hosts.is_empty());
    let limit = if empty { FRESH_EMPTY } else { FRESH };
    (age < limit).then_some(text)
}
