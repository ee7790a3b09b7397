//! Protocol 3 (pump mode) requests against a real daemon and real gcc
//! (spec §1.5, §4.5 steps 2, 5 and 8): hand-built requests carrying the
//! source and its headers by their absolute paths on this machine, the
//! reply decoded with the library.
//!
//! Compiles run against ours and Debian's 3.4 (which serves v3 too; its
//! `-g` objects differ from a local build, ours must not). Malicious
//! requests run against ours only: 3.4 writes wherever NAME points (spec
//! §6.7).

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use distcc::protocol::{
    Decoded, FileEntry, FileKind, Limits, Request, RequestHead, Response, decode_response,
};

use super::harness::{Daemon, Farm, Kind, Opts, exchange, local, text};

const P_C: &str = "#include \"a.h\"\n#include \"b.h\"\n#include <stdio.h>\n\
    const char *where = __FILE__;\n\
    int main(void) { printf(\"%s %d\\n\", where, A + B); return 0; }\n";
const A_H: &str = "#define A 40\n";
const B_H: &str = "#define B 2\n";
const BAD_C: &str = "int main(void) { return undeclared_thing; }\n";

fn bytes(p: &Path) -> Vec<u8> {
    p.as_os_str().as_bytes().to_vec()
}

fn file(path: &Path) -> FileEntry {
    FileEntry {
        name: bytes(path),
        kind: FileKind::File(std::fs::read(path).unwrap()),
    }
}

fn link(name: &[u8], target: &[u8]) -> FileEntry {
    FileEntry {
        name: name.to_vec(),
        kind: FileKind::Link(target.to_vec()),
    }
}

fn request(cwd: &[u8], argv: &[&str], files: Vec<FileEntry>) -> Vec<u8> {
    Request {
        head: RequestHead {
            version: 3,
            cwd: Some(cwd.to_vec()),
            argv: argv.iter().map(|a| a.as_bytes().to_vec()).collect(),
        },
        files,
        source: Vec::new(),
    }
    .encode()
}

#[track_caller]
fn response(reply: &[u8]) -> Response {
    match decode_response(reply, &Limits::default(), true) {
        Ok(Decoded::Done(r, n)) if n == reply.len() => r,
        other => panic!("bad reply {other:?}: {:?}", text(reply)),
    }
}

/// The farm's sources: `src/p.c`, `src/inc/a.h`, and `b.h` in an include
/// directory given by its absolute path.
fn sources(farm: &Farm) -> (PathBuf, Vec<FileEntry>) {
    let abs = farm.path("absinc");
    std::fs::create_dir_all(farm.src().join("inc")).unwrap();
    std::fs::create_dir_all(&abs).unwrap();
    farm.write_src("p.c", P_C);
    farm.write_src("inc/a.h", A_H);
    std::fs::write(abs.join("b.h"), B_H).unwrap();
    // As 3.4's include server sends them, with its link to the server's
    // own system headers.
    let up = "../".repeat(22);
    let files = vec![
        file(&farm.src().join("p.c")),
        file(&farm.src().join("inc/a.h")),
        file(&abs.join("b.h")),
        link(b"/usr/include", format!("{up}usr/include").as_bytes()),
    ];
    (abs, files)
}

/// `gcc -Iinc -I<abs> FLAGS -c SOURCE -o p.o`, sent from the farm's source
/// directory; the reply, and the same command run locally.
fn compile_both(farm: &Farm, d: &Daemon, flags: &[&str], source: &str) -> (Response, PathBuf) {
    let (abs, files) = sources(farm);
    let inc = format!("-I{}", abs.display());
    let mut argv = vec!["gcc", "-Iinc", &inc];
    argv.extend_from_slice(flags);
    argv.extend_from_slice(&["-c", source, "-o"]);
    let req = request(
        &bytes(&farm.src()),
        &[argv.as_slice(), &["p.o"]].concat(),
        files,
    );
    let r = response(&exchange(d.port, &req, false));
    local(farm, &[argv.as_slice(), &["local.o"]].concat());
    (r, farm.src().join("local.o"))
}

