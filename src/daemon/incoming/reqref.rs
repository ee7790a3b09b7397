//! Reading a pump request by reference (docs/extension.md §11): `XREF`
//! (the bases' digests), then `XREQ`, one zstd frame of at most `max_head`
//! bytes on the wire and decompressed, holding the request's head and
//! manifest. Memory is charged as for `XMAN` ([`super::manifest`]).

use tokio::io::AsyncRead;

use super::pace::Part;
use super::{Incoming, ReadError, head_size, offload};
use crate::protocol::hdrcache::{Digest, Item};
use crate::protocol::reqref;
use crate::protocol::token::HEADER_LEN;
use crate::protocol::{Decoded, Limits, ProtocolError, RequestHead};

/// Memory counted per manifest entry besides its name.
const ITEM_OVERHEAD: u64 = 64;

/// A request read by reference.
#[derive(Debug)]
pub struct ByRef {
    /// Its head, as `DIST` … `ARGV` would have given it.
    pub head: RequestHead,
    /// Its manifest.
    pub items: Vec<Item>,
    /// The text both were decoded from, to keep as a base.
    pub text: Vec<u8>,
}

impl<R: AsyncRead + Unpin> Incoming<R> {
    /// The first 4 bytes of what comes next (`DIST` for 3.4's head).
    pub async fn next_token(&mut self) -> Result<[u8; 4], ReadError> {
        self.fill(HEADER_LEN).await?;
        Ok(self.buf[..4].try_into().expect("4 bytes"))
    }

    /// `XREF`: the digests of the bases.
    pub async fn refs(&mut self) -> Result<Vec<Digest>, ReadError> {
        let mut need = HEADER_LEN;
        loop {
            self.fill(need).await?;
            match reqref::decode_refs(&self.buf)? {
                Decoded::Done(refs, used) => {
                    self.consume(used);
                    return Ok(refs);
                }
                Decoded::NeedMore(n) => need = n,
            }
        }
    }

    /// The `XREQ` frame, as it came.
    async fn frame(&mut self, limits: &Limits) -> Result<Vec<u8>, ReadError> {
        let cap = u32::try_from(limits.max_head).unwrap_or(u32::MAX);
        self.fill(HEADER_LEN).await?;
        let Decoded::Done(len, used) = reqref::decode_len(&self.buf, cap)? else {
            unreachable!("a whole header is buffered");
        };
        let total = used + len as usize;
        self.fill(total).await?;
        let frame = self.buf[used..total].to_vec();
        self.consume(total);
        self.passing = len.into();
        self.shrink();
        self.charge(0).await?;
        Ok(frame)
    }

    /// Read and drop an `XREQ` whose bases are unknown.
    pub async fn skip_request(&mut self, limits: &Limits) -> Result<(), ReadError> {
        self.frame(limits).await?;
        self.passing = 0;
        self.settle();
        Ok(())
    }

    /// `XREQ`, decompressed with the bases' texts back to back (`prefix`)
    /// and decoded.
    pub async fn by_ref(&mut self, prefix: Vec<u8>, limits: &Limits) -> Result<ByRef, ReadError> {
        let frame = self.frame(limits).await?;
        let max = limits.max_head;
        let size = crate::protocol::codec::Codec::Zstd
            .decompressed_len(&frame, max)
            .map_err(ProtocolError::from)?;
        self.charge(size + prefix.len() as u64).await?;
        self.passing += size + prefix.len() as u64;
        let lim = *limits;
        let text = offload(frame.len() + prefix.len(), move || {
            reqref::decompress(&frame, &prefix, &lim)
        })
        .await?
        .map_err(ProtocolError::from)?;
        let (head, items) = reqref::decode_text(&text, limits)?;
        self.kept += head_size(&head)
            + items
                .iter()
                .map(|i| i.name.len() as u64 + ITEM_OVERHEAD)
                .sum::<u64>();
        self.passing = text.len() as u64;
        self.settle();
        self.charge(0).await?;
        self.begin(Part::Gap);
        Ok(ByRef { head, items, text })
    }

    /// The text is kept elsewhere now (the daemon's store) or dropped.
    pub fn text_handed_over(&mut self) {
        self.passing = 0;
        self.settle();
    }
}
