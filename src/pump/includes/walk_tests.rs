//! The closure against real directory trees: each test builds a small
//! tree under the temp directory and checks which files would be sent.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::closure;
use crate::pump::includes::SearchPath;

/// A scratch directory tree, removed on drop.
pub(in crate::pump::includes) struct Tree {
    pub root: PathBuf,
}

impl Tree {
    pub fn new(tag: &str) -> Tree {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let root = std::env::temp_dir().join(format!("dcc-inc-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        // A symlinked temp directory must not look like a `..` problem.
        Tree {
            root: root.canonicalize().unwrap(),
        }
    }

    /// Writes `text` to `rel`, making directories as needed.
    pub fn file(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    pub fn dir(&self, rel: &str) -> PathBuf {
        let p = self.root.join(rel);
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    /// `files` relative to the root, for readable assertions.
    pub fn rel(&self, files: &[PathBuf]) -> Vec<String> {
        let r = |f: &PathBuf| match f.strip_prefix(&self.root) {
            Ok(p) => p.display().to_string(),
            Err(_) => f.display().to_string(),
        };
        files.iter().map(r).collect()
    }

    /// The closure of `src` compiled in `cwd` (both relative to the root)
    /// with `flags`, and `system` as default directories.
    pub fn run(
        &self,
        cwd: &str,
        src: &str,
        flags: &[&str],
        system: &[&str],
    ) -> Result<Vec<String>, String> {
        let cwd = self.dir(cwd);
        let mut argv = vec![std::ffi::OsString::from("gcc")];
        argv.extend(flags.iter().map(std::ffi::OsString::from));
        let system = system.iter().map(|s| self.dir(s)).collect();
        let search = SearchPath::from_args(&argv, &cwd, system).map_err(|e| e.0)?;
        let c = closure(Path::new(src), &cwd, &search).map_err(|e| e.0)?;
        Ok(self.rel(&c.files))
    }

    /// The directories [`Tree::run`]'s closure makes the server create.
    pub fn forced_dirs(&self, cwd: &str, src: &str, flags: &[&str]) -> Vec<String> {
        let cwd = self.dir(cwd);
        let mut argv = vec![std::ffi::OsString::from("gcc")];
        argv.extend(flags.iter().map(std::ffi::OsString::from));
        let search = SearchPath::from_args(&argv, &cwd, Vec::new()).unwrap();
        let c = closure(Path::new(src), &cwd, &search).unwrap();
        self.rel(&c.dirs)
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

#[test]
fn quote_searches_the_includers_directory_first() {
    let t = Tree::new("quote");
    t.file("src/main.c", "#include \"a.h\"\n#include <b.h>\n");
    t.file("src/a.h", "");
    t.file("inc/a.h", "");
    t.file("src/b.h", "");
    t.file("inc/b.h", "");
    let got = t.run(".", "src/main.c", &["-Iinc"], &[]).unwrap();
    assert_eq!(got, ["src/main.c", "src/a.h", "inc/b.h"]);
}

#[test]
fn current_directory_is_the_includers_not_the_main_files() {
    let t = Tree::new("curdir");
    t.file("src/main.c", "#include <sub/h.h>\n");
    t.file("inc/sub/h.h", "#include \"g.h\"\n");
    t.file("inc/sub/g.h", "");
    t.file("src/g.h", "");
    let got = t.run("src", "main.c", &["-I", "../inc"], &[]).unwrap();
    assert_eq!(got, ["src/main.c", "inc/sub/h.h", "inc/sub/g.h"]);
}

#[test]
fn include_next_continues_after_the_finding_directory() {
    let t = Tree::new("next");
    // main.c: include_next in the main file is a plain #include.
    t.file("main.c", "#include_next <x.h>\n#include \"l.h\"\n");
    t.file("i1/x.h", "#include_next <x.h>\n");
    t.file("i2/x.h", "#include_next <x.h>\n");
    t.file("i3/x.h", "");
    // Found through the includer's directory: gcc goes on at the chain's start.
    t.file("l.h", "#include_next \"l.h\"\n");
    t.file("q/l.h", "");
    t.file("i1/l.h", "");
    let got = t
        .run(
            ".",
            "main.c",
            &["-iquote", "q", "-Ii1", "-Ii2", "-Ii3"],
            &[],
        )
        .unwrap();
    assert_eq!(
        got,
        ["main.c", "i1/x.h", "l.h", "q/l.h", "i2/x.h", "i3/x.h"]
    );
}

#[test]
fn iquote_is_only_for_quoted_names() {
    let t = Tree::new("iquote");
    t.file("main.c", "#include \"a.h\"\n#include <b.h>\n");
    t.file("q/a.h", "");
    t.file("q/b.h", "");
    let got = t.run(".", "main.c", &["-iquote", "q"], &[]).unwrap();
    assert_eq!(got, ["main.c", "q/a.h"]);
}

#[test]
fn a_system_directory_stops_the_search_and_is_not_sent() {
    let t = Tree::new("system");
    t.file(
        "main.c",
        "#include <s.h>\n#include <u.h>\n#include <late.h>\n",
    );
    // Not scanned: a computed include there must not make us give up.
    t.file("sys/s.h", "#include COMPUTED\n");
    t.file("after/s.h", "");
    t.file("isys/u.h", "#include <v.h>\n");
    t.file("isys/v.h", "");
    t.file("after/late.h", "");
    let flags = ["-isystem", "isys", "-idirafter", "after"];
    let got = t.run(".", "main.c", &flags, &["sys"]).unwrap();
    assert_eq!(got, ["main.c", "isys/u.h", "after/late.h", "isys/v.h"]);
}

#[test]
fn a_dash_i_system_directory_keeps_its_system_place() {
    let t = Tree::new("dupsys");
    t.file("main.c", "#include <x.h>\n");
    t.file("sys/x.h", "");
    t.file("inc/x.h", "");
    // gcc ignores -Isys, so inc/x.h wins.
    let got = t.run(".", "main.c", &["-Isys", "-Iinc"], &["sys"]).unwrap();
    assert_eq!(got, ["main.c", "inc/x.h"]);
}

#[test]
fn duplicate_directories_are_searched_once() {
    let t = Tree::new("dup");
    t.file("main.c", "#include <x.h>\n");
    t.file("inc/x.h", "#include_next <x.h>\n");
    t.file("inc2/x.h", "");
    // Without dropping ./inc, include_next would find inc/x.h again.
    let got = t
        .run(".", "main.c", &["-Iinc", "-I./inc", "-Iinc2"], &[])
        .unwrap();
    assert_eq!(got, ["main.c", "inc/x.h", "inc2/x.h"]);
}

#[test]
fn dotdot_out_of_a_symlink_gives_up() {
    let t = Tree::new("symlink");
    t.file("main.c", "#include \"link/../x.h\"\n");
    t.file("real/deep/y.h", "");
    t.file("real/x.h", "");
    t.file("x.h", "");
    std::os::unix::fs::symlink(t.root.join("real/deep"), t.root.join("link")).unwrap();
    let err = t.run(".", "main.c", &[], &[]).unwrap_err();
    assert!(
        err.contains("symbolic link") && err.contains("main.c:1"),
        "{err}"
    );
    // Through the link without `..` is fine, and so is `..` in plain dirs.
    t.file(
        "ok.c",
        "#include \"link/y.h\"\n#include \"real/deep/../x.h\"\n",
    );
    let got = t.run(".", "ok.c", &[], &[]).unwrap();
    assert_eq!(got, ["ok.c", "link/y.h", "real/x.h"]);
}

#[test]
fn forced_includes_look_in_the_working_directory_first() {
    let t = Tree::new("forced");
    t.file("src/main.c", "");
    t.file("build/f.h", "#include \"n.h\"\n");
    t.file("build/n.h", "");
    t.file("src/f.h", "");
    t.file("q/g.h", "");
    let flags = ["-include", "f.h", "-imacros", "g.h", "-iquote", "../q"];
    let got = t.run("build", "../src/main.c", &flags, &[]).unwrap();
    assert_eq!(got, ["src/main.c", "build/f.h", "q/g.h", "build/n.h"]);
    let err = t
        .run("build", "../src/main.c", &["-include", "missing.h"], &[])
        .unwrap_err();
    assert!(err.contains("missing.h"), "{err}");
}

#[test]
fn computed_include_gives_up_with_the_place() {
    let t = Tree::new("computed");
    t.file("main.c", "#include \"a.h\"\n");
    t.file("a.h", "\n\n#include HEADER\n#include HDR(x)\n");
    let err = t.run(".", "main.c", &[], &[]).unwrap_err();
    assert!(
        err.starts_with("computed #include at ") && err.ends_with("a.h:4"),
        "{err}"
    );
    t.file("a.h", "\n#define HEADER 2\n#include HEADER\n");
    let err = t.run(".", "main.c", &[], &[]).unwrap_err();
    assert!(
        err.starts_with("computed #include at ") && err.contains("a.h:3: HEADER is defined at"),
        "{err}"
    );
}

#[test]
fn probed_headers_are_sent_but_not_scanned() {
    let t = Tree::new("probe");
    t.file(
        "main.c",
        "#if __has_include(\"p.h\") && __has_include(<none.h>)\n#endif\n",
    );
    t.file("p.h", "#include COMPUTED\n");
    let got = t.run(".", "main.c", &[], &[]).unwrap();
    assert_eq!(got, ["main.c", "p.h"]);
}

#[test]
fn cycles_and_absolute_names_terminate() {
    let t = Tree::new("cycle");
    let b = t.root.join("b.h");
    t.file("main.c", "#include \"a.h\"\n");
    t.file(
        "a.h",
        &format!("#include \"{}\"\n#include \"main.c\"\n", b.display()),
    );
    t.file("b.h", "#include \"a.h\"\n#include \"missing.h\"\n");
    let got = t.run(".", "main.c", &[], &[]).unwrap();
    assert_eq!(got, ["main.c", "a.h", "b.h"]);
}

#[test]
fn a_precompiled_header_gives_up() {
    let t = Tree::new("pch");
    t.file("main.c", "#include \"all.h\"\n");
    t.file("all.h", "");
    t.file("all.h.gch", "");
    let err = t.run(".", "main.c", &[], &[]).unwrap_err();
    assert!(err.contains("all.h.gch"), "{err}");
    // CMake's way: -include /abs/cmake_pch.h next to cmake_pch.h.gch.
    let pch = t.file("cm/cmake_pch.h", "");
    t.dir("cm/cmake_pch.h.gch");
    t.file("plain.c", "");
    let err = t
        .run(".", "plain.c", &["-include", pch.to_str().unwrap()], &[])
        .unwrap_err();
    assert!(err.contains("cmake_pch.h.gch"), "{err}");
}

#[test]
fn wrapped_has_include_names_are_sent() {
    let t = Tree::new("wrapper");
    t.file(
        "main.c",
        "#include \"w.h\"\n#if MY_HAS_INCLUDE(<opt.h>)\n#endif\n",
    );
    t.file("w.h", "#define MY_HAS_INCLUDE(x) __has_include(x)\n");
    t.file("i1/opt.h", "");
    t.file("i2/opt.h", "");
    let got = t.run(".", "main.c", &["-Ii1", "-Ii2"], &[]).unwrap();
    assert_eq!(got, ["main.c", "w.h", "i1/opt.h", "i2/opt.h"]);
}

#[test]
fn a_missing_source_gives_up() {
    let t = Tree::new("nosrc");
    assert!(t.run(".", "nope.c", &[], &[]).is_err());
}

#[test]
fn directories_left_through_dotdot_are_forced_to_exist() {
    let t = Tree::new("forced");
    t.file(
        "w/main.c",
        "#include \"sub/../x.h\"\n#include \"a/b/../../y.h\"\n#include \"inc/../inc/z.h\"\n",
    );
    t.file("w/x.h", "");
    t.file("w/y.h", "");
    t.file("w/inc/z.h", "");
    t.dir("w/sub");
    t.dir("w/a/b");
    let got = t.run("w", "main.c", &[], &[]).unwrap();
    assert_eq!(got, ["w/main.c", "w/x.h", "w/y.h", "w/inc/z.h"]);
    // `inc` holds a file we send, so the server has it anyway; `a` comes
    // with `a/b`.
    assert_eq!(t.forced_dirs("w", "main.c", &[]), ["w/sub", "w/a/b"]);
    // The source itself, and an -I directory, reached through `..`.
    t.file("w/d/m.c", "#include \"q.h\"\n");
    t.file("w/iq/q.h", "");
    t.dir("w/e");
    // gcc on the server is given `-Ie/../iq` as written: it needs `e`;
    // `d` holds the source, so the server has it.
    assert_eq!(t.forced_dirs("w", "d/../d/m.c", &["-Ie/../iq"]), ["w/e"]);
    t.dir("w/f");
    t.file("w/g.c", "#include \"q.h\"\n");
    assert_eq!(t.forced_dirs("w", "f/../g.c", &["-Iiq"]), ["w/f"]);
}
