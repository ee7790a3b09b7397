//! The pump-mode mirror's pure rules: which client paths and link
//! targets are accepted, where outputs go, and the cleaned .d text.

use super::*;

#[track_caller]
fn path(s: &str) -> ClientPath {
    ClientPath::parse("NAME", s.as_bytes()).unwrap()
}

/// What the client must not send with `-o obj/x.o` in /w and `x.su`
/// beside it: whatever [`output_clash`] names, the server refuses.
#[test]
fn files_sent_where_outputs_go_are_clashes() {
    let clash = |sent: &[&str]| {
        let sent = sent.iter().map(|s| s.as_bytes());
        output_clash(b"/w", b"obj/x.o", &["x.su"], sent)
    };
    assert_eq!(clash(&["/w/x.c", "/w/obj/x.h", "/w/objx.su"]), None);
    for (sent, why) in [
        (
            "/w/obj/x.su",
            "it sends /w/obj/x.su, where the compiler writes an output",
        ),
        (
            "/w/obj/x.o",
            "it sends /w/obj/x.o, where the compiler writes an output",
        ),
        (
            "/w/obj/x.o/y.h",
            "it sends /w/obj/x.o/y.h, where the compiler writes an output",
        ),
        ("/w/obj", "it sends /w/obj, where -o needs a directory"),
    ] {
        assert_eq!(clash(&["/w/x.c", sent]).as_deref(), Some(why), "{sent}");
    }
    let none: [&[u8]; 0] = [];
    assert_eq!(
        output_clash(b"/w", b"../../x.o", &["x.su"], none).as_deref(),
        Some("-o \"../../x.o\" climbs above /")
    );
}

#[test]
fn outputs_are_placed_lexically_through_real_directories() {
    let cwd = path("/src/p");
    let place = |o: &str| output_place(&cwd, o.as_bytes());
    let shown = |o: &str| {
        let p = place(o).unwrap();
        let dirs: Vec<String> = p.dirs.iter().map(|d| d.to_string()).collect();
        (dirs.join(" "), p.file.to_string())
    };
    assert_eq!(shown("x.o"), (String::new(), "/src/p/x.o".into()));
    assert_eq!(
        shown("out/x.o"),
        ("/src/p/out".into(), "/src/p/out/x.o".into())
    );
    // Every directory walked is made real, the one `..` leaves too.
    assert_eq!(
        shown("a/../../b/./x.o"),
        ("/src/p/a /src/b".into(), "/src/b/x.o".into())
    );
    assert_eq!(shown("/abs/x.o"), ("/abs".into(), "/abs/x.o".into()));
    assert_eq!(shown("../../x.o"), (String::new(), "/x.o".into()));
    for (o, why) in [
        ("../../../x.o", "climbs above /"),
        ("out/", "names no file"),
        ("out/..", "names no file"),
        ("", "names no file"),
    ] {
        let e = place(o).unwrap_err();
        assert!(e.contains(why), "{o}: {e}");
    }
}

#[test]
fn client_paths() {
    const CASES: &[(&[u8], Result<&str, &str>)] = &[
        (b"/usr/include/stdio.h", Ok("/usr/include/stdio.h")),
        (b"/a//b/", Ok("/a/b")),
        (b"/", Ok("/")),
        (b"x/y.h", Err("not an absolute path")),
        (b"", Err("not an absolute path")),
        (b"/a/../../../../tmp/pwned", Err("\"..\" component")),
        (b"/a/./b", Err("\"..\" component")),
        (b"/..", Err("\"..\" component")),
        (b"/a\0b", Err("NUL")),
    ];
    for (input, want) in CASES {
        let got = ClientPath::parse("NAME", input).map(|p| p.to_string());
        match (got, want) {
            (Ok(g), Ok(w)) => assert_eq!(&g, w, "{input:?}"),
            (Err(g), Err(w)) => assert!(g.contains(w), "{input:?}: {g}"),
            (g, w) => panic!("{input:?}: got {g:?}, want {w:?}"),
        }
    }
    let p = path("/home/u/x.c");
    assert_eq!(p.depth(), 3);
    assert_eq!(
        p.under(Path::new("/t/root")),
        Path::new("/t/root/home/u/x.c")
    );
    assert_eq!(path("/").under(Path::new("/t/root")), Path::new("/t/root"));
}

