//! Issue 13, discovery: daemons started with `distccd --zeroconf`, each in
//! its own network namespace on a bridge the test makes (addresses
//! 10.213.0.0/24, inside the namespaces only), are found by mDNS from a
//! client namespace and used for a build: by our client (`+zeroconf`,
//! `lsdistcc -z`, `distcc-config --set-hosts --zeroconf`) and by Debian's
//! 3.4 client, whose Avahi build browses 3.4's subtype through an
//! avahi-daemon and a private system bus started in the client namespace.
//!
//! Root is needed (namespaces); under `CI=true` it is there.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::support::{self, TempDir};

mod netfarm;

use netfarm::NetFarm;

const NET: &str = "10.213.0";

/// Root, `ip` and `unshare`, or (outside CI) a skip with the reason.
fn can_run() -> bool {
    let root = nix::unistd::geteuid().is_root();
    if !root {
        assert!(!support::ci(), "these tests need root under CI=true");
        eprintln!("skipping: network namespaces need root");
        return false;
    }
    for tool in ["ip", "unshare"] {
        if !support::have_tool(tool) {
            assert!(!support::ci(), "{tool} is required under CI=true");
            eprintln!("skipping: {tool} not installed");
            return false;
        }
    }
    true
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {:?}\nstdout: {}\nstderr: {}",
        out.status,
        support::text(&out.stdout),
        support::text(&out.stderr)
    );
    support::text(&out.stdout)
}

/// Retry `f` until it says yes or 15 s pass (daemons need a moment to
/// announce themselves); the last answer is returned either way.
fn until(mut f: impl FnMut() -> (bool, String)) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (done, last) = f();
        if done || Instant::now() > deadline {
            return last;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

const SOURCES: &[(&str, &str)] = &[
    ("a.c", "int a(int x) { return x * 3; }\n"),
    (
        "b.c",
        "#include <stdio.h>\nint b(void) { return puts(\"b\"); }\n",
    ),
    (
        "c.c",
        "static const char s[] = \"zeroconf\";\nconst char *c(void) { return s; }\n",
    ),
    ("d.c", "double d(double x) { return x / 7; }\n"),
];

/// Compile every source with `cc_words` (the client and `gcc`) in the
/// client namespace, the list `hosts`, fallback off; the objects must
/// equal local compiles.
fn build(farm: &NetFarm, dir: &Path, distcc_dir: &Path, cc: &Path, hosts: &str) {
    for (name, text) in SOURCES {
        std::fs::write(dir.join(name), text).unwrap();
        let obj = format!("{}.o", name.trim_end_matches(".c"));
        let out = farm
            .client(cc.to_str().unwrap())
            .args(["gcc", "-O2", "-c", name, "-o", &obj])
            .current_dir(dir)
            .env("DISTCC_DIR", distcc_dir)
            .env("DISTCC_HOSTS", hosts)
            .env("DISTCC_FALLBACK", "0")
            .env("DISTCC_BACKOFF_PERIOD", "0")
            .output()
            .unwrap();
        ok(&out, &format!("{} {name}", cc.display()));
        let local = format!("{obj}.local");
        let out = Command::new("gcc")
            .args(["-O2", "-c", name, "-o", &local])
            .current_dir(dir)
            .output()
            .unwrap();
        ok(&out, "local gcc");
        support::assert_same(&dir.join(&obj), &dir.join(&local));
    }
}

/// Jobs each daemon's log says it compiled.
fn jobs(logs: &[std::path::PathBuf]) -> Vec<usize> {
    logs.iter()
        .map(|l| support::read(l).matches("COMPILE_OK").count())
        .collect()
}

#[test]
fn our_client_finds_a_zeroconf_farm_and_builds_on_it() {
    if !can_run() {
        return;
    }
    let tmp = TempDir::new("zeroconf-ours");
    let mut farm = NetFarm::new("o", 2);
    let logs: Vec<_> = (1..=2)
        .map(|i| tmp.path().join(format!("d{i}.log")))
        .collect();
    for (i, log) in logs.iter().enumerate() {
        farm.start_daemon(i + 1, log);
    }
    let distcc_dir = tmp.path().join("distcc-dir");
    let want = [
        format!("{}:3632/2,lzo", farm.addr(1)),
        format!("{}:3632/2,lzo", farm.addr(2)),
    ];
    // lsdistcc -z lists both (and refreshes the cache +zeroconf reads).
    let listed = until(|| {
        let out = farm
            .client(support::bin("lsdistcc").to_str().unwrap())
            .arg("-z")
            .env("DISTCC_DIR", &distcc_dir)
            .output()
            .unwrap();
        let text = ok(&out, "lsdistcc -z");
        (want.iter().all(|w| text.contains(w.as_str())), text)
    });
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines, want, "lsdistcc -z");
    let cache = support::read(&distcc_dir.join("zeroconf/hosts"));
    assert!(want.iter().all(|w| cache.contains(w.as_str())), "{cache}");
    // The client reads the cache: --show-hosts lists what was found, at
    // the token's place.
    let out = farm
        .client(support::bin("distcc").to_str().unwrap())
        .arg("--show-hosts")
        .env("DISTCC_DIR", &distcc_dir)
        .env("DISTCC_HOSTS", "localhost/1 +zeroconf")
        .output()
        .unwrap();
    let shown = ok(&out, "distcc --show-hosts");
    assert_eq!(
        shown.lines().collect::<Vec<_>>(),
        ["localhost/1", want[0].as_str(), want[1].as_str()],
        "{shown}"
    );
    // A fresh DISTCC_DIR: the first compile browses by itself.
    let fresh = tmp.path().join("fresh-dir");
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    build(&farm, &work, &fresh, &support::bin("distcc"), "+zeroconf");
    let cached = support::read(&fresh.join("zeroconf/hosts"));
    assert!(
        cached.contains(&want[0]) || cached.contains(&want[1]),
        "{cached}"
    );
    let served: usize = jobs(&logs).iter().sum();
    assert!(served >= SOURCES.len(), "daemon logs: {:?}", jobs(&logs));
    // distcc-config --set-hosts --zeroconf writes what it finds.
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let out = farm
        .client(support::bin("distcc-config").to_str().unwrap())
        .args(["--set-hosts", "--zeroconf", "--dry-run", "localhost/2"])
        .env("DISTCC_DIR", &distcc_dir)
        .env("HOME", &home)
        .output()
        .unwrap();
    let said = ok(&out, "distcc-config --set-hosts --zeroconf");
    assert!(
        said.contains(&format!("{} {} localhost/2", want[0], want[1])),
        "{said}"
    );
}

