//! distccd tests (issue #2): Debian's distcc 3.4 client against our daemon
//! and against Debian's own (`interop`), raw malformed requests
//! (`malformed`), protocol 3 requests, good and malicious (`pump`), and
//! the daemon's life cycle: signals, privileges, pid
//! file, stats, inetd (`lifecycle`); the compilers' sandbox (`sandbox`).
//! Issue 10: a table of hostile requests (`hostile`), and idle, trickling
//! and oversized clients (`flood`).

mod flood;
pub mod harness;
pub mod hostile;
mod interop;
mod lifecycle;
mod logging;
mod malformed;
mod pump;
mod sandbox;
mod services;
