//! `distcc::hosts::parse` against the oracle: Debian's distcc 3.4
//! `--show-hosts` (each host's token, one per line) and `-j` (the sum of
//! the slots). 3.4 exits 0 even when the list is refused, so a refusal is
//! recognised by its "Failed to get host list" message.

use std::path::Path;
use std::process::Command;

use distcc::hosts;

use crate::support::TempDir;

const REFERENCE: &str = "/usr/bin/distcc";

/// Lists whose meaning must be identical in both.
const SAME: &[&str] = &[
    "localhost",
    "localhost/3",
    "localhost=5",
    "localhost/3xyz",
    "localhost/2,lzo",
    "localhost,lzo",
    "localhost:3700",
    "localhostbutnotreally",
    "127.0.0.1",
    "@angry",
    "ted@angry",
    "@angry:/home/mbp/bin/distccd",
    "angry/44",
    "angry:300/44",
    "angry/44:300",
    "angry,lzo",
    "@angry,lzo#asdasd",
    "h:",
    "h:0",
    "h,lzo,cpp",
    "h,cpp,lzo",
    "h,down",
    "h/3,down",
    "h,auth",
    "h,auth=foo",
    "h,auth=",
    "h=3",
    "h/3/4",
    "h/3=4",
    "h:30/4/5",
    "h/3:30/4",
    "h/3x",
    "h/3x,cpp",
    "h:30/4x,cpp",
    "h:3632/3:99",
    "h/+3",
    "h:+5",
    "h:010",
    "h,lzox",
    "h,downlzo",
    "h,authx,cpp",
    "h,lzo x",
    "[::1]",
    "[::1]:3700/3",
    "[fe80::1]/3:99",
    "[::1]=4",
    "[::1]x",
    "@h/3:cmd",
    "u@h/3:cmd,lzo",
    "u@h,cpp,lzo",
    "u@h:",
    "u@h:cmd:x",
    "@h:cmd/3",
    "@h/3/4",
    "@h/3x:c",
    "u:x@h",
    "a@b@c",
    "@h=3",
    "a b c",
    "a#c b",
    "a\nb#c\nd",
    "  a\t\r\n\x0c b  ",
    "a: 5",
    "--randomize a b c",
    "--randomizeX a",
    "--localslots=3 a",
    "--localslots/2 a",
    "--localslots=3x a",
    "--localslots_cpp=5 a",
    "--localslots a",
    "--localslots=0 a",
    "--localslots_cpp=0 a",
    "a +zeroconfx",
    // Refused by both.
    "",
    "  \n\t",
    "@",
    ":",
    "mbp@",
    "angry::",
    ":4200",
    "#only comment",
    "--randomize",
    "--localslots=3",
    "--localslots_cpp=0",
    "localhost/0",
    "localhost/",
    "a/0",
    "h/3/0",
    "h/0:30",
    "h/x",
    "--localslots/0 a",
    "h,cpp",
    "h/3,cpp",
    "@h:cmd,cpp",
    "[::1],cpp",
    "h,auth=x,cpp",
    "h,bogus",
    "@h,bogus",
    "h,lzo,",
    "h,",
    "h:30=4",
    "h:30x",
    "h:0x10",
    "h:30:40",
    "[::1",
    "[]",
    "[]:30",
    "u@",
    "u@:cmd",
    "@/3",
    "good h,bogus",
];

/// Lists 3.4 accepts and we refuse on purpose (src/hosts/mod.rs docs).
const STRICTER: &[&str] = &["h/-3", "localhost/-1", "h/99999999999", "a:70000", "a:-1"];

/// What a program made of a list: `None` if refused, else the shown
/// tokens (sorted when randomized) and the `-j` total.
type Outcome = Option<(Vec<String>, i64)>;

fn reference(list: &str, home: &Path) -> Outcome {
    let run = |arg: &str| {
        let out = Command::new(REFERENCE)
            .arg(arg)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", home)
            .env("DISTCC_DIR", home.join("distcc"))
            .env("TMPDIR", home)
            .env("DISTCC_HOSTS", list)
            .output()
            .expect("run distcc 3.4");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let refused = stderr.contains("Failed to get host list");
        (String::from_utf8_lossy(&out.stdout).into_owned(), refused)
    };
    let (shown, refused) = run("--show-hosts");
    let (total, refused_j) = run("-j");
    assert_eq!(refused, refused_j, "{list:?}: --show-hosts and -j disagree");
    if refused {
        return None;
    }
    let mut shown: Vec<String> = shown.lines().map(str::to_owned).collect();
    if list.contains("--randomize") {
        shown.sort();
    }
    Some((shown, total.trim().parse().expect("-j prints a number")))
}

fn ours(list: &str) -> Outcome {
    let parsed = hosts::parse(list).ok()?;
    let mut shown: Vec<String> = parsed.hosts.iter().map(|h| h.text.clone()).collect();
    if parsed.randomize {
        shown.sort();
    }
    Some((shown, i64::from(parsed.total_slots())))
}

#[test]
fn parse_agrees_with_distcc_3_4_show_hosts_and_j() {
    crate::require_tool!(REFERENCE);
    let tmp = TempDir::new("hosts-oracle");
    std::fs::create_dir_all(tmp.path().join("distcc/state")).unwrap();
    // The oracle itself works (a broken environment would refuse all).
    let sample = Some((vec!["a/3".to_owned(), "b".to_owned()], 7));
    assert_eq!(reference("a/3 b", tmp.path()), sample);
    let mut mismatches = Vec::new();
    for list in SAME {
        let (theirs, mine) = (reference(list, tmp.path()), ours(list));
        if theirs != mine {
            mismatches.push(format!("{list:?}: 3.4 {theirs:?}, ours {mine:?}"));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn deliberate_differences_are_still_differences() {
    // If 3.4 ever refused these too, the exception list would be stale.
    crate::require_tool!(REFERENCE);
    let tmp = TempDir::new("hosts-oracle-strict");
    std::fs::create_dir_all(tmp.path().join("distcc/state")).unwrap();
    for list in STRICTER {
        assert!(
            reference(list, tmp.path()).is_some(),
            "3.4 accepts {list:?}"
        );
        assert!(ours(list).is_none(), "we refuse {list:?}");
    }
}
