//! Golden tests of Gentoo's options: outputs, messages and exit statuses
//! of Gentoo's distcc-config (packaging notes §1.2), and the fixes.

use std::os::unix::fs::PermissionsExt;

use super::{Root, script};

const ENV: &str = "# Managed by distcc-config\nDISTCC_VERBOSE=\"0\"\nDISTCC_FALLBACK=\"1\"\n";
const HINT: &str = "If you want to use these new settings in an existing shell,\n\
                    you need to \"source /etc/profile\" to get the changes.\n";

fn gentoo() -> Root {
    let r = Root::new("gentoo");
    r.write("etc/env.d/02distcc", ENV);
    r
}

#[test]
fn no_action_prints_gentoo_usage_without_prompting() {
    let r = gentoo();
    let out = r.run(&[]);
    assert_eq!(out.status, 0);
    let cmd = super::super::support::bin("distcc-config");
    let cmd = cmd.display();
    assert!(
        out.stdout.starts_with(&format!(
            "Usage: {cmd} --set-hosts DISTCC_HOSTS | --get-hosts\n       \
             {cmd} --set-verbose {{ 0 | 1 }}  | --get-verbose\n       \
             {cmd} --set-log FILE           | --get-log\n       \
             {cmd} --set-env VARIABLE VALUE | --get-env [VARIABLE]\n       \
             {cmd} --update-masquerade\n       \
             {cmd} --update-masquerade-with-crossdev\n"
        )),
        "{}",
        out.stdout
    );
}

#[test]
fn invalid_option_message_and_status() {
    let r = gentoo();
    let out = r.run(&["--has-path"]);
    assert_eq!(
        (out.status, out.stderr.as_str()),
        (1, "!!! Error: --has-path is an invalid option.\n")
    );
    let help = r.run(&["--help"]);
    assert_eq!(help.status, 0);
    assert!(
        help.stdout
            .contains("Differences from Gentoo's distcc-config"),
        "{}",
        help.stdout
    );
    assert!(help.stdout.contains("--update-masquerade-with-crossdev"));
}

