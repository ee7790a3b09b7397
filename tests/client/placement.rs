//! Speed-aware placement (issue 13) against real daemons: a host that
//! compiles much slower than another gets no more jobs once both are
//! measured, where 3.4's order would give it half of them; the speeds
//! clients learn are shared through `$DISTCC_DIR/host-figures/`; a host whose
//! daemon reported a queue (through the extension) gets the next job
//! elsewhere; a pump job goes where its source went before (affinity).

use std::path::Path;

use distcc::client::placement::MIN_SAMPLES;
use distcc::client::slots::locks::LockDir;

use super::harness::{Farm, Kind, assert_ok, text};
use crate::support;

/// A daemon whose `gcc` takes `delay` seconds longer than the real one.
fn slow_daemon(f: &Farm, delay: &str) -> support::distccd::Daemon {
    wrapped_daemon(f, "slow", delay, "", &[])
}

/// A daemon whose compilers take `delay` seconds longer than the real
/// ones to compile a preprocessed source (read from stdin, as the daemon
/// gives it) holding `marker` (every one for ""; questions such as
/// `-dumpversion` are answered at once), with more
/// daemon `args`.
fn wrapped_daemon(
    f: &Farm,
    tag: &str,
    delay: &str,
    marker: &str,
    args: &[&str],
) -> support::distccd::Daemon {
    let script = format!(
        "#!/bin/sh\nfor a; do [ \"$a\" = - ] && stdin=1; done\nif [ -n \"$stdin\" ]; then\n  src=$(cat)\n  case $src in *'{marker}'*) sleep {delay};; esac\n  printf '%s\\n' \"$src\" | exec /usr/bin/gcc \"$@\"\nfi\nexec /usr/bin/gcc \"$@\"\n"
    );
    f.daemon_with_compiler(tag, &script, args)
}

