//! Side outputs in pump mode (docs/extension.md §8, `PUMP_OUTPUTS`;
//! issue 12 item 3): the server compiles the sources themselves, so on
//! code with a system header and a macro call over several lines,
//! `-g -gsplit-dwarf` objects and their `.dwo` come back byte-identical to
//! a local build's where plain mode's are not (DWARF columns follow the
//! preprocessed text, docs/reference.md "Known limit"), and gdb finds the
//! `.dwo`.
//!
//! The flags include `-gdwarf-4 -gstrict-dwarf`: without them gcc 12 gives
//! a unit with a `DW_OP_entry_value` location another DWO ID on every run
//! (bench/RESULTS.md, "Side outputs"), so two local builds would differ
//! too; the test checks first that they do not.

use std::sync::{Arc, Mutex};

use distcc::protocol::ext::cap;

use super::harness::{Daemon, Farm, Kind, assert_ok, text};
use super::outputs::{fake_ours, files, gdb, same_as_local_on};

pub(super) const UTIL_H: &str =
    "#define OFFSET 7\nstatic inline int twice(int v) { return v + v; }\n";

pub(super) const CALC_C: &str = "#include <string.h>\n#include \"util.h\"\n\n\
#define SCALE(a, b) \\\n    ((a) * (b)  +   \\\n     OFFSET)\n\n\
struct point { int x, y; };\n\n\
int scaled(struct point *p, const char *s)\n{\n\
    int n = SCALE(p->x,\n                  p->y);   /* a comment */\n\
    return twice(n) + (int)strlen(s);\n}\n\
int main(int argc, char **argv)\n{\n    struct point pt = { argc, 2 };\n\
    return scaled(&pt, argv[0]) & 1;\n}\n";

const FLAGS: &[&str] = &[
    "gcc",
    "-O2",
    "-g",
    "-gsplit-dwarf",
    "-gdwarf-4",
    "-gstrict-dwarf",
    "-fstack-usage",
    "-c",
    "src/calc.c",
];

pub(super) fn with_output(out: &str) -> Vec<&str> {
    let mut v = FLAGS.to_vec();
    v.extend(["-o", out]);
    v
}

fn farm() -> (Farm, Daemon) {
    let f = Farm::new("pump-outputs");
    f.write("src/calc.c", CALC_C);
    f.write("src/util.h", UTIL_H);
    let d = Daemon::start(&f.daemon_config(Kind::Ours).args(["--log-level", "debug"]));
    (f, d)
}

#[test]
fn pump_mode_brings_split_dwarf_back_identical_where_plain_mode_cannot() {
    crate::require_tool!("gdb");
    let (f, d) = farm();
    let args = with_output("obj/calc.o");
    // gcc itself is reproducible with these flags.
    let obj = f.work().join("obj");
    std::fs::create_dir_all(&obj).unwrap();
    assert_ok(&f.local(&args), "local build");
    let first = files(&obj);
    assert_ok(&f.local(&args), "local build again");
    assert_eq!(first, files(&obj), "gcc is not reproducible here");
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        ["calc.dwo", "calc.o", "calc.su"]
    );

    // Plain mode as distcc 3.4 sends it (the host without ,cpp, the text
    // preprocessed here): identical but for -g's columns.
    let out = f.distcc(&d.host(""), &args, &[("DISTCC_PUMP_DEBUG_INFO", "0")]);
    assert_ok(&out, "plain mode");
    assert_eq!(d.wait_count("COMPILE_OK", 1), 1, "{}", d.log_text());
    assert!(d.log_text().contains("outputs"), "{}", d.log_text());
    assert_ne!(
        files(&obj)["calc.o"],
        first["calc.o"],
        "the source does not show plain mode's -g limit"
    );

    // Pump mode: every file byte for byte.
    let pump = [("DISTCC_PUMP", "1")];
    same_as_local_on(&f, &d, ",cpp,lzo", &pump, &args, 2);
    let log = d.log_text();
    assert_eq!(log.matches("pump job:").count(), 1, "{log}");
    assert!(log.contains("pump-mode outputs"), "{log}");
    // gdb reads the types from the .dwo the object names.
    assert_ok(&f.local(&["gcc", "obj/calc.o", "-o", "calc"]), "link");
    let seen = gdb(&f, "calc", "ptype struct point");
    assert!(seen.contains("int x;") && seen.contains("int y;"), "{seen}");
    std::fs::rename(obj.join("calc.dwo"), f.work().join("gone.dwo")).unwrap();
    let blind = gdb(&f, "calc", "ptype struct point");
    assert!(
        !blind.contains("int x;"),
        "gdb saw the type without the .dwo: {blind}"
    );

    // An output climbing out of the working directory, in pump mode too.
    let climbing = with_output("../build/calc.o");
    let (build, reference) = (f.path("build"), f.path("build-ref"));
    std::fs::create_dir_all(&build).unwrap();
    assert_ok(&f.local(&climbing), "local build");
    std::fs::rename(&build, &reference).unwrap();
    std::fs::create_dir_all(&build).unwrap();
    let out = f.distcc(&d.host(",cpp,lzo"), &climbing, &pump);
    assert_ok(&out, "pump mode, ../build");
    assert_eq!(d.wait_count("COMPILE_OK", 3), 3, "{}", d.log_text());
    assert_eq!(d.log_text().matches("pump job:").count(), 2);
    assert_eq!(files(&build), files(&reference), "{}", text(&out.stderr));
    assert!(files(&build).contains_key("calc.dwo"));
    let held = crate::support::job_dir_contents(&f.path("dtmp"));
    assert!(held.is_empty(), "{held:?}");
}

