//! Table tests of the host grammar: every reference parse and invalid
//! example of spec §2.3, plus the 3.4 behaviours observed with Debian's
//! `distcc --show-hosts` / `-j` (the live comparison is in
//! tests/config/hosts_oracle.rs). Every bug fix adds a row.

use super::*;

/// A compact description of a parse, close to the spec's reference
/// notation: `SLOTS KIND details [options]` per host, joined by "; ",
/// then global settings that differ from the defaults, then `!N` for N
/// warnings.
fn describe(list: &HostList) -> String {
    let mut parts: Vec<String> = list.hosts.iter().map(describe_host).collect();
    if list.randomize {
        parts.push("randomize".into());
    }
    if list.local_slots != DEFAULT_LOCALSLOTS {
        parts.push(format!("localslots={}", list.local_slots));
    }
    if list.local_slots_cpp != DEFAULT_LOCALSLOTS_CPP {
        parts.push(format!("localslots_cpp={}", list.local_slots_cpp));
    }
    if list.zeroconf {
        parts.push("zeroconf".into());
    }
    if !list.warnings.is_empty() {
        parts.push(format!("!{}", list.warnings.len()));
    }
    parts.join("; ")
}

fn describe_host(h: &HostSpec) -> String {
    let mut s = match &h.kind {
        HostKind::Local => format!("{} LOCAL", h.slots),
        HostKind::Tcp { host, port } => format!("{} TCP {host} {port}", h.slots),
        HostKind::Ssh {
            user,
            host,
            command,
        } => format!(
            "{} SSH {} {host} {}",
            h.slots,
            user.as_deref().unwrap_or("-"),
            command.as_deref().unwrap_or("-")
        ),
    };
    for (on, name) in [(h.lzo, "lzo"), (h.cpp, "cpp"), (h.down, "down")] {
        if on {
            s.push(',');
            s.push_str(name);
        }
    }
    match &h.auth {
        Some(Some(name)) => s.push_str(&format!(",auth={name}")),
        Some(None) => s.push_str(",auth"),
        None => {}
    }
    if h.tls {
        s.push_str(" TLS");
    }
    s
}

