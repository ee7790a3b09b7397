//! A pump job's home (issue 16) against real daemons on loopback: a
//! rebuild sends each file to the host that compiled it before, waiting
//! for a slot there when that host is only briefly busy; it waits no
//! longer than its bound (half the file's last compile there), stops
//! waiting when the host is put in backoff, never waits for a host in
//! backoff or measured slow, and the home follows where the file
//! compiled last.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use distcc::client::slots::hoststate;
use distcc::client::slots::locks::{LockDir, SlotLock};

use super::harness::{Daemon, Farm};

/// The hosts' options: one slot each, pump mode.
const OPTS: &str = "/1,cpp,lzo";

/// Every compile takes two seconds more, so the wait's bound (half the
/// compile) is at least a second: far more than this test takes, on a
/// machine at load 20, to act on the client's "waiting" line.
const SLEEPY: &str =
    "#!/bin/sh\nfor a; do [ \"$a\" = -c ] && sleep 2; done\nexec /usr/bin/gcc \"$@\"\n";

struct Homes {
    f: Farm,
    daemons: Vec<Daemon>,
    hosts: String,
    locks: LockDir,
}

/// What one job's client said.
struct Job {
    /// The host it was sent to (its index).
    host: usize,
    /// Its verbose log.
    log: String,
}

impl Homes {
    fn new(tag: &str, hosts: usize, files: usize) -> Self {
        let f = Farm::new(tag);
        for i in 0..files {
            f.write(
                &format!("f{i}.c"),
                format!("int f{i}(int x) {{ return x + {i}; }}\n"),
            );
        }
        let daemons: Vec<Daemon> = (0..hosts)
            .map(|i| f.daemon_with_compiler(&format!("{tag}{i}"), SLEEPY, &[]))
            .collect();
        let hosts = daemons
            .iter()
            .map(|d| d.host(OPTS))
            .collect::<Vec<_>>()
            .join(" ");
        let locks = LockDir::open(&f.path("ddir")).unwrap();
        Self {
            f,
            daemons,
            hosts,
            locks,
        }
    }

    fn lock_id(&self, host: usize) -> String {
        format!("tcp_127.0.0.1_{}", self.daemons[host].port)
    }

    /// Hold `host`'s slot, as another job would.
    fn hold(&self, host: usize) -> SlotLock {
        self.locks
            .try_lock(&self.lock_id(host), 0)
            .unwrap()
            .expect("the slot is free")
    }

