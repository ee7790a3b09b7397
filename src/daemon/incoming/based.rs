//! Reading a preprocessed body sent against a base (docs/extension.md
//! §12): `XBAS` (the base's digest) before `DOTI`, `XBAD` (the base) when
//! the daemon asked for it, and the rebuilt body handed to the compiler
//! from memory or a file as [`super::source`] does for any body. Memory is
//! charged as for any body: the base's frame while it is decompressed,
//! the rebuilt body while it is held.

use std::fs::File;
use std::io::{self, Write};

use tokio::io::AsyncRead;

use super::{Incoming, ReadError, Source, offload};
use crate::protocol::ProtocolError;
use crate::protocol::bodybase::MAX_BASE;
use crate::protocol::codec::Codec;
use crate::protocol::hdrcache::{DIGEST_LEN, Digest};
use crate::protocol::token::{HEADER_LEN, Header};

fn bad(token: &[u8; 4], what: &'static str) -> ReadError {
    ProtocolError::Ext {
        token: *token,
        what,
    }
    .into()
}

impl<R: AsyncRead + Unpin> Incoming<R> {
    /// `XBAS 00000020 <digest>`: the base the `DOTI` after it is a delta
    /// against.
    pub async fn base_name(&mut self) -> Result<Digest, ReadError> {
        self.fill(HEADER_LEN + DIGEST_LEN).await?;
        let h = Header::decode(&self.buf)?.expect("12 bytes");
        if &h.token != b"XBAS" || h.param as usize != DIGEST_LEN {
            return Err(bad(b"XBAS", "a parameter other than 32"));
        }
        let d = Digest(
            self.buf[HEADER_LEN..HEADER_LEN + DIGEST_LEN]
                .try_into()
                .expect("32 bytes"),
        );
        self.consume(HEADER_LEN + DIGEST_LEN);
        Ok(d)
    }

    /// The client's answer to `XBAQ`: `XBAD <len> <zstd frame>`, the base
    /// decompressed (at most [`MAX_BASE`] bytes). The wait starts now,
    /// with the question, and lasts `DISTCC_IO_TIMEOUT`.
    pub async fn base(&mut self) -> Result<Vec<u8>, ReadError> {
        self.last_read = tokio::time::Instant::now();
        self.fill(HEADER_LEN).await?;
        let h = Header::decode(&self.buf)?.expect("12 bytes");
        if &h.token != b"XBAD" {
            return Err(ProtocolError::UnexpectedToken {
                expected: "XBAD",
                got: h.token,
            }
            .into());
        }
        let len = h.param as usize;
        if len > MAX_BASE {
            return Err(bad(b"XBAD", "a frame above the base's cap"));
        }
        self.consume(HEADER_LEN);
        let packed = self.take_packed(len).await?;
        self.charge(
            Codec::Zstd
                .decompressed_len(&packed, MAX_BASE as u64)
                .map_err(ProtocolError::from)?,
        )
        .await?;
        let base = offload(len, move || {
            Codec::Zstd.decompress(&packed, MAX_BASE as u64)
        })
        .await?
        .map_err(ProtocolError::from)?;
        self.passing = 0;
        self.settle();
        Ok(base)
    }

    /// Hand over a rebuilt body as a source: in memory up to
    /// `memory_max` bytes when memory allows, else written to the file
    /// `spill` opens.
    pub fn hold(
        &mut self,
        body: Vec<u8>,
        memory_max: usize,
        spill: impl FnOnce() -> io::Result<File>,
    ) -> Result<Source, ReadError> {
        let size = body.len() as u64;
        if body.len() <= memory_max && self.ticket.try_hold(self.in_use() + size) {
            self.kept += body.capacity() as u64;
            return Ok(Source::Memory(body));
        }
        spill()?.write_all(&body)?;
        Ok(Source::File(size))
    }
}
