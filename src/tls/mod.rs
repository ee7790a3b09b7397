//! Authenticated, encrypted farms (issue 14): TLS 1.3 with Ed25519 raw
//! public keys (RFC 7250) pinned on both sides, as ssh pins keys in
//! `known_hosts` and `authorized_keys`. See `docs/tls.md`.
//!
//! * [`pins`]: fingerprints and the trust files' text (pure).
//! * [`keys`]: key pairs on disk and where each side keeps them.
//! * [`config`]: rustls configured to check the pins in the handshake.

pub mod config;
pub mod keys;
pub mod pins;

/// The byte a daemon sends inside TLS once it has accepted the client's
/// key. In TLS 1.3 the client's handshake ends before the daemon has
/// judged the client's key: waiting for this byte tells a refused client
/// why, before it sends a job.
pub const ACCEPTED: u8 = b'K';

#[cfg(test)]
mod tests;