#[test]
fn a_slow_host_stops_getting_jobs_once_measured() {
    crate::require_tool!("gcc");
    crate::require_tool!("make");
    let f = Farm::new("placement");
    let files = 16;
    let mut rules = String::from("all:");
    for i in 0..files {
        f.write(
            &format!("f{i}.c"),
            format!("int f{i}(int x) {{ return x * {i}; }}\n"),
        );
        rules.push_str(&format!(" f{i}.o"));
    }
    rules.push_str("\n%.o: %.c\n\t$(CC) -O2 -c $< -o $@\n");
    std::fs::write(f.work().join("Makefile"), rules).unwrap();
    let fast = f.daemon(Kind::Ours);
    let slow = slow_daemon(&f, "0.5");
    let hosts = format!("{} {}", fast.host("/2,lzo"), slow.host("/2,lzo"));
    let distcc = support::bin("distcc");
    let counts = || (fast.count("COMPILE_OK"), slow.count("COMPILE_OK"));
    let build = || {
        let before = counts().0 + counts().1;
        let out = f
            .command(Path::new("/usr/bin/make"), &hosts, &["-B", "-j4"], &[])
            .arg(format!("CC={} gcc", distcc.display()))
            .output()
            .unwrap();
        assert_ok(&out, "make");
        assert!(
            support::eventually(|| counts().0 + counts().1 == before + files),
            "{:?} after {before} and a build: {}",
            counts(),
            text(&out.stderr)
        );
        counts()
    };
    // The first build measures both hosts: the slow one gets the jobs
    // that start before it has a figure (3.4's order sends it slot 0's).
    let (fast1, slow1) = build();
    assert!(
        slow1 >= 1,
        "the first build tried the slow host: {slow1}, {fast1}"
    );
    // A figure counts after MIN_SAMPLES compiles, and how many the build
    // gave the slow host is up to its timing (one, when the fast host
    // finished the rest meanwhile; two at once may note one sample). A
    // host short of them gets the rest alone, one at a time, as a build
    // that lasted longer would have given them.
    for daemon in [&fast, &slow] {
        let state = f
            .path("ddir/host-figures")
            .join(format!("tcp_127.0.0.1_{}", daemon.port));
        for _ in samples(&state)..MIN_SAMPLES {
            let out = f
                .command(&distcc, &daemon.host("/2,lzo"), &["gcc", "-c", "f0.c"], &[])
                .output()
                .unwrap();
            assert_ok(&out, "a measuring job");
        }
        assert!(
            samples(&state) >= MIN_SAMPLES,
            "{}: {:?}",
            state.display(),
            std::fs::read_to_string(&state)
        );
    }
    // The second build knows (through $DISTCC_DIR/host-figures): nothing goes
    // to the slow host, where 3.4's order would send it jobs again.
    let slow_measured = counts().1;
    let (fast2, slow2) = build();
    assert_eq!(
        slow2, slow_measured,
        "the slow host got jobs again ({fast2} fast)"
    );
    let learnt: Vec<String> = std::fs::read_dir(f.path("ddir/host-figures"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(learnt.len(), 2, "{learnt:?}");
}

/// The samples behind a host's figure in its `$DISTCC_DIR/host-figures` line
/// (`v1 <ms per KiB> <samples> <unix seconds> ...`), 0 for none.
fn samples(state: &Path) -> u32 {
    std::fs::read_to_string(state)
        .ok()
        .and_then(|l| l.split_whitespace().nth(2)?.parse().ok())
        .unwrap_or(0)
}

/// Another user keeps a one-slot daemon busy (one job compiling, one
/// queued). Our client's job there hears the queue in the extension's
/// offer and notes it; our next job goes to the other host, although
/// 3.4's order (the busy host first, its slot free for this user) would
/// send it to the queue too.
#[test]
fn a_host_whose_daemon_reports_a_queue_gets_the_next_job_elsewhere() {
    crate::require_tool!("gcc");
    let f = Farm::new("placement-queue");
    for name in ["w", "j1", "j2", "other_user1", "other_user2", "other_user3"] {
        f.write(
            &format!("{name}.c"),
            format!("int {name}(void) {{ return 7; }}\n"),
        );
    }
    // The other user's jobs take 4 s more there.
    let busy = wrapped_daemon(&f, "busy", "4", "other_user", &["--jobs", "1"]);
    let free = f.daemon(Kind::Ours);
    let distcc = support::bin("distcc");
    let ours = |hosts: &str, name: &str| {
        let (src, obj) = (format!("{name}.c"), format!("{name}.o"));
        f.command(&distcc, hosts, &["gcc", "-c", &src, "-o", &obj], &[])
    };
    // Our client learns that the busy host is ours (the extension's probe).
    let out = ours(&busy.host(""), "w").output().unwrap();
    assert_ok(&out, "warm-up");
    let id = format!("tcp_127.0.0.1_{}", busy.port);
    let state = f.path("ddir/host-figures").join(&id);
    assert!(
        support::eventually(|| f.path("ddir/extension").join(&id).exists()),
        "the busy host was never probed"
    );
    // The other user: three slow jobs, one compiling and two waiting (a
    // queue for at least 4 s, however slowly our next client starts).
    let other = f.path("other-ddir");
    let mut others: Vec<_> = ["other_user1", "other_user2", "other_user3"]
        .iter()
        .map(|name| {
            let (src, obj) = (format!("{name}.c"), format!("{name}.o"));
            f.command(
                &distcc,
                &busy.host(""),
                &["gcc", "-c", &src, "-o", &obj],
                &[],
            )
            .env("DISTCC_DIR", &other)
            .spawn()
            .unwrap()
        })
        .collect();
    assert!(
        support::eventually(|| queue_of(busy.port) >= 1),
        "the other user's jobs never queued on the busy host"
    );
    // Our first job goes there (nothing says otherwise yet) and hears the
    // queue in the offer; it is not needed past that.
    let mut first = ours(&format!("{} {}", busy.host("/2"), free.host("/2")), "j1")
        .spawn()
        .unwrap();
    let queued = || {
        std::fs::read_to_string(&state).is_ok_and(|l| {
            let w: Vec<&str> = l
                .split(" s ")
                .nth(1)
                .unwrap_or("")
                .split_whitespace()
                .collect();
            w.get(2)
                .and_then(|q| q.parse::<u32>().ok())
                .is_some_and(|q| q >= 1)
        })
    };
    assert!(
        support::eventually(queued),
        "no queue noted: {:?}",
        std::fs::read_to_string(&state)
    );
    first.kill().unwrap();
    first.wait().unwrap();
    // The next job: to the free host, without waiting in the queue.
    let before = free.count("COMPILE_OK");
    let out = ours(&format!("{} {}", busy.host("/2"), free.host("/2")), "j2")
        .output()
        .unwrap();
    assert_ok(&out, "the job after the queue was heard");
    assert!(
        support::eventually(|| free.count("COMPILE_OK") == before + 1),
        "{}",
        busy.log_text()
    );
    assert!(!busy.log_text().contains("j2.c"), "{}", busy.log_text());
    // The other user's jobs are not this test's: they need not finish.
    for o in &mut others {
        let _ = o.kill();
        let _ = o.wait();
    }
}

/// The queue a daemon reports in the extension's offer: a hello, the
/// offer's `XTND XCAP XSTA <len>` and `len` bytes of 12-byte items.
fn queue_of(port: u16) -> u32 {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"DIST78740001").unwrap();
    let mut head = [0u8; 36];
    s.read_exact(&mut head).unwrap();
    let hex = |b: &[u8]| u32::from_str_radix(std::str::from_utf8(b).unwrap(), 16).unwrap();
    assert_eq!(
        &head[24..28],
        b"XSTA",
        "{:?}",
        String::from_utf8_lossy(&head)
    );
    let mut items = vec![0u8; hex(&head[28..36]) as usize];
    s.read_exact(&mut items).unwrap();
    items
        .chunks(12)
        .find(|i| &i[..4] == b"QUEU")
        .map_or(0, |i| hex(&i[4..]))
}

/// Affinity (issue 16): a rebuild in pump mode sends each file where the
/// first build did, though another job now holds slot 0 of the host
/// 3.4's order takes first (which would move every file to the next
/// host, whose daemon has none of their sources); and the first build
/// spreads the files over the hosts by their paths.
#[test]
fn two_builds_place_each_pump_job_on_the_same_host() {
    crate::require_tool!("gcc");
    let f = Farm::with_hello("affinity");
    let files = 8;
    for i in 0..files {
        f.write(
            &format!("f{i}.c"),
            format!("int f{i}(int x) {{ return x + {i}; }}\n"),
        );
    }
    let daemons: Vec<_> = (0..3)
        .map(|i| f.daemon_with_compiler(&format!("aff{i}"), "/usr/bin/gcc", &[]))
        .collect();
    let hosts: Vec<String> = daemons.iter().map(|d| d.host("/2,cpp,lzo")).collect();
    let hosts = hosts.join(" ");
    let env = [("DISTCC_PUMP", "1"), ("DISTCC_VERBOSE", "1")];
    // Speed is not what this is about: nothing is measured (the figures'
    // directory is a file), so a loaded machine's slow compile never
    // takes a host out of the tier between the builds.
    std::fs::create_dir_all(f.path("ddir")).unwrap();
    std::fs::write(f.path("ddir/host-figures"), "").unwrap();
    let build = || -> Vec<String> {
        (0..files)
            .map(|i| {
                let src = format!("f{i}.c");
                let out = f.distcc(&hosts, &["gcc", "-c", &src, "-o", &format!("f{i}.o")], &env);
                assert_ok(&out, &src);
                let log = text(&out.stderr);
                let sent = log
                    .lines()
                    .find(|l| l.contains(" (protocol 3)"))
                    .unwrap_or_else(|| panic!("{src} not sent in pump mode: {log}"));
                let to = sent.split(" to ").nth(1).unwrap();
                to.split(' ').next().unwrap().to_owned()
            })
            .collect()
    };
    let first = build();
    let used: std::collections::BTreeSet<&String> = first.iter().collect();
    assert!(used.len() >= 2, "all on one host: {first:?}");
    // Another job holds slot 0 of the first host of the list.
    let locks = LockDir::open(&f.path("ddir")).unwrap();
    let lock_id = format!("tcp_127.0.0.1_{}", daemons[0].port);
    let held = locks.try_lock(&lock_id, 0).unwrap().expect("slot 0 free");
    let second = build();
    drop(held);
    assert_eq!(first, second);
}
