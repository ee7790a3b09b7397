//! The per-compiler and per-client-address counts of `/metrics`: how many
//! jobs each compiler ran and for how long, and how each client's jobs
//! ended. Both come from the job summaries ([`Summary`]).
//!
//! Bounded: the names come from the network (a compiler name from the
//! request, an address from the peer), and every distinct name is a time
//! series to whoever scrapes the page. Past [`MAX_COMPILERS`] compilers or
//! [`MAX_CLIENTS`] addresses the rest are counted under [`OTHER`]. Only
//! compilers that ran count, so the names are those the whitelist allowed.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use crate::daemon::summary::{Category, Summary};

/// Distinct compiler names kept before the rest go under [`OTHER`].
pub const MAX_COMPILERS: usize = 32;
/// Distinct client addresses kept before the rest go under [`OTHER`].
pub const MAX_CLIENTS: usize = 64;
/// The label of everything past the limits.
pub const OTHER: &str = "other";

/// Jobs of one compiler.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CompilerTally {
    /// Jobs by how they ended, indexed like [`Category::ALL`].
    pub jobs: [u64; 8],
    /// Time from accept to the end of those jobs, in seconds.
    pub seconds: f64,
}

/// The counts by compiler and by client address.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Breakdown {
    /// By compiler name (the last path component of `argv[0]`).
    pub compilers: BTreeMap<String, CompilerTally>,
    /// By client address (no port), jobs by how they ended.
    pub clients: BTreeMap<String, [u64; 8]>,
}

/// Whether the job got as far as running its compiler.
fn ran_compiler(c: Category) -> bool {
    matches!(
        c,
        Category::CompileOk
            | Category::CompileError
            | Category::CompileTimeout
            | Category::CliDisconn
    )
}

/// `key`, or [`OTHER`] when `map` is full and does not hold it yet.
fn bounded<V>(map: &BTreeMap<String, V>, key: &str, max: usize) -> String {
    if map.contains_key(key) || map.len() < max {
        key.to_owned()
    } else {
        OTHER.to_owned()
    }
}

/// The address part of `ADDR:PORT` (`[v6]:port` too); other peers (`stdin`
/// in inetd mode) as they are.
pub fn client_of(peer: &str) -> String {
    peer.parse::<SocketAddr>()
        .map_or_else(|_| peer.to_owned(), |a| a.ip().to_string())
}

/// The compiler's name: the last component of `argv[0]`.
pub fn compiler_of(argv0: &str) -> &str {
    argv0.rsplit('/').next().unwrap_or(argv0)
}

impl Breakdown {
    /// Count one ended job.
    pub fn record(&mut self, s: &Summary) {
        let i = s.category.index();
        let client = bounded(&self.clients, &client_of(&s.peer), MAX_CLIENTS - 1);
        self.clients.entry(client).or_default()[i] += 1;
        let Some(compiler) = s.compiler.as_deref().filter(|_| ran_compiler(s.category)) else {
            return;
        };
        let name = bounded(&self.compilers, compiler_of(compiler), MAX_COMPILERS - 1);
        let tally = self.compilers.entry(name).or_default();
        tally.jobs[i] += 1;
        tally.seconds += s.elapsed.as_secs_f64();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn job(peer: &str, category: Category, compiler: Option<&str>, ms: u64) -> Summary {
        Summary {
            peer: peer.into(),
            category,
            status: 0,
            ret: 0,
            elapsed: Duration::from_millis(ms),
            compiler: compiler.map(Into::into),
            input: Some("x.c".into()),
        }
    }

    #[test]
    fn counts_by_compiler_and_client() {
        let mut b = Breakdown::default();
        b.record(&job(
            "127.0.0.1:4000",
            Category::CompileOk,
            Some("gcc"),
            500,
        ));
        b.record(&job(
            "127.0.0.1:4001",
            Category::CompileOk,
            Some("/usr/bin/gcc"),
            250,
        ));
        b.record(&job("[::1]:5", Category::CompileError, Some("cc"), 10));
        // Refused before the compiler ran: the client counts, the name not.
        b.record(&job("10.0.0.9:7", Category::RejBadReq, Some("evil"), 1));
        b.record(&job("stdin", Category::Other, None, 1));
        let gcc = &b.compilers["gcc"];
        assert_eq!(gcc.jobs[Category::CompileOk.index()], 2);
        assert!((gcc.seconds - 0.75).abs() < 1e-9);
        assert_eq!(b.compilers["cc"].jobs[Category::CompileError.index()], 1);
        assert!(!b.compilers.contains_key("evil"));
        assert_eq!(b.clients["127.0.0.1"][Category::CompileOk.index()], 2);
        assert_eq!(b.clients["::1"][Category::CompileError.index()], 1);
        assert_eq!(b.clients["10.0.0.9"][Category::RejBadReq.index()], 1);
        assert_eq!(b.clients["stdin"][Category::Other.index()], 1);
    }

    #[test]
    fn names_past_the_limits_go_under_other() {
        let mut b = Breakdown::default();
        for i in 0..200 {
            let peer = format!("10.0.{}.{}:1", i / 250, i % 250);
            let cc = format!("cc{i}");
            b.record(&job(&peer, Category::CompileOk, Some(&cc), 1));
        }
        assert_eq!(b.clients.len(), MAX_CLIENTS);
        assert_eq!(b.compilers.len(), MAX_COMPILERS);
        let other: u64 = b.clients[OTHER].iter().sum();
        assert_eq!(other, 200 - (MAX_CLIENTS as u64 - 1));
        // A name seen before the table filled keeps counting as itself.
        b.record(&job("10.0.0.0:2", Category::CompileOk, Some("cc0"), 1));
        assert_eq!(b.clients["10.0.0.0"][Category::CompileOk.index()], 2);
        assert_eq!(b.compilers["cc0"].jobs[Category::CompileOk.index()], 2);
    }
}
