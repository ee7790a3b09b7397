//! `tls+HOST`: the job goes through TLS 1.3 to a daemon whose key is
//! pinned in `$DISTCC_DIR/tls/known_daemons`, and the client shows its
//! own key from `$DISTCC_DIR/tls/client.key` (issue 14, docs/tls.md).
//!
//! Nothing of the job is sent before the daemon has shown a pinned key
//! and said it accepts ours ([`crate::tls::ACCEPTED`]). Every failure is a
//! connection failure: the host is backed off and the job tried elsewhere
//! or compiled locally, as for a host that is down.

use std::io::{self, Read};
use std::path::Path;

use rustls::{ClientConnection, StreamOwned};

use super::conn::Conn;
use crate::tls::ACCEPTED;
use crate::tls::config::ClientTls;

/// A TLS connection over any of our transports.
pub type TlsConn = StreamOwned<ClientConnection, Conn>;

/// Run the handshake on `inner` and wait for the daemon's verdict.
pub fn connect(inner: Conn, dir: &Path, host: &str, port: u16) -> io::Result<Conn> {
    let tls = ClientTls::load(dir, host, port, true)?;
    let mut conn = ClientConnection::new(tls.config.clone(), ClientTls::server_name(host))
        .map_err(io::Error::other)?;
    let mut sock = inner;
    while conn.is_handshaking() {
        conn.complete_io(&mut sock)
            .map_err(|e| explain(e, &tls, host))?;
    }
    let mut stream = StreamOwned::new(conn, sock);
    let mut verdict = [0u8; 1];
    match stream.read_exact(&mut verdict) {
        Ok(()) if verdict[0] == ACCEPTED => Ok(Conn::Tls(Box::new(stream))),
        Ok(()) => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{host} answered the TLS handshake with an unexpected byte"),
        )),
        Err(e) => Err(explain(e, &tls, host)),
    }
}

/// Say what a handshake failure means for the user.
fn explain(e: io::Error, tls: &ClientTls, host: &str) -> io::Error {
    let ours = tls.identity.fingerprint;
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
