//! Reading a protocol 3 request's files (spec §1.5): NFIL, then NAME and
//! FILE or LINK for each. Entries are decoded from the buffer in batches
//! (all those already complete), so a thousand small headers cost one
//! buffer shift, not a thousand; FILE bodies are decompressed here.
//!
//! Memory: a batch is charged while the job writes it out and given back
//! when the job asks for the next one. The files of one request may take
//! at most `max_body` bytes on the wire and as many decompressed; a body
//! is decoded in one pass into a buffer of bounded size when it fits, or
//! measured before it is expanded, so a bomb is refused unexpanded
//! ([`super::expand`]).

use tokio::io::AsyncRead;

use super::pace::Part;
use super::{Incoming, ReadError, offload, too_large};
use crate::protocol::codec::Codec;
use crate::protocol::token::{HEADER_LEN, Header, Token};
use crate::protocol::{
    Decoded, FileEntry, FileKind, Limits, ProtocolError, compressed, decode_raw_file_entry,
};

impl<R: AsyncRead + Unpin> Incoming<R> {
    /// v3: NFIL, the number of NAME entries that follow.
    pub async fn file_count(&mut self, limits: &Limits) -> Result<u32, ReadError> {
        self.fill(HEADER_LEN).await?;
        let n = Header::expect(&self.buf, Token::Nfil)?.expect("header complete");
        if n > limits.max_files {
            return Err(too_large(Token::Nfil, n, limits.max_files.into()));
        }
        self.consume(HEADER_LEN);
        self.files_left = n;
        if n == 0 {
            self.received();
        } else {
            self.begin(Part::Body);
        }
        Ok(n)
    }

    /// v3: the next entries (NAME, then FILE or LINK), at least one and
    /// at most `max`: all those already complete in the buffer. FILE
    /// bodies are decompressed (large ones off the event loop).
    pub async fn file_entries(
        &mut self,
        version: u32,
        limits: &Limits,
        max: u32,
    ) -> Result<Vec<FileEntry>, ReadError> {
        // The previous batch has been written out by now.
        self.passing = 0;
        self.settle();
        let (raw, used) = loop {
            let mut raw = Vec::new();
            let mut pos = 0;
            let mut need = 0;
            while raw.len() < max as usize {
                match decode_raw_file_entry(&self.buf[pos..], limits)? {
                    Decoded::Done(entry, n) => {
                        raw.push(entry);
                        pos += n;
                    }
                    Decoded::NeedMore(n) => {
                        need = pos + n;
                        break;
                    }
                }
            }
            if !raw.is_empty() || max == 0 {
                break (raw, pos);
            }
            self.fill(need).await?;
        };
        self.files_wire += used as u64;
        if self.files_wire > limits.max_body {
            return Err(refuse(format!(
                "the files of the request exceed {} bytes",
                limits.max_body
            )));
        }
        self.consume(used);
        self.passing = used as u64;
        self.shrink();
        self.charge(0).await?;
        let mut out = Vec::with_capacity(raw.len());
        for FileEntry { name, kind } in raw {
            let kind = match kind {
                FileKind::File(body) if compressed(version) && !body.is_empty() => {
                    let codec = self.codec(version);
                    FileKind::File(self.expand(codec, body, limits).await?)
                }
                other => other,
            };
            out.push(FileEntry { name, kind });
        }
        self.files_left = self.files_left.saturating_sub(out.len() as u32);
        if self.files_left == 0 {
            self.received();
        }
        Ok(out)
    }

    /// One compressed FILE body, measured, charged, then decompressed.
    pub(super) async fn expand(
        &mut self,
        codec: Codec,
        body: Vec<u8>,
        limits: &Limits,
    ) -> Result<Vec<u8>, ReadError> {
        let max = limits.max_body;
        let left = max.saturating_sub(self.files_out);
        let body = match self.expand_at_once(codec, body, left).await? {
            Ok(data) => {
                let size = data.len() as u64;
                self.files_out += size;
                self.charge(size).await?;
                self.passing += size;
                return Ok(data);
            }
            Err(body) => body,
        };
        let len = body.len();
        let (body, size) = offload(len, move || {
            let size = codec.decompressed_len(&body, max);
            (body, size)
        })
        .await?;
        let size = size.map_err(ProtocolError::from)?;
        self.files_out += size;
        if self.files_out > max {
            return Err(refuse(format!(
                "the files of the request exceed {max} bytes decompressed"
            )));
        }
        self.charge(size).await?;
        self.passing += size;
        let data = offload(len, move || codec.decompress(&body, max))
            .await?
            .map_err(ProtocolError::from)?;
        Ok(data)
    }
}

fn refuse(why: String) -> ReadError {
    ReadError::Refused(why)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::daemon::incoming::test_runtime as rt;
    use crate::protocol::{Request, RequestHead};

    #[test]
    fn v3_entries_arrive_in_batches_and_intact() {
        let files: Vec<FileEntry> = (0..300u32)
            .map(|i| FileEntry {
                name: format!("/src/f{i}.h").into_bytes(),
                kind: if i % 7 == 0 {
                    FileKind::Link(b"../x.h".to_vec())
                } else {
                    FileKind::File(vec![b'a' + (i % 26) as u8; (i * 37) as usize])
                },
            })
            .collect();
        let bytes = Request {
            head: RequestHead {
                version: 3,
                cwd: Some(b"/src".to_vec()),
                argv: vec![b"gcc".to_vec(), b"-c".to_vec(), b"f.c".to_vec()],
            },
            source: Vec::new(),
            files: files.clone(),
        }
        .encode();
        let got = rt().block_on(async move {
            // A reader that hands out 1000 bytes at a time.
            let (mut w, r) = tokio::io::duplex(1000);
            let feed = tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                w.write_all(&bytes).await.unwrap();
            });
            let mut inc = Incoming::new(r, Duration::from_secs(5));
            let limits = Limits::default();
            let head = inc.head(&limits).await.unwrap();
            assert_eq!(head.cwd.as_deref(), Some(&b"/src"[..]));
            let mut left = inc.file_count(&limits).await.unwrap();
            let mut got = Vec::new();
            while left > 0 {
                let batch = inc.file_entries(3, &limits, left).await.unwrap();
                left -= batch.len() as u32;
                got.extend(batch);
            }
            feed.await.unwrap();
            got
        });
        assert_eq!(got, files);
    }

    #[test]
    fn v3_entry_must_be_file_or_link() {
        let mut bytes = b"NFIL00000001NAME00000002/xDOTI00000000".to_vec();
        bytes.extend_from_slice(b"padding");
        let err = rt().block_on(async move {
            let mut inc = Incoming::new(&bytes[..], Duration::from_secs(5));
            let limits = Limits::default();
            assert_eq!(inc.file_count(&limits).await.unwrap(), 1);
            inc.file_entries(3, &limits, 1).await.unwrap_err()
        });
        assert!(err.to_string().contains("FILE or LINK"), "{err}");
    }
}
