//! Where scripts and users depend on distcc 3.4's words and exit codes
//! (issue 11): each test runs Debian's 3.4 and ours the same way and
//! compares what a script would read.

use std::path::Path;
use std::process::{Command, Output};

use super::harness::{Farm, Kind, assert_ok, text};
use crate::{require_tool, support};

const DEBIAN_DISTCC: &str = "/usr/bin/distcc";
const DEBIAN_DISTCCD: &str = "/usr/bin/distccd";

fn run(program: &Path, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()))
}

/// The first `n` lines of stdout, and the exit code.
fn head(out: &Output, n: usize) -> (Vec<String>, Option<i32>) {
    let lines = text(&out.stdout)
        .lines()
        .take(n)
        .map(str::to_owned)
        .collect();
    (lines, out.status.code())
}

#[test]
fn version_banners_start_with_3_4s_lines() {
    require_tool!(DEBIAN_DISTCC);
    require_tool!(DEBIAN_DISTCCD);
    for (ours, theirs) in [
        (support::bin("distcc"), DEBIAN_DISTCC),
        (support::bin("distccd"), DEBIAN_DISTCCD),
    ] {
        let o = run(&ours, &["--version"]);
        let t = run(Path::new(theirs), &["--version"]);
        // Tools read the first two lines: program, version, host triple;
        // then the protocols and the port.
        assert_eq!(head(&o, 2), head(&t, 2), "{}", text(&o.stdout));
        let third = text(&o.stdout).lines().nth(2).unwrap_or("").to_owned();
        assert!(third.contains("distcc-rs"), "our name: {third}");
        // --help opens with the same banner, as 3.4's does.
        let o = run(&ours, &["--help"]);
        let t = run(Path::new(theirs), &["--help"]);
        assert_eq!(head(&o, 2), head(&t, 2), "{}", text(&o.stdout));
    }
}

#[test]
fn the_daemon_announces_protocol_3() {
    let f = Farm::new("fid-banner");
    let daemon = f.daemon(Kind::Ours);
    assert!(
        daemon.wait_log("protocols 1, 2 and 3"),
        "start-up line: {}",
        daemon.log_text()
    );
}

/// Stderr of a compile of `hello.c` through `program` with this farm's
/// environment (plus `env`), after which the object must exist.
fn compile(f: &Farm, program: &Path, hosts: &str, env: &[(&str, &str)]) -> String {
    let out = f
        .command(
            program,
            hosts,
            &["gcc", "-c", "hello.c", "-o", "hello.o"],
            env,
        )
        .output()
        .unwrap();
    assert_ok(&out, &format!("{} with {hosts:?}", program.display()));
    assert!(f.work().join("hello.o").exists());
    std::fs::remove_file(f.work().join("hello.o")).unwrap();
    text(&out.stderr)
}

#[test]
fn an_unopenable_distcc_log_is_named_as_3_4_names_it() {
    require_tool!(DEBIAN_DISTCC);
    let f = Farm::with_hello("fid-log");
    let log = f.path("no-such-dir/distcc.log");
    let want = format!(
        "failed to open logfile {}: No such file or directory",
        log.display()
    );
    let env = [("DISTCC_LOG", log.to_str().unwrap())];
    for program in [support::bin("distcc"), DEBIAN_DISTCC.into()] {
        let err = compile(&f, &program, "", &env);
        assert!(err.contains(&want), "{}: {err}", program.display());
        assert!(!err.contains("File(") && !err.contains("os error"), "{err}");
        // Back on stderr, only what stderr gets without a log: no info.
        assert!(!err.contains("completed ok"), "{err}");
    }
}

#[test]
fn empty_host_lists_get_3_4s_warning() {
    require_tool!(DEBIAN_DISTCC);
    let f = Farm::with_hello("fid-empty");
    let hosts_file = f.path("ddir/hosts");
    std::fs::write(&hosts_file, "# nothing here\n").unwrap();
    for program in [support::bin("distcc"), DEBIAN_DISTCC.into()] {
        let err = compile(&f, &program, "", &[]);
        let want = "Warning: $DISTCC_HOSTS contained no hosts; can't distribute work";
        assert!(err.contains(want), "{}: {err}", program.display());
        let out = f
            .command(
                &program,
                "",
                &["gcc", "-c", "hello.c", "-o", "hello.o"],
                &[],
            )
            .env_remove("DISTCC_HOSTS")
            .output()
            .unwrap();
        assert_ok(&out, "empty hosts file");
        let want = format!(
            "Warning: {} contained no hosts; can't distribute work",
            hosts_file.display()
        );
        let err = text(&out.stderr);
        assert!(err.contains(&want), "{}: {err}", program.display());
    }
}

