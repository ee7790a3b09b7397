//! distccd tests (issue #2): Debian's distcc 3.4 client against our daemon
//! and against Debian's own (`interop`), raw malformed requests
//! (`malformed`), protocol 3 requests, good and malicious (`pump`), and
//! the daemon's life cycle: signals, privileges, pid
//! file, stats, inetd (`lifecycle`); the compilers' sandbox (`sandbox`).
//! Issue 10: the hostile-request corpus (`corpus` counts it): framing,
//! stalls and floods (`hostile`), argument spellings, side outputs,
//! server-file reads and pump paths (`hostile_args`), what the sandbox
//! confines (`sandbox`); and idle, trickling and oversized clients
//! (`flood`).

mod corpus;
mod flood;
pub mod harness;
mod hdrcache;
pub mod hostile;
pub mod hostile_args;
mod interop;
mod lifecycle;
mod logging;
mod malformed;
mod pump;
mod pump_outputs;
pub mod sandbox;
mod services;
