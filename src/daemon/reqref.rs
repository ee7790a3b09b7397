//! A pump request by reference (docs/extension.md §11): the head and
//! manifest come as one frame compressed against earlier requests' texts,
//! named by digest, that this daemon keeps (its request store, LRU,
//! bounded like the header cache). A base the store no longer holds
//! costs one round trip: `XMIS`, and the client sends the request again
//! without bases. No job fails for it.
//!
//! The bases only serve to decompress. The job is made of the text that
//! comes out, which is the client's own head and manifest; a base is
//! named by the SHA-256 of all its bytes, so a client can only use a text
//! it already knows in full.

use tokio::io::{AsyncRead, AsyncWrite};

use super::extension;
use super::hdrstore::HeaderStore;
use super::incoming::{ByRef, Incoming, offload};
use super::job::{JobSettings, Stop, io_stop, read_stop, refuse};
use crate::protocol::hdrcache::Digest;
use crate::protocol::reqref;

/// The request store's share of `--header-cache-size`: an eighth. A text
/// is ~4 KB, so the default 256 MiB keeps the last ~8,000 jobs' texts.
pub const SHARE: u64 = 8;

/// Read the request, answering `XMIS` once if a base is missing; the
/// decoded text is kept in `store` for the jobs after it.
pub(super) async fn receive<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(
    inc: &mut Incoming<R>,
    writer: &mut W,
    store: &HeaderStore,
    s: &JobSettings,
) -> Result<ByRef, Stop> {
    let mut missed = false;
    loop {
        let refs = inc.refs().await.map_err(read_stop)?;
        let bases: Option<Vec<_>> = refs.iter().map(|d| store.get(d)).collect();
        let Some(bases) = bases else {
            if missed {
                return Err(refuse(
                    "a request sent again after XMIS names bases this daemon does not hold",
                ));
            }
            missed = true;
            inc.skip_request(&s.limits).await.map_err(read_stop)?;
            tracing::debug!("request by reference: a base is not held; asked for it whole");
            extension::send(writer, reqref::MISSING, s.io_timeout)
                .await
                .map_err(io_stop)?;
            continue;
        };
        let prefix = reqref::prefix(&bases);
        if prefix.len() as u64 > s.limits.max_head {
            return Err(refuse(format!(
                "the bases of a request by reference exceed {} bytes",
                s.limits.max_head
            )));
        }
        let got = inc.by_ref(prefix, &s.limits).await.map_err(read_stop)?;
        let ByRef { head, items, text } = got;
        let (text, digest) = offload(text.len(), move || {
            let d = Digest::of(&text);
            (text, d)
        })
        .await
        .map_err(io_stop)?;
        let got = ByRef { head, items, text };
        store.put(digest, got.text.as_slice().into());
        inc.text_handed_over();
        tracing::debug!(
            "request by reference: {} bases, {} bytes of text, {} files",
            refs.len(),
            got.text.len(),
            got.items.len()
        );
        return Ok(got);
    }
}
