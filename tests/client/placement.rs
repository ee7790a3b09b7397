//! Speed-aware placement (issue 13) against real daemons: a host that
//! compiles much slower than another gets no more jobs once both are
//! measured, where 3.4's order would give it half of them; the speeds
//! clients learn are shared through `$DISTCC_DIR/hosts/`.

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

use super::harness::{COMPILERS, Farm, Kind, assert_ok, text};
use crate::support;

/// A daemon whose `gcc` takes `delay` seconds longer than the real one.
fn slow_daemon(f: &Farm, delay: &str) -> support::distccd::Daemon {
    let masq = f.path("slowmasq");
    std::fs::create_dir_all(&masq).unwrap();
    std::fs::set_permissions(&masq, PermissionsExt::from_mode(0o755)).unwrap();
    let script = masq.join("slowgcc");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nsleep {delay}\nexec /usr/bin/gcc \"$@\"\n"),
    )
    .unwrap();
    std::fs::set_permissions(&script, PermissionsExt::from_mode(0o755)).unwrap();
    for cc in COMPILERS {
        symlink("slowgcc", masq.join(cc)).unwrap();
    }
    // Its own log: the farm's daemons share one otherwise.
    let mut cfg = support::distccd::Config::new(Kind::Ours, f.path("slow.log"))
        .home(f.path("home"))
        .tmpdir(f.path("dtmp"))
        .listen(Some("127.0.0.1"))
        .allow(["127.0.0.1"])
        .masquerade_dir(&masq);
    let path = format!("{}:/usr/bin:/bin", masq.display());
    cfg = cfg.env("DISTCCD_PATH", path);
    support::distccd::Daemon::start(&cfg)
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
    let build = |round: usize| {
        let _ = std::fs::remove_file(f.work().join("f0.o"));
        let out = f
            .command(Path::new("/usr/bin/make"), &hosts, &["-B", "-j4"], &[])
            .arg(format!("CC={} gcc", distcc.display()))
            .output()
            .unwrap();
        assert_ok(&out, "make");
        assert!(
            support::eventually(|| counts().0 + counts().1 == round * files),
            "{:?} after round {round}: {}",
            counts(),
            text(&out.stderr)
        );
        counts()
    };
    // The first build measures both hosts: the slow one gets the jobs
    // that start before it has a figure (3.4's order sends it slot 0's).
    let (fast1, slow1) = build(1);
    assert!(
        slow1 >= 1,
        "the first build tried the slow host: {slow1}, {fast1}"
    );
    // The second build knows (through $DISTCC_DIR/hosts): nothing goes
    // to the slow host, where 3.4's order would send it jobs again.
    let (fast2, slow2) = build(2);
    assert_eq!(slow2, slow1, "the slow host got jobs again ({fast2} fast)");
    let learnt: Vec<String> = std::fs::read_dir(f.path("ddir/hosts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(learnt.len(), 2, "{learnt:?}");
}
