//! A job's connection while the client waits for its reply. In the
//! extension (docs/extension.md) our daemon sends heartbeats (`XBEA`)
//! and its status (`XSTA`) before `DONE`: they say the server is alive,
//! not that the reply has begun. So the wait reads them here, as they
//! come, and goes on judging the job's lateness by the time since the
//! request while only the silence timer restarts; `DONE`'s header, once
//! read, is kept for the reply reader. In 3.4's protocol anything
//! readable is the reply.

use std::os::fd::BorrowedFd;

use crate::client::extension::{self, Item, Session};
use crate::client::stats::Counted;
use crate::client::transport::conn::Conn;
use crate::client::transport::remote::RemoteError;
use crate::protocol::token::HEADER_LEN;

/// What came on the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// A heartbeat or the server's status: alive, still compiling.
    Alive,
    /// The reply begins (or the connection ended): read it.
    Reply,
}

/// The connection of a job sent, and what was read of it while waiting.
#[derive(Debug)]
pub struct Incoming<'a, 'c> {
    conn: &'a mut Counted<'c, Conn>,
    session: Option<&'a Session>,
    done: Option<[u8; HEADER_LEN]>,
}

impl<'a, 'c> Incoming<'a, 'c> {
    /// The connection of a job sent in the extension (`session`) or in
    /// 3.4's protocol (`None`).
    pub fn new(conn: &'a mut Counted<'c, Conn>, session: Option<&'a Session>) -> Self {
        Self {
            conn,
            session,
            done: None,
        }
    }

    /// The descriptor to wait on.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.conn.0.read_fd()
    }

    /// Something read ahead waits (TLS), so do not wait on [`Self::fd`].
    pub fn buffered(&mut self) -> bool {
        self.conn.0.buffered()
    }

    /// The connection is readable: read a heartbeat or status if that is
    /// what came, else keep the reply's first header for the reader.
    pub fn arrived(&mut self) -> Result<Arrival, RemoteError> {
        let Some(session) = self.session else {
            return Ok(Arrival::Reply);
        };
        match extension::next_item(self.conn, session)? {
            Item::Alive => Ok(Arrival::Alive),
            Item::Reply(head) => {
                self.done = Some(head);
                Ok(Arrival::Reply)
            }
        }
    }

    /// `DONE`'s header if the wait read it (for
    /// [`extension::receive`]).
    pub fn done(&self) -> Option<[u8; HEADER_LEN]> {
        self.done
    }
}
