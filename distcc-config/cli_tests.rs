//! distcc-config's command line as Gentoo's reads it: the priority order
//! of actions, the unknown-option message, host lists and modifiers.

use super::*;

fn args(list: &[&str]) -> Result<Result<Args, String>, Failure> {
    parse(&list.iter().map(OsString::from).collect::<Vec<_>>())
}

#[test]
fn clap_definition_is_valid() {
    Args::command().debug_assert();
}

#[test]
fn gentoo_priority_order_wins_over_position() {
    let a = args(&["--set-env", "--get-hosts"]).unwrap().unwrap();
    assert_eq!(a.action(), Action::GetHosts);
    let a = args(&["--get-env", "--update-masquerade"])
        .unwrap()
        .unwrap();
    assert_eq!(a.action(), Action::UpdateMasquerade { crossdev: false });
    assert_eq!(args(&[]).unwrap().unwrap().action(), Action::Default);
}

#[test]
fn unknown_options_get_gentoo_message() {
    let e = args(&["--has-path"]).unwrap_err();
    assert_eq!(e.text, "!!! Error: --has-path is an invalid option.");
    assert_eq!(e.status, 1);
    let e = args(&["--randomize", "a"]).unwrap_err();
    assert!(e.text.contains("--randomize is an invalid option"));
}

#[test]
fn host_lists_may_start_with_keywords() {
    let a = args(&["--set-hosts", "--randomize a b", "c"])
        .unwrap()
        .unwrap();
    assert_eq!(a.values, ["--randomize a b", "c"]);
    let a = args(&["--set-hosts", "--localslots=2", "a"])
        .unwrap()
        .unwrap();
    assert_eq!(a.values, ["--localslots=2", "a"]);
}

#[test]
fn values_and_modifiers() {
    let a = args(&["--root", "/tmp/x", "--set-env", "A", "b"])
        .unwrap()
        .unwrap();
    assert_eq!(a.root, PathBuf::from("/tmp/x"));
    assert_eq!(a.values, ["A", "b"]);
    let a = args(&["--cross-links=/opt/t/bin", "--dry-run"])
        .unwrap()
        .unwrap();
    assert_eq!(a.action(), Action::CrossLinks("/opt/t/bin".into()));
    assert!(a.dry_run);
    let a = args(&[
        "--target-daemon",
        "/opt/t/bin",
        "--port",
        "3700",
        "--allow",
        "10.0.0.0/8",
        "--allow=192.168.0.0/16",
    ])
    .unwrap()
    .unwrap();
    assert_eq!(a.action(), Action::TargetDaemon("/opt/t/bin".into()));
    assert_eq!(a.port, Some(3700));
    assert_eq!(a.allow, ["10.0.0.0/8", "192.168.0.0/16"]);
    assert!(args(&["--help"]).unwrap().is_err(), "help text");
}
