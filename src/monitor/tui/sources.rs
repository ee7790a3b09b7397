//! What `distccmon-tui` reads, once a second, into a [`Sample`]: the
//! state files of every client of this user (ours and 3.4's, in
//! `$DISTCC_DIR/state`), the host list, the 3.4-compatible slot locks and
//! backoff files in `$DISTCC_DIR/lock`, our client's records in
//! `$DISTCC_DIR/stats`, and the daemons' stats pages ([`super::daemon`]).
//!
//! Read-only, always: stale state files are skipped, not removed (3.4's
//! monitor removes them); a slot's holder is asked with `F_GETLK` on a
//! descriptor opened for reading, which neither creates the lock file nor
//! takes the lock; nothing is opened for writing.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use nix::fcntl::{FcntlArg, fcntl};
use nix::libc;

use super::daemon::Fetcher;
use super::model::{HostInput, Sample};
use crate::client::slots::hostlist::{self, Loaded};
use crate::env::Vars;
use crate::hosts::{DEFAULT_LOCALSLOTS, HostKind};
use crate::monitor::read_states_with;
use crate::monitor::records::{self, Follower};
use crate::monitor::summary::display_host;

/// The pid holding an fcntl lock on `path` (3.4's slot locks), if any.
pub fn lock_holder(path: &Path) -> Option<u32> {
    let file = File::open(path).ok()?;
    let mut query = libc::flock {
        l_type: libc::F_WRLCK as libc::c_short,
        l_whence: libc::SEEK_SET as libc::c_short,
        l_start: 0,
        l_len: 0,
        l_pid: 0,
    };
    fcntl(file.as_raw_fd(), FcntlArg::F_GETLK(&mut query)).ok()?;
    if query.l_type == libc::F_UNLCK as libc::c_short {
        return None;
    }
    u32::try_from(query.l_pid).ok().filter(|p| *p > 0)
}

/// Seconds left of a host's backoff: its `backoff_<id>_0` is younger than
/// `period` (`DISTCC_BACKOFF_PERIOD`, as the clients use it).
pub fn backoff_left(lock_dir: &Path, lock_id: &str, period: Duration) -> Option<u64> {
    if period.is_zero() {
        return None;
    }
    let mtime = std::fs::metadata(lock_dir.join(format!("backoff_{lock_id}_0")))
        .ok()?
        .modified()
        .ok()?;
    let age = SystemTime::now().duration_since(mtime).unwrap_or_default();
    let left = period.checked_sub(age)?;
    Some(left.as_secs() + u64::from(left.subsec_nanos() > 0))
}

/// Reads everything a sample holds.
#[derive(Debug)]
pub struct Sources {
    topdir: PathBuf,
    vars: Vars,
    backoff: Duration,
    follower: Follower,
    daemons: Fetcher,
    stats_ports: StatsPorts,
}

/// Where each host's `--stats` page is.
#[derive(Clone, Debug, Default)]
pub struct StatsPorts {
    /// The port tried on every TCP host (0: none).
    pub default: u16,
    /// `HOST:PORT` of a host-list entry, and its stats port (0: none).
    pub by_host: Vec<(String, u16)>,
}

impl StatsPorts {
    /// The stats address of a TCP host, if it has one.
    pub fn address(&self, host: &str, port: u16) -> Option<String> {
        let key = display_host(&format!("tcp_{host}_{port}"));
        let stats = self
            .by_host
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(self.default, |(_, p)| *p);
        (stats != 0).then(|| {
            let host = if host.contains(':') {
                format!("[{host}]")
            } else {
                host.to_owned()
            };
            format!("{host}:{stats}")
        })
    }
}

impl Sources {
    /// Sources under `topdir` (`$DISTCC_DIR`), with the environment's host
    /// list and backoff period.
    pub fn new(topdir: PathBuf, vars: Vars, stats_ports: StatsPorts) -> Self {
        Self {
            backoff: Duration::from_secs(vars.backoff_period_secs()),
            topdir,
            vars,
            follower: Follower::default(),
            daemons: Fetcher::start(),
            stats_ports,
        }
    }

