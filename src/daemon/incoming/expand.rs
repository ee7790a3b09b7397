//! A compressed body decoded in one pass when it can be: straight into a
//! buffer of [`RATIO`] times its compressed size, charged to the budget
//! before it is allocated, without measuring the body first. LZO states
//! no size, and measuring a body before expanding it (so that a bomb, a
//! few MiB that expand 255-fold, is refused unexpanded) meant decoding
//! every body twice: 0.30 M of a daemon job's 1.6 M instructions
//! (bench/RESULTS.md, "zstd's contexts"). A bomb still allocates no
//! more than the buffer (16 MiB at most): it stops at its end, and is then
//! measured and refused as before by the caller, like any body that does
//! not fit.

use tokio::io::AsyncRead;

use super::{Incoming, ReadError, offload};
use crate::protocol::ProtocolError;
use crate::protocol::codec::{Codec, CodecError};

/// How many times its compressed size a body is expected to be at most:
/// LZO shrinks preprocessed C 3-5 times (liblzma's `ia64.c`, 109 KB, is
/// 28 KB), zstd 5-7 times.
const RATIO: u64 = 16;

/// The largest buffer decoded into in one pass: a bigger body (rare: a
/// preprocessed file is a few MiB at most) is measured first, so a bomb
/// makes the daemon touch no more than this however big its input.
const MAX_ONE_PASS: u64 = 16 << 20;

impl<R: AsyncRead + Unpin> Incoming<R> {
    /// Decode `body` (at most `cap` bytes decompressed) in one pass.
    /// `Err(body)` back, nothing kept, when that does not do: a body that
    /// expands more than [`RATIO`] times or past `cap`, or no room in the
    /// budget now (nothing is waited for here); the caller then measures
    /// it first. What is returned is not charged yet: the caller charges
    /// it (the hold covers it until then).
    pub(super) async fn expand_at_once(
        &mut self,
        codec: Codec,
        body: Vec<u8>,
        cap: u64,
    ) -> Result<Result<Vec<u8>, Vec<u8>>, ReadError> {
        let room = (body.len() as u64)
            .saturating_mul(RATIO)
            .min(cap)
            .min(MAX_ONE_PASS);
        if room == 0 || !self.ticket.try_hold(self.in_use() + room) {
            return Ok(Err(body));
        }
        self.passing += room;
        let (body, out) = offload(body.len(), move || {
            let out = codec.decompress_within(&body, room);
            (body, out)
        })
        .await?;
        self.passing -= room;
        match out {
            Ok(mut data) => {
                data.shrink_to_fit();
                Ok(Ok(data))
            }
            Err(CodecError::TooLarge(_)) => {
                self.settle();
                Ok(Err(body))
            }
            Err(e) => {
                self.settle();
                Err(ProtocolError::from(e).into())
            }
        }
    }
}
