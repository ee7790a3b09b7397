//! Every output file back (docs/extension.md §8, issue 12 item 3): with
//! our client and daemon, `-gsplit-dwarf`'s `.dwo`, `-fstack-usage`'s
//! `.su`, `-fcallgraph-info`'s `.ci`, `-save-temps`' `.i` and `.s` and
//! the `-MD` dependency file are byte-identical to a local build's, and
//! gdb finds the `.dwo` through the object; what a server cannot
//! reproduce runs here, saying why.

use std::collections::BTreeMap;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;

use super::harness::{Daemon, Farm, Kind, assert_ok, probes_in_3_4_log, text};

mod server;

pub(super) use server::fake_ours;

/// A source without system headers: its `-g` objects are identical from
/// preprocessed text too (docs/reference.md, "Known limit").
const PROG: &str = "struct point { int x, y; };\n\
static int helper(struct point *p)\n{\n    int buf[16];\n\
    for (int i = 0; i < 16; i++)\n        buf[i] = p->x * i;\n    return buf[p->y & 15];\n}\n\
int main(int argc, char **argv)\n{\n    struct point pt = { argc, 2 };\n    (void)argv;\n\
    return helper(&pt);\n}\n";

/// `prog.c` with `-gsplit-dwarf` into `obj/`.
const SPLIT_DWARF: [&str; 7] = [
    "gcc",
    "-g",
    "-gsplit-dwarf",
    "-c",
    "src/prog.c",
    "-o",
    "obj/prog.o",
];

/// Every file under `dir`, by name, with its bytes.
pub(super) fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

/// A farm with [`PROG`] in `src/`.
fn farm(tag: &str) -> Farm {
    let f = Farm::new(&format!("outputs-{tag}"));
    f.write("src/prog.c", PROG);
    f
}

/// Our daemon, with `clang` in its whitelist too.
fn farm_and_daemon(tag: &str) -> (Farm, Daemon) {
    let f = farm(tag);
    f.write("src/prog.cc", PROG);
    symlink("/usr/bin/clang", f.path("masq/clang")).unwrap();
    let d = Daemon::start(&f.daemon_config(Kind::Ours).args(["--log-level", "debug"]));
    (f, d)
}

/// `args` compiled here into `obj/` (then moved to `ref/`) and through
/// distcc into `obj/`: the same files, byte for byte.
fn same_as_local(f: &Farm, d: &Daemon, args: &[&str], jobs: usize) {
    same_as_local_on(f, d, "", &[], args, jobs);
}

pub(super) fn same_as_local_on(
    f: &Farm,
    d: &Daemon,
    options: &str,
    env: &[(&str, &str)],
    args: &[&str],
    jobs: usize,
) {
    let (obj, reference) = (f.work().join("obj"), f.work().join("ref"));
    for dir in [&obj, &reference] {
        let _ = std::fs::remove_dir_all(dir);
    }
    std::fs::create_dir_all(&obj).unwrap();
    assert_ok(&f.local(args), "local build");
    std::fs::rename(&obj, &reference).unwrap();
    std::fs::create_dir_all(&obj).unwrap();
    let out = f.distcc(&d.host(options), args, env);
    assert_ok(&out, "distcc");
    assert_eq!(d.wait_count("COMPILE_OK", jobs), jobs, "{}", d.log_text());
    let (want, got) = (files(&reference), files(&obj));
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        got.keys().collect::<Vec<_>>(),
        "{args:?}: {}",
        text(&out.stderr)
    );
    for (name, bytes) in &want {
        assert!(
            &got[name] == bytes,
            "{args:?}: {name} differs from the local one"
        );
    }
}

