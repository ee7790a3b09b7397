//! The caps of the daemon's table of connections ([`Caps`], issue 10),
//! from the machine: the file descriptor limit and the memory size.
//!
//! * The soft `RLIMIT_NOFILE` is raised to the hard one at start-up (1024
//!   is a common soft default, far below what the hard limit allows).
//! * Connections: what the descriptor limit leaves after a reserve for the
//!   daemon itself and a few per compile slot, at most
//!   [`MAX_CONNECTIONS`] (an idle connection costs ~10 KiB).
//! * Per address: a quarter of that, so one client (or one attacker) can
//!   have at most that many connections without a complete request, and
//!   never fill the table alone.
//! * Memory for requests being received: a quarter of the machine's, at
//!   least [`MIN_MEMORY`], at most [`MAX_MEMORY`].

use super::super::incoming::pending::Caps;

/// Most connections open at once, whatever the descriptor limit.
pub const MAX_CONNECTIONS: usize = 4096;
/// Fewest, whatever the descriptor limit.
const MIN_CONNECTIONS: usize = 16;
/// Descriptors kept for the daemon itself (listeners, log, stats, ...).
const FDS_RESERVED: u64 = 64;
/// Descriptors a running compile uses besides its connection (output
/// memfds, pipes, the child's pidfd, a spilled source).
const FDS_PER_JOB: u64 = 6;
/// Least memory for requests being received.
pub const MIN_MEMORY: u64 = 128 << 20;
/// Most memory for requests being received.
pub const MAX_MEMORY: u64 = 4 << 30;
/// When the machine's memory is unknown.
const DEFAULT_MEMORY: u64 = 1 << 30;

/// The caps for a daemon with `jobs` compile slots, `nofile` descriptors
/// and `mem_total` bytes of memory (if known). Pure.
pub fn derive(nofile: u64, mem_total: Option<u64>, jobs: u32) -> Caps {
    let spare = nofile.saturating_sub(FDS_RESERVED + FDS_PER_JOB * u64::from(jobs));
    let connections = (spare.min(MAX_CONNECTIONS as u64) as usize).max(MIN_CONNECTIONS);
    let memory = mem_total.map_or(DEFAULT_MEMORY, |m| (m / 4).clamp(MIN_MEMORY, MAX_MEMORY));
    Caps {
        connections,
        per_address: (connections / 4).max(MIN_CONNECTIONS / 2),
        memory,
    }
}

/// Raise the soft descriptor limit to the hard one; the limit now.
pub fn raise_nofile() -> u64 {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return 1024;
    };
    if soft < hard {
        match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
            Ok(()) => return hard,
            Err(e) => tracing::debug!("cannot raise the open file limit to {hard}: {e}"),
        }
    }
    soft
}

/// `MemTotal` of `/proc/meminfo`, in bytes.
pub fn mem_total() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    parse_mem_total(&text)
}

fn parse_mem_total(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The caps for this machine, the descriptor limit raised first.
pub fn for_this_machine(jobs: u32) -> Caps {
    derive(raise_nofile(), mem_total(), jobs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    #[test]
    fn caps_follow_the_machine() {
        /// (nofile, memory, jobs) -> (connections, per address, memory)
        type Case = ((u64, Option<u64>, u32), (usize, usize, u64));
        let cases: &[Case] = &[
            ((1024, Some(16 * GIB), 4), (936, 234, 4 * GIB)),
            ((1 << 20, Some(8 * GIB), 10), (4096, 1024, 2 * GIB)),
            ((300, Some(GIB), 2), (224, 56, GIB / 4)),
            ((300, Some(GIB / 4), 2), (224, 56, MIN_MEMORY)),
            ((100, None, 200), (16, 8, DEFAULT_MEMORY)),
            ((20000, Some(64 * GIB), 200), (4096, 1024, MAX_MEMORY)),
        ];
        for &((nofile, mem, jobs), (c, a, m)) in cases {
            let caps = derive(nofile, mem, jobs);
            assert_eq!(
                (caps.connections, caps.per_address, caps.memory),
                (c, a, m),
                "{nofile} fds, {mem:?} bytes, {jobs} jobs"
            );
        }
    }

    #[test]
    fn meminfo_is_read() {
        let text = "MemTotal:       24683772 kB\nMemFree:        17647624 kB\n";
        assert_eq!(parse_mem_total(text), Some(24683772 * 1024));
        assert_eq!(parse_mem_total("nothing"), None);
    }
}
