//! The request head (spec §1.5): `DIST`, `CDIR` (v3), `ARGC` and the
//! `ARGV`s, decoded as the bytes arrive.
//!
//! A daemon receives the head in reads of a few kilobytes. Re-parsing it
//! from the start after every read (what the other decoders of
//! [`super::message`] do, which is fine for their handful of items) costs
//! O(items × reads): 30,000 small arguments took 20 s of daemon CPU
//! (issue 10). [`HeadDecoder`] keeps its place instead: every item is
//! parsed and copied once, as soon as it is complete, so a head costs time
//! linear in its size whatever the read boundaries.
//!
//! The caps of [`Limits`] are checked as soon as a length is known, before
//! its bytes arrive: the length of one string (`max_string`), the number
//! of arguments (`max_argc`) and the size of the whole head (`max_head`).
//! A head can therefore never make the caller buffer more than `max_head`
//! bytes, and a refusal names the cap and the value.

use super::token::{HEADER_LEN, Header, Token};
use super::{Decoded, Limits, MAX_VERSION, ProtocolError, RequestHead, server_cpp};

/// Memory an argument costs besides its bytes (the `Vec` and the
/// allocator's bookkeeping), for [`HeadDecoder::held`].
pub const ITEM_OVERHEAD: usize = 40;

/// Decodes one request head incrementally.
///
/// Give [`HeadDecoder::decode`] everything received so far, from the
/// first byte of the request, each time more has arrived (the buffer only
/// grows). It resumes after the last complete item, and answers like the
/// other decoders: [`Decoded::NeedMore`] with the buffer length to wait
/// for, or [`Decoded::Done`] with the head and the bytes it used. The
/// result does not depend on how the bytes were split into calls.
#[derive(Clone, Debug)]
pub struct HeadDecoder {
    limits: Limits,
    /// Bytes of the buffer consumed by complete items.
    pos: usize,
    version: Option<u32>,
    /// v3: the working directory, once CDIR is complete.
    cwd: Option<Vec<u8>>,
    argc: Option<u32>,
    argv: Vec<Vec<u8>>,
    held: usize,
    finished: bool,
}

/// What one step of the decoder did.
enum Step {
    /// An item was complete and taken; try the next.
    Took,
    /// The buffer must grow to this length first.
    More(usize),
    /// The head is complete.
    Done,
}

impl HeadDecoder {
    /// A decoder for one head under `limits`.
    pub fn new(limits: &Limits) -> Self {
        Self {
            limits: *limits,
            pos: 0,
            version: None,
            cwd: None,
            argc: None,
            argv: Vec::new(),
            held: 0,
            finished: false,
        }
    }

    /// Decode what `buf` adds to the items already taken. `buf` must start
    /// with the first byte of the request and hold at least what the
    /// previous call saw. Must not be called again after
    /// [`Decoded::Done`] or an error.
    pub fn decode(&mut self, buf: &[u8]) -> Result<Decoded<RequestHead>, ProtocolError> {
        assert!(!self.finished, "HeadDecoder used after the head was done");
        loop {
            let step = self.step(buf);
            match step {
                Ok(Step::Took) => {}
                Ok(Step::More(n)) => return Ok(Decoded::NeedMore(n)),
                Ok(Step::Done) => {
                    self.finished = true;
                    let head = RequestHead {
                        version: self.version.unwrap_or_default(),
                        cwd: self.cwd.take(),
                        argv: std::mem::take(&mut self.argv),
                    };
                    self.held = 0;
                    return Ok(Decoded::Done(head, self.pos));
                }
                Err(e) => {
                    self.finished = true;
                    return Err(e);
                }
            }
        }
    }

    /// Bytes of the request consumed by complete items so far.
    pub fn consumed(&self) -> usize {
        self.pos
    }

    /// Approximate memory held by the decoded items (arguments and
    /// working directory), to account for it while the head arrives.
    pub fn held(&self) -> usize {
        self.held
    }

