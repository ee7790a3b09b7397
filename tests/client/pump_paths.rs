//! Pump mode where paths are odd (issue 11): a header reached through
//! `..` must compile on the server (the client makes the directory it
//! steps out of exist there, as 3.4's include server does), and a
//! dependency file whose directory is missing must fail as gcc and plain
//! mode fail, not succeed because the server wrote it elsewhere; and
//! `distcc --scan-includes` shows what pump mode would send, in 3.4's
//! format, with its exit codes.

use crate::{require_tool, support};

use super::harness::{Farm, Kind, assert_ok, assert_same, text};

const MAIN_C: &str = "#include \"sub/../x.h\"\n#include \"a/b/../../inc/y.h\"\n#include \"z.h\"\n\
int main(void) { return X + Y + Z; }\n";

fn setup(farm: &Farm) {
    farm.write("main.c", MAIN_C);
    farm.write("x.h", "#define X 1\n");
    farm.write("inc/y.h", "#define Y 2\n");
    farm.write("zdir/z.h", "#define Z 3\n");
    std::fs::create_dir_all(farm.work().join("sub")).unwrap();
    std::fs::create_dir_all(farm.work().join("a/b")).unwrap();
    std::fs::create_dir_all(farm.work().join("e")).unwrap();
}

fn dotdot_headers_compile_remotely(kind: Kind) {
    require_tool!("gcc");
    let farm = Farm::new(&format!("pump-dotdot-{kind:?}"));
    setup(&farm);
    let daemon = farm.daemon(kind);
    let args = ["gcc", "-Ie/../zdir", "-c", "main.c", "-o", "main.o"];
    let out = farm.distcc(
        &daemon.host(",cpp,lzo"),
        &args,
        &[("DISTCC_PUMP", "1"), ("DISTCC_VERBOSE", "1")],
    );
    assert_ok(&out, "pump compile");
    let log = text(&out.stderr);
    assert!(
        log.contains("(protocol 3)"),
        "not sent in pump mode:\n{log}"
    );
    assert!(
        !log.contains("retrying locally") && !log.contains("locally instead"),
        "the server failed:\n{log}"
    );
    assert_eq!(daemon.wait_compiles(1), 1, "{log}");
    std::fs::rename(farm.work().join("main.o"), farm.work().join("remote.o")).unwrap();
    assert_ok(&farm.local(&args), "local compile");
    assert_same(&farm.work().join("remote.o"), &farm.work().join("main.o"));
}

#[test]
fn dotdot_headers_compile_remotely_with_our_daemon() {
    dotdot_headers_compile_remotely(Kind::Ours);
}

#[test]
fn dotdot_headers_compile_remotely_with_debians_daemon() {
    require_tool!(support::distccd::DEBIAN_DISTCCD);
    dotdot_headers_compile_remotely(Kind::Debian);
}

#[test]
fn a_missing_dependency_directory_fails_as_gcc_does() {
    require_tool!("gcc");
    let farm = Farm::new("pump-nodepdir");
    farm.write("y.c", "int y;\n");
    let daemon = farm.daemon(Kind::Ours);
    let args = ["gcc", "-MD", "-c", "y.c", "-o", "obj/y.o"];
    let local = std::process::Command::new("gcc")
        .args(&args[1..])
        .current_dir(farm.work())
        .output()
        .unwrap();
    assert_eq!(local.status.code(), Some(1), "gcc itself fails");
    let gcc_says = "opening dependency file obj/y.d: No such file or directory";
    assert!(
        text(&local.stderr).contains(gcc_says),
        "{}",
        text(&local.stderr)
    );
    for (hosts, env) in [
        (daemon.host(",lzo"), &[][..]),
        (daemon.host(",cpp,lzo"), &[("DISTCC_PUMP", "1")]),
    ] {
        let out = farm.distcc(&hosts, &args, env);
        assert_eq!(
            out.status.code(),
            local.status.code(),
            "{hosts}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains(gcc_says),
            "{}",
            text(&out.stderr)
        );
        assert!(
            !farm.work().join("obj").exists(),
            "{hosts}: obj/ was created"
        );
    }
}

