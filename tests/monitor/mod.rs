//! The live view of the farm (issue 15): the daemon's `/metrics` page
//! (`metrics`), the client's per-job records and their summary
//! (`counters`), and the full-screen monitor `distccmon-tui` driven in
//! tmux during real builds (`tui`).

mod counters;
mod metrics;
mod tui;
