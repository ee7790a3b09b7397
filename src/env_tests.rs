//! The variables read as 3.4 reads them: C's `atoi`, booleans, defaults
//! (`TMPDIR`, `DISTCC_DIR`), the daemon's, and values out of range.

use super::*;

fn vars(pairs: &[(&str, &str)]) -> Vars {
    Vars::from_pairs(pairs.iter().copied())
}

#[test]
fn atoi_behaves_like_c() {
    for (text, want) in [
        ("", 0),
        ("12", 12),
        ("  7x", 7),
        ("-3", -3),
        ("+4", 4),
        ("abc", 0),
        ("0", 0),
    ] {
        assert_eq!(atoi(text), want, "{text:?}");
    }
}

#[test]
fn bool_accepts_only_0_and_1() {
    let v = vars(&[("A", "1"), ("B", "0"), ("C", "yes")]);
    assert!(v.bool_or("A", false));
    assert!(!v.bool_or("B", true));
    assert!(v.bool_or("C", true));
    assert!(!v.bool_or("C", false));
    assert!(v.bool_or("UNSET", true));
}

#[test]
fn tmpdir_defaults_to_tmp_when_unset_or_empty() {
    assert_eq!(vars(&[]).tmpdir(), PathBuf::from("/tmp"));
    assert_eq!(vars(&[("TMPDIR", "")]).tmpdir(), PathBuf::from("/tmp"));
    assert_eq!(vars(&[("TMPDIR", "/x")]).tmpdir(), PathBuf::from("/x"));
}

#[test]
fn distcc_dir_prefers_the_variable_over_home() {
    let v = vars(&[("HOME", "/home/u"), ("DISTCC_DIR", "/d")]);
    assert_eq!(v.distcc_dir(), Some(PathBuf::from("/d")));
    assert!(v.distcc_dir_is_explicit());
    let v = vars(&[("HOME", "/home/u")]);
    assert_eq!(v.distcc_dir(), Some(PathBuf::from("/home/u/.distcc")));
    assert_eq!(vars(&[]).distcc_dir(), None);
}

#[test]
fn daemon_variables() {
    let v = vars(&[
        ("DISTCC_CMDLIST", "/etc/cmds"),
        ("DISTCC_CMDLIST_NUMWORDS", "2"),
        ("DISTCC_TCP_DEFER_ACCEPT", "0"),
        ("_DISTCC_SAFEGUARD", "x"),
        ("DISTCCD_PATH", "/opt/bin"),
    ]);
    assert_eq!(v.cmdlist(), Some(PathBuf::from("/etc/cmds")));
    assert_eq!(v.cmdlist_numwords(), 2);
    assert!(!v.tcp_defer_accept());
    assert_eq!(v.safeguard_level(), 1);
    assert_eq!(v.distccd_path(), Some(OsStr::new("/opt/bin")));
    let e = vars(&[("DISTCC_CMDLIST", ""), ("DISTCC_CMDLIST_NUMWORDS", "0")]);
    assert_eq!(e.cmdlist(), None);
    assert_eq!(e.cmdlist_numwords(), 1);
    assert!(e.tcp_defer_accept());
    assert_eq!(e.safeguard_level(), 0);
    assert_eq!(vars(&[("_DISTCC_SAFEGUARD", "2")]).safeguard_level(), 2);
}

#[test]
fn listen_fds_only_counts_for_this_process() {
    let v = vars(&[("LISTEN_PID", "42"), ("LISTEN_FDS", "2")]);
    assert_eq!(v.listen_fds(42), 2);
    assert_eq!(v.listen_fds(43), 0);
    assert_eq!(vars(&[("LISTEN_FDS", "1")]).listen_fds(42), 0);
    assert_eq!(
        vars(&[("LISTEN_PID", "42"), ("LISTEN_FDS", "x")]).listen_fds(42),
        0
    );
}

#[test]
fn io_timeout_must_be_positive() {
    assert_eq!(vars(&[]).io_timeout_secs(), Ok(300));
    assert_eq!(vars(&[("DISTCC_IO_TIMEOUT", "5")]).io_timeout_secs(), Ok(5));
    assert!(
        vars(&[("DISTCC_IO_TIMEOUT", "0")])
            .io_timeout_secs()
            .is_err()
    );
    assert!(
        vars(&[("DISTCC_IO_TIMEOUT", "x")])
            .io_timeout_secs()
            .is_err()
    );
}

#[test]
fn discrepancy_limit_and_pump_directory() {
    assert_eq!(vars(&[]).max_discrepancy(), Ok(1));
    let three = vars(&[("DISTCC_MAX_DISCREPANCY", "3")]);
    assert_eq!(three.max_discrepancy(), Ok(3));
    for bad in ["0", "-2", "many"] {
        let v = vars(&[("DISTCC_MAX_DISCREPANCY", bad)]);
        assert!(v.max_discrepancy().unwrap_err().contains(bad), "{bad}");
    }
    assert_eq!(vars(&[]).pump_dir(), None);
    let ours = vars(&[("DISTCC_PUMP_DIR", "/tmp/distcc-pump.x")]);
    assert_eq!(ours.pump_dir(), Some(PathBuf::from("/tmp/distcc-pump.x")));
    // 3.4's include server: its socket's directory wins.
    let theirs = vars(&[
        ("DISTCC_PUMP_DIR", "/tmp/distcc-pump.x"),
        ("INCLUDE_SERVER_PORT", "/tmp/distcc-pump.y/socket"),
    ]);
    assert_eq!(theirs.pump_dir(), Some(PathBuf::from("/tmp/distcc-pump.y")));
}
