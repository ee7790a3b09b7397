//! The pure core of distcc-config: data in, plans, edits and findings out.
//! No file, process or environment access here (the drivers in `cmd/` do
//! the I/O), so every rule is unit-tested with plain values.

pub mod allow;
pub mod allow_edit;
pub mod check;
pub mod cross;
pub mod envfile;
pub mod glob;
pub mod march;
pub mod masq;
pub mod patterns;
pub mod report;
pub mod rooted;
pub mod services;
pub mod shvars;
pub mod target;
