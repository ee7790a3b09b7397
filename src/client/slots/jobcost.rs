//! What each job cost the last time it compiled remotely, against what its
//! host's figure predicted (issue 16): a job's **cost**. A host's figure
//! ([`super::hoststate`]) is compile time per KiB of input, which assumes
//! that a KiB costs the same in every job. It does not: HarfBuzz's 62
//! files each include the same ~150 headers, so their inputs are alike,
//! and they compile in 0.3 s to 56 s (`hb-ot-layout.cc`). Then a host
//! that just ran a long job looks several times slower than the rest
//! and is left out of the placement's tier (its slots idle while jobs
//! wait for the others'), and a long job looks late after three times
//! an average job and is raced by a local compile that cannot win (the
//! remote one is not late, only long), a whole core of the client's for
//! nothing. So a job's expected time is its host's figure times its
//! cost when an earlier compile noted it (a rebuild knows every job's
//! length), and one job moves its host's sample at most
//! [`NEW_JOB_SWAY`] from the figure. (Dividing the host's samples by the
//! known costs instead mixed units: a cost learnt against a host's first,
//! noisy figure keeps that figure, while a host measured before any cost
//! was known keeps raw times, and the tier compared the two.)
//!
//! One file, `$DISTCC_DIR/job-costs` (a name 3.4 never uses), of
//! [`entries`] (sparse, 1 MiB at most): a job's key, its cost (f32) and
//! a check of both, little-endian. A job's client reads its entry when
//! its wait begins and after the compile, and writes it then. Two jobs
//! whose keys share a place take it in turn (the other's cost is then
//! unknown, as for a new file); a torn or damaged entry fails its check
//! and is no entry. A cost is a hint: wrong, it moves a placement or a
//! race, never an object.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::entries::{self, ENTRY};
use crate::args::Job;
use crate::client::placement;
use crate::fnv;

/// The file under `$DISTCC_DIR`.
pub const FILE: &str = "job-costs";
/// Costs are kept within these bounds (one odd measurement, a host
/// stopped for a minute, must not make a job look endless).
pub const MIN_COST: f64 = 1.0 / 64.0;
/// See [`MIN_COST`].
pub const MAX_COST: f64 = 64.0;
/// One job moves a measured host's sample at most this factor from its
/// figure: how long a job takes says as much about the job as about the
/// host (one 56 s job among 5 s ones made its host's figure 3x the
/// others' and left it out of the tier). A host that really slowed down
/// still gets there, a quarter of the way per job
/// ([`placement::update`]); a race lost is charged in full.
pub const NEW_JOB_SWAY: f64 = 2.0;

/// The key of `job` run in `cwd`: its source and its output, so the same
/// source compiled twice with other flags (libtool's PIC and non-PIC
/// objects) is two jobs. Never 0 (0 is "no key").
pub fn key(cwd: &Path, job: &Job) -> u64 {
    let mut h = fnv::extend(fnv::fnv1a(cwd.as_os_str().as_bytes()), &[0]);
    h = fnv::extend(fnv::extend(h, job.input.as_bytes()), &[0]);
    fnv::mix(fnv::extend(h, job.output.as_bytes())).max(1)
}

/// What a remote compile of `compile_ms` for `size` bytes of input on a
/// host whose figure was `ms_per_kib` teaches: the job's cost, in bounds.
pub fn cost(compile_ms: f64, size: u64, ms_per_kib: f64) -> Option<f64> {
    let c = placement::sample(compile_ms, size) / ms_per_kib;
    c.is_finite().then(|| c.clamp(MIN_COST, MAX_COST))
}

fn encode(key: u64, cost: f64) -> [u8; ENTRY] {
    let mut e = [0u8; ENTRY];
    e[..8].copy_from_slice(&key.to_le_bytes());
    e[8..12].copy_from_slice(&(cost as f32).to_le_bytes());
    let check = fnv::fnv1a(&e[..12]) as u32;
    e[12..].copy_from_slice(&check.to_le_bytes());
    e
}

fn decode(key: u64, e: &[u8; ENTRY]) -> Option<f64> {
    let check = u32::from_le_bytes(e[12..].try_into().expect("4 bytes"));
    let stored = u64::from_le_bytes(e[..8].try_into().expect("8 bytes"));
    let cost = f64::from(f32::from_le_bytes(e[8..12].try_into().expect("4 bytes")));
    (check == fnv::fnv1a(&e[..12]) as u32 && stored == key && (MIN_COST..=MAX_COST).contains(&cost))
        .then_some(cost)
}

/// The cost last noted for the job with `key`, if any (0: none).
pub fn known(topdir: &Path, key: u64) -> Option<f64> {
    if key == 0 {
        return None;
    }
    decode(key, &entries::read(&topdir.join(FILE), key)?)
}

/// Note `cost` for the job with `key`. Best effort: the cost is a hint.
pub fn note(topdir: &Path, key: u64, cost: f64) {
    if key == 0 || !cost.is_finite() {
        return;
    }
    let e = encode(key, cost.clamp(MIN_COST, MAX_COST));
    entries::write(&topdir.join(FILE), key, &e);
}

/// What one successful remote compile teaches, pure: the time for its
/// host's figure (within [`NEW_JOB_SWAY`] of what a host with a trusted
/// figure, `ms_per_kib`, was expected to take, so a long job does not
/// make its host look slow) and the job's cost by that figure.
pub fn learn(compile_ms: f64, size: u64, ms_per_kib: Option<f64>) -> (f64, Option<f64>) {
    let Some(ms) = ms_per_kib else {
        return (compile_ms, None);
    };
    let expected = ms * (size as f64 / 1024.0 + 1.0);
    (
        compile_ms.clamp(expected / NEW_JOB_SWAY, expected * NEW_JOB_SWAY),
        cost(compile_ms, size, ms),
    )
}

#[cfg(test)]
#[path = "jobcost_tests.rs"]
mod tests;
