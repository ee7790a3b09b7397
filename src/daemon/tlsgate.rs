//! TLS beside the clear protocols on one port (issue 14, docs/tls.md).
//!
//! After `--allow` has passed a connection, the first byte tells the two
//! apart: a TLS record starts with 0x16 (handshake), every distcc 3.4
//! request with `D` (`DIST`). A TLS client must show a key listed in
//! `authorized_clients` before the daemon reads a request; the clear
//! protocols are served unless `--tls-required`, which refuses them with
//! the reason logged.
//!
//! The key is read at start, while still root (the file is the root's,
//! mode 0600); SIGHUP re-reads `authorized_clients` and, if it is still
//! readable, the key.
//!
//! Once the daemon has checked the client's key it sends one byte,
//! [`ACCEPTED`]: in TLS 1.3 the client finishes its handshake before the
//! daemon has judged its key, so without it a refused client could only
//! guess why its request went unanswered. A client may send the
//! extension's hello before that byte arrives; a refused one is read to
//! its end so that the refusal reaches it (`linger`).

use std::io;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

use super::config::TlsSettings;
use crate::tls::config::DaemonTls;

use crate::tls::ACCEPTED;

/// The first byte of a TLS handshake record.
const TLS_HANDSHAKE: u8 = 0x16;

/// How long a client may take to send its first byte and to finish the
/// handshake; a compile request has deadlines of its own after that.
const HANDSHAKE_TIME: Duration = Duration::from_secs(10);

/// How long, and for how many bytes, a refused client is read before
/// the connection is closed ([`linger`]).
const LINGER_TIME: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 64 * 1024;

/// What a connection turned out to be.
#[derive(Debug)]
pub enum Admitted {
    Clear(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// Refused (logged already).
    Refused,
}

/// The daemon's TLS state.
#[derive(Debug)]
pub struct Gate {
    dir: PathBuf,
    required: bool,
    tls: RwLock<Arc<DaemonTls>>,
}

impl Gate {
    /// Read the key and the authorized clients.
    pub fn load(settings: &TlsSettings) -> io::Result<Self> {
        let tls = DaemonTls::load(&settings.dir)?;
        tracing::info!(
            "TLS: key {}, {} authorized client key(s) in {}{}",
            tls.identity.fingerprint,
            tls.authorized,
            settings.dir.display(),
            if settings.required {
                "; clear protocols refused (--tls-required)"
            } else {
                "; clear protocols served too"
            }
        );
        Ok(Self {
            dir: settings.dir.clone(),
            required: settings.required,
            tls: RwLock::new(Arc::new(tls)),
        })
    }

    /// SIGHUP: read `authorized_clients` again (and the key, if this user
    /// still can). On an error the old settings stay.
    pub fn reload(&self) {
        let old = self.current();
        match DaemonTls::reload(&self.dir, &old.identity) {
            Ok(new) => {
                tracing::info!(
                    "SIGHUP: TLS key {}, {} authorized client key(s)",
                    new.identity.fingerprint,
                    new.authorized
                );
                if let Ok(mut slot) = self.tls.write() {
                    *slot = Arc::new(new);
                }
            }
            Err(e) => tracing::error!("SIGHUP: TLS settings kept: {e}"),
        }
    }

    fn current(&self) -> Arc<DaemonTls> {
        match self.tls.read() {
            Ok(t) => t.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Tell TLS from clear by the first byte, and run the handshake.
    pub async fn admit(&self, stream: TcpStream, peer: &str) -> Admitted {
        let mut first = [0u8; 1];
        let peeked = tokio::time::timeout(HANDSHAKE_TIME, stream.peek(&mut first)).await;
        match peeked {
            Ok(Ok(1)) => {}
            Ok(Ok(_)) => {
                tracing::info!("{peer}: client hung up before sending anything");
                return Admitted::Refused;
            }
            Ok(Err(e)) => {
                tracing::info!("{peer}: {e}");
                return Admitted::Refused;
            }
            Err(_) => {
                tracing::warn!(
                    "refused connection from {peer}: nothing received within {} s",
                    HANDSHAKE_TIME.as_secs()
                );
                return Admitted::Refused;
            }
        }
        if first[0] != TLS_HANDSHAKE {
            if self.required {
                tracing::warn!(
                    "refused request from {peer}: this daemon serves only authenticated TLS \
                     clients (--tls-required), and this is a clear distcc request"
                );
                return Admitted::Refused;
            }
            return Admitted::Clear(stream);
        }
        // The accept byte and the answer to the extension's hello are two
        // small writes with nothing from the client between them (its
        // hello came before the byte): Nagle would hold the second until
        // the client's delayed ACK of the first, 40 ms later.
        let _ = stream.set_nodelay(true);
        let acceptor = tokio_rustls::TlsAcceptor::from(self.current().config.clone());
        let handshake = tokio::time::timeout(HANDSHAKE_TIME, async {
            let mut tls = match acceptor.accept(stream).into_fallible().await {
                Ok(tls) => tls,
                Err((e, stream)) => {
                    linger(stream).await;
                    return Err(e);
                }
            };
            tls.write_all(&[ACCEPTED]).await?;
            tls.flush().await?;
            io::Result::Ok(tls)
        })
        .await;
        match handshake {
            Ok(Ok(tls)) => {
                let key = tls
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|c| c.first())
                    .map(|k| crate::tls::pins::Fingerprint::of_spki(k.as_ref()));
                if let Some(key) = key {
                    tracing::debug!("{peer}: TLS client key {key}");
                }
                Admitted::Tls(Box::new(tls))
            }
            Ok(Err(e)) => {
                tracing::warn!("refused TLS connection from {peer}: {}", reason(&e));
                Admitted::Refused
            }
            Err(_) => {
                tracing::warn!(
                    "refused TLS connection from {peer}: handshake not done within {} s",
                    HANDSHAKE_TIME.as_secs()
                );
                Admitted::Refused
            }
        }
    }
}

/// After a refusal (its alert sent): read what the client sent meanwhile
/// (its extension's hello, sent without waiting for the accept byte)
/// until it closes. Closing with that unread would reset the connection,
/// and the client's kernel would drop the alert with the reason unread.
async fn linger(mut stream: TcpStream) {
    use tokio::io::AsyncReadExt;
    let _ = stream.shutdown().await;
    let mut buf = [0u8; 4096];
    let mut read = 0;
    let _ = tokio::time::timeout(LINGER_TIME, async {
        while let Ok(n @ 1..) = stream.read(&mut buf).await {
            read += n;
            if read >= LINGER_BYTES {
                break;
            }
        }
    })
    .await;
}

/// The innermost reason of a handshake failure (our verifier's words
/// when it refused the key).
fn reason(e: &io::Error) -> String {
    let Some(inner) = e.get_ref() else {
        return e.to_string();
    };
    if let Some(rustls::Error::InvalidCertificate(rustls::CertificateError::Other(o))) =
        inner.downcast_ref::<rustls::Error>()
    {
        return o.0.to_string();
    }
    inner.to_string()
}