const CASES: &[(&str, &str)] = &[
    // Spec §2.3 reference parses.
    ("localhost", "2 LOCAL"),
    ("127.0.0.1", "4 TCP 127.0.0.1 3632"),
    ("@angry", "4 SSH - angry -"),
    ("ted@angry", "4 SSH ted angry -"),
    (
        "@angry:/home/mbp/bin/distccd",
        "4 SSH - angry /home/mbp/bin/distccd",
    ),
    ("angry/44", "44 TCP angry 3632"),
    ("angry:300/44", "44 TCP angry 300"),
    ("angry/44:300", "44 TCP angry 300"),
    ("angry,lzo", "4 TCP angry 3632,lzo"),
    ("@angry,lzo#asdasd", "4 SSH - angry -,lzo"),
    ("localhostbutnotreally", "4 TCP localhostbutnotreally 3632"),
    // LOCAL is only `localhost` and `localhost/N` (spec §2.2).
    ("localhost/3", "3 LOCAL"),
    ("localhost/3xyz", "3 LOCAL; !1"),
    ("localhost/2,lzo", "2 LOCAL; !1"),
    ("localhost/3,cpp", "3 LOCAL; !1"),
    ("localhost,lzo", "4 TCP localhost 3632,lzo"),
    ("localhost:3700", "4 TCP localhost 3700"),
    ("localhost=5", "4 TCP localhost=5 3632; !1"),
    // TCP: MULT before and after the port, the later one wins.
    ("h/3/4", "4 TCP h 3632"),
    ("h/3=4", "4 TCP h 3632"),
    ("h/3:30/4", "4 TCP h 30"),
    ("h:30/4/5", "4 TCP h 30; !1"),
    ("h/3x", "3 TCP h 3632; !1"),
    ("h/3x,lzo", "3 TCP h 3632; !1"),
    ("h:30/4x,cpp", "4 TCP h 30; !1"),
    ("h:3632/3:99", "3 TCP h 3632; !1"),
    ("h/+3", "3 TCP h 3632"),
    ("h:010", "4 TCP h 10"),
    ("h:+5", "4 TCP h 5"),
    ("h=3", "4 TCP h=3 3632; !1"),
    // Spec §2.3 quirk: `h:` is port 0; we parse it the same and warn.
    ("h:", "4 TCP h 0; !1"),
    ("h:0", "4 TCP h 0; !1"),
    ("h:,lzo", "4 TCP h 0,lzo; !1"),
    // IPv6.
    ("[::1]", "4 TCP ::1 3632"),
    ("[::1]:3700/3", "3 TCP ::1 3700"),
    ("[fe80::1]/3:99", "3 TCP fe80::1 99"),
    ("[::1]=4", "4 TCP ::1 3632"),
    ("[::1]x", "4 TCP ::1 3632; !1"),
    ("[fe80::1%eth0]", "4 TCP fe80::1%eth0 3632"),
    // Options: prefixes, like 3.4.
    ("h,lzo,cpp", "4 TCP h 3632,lzo,cpp"),
    ("h,cpp,lzo", "4 TCP h 3632,lzo,cpp"),
    ("h,lzo,lzo", "4 TCP h 3632,lzo"),
    ("h,down", "4 TCP h 3632,down"),
    ("h/3,down", "3 TCP h 3632,down"),
    ("h,down,lzo", "4 TCP h 3632,lzo,down"),
    ("h,auth", "4 TCP h 3632,auth"),
    ("h,auth=foo", "4 TCP h 3632,auth=foo"),
    ("h,auth=", "4 TCP h 3632,auth"),
    ("h,lzo,auth=a=b", "4 TCP h 3632,lzo,auth=a=b"),
    ("h,auth=x,lzo", "4 TCP h 3632,lzo,auth=x"),
    ("h,lzox", "4 TCP h 3632,lzo; !1"),
    ("h,downlzo", "4 TCP h 3632,down; !1"),
    ("h,authx,cpp", "4 TCP h 3632,auth; !1"),
    // TLS (ours): `tls+` then a TCP host; 3.4 reads the host `tls+h`.
    ("tls+h", "4 TCP h 3632 TLS"),
    ("tls+h:3700/8,lzo,cpp", "8 TCP h 3700,lzo,cpp TLS"),
    ("tls+[::1]:3700", "4 TCP ::1 3700 TLS"),
    ("xtls+h", "4 TCP xtls+h 3632"),
    ("u@tls+h", "4 SSH u tls+h -"),
    // SSH: one MULT, then `:COMMAND` up to `,`, then options.
    ("@h/3:cmd", "3 SSH - h cmd"),
    ("u@h/3:cmd,lzo", "3 SSH u h cmd,lzo"),
    ("u@h,cpp,lzo", "4 SSH u h -,lzo,cpp"),
    ("u@h:", "4 SSH u h -"),
    ("u@h:cmd:x", "4 SSH u h cmd:x"),
    ("@h:cmd/3", "4 SSH - h cmd/3"),
    ("@h/3/4", "3 SSH - h -; !1"),
    ("@h/3x:c", "3 SSH - h -; !1"),
    ("u:x@h", "4 SSH u:x h -"),
    ("a@b@c", "4 SSH a b@c -; !1"),
    ("@h=3", "4 SSH - h=3 -; !1"),
    // Extension: 3.4 cuts `@[::1]` at the first ':'.
    ("u@[::1]:cmd", "4 SSH u ::1 cmd"),
    // Lists, comments, whitespace.
    ("a b", "4 TCP a 3632; 4 TCP b 3632"),
    ("a#c b", "4 TCP a 3632"),
    ("a\nb#c\nd", "4 TCP a 3632; 4 TCP b 3632; 4 TCP d 3632"),
    ("  a\t\r\n\x0c b  ", "4 TCP a 3632; 4 TCP b 3632"),
    ("h,lzo x", "4 TCP h 3632,lzo; 4 TCP x 3632"),
    ("a: 5", "4 TCP a 0; 4 TCP 5 3632; !1"),
    ("a\\b", "4 TCP a\\b 3632"),
    // Global keywords (prefix match, spec §2.2).
    ("--randomize a b", "4 TCP a 3632; 4 TCP b 3632; randomize"),
    ("--randomizeX a", "4 TCP a 3632; randomize; !1"),
    ("--localslots=3 a", "4 TCP a 3632; localslots=3"),
    ("--localslots/2 a", "4 TCP a 3632; localslots=2"),
    ("--localslots=3x a", "4 TCP a 3632; localslots=3; !1"),
    ("--localslots_cpp=5 a", "4 TCP a 3632; localslots_cpp=5"),
    (
        "--localslots_cpp/5 --localslots=1 a",
        "4 TCP a 3632; localslots=1; localslots_cpp=5",
    ),
    ("--localslots a", "4 TCP a 3632; !1"),
    ("--localslotsX a", "4 TCP a 3632; !1"),
    // Keyword with 0: 3.4 takes `--localslots=0` as a host name, and
    // `--localslots_cpp=0` falls to the `--localslots` prefix and vanishes.
    (
        "--localslots=0 a",
        "4 TCP --localslots=0 3632; 4 TCP a 3632; !2",
    ),
    ("--localslots_cpp=0 a", "4 TCP a 3632; !1"),
    ("+zeroconf", "zeroconf"),
    ("+zeroconf a", "4 TCP a 3632; zeroconf"),
    ("a +zeroconfx", "4 TCP a 3632; 4 TCP +zeroconfx 3632"),
];

