//! Table tests of the --allow checks.

use super::super::report::Level;
use super::*;

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

#[track_caller]
fn worst(s: &str) -> (Level, String) {
    let local: Vec<IpAddr> = vec!["127.0.0.1".parse().unwrap(), "192.168.0.2".parse().unwrap()];
    let f = check_words("conf", &words(s), &local);
    let w = f.iter().max_by_key(|f| f.level).unwrap();
    (
        w.level,
        f.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

#[test]
fn allow_values() {
    let cases: &[(&str, Level, &str)] = &[
        (
            "--allow 192.168.0.0/24",
            Level::Ok,
            "ok: conf: --allow 192.168.0.0/24",
        ),
        ("--allow=10.0.0.0/8 -N 15", Level::Ok, "--allow 10.0.0.0/8"),
        ("-a 127.0.0.1", Level::Ok, "127.0.0.1/32"),
        (
            "--allow-private --port 3632",
            Level::Ok,
            "private networks only",
        ),
        ("--allow fd00::/8", Level::Ok, "fd00::/8"),
        (
            "--allow 192.168.1.5/24",
            Level::Problem,
            "did you mean 192.168.1.0/24?",
        ),
        ("--allow 300.1.1.1", Level::Problem, "not an IP address"),
        ("--allow 10.0.0.0/33", Level::Problem, "above 32"),
        ("--allow 0.0.0.0/0", Level::Problem, "whole Internet"),
        ("--allow ::/0", Level::Problem, "whole Internet"),
        ("--allow 8.0.0.0/6", Level::Problem, "huge range"),
        ("--allow 8.8.8.0/24", Level::Warning, "public addresses"),
        ("--allow buildbox.lan", Level::Note, "host name"),
        ("--port 3632 -N 15", Level::Problem, "no --allow"),
        ("--allow", Level::Problem, "without a value"),
        (
            "--allow 10.0.0.0/8 10.1.0.0/16",
            Level::Problem,
            "\"10.1.0.0/16\" is not an option",
        ),
        (
            "--allow-private --listen 192.168.0.2",
            Level::Ok,
            "is an address of this host",
        ),
        ("--allow-private --listen 0.0.0.0", Level::Ok, "0.0.0.0"),
        (
            "--allow-private --listen 10.9.9.9",
            Level::Problem,
            "not an address of this host",
        ),
        (
            "--allow 10.0.0.0/8 --enable-tcp-insecure",
            Level::Problem,
            "--enable-tcp-insecure turns the compiler whitelist off",
        ),
        (
            "--allow-private --make-me-a-botnet",
            Level::Problem,
            "CVE-2004-2687",
        ),
        (
            "--allow-private --listen=myhost",
            Level::Warning,
            "cannot check",
        ),
    ];
    for (input, level, needle) in cases {
        let (got, text) = worst(input);
        assert_eq!(got, *level, "{input}: {text}");
        assert!(text.contains(needle), "{input}: {text:?} lacks {needle:?}");
    }
}

#[test]
fn setting_specific_word_lists() {
    assert_eq!(
        allowednets_words("127.0.0.1 10.0.0.0/8"),
        words("--allow 127.0.0.1 --allow 10.0.0.0/8")
    );
    assert_eq!(
        allowed_servers_words("127.0.0.1"),
        words("--allow 127.0.0.1")
    );
    assert_eq!(
        allowed_servers_words("10.0.0.0/8 --allow 192.168.0.0/16"),
        words("--allow 10.0.0.0/8 --allow 192.168.0.0/16")
    );
}

#[test]
fn parse_allow_results() {
    assert_eq!(
        parse_allow("10.1.0.0/16"),
        Ok(AllowValue::Net("10.1.0.0/16".parse().unwrap()))
    );
    assert!(parse_allow("").is_err());
    assert!(parse_allow("10.0.0.1/x").is_err());
}
