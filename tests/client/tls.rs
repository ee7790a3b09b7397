//! Authenticated farms (issue 14): our client and daemon over TLS 1.3 with
//! keys made and trusted by `distcc-config`, against daemons that do not
//! trust the client, a daemon with another key on the pinned address, and
//! Debian's distcc 3.4 on either side of the clear/TLS line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use nix::sys::signal::Signal;

use super::harness::{Daemon, Farm, Kind, assert_ok, assert_same, text};
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
    f
}

const CC: &[&str] = &["gcc", "-O2", "-c", "x.c", "-o", "x.o"];

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
    assert_eq!(d.wait_compiles(2), 2, "{}", d.log_text());
    assert!(d.log_text().contains(&dfp), "the daemon names its key");

    // Debian's 3.4 client on the same port, in the clear.
    let out = f
        .command(Path::new(DEBIAN_DISTCC), &d.host(""), CC, &[])
        .output()
        .unwrap();
    assert_ok(&out, "distcc 3.4");
    assert_same(&f.work().join("x.o"), &reference);
    assert_eq!(d.wait_compiles(3), 3, "{}", d.log_text());
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

    // Trusted and SIGHUP: the next job runs there.
    trust_client(&f, &dir, &cfp);
    d.signal(Signal::SIGHUP);
    assert!(d.wait_log("SIGHUP: TLS key"), "{}", d.log_text());
    let out = verbose_distcc(&f, &format!("tls+{}", d.host("")));
    assert_ok(&out, "after SIGHUP");
    assert_same(&f.work().join("x.o"), &reference);
    assert_eq!(d.wait_compiles(1), 1, "{}", d.log_text());
}

#[test]
fn a_daemon_with_another_key_on_the_pinned_address_gets_nothing() {
    require_tool!("gcc");
    let f = farm("tls-mitm");
    let reference = reference(&f);
    let (_, pinned) = daemon_key(&f, "real");
    let (impostor_dir, impostor) = daemon_key(&f, "impostor");
    let cfp = client_key(&f);
    // The impostor even trusts the client: only the pin stops the job.
    trust_client(&f, &impostor_dir, &cfp);
    let d = tls_daemon(
        &f,
        &impostor_dir,
        &["--tls-required", "--log-level", "debug"],
    );
    config(&f, &["--tls-trust-daemon", "127.0.0.1", &pinned]);

    let out = f.distcc(
        &format!("tls+{}", d.host("")),
        CC,
        &[("DISTCC_VERBOSE", "1")],
    );
    assert_ok(&out, "fallback");
    assert_same(&f.work().join("x.o"), &reference);
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "not sending the job: 127.0.0.1 showed key {impostor}"
        )),
        "client's reason:\n{err}"
    );
    assert!(d.wait_log("refused TLS connection"), "{}", d.log_text());
    let log = d.log_text();
    assert!(
        !log.contains("TLS client key"),
        "the impostor saw our key:\n{log}"
    );
    assert_eq!(d.count("COMPILE_OK"), 0, "{log}");
    assert!(!log.contains("DIST"), "{log}");
    assert!(
        f.lock_files().iter().any(|l| l.starts_with("backoff")),
        "the host is backed off like a failed one: {:?}",
        f.lock_files()
    );

    // No pin at all: refused before connecting.
    std::fs::remove_file(f.path("ddir/tls/known_daemons")).unwrap();
    let out = verbose_distcc(&f, &format!("tls+{}", d.host("")));
    assert_ok(&out, "no pin");
    assert!(
        text(&out.stderr).contains("no key pinned for 127.0.0.1"),
        "{}",
        text(&out.stderr)
    );
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
    std::thread::sleep(std::time::Duration::from_millis(200));
    let log = clear.log_text();
    assert!(!log.contains("connection from"), "3.4 connected:\n{log}");
}
