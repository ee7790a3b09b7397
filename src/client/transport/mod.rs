//! How a job's bytes reach a server and come back: connections (TCP,
//! SOCKS5, SSH) and the wire exchange of one job on an open connection
//! (spec §1.5, §3.9).
//!
//! * [`conn`]: TCP with 3.4's connect timeout, SSH through `DISTCC_SSH`.
//! * [`socks`]: SOCKS5 CONNECT.
//! * [`remote`]: send the request, read the reply, with `DISTCC_IO_TIMEOUT`.
//! * [`tls`]: TLS 1.3 with pinned keys for `tls+HOST`.

pub mod conn;
pub mod remote;
pub mod socks;
pub mod tls;