#[test]
fn the_log_says_compile_on_host_completed_ok_as_3_4_does() {
    require_tool!(DEBIAN_DISTCC);
    let f = Farm::with_hello("fid-ok");
    let daemon = f.daemon(Kind::Ours);
    let host = daemon.host(",lzo");
    let mut lines = Vec::new();
    for (i, program) in [support::bin("distcc"), DEBIAN_DISTCC.into()]
        .iter()
        .enumerate()
    {
        let log = f.path(&format!("client{i}.log"));
        compile(&f, program, &host, &[("DISTCC_LOG", log.to_str().unwrap())]);
        // `distcc[PID] compile hello.c on HOST completed ok`: no function name.
        let text = support::read(&log);
        let line = text
            .lines()
            .find(|l| l.contains(" completed ok") && l.contains(" on 127.0.0.1"))
            .unwrap_or_else(|| panic!("{}: no completion line in\n{text}", program.display()));
        let (prog, rest) = line.split_once('[').unwrap();
        let (_pid, rest) = rest.split_once("] ").unwrap();
        lines.push(format!("{prog}[PID] {rest}"));
    }
    assert_eq!(lines[0], lines[1]);
    assert_eq!(
        lines[0],
        format!("distcc[PID] compile hello.c on {host} completed ok")
    );
}

/// `+zeroconf` with no daemon announcing itself (none does on the test
/// machine's own network; tests/client/zeroconf.rs has a farm that does):
/// the user learns why nothing was found, and hosts beside it still serve.
#[test]
fn zeroconf_finding_nothing_says_so() {
    let f = Farm::with_hello("fid-zeroconf");
    let daemon = f.daemon(Kind::Ours);
    let ours = support::bin("distcc");
    let err = compile(&f, &ours, "+zeroconf", &[]);
    assert!(
        err.contains(
            "contained no hosts; can't distribute work (+zeroconf found no distccd announcing itself)"
        ),
        "{err}"
    );
    let err = compile(&f, &ours, &format!("+zeroconf {}", daemon.host("")), &[]);
    assert!(!err.contains("zeroconf"), "{err}");
    assert_eq!(daemon.wait_compiles(1), 1, "{err}");
}

#[test]
fn usage_errors_exit_1_as_in_3_4() {
    for (tool, args) in [
        ("lsdistcc", &["--help"][..]),
        ("lsdistcc", &["-Z"]),
        ("lsdistcc", &["-P7", "localhost"]),
        ("distccmon-text", &["--help"]),
        ("distccmon-text", &["soon"]),
        ("distccmon-text", &["-x"]),
        ("distccmon-text", &["1", "2"]),
    ] {
        let debian = format!("/usr/bin/{tool}");
        require_tool!(&debian);
        let theirs = run(Path::new(&debian), args).status.code();
        let ours = run(&support::bin(tool), args);
        assert_eq!(theirs, Some(1), "{tool} {args:?}: Debian's");
        assert_eq!(
            ours.status.code(),
            theirs,
            "{tool} {args:?}: {}",
            text(&ours.stderr)
        );
        assert!(
            !ours.stdout.is_empty() || !ours.stderr.is_empty(),
            "{tool} {args:?}: usage"
        );
    }
}

