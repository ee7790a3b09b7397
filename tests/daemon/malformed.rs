//! Raw malformed requests against our distccd (spec §1.8, issue #2): each
//! is refused without a reply, the reason is logged, no temp file is left
//! and the daemon goes on serving. (Debian's 3.4 daemon crashes on some
//! of these — `ARGC 0` — and hangs on others, so these run on ours only.)

use std::io::Write;
use std::net::TcpStream;

use distcc::protocol::{Request, RequestHead};

use super::harness::{Daemon, Farm, Kind, Opts, exchange, text};

use super::harness::GOOD_V1;

pub fn request(version: u32, argv: &[&[u8]], source: &[u8]) -> Vec<u8> {
    Request {
        head: RequestHead {
            version,
            cwd: (version > 2).then(|| b"/src".to_vec()),
            argv: argv.iter().map(|a| a.to_vec()).collect(),
        },
        source: source.to_vec(),
        files: Vec::new(),
    }
    .encode()
}

pub const SRC: &[u8] = b"int main(void) { return 0; }\n";

fn head_only(argv: &[&[u8]]) -> Vec<u8> {
    let mut r = request(1, argv, b"");
    r.truncate(r.len() - 12); // drop DOTI00000000
    r
}

/// Send one malformed request; check it is refused with `reason` logged,
/// then that a good request still works and nothing is left behind.
fn refused(bytes: Vec<u8>, close: bool, reason: &str) {
    crate::require_tool!("gcc");
    let farm = Farm::new("malformed");
    let d = farm.daemon(Kind::Ours, &Opts::default());
    let reply = exchange(d.port, &bytes, close);
    assert!(reply.is_empty(), "got a reply: {:?}", text(&reply));
    assert!(
        d.wait_log(reason),
        "reason {reason:?} not logged:\n{}",
        d.log_text()
    );
    assert_still_serves(&d);
    assert_eq!(d.count("COMPILE_OK"), 1);
    assert!(
        farm.daemon_temp_files().is_empty(),
        "left: {:?}",
        farm.daemon_temp_files()
    );
}

#[track_caller]
fn assert_still_serves(d: &Daemon) {
    let reply = exchange(d.port, GOOD_V1, false);
    assert!(
        reply.starts_with(b"DONE00000001STAT00000000"),
        "{:?}",
        text(&reply)
    );
    assert!(d.wait_count("COMPILE_OK", 1) >= 1);
}

