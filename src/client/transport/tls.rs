//! `tls+HOST`: the job goes through TLS 1.3 to a daemon whose key is
//! pinned in `$DISTCC_DIR/tls/known_daemons`, and the client shows its
//! own key from `$DISTCC_DIR/tls/client.key` (issue 14, docs/tls.md).
//!
//! Nothing of the job is sent before the daemon has shown a pinned key
//! and said it accepts ours ([`crate::tls::ACCEPTED`]). Only the
//! extension's hello, which carries nothing of the job, may go out before
//! that answer ([`Verdict::WithFirstRead`]): it saves a round trip per job.
//! Every failure is a connection failure: the host is backed off and the
//! job tried elsewhere or compiled locally, as for a host that is down.

use std::io::{self, Read, Write};
use std::path::Path;

use rustls::{ClientConnection, StreamOwned};

use super::conn::Conn;
use crate::tls::ACCEPTED;
use crate::tls::config::ClientTls;
use crate::tls::pins::Fingerprint;

/// When to read the daemon's verdict on our key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Before [`connect`] returns: the caller sends the job next.
    Now,
    /// Before the first byte the caller reads: the caller first writes
    /// only the extension's hello, then reads the daemon's offer.
    WithFirstRead,
}

/// A TLS connection over any of our transports.
#[derive(Debug)]
pub struct TlsConn {
    pub stream: StreamOwned<ClientConnection, Conn>,
    /// The verdict still to read, and how to explain a refusal.
    pending: Option<Explain>,
}

#[derive(Debug)]
struct Explain {
    host: String,
    ours: Fingerprint,
}

/// Read `client.key` and the pins for `host`: before connecting, so that
/// a host without a pin is not even connected to.
pub fn prepare(dir: &Path, host: &str, port: u16) -> io::Result<ClientTls> {
    ClientTls::load(dir, host, port, true)
}

/// Run the handshake on `inner`; the daemon's verdict is read as `verdict`
/// says.
pub fn connect(inner: Conn, tls: ClientTls, host: &str, verdict: Verdict) -> io::Result<Conn> {
    let explain = Explain {
        host: host.to_owned(),
        ours: tls.identity.fingerprint,
    };
    let mut conn = ClientConnection::new(tls.config.clone(), ClientTls::server_name(host))
        .map_err(io::Error::other)?;
    let mut sock = inner;
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).map_err(|e| explain.error(e))?;
    }
    let mut tls = TlsConn {
        stream: StreamOwned::new(conn, sock),
        pending: Some(explain),
    };
    if verdict == Verdict::Now {
        tls.read_verdict()?;
    }
    Ok(Conn::Tls(Box::new(tls)))
}

impl TlsConn {
    /// Whether decrypted bytes wait beyond the accept byte (see
    /// [`Conn::buffered`]); an error is for the next read to report.
    pub fn buffered(&mut self) -> bool {
        let verdict = usize::from(self.pending.is_some());
        self.stream
            .conn
            .process_new_packets()
            .map_or(true, |st| st.plaintext_bytes_to_read() > verdict)
    }

    fn read_verdict(&mut self) -> io::Result<()> {
        let Some(explain) = &self.pending else {
            return Ok(());
        };
        let mut verdict = [0u8; 1];
        match self.stream.read_exact(&mut verdict) {
            Ok(()) if verdict[0] == ACCEPTED => {
                self.pending = None;
                Ok(())
            }
            Ok(()) => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} answered the TLS handshake with an unexpected byte",
                    explain.host
                ),
            )),
            Err(e) => Err(explain.error(e)),
        }
    }
}

impl Read for TlsConn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_verdict()?;
        self.stream.read(buf)
    }
}

impl Write for TlsConn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.write(buf)
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.stream.write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

impl Explain {
    /// Say what a handshake failure means for the user.
    fn error(&self, e: io::Error) -> io::Error {
        let (host, ours) = (&self.host, self.ours);
        let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
        let text = match inner {
            Some(rustls::Error::InvalidCertificate(rustls::CertificateError::Other(o))) => {
                format!("not sending the job: {}", o.0)
            }
            Some(rustls::Error::AlertReceived(alert)) => format!(
                "{host} refused this client's key {ours} ({alert:?}); \
                 on {host}: distcc-config --tls-trust-client {ours}"
            ),
            _ if e.kind() == io::ErrorKind::UnexpectedEof => format!(
                "{host} closed the connection during the TLS handshake \
                 (does it run distccd --tls, and trust this client's key {ours}?)"
            ),
            _ => format!("TLS with {host}: {e}"),
        };
        io::Error::new(io::ErrorKind::PermissionDenied, text)
    }
}
