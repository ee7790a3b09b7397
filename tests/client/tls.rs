//! Authenticated farms (issue 14): our client and daemon over TLS 1.3 with
//! keys made and trusted by `distcc-config`, against daemons that do not
//! trust the client, a daemon with another key on the pinned address, and
//! Debian's distcc 3.4 on either side of the clear/TLS line.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::Signal;

use super::harness::{Daemon, Farm, Kind, assert_ok, assert_same, text};
use crate::support::eventually;
use crate::{require_tool, support};

const DEBIAN_DISTCC: &str = "/usr/bin/distcc";

/// `distcc-config` with the farm's client environment (`DISTCC_DIR`
/// is the farm's `ddir`).
fn config(f: &Farm, args: &[&str]) -> String {
    let out = Command::new(support::bin("distcc-config"))
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", f.path("home"))
        .env("DISTCC_DIR", f.path("ddir"))
        .output()
        .unwrap();
    assert_ok(&out, &format!("distcc-config {args:?}"));
    text(&out.stdout)
}

fn fingerprint(stdout: &str) -> String {
    stdout
        .split_whitespace()
        .find(|w| w.starts_with("SHA256:"))
        .unwrap_or_else(|| panic!("no fingerprint in {stdout}"))
        .to_owned()
}

/// A daemon key directory `name` in the farm, its fingerprint.
fn daemon_key(f: &Farm, name: &str) -> (PathBuf, String) {
    let dir = f.path(name);
    let out = config(
        f,
        &["--tls-dir", dir.to_str().unwrap(), "--tls-keygen", "daemon"],
    );
    (dir, fingerprint(&out))
}

fn client_key(f: &Farm) -> String {
    fingerprint(&config(f, &["--tls-keygen", "client"]))
}

fn trust_client(f: &Farm, dir: &Path, fp: &str) {
    config(
        f,
        &["--tls-dir", dir.to_str().unwrap(), "--tls-trust-client", fp],
    );
}

