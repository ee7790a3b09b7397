//! The system headers' check (docs/extension.md §13,
//! src/client/sysheaders.rs): a pump-form job (pump mode, or a plain-mode
//! `-g` job) is compiled against the server's system headers, so our
//! daemon lists those its compile read and our client uses the object
//! only when they are its own. A daemon whose `gcc` is a wrapper adding
//! `-isystem` with another `string.h` passes the compiler check (same
//! `cc1`, same specs) and used to give another object, silently; now the
//! job is compiled again preprocessed here, the object is a local
//! build's, the host is warned about once and its next jobs go plain
//! without the round trip.

use std::os::unix::fs::PermissionsExt;

use super::harness::{Daemon, Farm, Kind, assert_ok, text};
use super::outputs::files;

/// No macro in the function: plain mode's `-g` objects are a local
/// build's then (its known limit is the columns of macro expansions).
const SRC: &str = "#include <string.h>\n#include \"util.h\"\n\n\
                   util_t f(const char *s) { return (util_t)strlen(s); }\n";
const UTIL_H: &str = "typedef int util_t;\n";
/// What the other daemon's `string.h` does: `strlen` becomes 7.
const OTHER_STRING_H: &str =
    "#include_next <string.h>\n#undef strlen\n#define strlen(s) ((size_t)7)\n";
const PUMP: (&str, &str) = ("DISTCC_PUMP", "1");
const VERBOSE: (&str, &str) = ("DISTCC_VERBOSE", "1");
const WARNING: &str = "system headers differ from this machine's";

fn farm(tag: &str) -> Farm {
    let f = Farm::new(&format!("sysheaders-{tag}"));
    f.write("src/f.c", SRC);
    f.write("src/util.h", UTIL_H);
    std::fs::create_dir_all(f.work().join("obj")).unwrap();
    f
}

/// Our daemon whose gcc reads another `string.h` first. Unsandboxed: the
/// other header is in the test's directory, which the sandbox hides.
fn other_headers(f: &Farm) -> Daemon {
    let dir = f.path("other-include");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::write(dir.join("string.h"), OTHER_STRING_H).unwrap();
    let script = format!(
        "#!/bin/sh\nexec /usr/bin/gcc -isystem {} \"$@\"\n",
        dir.display()
    );
    f.daemon_with_compiler("other", &script, &["--log-level", "debug", "--no-sandbox"])
}

/// Build `args` here into `ref/`, then with `distcc` on `hosts` into
/// `obj/`: the objects (and dependency files) must be equal. The
/// client's stderr.
fn same_as_local(f: &Farm, hosts: &str, env: &[(&str, &str)], args: &[&str]) -> String {
    let (obj, reference) = (f.work().join("obj"), f.work().join("ref"));
    for dir in [&obj, &reference] {
        let _ = std::fs::remove_dir_all(dir);
    }
    std::fs::create_dir_all(&obj).unwrap();
    assert_ok(&f.local(args), "local build");
    std::fs::rename(&obj, &reference).unwrap();
    std::fs::create_dir_all(&obj).unwrap();
    let out = f.distcc(hosts, args, env);
    assert_ok(&out, "distcc");
    let err = text(&out.stderr);
    let (want, got) = (files(&reference), files(&obj));
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        got.keys().collect::<Vec<_>>(),
        "{err}"
    );
    for (name, bytes) in &want {
        assert!(
            &got[name] == bytes,
            "{args:?}: {name} differs from the local one:\n{err}"
        );
    }
    err
}

fn pump_jobs(d: &Daemon) -> usize {
    d.log_text().matches("pump job:").count()
}

#[test]
fn other_system_headers_give_a_local_builds_object_in_pump_mode() {
    let f = farm("pump");
    let d = other_headers(&f);
    let args = ["gcc", "-O2", "-c", "src/f.c", "-o", "obj/f.o"];
    let hosts = d.host(",cpp,lzo");
    let err = same_as_local(&f, &hosts, &[PUMP, VERBOSE], &args);
    // Sent in pump form, its object not used, sent again preprocessed.
    assert_eq!(pump_jobs(&d), 1, "{}", d.log_text());
    assert!(
        err.contains("(protocol 3)") && err.contains("(protocol 2)"),
        "{err}"
    );
    let warned: Vec<&str> = err.lines().filter(|l| l.contains(WARNING)).collect();
    assert_eq!(warned.len(), 1, "{err}");
    assert!(warned[0].contains("other-include/string.h"), "{err}");
    // Remembered: the next job goes plain at once, without a warning.
    let err = same_as_local(&f, &hosts, &[PUMP, VERBOSE], &args);
    assert_eq!(pump_jobs(&d), 1, "{}", d.log_text());
    assert!(!err.contains("(protocol 3)"), "{err}");
    assert!(!err.contains(WARNING), "{err}");
    assert_eq!(d.wait_count("COMPILE_OK", 3), 3);
    f.assert_no_backoff();
}

