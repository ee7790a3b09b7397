//! Where a job may run: the host list, the slot locks and backoff files
//! shared with distcc 3.4 clients, the choice of a host, and the monitor
//! state file that says what this client is doing (spec §2.1, §3.8,
//! §3.14).
//!
//! * [`hostlist`]: where the host list comes from.
//! * [`locks`]: 3.4-compatible `cpu_*` and `backoff_*` files.
//! * [`pick`]: 3.4's slot-by-slot host choice, in the placement's order.
//! * [`hoststate`]: each host's measured speed, shared by all clients.
//! * [`entries`]: one sparse file of 16-byte entries per key, for:
//! * [`homes`]: where each pump job's source compiled last.
//! * [`jobcost`]: each job's cost against its host's figure, for a rebuild.
//! * [`oldfigures`]: the figures' old directory, 3.4's host-list file name.
//! * [`status`]: `state/binstate_<pid>` for `distccmon-text`.

pub mod entries;
pub mod homes;
pub mod hostlist;
pub mod hoststate;
pub mod jobcost;
pub mod locks;
pub mod oldfigures;
pub mod pick;
pub mod status;