pub(super) fn gdb(f: &Farm, binary: &str, command: &str) -> String {
    let out = Command::new("gdb")
        .args(["-nx", "-batch", "-ex", command, binary])
        .current_dir(f.work())
        .output()
        .expect("run gdb");
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

#[test]
fn side_outputs_come_back_identical_and_gdb_finds_the_dwo() {
    crate::require_tool!("gdb");
    let (f, d) = farm_and_daemon("gcc");
    // A first job without side files goes in 3.4's protocol; the client
    // probes after it.
    let out = f.distcc(
        &d.host(""),
        &["gcc", "-c", "src/prog.c", "-o", "warm.o"],
        &[],
    );
    assert_ok(&out, "warm-up job");
    let all = [
        "gcc",
        "-g",
        "-O1",
        "-gsplit-dwarf",
        "-fstack-usage",
        "-fcallgraph-info",
        "-save-temps",
        "-MD",
        "-c",
        "src/prog.c",
        "-o",
        "obj/prog.o",
    ];
    same_as_local(&f, &d, &all, 2);
    let log = d.log_text();
    assert!(
        log.contains("client speaks extension 1 (")
            && log.contains(
                "outputs, header cache, pump-mode outputs, requests by reference, \
             compiler identity by digest, bodies against a base)"
            ),
        "{log}"
    );
    for name in [
        "prog.dwo", "prog.su", "prog.ci", "prog.i", "prog.s", "prog.d",
    ] {
        assert!(f.work().join("obj").join(name).exists(), "{name}");
    }
    let su = std::fs::read_to_string(f.work().join("obj/prog.su")).unwrap();
    assert!(su.starts_with("src/prog.c:"), "{su}");
    // -S with side files, and the .dwo alone.
    same_as_local(
        &f,
        &d,
        &[
            "gcc",
            "-fstack-usage",
            "-save-temps",
            "-S",
            "src/prog.c",
            "-o",
            "obj/prog.s",
        ],
        3,
    );
    // C++: the preprocessed text is kept as .ii.
    same_as_local(
        &f,
        &d,
        &[
            "g++",
            "-O1",
            "-save-temps",
            "-c",
            "src/prog.cc",
            "-o",
            "obj/prog.o",
        ],
        4,
    );
    assert!(f.work().join("obj/prog.ii").exists());
    same_as_local(&f, &d, &SPLIT_DWARF, 5);
    // A pump-mode host that is ours: the side files come back from pump
    // mode too (tests/client/pump_outputs.rs checks -g code there).
    same_as_local_on(
        &f,
        &d,
        ",cpp,lzo",
        &[("DISTCC_PUMP", "1")],
        &[
            "gcc",
            "-g",
            "-gsplit-dwarf",
            "-fstack-usage",
            "-c",
            "src/prog.c",
            "-o",
            "obj/prog.o",
        ],
        6,
    );
    // SPLIT_DWARF's plain-mode -g job went in pump form too (the default).
    assert_eq!(d.log_text().matches("pump job:").count(), 2);
    // gdb reads the types from the .dwo the object names.
    assert_ok(&f.local(&["gcc", "obj/prog.o", "-o", "prog"]), "link");
    let seen = gdb(&f, "prog", "ptype struct point");
    assert!(seen.contains("int x;") && seen.contains("int y;"), "{seen}");
    std::fs::rename(f.work().join("obj/prog.dwo"), f.work().join("gone.dwo")).unwrap();
    let blind = gdb(&f, "prog", "ptype struct point");
    assert!(
        !blind.contains("int x;"),
        "gdb saw the type without the .dwo: {blind}"
    );

    // An absolute -o would make the object name the server's path: here,
    // with the reason.
    let abs = f.work().join("obj/abs.o");
    let abs = abs.to_str().unwrap();
    let out = f.distcc(
        &d.host(""),
        &["gcc", "-g", "-gsplit-dwarf", "-c", "src/prog.c", "-o", abs],
        &[("DISTCC_VERBOSE", "1")],
    );
    assert_ok(&out, "absolute -o");
    let err = text(&out.stderr);
    assert!(
        err.contains("running locally because -gsplit-dwarf with -o /"),
        "{err}"
    );
    assert!(f.work().join("obj/abs.dwo").exists());
    assert_eq!(d.log_text().matches("COMPILE_OK").count(), 6);

    // Without the extension: 3.4's protocol, as before (the .dwo stays on
    // the server and is lost, as with distcc 3.4).
    std::fs::remove_file(f.work().join("obj/prog.o")).unwrap();
    let out = f.distcc(&d.host(""), &SPLIT_DWARF, &[("DISTCC_EXTENSION", "0")]);
    assert_ok(&out, "3.4's protocol");
    assert_eq!(d.wait_count("COMPILE_OK", 7), 7, "{}", d.log_text());
    assert!(f.work().join("obj/prog.o").exists());
    assert!(!f.work().join("obj/prog.dwo").exists());

    // An output climbing out of the working directory: the server nests
    // its compile as deep, and the object names ../build/prog.dwo as here.
    let args = [
        "gcc",
        "-g",
        "-gsplit-dwarf",
        "-c",
        "src/prog.c",
        "-o",
        "../build/prog.o",
    ];
    let (build, reference) = (f.path("build"), f.path("build-ref"));
    std::fs::create_dir_all(&build).unwrap();
    assert_ok(&f.local(&args), "local build");
    std::fs::rename(&build, &reference).unwrap();
    assert_ok(&f.distcc(&d.host(""), &args, &[]), "distcc");
    assert_eq!(d.wait_count("COMPILE_OK", 8), 8, "{}", d.log_text());
    assert_eq!(files(&build), files(&reference));
    assert!(files(&build).contains_key("prog.dwo"));

    // An absolute -o: the .su names the source, not the output, so it
    // comes back identical.
    let abs = f.work().join("obj/prog.o");
    same_as_local(
        &f,
        &d,
        &[
            "gcc",
            "-fstack-usage",
            "-c",
            "src/prog.c",
            "-o",
            abs.to_str().unwrap(),
        ],
        9,
    );

    // Nothing left behind on either side.
    let temps: Vec<_> = files(&f.work().join("obj"))
        .into_keys()
        .filter(|n| n.contains(".distcc-"))
        .collect();
    assert!(temps.is_empty(), "{temps:?}");
    let held = crate::support::job_dir_contents(&f.path("dtmp"));
    assert!(held.is_empty(), "{held:?}");
}

#[test]
fn clang_stack_usage_comes_back_and_its_split_dwarf_runs_here() {
    crate::require_tool!("clang");
    let (f, d) = farm_and_daemon("clang");
    // The first job to a host of unknown kind has side files: the client
    // probes first, then uses the extension.
    same_as_local(
        &f,
        &d,
        &[
            "clang",
            "-O1",
            "-fstack-usage",
            "-MD",
            "-c",
            "src/prog.c",
            "-o",
            "obj/prog.o",
        ],
        1,
    );
    let log = d.log_text();
    let probes = log.matches("client probed for the extension and closed");
    assert_eq!(probes.count(), 1, "{log}");
    assert!(
        log.contains(
            "outputs, header cache, pump-mode outputs, requests by reference, \
             compiler identity by digest, bodies against a base)"
        ),
        "{log}"
    );
    // Plain mode as 3.4 sends it (with DISTCC_PUMP_DEBUG_INFO=1 the job
    // would go in pump form: tests/client/plain_debug.rs).
    let out = f.distcc(
        &d.host(""),
        &[
            "clang",
            "-g",
            "-gsplit-dwarf",
            "-c",
            "src/prog.c",
            "-o",
            "obj/c.o",
        ],
        &[("DISTCC_VERBOSE", "1"), ("DISTCC_PUMP_DEBUG_INFO", "0")],
    );
    assert_ok(&out, "clang -gsplit-dwarf");
    let err = text(&out.stderr);
    assert!(
        err.contains("running locally because -gsplit-dwarf: clang"),
        "{err}"
    );
    assert!(f.work().join("obj/c.dwo").exists());
    assert_eq!(d.log_text().matches("COMPILE_OK").count(), 1);
}

/// Debian's 3.4 daemon: the job is probed for first (one refused hello in
/// its log), then sent in 3.4's protocol as before; the side files stay
/// there, as with distcc 3.4's client. No job fails, no backoff.
#[test]
fn a_3_4_daemon_gets_side_output_jobs_as_before() {
    crate::require_tool!(crate::support::distccd::DEBIAN_DISTCCD);
    let f = farm("debian");
    let d = f.daemon(Kind::Debian);
    for obj in ["obj/a.o", "obj/b.o"] {
        let args = [
            "gcc",
            "-g",
            "-gsplit-dwarf",
            "-fstack-usage",
            "-c",
            "src/prog.c",
            "-o",
            obj,
        ];
        assert_ok(&f.distcc(&d.host(",lzo"), &args, &[]), obj);
    }
    assert_eq!(d.wait_count("COMPILE_OK", 2), 2, "{}", d.log_text());
    let log = d.log_text();
    assert_eq!(probes_in_3_4_log(&log), 1, "one probe:\n{log}");
    let made: Vec<String> = files(&f.work().join("obj")).into_keys().collect();
    assert_eq!(made, ["a.o", "b.o"]);
    f.assert_no_backoff();
}
