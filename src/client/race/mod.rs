//! Local racing (issue 13, second part): when a remote job takes clearly
//! longer than its host should need and a local slot is idle, the client
//! compiles the job here too and takes whichever result comes first. A
//! slow or stalled host then costs at most one local compile.
//!
//! [`policy`] decides (pure: when a job is late, which commands may be
//! raced, what the host is charged); [`run`] carries it out (the local
//! process in its own group, outputs under temp names renamed into place
//! by the winner only, the loser killed). distcc 3.4 has nothing like it:
//! a stalled host holds its jobs until `DISTCC_IO_TIMEOUT`.
//! `DISTCC_RACE=0` turns racing off.

pub mod incoming;
pub mod policy;
pub mod run;
