//! The accept loop (spec §4.3, §4.4; style.md example 11): takes an
//! already-bound listener and a shutdown future, so tests can bind
//! `127.0.0.1:0` and stop it at will.
//!
//! 3.4 preforks `--jobs` children that each block in `accept()`, so a
//! client that connects and then stalls holds one of the `--jobs` slots
//! until it goes, and `--jobs` idle connections stop the daemon (spec
//! §4.6). Here receiving a request is cheap (a task and a buffer) and a
//! compile slot is taken only once a request has fully arrived
//! (`job::Shared`), so connections are accepted far beyond `--jobs`: up to
//! caps derived from the descriptor limit and the machine's memory
//! ([`caps`]), kept by the table of connections
//! ([`super::incoming::pending`]), which drops the connection that made
//! the least progress when a cap is reached rather than turn a newcomer
//! away (issue 10). The peer is checked against `--allow` right after
//! `accept`, before a byte is read.
//!
//! Shutdown (SIGTERM/SIGINT, `--lifetime`): stop accepting, let running
//! jobs finish, then return. If `force` fires meanwhile (a second
//! signal), running compilers are killed first.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinSet;

use super::job::{self, Shared};
use super::summary::Refusal;
use super::tlsgate::{Admitted, Gate};
use crate::logging::clip_to;

pub mod caps;
use super::stats::SLOT_SECS;
use crate::access::AccessList;

/// The port, and whether TLS is served on it ([`super::tlsgate`]).
#[derive(Debug)]
pub struct Listener {
    pub main: TcpListener,
    pub tls: Option<Arc<Gate>>,
}

impl From<TcpListener> for Listener {
    fn from(main: TcpListener) -> Self {
        Self { main, tls: None }
    }
}

/// Serve until `shutdown` completes; `force` (if it fires after that)
/// kills running compiles instead of waiting for them.
pub async fn serve(
    listener: impl Into<Listener>,
    access: Arc<AccessList>,
    shared: Arc<Shared>,
    jobs: u32,
    shutdown: impl Future<Output = ()>,
    force: impl Future<Output = ()>,
) {
    let Listener {
        main: listener,
        tls: gate,
    } = listener.into();
    let caps = caps::for_this_machine(jobs);
    shared.pending.set_caps(caps);
    tracing::debug!(
        "up to {} connections, {} per client address without a complete request, \
         {} MiB for requests being received",
        caps.connections,
        caps.per_address,
        caps.memory >> 20
    );
    let mut tasks = JoinSet::new();
    let ticker = tokio::spawn(tick(shared.clone()));
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            () = &mut shutdown => break,
        };
        while let Some(done) = tasks.try_join_next() {
            report_panic(done);
        }
        let (stream, addr) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                tracing::error!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let peer = SocketAddr::new(addr.ip().to_canonical(), addr.port());
        if !access.allows(Some(peer.ip())) {
            tracing::warn!(
                "connection from client '{}' denied by access list",
                peer.ip()
            );
            shared.stats.refused(Refusal::Access);
            continue;
        }
        tracing::debug!("connection from {peer}");
        let ticket = match shared.pending.admit(Some(peer.ip())) {
            Ok(t) => t,
            Err(why) => {
                tracing::warn!("{}", clip_to(&why, 200));
                continue;
            }
        };
        let shared = shared.clone();
        let gate = gate.clone();
        tasks.spawn(async move {
            let _busy = shared.stats.accepted();
            let name = peer.to_string();
            let stream = match gate {
                None => Admitted::Clear(stream),
                Some(g) => g.admit(stream, &name).await,
            };
            match stream {
                Admitted::Clear(stream) => {
                    let (r, w) = stream.into_split();
                    job::serve(r, w, &name, ticket, &shared).await;
                }
                Admitted::Tls(stream) => {
                    let (r, w) = tokio::io::split(stream);
                    job::serve(r, w, &name, ticket, &shared).await;
                }
                Admitted::Refused => shared.stats.refused(Refusal::Access),
            }
        });
    }
    drop(listener);
    ticker.abort();
    // Finished jobs stay in the set until reaped; count only running ones.
    while let Some(done) = tasks.try_join_next() {
        report_panic(done);
    }
    if !tasks.is_empty() {
        tracing::info!("shutting down: waiting for {} running jobs", tasks.len());
    }
    tokio::pin!(force);
    let mut forced = false;
    loop {
        tokio::select! {
            done = tasks.join_next() => match done {
                Some(r) => report_panic(r),
                None => break,
            },
            () = &mut force, if !forced => {
                forced = true;
                tracing::warn!("second signal: killing {} running jobs", tasks.len());
                let _ = shared.abort.send(true);
            }
        }
    }
}

fn report_panic(r: Result<(), tokio::task::JoinError>) {
    if let Err(e) = r {
        if e.is_panic() {
            tracing::error!("a job crashed: {e}; the daemon carries on");
        }
    }
}

async fn tick(shared: Arc<Shared>) {
    let mut every = tokio::time::interval(Duration::from_secs(SLOT_SECS));
    every.tick().await;
    loop {
        every.tick().await;
        shared.stats.tick();
    }
}
