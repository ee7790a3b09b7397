//! The daemon's signals: SIGTERM and SIGINT stop it (finishing running
//! jobs, or at once the second time), `--lifetime` too; SIGHUP reopens
//! the log file and re-reads the TLS authorized clients. SIGHUP is held
//! from start-up until these handlers exist.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

use super::tlsgate;
use crate::logging::LogHandle;

/// Block (or unblock) SIGHUP for the calling thread: the main one, which
/// threads and processes started meanwhile inherit the mask from (std
/// clears it for compilers).
pub(super) fn hold_sighup(hold: bool) {
    use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};
    let how = if hold {
        SigmaskHow::SIG_BLOCK
    } else {
        SigmaskHow::SIG_UNBLOCK
    };
    let mut set = SigSet::empty();
    set.add(Signal::SIGHUP);
    if let Err(e) = pthread_sigmask(how, Some(&set), None) {
        tracing::debug!("cannot change the signal mask: {e}");
    }
}

/// SIGTERM/SIGINT and `--lifetime` → shutdown; a second SIGTERM/SIGINT →
/// force; SIGHUP → reopen the log file (logrotate), re-read the TLS
/// authorized clients.
pub(super) fn signals(
    log: LogHandle,
    lifetime: Option<Duration>,
    gate: Option<Arc<tlsgate::Gate>>,
) -> std::io::Result<(impl Future<Output = ()>, impl Future<Output = ()>)> {
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    // Handled from here on: a SIGHUP held since start-up arrives now.
    hold_sighup(false);
    let (tx, rx) = watch::channel(0u32);
    tokio::spawn(async move {
        let mut n = 0;
        loop {
            let name = tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            };
            n += 1;
            tracing::info!(
                "{name} received ({n}): {}",
                if n == 1 {
                    "finishing running jobs, then exiting"
                } else {
                    "stopping now"
                }
            );
            let _ = tx.send(n);
        }
    });
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            match log.reopen() {
                Ok(()) => tracing::info!("SIGHUP: log file reopened"),
                Err(e) => tracing::error!("SIGHUP: cannot reopen the log file: {e}"),
            }
            if let Some(gate) = &gate {
                gate.reload();
            }
        }
    });
    let mut first = rx.clone();
    let shutdown = async move {
        let timer = async {
            match lifetime {
                Some(t) => tokio::time::sleep(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = first.wait_for(|n| *n >= 1) => {}
            () = timer => tracing::info!("--lifetime expired: shutting down"),
        }
    };
    let mut second = rx;
    let force = async move {
        let _ = second.wait_for(|n| *n >= 2).await;
    };
    Ok((shutdown, force))
}