fn v3_compile_matches_local(kind: Kind) {
    crate::require_debian_distcc!(kind);
    let farm = Farm::new("pump-obj");
    let d = farm.daemon(kind, &Opts::default());
    let abs_source = farm.src().join("p.c").display().to_string();
    let mut compiles = 0;
    for flags in [&["-O2"][..], &["-g", "-O2"]] {
        for source in ["p.c", abs_source.as_str()] {
            let (r, local_o) = compile_both(&farm, &d, flags, source);
            compiles += 1;
            assert_eq!(r.status, 0, "{flags:?} {source}: {}", text(&r.stderr));
            assert_eq!(r.version, 3);
            assert!(!r.object.is_empty());
            let dotd = text(&r.dotd.expect("no DOTD"));
            if kind == Kind::Debian {
                continue; // 3.4 compiles; its objects keep the root's length
            }
            let local = std::fs::read(&local_o).unwrap();
            assert!(
                r.object == local,
                "{flags:?} {source}: object differs from local"
            );
            // The .d names the client's paths and its -o as the target.
            let b_h = farm.path("absinc/b.h").display().to_string();
            assert!(dotd.starts_with("p.o: "), "{dotd}");
            for dep in [source, "inc/a.h", b_h.as_str()] {
                assert!(dotd.contains(dep), "{dep} not in {dotd}");
            }
            assert!(!dotd.contains("distccd_"), "server path in {dotd}");
        }
    }
    assert_eq!(
        d.wait_count("COMPILE_OK", compiles),
        compiles,
        "{}",
        d.log_text()
    );
}

fn v3_compile_error_returns_status_and_stderr(kind: Kind) {
    crate::require_debian_distcc!(kind);
    let farm = Farm::new("pump-err");
    farm.write_src("bad.c", BAD_C);
    let d = farm.daemon(kind, &Opts::default());
    let files = vec![file(&farm.src().join("bad.c"))];
    let req = request(
        &bytes(&farm.src()),
        &["gcc", "-c", "bad.c", "-o", "bad.o"],
        files,
    );
    let reply = exchange(d.port, &req, false);
    assert!(reply.ends_with(b"DOTO00000000"), "{:?}", text(&reply));
    let r = response(&reply);
    assert_eq!(r.status, 1 << 8);
    let err = text(&r.stderr);
    assert!(
        err.contains("bad.c:1:") && err.contains("undeclared_thing"),
        "{err}"
    );
    assert_eq!(r.dotd, None);
    assert_eq!(d.wait_count("COMPILE_ERROR", 1), 1, "{}", d.log_text());
}

/// 3.4's pump client sends argv unstripped, so automake's `-MD -MP -MF
/// .deps/p.Tpo` arrives as it is: the client's -MF names a file on the
/// client (written from DOTD), so it is served, never written here.
#[test]
fn automake_dependency_flags_are_served() {
    crate::require_tool!("gcc");
    let farm = Farm::new("pump-mf");
    let d = farm.daemon(Kind::Ours, &Opts::default());
    let (abs, files) = sources(&farm);
    let inc = format!("-I{}", abs.display());
    let argv = [
        "gcc",
        "-Iinc",
        &inc,
        "-MD",
        "-MP",
        "-MF",
        ".deps/p.Tpo",
        "-MT",
        "p.o",
        "-c",
        "p.c",
        "-o",
        "p.o",
    ];
    let req = request(&bytes(&farm.src()), &argv, files);
    let r = response(&exchange(d.port, &req, false));
    assert_eq!(r.status, 0, "{}", text(&r.stderr));
    let dotd = text(&r.dotd.expect("no DOTD"));
    assert!(dotd.starts_with("p.o:"), "{dotd}");
    assert!(dotd.contains(" p.c") && dotd.contains(" inc/a.h"), "{dotd}");
    assert!(dotd.contains("\ninc/a.h:"), "-MP phony targets: {dotd}");
    assert!(leftovers(&farm).is_empty(), "left: {:?}", leftovers(&farm));
}