    /// The bytes after the last complete item.
    fn rest<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        buf.get(self.pos..).unwrap_or_default()
    }

    fn step(&mut self, buf: &[u8]) -> Result<Step, ProtocolError> {
        let Some(version) = self.version else {
            let Some(v) = Header::expect(self.rest(buf), Token::Dist)? else {
                return Ok(Step::More(self.pos + HEADER_LEN));
            };
            if v > MAX_VERSION {
                return Err(ProtocolError::BadVersion(v));
            }
            self.pos += HEADER_LEN;
            self.version = Some(v);
            return Ok(Step::Took);
        };
        if server_cpp(version) && self.cwd.is_none() {
            return Ok(match self.string(buf, Token::Cdir)? {
                Ok(cwd) => {
                    self.cwd = Some(cwd);
                    Step::Took
                }
                Err(more) => Step::More(more),
            });
        }
        let Some(argc) = self.argc else {
            let Some(n) = Header::expect(self.rest(buf), Token::Argc)? else {
                return Ok(Step::More(self.pos + HEADER_LEN));
            };
            if n > self.limits.max_argc {
                return Err(ProtocolError::TooLarge {
                    token: Token::Argc,
                    len: n.into(),
                    cap: self.limits.max_argc.into(),
                });
            }
            if n == 0 {
                return Err(ProtocolError::EmptyArgv);
            }
            // Each ARGV is at least a header: refuse a count that cannot
            // fit in a head before any of it arrives.
            self.within_head(
                self.pos as u64 + HEADER_LEN as u64 * (u64::from(n) + 1),
                Token::Argc,
            )?;
            self.pos += HEADER_LEN;
            self.argc = Some(n);
            self.argv = Vec::with_capacity(n.min(1024) as usize);
            return Ok(Step::Took);
        };
        if self.argv.len() == argc as usize {
            return Ok(Step::Done);
        }
        Ok(match self.string(buf, Token::Argv)? {
            Ok(arg) => {
                self.held += arg.len() + ITEM_OVERHEAD;
                self.argv.push(arg);
                Step::Took
            }
            Err(more) => Step::More(more),
        })
    }

    /// One string item: `Ok(Ok(bytes))` once complete, `Ok(Err(n))` when
    /// the buffer must first grow to `n`.
    fn string(
        &mut self,
        buf: &[u8],
        token: Token,
    ) -> Result<Result<Vec<u8>, usize>, ProtocolError> {
        let Some(len) = Header::expect(self.rest(buf), token)? else {
            return Ok(Err(self.pos + HEADER_LEN));
        };
        if len > self.limits.max_string {
            return Err(ProtocolError::TooLarge {
                token,
                len: len.into(),
                cap: self.limits.max_string.into(),
            });
        }
        let start = self.pos + HEADER_LEN;
        let end = start + len as usize;
        // Whatever remains to come is at least one header per argument.
        let still_to_come = match self.argc {
            Some(argc) => (argc as usize - self.argv.len() - 1) * HEADER_LEN,
            None => 2 * HEADER_LEN, // after CDIR: ARGC and one ARGV
        };
        self.within_head((end + still_to_come) as u64, token)?;
        let Some(bytes) = buf.get(start..end) else {
            return Ok(Err(end));
        };
        self.pos = end;
        Ok(Ok(bytes.to_vec()))
    }

    fn within_head(&self, need: u64, token: Token) -> Result<(), ProtocolError> {
        if need > self.limits.max_head {
            return Err(ProtocolError::HeadTooLarge {
                token,
                need,
                cap: self.limits.max_head,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(version: u32, argv: &[&[u8]]) -> RequestHead {
        RequestHead {
            version,
            cwd: (version > 2).then(|| b"/src".to_vec()),
            argv: argv.iter().map(|a| a.to_vec()).collect(),
        }
    }

    /// Feed `bytes` in pieces of `step` bytes; the decoder's answer.
    fn feed(bytes: &[u8], step: usize, limits: &Limits) -> Result<RequestHead, ProtocolError> {
        let mut d = HeadDecoder::new(limits);
        let mut have = 0;
        loop {
            have = (have + step).min(bytes.len());
            match d.decode(&bytes[..have])? {
                Decoded::Done(h, used) => {
                    assert_eq!(used, d.consumed());
                    return Ok(h);
                }
                Decoded::NeedMore(n) => {
                    assert!(n > have, "asked for {n} with {have}");
                    assert!(have < bytes.len(), "incomplete at the end");
                }
            }
        }
    }

    #[test]
    fn same_head_whatever_the_read_size() {
        for v in [1, 2, 3] {
            let h = head(v, &[b"gcc", b"-c", b"", b"x.c", &[b'D'; 300]]);
            let bytes = h.encode();
            for step in [1, 2, 5, 11, 12, 13, 100, bytes.len()] {
                assert_eq!(feed(&bytes, step, &Limits::default()).unwrap(), h);
            }
        }
    }

    #[test]
    fn done_reports_the_bytes_used_and_leaves_the_rest() {
        let h = head(1, &[b"gcc", b"-c", b"x.c"]);
        let mut bytes = h.encode();
        let len = bytes.len();
        bytes.extend_from_slice(b"DOTI00000000");
        let got = HeadDecoder::new(&Limits::default()).decode(&bytes).unwrap();
        assert_eq!(got, Decoded::Done(h, len));
    }

    /// Table of caps: each head is refused as soon as the announcing
    /// header arrives, naming the cap.
    #[test]
    fn caps_are_checked_before_the_bytes_arrive() {
        let limits = Limits {
            max_string: 100,
            max_argc: 10,
            max_head: 1000,
            ..Limits::default()
        };
        const CASES: &[(&str, &[u8], &str)] = &[
            (
                "argument above max_string",
                b"DIST00000001ARGC00000001ARGV00000065",
                "ARGV announces 101 bytes, above the limit of 100 bytes per string",
            ),
            (
                "cwd above max_string",
                b"DIST00000003CDIR000000c8",
                "CDIR announces 200 bytes, above the limit of 100 bytes per string",
            ),
            (
                "argc above max_argc",
                b"DIST00000001ARGC0000000b",
                "ARGC announces 11 arguments, above the limit of 10 arguments",
            ),
            (
                "argc that cannot fit the head",
                b"DIST00000001ARGC0000000a",
                "",
            ),
            (
                "strings adding up above max_head",
                b"DIST00000001ARGC00000009ARGV00000064",
                "",
            ),
        ];
        // ARGC 10 needs 12 + 11 * 12 = 144 bytes: fits 1000; tighten.
        let tight = Limits {
            max_head: 140,
            ..limits
        };
        for (name, bytes, text) in CASES {
            let l = if text.is_empty() { &tight } else { &limits };
            let err = HeadDecoder::new(l).decode(bytes).unwrap_err();
            if text.is_empty() {
                assert!(
                    matches!(err, ProtocolError::HeadTooLarge { cap: 140, .. }),
                    "{name}: {err}"
                );
                assert!(
                    err.to_string().contains("limit of 140 bytes per head"),
                    "{err}"
                );
            } else {
                assert_eq!(err.to_string(), *text, "{name}");
            }
        }
    }

    #[test]
    fn a_head_just_at_the_caps_is_accepted() {
        let arg = vec![b'x'; 100];
        let h = head(1, &[arg.as_slice(); 10]);
        let bytes = h.encode();
        let limits = Limits {
            max_string: 100,
            max_argc: 10,
            max_head: bytes.len() as u64,
            ..Limits::default()
        };
        assert_eq!(feed(&bytes, 7, &limits).unwrap(), h);
        let one_less = Limits {
            max_head: bytes.len() as u64 - 1,
            ..limits
        };
        assert!(matches!(
            feed(&bytes, 7, &one_less),
            Err(ProtocolError::HeadTooLarge { .. })
        ));
    }

    #[test]
    fn held_grows_with_the_arguments() {
        let h = head(1, &[b"gcc", &[b'a'; 1000]]);
        let bytes = h.encode();
        let mut d = HeadDecoder::new(&Limits::default());
        let cut = bytes.len() - 1;
        assert!(matches!(d.decode(&bytes[..cut]), Ok(Decoded::NeedMore(_))));
        assert_eq!(d.held(), 3 + ITEM_OVERHEAD);
        assert!(matches!(d.decode(&bytes), Ok(Decoded::Done(..))));
    }

    /// 30,000 arguments, fed 4 KiB at a time: linear, so this takes
    /// milliseconds (re-parsing from the start took seconds).
    #[test]
    fn many_arguments_in_small_reads_are_linear() {
        let args: Vec<Vec<u8>> = (0..30_000)
            .map(|i| format!("-DA{i}").into_bytes())
            .collect();
        let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        let h = head(2, &refs);
        let bytes = h.encode();
        let started = std::time::Instant::now();
        assert_eq!(feed(&bytes, 4096, &Limits::default()).unwrap(), h);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }
}