fn tls_daemon(f: &Farm, dir: &Path, extra: &[&str]) -> Daemon {
    let mut args = vec!["--tls-dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    Daemon::start(&f.daemon_config(Kind::Ours).args(args))
}

fn farm(tag: &str) -> Farm {
    let f = Farm::new(tag);
    f.write("x.c", "int f(int a) { return a * 3 + 1; }\n");
    f.write("p.c", "#include \"p.h\"\nint g(void) { return P * 2; }\n");
    f.write("inc/p.h", "#define P 21\n");
    f
}

const CC: &[&str] = &["gcc", "-O2", "-c", "x.c", "-o", "x.o"];
const PUMP_CC: &[&str] = &["gcc", "-O2", "-Iinc", "-c", "p.c", "-o", "p.o"];

fn reference(f: &Farm) -> PathBuf {
    assert_ok(&f.local(CC), "local gcc");
    let r = f.work().join("ref.o");
    std::fs::rename(f.work().join("x.o"), &r).unwrap();
    r
}

/// Our client with its reasons on stderr; backoff off, so that the next
/// job tries the host again.
fn verbose_distcc(f: &Farm, hosts: &str) -> Output {
    f.distcc(
        hosts,
        CC,
        &[("DISTCC_VERBOSE", "1"), ("DISTCC_BACKOFF_PERIOD", "0")],
    )
}

#[test]
fn a_trusted_client_compiles_over_tls_byte_identical_and_3_4_still_in_the_clear() {
    require_tool!("gcc");
    require_tool!(DEBIAN_DISTCC);
    let f = farm("tls-ok");
    let reference = reference(&f);
    let (dir, dfp) = daemon_key(&f, "dtls");
    let cfp = client_key(&f);
    trust_client(&f, &dir, &cfp);
    let d = tls_daemon(&f, &dir, &["--tls"]);
    config(&f, &["--tls-trust-daemon", "127.0.0.1", &dfp]);

    for opts in ["", ",lzo"] {
        let out = verbose_distcc(&f, &format!("tls+{}", d.host(opts)));
        assert_ok(&out, opts);
        assert_same(&f.work().join("x.o"), &reference);
    }
    // Pump mode: the source and its headers go out in protocol 3, inside TLS.
    let out = f.distcc(
        &format!("tls+{}", d.host(",cpp,lzo")),
        PUMP_CC,
        &[("DISTCC_PUMP", "1"), ("DISTCC_VERBOSE", "1")],
    );
    assert_ok(&out, "pump");
    let err = text(&out.stderr);
    assert!(err.contains("(protocol 3)"), "not pumped:\n{err}");
    std::fs::rename(f.work().join("p.o"), f.work().join("p-remote.o")).unwrap();
    assert_ok(&f.local(PUMP_CC), "local pump reference");
    assert_same(&f.work().join("p-remote.o"), &f.work().join("p.o"));
    assert_eq!(d.wait_compiles(3), 3, "{}", d.log_text());
    assert!(d.log_text().contains(&dfp), "the daemon names its key");

    // Debian's 3.4 client on the same port, in the clear.
    let out = f
        .command(Path::new(DEBIAN_DISTCC), &d.host(""), CC, &[])
        .output()
        .unwrap();
    assert_ok(&out, "distcc 3.4");
    assert_same(&f.work().join("x.o"), &reference);
    assert_eq!(d.wait_compiles(4), 4, "{}", d.log_text());
}

#[test]
fn an_untrusted_client_is_refused_before_any_compile_with_reasons_on_both_sides() {
    require_tool!("gcc");
    let f = farm("tls-untrusted");
    let reference = reference(&f);
    let (dir, dfp) = daemon_key(&f, "dtls");
    let cfp = client_key(&f);
    let d = tls_daemon(&f, &dir, &["--tls-required"]);
    config(&f, &["--tls-trust-daemon", "127.0.0.1", &dfp]);

    let out = verbose_distcc(&f, &format!("tls+{}", d.host("")));
    // Compiled here instead, as for a host that is down.
    assert_ok(&out, "fallback");
    assert_same(&f.work().join("x.o"), &reference);
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("refused this client's key {cfp}")),
        "client's reason:\n{err}"
    );
    assert!(
        d.wait_log(&format!("client key {cfp} is not in")),
        "{}",
        d.log_text()
    );
    assert_eq!(d.count("COMPILE_OK"), 0, "{}", d.log_text());

    // Trusted and SIGHUP: the next jobs run there (the first one in 3.4's
    // protocol, then the client knows the host speaks the extension).
    trust_client(&f, &dir, &cfp);
    d.signal(Signal::SIGHUP);
    assert!(d.wait_log("SIGHUP: TLS key"), "{}", d.log_text());
    for n in 1..=2 {
        let out = verbose_distcc(&f, &format!("tls+{}", d.host("")));
        assert_ok(&out, "after SIGHUP");
        assert_same(&f.work().join("x.o"), &reference);
        assert_eq!(d.wait_compiles(n), n, "{}", d.log_text());
    }

    // Revoked: a client that sends its hello without waiting for the
    // daemon's verdict still gets the reason, and nothing is compiled.
    let known: Vec<String> = std::fs::read_dir(f.path("ddir/extension"))
        .unwrap()
        .map(|e| support::read(&e.unwrap().path()))
        .collect();
    assert!(
        known.iter().any(|m| m.starts_with("v1 ours")),
        "the client knows the host speaks the extension: {known:?}"
    );
    config(
        &f,
        &["--tls-dir", dir.to_str().unwrap(), "--tls-revoke", &cfp],
    );
    d.signal(Signal::SIGHUP);
    assert!(
        eventually(|| d
            .log_text()
            .lines()
            .any(|l| l.contains("SIGHUP") && l.contains(", 0 authorized"))),
        "{}",
        d.log_text()
    );
    let out = verbose_distcc(&f, &format!("tls+{}", d.host("")));
    assert_ok(&out, "revoked");
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("refused this client's key {cfp}")),
        "client's reason after the hello:\n{err}"
    );
    let refusal = format!("client key {cfp} is not in");
    assert!(
        eventually(|| d.log_text().matches(&refusal).count() == 2),
        "{}",
        d.log_text()
    );
    assert_eq!(d.count("COMPILE_OK"), 2, "{}", d.log_text());
}

/// What a man in the middle got out of the client.
#[derive(Debug, Default)]
struct Seen {
    connections: usize,
    /// Bytes off the wire, before decryption.
    raw: usize,
    /// Bytes of the job it could decrypt.
    plain: Vec<u8>,
    /// Whether the client showed its key.
    client_key: bool,
    /// How each handshake ended.
    errors: Vec<String>,
}

/// A man in the middle on a free port: it ends TLS with a daemon key from
/// `dir` (whose `authorized_clients` trusts the client, so only the
/// client's pin can stop it), answers the handshake like distccd (the
/// accept byte), and keeps everything it receives, decrypted.
fn man_in_the_middle(dir: &Path) -> (u16, Arc<Mutex<Seen>>) {
    let tls = distcc::tls::config::DaemonTls::load(dir).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let shared = seen.clone();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut conn = rustls::ServerConnection::new(tls.config.clone()).unwrap();
            shared.lock().unwrap().connections += 1;
            let mut buf = [0u8; 16384];
            let mut greeted = false;
            while let Ok(n @ 1..) = s.read(&mut buf) {
                let mut seen = shared.lock().unwrap();
                seen.raw += n;
                let mut rd = &buf[..n];
                while !rd.is_empty() && conn.read_tls(&mut rd).is_ok() {}
                if let Err(e) = conn.process_new_packets() {
                    seen.errors.push(e.to_string());
                    let _ = conn.write_tls(&mut s);
                    break;
                }
                let before = seen.plain.len();
                let _ = conn.reader().read_to_end(&mut seen.plain);
                seen.client_key |= conn.peer_certificates().is_some();
                if !conn.is_handshaking() && !greeted {
                    conn.writer().write_all(&[distcc::tls::ACCEPTED]).unwrap();
                    greeted = true;
                }
                while conn.wants_write() && conn.write_tls(&mut s).is_ok() {}
                if seen.plain.len() > before {
                    break; // It has what it came for.
                }
            }
        }
    });
    (port, seen)
}

