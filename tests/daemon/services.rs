//! Ways of reaching the daemon besides a plain IPv4 job: the `--stats`
//! server (3.4's page, and ours at /json), inetd mode on a pipe and on a
//! socket, IPv6 and IPv4-mapped peers, and `DISTCC_CMDLIST`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::harness::{Daemon, Farm, GOOD_V1, Kind, Opts, exchange, http_get, text};
use super::malformed::{SRC, request};
use crate::support;

/// The `dcc_*` keys of a stats page, in order.
fn keys(page: &str) -> Vec<String> {
    page.lines()
        .filter(|l| l.starts_with("dcc_"))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect()
}

fn stats_daemon(kind: Kind, farm: &Farm) -> (Daemon, u16) {
    let stats_port = support::free_port();
    let opts = Opts {
        args: vec![
            "--stats".into(),
            "--stats-port".into(),
            stats_port.to_string(),
        ],
        ..Opts::default()
    };
    let d = farm.daemon(kind, &opts);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !super::harness::listening(stats_port) {
        assert!(
            std::time::Instant::now() < deadline,
            "stats port not listening"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (d, stats_port)
}

/// Our page has 3.4's layout and keys (checked against Debian's own page)
/// and counts our jobs; /json has the same figures.
#[test]
fn stats_page_matches_3_4_and_counts_jobs() {
    let farm = Farm::new("stats");
    let (d, stats_port) = stats_daemon(Kind::Ours, &farm);
    assert!(exchange(d.port, GOOD_V1, false).starts_with(b"DONE"));
    assert!(exchange(d.port, b"junk", true).is_empty());
    d.wait_count("REJ_BAD_REQ", 1);
    let page = http_get(stats_port, "/");
    assert!(
        page.starts_with("HTTP/1.0 200 OK\nContent-Type: text/plain\n"),
        "{page}"
    );
    assert!(page.contains("\n<distccstats>\n") && page.ends_with("</distccstats>\n"));
    for line in [
        "dcc_tcp_accept 2",
        "dcc_compile_ok 1",
        "dcc_rej_bad_req 1",
        "dcc_longest_job hello.c",
        "dcc_longest_job_compiler gcc",
        "dcc_num_compiles1 1",
    ] {
        assert!(
            page.contains(&format!("\n{line}\n")),
            "no {line:?} in\n{page}"
        );
    }
    let json = http_get(stats_port, "/json");
    assert!(json.contains("Content-Type: application/json"), "{json}");
    for pair in [
        "\"dcc_compile_ok\":1",
        "\"dcc_tcp_accept\":2",
        "\"dcc_longest_job\":\"hello.c\"",
    ] {
        assert!(json.contains(pair), "no {pair} in\n{json}");
    }
    if support::have_tool(super::harness::DEBIAN_DISTCCD) {
        let farm2 = Farm::new("stats-debian");
        let (_d2, p2) = stats_daemon(Kind::Debian, &farm2);
        assert_eq!(
            keys(&page),
            keys(&http_get(p2, "/")),
            "keys differ from 3.4's"
        );
    }
}

/// Run our distccd with `args` (no --inetd/--daemon unless given) and
/// `stdin` as given; stderr is captured.
fn inetd(farm: &Farm, stdin: Stdio, stdout: Stdio, args: &[&str]) -> std::process::Child {
    Command::new(support::bin("distccd"))
        .args(["--masquerade-dir"])
        .arg(farm.path("masq"))
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("TMPDIR", farm.path("dtmp"))
        .stdin(stdin)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// One job over pipes, as `ssh host distccd --inetd` runs it: the reply,
/// the exit status and what went to stderr. Stdin stays open until the
/// reply is in (EOF means "client gone", spec §1.5).
fn job_over_pipes(farm: &Farm, args: &[&str]) -> (Vec<u8>, std::process::Output) {
    let mut child = inetd(farm, Stdio::piped(), Stdio::piped(), args);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(GOOD_V1).unwrap();
    let mut reply = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut reply)
        .unwrap();
    drop(stdin);
    (reply, child.wait_with_output().unwrap())
}

/// `ssh host distccd --inetd`: the request on a pipe, the reply on stdout.
#[test]
fn inetd_mode_serves_one_job_over_pipes() {
    let farm = Farm::new("inetd-pipe");
    let log = farm.path("daemon.log");
    let log = log.to_str().unwrap();
    let (reply, out) = job_over_pipes(&farm, &["--inetd", "--log-file", log]);
    assert!(
        reply.starts_with(b"DONE00000001STAT00000000"),
        "{:?}",
        text(&reply)
    );
    assert!(out.status.success(), "{}", out.status);
    assert!(farm.daemon_temp_files().is_empty());
}

/// Without --inetd or --daemon, a socket on stdin means inetd mode.
#[test]
fn inetd_mode_is_detected_from_a_socket_on_stdin() {
    let farm = Farm::new("inetd-sock");
    let (mut ours, theirs) = UnixStream::pair().unwrap();
    let theirs = std::os::fd::OwnedFd::from(theirs);
    let mut child = inetd(&farm, Stdio::from(theirs), Stdio::null(), &[]);
    ours.write_all(GOOD_V1).unwrap();
    ours.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut reply = Vec::new();
    let _ = ours.read_to_end(&mut reply);
    assert!(
        reply.starts_with(b"DONE00000001STAT00000000"),
        "{:?}",
        text(&reply)
    );
    assert!(child.wait().unwrap().success());
}

fn ipv6_loopback() -> bool {
    std::net::TcpListener::bind("[::1]:0").is_ok()
}

/// No --listen: both IPv6 and IPv4 clients reach the daemon; with no
/// --allow, loopback of both families is served (3.4 skips ::1).
#[test]
fn ipv6_and_mapped_ipv4_loopback_are_served_by_default() {
    if !ipv6_loopback() {
        assert!(!support::ci(), "IPv6 loopback is needed under CI");
        return;
    }
    let farm = Farm::new("ipv6");
    let opts = Opts {
        allow: Vec::new(),
        listen: None,
        ..Opts::default()
    };
    let d = farm.daemon(Kind::Ours, &opts);
    let v6 = exchange_at("[::1]", d.port);
    assert!(
        v6.starts_with(b"DONE00000001STAT00000000"),
        "{}",
        d.log_text()
    );
    assert!(exchange(d.port, GOOD_V1, false).starts_with(b"DONE00000001"));
    assert!(d.log_text().contains("no --allow option given"));
}

#[test]
fn ipv6_client_outside_allow_is_refused() {
    if !ipv6_loopback() {
        assert!(!support::ci(), "IPv6 loopback is needed under CI");
        return;
    }
    let farm = Farm::new("ipv6-deny");
    let opts = Opts {
        allow: vec!["127.0.0.1".into(), "fd00::/8".into()],
        listen: None,
        ..Opts::default()
    };
    let d = farm.daemon(Kind::Ours, &opts);
    assert!(exchange_at("[::1]", d.port).is_empty());
    assert!(d.wait_log("connection from client '::1' denied by access list"));
    // 127.0.0.1 arrives IPv4-mapped on the dual-stack socket and matches.
    assert!(exchange(d.port, GOOD_V1, false).starts_with(b"DONE00000001"));
}

fn exchange_at(host: &str, port: u16) -> Vec<u8> {
    let mut s = TcpStream::connect(format!("{host}:{port}")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(GOOD_V1).unwrap();
    let mut reply = Vec::new();
    let _ = s.read_to_end(&mut reply);
    reply
}

/// DISTCC_CMDLIST replaces the whitelist: listed names run as the listed
/// path, others are refused.
#[test]
fn cmdlist_replaces_the_whitelist() {
    let farm = Farm::new("cmdlist");
    std::fs::write(farm.path("onlygcc"), "/usr/bin/gcc\n").unwrap();
    let opts = Opts {
        env: vec![(
            "DISTCC_CMDLIST".into(),
            farm.path("onlygcc").display().to_string(),
        )],
        ..Opts::default()
    };
    let d = farm.daemon(Kind::Ours, &opts);
    assert!(exchange(d.port, GOOD_V1, false).starts_with(b"DONE00000001STAT00000000"));
    let gpp = request(1, &[b"g++", b"-c", b"hello.c", b"-o", b"hello.o"], SRC);
    assert!(exchange(d.port, &gpp, false).is_empty());
    assert!(
        d.wait_log("g++ is not in DISTCC_CMDLIST"),
        "{}",
        d.log_text()
    );
}

/// DISTCC_SAVE_TEMPS=1 keeps each job's directory: the source as a file,
/// the object, and the compiler's stdout and stderr.
#[test]
fn save_temps_keeps_the_job_files() {
    let farm = Farm::new("savetemps");
    let opts = Opts {
        env: vec![("DISTCC_SAVE_TEMPS".into(), "1".into())],
        ..Opts::default()
    };
    let d = farm.daemon(Kind::Ours, &opts);
    assert!(exchange(d.port, GOOD_V1, false).starts_with(b"DONE00000001STAT00000000"));
    let kept = farm.daemon_temp_files();
    let names: Vec<String> = kept
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for want in ["input.i", "output.o", "stdout", "stderr"] {
        assert!(
            names.iter().any(|n| n == want),
            "{want} not kept: {names:?}"
        );
    }
    let input = kept.iter().find(|p| p.ends_with("input.i")).unwrap();
    let source = std::fs::read_to_string(input).unwrap();
    assert!(source.contains("int main(void) { return 0; }"), "{source}");
}

/// systemd socket activation: the real `systemd-socket-activate` binds the
/// port and passes it as fd 3 (LISTEN_FDS); distccd serves on it instead
/// of binding `--port`, and distcc 3.4's client compiles through it.
#[test]
fn socket_activation_serves_on_the_inherited_socket() {
    crate::require_tool!("systemd-socket-activate");
    crate::require_tool!(super::harness::DEBIAN_DISTCC);
    let farm = Farm::new("socket-activation");
    farm.write_src("hello.c", "int main(void) { return 0; }\n");
    let log = farm.path("daemon.log");
    std::fs::write(&log, "").unwrap();
    std::fs::set_permissions(&log, std::os::unix::fs::PermissionsExt::from_mode(0o666)).unwrap();
    let port = support::free_port();
    // --port names another (unused) port: the inherited socket must win.
    let unused = support::free_port();
    let _daemon = support::GroupChild::spawn(
        Command::new("systemd-socket-activate")
            .args(["-l", &format!("127.0.0.1:{port}")])
            .arg(support::bin("distccd"))
            .args([
                "--daemon",
                "--no-detach",
                "--allow",
                "127.0.0.1",
                "--lifetime",
                "300",
            ])
            .args([
                "--port",
                &unused.to_string(),
                "--log-level",
                "info",
                "--log-file",
            ])
            .arg(&log)
            .arg("--masquerade-dir")
            .arg(farm.path("masq"))
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("TMPDIR", farm.path("dtmp"))
            .stdin(Stdio::null())
            .stderr(Stdio::null()),
    )
    .unwrap();
    support::wait_for_port(port, Duration::from_secs(15));
    let hosts = format!("127.0.0.1:{port}");
    let out = super::harness::distcc(
        &farm,
        &hosts,
        &["gcc", "-c", "hello.c", "-o", "remote.o"],
        &[("DISTCC_FALLBACK", "0")],
    );
    assert!(
        out.status.success(),
        "{}\n{}",
        text(&out.stderr),
        super::harness::read(&log)
    );
    super::harness::local(&farm, &["gcc", "-c", "hello.c", "-o", "local.o"]);
    super::harness::assert_same(&farm.src().join("remote.o"), &farm.src().join("local.o"));
    let log_text = support::read_when(&log, "COMPILE_OK");
    assert!(log_text.contains("COMPILE_OK"), "{log_text}");
    assert!(
        TcpStream::connect(("127.0.0.1", unused)).is_err(),
        "distccd bound --port as well as taking the inherited socket"
    );
}

/// Over ssh, `distccd --inetd`'s stderr is the user's terminal and under
/// xinetd it is the client's socket: without --log-stderr nothing may be
/// written there, neither warnings (`--zeroconf` is ignored in inetd mode) nor job
/// summaries, whether or not a syslog daemon listens.
#[test]
fn inetd_mode_writes_nothing_on_stderr() {
    let farm = Farm::new("inetd-quiet");
    let (reply, out) = job_over_pipes(&farm, &["--inetd", "--zeroconf", "--log-level", "debug"]);
    assert!(
        reply.starts_with(b"DONE00000001STAT00000000"),
        "{:?}",
        text(&reply)
    );
    assert!(out.status.success(), "{}", out.status);
    assert!(out.stderr.is_empty(), "stderr: {:?}", text(&out.stderr));
}
