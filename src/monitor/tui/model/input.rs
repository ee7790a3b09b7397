//! What the monitor read at one moment ([`Sample`]): the hosts with their
//! slot holders and backoff, the jobs, the new records, the daemons'
//! figures. Filled by [`crate::monitor::tui::sources`], read by the model.

use std::collections::BTreeMap;

use crate::state::TaskState;
use crate::state::record::JobRecord;

/// One host as read from the host list and the lock directory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostInput {
    /// Its lock id (`tcp_HOST_PORT`, `ssh_HOST`, `localhost`).
    pub lock_id: String,
    /// How it is shown.
    pub name: String,
    /// Its slots in the host list (`/N`; `--localslots` for localhost).
    pub limit: u32,
    /// For each slot file `cpu_<id>_<n>` (n < limit): the pid holding it.
    pub holders: Vec<Option<u32>>,
    /// Seconds left of its backoff (its `backoff_<id>_0` is that much
    /// younger than the backoff period).
    pub backoff_left: Option<u64>,
    /// `,down` in the host list.
    pub down: bool,
}

/// Figures from a daemon's `--stats` page (3.4's or ours).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DaemonFigures {
    /// `dcc_num_compiles1`: compiles that ended in the last minute.
    pub compiles_1m: u64,
    /// `dcc_max_kids`: its `--jobs`.
    pub max_kids: u64,
    /// `dcc_load1`.
    pub load1: f64,
}

/// What is known of a host's daemon.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Daemon {
    /// No stats address for this host (ssh, localhost, `--stats-port 0`).
    #[default]
    NotAsked,
    /// Its stats page could not be read.
    Unreachable,
    /// Its figures.
    Figures(DaemonFigures),
}

/// Everything read at one moment.
#[derive(Clone, Debug, Default)]
pub struct Sample {
    /// When, in milliseconds since the epoch.
    pub now_ms: u64,
    /// The jobs in the state directory (ours and 3.4's).
    pub jobs: Vec<TaskState>,
    /// The hosts of the host list, then `localhost` for the local slots.
    pub hosts: Vec<HostInput>,
    /// Why there is no host list, if so.
    pub hostlist_problem: Option<String>,
    /// Records added since the previous sample.
    pub records: Vec<JobRecord>,
    /// Daemon figures, by lock id.
    pub daemons: BTreeMap<String, Daemon>,
}