#[test]
fn set_and_get_hosts() {
    let r = gentoo();
    let out = r.run(&["--set-hosts", "--randomize localhost/2", "build1/8,lzo"]);
    assert_eq!(
        (out.status, out.stdout.as_str(), out.stderr.as_str()),
        (0, "", "")
    );
    assert_eq!(
        r.read("etc/distcc/hosts"),
        "--randomize localhost/2 build1/8,lzo\n"
    );
    let mode = std::fs::metadata(r.path("etc/distcc"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755, "Gentoo creates the directory 0755");
    // --get-hosts prints the contents (Gentoo printed a path for ~/.distcc).
    let out = r.run(&["--get-hosts"]);
    assert_eq!(out.stdout, "--randomize localhost/2 build1/8,lzo\n");
    // The client's order: $DISTCC_HOSTS, then $DISTCC_DIR/hosts.
    let out: super::Run = r
        .cmd()
        .arg("--get-hosts")
        .env("DISTCC_HOSTS", "a b")
        .output()
        .unwrap()
        .into();
    assert_eq!(out.stdout, "a b\n");
    r.write("home/.distcc/hosts", "userhost/3\n");
    assert_eq!(r.run(&["--get-hosts"]).stdout, "userhost/3\n");
    let out: super::Run = r
        .cmd()
        .arg("--get-hosts")
        .env("DISTCC_DIR", r.path("dd"))
        .output()
        .unwrap()
        .into();
    assert_eq!(
        out.stdout, "--randomize localhost/2 build1/8,lzo\n",
        "DISTCC_DIR replaces ~/.distcc"
    );
}

#[test]
fn get_hosts_without_any_file() {
    let r = Root::new("gentoo");
    let out = r.run(&["--get-hosts"]);
    assert_eq!(
        (out.status, out.stdout.as_str()),
        (
            0,
            "No configuration file found. Setup your hosts with --set-hosts.\n"
        )
    );
}

#[test]
fn set_hosts_as_a_user_writes_distcc_dir() {
    if !super::is_root() {
        eprintln!("skipping: needs root to switch to nobody");
        return;
    }
    let r = gentoo();
    let home = r.path("home");
    std::process::Command::new("chown")
        .arg("nobody")
        .arg(&home)
        .status()
        .unwrap();
    let out: super::Run = std::process::Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(crate::support::bin("distcc-config"))
        .args(["--set-hosts", "h1/2"])
        .env_clear()
        .env("HOME", &home)
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap()
        .into();
    assert_eq!(out.status, 0, "{out:?}");
    assert_eq!(r.read("home/.distcc/hosts"), "h1/2\n");
    assert!(!r.path("etc/distcc/hosts").exists());
    // Changing the live system's env file needs root (Gentoo's message).
    let out: super::Run = std::process::Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(crate::support::bin("distcc-config"))
        .args(["--distro", "gentoo", "--set-verbose", "1"])
        .env_clear()
        .env("HOME", &home)
        .output()
        .unwrap()
        .into();
    let argv0 = crate::support::bin("distcc-config");
    assert_eq!(
        (out.status, out.stderr),
        (
            1,
            format!("!!! {} --distro must be run as root\n", argv0.display())
        )
    );
}

#[test]
fn verbose_log_and_env_round_trip() {
    let r = gentoo();
    assert_eq!(r.run(&["--get-verbose"]).stdout, "DISTCC_VERBOSE=0\n");
    assert_eq!(r.run(&["--get-log"]).stdout, "DISTCC_LOG not set.\n");
    let out = r.run(&["--set-verbose", "1"]);
    assert_eq!((out.status, out.stdout.as_str()), (0, HINT));
    assert_eq!(r.run(&["--get-verbose"]).stdout, "DISTCC_VERBOSE=1\n");
    // Gentoo's --set-log did nothing on a stock file; ours adds the line.
    assert_eq!(r.run(&["--set-log", "/var/log/distcc.log"]).status, 0);
    assert_eq!(
        r.run(&["--get-log"]).stdout,
        "DISTCC_LOG=/var/log/distcc.log\n"
    );
    assert_eq!(r.run(&["--set-env", "DISTCC_SSH", "ssh -p 2222"]).status, 0);
    assert_eq!(
        r.run(&["--get-env", "DISTCC_SSH"]).stdout,
        "DISTCC_SSH=ssh -p 2222\n"
    );
    assert_eq!(r.run(&["--get-env", "NOPE"]).stdout, "NOPE not set.\n");
    assert_eq!(
        r.read("etc/env.d/02distcc"),
        "# Managed by distcc-config\nDISTCC_VERBOSE=\"1\"\nDISTCC_FALLBACK=\"1\"\n\
         DISTCC_LOG=\"/var/log/distcc.log\"\nDISTCC_SSH=\"ssh -p 2222\"\n"
    );
    assert_eq!(r.run(&["--get-env"]).stdout, r.read("etc/env.d/02distcc"));
}

#[test]
fn gentoo_error_messages_and_statuses() {
    let r = gentoo();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--get-env", "A", "B"],
            "!!! Error: Specify only one variable.\n",
        ),
        (&["--set-env", "A"], "!!! Error: Awaiting two parameters.\n"),
        (
            &["--set-env", "A", "b", "c"],
            "!!! Error: Awaiting two parameters.\n",
        ),
        (
            &["--set-verbose"],
            "!!! Error: --set-verbose needs one value, 0 or 1.\n",
        ),
        (
            &["--set-verbose", "yes"],
            "!!! Error: --set-verbose takes 0 or 1, not \"yes\".\n",
        ),
        (
            &["--set-log"],
            "!!! Error: --set-log needs one value, the log file.\n",
        ),
        (
            &["--set-env", "1X", "b"],
            "!!! Error: \"1X\" is not a valid variable name\n",
        ),
        (
            &["--set-env", "A", "$(reboot)"],
            "!!! Error: the value may not contain '$'\n",
        ),
        (
            &["--set-hosts"],
            "!!! Error: --set-hosts needs the host list, e.g. --set-hosts \"host1 host2/8,lzo\"\n",
        ),
    ];
    for (args, stderr) in cases {
        let out = r.run(args);
        assert_eq!((out.status, out.stderr.as_str()), (1, *stderr), "{args:?}");
    }
    assert_eq!(r.read("etc/env.d/02distcc"), ENV, "nothing changed");
}

