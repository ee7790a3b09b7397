//! `/metrics` on the `--stats` port: Prometheus' own checker accepts it
//! (`promtool check metrics`, Debian's `prometheus` package), and it
//! counts what the daemon did: a compile, and one refusal of each reason
//! the daemon has today (malformed request, arguments, whitelist).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::daemon::harness::{Farm, GOOD_V1, Kind, Opts, UNLISTED_CC, exchange};
use crate::require_tool;
use crate::support;

/// A protocol 1 request: `argv`, then `source` as DOTI.
fn request(argv: &[&str], source: &[u8]) -> Vec<u8> {
    let mut out = format!("DIST00000001ARGC{:08x}", argv.len()).into_bytes();
    for a in argv {
        out.extend(format!("ARGV{:08x}{a}", a.len()).bytes());
    }
    out.extend(format!("DOTI{:08x}", source.len()).bytes());
    out.extend_from_slice(source);
    out
}

fn http_get(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .unwrap();
    let mut page = String::new();
    s.read_to_string(&mut page).unwrap();
    page
}

/// The value of the sample `name{labels}` (labels written as on the page).
fn value(body: &str, sample: &str) -> Option<f64> {
    body.lines()
        .find_map(|l| l.strip_prefix(sample)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
}

#[test]
fn metrics_pass_promtool_and_count_refusals_by_reason() {
    require_tool!("promtool");
    let farm = Farm::new("metrics");
    let stats_port = support::free_port();
    let opts = Opts {
        args: vec![
            "--stats".into(),
            "--stats-port".into(),
            stats_port.to_string(),
        ],
        ..Opts::default()
    };
    let d = farm.daemon(Kind::Ours, &opts);
    support::wait_for_port(stats_port, Duration::from_secs(10));
    let src = b"int main(void) { return 0; }\n";
    assert!(exchange(d.port, GOOD_V1, false).starts_with(b"DONE"));
    // Malformed, refused arguments (a link), a compiler off the whitelist.
    assert!(exchange(d.port, b"junk", true).is_empty());
    assert!(exchange(d.port, &request(&["gcc", "x.o", "-o", "x"], src), true).is_empty());
    let unlisted = request(&[UNLISTED_CC, "-c", "x.c", "-o", "x.o"], src);
    assert!(exchange(d.port, &unlisted, true).is_empty());
    d.wait_count("REJ_BAD_REQ", 3);

    let page = http_get(stats_port, "/metrics");
    let (head, body) = page.split_once("\n\n").expect("header and body");
    assert!(head.starts_with("HTTP/1.0 200 OK\n"), "{head}");
    assert!(
        head.contains("Content-Type: text/plain; version=0.0.4"),
        "{head}"
    );
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = promtool.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool rejects /metrics: {}{}\n{body}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for (sample, want) in [
        ("distccd_connections_accepted_total", 4.0),
        ("distccd_jobs_total{category=\"compile_ok\"}", 1.0),
        ("distccd_jobs_total{category=\"rej_bad_req\"}", 3.0),
        ("distccd_refusals_total{reason=\"bad_request\"}", 1.0),
        ("distccd_refusals_total{reason=\"argument\"}", 1.0),
        ("distccd_refusals_total{reason=\"whitelist\"}", 1.0),
        ("distccd_refusals_total{reason=\"sandbox\"}", 0.0),
        (
            "distccd_compiler_jobs_total{compiler=\"gcc\",category=\"compile_ok\"}",
            1.0,
        ),
        (
            "distccd_client_jobs_total{client=\"127.0.0.1\",category=\"rej_bad_req\"}",
            3.0,
        ),
        ("distccd_recent_compiles{window=\"1m\"}", 1.0),
    ] {
        assert_eq!(value(body, sample), Some(want), "{sample} in\n{body}");
    }
    // The same figures as 3.4's page.
    let text = http_get(stats_port, "/");
    assert!(text.contains("\ndcc_compile_ok 1\n"), "{text}");
    assert!(text.contains("\ndcc_rej_bad_req 3\n"), "{text}");
    assert!(
        value(body, "distccd_system_load_average{window=\"1m\"}").is_some(),
        "{body}"
    );
}

/// `--allow` turning a connection away is counted as an `access` refusal.
#[test]
fn connections_refused_by_allow_are_counted() {
    let farm = Farm::new("metrics-allow");
    let stats_port = support::free_port();
    let opts = Opts {
        listen: None,
        args: vec![
            "--stats".into(),
            "--stats-port".into(),
            stats_port.to_string(),
        ],
        ..Opts::default()
    };
    let d = farm.daemon(Kind::Ours, &opts);
    support::wait_for_port(stats_port, Duration::from_secs(10));
    // From 127.0.0.3, which `--allow 127.0.0.1` does not cover.
    for _ in 0..2 {
        let sock = connect_from_127_0_0_3(d.port);
        let mut s = sock;
        let _ = s.write_all(GOOD_V1);
        let mut reply = Vec::new();
        let _ = s.read_to_end(&mut reply);
        assert!(reply.is_empty());
    }
    assert!(d.wait_log("denied by access list"));
    let mut body = String::new();
    let counted = support::eventually(|| {
        body = http_get(stats_port, "/metrics");
        value(&body, "distccd_refusals_total{reason=\"access\"}") == Some(2.0)
    });
    assert!(counted, "{body}");
}

/// A TCP connection to 127.0.0.1:`port` from the source address 127.0.0.3.
fn connect_from_127_0_0_3(port: u16) -> TcpStream {
    use nix::sys::socket::{AddressFamily, SockFlag, SockType, SockaddrIn, bind, connect, socket};
    let fd = socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::empty(),
        None,
    )
    .unwrap();
    bind(
        std::os::fd::AsRawFd::as_raw_fd(&fd),
        &SockaddrIn::new(127, 0, 0, 3, 0),
    )
    .unwrap();
    connect(
        std::os::fd::AsRawFd::as_raw_fd(&fd),
        &SockaddrIn::new(127, 0, 0, 1, port),
    )
    .unwrap();
    TcpStream::from(fd)
}
