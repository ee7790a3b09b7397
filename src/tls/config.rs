//! rustls set up for distcc (issue 14): TLS 1.3 only, Ed25519 raw public
//! keys on both sides (RFC 7250), each side checking the other's key
//! against its pins. No certificate authority, no names in keys.
//!
//! The checks run inside the handshake: a client whose pin does not
//! match fails the handshake before it sends its own key, so a daemon
//! that took over the address receives nothing of a job; a daemon
//! refuses an unknown client before reading a request.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, SubjectPublicKeyInfoDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, DistinguishedName, OtherError,
    ServerConfig, SignatureScheme,
};

use super::keys::{Identity, Role};
use super::pins::{self, Fingerprint};

/// ring: X25519 key exchange, Ed25519, AES-GCM and ChaCha20-Poly1305.
/// rustls marks it deprecated because ring has no post-quantum key
/// exchange (X25519MLKEM768 needs aws-lc-rs, whose C build needs cmake
/// and takes minutes on a small machine); docs/tls.md says so.
#[allow(deprecated)]
fn ring() -> CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// Key exchange by X25519 alone: both ends are ours, and ring's default
/// list starts with P-384, whose key share costs the client ten times
/// X25519's (measured with callgrind: 5.8 M instructions of a 14 M job,
/// bench/RESULTS.md).
fn provider() -> Arc<CryptoProvider> {
    Arc::new(CryptoProvider {
        kx_groups: vec![rustls::crypto::ring::kx_group::X25519],
        ..ring()
    })
}

fn algorithms() -> WebPkiSupportedAlgorithms {
    ring().signature_verification_algorithms
}

fn read_trust(path: &Path) -> io::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(t),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
    }
}

fn bad_file(path: &Path, e: pins::BadLine) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{}: {e}", path.display()),
    )
}

/// Why a peer's key was not accepted, carried through rustls to the log.
#[derive(Debug)]
pub struct Untrusted(pub String);

impl std::fmt::Display for Untrusted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Untrusted {}

fn untrusted(why: String) -> rustls::Error {
    rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(Untrusted(
        why,
    )))))
}

fn check_signature(
    message: &[u8],
    key: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
) -> Result<HandshakeSignatureValid, rustls::Error> {
    rustls::crypto::verify_tls13_signature_with_raw_key(
        message,
        &SubjectPublicKeyInfoDer::from(key.as_ref()),
        dss,
        &algorithms(),
    )
}

/// The signature half of both verifiers, the same on each side: TLS 1.3
/// only, Ed25519 signatures by raw public keys. `ClientCertVerifier` and
/// `ServerCertVerifier` declare these four methods separately, so a
/// macro rather than a shared trait implementation.
macro_rules! ed25519_raw_key_signatures {
    () => {
        fn verify_tls12_signature(
            &self,
            _message: &[u8],
            _cert: &CertificateDer<'_>,
            _dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            Err(rustls::Error::General("TLS 1.2 is not offered".into()))
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            check_signature(message, cert, dss)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            vec![SignatureScheme::ED25519]
        }

        fn requires_raw_public_keys(&self) -> bool {
            true
        }
    };
}

// ---------------------------------------------------------------- daemon

/// The daemon's half: its key and the clients it serves.
#[derive(Debug)]
pub struct DaemonTls {
    pub config: Arc<ServerConfig>,
    pub identity: Identity,
    pub authorized: usize,
}

#[derive(Debug)]
struct AuthorizedClients {
    keys: Vec<Fingerprint>,
    file: PathBuf,
}

impl ClientCertVerifier for AuthorizedClients {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let fp = Fingerprint::of_spki(end_entity.as_ref());
        if self.keys.contains(&fp) {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(untrusted(format!(
                "client key {fp} is not in {}",
                self.file.display()
            )))
        }
    }

    ed25519_raw_key_signatures!();
}