crate::both_daemons!(
    v3_compile_matches_local,
    v3_compile_error_returns_status_and_stderr
);

/// Everything under the daemon's job directories (which ours keeps, empty,
/// for reuse): files, directories and links — once that is nothing, or
/// after 30 s, as 3.4 cleans up only after replying.
fn leftovers(farm: &Farm) -> Vec<PathBuf> {
    crate::support::eventually(|| held(farm).is_empty());
    held(farm)
}

fn held(farm: &Farm) -> Vec<PathBuf> {
    crate::support::job_dir_contents(&farm.path("dtmp"))
}

/// Send a malicious request built by `make(victim dir, p.c entry)`; it
/// must be refused with `reason` logged and nothing written to the
/// (world-writable) victim directory; then a normal compile works and
/// nothing is left in the daemon's TMPDIR.
fn refused(make: impl Fn(&Path, FileEntry) -> Vec<u8>, reason: &str) {
    crate::require_tool!("gcc");
    let farm = Farm::new("pump-evil");
    let victim = farm.path("victim");
    std::fs::create_dir_all(&victim).unwrap();
    std::fs::set_permissions(&victim, PermissionsExt::from_mode(0o777)).unwrap();
    farm.write_src("ok.c", "int ok;\n");
    let ok_c = file(&farm.src().join("ok.c"));
    let d = farm.daemon(Kind::Ours, &Opts::default());
    let reply = exchange(d.port, &make(&victim, ok_c.clone()), false);
    assert!(reply.is_empty(), "got a reply: {:?}", text(&reply));
    assert!(
        d.wait_log(reason),
        "reason {reason:?} not logged:\n{}",
        d.log_text()
    );
    assert_eq!(d.wait_count("REJ_BAD_REQ", 1), 1, "{}", d.log_text());
    let good = request(
        &bytes(&farm.src()),
        &["gcc", "-c", "ok.c", "-o", "ok.o"],
        vec![ok_c],
    );
    let r = response(&exchange(d.port, &good, false));
    assert_eq!(r.status, 0, "{}", text(&r.stderr));
    assert_eq!(d.wait_count("COMPILE_OK", 1), 1, "{}", d.log_text());
    let written: Vec<_> = std::fs::read_dir(&victim).unwrap().flatten().collect();
    assert!(written.is_empty(), "written outside the job: {written:?}");
    assert!(leftovers(&farm).is_empty(), "left: {:?}", leftovers(&farm));
}

/// `gcc -c ok.c` from `/src` with `ok.c` and then `extra`.
fn evil(extra: Vec<FileEntry>, ok: FileEntry) -> Vec<u8> {
    let ok = FileEntry {
        name: b"/src/ok.c".to_vec(),
        ..ok
    };
    let files = [vec![ok], extra].concat();
    request(b"/src", &["gcc", "-c", "ok.c", "-o", "ok.o"], files)
}

fn up(n: usize, path: &Path) -> Vec<u8> {
    let rel = path.strip_prefix("/").unwrap().as_os_str().as_bytes();
    ["../".repeat(n).as_bytes(), rel].concat()
}

fn x() -> FileKind {
    FileKind::File(b"pwned\n".to_vec())
}

