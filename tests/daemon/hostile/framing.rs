//! The framing rows of the hostile table: truncated and wrong tokens,
//! absurd lengths, huge counts, NUL bytes, LZO bombs, each refused at
//! once.

use super::*;

/// The framing rows: each is refused at once.
pub const FRAMING: &[Case] = &[
    Case {
        name: "empty connection",
        act: Act::Send(no_bytes),
        expect: "without sending a request",
    },
    Case {
        name: "wrong first token",
        act: Act::Send(|| b"HELO00000001".to_vec()),
        expect: "expected DIST",
    },
    Case {
        name: "lowercase token",
        act: Act::Send(|| b"dist00000001".to_vec()),
        expect: "expected DIST",
    },
    Case {
        name: "NUL in the token",
        act: Act::Send(|| b"DI\0T00000001".to_vec()),
        expect: "expected DIST",
    },
    Case {
        name: "token is a response",
        act: Act::Send(|| b"DONE00000001".to_vec()),
        expect: "expected DIST",
    },
    Case {
        name: "parameter not hex",
        act: Act::Send(|| b"DISTzzzzzzzz".to_vec()),
        expect: "not 8 hex digits",
    },
    Case {
        name: "parameter with a space",
        act: Act::Send(|| b"DIST 0000001".to_vec()),
        expect: "not 8 hex digits",
    },
    Case {
        name: "parameter with 0x",
        act: Act::Send(|| b"DIST0x000001".to_vec()),
        expect: "not 8 hex digits",
    },
    Case {
        name: "parameter with a sign",
        act: Act::Send(|| b"DIST-0000001".to_vec()),
        expect: "not 8 hex digits",
    },
    Case {
        name: "version 4",
        act: Act::Send(|| b"DIST00000004".to_vec()),
        expect: "unsupported protocol version 4",
    },
    Case {
        name: "version 2^32-1",
        act: Act::Send(|| b"DISTffffffff".to_vec()),
        expect: "version 4294967295",
    },
    Case {
        name: "truncated DIST",
        act: Act::Send(|| b"DIST000".to_vec()),
        expect: "closed the connection after 7 bytes",
    },
    Case {
        name: "DOTI instead of ARGC",
        act: Act::Send(|| b"DIST00000001DOTI00000000".to_vec()),
        expect: "expected ARGC",
    },
    Case {
        name: "ARGC 0",
        act: Act::Send(|| b"DIST00000001ARGC00000000".to_vec()),
        expect: "ARGC 0",
    },
    Case {
        name: "ARGC 2^32-1",
        act: Act::Send(|| b"DIST00000002ARGCffffffff".to_vec()),
        expect: "ARGC announces 4294967295 arguments, above the limit of 262144 arguments",
    },
    Case {
        name: "ARGC one over the cap",
        act: Act::Send(|| b"DIST00000001ARGC00040001".to_vec()),
        expect: "ARGC announces 262145 arguments, above the limit of 262144",
    },
    Case {
        name: "ARGC at the cap, then hang up",
        act: Act::Send(|| b"DIST00000001ARGC00040000".to_vec()),
        expect: "closed the connection after 24 bytes",
    },
    Case {
        name: "ARGC not hex",
        act: Act::Send(|| b"DIST00000001ARGC0000000G".to_vec()),
        expect: "not 8 hex digits",
    },
    Case {
        name: "ARGV one over the cap",
        act: Act::Send(|| b"DIST00000001ARGC00000001ARGV00100001".to_vec()),
        expect: "ARGV announces 1048577 bytes, above the limit of 1048576 bytes per string",
    },
    Case {
        name: "ARGV 2^31",
        act: Act::Send(|| b"DIST00000001ARGC00000001ARGV7fffffff".to_vec()),
        expect: "above the limit of 1048576 bytes per string",
    },
    Case {
        name: "head over 16 MiB",
        act: Act::Send(|| {
            let big = vec![b'D'; 1 << 20];
            let mut v = cat(&[b"DIST00000001", &tok("ARGC", 20), &item("ARGV", b"gcc")]);
            for _ in 0..19 {
                v.extend_from_slice(&item("ARGV", &big));
            }
            v
        }),
        expect: "above the limit of 16777216 bytes per head",
    },
    Case {
        name: "ARGV where DOTI belongs",
        act: Act::Send(|| cat(&[&head(1), &item("ARGV", b"x")])),
        expect: "expected DOTI",
    },
    Case {
        name: "DOTI instead of ARGV",
        act: Act::Send(|| b"DIST00000001ARGC00000002ARGV00000003gccDOTI00000000".to_vec()),
        expect: "expected ARGV",
    },
    Case {
        name: "truncated ARGV",
        act: Act::Send(|| b"DIST00000001ARGC00000005ARGV00000003gc".to_vec()),
        expect: "closed the connection after 38 bytes",
    },
    Case {
        name: "NUL in an argument",
        act: Act::Send(|| request_with(&[b"gcc", b"-c", b"hello.c", b"-DX=\0"])),
        expect: "NUL",
    },
    Case {
        name: "a 1 MiB compiler name is cut in the log",
        act: Act::Send(|| request_with(&[&[b'c'; 1 << 20], b"-c", b"hello.c"])),
        expect: "more bytes]",
    },
    Case {
        name: "a 1 MiB file name is cut in the log",
        act: Act::Send(|| {
            let mut name = vec![b'f'; (1 << 20) - 2];
            name.extend_from_slice(b".c");
            request_with(&[b"gcc", b"-c", &name])
        }),
        expect: "more bytes]",
    },
    Case {
        name: "DOTI over 2 GiB",
        act: Act::Send(|| cat(&[&head(1), b"DOTIffffffff"])),
        expect: "DOTI announces 4294967295 bytes, above the limit of 2147483648 bytes per body",
    },
    Case {
        name: "truncated DOTI",
        act: Act::Send(|| cat(&[&head(1), b"DOTI00000100short"])),
        expect: "closed the connection after",
    },
    Case {
        name: "DOTI length not hex",
        act: Act::Send(|| cat(&[&head(1), b"DOTI0000001x"])),
        expect: "not 8 hex digits",
    },
    Case {
        name: "LZO garbage",
        act: Act::Send(|| cat(&[&head(2), &item("DOTI", &[0xff; 8])])),
        expect: "decompression failed",
    },
    Case {
        name: "LZO with trailing bytes",
        act: Act::Send(|| {
            let mut z = distcc::protocol::lzo::compress(b"int x;\nint y;\nint z;\n");
            z.push(0);
            cat(&[&head(2), &item("DOTI", &z)])
        }),
        expect: "follow the end of the LZO stream",
    },
    Case {
        name: "LZO match before the start",
        act: Act::Send(|| cat(&[&head(2), &item("DOTI", &[0x11, 0x04, 0x00, 0x11, 0, 0])])),
        expect: "refers before its start",
    },
    Case {
        name: "LZO bomb over 2 GiB",
        act: Act::Send(|| cat(&[&head(2), &doti_bomb()])),
        expect: "LZO output exceeds the limit of 2147483648 bytes",
    },
    Case {
        name: "a 63 MiB source from 250 KB goes to a file, not memory",
        act: Act::Stay(|| cat(&[&head(2), &item("DOTI", &bomb_of(b'\n', 60))])),
        expect: "COMPILE_OK",
    },
    Case {
        name: "CDIR over the cap",
        act: Act::Send(|| b"DIST00000003CDIR00100001".to_vec()),
        expect: "CDIR announces 1048577 bytes",
    },
    Case {
        name: "CDIR relative",
        act: Act::Send(|| cat(&[b"DIST00000003", &item("CDIR", b"src"), &head(1)[12..]])),
        expect: "is not an absolute path",
    },
    Case {
        name: "CDIR with ..",
        act: Act::Send(|| {
            cat(&[
                b"DIST00000003",
                &item("CDIR", b"/src/../.."),
                &head(1)[12..],
            ])
        }),
        expect: "component",
    },
    Case {
        name: "NFIL 2^32-1",
        act: Act::Send(|| cat(&[&head(3), b"NFILffffffff"])),
        expect: "NFIL announces 4294967295 files, above the limit of 1048576 files",
    },
    Case {
        name: "NAME over the cap",
        act: Act::Send(|| cat(&[&head(3), b"NFIL00000001NAME00100001"])),
        expect: "NAME announces 1048577 bytes",
    },
    Case {
        name: "entry neither FILE nor LINK",
        act: Act::Send(|| {
            cat(&[
                &head(3),
                b"NFIL00000001",
                &item("NAME", b"/src/hello.c"),
                b"DOTI00000000",
            ])
        }),
        expect: "FILE or LINK",
    },
    Case {
        name: "FILE bomb over 2 GiB",
        act: Act::Send(|| {
            let body = bomb(BOMB_MATCHES);
            cat(&[
                &head(3),
                b"NFIL00000001",
                &item("NAME", b"/src/hello.c"),
                &item("FILE", &body),
            ])
        }),
        expect: "LZO output exceeds the limit of 2147483648 bytes",
    },
    Case {
        name: "stray bytes after a request",
        act: Act::Send(|| cat(&[GOOD_V1, b"garbage"])),
        expect: "unexpected bytes",
    },
];
