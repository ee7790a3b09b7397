//! The extension on the client (docs/extension.md): whether to say hello
//! to a host, the hello itself, and what the server sends before `DONE`.
//!
//! A host of unknown kind gets its jobs in 3.4's protocol, which our
//! daemon serves too; after the first success there, the client probes it
//! on a connection of its own ([`probe`]): a 3.4 server answers the hello
//! by closing the connection, which costs it one short read. The answer is
//! remembered in `$DISTCC_DIR/extension/` (a 3.4 answer for
//! [`REPROBE_SECS`]), so every client process of a build, and of the next
//! builds, knows; one process probes a host at a time (a `flock`). A
//! host that answered says hello on every job's connection. Without a
//! `$DISTCC_DIR` nothing can be remembered, so nothing is probed.
//! `DISTCC_EXTENSION=0` turns it off; ssh hosts never use it.
//!
//! Here: what the client asks for and [`opening`], the decision how to
//! open a connection. By responsibility below: `memory` (what is known of
//! a host, in `$DISTCC_DIR/extension/`), `probe` (the probe on a
//! connection of its own), `hello` (the hello on a job's connection and
//! the [`Session`] it agrees; with the host's offer remembered, the
//! request goes right behind the hello, docs/extension.md §2.1) and
//! `reply` (what the server sends before `DONE`, and the reply read in
//! the extension).

mod hello;
mod memory;
mod probe;
mod reply;

pub(crate) use hello::io_error;
pub use hello::{Hello, Session, Wanted, confirm, hello, pipelined};
pub use memory::Offer;
pub use probe::{probe, probe_first};
pub use reply::{Item, drain, next_item, receive, status_ahead};

use crate::client::ctx::Ctx;
use crate::hosts::{HostKind, HostSpec};
use crate::protocol::ext::cap;
use memory::{Known, remembered};

/// The directory under `$DISTCC_DIR`.
pub const DIR: &str = "extension";
/// How long "this host speaks only 3.4" is believed: an hour, so a host
/// upgraded to our daemon is found within the hour, and a 3.4 daemon gets
/// at most one probe an hour from this user.
pub const REPROBE_SECS: u64 = 3600;
/// What this client asks for, of what it implements (`COMPILER_ID` and
/// `COMPILER_ID_REF` only with an identity to send, `SYSTEM_HEADERS`
/// only for a job in pump form).
pub const WANTED: u32 = cap::ZSTD
    | cap::HEARTBEAT
    | cap::STATUS
    | cap::COMPILER_ID
    | cap::OUTPUTS
    | cap::HEADER_CACHE
    | cap::PUMP_OUTPUTS
    | cap::REQUEST_REF
    | cap::COMPILER_ID_REF
    | cap::BODY_BASE
    | cap::SYSTEM_HEADERS;

/// How to open a connection to a host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opening {
    /// 3.4's protocol: the host is a 3.4 one, or the extension is off.
    Plain,
    /// 3.4's protocol, and once the job succeeded, [`probe`] the host.
    PlainThenProbe,
    /// Say hello: the host answered one before, with this offer when it
    /// is remembered (then the request may follow the hello at once,
    /// docs/extension.md §2.1).
    Hello(Option<Offer>),
}

impl Opening {
    /// Whether the connection opens with the extension's hello.
    pub const fn is_hello(self) -> bool {
        matches!(self, Self::Hello(_))
    }
}

/// Decide how to open a connection to `host`.
pub fn opening(ctx: &Ctx, host: &HostSpec) -> Opening {
    let Some(top) = ctx.topdir.as_deref() else {
        return Opening::Plain;
    };
    // Over ssh every connection is a new session and a new distccd: the
    // extension is for TCP hosts.
    let tcp = matches!(host.kind, HostKind::Tcp { .. });
    let lock_id = host.lock_id();
    if !tcp || !ctx.vars.bool_or("DISTCC_EXTENSION", true) || lock_id.contains('/') {
        return Opening::Plain;
    }
    match remembered(top, &lock_id) {
        Known::Ours(offer) => Opening::Hello(offer),
        Known::Theirs => Opening::Plain,
        Known::Unknown => Opening::PlainThenProbe,
    }
}