/// A daemon of ours from before `PUMP_OUTPUTS` (it offers `OUTPUTS`
/// only, and its pump-mode `XOUT` is empty): a pump-mode job with side
/// outputs does not go there in protocol 3, but preprocessed here in
/// plain mode (this fake then fails it, and the job is compiled here).
#[test]
fn a_daemon_without_pump_outputs_gets_such_jobs_in_plain_mode() {
    let f = Farm::new("pump-outputs-old");
    f.write("src/calc.c", CALC_C);
    f.write("src/util.h", UTIL_H);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    // It answers nothing: the job then fails there.
    let port = fake_ours(&f, cap::OUTPUTS, move |got| {
        let version = [b"DIST00000002", b"DIST00000003"]
            .iter()
            .find(|v| got.windows(12).any(|w| w == **v))
            .map(|v| v[11] - b'0');
        log.lock().unwrap().push(version);
        Vec::new()
    });
    let args = with_output("obj/calc.o");
    std::fs::create_dir_all(f.work().join("obj")).unwrap();
    let out = f.distcc(
        &format!("127.0.0.1:{port},cpp,lzo"),
        &args,
        &[("DISTCC_PUMP", "1"), ("DISTCC_VERBOSE", "1")],
    );
    assert_ok(&out, "distcc");
    let err = text(&out.stderr);
    assert!(
        err.contains("does not send side outputs back in pump mode"),
        "{err}"
    );
    assert!(f.work().join("obj/calc.dwo").exists());
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen, [None, Some(2)], "{err}");
}

/// clang writes its own working directory as `DW_AT_comp_dir`, so its
/// `-gsplit-dwarf` jobs go only in pump form: then the server compiles in
/// its copy of the client's directory, remapped, and the object and `.dwo`
/// come back identical (clang is reproducible). In pump mode, to a host
/// without `,cpp` such a job is compiled here, saying why; so it is in
/// plain mode with `DISTCC_PUMP_DEBUG_INFO=0`, the default (with `1`, it
/// goes to our daemon in pump form: tests/client/plain_debug.rs).
#[test]
fn clang_split_dwarf_goes_in_pump_mode_only() {
    crate::require_tool!("clang");
    crate::require_tool!("gdb");
    let (f, d) = farm();
    std::os::unix::fs::symlink("/usr/bin/clang", f.path("masq/clang")).unwrap();
    let mut args = vec!["clang"];
    args.extend(&with_output("obj/calc.o")[1..]);
    args.retain(|a| !a.starts_with("-gdwarf") && *a != "-gstrict-dwarf");
    let pump = [("DISTCC_PUMP", "1")];
    same_as_local_on(&f, &d, ",cpp,lzo", &pump, &args, 1);
    assert_eq!(d.log_text().matches("pump job:").count(), 1);
    assert_ok(&f.local(&["clang", "obj/calc.o", "-o", "calc"]), "link");
    let seen = gdb(&f, "calc", "ptype struct point");
    assert!(seen.contains("int x;") && seen.contains("int y;"), "{seen}");
    for (hosts, env, why) in [
        (",lzo", &pump[..], "does not take this job in pump mode"),
        (
            ",cpp,lzo",
            &[("DISTCC_PUMP_DEBUG_INFO", "0")][..],
            "but in pump mode (off)",
        ),
    ] {
        let out = f.distcc(
            &d.host(hosts),
            &args,
            &[env, &[("DISTCC_VERBOSE", "1")][..]].concat(),
        );
        assert_ok(&out, hosts);
        let err = text(&out.stderr);
        assert!(err.contains(why), "{err}");
    }
    assert_eq!(d.log_text().matches("COMPILE_OK").count(), 1);
}

