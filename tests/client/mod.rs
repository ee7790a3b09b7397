//! Client tests (issue #3): our `distcc` against Debian's distccd 3.4 and
//! ours, in protocols 1 and 2 and over SSH, with outputs compared byte for
//! byte to local builds; failure handling; lock sharing with 3.4's client;
//! the monitor; a real project built with `make -j` through a masquerade
//! directory.

mod bench_farm;
mod bodybase;
mod cli;
mod compiler_check;
mod corpus;
mod extension;
mod fake;
mod fallback;
mod fidelity;
pub mod harness;
mod hdrcache;
mod homes;
mod hostsfile;
mod outputs;
mod pipeline;
mod placement;
mod plain_debug;
mod project;
mod pump;
mod pump_cache;
mod pump_corpus;
mod pump_outputs;
mod pump_paths;
mod race;
mod realbuilds;
mod sharing;
mod signals;
mod socks;
mod ssh;
mod sysheaders;
mod tls;
mod trust;
mod zeroconf;
