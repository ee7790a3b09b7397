//! distccd tests (issue #2): Debian's distcc 3.4 client against our daemon
//! and against Debian's own (`interop`), raw malformed requests
//! (`malformed`), protocol 3 requests, good and malicious (`pump`), and
//! the daemon's life cycle: signals, privileges, pid
//! file, stats, inetd (`lifecycle`); the compilers' sandbox (`sandbox`).

pub mod harness;
mod interop;
mod lifecycle;
mod logging;
mod malformed;
mod pump;
mod sandbox;
mod services;