#[test]
fn link_targets() {
    let root = Path::new("/tmp/distccd_abcdef/root");
    let ups = |n: usize, rest: &str| format!("{}{rest}", "../".repeat(n));
    let sys = ups(21, "usr/include");
    let cases: Vec<(&str, String, Result<String, &str>)> = vec![
        // Absolute: rooted (the include server's mirrored links).
        (
            "/p/a.h",
            "/p/real/a.h".into(),
            Ok(format!("{}/p/real/a.h", root.display())),
        ),
        (
            "/p/a.h",
            "/p/../../etc/passwd".into(),
            Err("\"..\" component"),
        ),
        // Relative, inside the mirror.
        ("/p/q/a.h", "b.h".into(), Ok("b.h".into())),
        ("/p/q/a.h", "../../x.h".into(), Ok("../../x.h".into())),
        (
            "/p/q/a.h",
            "../../../x.h".into(),
            Err("leads out of the mirror"),
        ),
        (
            "/p/q/a.h",
            "sub/../../x.h".into(),
            Err("after a plain component"),
        ),
        // The include server's system directory links.
        ("/usr/include", sys.clone(), Ok(sys)),
        (
            "/usr/include",
            ups(4, "usr/include"),
            Ok(ups(4, "usr/include")),
        ),
        (
            "/usr/include",
            ups(3, "usr/include"),
            Err("does not reach /"),
        ),
        ("/a", ups(6, "tmp/victim"), Err("leads out of the mirror")),
        (
            "/usr/include",
            ups(30, "etc"),
            Err("leads out of the mirror"),
        ),
        ("/a", String::new(), Err("empty")),
    ];
    for (name, target, want) in cases {
        let got = link_target(root, &path(name), target.as_bytes())
            .map(|p| p.to_string_lossy().into_owned());
        match (got, want) {
            (Ok(g), Ok(w)) => assert_eq!(g, w, "{name} -> {target}"),
            (Err(g), Err(w)) => assert!(g.contains(w), "{name} -> {target}: {g}"),
            (g, w) => panic!("{name} -> {target}: got {g:?}, want {w:?}"),
        }
    }
}

#[test]
fn dotd_names_the_client_paths_and_target() {
    const ROOT: &str = "/tmp/distccd_x/root";
    const OUT: &str = "/tmp/distccd_x/output.o";
    const CASES: &[(&str, &str, &str)] = &[
        (
            "/tmp/distccd_x/output.o: x.c inc/x.h \\\n /tmp/distccd_x/root/abs/y.h\n",
            "x.o",
            "x.o: x.c inc/x.h \\\n /abs/y.h\n",
        ),
        // Only the first occurrence per line is the target.
        (
            "/tmp/distccd_x/output.o: /tmp/distccd_x/output.o\n",
            "t",
            "t: /tmp/distccd_x/output.o\n",
        ),
        // Every rooted path on a line; a path merely starting alike stays.
        (
            " /tmp/distccd_x/root/a.h /tmp/distccd_x/root/b.h /tmp/distccd_x/rootless.h",
            "t",
            " /a.h /b.h /tmp/distccd_x/rootless.h",
        ),
        ("", "t", ""),
    ];
    for (deps, target, want) in CASES {
        let got = clean_dotd(
            deps.as_bytes(),
            OUT.as_bytes(),
            target.as_bytes(),
            ROOT.as_bytes(),
        );
        assert_eq!(String::from_utf8_lossy(&got), *want, "{deps:?}");
    }
}