#[test]
fn a_daemon_with_another_key_on_the_pinned_address_gets_nothing() {
    require_tool!("gcc");
    let f = farm("tls-mitm");
    let reference = reference(&f);
    let (_, pinned) = daemon_key(&f, "real");
    let (impostor_dir, impostor) = daemon_key(&f, "impostor");
    let cfp = client_key(&f);
    trust_client(&f, &impostor_dir, &cfp);
    let (port, seen) = man_in_the_middle(&impostor_dir);
    config(&f, &["--tls-trust-daemon", "127.0.0.1", &pinned]);
    let host = format!("tls+127.0.0.1:{port}");

    let out = f.distcc(&host, CC, &[("DISTCC_VERBOSE", "1")]);
    assert_ok(&out, "fallback");
    assert_same(&f.work().join("x.o"), &reference);
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "not sending the job: 127.0.0.1 showed key {impostor}"
        )),
        "client's reason:\n{err}"
    );
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.connections, 1, "{seen:?}");
        assert!(seen.raw > 0, "the client's hello reached it: {seen:?}");
        assert!(seen.plain.is_empty(), "it read job bytes: {seen:?}");
        assert!(!seen.client_key, "the client showed it its key: {seen:?}");
        assert!(
            seen.errors
                .iter()
                .any(|e| e.contains("received fatal alert")),
            "the client aborted the handshake: {seen:?}"
        );
    }
    assert!(
        f.lock_files().iter().any(|l| l.starts_with("backoff")),
        "the host is backed off like a failed one: {:?}",
        f.lock_files()
    );

    // No pin at all: refused before connecting.
    std::fs::remove_file(f.path("ddir/tls/known_daemons")).unwrap();
    let out = verbose_distcc(&f, &host);
    assert_ok(&out, "no pin");
    assert!(
        text(&out.stderr).contains("no key pinned for 127.0.0.1"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(seen.lock().unwrap().connections, 1);

    // Pinned to the impostor's key, the same client does talk to it: the
    // pin, not a broken man in the middle, is what stopped the job.
    config(&f, &["--tls-trust-daemon", "127.0.0.1", &impostor]);
    let _ = verbose_distcc(&f, &host);
    let seen = seen.lock().unwrap();
    assert!(seen.client_key, "{seen:?}");
    assert!(!seen.plain.is_empty(), "{seen:?}");
}

#[test]
fn distcc_3_4_is_refused_by_a_daemon_requiring_tls_and_never_misreads_a_tls_host() {
    require_tool!("gcc");
    require_tool!(DEBIAN_DISTCC);
    let f = farm("tls-34");
    let reference = reference(&f);
    let (dir, _) = daemon_key(&f, "dtls");
    let d = tls_daemon(&f, &dir, &["--tls-required"]);
    let out = f
        .command(
            Path::new(DEBIAN_DISTCC),
            &d.host(""),
            CC,
            &[("DISTCC_VERBOSE", "1")],
        )
        .output()
        .unwrap();
    assert_ok(&out, "3.4 falls back");
    assert_same(&f.work().join("x.o"), &reference);
    assert!(
        d.wait_log("serves only authenticated TLS clients (--tls-required)"),
        "{}",
        d.log_text()
    );
    assert_eq!(d.count("COMPILE_OK"), 0);

    // 3.4 reading `tls+HOST` looks up the name "tls+127.0.0.1", fails, and
    // compiles locally: it never talks to the daemon at all.
    let clear = Daemon::start(&f.daemon_config(Kind::Ours).args(["--log-level", "debug"]));
    let out = f
        .command(
            Path::new(DEBIAN_DISTCC),
            &format!("tls+{}", clear.host("")),
            CC,
            &[("DISTCC_VERBOSE", "1")],
        )
        .output()
        .unwrap();
    assert_ok(&out, "3.4 with a tls+ host");
    assert_same(&f.work().join("x.o"), &reference);
    let err = text(&out.stderr);
    assert!(
        err.contains("failed to resolve host tls+127.0.0.1"),
        "3.4 says which name failed:\n{err}"
    );
    std::thread::sleep(Duration::from_millis(200));
    let log = clear.log_text();
    assert!(!log.contains("connection from"), "3.4 connected:\n{log}");
}
