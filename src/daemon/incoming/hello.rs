//! The extension's opening on the server (docs/extension.md): a
//! connection whose first 12 bytes are the hello (`DIST7874vvvv`) gets
//! the server's offer, then sends its choice before the 3.4 request. Any
//! other first bytes are left in the buffer for the 3.4 head decoder, so a
//! 3.4 client sees exactly 3.4's daemon.

use tokio::io::AsyncRead;

use super::{Incoming, ReadError};
use crate::protocol::Decoded;
use crate::protocol::codec::Codec;
use crate::protocol::ext::{self, Choice};
use crate::protocol::token::{HEADER_LEN, Header};

impl<R: AsyncRead + Unpin> Incoming<R> {
    /// If the connection opens with the extension's hello: take it and
    /// return the version the client speaks. Otherwise nothing is taken.
    /// Bytes that are not a header at all are left for the head decoder,
    /// whose message for them is 3.4's.
    pub async fn hello(&mut self) -> Result<Option<u32>, ReadError> {
        self.fill(HEADER_LEN).await?;
        if &self.buf[..4] != b"DIST" {
            return Ok(None);
        }
        let Ok(Some(h)) = Header::decode(&self.buf) else {
            return Ok(None);
        };
        let version = ext::hello_version(h.param);
        if version.is_some() {
            self.consume(HEADER_LEN);
        }
        Ok(version)
    }

    /// The client's choice among the capabilities `offered`.
    pub async fn choice(&mut self, offered: u32) -> Result<Choice, ReadError> {
        loop {
            match Choice::decode(&self.buf, offered)? {
                Decoded::Done(choice, used) => {
                    self.consume(used);
                    self.zstd = choice.has(ext::cap::ZSTD);
                    return Ok(choice);
                }
                Decoded::NeedMore(n) => self.fill(n).await?,
            }
        }
    }

    /// The client's answer to `XCIQ`: its identity whole (`XCID`). The
    /// wait starts now, with the question, and lasts `DISTCC_IO_TIMEOUT`.
    pub async fn identity(&mut self) -> Result<Vec<u8>, ReadError> {
        self.last_read = tokio::time::Instant::now();
        loop {
            match ext::decode_identity(&self.buf)? {
                Decoded::Done(id, used) => {
                    self.consume(used);
                    self.shrink();
                    return Ok(id);
                }
                Decoded::NeedMore(n) => self.fill(n).await?,
            }
        }
    }

    /// The codec of bodies in a request of `version`.
    pub fn codec(&self, version: u32) -> Codec {
        Codec::negotiated(version, self.zstd)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::daemon::incoming::test_runtime as rt;

    #[test]
    fn a_3_4_request_is_left_whole_for_the_head() {
        rt().block_on(async {
            let bytes: &[u8] = b"DIST00000002ARGC00000001ARGV00000003gcc";
            let mut inc = Incoming::new(bytes, Duration::from_secs(5));
            assert_eq!(inc.hello().await.unwrap(), None);
            let head = inc.head(&Default::default()).await.unwrap();
            assert_eq!(head.version, 2);
            assert_eq!(inc.codec(2), Codec::Lzo);
        });
    }

    #[test]
    fn garbage_is_left_for_the_head_decoder_to_refuse() {
        rt().block_on(async {
            let mut inc = Incoming::new(&b"GET / HTTP/1.1\r\n\r\n"[..], Duration::from_secs(5));
            assert_eq!(inc.hello().await.unwrap(), None);
            let err = inc.head(&Default::default()).await.unwrap_err();
            assert!(err.to_string().contains("after GET "), "{err}");
        });
    }

    #[test]
    fn the_hello_and_choice_come_before_the_head() {
        rt().block_on(async {
            let mut bytes = ext::hello(1);
            bytes.extend(
                Choice {
                    caps: ext::cap::ZSTD,
                    ..Choice::default()
                }
                .encode(),
            );
            bytes.extend_from_slice(b"DIST00000002ARGC00000001ARGV00000003gcc");
            let mut inc = Incoming::new(&bytes[..], Duration::from_secs(5));
            assert_eq!(inc.hello().await.unwrap(), Some(1));
            let c = inc.choice(ext::cap::KNOWN).await.unwrap();
            assert_eq!(c.caps, ext::cap::ZSTD);
            assert_eq!(inc.codec(2), Codec::Zstd);
            assert_eq!(inc.codec(1), Codec::Raw);
            assert_eq!(inc.head(&Default::default()).await.unwrap().argv.len(), 1);
        });
    }
}