/// Our client's and Debian's exit code and stderr for `args` in `farm`.
fn both(
    farm: &Farm,
    hosts: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> [(Option<i32>, String); 2] {
    [support::bin("distcc"), "/usr/bin/distcc".into()].map(|p| {
        let out = farm.command(&p, hosts, args, env).output().unwrap();
        (out.status.code(), text(&out.stderr))
    })
}

#[test]
fn scan_includes_lists_what_pump_mode_sends() {
    require_tool!("gcc");
    let farm = Farm::new("scan-includes");
    setup(&farm);
    let daemon = farm.daemon(Kind::Ours);
    let args = [
        "--scan-includes",
        "gcc",
        "-Ie/../zdir",
        "-c",
        "main.c",
        "-o",
        "main.o",
    ];
    let out = farm.distcc(&daemon.host(",cpp,lzo"), &args, &[("DISTCC_PUMP", "1")]);
    assert_ok(&out, "--scan-includes");
    let w = farm.work();
    let mut want: Vec<String> = ["main.c", "x.h", "inc/y.h", "zdir/z.h"]
        .iter()
        .map(|f| format!("FILE      {}", w.join(f).display()))
        .collect();
    want.extend(
        ["sub", "a/b", "e"]
            .iter()
            .map(|d| format!("DIRECTORY {}", w.join(d).display())),
    );
    let got = text(&out.stdout);
    let lines: Vec<&str> = got.lines().collect();
    assert_eq!(lines[..want.len()], want[..], "{got}");
    // Then the compiler's own directories, which the server provides.
    let system: Vec<&str> = lines[want.len()..].to_vec();
    assert!(system.contains(&"SYSTEMDIR /usr/include"), "{got}");
    assert!(system.iter().all(|l| l.starts_with("SYSTEMDIR /")), "{got}");
    // Nothing was compiled, here or there.
    assert!(!w.join("main.o").exists());
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(daemon.count("COMPILE_OK"), 0);
}

#[test]
fn scan_includes_fails_as_3_4_does() {
    require_tool!("/usr/bin/distcc");
    let farm = Farm::new("scan-includes-fail");
    setup(&farm);
    let compile = ["--scan-includes", "gcc", "-c", "main.c", "-o", "main.o"];
    // A host without ,cpp: 3.4's words, exit 100.
    let [ours, theirs] = both(&farm, "127.0.0.1:1,lzo", &compile, &[]);
    assert_eq!(ours.0, Some(100), "{}", ours.1);
    assert_eq!(ours.0, theirs.0, "{}", theirs.1);
    let words = "'--scan_includes' specified, but distcc wouldn't have used include server \
                 (make sure hosts list includes ',cpp' option?)";
    assert!(
        ours.1.contains(words) && theirs.1.contains(words),
        "{}\n{}",
        ours.1,
        theirs.1
    );
    // A pump host, but not run under pump: no include list (3.4: no
    // include server), exit 1.
    let [ours, theirs] = both(&farm, "127.0.0.1:1,cpp,lzo", &compile, &[]);
    assert_eq!(ours.0, Some(1), "{}", ours.1);
    assert_eq!(ours.0, theirs.0, "{}", theirs.1);
    assert!(ours.1.contains("failed to get includes"), "{}", ours.1);
    // Nothing to scan: 3.4's "missing operand", exit 101.
    let [ours, theirs] = both(&farm, "127.0.0.1:1,cpp,lzo", &["--scan-includes"], &[]);
    assert_eq!((ours.0, theirs.0), (Some(101), Some(101)));
    assert!(ours.1.contains("missing operand"), "{}", ours.1);
    assert!(!farm.work().join("main.o").exists());
}
