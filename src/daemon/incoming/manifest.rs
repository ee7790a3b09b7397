//! Reading a header-cache request's files (docs/extension.md §10): the
//! manifest (`XMAN`, one body holding `NAME` and `XDIG` or `LINK` per
//! file), then,
//! after the daemon has answered which contents it lacks, one `FILE` body
//! per content asked for. Under the same limits as protocol 3's files
//! ([`super::files`]): at most `max_files` entries, the bytes on the wire
//! and decompressed at most `max_body` (the manifest itself at most
//! `max_head`).

use tokio::io::AsyncRead;

use super::pace::Part;
use super::{Incoming, ReadError, offload, too_large};
use crate::protocol::hdrcache::{self, Item};
use crate::protocol::token::{HEADER_LEN, Header, Token};
use crate::protocol::{Decoded, Limits, ProtocolError, compressed};

/// Memory counted per manifest entry besides its name.
const ITEM_OVERHEAD: u64 = 64;

impl<R: AsyncRead + Unpin> Incoming<R> {
    /// `XMAN` and its entries: one body in the agreed codec, at most
    /// `max_head` bytes on the wire and decompressed.
    pub async fn manifest(
        &mut self,
        version: u32,
        limits: &Limits,
    ) -> Result<Vec<Item>, ReadError> {
        let cap = u32::try_from(limits.max_head).unwrap_or(u32::MAX);
        self.fill(HEADER_LEN).await?;
        let Decoded::Done(len, used) = hdrcache::decode_len(&self.buf, cap)? else {
            unreachable!("a whole header is buffered");
        };
        self.begin(Part::Body);
        let total = used + len as usize;
        self.fill(total).await?;
        let body = self.buf[used..total].to_vec();
        self.consume(total);
        self.files_wire += total as u64;
        self.passing = len.into();
        self.shrink();
        self.charge(0).await?;
        let body = if compressed(version) && !body.is_empty() {
            let codec = self.codec(version);
            let max = limits.max_head;
            match self.expand_at_once(codec, body, max).await? {
                Ok(data) => {
                    self.charge(data.len() as u64).await?;
                    self.passing += data.len() as u64;
                    data
                }
                Err(body) => {
                    let size = codec
                        .decompressed_len(&body, max)
                        .map_err(ProtocolError::from)?;
                    self.charge(size).await?;
                    self.passing += size;
                    offload(body.len(), move || codec.decompress(&body, max))
                        .await?
                        .map_err(ProtocolError::from)?
                }
            }
        } else {
            body
        };
        let items = hdrcache::decode_items(&body, limits)?;
        self.kept += items
            .iter()
            .map(|i| i.name.len() as u64 + ITEM_OVERHEAD)
            .sum::<u64>();
        self.passing = 0;
        self.settle();
        self.charge(0).await?;
        Ok(items)
    }

    /// The daemon asked for `wanted` bodies: they are the rest of the
    /// request, with the body's pace from now.
    pub fn expect_bodies(&mut self, wanted: usize) {
        if wanted == 0 {
            self.received();
        } else {
            self.begin(Part::Body);
        }
    }

    /// The next `FILE` body asked for, decompressed; `last` marks the end
    /// of the request.
    pub async fn wanted_body(
        &mut self,
        version: u32,
        limits: &Limits,
        last: bool,
    ) -> Result<Vec<u8>, ReadError> {
        self.passing = 0;
        self.settle();
        self.fill(HEADER_LEN).await?;
        let len = Header::expect(&self.buf, Token::File)?.expect("a whole header");
        if u64::from(len) > limits.max_body {
            return Err(too_large(Token::File, len, limits.max_body));
        }
        let total = HEADER_LEN + len as usize;
        self.files_wire += total as u64;
        if self.files_wire > limits.max_body {
            return Err(ReadError::Refused(format!(
                "the files of the request exceed {} bytes",
                limits.max_body
            )));
        }
        self.fill(total).await?;
        let body = self.buf[HEADER_LEN..total].to_vec();
        self.consume(total);
        self.passing = len.into();
        self.shrink();
        self.charge(0).await?;
        let data = if compressed(version) && !body.is_empty() {
            let codec = self.codec(version);
            self.expand(codec, body, limits).await?
        } else {
            body
        };
        if last {
            self.received();
        }
        Ok(data)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::protocol::codec::Codec;
    use crate::protocol::hdrcache::{Content, Digest, encode_manifest};
    use crate::protocol::message::put_bulk_with;

    #[test]
    fn a_manifest_then_the_bodies_asked_for() {
        let items: Vec<Item> = (0..500u32)
            .map(|i| Item {
                name: format!("/src/h{i}.h").into_bytes(),
                content: Content::File(Digest::of(&i.to_le_bytes())),
            })
            .collect();
        let mut bytes = Vec::new();
        encode_manifest(&mut bytes, &items, Codec::Lzo);
        put_bulk_with(&mut bytes, Token::File, Codec::Lzo, b"one body");
        put_bulk_with(&mut bytes, Token::File, Codec::Lzo, b"");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let expected = items.clone();
        rt.block_on(async move {
            let (mut w, r) = tokio::io::duplex(700);
            let feed = tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                w.write_all(&bytes).await.unwrap();
            });
            let mut inc = Incoming::new(r, Duration::from_secs(5));
            let limits = Limits::default();
            assert_eq!(inc.manifest(3, &limits).await.unwrap(), expected);
            inc.expect_bodies(2);
            assert_eq!(
                inc.wanted_body(3, &limits, false).await.unwrap(),
                b"one body"
            );
            assert_eq!(inc.wanted_body(3, &limits, true).await.unwrap(), b"");
            feed.await.unwrap();
        });
        let bad = b"XMAN0000001aNAME00000002/xFILE00000000".to_vec();
        let err = rt.block_on(async move {
            let mut inc = Incoming::new(&bad[..], Duration::from_secs(5));
            inc.manifest(1, &Limits::default()).await.unwrap_err()
        });
        assert!(err.to_string().contains("XDIG or LINK"), "{err}");
    }
}
