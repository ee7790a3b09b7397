//! The rows that stall or flood: a head that never ends, a source that
//! trickles, half-open connections, many connections at once.

use super::*;

/// Rows that stall or flood: the daemon runs with `DISTCC_IO_TIMEOUT=2`.
pub const STALLS: &[Case] = &[
    Case {
        name: "connect and send nothing",
        act: Act::Stay(no_bytes),
        expect: "client sent nothing for 2s",
    },
    Case {
        name: "half a head, then silence",
        act: Act::Stay(|| head(1)[..30].to_vec()),
        expect: "client sent nothing for 2s",
    },
    Case {
        name: "a head that never ends",
        act: Act::Trickle(no_bytes, || head(1).repeat(20), 100),
        expect: "bytes of the request head in 2s",
    },
    Case {
        name: "an endless stream of arguments",
        act: Act::Trickle(
            || b"DIST00000001ARGC00040000".to_vec(),
            || item("ARGV", b"x").repeat(1000),
            50,
        ),
        expect: "bytes of the request head in 2s",
    },
    Case {
        name: "the head, then silence",
        act: Act::Stay(|| head(1)),
        expect: "client sent nothing for 2s",
    },
    Case {
        name: "the head, then DOTI byte by byte",
        act: Act::Trickle(|| head(1), || b"DOTI00001000".to_vec(), 400),
        expect: "bytes of the source header in 2s",
    },
    Case {
        name: "a source that trickles",
        act: Act::Trickle(
            || cat(&[&head(1), b"DOTI00100000"]),
            || vec![b' '; 1000],
            100,
        ),
        expect: "bytes of the source in 2s",
    },
    Case {
        name: "half a source, then silence",
        act: Act::Stay(|| cat(&[&head(1), b"DOTI00000100int x;"])),
        expect: "client sent nothing for 2s",
    },
    Case {
        name: "pump files that trickle",
        act: Act::Trickle(
            || cat(&[&head(3), b"NFIL00000002"]),
            || item("NAME", b"/src/hello.c").repeat(100),
            100,
        ),
        expect: "bytes of the source in 2s",
    },
    Case {
        name: "half-close after the head",
        act: Act::Send(|| head(1)),
        expect: "instead of sending its source",
    },
    Case {
        name: "reset in the head",
        act: Act::Reset(|| head(1)[..20].to_vec()),
        expect: "closed the connection after|reset by peer",
    },
    Case {
        name: "reset in the source",
        act: Act::Reset(|| cat(&[&head(1), b"DOTI00001000int"])),
        expect: "closed the connection after|reset by peer",
    },
    Case {
        name: "300 idle connections",
        act: Act::Many(300, no_bytes),
        expect: "client sent nothing for 2s",
    },
    Case {
        name: "200 half heads",
        act: Act::Many(200, || head(2)[..40].to_vec()),
        expect: "client sent nothing for 2s",
    },
    Case {
        name: "100 heads waiting for their sources",
        act: Act::Many(100, || head(1)),
        expect: "client sent nothing for 2s",
    },
    Case {
        name: "100 trickling heads",
        act: Act::ManyTrickle(100, no_bytes, || head(1).repeat(20), 200),
        expect: "bytes of the request head in 2s",
    },
];