/// The .d file's targets in pump mode, with and without side outputs: a
/// `-MQ` beside the daemon's own `-MT` made gcc name the object as an
/// extra target, and a `-MT` stripped beside a `-MQ` was lost (gcc writes
/// no default target then). Every .d must equal the local one. With
/// `-MMD` (no list of system headers, docs/extension.md §13) the job is
/// preprocessed here, and with `-g` compiled here.
#[test]
fn pump_mode_dependency_targets_are_the_clients() {
    let (f, d) = farm();
    let pump = [("DISTCC_PUMP", "1")];
    let plain = ["gcc", "-O2", "-c", "src/calc.c", "-o", "obj/calc.o"];
    let cases: [&[&str]; 4] = [
        &["-MD", "-MQ", "q$x"],
        &["-MD", "-MT", "t", "-MQ", "q$x"],
        &["-MD", "-MT", "t"],
        &["-MMD", "-MP"],
    ];
    let (mut jobs, mut pumped) = (0, 0);
    for deps in cases {
        for side in [
            &[][..],
            &["-g", "-gsplit-dwarf", "-gdwarf-4", "-gstrict-dwarf"][..],
        ] {
            let args: Vec<&str> = plain.iter().chain(side).chain(deps).copied().collect();
            let mmd = deps.contains(&"-MMD");
            jobs += usize::from(!mmd || side.is_empty());
            pumped += usize::from(!mmd);
            same_as_local_on(&f, &d, ",cpp,lzo", &pump, &args, jobs);
            assert!(
                files(&f.work().join("obj")).contains_key("calc.d"),
                "{args:?}"
            );
        }
    }
    assert_eq!(
        d.log_text().matches("pump job:").count(),
        pumped,
        "{}",
        d.log_text()
    );
}

/// A pump job that would send a file where the server's compiler writes
/// an output (a stale `obj/x.su`, included under a false `#if`, which the
/// analysis sends anyway) would be refused by our server, and a refusal
/// looks like a failed host: the client sees it first and sends the job
/// to the same host in plain mode, preprocessed here. No backoff: the
/// fault is the job's.
#[test]
fn a_pump_job_sending_a_file_where_an_output_goes_runs_in_plain_mode() {
    let (f, d) = farm();
    f.write(
        "src/x.c",
        "#if 0\n#include \"../obj/x.su\"\n#endif\nint x(void) { return 1; }\n",
    );
    f.write("obj/x.su", "stale\n");
    let args = [
        "gcc",
        "-O2",
        "-fstack-usage",
        "-c",
        "src/x.c",
        "-o",
        "obj/x.o",
    ];
    let out = f.distcc(
        &d.host(",cpp,lzo"),
        &args,
        &[("DISTCC_PUMP", "1"), ("DISTCC_VERBOSE", "1")],
    );
    assert_ok(&out, "distcc");
    f.assert_no_backoff();
    let err = text(&out.stderr);
    assert!(
        err.contains("where the compiler writes an output): preprocessing here"),
        "{err}"
    );
    assert_eq!(d.wait_count("COMPILE_OK", 1), 1, "{}", d.log_text());
    assert!(!d.log_text().contains("refused"), "{}", d.log_text());
    let remote = files(&f.work().join("obj"));
    assert_ok(&f.local(&args), "local build");
    assert_eq!(remote, files(&f.work().join("obj")));
}