    /// Read everything now.
    pub fn sample(&mut self) -> Sample {
        let now_ms = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let lock_dir = self.topdir.join("lock");
        let holders = |id: &str, n: u32| -> Vec<Option<u32>> {
            (0..n)
                .map(|slot| lock_holder(&lock_dir.join(format!("cpu_{id}_{slot}"))))
                .collect()
        };
        let mut hosts = Vec::new();
        let mut targets = Vec::new();
        let mut local_limit = DEFAULT_LOCALSLOTS;
        let mut problem = None;
        match hostlist::load(&self.vars) {
            Loaded::List { list, .. } => {
                local_limit = list.local_slots;
                for h in &list.hosts {
                    let id = h.lock_id();
                    if h.is_local() {
                        local_limit = local_limit.max(h.slots);
                        continue;
                    }
                    if hosts.iter().any(|x: &HostInput| x.lock_id == id) {
                        continue;
                    }
                    if let HostKind::Tcp { host, port } = &h.kind {
                        if let Some(addr) = self.stats_ports.address(host, *port) {
                            targets.push((id.clone(), addr));
                        }
                    }
                    hosts.push(HostInput {
                        name: display_host(&id),
                        limit: h.slots,
                        holders: holders(&id, h.slots),
                        backoff_left: backoff_left(&lock_dir, &id, self.backoff),
                        down: h.down,
                        lock_id: id,
                    });
                }
            }
            Loaded::Empty { message, .. } | Loaded::Unreadable { message, .. } => {
                problem = Some(message)
            }
            Loaded::Bad { error, origin } => problem = Some(format!("{origin}: {error}")),
        }
        hosts.push(HostInput {
            lock_id: "localhost".into(),
            name: "localhost".into(),
            limit: local_limit,
            holders: holders("localhost", local_limit),
            backoff_left: None,
            down: false,
        });
        self.daemons.set_targets(targets);
        Sample {
            now_ms,
            jobs: read_states_with(&self.topdir.join("state"), false).unwrap_or_default(),
            hosts,
            hostlist_problem: problem,
            records: self
                .follower
                .poll(&records::dir(&self.topdir))
                .unwrap_or_default(),
            daemons: self.daemons.figures(),
        }
    }

    /// Fetch the daemons' pages now, and wait for them (`--once`).
    pub fn fetch_daemons_now(&mut self) {
        self.daemons.fetch_now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::slots::locks::LockDir;

    #[test]
    fn holders_and_backoff_are_read_without_writing() {
        let top = std::env::temp_dir().join(format!("distcc-tui-src-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&top);
        let locks = LockDir::open(&top).unwrap();
        let dir = top.join("lock");
        assert_eq!(lock_holder(&dir.join("cpu_tcp_h_1_0")), None);
        assert!(!dir.join("cpu_tcp_h_1_0").exists(), "not created");
        // This process's own lock is no conflict to F_GETLK (POSIX); locks
        // of other processes (3.4's client, ours) are the tmux tests' (the
        // SLOTS column of tests/monitor/tui.rs). The query leaves the file
        // as it was.
        let path = dir.join("cpu_tcp_h_1_0");
        let held = locks.try_lock("tcp_h_1", 0).unwrap().unwrap();
        let before = std::fs::metadata(&path).unwrap().modified().unwrap();
        assert_eq!(lock_holder(&path), None);
        assert_eq!(
            std::fs::metadata(&path).unwrap().modified().unwrap(),
            before
        );
        drop(held);
        assert_eq!(backoff_left(&dir, "tcp_h_1", Duration::from_secs(60)), None);
        locks.mark_backoff("tcp_h_1").unwrap();
        let left = backoff_left(&dir, "tcp_h_1", Duration::from_secs(60)).unwrap();
        assert!((59..=60).contains(&left), "{left}");
        assert_eq!(backoff_left(&dir, "tcp_h_1", Duration::ZERO), None);
        std::fs::remove_dir_all(&top).unwrap();
    }

    #[test]
    fn stats_addresses() {
        let ports = StatsPorts {
            default: 3633,
            by_host: vec![("127.0.0.1:4000".into(), 4001), ("b:3632".into(), 0)],
        };
        assert_eq!(ports.address("a", 3632).as_deref(), Some("a:3633"));
        assert_eq!(
            ports.address("127.0.0.1", 4000).as_deref(),
            Some("127.0.0.1:4001")
        );
        assert_eq!(ports.address("b", 3632), None);
        assert_eq!(ports.address("::1", 3632).as_deref(), Some("[::1]:3633"));
        let none = StatsPorts::default();
        assert_eq!(none.address("a", 3632), None);
    }
}
