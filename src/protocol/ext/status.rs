//! The server's status (`XSTA`): its free slots, queue and load, sent
//! in the server's hello and again before `DONE`.

use std::fmt;

use super::put;
use super::wire::bad;
use crate::protocol::ProtocolError;
use crate::protocol::token::{HEADER_LEN, Header};

/// The server's load, as it reports it (`XSTA`). Unknown items are
/// skipped, missing ones are `None`: later versions may add some.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// Compile slots free now (`FREE`).
    pub free: Option<u32>,
    /// Compile slots in all (`JOBS`).
    pub slots: Option<u32>,
    /// Jobs received and waiting for a slot (`QUEU`).
    pub queued: Option<u32>,
    /// One-minute load average × 100 (`LOAD`).
    pub load_centi: Option<u32>,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: Option<u32>| v.map_or("?".to_owned(), |v| v.to_string());
        write!(
            f,
            "{} of {} slots free, {} queued, load {}",
            show(self.free),
            show(self.slots),
            show(self.queued),
            self.load_centi
                .map_or("?".to_owned(), |l| format!("{}.{:02}", l / 100, l % 100))
        )
    }
}

impl Status {
    /// `XSTA` with its items.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut body = Vec::new();
        let items = [
            (b"FREE", self.free),
            (b"JOBS", self.slots),
            (b"QUEU", self.queued),
            (b"LOAD", self.load_centi),
        ];
        for (token, v) in items {
            if let Some(v) = v {
                put(&mut body, token, v);
            }
        }
        put(out, b"XSTA", body.len() as u32);
        out.extend_from_slice(&body);
    }

    pub(super) fn parse(body: &[u8]) -> Result<Self, ProtocolError> {
        if body.len() % HEADER_LEN != 0 {
            return Err(bad(b"XSTA", "a body that is not whole items"));
        }
        let mut s = Self::default();
        for item in body.chunks(HEADER_LEN) {
            let h = Header::decode(item)?.expect("a whole item");
            match &h.token {
                b"FREE" => s.free = Some(h.param),
                b"JOBS" => s.slots = Some(h.param),
                b"QUEU" => s.queued = Some(h.param),
                b"LOAD" => s.load_centi = Some(h.param),
                _ => {}
            }
        }
        Ok(s)
    }
}
