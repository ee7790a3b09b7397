//! Pump mode (protocol 3): our client sends the source and its user
//! headers to `,cpp,lzo` hosts, which preprocess. Objects must be
//! byte-identical to local ones — with `-g` too against our daemon, which
//! maps its job root out of the debug info (3.4's daemon overwrites it
//! with slashes, so there only non-`-g` objects are compared).

use crate::require_tool;
use crate::support::eventually;

use super::harness::{Daemon, Farm, Kind, assert_ok, assert_same, text};

const MAIN_C: &str = "#include <stdio.h>\n#include \"config.h\"\n#include <proj/api.h>\n\
int main(void) { printf(\"%d %s\\n\", api_version(), __FILE__); return LEVEL; }\n";
const CONFIG_H: &str = "#define LEVEL 0\n";
const API_H: &str = "#ifndef API_H\n#define API_H\n#include \"detail/impl.h\"\n\
static inline int api_version(void) { return IMPL_VERSION * 2; }\n#endif\n";
const IMPL_H: &str = "#define IMPL_VERSION 21\n";
const SHAPES_CC: &str = "#include <vector>\n#include <string>\n#include \"shapes.hh\"\n\
std::vector<std::string> names() { return {SHAPE_NAME, \"square\"}; }\n";
const SHAPES_HH: &str = "#pragma once\n#define SHAPE_NAME \"circle\"\n";
/// An `#include` the analysis cannot list the values of.
const STRINGIFIED: &str =
    "#define PICK(x) #x\n#define HDR PICK(config.h)\n#include HDR\nint level = LEVEL;\n";

fn setup(farm: &Farm) {
    farm.write("src/main.c", MAIN_C);
    farm.write("src/config.h", CONFIG_H);
    farm.write("include/proj/api.h", API_H);
    farm.write("include/proj/detail/impl.h", IMPL_H);
    farm.write("src/shapes.cc", SHAPES_CC);
    farm.write("src/shapes.hh", SHAPES_HH);
}

/// Compile `args` (in `work/`) through our client in pump mode and
/// locally; the `outputs` must match and the job must have gone out in
/// protocol 3 (or, with `plain`, in protocol 2).
fn check(farm: &Farm, hosts: &str, args: &[&str], outputs: &[&str], plain: bool) -> String {
    let out = farm.distcc(
        hosts,
        args,
        &[("DISTCC_PUMP", "1"), ("DISTCC_VERBOSE", "1")],
    );
    assert_ok(&out, &args.join(" "));
    let log = text(&out.stderr);
    let protocol = if plain {
        "(protocol 2)"
    } else {
        "(protocol 3)"
    };
    assert!(
        log.contains(protocol),
        "{args:?} not sent {protocol}:\n{log}"
    );
    for output in outputs {
        let remote = farm.work().join(output);
        std::fs::rename(&remote, farm.work().join(format!("{output}.remote"))).unwrap();
    }
    assert_ok(&farm.local(args), "local compile");
    for output in outputs {
        let kept = farm.work().join(format!("{output}.remote"));
        assert_same(&kept, &farm.work().join(output));
    }
    log
}

fn pump_builds_match_local_ones(kind: Kind) {
    require_tool!("gcc");
    let farm = Farm::new(&format!("pump-{kind:?}"));
    setup(&farm);
    let daemon = farm.daemon(kind);
    let hosts = daemon.host(",cpp,lzo");
    let abs_include = format!("-I{}", farm.work().join("include").display());
    let g = kind == Kind::Ours;
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "gcc",
                "-O2",
                "-Iinclude",
                "-c",
                "src/main.c",
                "-o",
                "main.o",
            ],
            "main.o",
        ),
        (
            vec![
                "gcc",
                "-O2",
                &abs_include,
                "-c",
                "src/main.c",
                "-o",
                "abs.o",
            ],
            "abs.o",
        ),
        (
            vec!["g++", "-O2", "-c", "src/shapes.cc", "-o", "shapes.o"],
            "shapes.o",
        ),
        (
            vec![
                "gcc",
                "-g",
                "-O2",
                "-Iinclude",
                "-c",
                "src/main.c",
                "-o",
                "main-g.o",
            ],
            "main-g.o",
        ),
        (
            vec!["g++", "-g", "-c", "src/shapes.cc", "-o", "shapes-g.o"],
            "shapes-g.o",
        ),
    ];
    for (args, output) in &cases {
        if !g && args.contains(&"-g") {
            continue;
        }
        let log = check(&farm, &hosts, args, &[output], false);
        assert!(!log.contains("preprocessing"), "{args:?}: {log}");
    }
    // The header list is complete: the server saw both user headers.
    let log = check(
        &farm,
        &hosts,
        &["gcc", "-Iinclude", "-c", "src/main.c", "-o", "count.o"],
        &["count.o"],
        false,
    );
    assert!(
        log.contains("with 4 files"),
        "source + 3 user headers:\n{log}"
    );
    // Ours keeps its job directories for reuse, empty; 3.4 removes them,
    // after replying.
    let held = || crate::support::job_dir_contents(&farm.path("dtmp"));
    assert!(eventually(|| held().is_empty()), "left: {:?}", held());
}