impl DaemonTls {
    /// Read `daemon.key` and `authorized_clients` from `dir`. A missing
    /// key is an error (the admin asked for TLS); a missing
    /// `authorized_clients` trusts nobody.
    pub fn load(dir: &Path) -> io::Result<Self> {
        let key_path = dir.join(Role::Daemon.key_file());
        let identity = Identity::load(&key_path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("{e} (create it with: distcc-config --tls-keygen daemon)"),
            )
        })?;
        Self::with_identity(dir, identity)
    }

    /// Read `authorized_clients` again; the key too if it can be read
    /// (after the privilege drop it usually cannot: `old` stays then).
    pub fn reload(dir: &Path, old: &Identity) -> io::Result<Self> {
        let key_path = dir.join(Role::Daemon.key_file());
        let identity = match Identity::load(&key_path) {
            Ok(id) => id,
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => old.clone(),
            Err(e) => return Err(e),
        };
        Self::with_identity(dir, identity)
    }

    fn with_identity(dir: &Path, identity: Identity) -> io::Result<Self> {
        let file = dir.join(Role::Daemon.trust_file());
        let keys: Vec<Fingerprint> = pins::parse_authorized(&read_trust(&file)?)
            .map_err(|e| bad_file(&file, e))?
            .into_iter()
            .map(|p| p.key)
            .collect();
        let authorized = keys.len();
        let verifier = Arc::new(AuthorizedClients { keys, file });
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(io::Error::other)?
            .with_client_cert_verifier(verifier)
            .with_cert_resolver(Arc::new(
                rustls::server::AlwaysResolvesServerRawPublicKeys::new(identity.certified_key()),
            ));
        // One job per connection: tickets would only cost bytes.
        config.send_tls13_tickets = 0;
        config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
        Ok(Self {
            config: Arc::new(config),
            identity,
            authorized,
        })
    }
}

// ---------------------------------------------------------------- client

#[derive(Debug)]
struct PinnedDaemon {
    host: String,
    keys: Vec<Fingerprint>,
    file: PathBuf,
    /// The key the daemon showed, for error messages and for
    /// `distcc-config --tls-trust-daemon HOST` (which pins nothing yet).
    seen: Mutex<Option<Fingerprint>>,
}

impl ServerCertVerifier for PinnedDaemon {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let fp = Fingerprint::of_spki(end_entity.as_ref());
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some(fp);
        }
        if self.keys.contains(&fp) {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(untrusted(format!(
                "{} showed key {fp}, which is not pinned for it in {}",
                self.host,
                self.file.display()
            )))
        }
    }

    ed25519_raw_key_signatures!();
}

/// The client's half for one daemon.
#[derive(Debug)]
pub struct ClientTls {
    pub config: Arc<ClientConfig>,
    pub identity: Identity,
    verifier: Arc<PinnedDaemon>,
}

impl ClientTls {
    /// Read `client.key` and the pins for `host`/`port` from `dir`. With
    /// `require_pin`, a host without a pinned key is an error here, before
    /// any connection.
    pub fn load(dir: &Path, host: &str, port: u16, require_pin: bool) -> io::Result<Self> {
        let key_path = dir.join(Role::Client.key_file());
        let identity = Identity::load(&key_path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("{e} (create it with: distcc-config --tls-keygen client)"),
            )
        })?;
        let file = dir.join(Role::Client.trust_file());
        let all = pins::parse_known(&read_trust(&file)?).map_err(|e| bad_file(&file, e))?;
        let keys = pins::pinned_for(&all, host, port);
        if keys.is_empty() && require_pin {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "no key pinned for {host} in {} (distcc-config --tls-trust-daemon {host} FINGERPRINT)",
                    file.display()
                ),
            ));
        }
        let verifier = Arc::new(PinnedDaemon {
            host: host.to_owned(),
            keys,
            file,
            seen: Mutex::new(None),
        });
        let mut config = ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(io::Error::other)?
            .dangerous()
            .with_custom_certificate_verifier(verifier.clone())
            .with_client_cert_resolver(Arc::new(
                rustls::client::AlwaysResolvesClientRawPublicKeys::new(identity.certified_key()),
            ));
        config.resumption = rustls::client::Resumption::disabled();
        Ok(Self {
            config: Arc::new(config),
            identity,
            verifier,
        })
    }

    /// The key the daemon showed in the last handshake, if it got that far.
    pub fn seen(&self) -> Option<Fingerprint> {
        self.verifier.seen.lock().ok().and_then(|s| *s)
    }

    /// The name rustls wants; keys, not names, are checked.
    pub fn server_name(host: &str) -> ServerName<'static> {
        ServerName::try_from(host.to_owned())
            .unwrap_or_else(|_| ServerName::try_from("distcc").expect("a valid name"))
    }
}
