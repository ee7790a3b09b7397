//! Pump mode (protocol 3): our client sends the source and its user
//! headers to `,cpp,lzo` hosts, which preprocess. Objects must be
//! byte-identical to local ones — with `-g` too against our daemon, which
//! maps its job root out of the debug info (3.4's daemon overwrites it
//! with slashes, so there only non-`-g` objects are compared).

mod dotd;
mod failures;

use crate::require_tool;
use crate::support::eventually;

use super::harness::{Farm, Kind, assert_ok, assert_same, text};

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