#[test]
fn other_system_headers_give_a_local_builds_object_for_plain_modes_g_jobs() {
    let f = farm("debug");
    let d = other_headers(&f);
    let args = ["gcc", "-O0", "-g", "-c", "src/f.c", "-o", "obj/f.o"];
    // Plain mode would move -g's columns: the refused job is compiled
    // here.
    let err = same_as_local(&f, &d.host(",lzo"), &[VERBOSE], &args);
    assert_eq!(pump_jobs(&d), 1, "{}", d.log_text());
    assert_eq!(err.matches(WARNING).count(), 1, "{err}");
    assert!(err.contains("compiling src/f.c here"), "{err}");
    // Remembered: the next ones go preprocessed here, as in distcc 3.4
    // (plain mode's -g limit), without another warning.
    let out = f.distcc(&d.host(",lzo"), &args, &[VERBOSE]);
    assert_ok(&out, "again");
    let err = text(&out.stderr);
    assert!(
        err.contains("(protocol 2)") && !err.contains("(protocol 3)"),
        "{err}"
    );
    assert!(!err.contains(WARNING), "{err}");
    assert_eq!(d.wait_count("COMPILE_OK", 2), 2);
    assert_eq!(pump_jobs(&d), 1);
    f.assert_no_backoff();
}

#[test]
fn the_same_system_headers_keep_pump_form_and_dependency_files_are_local_ones() {
    let f = farm("same");
    let d = Daemon::start(&f.daemon_config(Kind::Ours).args(["--log-level", "debug"]));
    let hosts = d.host(",cpp,lzo");
    let env = [PUMP, VERBOSE];
    let base = ["gcc", "-O2", "-c", "src/f.c", "-o", "obj/f.o"];
    let mut jobs = 0;
    for deps in [
        &[][..],
        &["-MD"],
        &["-MD", "-MP", "-MF", "obj/f.deps"],
        &["-MMD"],
    ] {
        let args = [&base[..], deps].concat();
        let err = same_as_local(&f, &hosts, &env, &args);
        jobs += 1;
        assert!(!err.contains(WARNING), "{err}");
        // -MMD leaves system headers out of the list: preprocessed here.
        let mmd = deps.contains(&"-MMD");
        assert_eq!(err.contains("(protocol 3)"), !mmd, "{args:?}: {err}");
        assert!(!err.contains("(protocol 2)") || mmd, "{args:?}: {err}");
    }
    assert_eq!(pump_jobs(&d), 3, "{}", d.log_text());
    assert_eq!(d.wait_count("COMPILE_OK", jobs), jobs);
    // The list verified here is named in the next choice, and the server
    // answers with its index.
    let lists = f.path("ddir/system-headers");
    assert_eq!(std::fs::read_dir(&lists).unwrap().count(), 1, "{lists:?}");
}

/// clang's `-MD` names its own headers' directory: its list is checked
/// the same way (its dependency file itself is gcc's width, not clang's:
/// not compared here).
#[test]
fn clang_pump_jobs_are_checked_too() {
    crate::require_tool!("clang");
    let f = farm("clang");
    std::os::unix::fs::symlink("/usr/bin/clang", f.path("masq/clang")).unwrap();
    let d = Daemon::start(&f.daemon_config(Kind::Ours).args(["--log-level", "debug"]));
    let args = ["clang", "-O2", "-c", "src/f.c", "-o", "obj/f.o"];
    for _ in 0..2 {
        let err = same_as_local(&f, &d.host(",cpp,lzo"), &[PUMP, VERBOSE], &args);
        assert!(
            err.contains("(protocol 3)") && !err.contains("(protocol 2)"),
            "{err}"
        );
        assert!(!err.contains(WARNING), "{err}");
    }
    assert_eq!(pump_jobs(&d), 2, "{}", d.log_text());
    let log = d.log_text();
    assert!(log.contains("known to the client"), "{log}");
}

/// C++: libstdc++'s headers `#include_next` the C library's through
/// directories earlier in the path; none of that is a difference.
#[test]
fn cxx_pump_jobs_keep_pump_form() {
    let f = farm("cxx");
    f.write(
        "src/g.cc",
        "#include <vector>\n#include <string>\n#include <cstdlib>\n#include <cmath>\n\
         #include <algorithm>\n#include <limits>\n#include <cstring>\n#include <iostream>\n\
         std::vector<std::string> g() { return {std::to_string(std::abs(-3)), \"x\"}; }\n",
    );
    let d = Daemon::start(&f.daemon_config(Kind::Ours).args(["--log-level", "debug"]));
    let args = ["g++", "-O2", "-c", "src/g.cc", "-o", "obj/g.o"];
    let err = same_as_local(&f, &d.host(",cpp,lzo"), &[PUMP, VERBOSE], &args);
    assert!(
        err.contains("(protocol 3)") && !err.contains("(protocol 2)"),
        "{err}"
    );
    assert!(!err.contains(WARNING), "{err}");
}