#[test]
fn pump_builds_match_local_ones_with_our_daemon() {
    pump_builds_match_local_ones(Kind::Ours);
}

#[test]
fn pump_builds_match_local_ones_with_debians_daemon() {
    pump_builds_match_local_ones(Kind::Debian);
}

#[test]
fn jobs_pump_mode_cannot_vouch_for_are_preprocessed_here() {
    require_tool!("gcc");
    let farm = Farm::new("pump-plain");
    setup(&farm);
    farm.write(
        "src/computed.c",
        "#define HDR \"config.h\"\n#include HDR\nint level = LEVEL;\n",
    );
    farm.write("src/stringified.c", STRINGIFIED);
    let daemon = farm.daemon(Kind::Ours);
    let hosts = daemon.host(",cpp,lzo");
    // A macro defined as a header name: followed, the job goes out in pump mode.
    check(
        &farm,
        &hosts,
        &["gcc", "-c", "src/computed.c", "-o", "computed.o"],
        &["computed.o"],
        false,
    );
    // One the analysis cannot list the values of: preprocessed here.
    let log = check(
        &farm,
        &hosts,
        &[
            "gcc",
            "-O2",
            "-c",
            "src/stringified.c",
            "-o",
            "stringified.o",
        ],
        &["stringified.o"],
        true,
    );
    assert!(
        log.contains("computed #include at") && log.contains("HDR is defined at"),
        "{log}"
    );
    // __TIMESTAMP__ (the source's modification time: the server's copy
    // has another) and __DATE__ in a header: preprocessed here.
    farm.write(
        "src/stamp.c",
        "/* __DATE__ */\nconst char *built = __TIMESTAMP__;\n",
    );
    let log = check(
        &farm,
        &hosts,
        &["gcc", "-O2", "-c", "src/stamp.c", "-o", "stamp.o"],
        &["stamp.o"],
        true,
    );
    assert!(
        log.contains("__TIMESTAMP__ at ") && log.contains("stamp.c:2 would expand to"),
        "{log}"
    );
    farm.write("src/when.h", "#define WHEN __DATE__\n");
    farm.write("src/when.c", "#include \"when.h\"\nint when;\n");
    let log = check(
        &farm,
        &hosts,
        &["gcc", "-O2", "-c", "src/when.c", "-o", "when.o"],
        &["when.o"],
        true,
    );
    assert!(
        log.contains("__DATE__ at ") && log.contains("when.h:1"),
        "{log}"
    );
    // -Wp,-MD,file goes through the server's preprocessor, which takes
    // only -D/-U that way: preprocessed here.
    let log = check(
        &farm,
        &hosts,
        &[
            "gcc",
            "-O2",
            "-Wp,-MD,.dep.o.d",
            "-Iinclude",
            "-c",
            "src/main.c",
            "-o",
            "dep.o",
        ],
        &["dep.o", ".dep.o.d"],
        true,
    );
    assert!(log.contains("dependency file"), "{log}");
    // The server would not get CPATH's directories.
    let out = farm.distcc(
        &hosts,
        &["gcc", "-O2", "-c", "src/main.c", "-o", "cpath.o"],
        &[
            ("DISTCC_PUMP", "1"),
            ("DISTCC_VERBOSE", "1"),
            ("CPATH", "include"),
        ],
    );
    assert_ok(&out, "CPATH");
    let log = text(&out.stderr);
    assert!(
        log.contains("(protocol 2)") && log.contains("CPATH"),
        "{log}"
    );
    // Without DISTCC_PUMP a ,cpp host is a protocol 2 host, as in 3.4.
    let out = farm.distcc(
        &hosts,
        &["gcc", "-Iinclude", "-c", "src/main.c", "-o", "nopump.o"],
        &[("DISTCC_VERBOSE", "1")],
    );
    assert_ok(&out, "without pump");
    assert!(
        text(&out.stderr).contains("(protocol 2)"),
        "{}",
        text(&out.stderr)
    );
}

