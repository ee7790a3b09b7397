//! Pump jobs the server fails but this machine compiles: the host is not
//! backed off, 3.4's discrepancy counter (spec §5) counts them, and at
//! `DISTCC_MAX_DISCREPANCY` the rest of the build goes in plain mode.

use crate::require_tool;

use super::setup;
use crate::client::harness::{Daemon, Farm, Kind, assert_ok, assert_same, text};

/// A pump job the server cannot compile (as when a header was not sent)
/// but this machine can: compiled here, the server's words shown, and the
/// host not put into backoff (the header list may be what was wrong).
#[test]
fn a_pump_failure_that_compiles_here_does_not_back_the_host_off() {
    require_tool!("gcc");
    let farm = Farm::new("pump-miss");
    setup(&farm);
    let daemon = pump_jobs_fail(&farm);
    let args = ["gcc", "-Iinclude", "-c", "src/main.c", "-o", "miss.o"];
    let out = farm.distcc(&daemon.host(",cpp,lzo"), &args, &[("DISTCC_PUMP", "1")]);
    assert_ok(&out, "retried locally");
    let err = text(&out.stderr);
    assert!(err.contains("config.h: No such file"), "{err}");
    assert!(err.contains("but the local compiler succeeded"), "{err}");
    assert!(!err.contains("backoff"), "{err}");
    assert!(
        !farm.lock_files().iter().any(|f| f.starts_with("backoff")),
        "{:?}",
        farm.lock_files()
    );
    std::fs::rename(
        farm.work().join("miss.o"),
        farm.work().join("miss.o.remote"),
    )
    .unwrap();
    assert_ok(&farm.local(&args), "local compile");
    assert_same(
        &farm.work().join("miss.o.remote"),
        &farm.work().join("miss.o"),
    );
}

/// Our daemon with a compiler that fails pump jobs the way a server
/// without `config.h` would, and compiles preprocessed (protocol 2) jobs
/// (which our daemon gives it as `-x cpp-output -`, 3.4 as a `.i` file).
fn pump_jobs_fail(farm: &Farm) -> Daemon {
    let bin = farm.path("missing-header-bin");
    std::fs::create_dir_all(&bin).unwrap();
    for name in ["gcc", "x86_64-linux-gnu-gcc"] {
        let p = bin.join(name);
        std::fs::write(
            &p,
            "#!/bin/sh\nfor a in \"$@\"; do case \"$a\" in *.i | cpp-output) PATH=/usr/bin:/bin; exec /usr/bin/gcc \"$@\";; esac; done\n\
             echo 'src/main.c:2:10: fatal error: config.h: No such file or directory' >&2\nexit 1\n",
        )
        .unwrap();
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    let config = farm.daemon_config(Kind::Ours).env("DISTCCD_PATH", &bin);
    Daemon::start(&config)
}

/// 3.4's discrepancy counter (spec §5): a pump job that fails on the
/// server but compiles here adds an `@` to the build's counter; at
/// `DISTCC_MAX_DISCREPANCY` the rest of the build is preprocessed here.
#[test]
fn pump_failures_switch_the_rest_of_the_build_to_plain_mode() {
    require_tool!("gcc");
    let farm = Farm::new("pump-demote");
    setup(&farm);
    let daemon = pump_jobs_fail(&farm);
    let hosts = daemon.host(",cpp,lzo");
    let dir = farm.path("pumpdir");
    std::fs::create_dir_all(&dir).unwrap();
    let dir_text = dir.to_str().unwrap();
    let env = |limit: &'static str| {
        [
            ("DISTCC_PUMP", "1"),
            ("DISTCC_PUMP_DIR", dir_text),
            ("DISTCC_MAX_DISCREPANCY", limit),
            ("DISTCC_VERBOSE", "1"),
        ]
    };
    let job = |n: u32| format!("o{n}.o");
    let run = |n: u32, limit: &'static str| {
        let out = job(n);
        let args = ["gcc", "-Iinclude", "-c", "src/main.c", "-o", &out];
        let result = farm.distcc(&hosts, &args, &env(limit));
        assert_ok(&result, &out);
        text(&result.stderr)
    };
    let counter = dir.join("discrepancy_counter");
    // Limit 2: the first failure is counted, the second job still pumps.
    let log = run(1, "2");
    assert!(log.contains("(protocol 3)"), "{log}");
    assert_eq!(std::fs::read(&counter).unwrap(), b"@");
    let log = run(2, "2");
    assert!(log.contains("(protocol 3)"), "{log}");
    assert!(
        log.contains("preprocessing the rest of the build here"),
        "{log}"
    );
    assert_eq!(std::fs::read(&counter).unwrap(), b"@@");
    // From now on: plain mode, compiled remotely, nothing counted.
    let log = run(3, "2");
    assert!(log.contains("(protocol 2)"), "{log}");
    assert!(!log.contains("(protocol 3)"), "{log}");
    assert!(
        log.contains("failed on a server but compiled here"),
        "{log}"
    );
    assert!(!log.contains("but the local compiler succeeded"), "{log}");
    assert_eq!(std::fs::read(&counter).unwrap(), b"@@");
    let args = ["gcc", "-Iinclude", "-c", "src/main.c", "-o", "o3.o"];
    std::fs::rename(farm.work().join("o3.o"), farm.work().join("o3.o.remote")).unwrap();
    assert_ok(&farm.local(&args), "local compile");
    assert_same(&farm.work().join("o3.o.remote"), &farm.work().join("o3.o"));
    // A bad limit is refused like 3.4 does (exit 101), with the reason.
    let bad = farm.distcc(
        &hosts,
        &["gcc", "-c", "src/main.c", "-o", "bad.o"],
        &env("0"),
    );
    assert_eq!(bad.status.code(), Some(101));
    assert!(text(&bad.stderr).contains("DISTCC_MAX_DISCREPANCY"));
}

/// `pump` makes the build's counter directory, reports the discrepancies
/// at the end, and removes the directory.
#[test]
fn pump_reports_discrepancies_and_cleans_up() {
    require_tool!("gcc");
    let farm = Farm::new("pump-report");
    setup(&farm);
    let daemon = pump_jobs_fail(&farm);
    let distcc = crate::support::bin("distcc");
    let script = format!(
        "{d} gcc -Iinclude -c src/main.c -o a.o && {d} gcc -Iinclude -c src/main.c -o b.o && \
         echo \"dir=$DISTCC_PUMP_DIR\"",
        d = distcc.display()
    );
    let out = farm
        .command(
            &crate::support::bin("pump"),
            &daemon.host(",cpp,lzo"),
            &["sh", "-c", &script],
            &[],
        )
        .output()
        .unwrap();
    assert_ok(&out, "pump");
    let err = text(&out.stderr);
    assert!(err.contains("1 pump-mode job failed"), "{err}");
    assert!(err.contains("plain mode"), "{err}");
    let stdout = text(&out.stdout);
    let dir = stdout.trim().strip_prefix("dir=").unwrap();
    assert!(
        dir.starts_with(farm.path("ctmp").join("distcc-pump.").to_str().unwrap()),
        "{dir}"
    );
    assert!(!std::path::Path::new(dir).exists(), "{dir} left behind");
    assert_eq!(daemon.wait_count("COMPILE_OK", 1), 1, "b.o went out plain");
}