    /// Compile `f<i>.c` in pump mode; `when_waiting` runs when the client
    /// says it waits for its home (with the wait's bound in ms).
    fn job(&self, i: usize, mut when_waiting: impl FnMut(u64)) -> Job {
        let src = format!("f{i}.c");
        let obj = format!("f{i}.o");
        let mut child = self
            .f
            .command(
                &crate::support::bin("distcc"),
                &self.hosts,
                &["gcc", "-c", &src, "-o", &obj],
                &[("DISTCC_PUMP", "1"), ("DISTCC_VERBOSE", "1")],
            )
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut log = String::new();
        for line in BufReader::new(child.stderr.take().unwrap()).lines() {
            let line = line.unwrap();
            if let Some(ms) = after(&line, "busy: waiting up to ") {
                when_waiting(ms);
            }
            log.push_str(&line);
            log.push('\n');
        }
        let status = child.wait().unwrap();
        assert!(status.success(), "{src}: {status}\n{log}");
        let sent = log
            .lines()
            .find(|l| l.contains(" (protocol 3)"))
            .unwrap_or_else(|| panic!("{src} not sent in pump mode: {log}"));
        let to = sent
            .split(" to ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap();
        let host = (0..self.daemons.len())
            .find(|&d| self.daemons[d].host(OPTS) == to)
            .unwrap_or_else(|| panic!("{to}: not a host of the list"));
        Job { host, log }
    }
}

/// The number after `needle` in `line`.
fn after(line: &str, needle: &str) -> Option<u64> {
    let rest = &line[line.find(needle)? + needle.len()..];
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

#[test]
fn a_rebuild_waits_for_a_briefly_busy_home_and_no_longer_than_its_bound() {
    crate::require_tool!("gcc");
    let files = 3;
    let h = Homes::new("homes-wait", 3, files);
    // Speed is not what this is about: nothing is measured (the figures'
    // directory is a file), so a loaded machine's slow compile never
    // takes a host out of the tier between the builds.
    std::fs::write(h.f.path("ddir/host-figures"), "").unwrap();
    let first: Vec<usize> = (0..files).map(|i| h.job(i, |_| {}).host).collect();
    assert!(h.f.path("ddir/pump/homes").exists());
    // Each file's home is busy when its job looks, and frees as soon as
    // the job says it waits for it: the job goes there, where without a
    // home it would take a free host at once.
    for (i, &home) in first.iter().enumerate() {
        let mut held = Some(h.hold(home));
        let job = h.job(i, |_| drop(held.take()));
        assert!(
            held.is_none(),
            "f{i}.c never waited for its home:\n{}",
            job.log
        );
        assert_eq!(job.host, home, "f{i}.c:\n{}", job.log);
    }
    // A home busy past the bound: the job waits the bound, then goes.
    let _held = h.hold(first[0]);
    let mut bound = None;
    let job = h.job(0, |ms| bound = Some(ms));
    let bound = bound.unwrap_or_else(|| panic!("no wait:\n{}", job.log));
    let waited = job
        .log
        .lines()
        .find_map(|l| after(l, "busy for "))
        .unwrap_or_else(|| panic!("no end of the wait:\n{}", job.log));
    assert!(waited >= bound, "{waited} ms of {bound}:\n{}", job.log);
    assert_ne!(job.host, first[0], "{}", job.log);
}

#[test]
fn no_wait_for_a_home_in_backoff_or_slow_and_the_home_follows_the_file() {
    crate::require_tool!("gcc");
    let h = Homes::new("homes-fallback", 2, 1);
    let (a, b) = {
        let first = h.job(0, |_| {}).host;
        (first, 1 - first)
    };
    // The home is in backoff, its slot busy: no wait, the other host.
    let held = h.hold(a);
    h.locks.mark_backoff(&h.lock_id(a)).unwrap();
    let job = h.job(0, |_| panic!("waited for a host in backoff"));
    assert_eq!(job.host, b, "{}", job.log);
    drop(held);
    h.locks.clear_backoff(&h.lock_id(a));
    // The home followed the file to b. b goes into backoff while the job
    // waits for it (another job found it dead): the job stops waiting
    // before its bound and takes a.
    let held = h.hold(b);
    let mut bound = 0;
    let job = h.job(0, |ms| {
        bound = ms;
        h.locks.mark_backoff(&h.lock_id(b)).unwrap();
    });
    let waited = job.log.lines().find_map(|l| after(l, "busy for "));
    assert!(
        bound > 0 && waited.is_some_and(|w| w < bound),
        "waited {waited:?} of {bound} ms:\n{}",
        job.log
    );
    assert_eq!(job.host, a, "{}", job.log);
    drop(held);
    h.locks.clear_backoff(&h.lock_id(b));
    // Back on a, which is waited for when briefly busy, though b is free.
    let mut held = Some(h.hold(a));
    let job = h.job(0, |_| drop(held.take()));
    assert!(
        held.is_none(),
        "never waited for the new home:\n{}",
        job.log
    );
    assert_eq!(job.host, a, "{}", job.log);
    // A home measured over twice as slow as the other host is not waited
    // for: the job goes to the faster one at once.
    let top = h.f.path("ddir");
    for _ in 0..8 {
        hoststate::record(&top, &h.lock_id(a), 1e6, 1024, None);
        hoststate::record(&top, &h.lock_id(b), 1e3, 1024, None);
    }
    let _held = h.hold(a);
    let job = h.job(0, |_| panic!("waited for a slow host"));
    assert_eq!(job.host, b, "{}", job.log);
}