#[track_caller]
fn check(input: &str, expect: &str) {
    match parse(input) {
        Ok(list) => assert_eq!(describe(&list), expect, "parsing {input:?}"),
        Err(e) => panic!("parsing {input:?}: unexpected error {e}"),
    }
}

#[test]
fn reference_and_observed_parses() {
    for (input, expect) in CASES {
        check(input, expect);
    }
}

/// (input, position of the offending part, text the message must contain)
const INVALID: &[(&str, usize, &str)] = &[
    // Spec §2.3 invalid examples.
    ("", 1, "no hosts"),
    ("  \n\t", 5, "no hosts"),
    ("@", 2, "host name is required"),
    (":", 1, "host name is required"),
    ("mbp@", 5, "host name is required"),
    ("angry::", 7, "invalid port \":\""),
    (":4200", 1, "host name is required"),
    // Observed 3.4 errors.
    ("#only comment", 14, "no hosts"),
    ("--randomize", 12, "no hosts"),
    ("--localslots=3", 15, "no hosts"),
    ("--localslots_cpp=0", 19, "no hosts"),
    ("localhost/0", 10, "bad slot count \"/0\""),
    ("localhost/", 10, "bad slot count \"/\""),
    ("a/0", 2, "bad slot count"),
    ("h/3/0", 4, "bad slot count"),
    ("h/3:30/0", 7, "bad slot count"),
    ("h/0:30", 2, "bad slot count"),
    ("h/x", 2, "bad slot count"),
    ("--localslots/0 a", 13, "bad slot count"),
    ("h,cpp", 2, "requires compression"),
    ("h/3,cpp", 4, "requires compression"),
    ("@h:cmd,cpp", 7, "requires compression"),
    ("[::1],cpp", 6, "requires compression"),
    ("h,auth=x,cpp", 9, "requires compression"),
    ("h,bogus", 2, "unknown option \",bogus\""),
    ("tls+", 5, "host name is required"),
    ("tls+/3", 5, "host name is required"),
    ("@h,bogus", 3, "unknown option \",bogus\""),
    ("h,lzo,", 6, "unknown option \",\""),
    ("h,", 2, "unknown option \",\""),
    ("h:30=4", 3, "invalid port \"30=4\""),
    ("h:30x", 3, "invalid port \"30x\""),
    ("h:0x10", 3, "invalid port"),
    ("h:30:40", 3, "invalid port"),
    ("[::1", 1, "closing ']'"),
    ("[]", 1, "host name is required"),
    ("[]:30", 1, "host name is required"),
    ("u@", 3, "host name is required"),
    ("u@:cmd", 3, "host name is required"),
    ("@/3", 2, "host name is required"),
    // Deliberately stricter than 3.4 (module docs).
    ("h/-3", 2, "between 1 and"),
    ("localhost/-1", 10, "between 1 and"),
    ("h/99999999999", 2, "between 1 and"),
    ("--localslots=-1 a", 13, "between 1 and"),
    ("a:70000", 3, "between 1 and 65535"),
    ("a:-1", 3, "between 1 and 65535"),
    // Positions count characters across lines.
    ("good\nh,bogus", 7, "unknown option"),
    ("é h,bogus", 4, "unknown option"),
];

#[track_caller]
fn check_invalid(input: &str, position: usize, needle: &str) {
    let err = match parse(input) {
        Ok(list) => panic!(
            "parsing {input:?}: expected an error, got {}",
            describe(&list)
        ),
        Err(e) => e,
    };
    assert_eq!(err.position, position, "position for {input:?}: {err}");
    assert!(
        err.message.contains(needle),
        "message for {input:?} lacks {needle:?}: {err}"
    );
    assert_eq!(err.exit_code(), ExitCode::BadHostspec);
}