macro_rules! malicious {
    ($($name:ident: |$victim:ident, $ok:ident| $make:expr, reason: $reason:expr;)*) => {
        $( #[test] fn $name() { refused(|$victim: &Path, $ok: FileEntry| $make, $reason) } )*
    };
}

malicious! {
    relative_name: |_v, ok| evil(vec![FileEntry { name: b"x/y.h".to_vec(), kind: x() }], ok),
        reason: "\"x/y.h\" is not an absolute path";
    dotdot_name: |v, ok| {
        let name = [b"/a/".as_slice(), &up(12, &v.join("pwned"))].concat();
        evil(vec![FileEntry { name, kind: x() }], ok)
    }, reason: "component";
    relative_link_out_then_file: |v, ok| evil(vec![
        link(b"/a", &up(12, v)),
        FileEntry { name: b"/a/evil".to_vec(), kind: x() },
    ], ok), reason: "leads out of the mirror";
    absolute_link_then_file: |v, ok| evil(vec![
        link(b"/a", &bytes(v)),
        FileEntry { name: b"/a/evil".to_vec(), kind: x() },
    ], ok), reason: "goes through a symbolic link the client sent (/a)";
    system_link_then_file: |v, ok| evil(vec![
        link(&bytes(v), &up(30, v)),
        FileEntry { name: bytes(&v.join("evil")), kind: x() },
    ], ok), reason: "goes through a symbolic link";
    duplicate_name: |_v, ok| evil(vec![
        FileEntry { name: b"/src/x.h".to_vec(), kind: x() },
        FileEntry { name: b"/src/x.h".to_vec(), kind: x() },
    ], ok), reason: "/src/x.h already exists";
    relative_cwd: |_v, ok| request(b"src", &["gcc", "-c", "ok.c"], vec![ok]),
        reason: "CDIR \"src\" is not an absolute path";
    dotdot_cwd: |_v, ok| request(b"/src/../../../x", &["gcc", "-c", "ok.c"], vec![ok]),
        reason: "CDIR \"/src/../../../x\" has a";
    preprocessor_writes_deps: |v, ok| {
        let arg = format!("-Wp,-MD,{}", v.join("pwned.d").display());
        request(b"/src", &["gcc", "-c", "ok.c", &arg], vec![ok])
    }, reason: "only -D and -U";
}

/// A client that hangs up in the middle of its file list: the files
/// already written go with the job directory.
#[test]
fn truncated_file_list_leaves_nothing() {
    crate::require_tool!("gcc");
    let farm = Farm::new("pump-cut");
    let d = farm.daemon(Kind::Ours, &Opts::default());
    let files = (0..20)
        .map(|i| FileEntry {
            name: format!("/src/d{i}/h{i}.h").into_bytes(),
            // Incompressible, so the cut falls inside the list.
            kind: FileKind::File(
                (0..5000u32)
                    .map(|j| (j.wrapping_mul(2_654_435_761) >> 13) as u8)
                    .collect(),
            ),
        })
        .collect();
    let mut req = request(b"/src", &["gcc", "-c", "x.c"], files);
    req.truncate(req.len() / 2);
    assert!(exchange(d.port, &req, true).is_empty());
    assert!(d.wait_log("closed the connection"), "{}", d.log_text());
    assert_eq!(d.wait_count("REJ_BAD_REQ", 1), 1, "{}", d.log_text());
    assert!(leftovers(&farm).is_empty(), "left: {:?}", leftovers(&farm));
}

/// With DISTCC_SAVE_TEMPS the job directory stays, mirror included.
#[test]
fn save_temps_keeps_the_mirror() {
    crate::require_tool!("gcc");
    let farm = Farm::new("pump-keep");
    let opts = Opts {
        env: vec![("DISTCC_SAVE_TEMPS".into(), "1".into())],
        ..Opts::default()
    };
    let d = farm.daemon(Kind::Ours, &opts);
    let (r, _) = compile_both(&farm, &d, &[], "p.c");
    assert_eq!(r.status, 0, "{}", text(&r.stderr));
    let kept = held(&farm);
    let src = farm.src().join("p.c");
    let mirrored = kept
        .iter()
        .filter(|p| p.ends_with("root"))
        .map(|root| root.join(src.strip_prefix("/").unwrap()))
        .find(|p| p.exists());
    assert!(mirrored.is_some(), "no mirrored p.c in {kept:?}");
}
