//! A protocol 2 body sent as a delta against a base (docs/extension.md
//! §12): the copies of the headers' text an earlier body of the client's
//! holds, and the rest. The bases live in this daemon's base store (LRU,
//! bounded like the header cache, a quarter of its size), each under the
//! SHA-256 of its bytes, checked when it arrives. A base the store does
//! not hold (never sent here, evicted, a daemon restarted) costs one
//! round trip: `XBAQ`, and the client sends it (`XBAD`). No job fails
//! for it.
//!
//! The base only serves to rebuild: the job is made of the body that
//! comes out, and a copy can only take bytes of a base the client named by
//! the digest of all of it, so a client only ever gets bytes it knows.

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};

use super::extension;
use super::hdrstore::HeaderStore;
use super::incoming::{Incoming, Source, offload};
use super::job::{JobSettings, Stop, io_stop, read_stop_after_head, refuse};
use crate::protocol::bodybase;
use crate::protocol::ext::Before;
use crate::protocol::hdrcache::Digest;

/// The base store's share of `--header-cache-size`: a quarter. A C
/// base is ~100 KB, a C++ one a few MB: the default 256 MiB keeps 64 MiB
/// of them.
pub const SHARE: u64 = 4;

/// Read `XBAS` and the `DOTI` after it, asking for the base once if it is
/// not held; the body rebuilt goes to memory or the file `spill` opens
/// (at `spilled`), as any source would.
#[allow(clippy::too_many_arguments)]
pub(super) async fn receive<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(
    inc: &mut Incoming<R>,
    writer: &mut W,
    store: &HeaderStore,
    version: u32,
    s: &JobSettings,
    memory_max: usize,
    spill: &(dyn Fn() -> io::Result<File> + Sync),
    spilled: &Path,
) -> Result<Source, Stop> {
    let read = |e| read_stop_after_head(e, "its source (DOTI) against a base");
    let digest = inc.base_name().await.map_err(read)?;
    let delta = match inc
        .source(version, &s.limits, memory_max, spill)
        .await
        .map_err(read)?
    {
        Source::Memory(d) => d,
        Source::File(_) => std::fs::read(spilled).map_err(io_stop)?,
    };
    let base = match store.get(&digest) {
        Some(b) => b,
        None => fetch(inc, writer, store, digest, s).await?,
    };
    let max = s.limits.max_body;
    let sent = delta.len();
    let body = offload(delta.len(), move || bodybase::rebuild(&base, &delta, max))
        .await
        .map_err(io_stop)?
        .map_err(|e| refuse(format!("DOTI against a base: {e}")))?;
    tracing::debug!(
        "body against a base: {} bytes rebuilt from a {sent}-byte delta",
        body.len()
    );
    inc.hold(body, memory_max, spill).map_err(read)
}

/// Ask the client for the base `digest` names (`XBAQ`), check what
/// comes (`XBAD`) against the digest and keep it.
async fn fetch<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(
    inc: &mut Incoming<R>,
    writer: &mut W,
    store: &HeaderStore,
    digest: Digest,
    s: &JobSettings,
) -> Result<Arc<[u8]>, Stop> {
    tracing::debug!("body base {digest:?} not held; asked for it");
    let mut ask = Vec::new();
    Before::BaseWanted.encode(&mut ask);
    extension::send(writer, &ask, s.io_timeout)
        .await
        .map_err(io_stop)?;
    let base = inc
        .base()
        .await
        .map_err(|e| read_stop_after_head(e, "the base (XBAD)"))?;
    let (base, d) = offload(base.len(), move || {
        let d = Digest::of(&base);
        (base, d)
    })
    .await
    .map_err(io_stop)?;
    if d != digest {
        return Err(refuse("XBAD: the base is not the one XBAS named"));
    }
    let base: Arc<[u8]> = base.into();
    store.put(digest, base.clone());
    Ok(base)
}