#[test]
fn invalid_lists_name_token_and_position() {
    for (input, position, needle) in INVALID {
        check_invalid(input, *position, needle);
    }
}

#[test]
fn error_display_names_token_line_and_column() {
    let err = parse("a b\n  c,lzo,nope").unwrap_err();
    assert_eq!(err.token, "c,lzo,nope");
    assert_eq!((err.line, err.column), (2, 8));
    assert_eq!(
        err.to_string(),
        "bad host specification \"c,lzo,nope\" at line 2, column 8: \
         unknown option \",nope\" (the options are lzo, cpp, down and auth)"
    );
    assert_eq!(parse("").unwrap_err().kind, HostErrorKind::NoHosts);
    assert_eq!(parse("h,x").unwrap_err().kind, HostErrorKind::Malformed);
}

#[test]
fn warnings_say_what_happens() {
    let cases: &[(&str, &str)] = &[
        ("h:", "port 0"),
        ("h/3x", "\"x\" is ignored"),
        ("localhost=5", "write /N"),
        ("--localslots=0 a", "taken as a host name"),
        ("--localslots_cpp=0 a", "ignored"),
    ];
    for (input, needle) in cases {
        let list = parse(input).unwrap();
        assert!(
            list.warnings.iter().any(|w| w.message.contains(needle)),
            "{input:?}: {:?}",
            list.warnings
        );
    }
    let w = &parse("ok\n h/3x").unwrap().warnings[0];
    assert_eq!((w.token.as_str(), w.line, w.column), ("h/3x", 2, 5));
}

#[test]
fn text_position_and_protover() {
    let list = parse("  a,lzo b,lzo,cpp c").unwrap();
    let got: Vec<_> = list
        .hosts
        .iter()
        .map(|h| (h.text.as_str(), h.position, h.protover))
        .collect();
    assert_eq!(got, [("a,lzo", 3, 2), ("b,lzo,cpp", 9, 3), ("c", 19, 1)]);
}

#[test]
fn lock_ids_match_3_4_file_names() {
    // Observed lock names: cpu_tcp_::1_77_0, cpu_ssh_b@c_0, cpu_localhost_0.
    let list = parse("[::1]:77 a@b@c localhost/3 h:").unwrap();
    let ids: Vec<_> = list.hosts.iter().map(HostSpec::lock_id).collect();
    assert_eq!(ids, ["tcp_::1_77", "ssh_b@c", "localhost", "tcp_h_0"]);
}

#[test]
fn total_slots_is_what_distcc_j_prints() {
    assert_eq!(parse("localhost").unwrap().total_slots(), 2);
    assert_eq!(parse("a/3 b,down localhost/5").unwrap().total_slots(), 12);
    assert_eq!(parse("--localslots=9 a").unwrap().total_slots(), 4);
    assert_eq!(parse("+zeroconf").unwrap().total_slots(), 0);
}

#[test]
fn shuffle_is_a_deterministic_permutation() {
    let text = "a b c d e f g h";
    let mut one = parse(text).unwrap();
    let mut two = parse(text).unwrap();
    one.shuffle(42);
    two.shuffle(42);
    assert_eq!(one, two);
    let mut names: Vec<_> = one.hosts.iter().map(|h| h.text.clone()).collect();
    assert_ne!(names.join(" "), text, "seed 42 should move something");
    names.sort();
    assert_eq!(names.join(" "), text);
}

#[test]
fn sources_follow_3_4_lookup_order() {
    let sys = Path::new("/etc");
    let vars = Vars::from_pairs([("DISTCC_HOSTS", ""), ("HOME", "/h")]);
    assert_eq!(sources(&vars, sys), [Source::Env(String::new())]);
    let vars = Vars::from_pairs([("HOME", "/h")]);
    assert_eq!(
        sources(&vars, sys),
        [
            Source::File("/h/.distcc/hosts".into()),
            Source::File("/etc/distcc/hosts".into())
        ]
    );
    let vars = Vars::from_pairs([("HOME", "/h"), ("DISTCC_DIR", "/d")]);
    assert_eq!(sources(&vars, sys)[0], Source::File("/d/hosts".into()));
}