/// Debian's 3.4 client: if its build links Avahi, it must find our daemons
/// under 3.4's subtype and build on them; if it does not, this says so and
/// checks that it indeed cannot.
#[test]
fn debian_3_4_client_finds_our_zeroconf_daemons() {
    if !can_run() {
        return;
    }
    crate::require_tool!("/usr/bin/distcc");
    let ldd = Command::new("ldd").arg("/usr/bin/distcc").output().unwrap();
    let with_avahi = support::text(&ldd.stdout).contains("libavahi-client");
    let tmp = TempDir::new("zeroconf-34");
    let mut farm = NetFarm::new("d", 2);
    let logs: Vec<_> = (1..=2)
        .map(|i| tmp.path().join(format!("d{i}.log")))
        .collect();
    for (i, log) in logs.iter().enumerate() {
        farm.start_daemon(i + 1, log);
    }
    let distcc_dir = tmp.path().join("distcc-dir");
    std::fs::create_dir_all(&distcc_dir).unwrap();
    if !with_avahi {
        eprintln!(
            "Debian's /usr/bin/distcc is built without Avahi: 3.4's +zeroconf cannot find \
             daemons; checking that it finds none"
        );
        let out = farm
            .client("/usr/bin/distcc")
            .arg("--show-hosts")
            .env("DISTCC_DIR", &distcc_dir)
            .env("DISTCC_HOSTS", "+zeroconf")
            .output()
            .unwrap();
        assert!(!support::text(&out.stdout).contains(NET), "{out:?}");
        return;
    }
    for tool in ["avahi-daemon", "dbus-daemon"] {
        crate::require_tool!(tool);
    }
    // One shell in the client namespace with private /run/dbus and
    // /run/avahi-daemon: a system bus and avahi-daemon of its own, then
    // 3.4's client, which starts its zeroconf helper and reads its
    // zeroconf/hosts.
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    for (name, text) in SOURCES {
        std::fs::write(work.join(name), text).unwrap();
    }
    let script = format!(
        r#"set -e
mkdir -p /run/dbus /run/avahi-daemon
mount -t tmpfs zc-run /run/dbus
mount -t tmpfs zc-run /run/avahi-daemon
dbus-daemon --system --fork
avahi-daemon --daemonize --no-chroot --no-drop-root --no-rlimits
for i in $(seq 100); do avahi-daemon --check 2>/dev/null && break; sleep 0.1; done
export DISTCC_DIR={dir} DISTCC_HOSTS=+zeroconf DISTCC_FALLBACK=0
for i in $(seq 30); do
  n=$(/usr/bin/distcc --show-hosts 2>/dev/null | grep -c '{NET}' || true)
  [ "$n" -ge 2 ] && break
  sleep 0.5
done
echo "HOSTS"; /usr/bin/distcc --show-hosts
cd {work}
for f in a b c d; do /usr/bin/distcc gcc -O2 -c $f.c -o $f.o; done
echo "BUILT"
"#,
        dir = distcc_dir.display(),
        work = work.display()
    );
    let out = farm
        .client("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .output()
        .unwrap();
    let said = ok(&out, "Debian's distcc with +zeroconf");
    // 3.4 lists them in the order they answered.
    let mut hosts: Vec<&str> = said
        .split("HOSTS\n")
        .nth(1)
        .unwrap_or("")
        .lines()
        .take_while(|l| *l != "BUILT")
        .collect();
    hosts.sort_unstable();
    assert_eq!(
        hosts,
        [
            format!("{}:3632/2", farm.addr(1)),
            format!("{}:3632/2", farm.addr(2))
        ],
        "3.4's +zeroconf hosts (its zeroconf/hosts file: {})",
        support::read(&distcc_dir.join("zeroconf/hosts"))
    );
    assert!(said.contains("BUILT"), "{said}");
    for (name, _) in SOURCES {
        let stem = name.trim_end_matches(".c");
        let out = Command::new("gcc")
            .args(["-O2", "-c", name, "-o", &format!("{stem}.local.o")])
            .current_dir(&work)
            .output()
            .unwrap();
        ok(&out, "local gcc");
        support::assert_same(
            &work.join(format!("{stem}.o")),
            &work.join(format!("{stem}.local.o")),
        );
    }
    let served: usize = jobs(&logs).iter().sum();
    assert!(served >= SOURCES.len(), "daemon logs: {:?}", jobs(&logs));
}