#[test]
fn priority_order_is_gentoos() {
    let r = gentoo();
    r.write("etc/distcc/hosts", "x\n");
    // --get-hosts comes first in Gentoo's chain, wherever it is.
    let out = r.run(&["--set-verbose", "1", "--get-hosts"]);
    assert_eq!(out.stdout, "x\n");
    assert_eq!(r.read("etc/env.d/02distcc"), ENV);
}

#[test]
fn env_update_runs_with_root_and_is_waited_for() {
    // Gentoo Prefix style: EPREFIX points at the temp root, so the
    // env-update run is EPREFIX/usr/sbin/env-update (a recording script).
    let r = gentoo();
    let prefix = r.path("prefix");
    script(
        &prefix.join("usr/sbin/env-update"),
        &format!(
            "sleep 0.2; echo \"ran ROOT=$ROOT\" > {}/env-update.log",
            r.dir.path().display()
        ),
    );
    std::fs::create_dir_all(prefix.join("etc/env.d")).unwrap();
    std::fs::write(prefix.join("etc/env.d/02distcc"), ENV).unwrap();
    let out: super::Run = std::process::Command::new(crate::support::bin("distcc-config"))
        .args(["--distro", "gentoo", "--set-verbose", "1"])
        .env_clear()
        .env("EPREFIX", &prefix)
        .output()
        .unwrap()
        .into();
    assert_eq!((out.status, out.stdout.as_str()), (0, HINT), "{out:?}");
    assert_eq!(
        r.read("env-update.log"),
        "ran ROOT=\n",
        "waited for, no ROOT without --root"
    );
    assert!(
        std::fs::read_to_string(prefix.join("etc/env.d/02distcc"))
            .unwrap()
            .contains("DISTCC_VERBOSE=\"1\"")
    );
    // With --root, env-update is told the root.
    let sysroot = r.path("sysroot");
    let inner = sysroot
        .join(prefix.strip_prefix("/").unwrap())
        .join("etc/env.d");
    std::fs::create_dir_all(&inner).unwrap();
    std::fs::write(inner.join("02distcc"), ENV).unwrap();
    let out: super::Run = std::process::Command::new(crate::support::bin("distcc-config"))
        .arg("--root")
        .arg(&sysroot)
        .args(["--distro", "gentoo", "--set-verbose", "1"])
        .env_clear()
        .env("EPREFIX", &prefix)
        .output()
        .unwrap()
        .into();
    assert_eq!(out.status, 0, "{out:?}");
    assert_eq!(
        r.read("env-update.log"),
        format!("ran ROOT={}\n", sysroot.display())
    );
    assert!(
        std::fs::read_to_string(inner.join("02distcc"))
            .unwrap()
            .contains("DISTCC_VERBOSE=\"1\"")
    );
}

#[test]
fn files_keep_their_mode() {
    let r = gentoo();
    let p = r.path("etc/env.d/02distcc");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
    assert_eq!(r.run(&["--set-verbose", "1"]).status, 0);
    assert_eq!(
        std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
        0o640
    );
    let leftovers: Vec<_> = std::fs::read_dir(r.path("etc/env.d"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no temp file left: {leftovers:?}");
}