macro_rules! malformed {
    ($($name:ident: $bytes:expr, close: $close:expr, reason: $reason:expr;)*) => {
        $( #[test] fn $name() { refused($bytes, $close, $reason) } )*
    };
}

malformed! {
    first_token_is_not_dist: b"HELO00000001".to_vec(), close: true, reason: "protocol derailment";
    dist_parameter_is_not_hex: b"DISTzzzzzzzz".to_vec(), close: true, reason: "not 8 hex digits";
    version_above_3: b"DIST00000004".to_vec(), close: false, reason: "unsupported protocol version 4";
    argc_zero: b"DIST00000001ARGC00000000".to_vec(), close: true, reason: "ARGC 0";
    empty_connection: Vec::new(), close: true, reason: "without sending a request";
    truncated_argv: b"DIST00000001ARGC00000005ARGV00000003gc".to_vec(), close: true,
        reason: "closed the connection after 38 bytes";
    truncated_source: {
        let mut r = head_only(&[b"gcc", b"-c", b"x.c", b"-o", b"x.o"]);
        r.extend_from_slice(b"DOTI00000100short");
        r
    }, close: true, reason: "closed the connection";
    huge_source_length: {
        let mut r = head_only(&[b"gcc", b"-c", b"x.c"]);
        r.extend_from_slice(b"DOTIffffffff");
        r
    }, close: false, reason: "above the limit";
    huge_argv_length: b"DIST00000001ARGC00000001ARGV7fffffff".to_vec(), close: false,
        reason: "above the limit";
    huge_argc: b"DIST00000002ARGCffffffff".to_vec(), close: false, reason: "above the limit";
    corrupt_lzo_source: {
        let mut r = head_only(&[b"gcc", b"-c", b"x.c"]);
        r[11] = b'2';
        r.extend_from_slice(b"DOTI00000008\xff\xff\xff\xff\xff\xff\xff\xff");
        r
    }, close: true, reason: "decompression failed";
    preprocess_only: request(1, &[b"gcc", b"-E", b"x.c"], SRC), close: true,
        reason: "not a distributable compile";
    link_request: request(1, &[b"gcc", b"x.c", b"-o", b"x"], SRC), close: true,
        reason: "not a distributable compile";
    two_sources: request(1, &[b"gcc", b"-c", b"x.c", b"y.c"], SRC), close: true,
        reason: "two source files";
    absolute_compiler_path: request(1, &[b"/usr/local/bin/gcc", b"-c", b"x.c"], SRC), close: true,
        reason: "not a bare name";
    compiler_path_traversal: request(1, &[b"/usr/bin/../../bin/sh", b"-c", b"x.c"], SRC),
        close: true, reason: "not a bare name";
    compiler_not_whitelisted: request(1, &[b"sh", b"-c", b"x.c"], SRC), close: true,
        reason: "sh not in ";
    plugin_argument: request(1, &[b"gcc", b"-c", b"x.c", b"-fplugin=/tmp/x.so"], SRC),
        close: true, reason: "plugin";
    specs_argument: request(1, &[b"gcc", b"-c", b"x.c", b"-specs=/tmp/evil"], SRC), close: true,
        reason: "not a distributable compile";
    wrapper_argument: request(1, &[b"gcc", b"-wrapper", b"/bin/sh,-c,id", b"-c", b"x.c"], SRC),
        close: true, reason: "load or run another program";
    response_file_argument: request(1, &[b"gcc", b"-c", b"x.c", b"@/etc/shadow"], SRC),
        close: true, reason: "read a file it names";
    nul_in_argv: request(1, &[b"gcc", b"-c", b"x.c", b"-DX=\0"], SRC), close: true,
        reason: "NUL";
}

/// Protocols 1 and 2 compile preprocessed input, for which preprocessor
/// options are inert: the daemon drops them, so `-MD -MF <outside>` from a
/// hostile client compiles and writes nothing (it used to be refused).
#[test]
fn dependency_options_are_dropped_in_plain_mode() {
    crate::require_tool!("gcc");
    let farm = Farm::new("dropdeps");
    let d = farm.daemon(Kind::Ours, &Opts::default());
    let target = farm.path("pwned.d");
    let rel = format!("../../../../../../../..{}", target.display());
    let req = request(
        1,
        &[b"gcc", b"-c", b"x.c", b"-MD", b"-MF", rel.as_bytes()],
        SRC,
    );
    let reply = exchange(d.port, &req, false);
    assert!(
        reply.starts_with(b"DONE00000001STAT00000000"),
        "{:?}",
        text(&reply)
    );
    assert!(d.wait_count("COMPILE_OK", 1) >= 1);
    assert!(!target.exists(), "the dependency file was written");
    assert!(
        farm.daemon_temp_files().is_empty(),
        "left: {:?}",
        farm.daemon_temp_files()
    );
}

/// Issue 10: a source name that is not UTF-8 compiles (3.4 and gcc do).
#[test]
fn non_utf8_source_name_compiles() {
    crate::require_tool!("gcc");
    let farm = Farm::new("latin1");
    let d = farm.daemon(Kind::Ours, &Opts::default());
    let req = request(
        1,
        &[b"gcc", b"-c", b"h\xe9llo.c", b"-o", b"h\xe9llo.o"],
        SRC,
    );
    let reply = exchange(d.port, &req, false);
    assert!(
        reply.starts_with(b"DONE00000001STAT00000000"),
        "{:?}",
        text(&reply)
    );
    assert!(d.wait_count("COMPILE_OK", 1) >= 1);
    assert!(
        farm.daemon_temp_files().is_empty(),
        "left: {:?}",
        farm.daemon_temp_files()
    );
}

/// An output path that climbs out of the job directory is harmless: the
/// daemon always writes to its own temp output and sends that back.
#[test]
fn output_path_traversal_stays_in_the_job_dir() {
    crate::require_tool!("gcc");
    let farm = Farm::new("traversal");
    let d = farm.daemon(Kind::Ours, &Opts::default());
    let target = farm.path("escaped.o");
    let rel = format!("../../../../../../../..{}", target.display());
    let req = request(1, &[b"gcc", b"-c", b"x.c", b"-o", rel.as_bytes()], SRC);
    let reply = exchange(d.port, &req, false);
    assert!(
        reply.starts_with(b"DONE00000001STAT00000000"),
        "{:?}",
        text(&reply)
    );
    assert!(!target.exists(), "the client's -o path was written");
    assert!(farm.daemon_temp_files().is_empty());
}

/// Our daemon with `--jobs 1` and `DISTCC_IO_TIMEOUT=io_timeout`, and a
/// client connected to it that stopped in the middle of its request.
fn stalled_client(tag: &str, io_timeout: &str) -> (Farm, Daemon, TcpStream) {
    let farm = Farm::new(tag);
    let opts = Opts {
        env: vec![("DISTCC_IO_TIMEOUT".into(), io_timeout.into())],
        args: vec!["--jobs".into(), "1".into()],
        ..Opts::default()
    };
    let d = farm.daemon(Kind::Ours, &opts);
    let mut s = TcpStream::connect(("127.0.0.1", d.port)).unwrap();
    s.write_all(b"DIST00000001ARGC0000").unwrap();
    (farm, d, s)
}

/// A client that stops sending mid-request is dropped after
/// DISTCC_IO_TIMEOUT (3.4 would wait for ever, spec §4.6).
#[test]
fn stalled_client_is_dropped_after_io_timeout() {
    crate::require_tool!("gcc");
    let (_farm, d, s) = stalled_client("stall", "1");
    assert!(d.wait_log("sent nothing for 1s"), "{}", d.log_text());
    // The only job slot is free again.
    assert_still_serves(&d);
    drop(s);
}

/// A client that has connected but not finished its request (a laptop
/// suspended mid-job) holds a connection, not the compile slot: with
/// `--jobs 1` another client's compile goes through at once instead of
/// waiting for DISTCC_IO_TIMEOUT (3.4 makes it wait, each child serving
/// one connection from accept to reply).
#[test]
fn stalled_client_does_not_hold_the_compile_slot() {
    crate::require_tool!("gcc");
    let (_farm, d, stalled) = stalled_client("stall-slot", "120");
    let started = std::time::Instant::now();
    let reply = exchange(d.port, GOOD_V1, false);
    assert!(
        reply.starts_with(b"DONE00000001STAT00000000"),
        "{:?}",
        text(&reply)
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "the compile waited {:?} behind the stalled client",
        started.elapsed()
    );
    assert_eq!(d.wait_count("COMPILE_OK", 1), 1, "{}", d.log_text());
    drop(stalled);
}

/// A connection that closes without a byte (lsdistcc's probe, a
/// monitoring check) is counted as OTHER, as 3.4 does, and is not a
/// warning: probing a farm must not fill its logs with them.
#[test]
fn a_port_probe_is_not_a_warning() {
    crate::require_tool!("gcc");
    let farm = Farm::new("probe");
    let d = farm.daemon(Kind::Ours, &Opts::default());
    drop(TcpStream::connect(("127.0.0.1", d.port)).unwrap());
    assert_eq!(d.wait_count("OTHER", 1), 1, "{}", d.log_text());
    let log = d.log_text();
    assert!(log.contains("without sending a request"), "{log}");
    assert!(!log.contains("Warning"), "{log}");
    assert_eq!(d.count("REJ_BAD_REQ"), 0, "{log}");
}