/// A job pump mode cannot send, whose object plain mode would change
/// (unoptimised code, debug information: `args::plain`), is compiled
/// here before anything is sent, the log saying why.
#[test]
fn jobs_plain_mode_would_change_are_compiled_here() {
    require_tool!("gcc");
    let farm = Farm::new("pump-here");
    setup(&farm);
    farm.write("src/stringified.c", STRINGIFIED);
    let daemon = farm.daemon(Kind::Ours);
    let hosts = daemon.host(",cpp,lzo");
    for (flag, why) in [
        ("-O0", "at -O0 plain mode would change the code"),
        ("-g", "with -g plain mode"),
    ] {
        let args = [
            "gcc",
            "-O1",
            flag,
            "-c",
            "src/stringified.c",
            "-o",
            "here.o",
        ];
        let out = farm.distcc(
            &hosts,
            &args,
            &[("DISTCC_PUMP", "1"), ("DISTCC_VERBOSE", "1")],
        );
        assert_ok(&out, flag);
        let log = text(&out.stderr);
        assert!(
            log.contains(
                "running locally because pump mode cannot send src/stringified.c as it is \
                 (computed #include at"
            ) && log.contains(why),
            "{log}"
        );
        assert!(!log.contains("(protocol"), "{log}");
        let here = farm.work().join("here.o");
        std::fs::rename(&here, farm.work().join("here.o.client")).unwrap();
        assert_ok(&farm.local(&args), "local compile");
        assert_same(&farm.work().join("here.o.client"), &here);
    }
}

/// Dependency files come back from the server (DOTD) and are written as a
/// local gcc writes them: same names, same line breaks. With our daemon
/// the client probes before the first job (the compiler check wants it
/// checked too: docs/extension.md §7), and every job uses the extension
/// (zstd bodies, DOTD included).
fn dependency_files_match_local_ones(kind: Kind) {
    require_tool!("gcc");
    let farm = Farm::new(&format!("pump-deps-{kind:?}"));
    setup(&farm);
    std::fs::create_dir_all(farm.work().join("objs/.deps")).unwrap();
    let daemon = Daemon::start(&farm.daemon_config(kind).args(["--log-level", "debug"]));
    let hosts = daemon.host(",cpp,lzo");
    let abs = format!("-I{}", farm.work().join("include").display());
    let cases: &[(&[&str], &[&str])] = &[
        (
            &[
                "gcc",
                "-MD",
                "-Iinclude",
                &abs,
                "-c",
                "src/main.c",
                "-o",
                "objs/main.o",
            ],
            &["objs/main.o", "objs/main.d"],
        ),
        (
            &[
                "gcc",
                "-MMD",
                "-MP",
                "-MF",
                "objs/.deps/main.Tpo",
                "-Iinclude",
                "-c",
                "src/main.c",
                "-o",
                "objs/mmd.o",
            ],
            &["objs/mmd.o", "objs/.deps/main.Tpo"],
        ),
        (
            &[
                "g++",
                "-MD",
                "-MT",
                "custom-target",
                "-c",
                "src/shapes.cc",
                "-o",
                "objs/shapes.o",
            ],
            &["objs/shapes.o", "objs/shapes.d"],
        ),
    ];
    for (args, outputs) in cases {
        check(&farm, &hosts, args, outputs, false);
    }
    if kind == Kind::Ours {
        // Logged before the compile, so there by now (a loaded machine may
        // race a job here and close its connection: not counted on).
        let log = daemon.log_text();
        assert_eq!(
            log.matches("client speaks extension 1 (zstd, heartbeats, status")
                .count(),
            3,
            "{log}"
        );
        assert_eq!(log.matches("pump job: ").count(), 3, "{log}");
        assert!(!log.contains("refused"), "{log}");
    }
}

#[test]
fn dependency_files_match_local_ones_with_our_daemon() {
    dependency_files_match_local_ones(Kind::Ours);
}

#[test]
fn dependency_files_match_local_ones_with_debians_daemon() {
    dependency_files_match_local_ones(Kind::Debian);
}

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