#[test]
fn save_temps_keeps_the_preprocessed_file_as_3_4_does() {
    require_tool!(DEBIAN_DISTCC);
    require_tool!("gcc");
    // Ours preprocesses into a pipe, not a temp file: with
    // DISTCC_SAVE_TEMPS=1 it still leaves `$TMPDIR/distcc_*.i`, with the
    // text 3.4's leaves.
    let f = Farm::with_hello("save-temps");
    let d = f.daemon(Kind::Ours);
    let mut kept = Vec::new();
    for program in [support::bin("distcc"), DEBIAN_DISTCC.into()] {
        for e in f.leftovers("ctmp") {
            std::fs::remove_file(e).unwrap();
        }
        let out = f
            .command(
                &program,
                &d.host(""),
                &["gcc", "-c", "hello.c", "-o", "hello.o"],
                &[("DISTCC_SAVE_TEMPS", "1")],
            )
            .output()
            .unwrap();
        assert_ok(&out, &program.display().to_string());
        let left: Vec<_> = f
            .leftovers("ctmp")
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "i"))
            .collect();
        assert_eq!(left.len(), 1, "{}: {left:?}", program.display());
        let name = left[0].file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("distcc_"), "{name}");
        kept.push(std::fs::read(&left[0]).unwrap());
    }
    assert!(text(&kept[0]).contains("twice"), "{}", text(&kept[0]));
    assert_eq!(text(&kept[0]), text(&kept[1]));
}

/// `-o` into a directory that does not exist. gcc fails ("can't create
/// nodir/...", exit 1), and so does 3.4 when it compiles here; for a
/// remote compile 3.4's client writes the object itself and creates the
/// missing directories first (`dcc_r_file` calls
/// `dcc_mk_tmp_ancestor_dirs`), so the job succeeds. Ours does what 3.4
/// does on each path, against 3.4's daemon and ours (whose second job
/// goes through the extension): the same exit code, the same
/// directories with the same modes, the same object.
#[test]
fn an_output_directory_that_does_not_exist_is_handled_as_3_4_does() {
    require_tool!(DEBIAN_DISTCC);
    require_tool!(DEBIAN_DISTCCD);
    let f = Farm::with_hello("fid-nodir");
    assert_ok(&f.local(&["gcc", "-c", "hello.c", "-o", "ref.o"]), "local");
    let args = ["gcc", "-c", "hello.c", "-o", "nodir/sub/hello.o"];
    let nodir = f.work().join("nodir");
    let run = |program: &Path, hosts: &str| {
        let _ = std::fs::remove_dir_all(&nodir);
        let out = f.command(program, hosts, &args, &[]).output().unwrap();
        let made = tree(&nodir);
        (out, made)
    };
    let ours = support::bin("distcc");
    for kind in [Kind::Debian, Kind::Ours] {
        let d = f.daemon(kind);
        let host = d.host(",lzo");
        for round in 0..2 {
            let mut seen = Vec::new();
            for program in [ours.as_path(), Path::new(DEBIAN_DISTCC)] {
                let jobs = d.count("COMPILE_OK");
                let (out, made) = run(program, &host);
                let what = format!("{} {kind:?} round {round}", program.display());
                assert_ok(&out, &what);
                assert_eq!(
                    d.wait_count("COMPILE_OK", jobs + 1),
                    jobs + 1,
                    "{what}: compiled there"
                );
                support::assert_same(&nodir.join("sub/hello.o"), &f.work().join("ref.o"));
                seen.push(made);
            }
            let names: Vec<&str> = seen[1].iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(names, ["nodir", "nodir/sub", "nodir/sub/hello.o"]);
            assert_eq!(seen[0], seen[1], "ours, then 3.4's ({kind:?})");
        }
    }
    // Compiled here (as after a failed remote attempt): gcc's failure,
    // nothing made.
    for program in [ours.as_path(), Path::new(DEBIAN_DISTCC)] {
        let (out, made) = run(program, "localhost");
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}: {err}", program.display());
        assert!(err.contains("can't create nodir/sub/hello.o"), "{err}");
        assert!(made.is_empty(), "{}: {made:?}", program.display());
    }
}

/// Everything under `dir` (itself included), relative to its parent,
/// with its permission bits; empty when `dir` does not exist.
fn tree(dir: &Path) -> Vec<(String, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let parent = dir.parent().unwrap();
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(p) = todo.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        let name = p
            .strip_prefix(parent)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        out.push((name, meta.permissions().mode() & 0o7777));
        if meta.is_dir() {
            todo.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        }
    }
    out.sort();
    out
}
