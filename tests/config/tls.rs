//! `distcc-config --tls-*` in scratch roots (issue 14): keys made, printed,
//! trusted, listed and revoked; Portage's build user owns its client key.

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use super::{Root, is_root};

fn fingerprint_in(text: &str) -> String {
    text.split_whitespace()
        .find(|w| w.starts_with("SHA256:"))
        .unwrap_or_else(|| panic!("no fingerprint in {text:?}"))
        .to_owned()
}

#[test]
fn keys_are_made_once_printed_trusted_listed_and_revoked() {
    let r = Root::new("debian");
    let etc = r.path("etc/distcc/tls");
    let client = r.path("home/.distcc/tls");

    let made = r.run(&["--tls-keygen", "daemon"]);
    assert_eq!(made.status, 0, "{made:?}");
    let daemon_fp = fingerprint_in(&made.stdout);
    let key = etc.join("daemon.key");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // 0755 like /etc/ssh: distccd re-reads authorized_clients as its user.
    assert_eq!(
        std::fs::metadata(&etc).unwrap().permissions().mode() & 0o777,
        0o755
    );
    assert!(r.read("etc/distcc/tls/daemon.pub").starts_with(&daemon_fp));

    // A second keygen would break every pin: refused without --force.
    let again = r.run(&["--tls-keygen", "daemon"]);
    assert_eq!(again.status, 1);
    assert!(again.stderr.contains(&daemon_fp), "{again:?}");
    let printed = r.run(&["--tls-fingerprint", "daemon"]);
    assert_eq!(printed.stdout.trim(), daemon_fp);

    // The client's key goes to $DISTCC_DIR/tls (here ~/.distcc).
    let made = r.run(&["--tls-keygen", "client"]);
    assert_eq!(made.status, 0, "{made:?}");
    let client_fp = fingerprint_in(&made.stdout);
    assert_ne!(client_fp, daemon_fp);
    assert!(client.join("client.key").is_file());
    assert_eq!(
        std::fs::metadata(&client).unwrap().permissions().mode() & 0o777,
        0o700
    );

    let t = r.run(&["--tls-trust-client", &client_fp, "alice", "laptop"]);
    assert_eq!(t.status, 0, "{t:?}");
    assert_eq!(
        r.read("etc/distcc/tls/authorized_clients"),
        format!("{client_fp} alice laptop\n")
    );
    let t = r.run(&["--tls-trust-client", &client_fp]);
    assert!(t.stdout.contains("already"), "{t:?}");
    let t = r.run(&["--tls-trust-daemon", "tls+build1", &daemon_fp]);
    assert_eq!(t.status, 0, "{t:?}");
    assert_eq!(
        std::fs::read_to_string(client.join("known_daemons")).unwrap(),
        format!("build1 {daemon_fp}\n")
    );

    let list = r.run(&["--tls-list"]);
    assert_eq!(list.status, 0, "{list:?}");
    for needle in [&daemon_fp, &client_fp, "alice laptop", "build1"] {
        assert!(list.stdout.contains(needle), "{needle} in {}", list.stdout);
    }

    // Bad input is refused and changes nothing.
    for bad in [
        vec!["--tls-trust-client", "SHA256:nope"],
        vec!["--tls-trust-client"],
        vec!["--tls-trust-daemon", &daemon_fp],
        vec!["--tls-trust-daemon", "build2"],
        vec!["--tls-keygen", "laptop"],
    ] {
        let run = r.run(&bad);
        assert_eq!(run.status, 1, "{bad:?}: {run:?}");
        assert!(run.stderr.starts_with("!!! Error:"), "{run:?}");
    }

    let gone = r.run(&["--tls-revoke", &client_fp]);
    assert_eq!(gone.status, 0, "{gone:?}");
    assert_eq!(r.read("etc/distcc/tls/authorized_clients"), "");
    let gone = r.run(&["--tls-revoke", &daemon_fp, "build1"]);
    assert_eq!(gone.status, 0, "{gone:?}");
    assert_eq!(
        std::fs::read_to_string(client.join("known_daemons")).unwrap(),
        ""
    );
    assert_eq!(r.run(&["--tls-revoke", &daemon_fp]).status, 1);
}

#[test]
fn portage_build_user_owns_the_gentoo_client_key() {
    if !is_root() {
        // Giving files to another user needs root; CI runs as root.
        assert!(!crate::support::ci(), "CI runs the tests as root");
        return;
    }
    let r = Root::new("gentoo");
    r.write(
        "etc/passwd",
        "root:x:0:0::/root:/bin/bash\nportage:x:250:250::/var/tmp/portage:/sbin/nologin\n",
    );
    let made = r.run(&["--tls-keygen", "client"]);
    assert_eq!(made.status, 0, "{made:?}");
    let dir = r.path("var/tmp/portage/.distcc/tls");
    for p in [dir.clone(), dir.join("client.key"), dir.join("client.pub")] {
        let m = std::fs::metadata(&p).unwrap();
        assert_eq!((m.uid(), m.gid()), (250, 250), "{}", p.display());
    }
    let fp = fingerprint_in(&made.stdout);
    let t = r.run(&["--tls-trust-daemon", "b1", &fp]);
    assert_eq!(t.status, 0, "{t:?}");
    assert_eq!(
        std::fs::metadata(dir.join("known_daemons")).unwrap().uid(),
        250
    );
    // An explicit DISTCC_DIR wins (makepkg's user, or Portage's own env).
    let mut c = r.cmd();
    let other = r.path("elsewhere");
    let out = c
        .env("DISTCC_DIR", &other)
        .args(["--tls-keygen", "client"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(other.join("tls/client.key").is_file());
}

#[test]
fn makepkg_user_keeps_the_client_key_in_its_home() {
    if !is_root() {
        // Running as another user needs root; CI runs as root.
        assert!(!crate::support::ci(), "CI runs the tests as root");
        return;
    }
    use std::os::unix::process::CommandExt;
    let r = Root::new("arch");
    std::fs::set_permissions(r.path(""), PermissionsExt::from_mode(0o755)).unwrap();
    let home = r.path("home/builder");
    std::fs::create_dir_all(&home).unwrap();
    std::os::unix::fs::chown(&home, Some(1000), Some(1000)).unwrap();
    let as_builder = |args: &[&str]| -> super::Run {
        let mut c = r.cmd();
        c.env("HOME", &home).uid(1000).gid(1000);
        c.args(args).output().unwrap().into()
    };

    // No role named: a user's key is the client's.
    let made = as_builder(&["--tls-keygen"]);
    assert_eq!(made.status, 0, "{made:?}");
    let fp = fingerprint_in(&made.stdout);
    let dir = home.join(".distcc/tls");
    for (p, mode) in [(dir.clone(), 0o700), (dir.join("client.key"), 0o600)] {
        let m = std::fs::metadata(&p).unwrap();
        assert_eq!((m.uid(), m.gid()), (1000, 1000), "{}", p.display());
        assert_eq!(m.permissions().mode() & 0o777, mode, "{}", p.display());
    }
    assert!(!r.path("etc/distcc/tls").exists(), "no daemon key made");
    let t = as_builder(&["--tls-trust-daemon", "tls+build1", &fp]);
    assert_eq!(t.status, 0, "{t:?}");
    assert_eq!(
        std::fs::metadata(dir.join("known_daemons")).unwrap().uid(),
        1000
    );
    let printed = as_builder(&["--tls-fingerprint"]);
    assert_eq!(printed.stdout.trim(), fp, "{printed:?}");
}
