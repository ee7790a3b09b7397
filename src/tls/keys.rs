//! Key pairs on disk: an Ed25519 private key as PKCS#8 PEM (mode 0600),
//! its public half as one line `FINGERPRINT SPKI-BASE64 COMMENT`, and the
//! trust files beside them (issue 14).
//!
//! | who | directory | files |
//! |---|---|---|
//! | daemon | `/etc/distcc/tls` (`distccd --tls-dir`) | `daemon.key`, `daemon.pub`, `authorized_clients` |
//! | client | `$DISTCC_DIR/tls` (`~/.distcc/tls`) | `client.key`, `client.pub`, `known_daemons` |
//!
//! Portage builds as user `portage` with `DISTCC_DIR=/var/tmp/portage/.distcc`,
//! so that is where its client key lives; makepkg builds as the user who
//! runs it, so `~/.distcc/tls`.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ring::signature::{Ed25519KeyPair, KeyPair};
use rustls::pki_types::PrivatePkcs8KeyDer;
use rustls::pki_types::pem::PemObject;
use rustls::sign::{CertifiedKey, Signer, SigningKey};
use rustls::{SignatureAlgorithm, SignatureScheme};

use super::pins::{Fingerprint, base64_nopad, ed25519_spki};

/// The daemon's directory unless `--tls-dir` says otherwise.
pub const DAEMON_DIR: &str = "/etc/distcc/tls";
/// The client's directory under `$DISTCC_DIR`.
pub const CLIENT_SUBDIR: &str = "tls";

/// The files of one side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Daemon,
    Client,
}

impl Role {
    /// The private key's file name.
    pub fn key_file(self) -> &'static str {
        match self {
            Self::Daemon => "daemon.key",
            Self::Client => "client.key",
        }
    }
    /// The public key's file name.
    pub fn pub_file(self) -> &'static str {
        match self {
            Self::Daemon => "daemon.pub",
            Self::Client => "client.pub",
        }
    }
    /// The file of the other side's keys this side trusts.
    pub fn trust_file(self) -> &'static str {
        match self {
            Self::Daemon => "authorized_clients",
            Self::Client => "known_daemons",
        }
    }
}

/// An Ed25519 key pair.
#[derive(Clone)]
pub struct Identity {
    pkcs8: Vec<u8>,
    /// Parsed once: each parse derives the public key again, which costs
    /// a client about as much as a signature, per job.
    pair: Arc<Ed25519KeyPair>,
    /// The public key as sent in the handshake (RFC 7250).
    pub spki: Vec<u8>,
    pub fingerprint: Fingerprint,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the private key, even in a debug log.
        write!(f, "Identity({})", self.fingerprint)
    }
}

fn invalid(what: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

impl Identity {
    /// A new random key pair.
    pub fn generate() -> io::Result<Self> {
        let rng = ring::rand::SystemRandom::new();
        let doc = Ed25519KeyPair::generate_pkcs8(&rng)
            .map_err(|_| io::Error::other("cannot generate an Ed25519 key"))?;
        Self::from_pkcs8(doc.as_ref().to_vec())
    }

    fn from_pkcs8(pkcs8: Vec<u8>) -> io::Result<Self> {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&pkcs8)
            .map_err(|e| invalid(format!("not an Ed25519 key: {e}")))?;
        let public: [u8; 32] = pair
            .public_key()
            .as_ref()
            .try_into()
            .map_err(|_| invalid("Ed25519 public key of the wrong size"))?;
        let spki = ed25519_spki(&public);
        Ok(Self {
            fingerprint: Fingerprint::of_spki(&spki),
            pkcs8,
            pair: Arc::new(pair),
            spki,
        })
    }

    /// Read a PEM private key file.
    pub fn load(path: &Path) -> io::Result<Self> {
        let pem = std::fs::read(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        let der = PrivatePkcs8KeyDer::from_pem_slice(&pem)
            .map_err(|e| invalid(format!("{}: not a PKCS#8 PEM key: {e}", path.display())))?;
        Self::from_pkcs8(der.secret_pkcs8_der().to_vec())
            .map_err(|e| invalid(format!("{}: {e}", path.display())))
    }

    /// The private key file's text.
    pub fn private_pem(&self) -> String {
        let b64 = base64_nopad(&self.pkcs8);
        let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
        // Padding is required in PEM.
        let padded = b64.clone() + &"=".repeat((4 - b64.len() % 4) % 4);
        for line in padded.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str("-----END PRIVATE KEY-----\n");
        pem
    }

    /// The public key file's line.
    pub fn public_line(&self, comment: &str) -> String {
        format!(
            "{} {} {comment}\n",
            self.fingerprint,
            base64_nopad(&self.spki)
        )
    }

    /// The key as rustls signs with it, the SPKI standing in for a
    /// certificate (RFC 7250).
    pub fn certified_key(&self) -> Arc<CertifiedKey> {
        Arc::new(CertifiedKey::new(
            vec![self.spki.clone().into()],
            Arc::new(Ed25519Signer(self.pair.clone())),
        ))
    }
}

/// rustls' signer over the pair [`Identity`] parsed already (rustls' own,
/// `any_eddsa_type`, would parse the PKCS#8 document again).
#[derive(Debug)]
struct Ed25519Signer(Arc<Ed25519KeyPair>);

impl SigningKey for Ed25519Signer {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        offered
            .contains(&SignatureScheme::ED25519)
            .then(|| Box::new(Ed25519Signer(self.0.clone())) as Box<dyn Signer>)
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::ED25519
    }
}

impl Signer for Ed25519Signer {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        Ok(self.0.sign(message).as_ref().to_vec())
    }

    fn scheme(&self) -> SignatureScheme {
        SignatureScheme::ED25519
    }
}

/// The file `name` in `dir`.
pub fn file(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_survives_its_pem_file() {
        let id = Identity::generate().unwrap();
        let dir = std::env::temp_dir().join(format!("distcc-tls-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("k.key");
        std::fs::write(&path, id.private_pem()).unwrap();
        let back = Identity::load(&path).unwrap();
        assert_eq!(back.fingerprint, id.fingerprint);
        assert_eq!(back.spki, id.spki);
        let signer = id
            .certified_key()
            .key
            .choose_scheme(&[SignatureScheme::ED25519]);
        let signature = signer.unwrap().sign(b"message").unwrap();
        ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &id.spki[12..])
            .verify(b"message", &signature)
            .expect("a signature the public key verifies");
        assert!(
            id.certified_key()
                .key
                .choose_scheme(&[SignatureScheme::ECDSA_NISTP256_SHA256])
                .is_none()
        );
        assert!(
            id.public_line("me")
                .starts_with(&id.fingerprint.to_string())
        );
        assert_ne!(Identity::generate().unwrap().fingerprint, id.fingerprint);
        std::fs::write(
            &path,
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        assert!(Identity::load(&path).is_err());
        assert!(!format!("{id:?}").contains("BEGIN"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
