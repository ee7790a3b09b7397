//! --march-native with the real gcc and clang: the explicit flags it
//! writes must make `gcc -Q --help=target` (clang: `clang -E -dM`) print
//! exactly what `-march=native` does (checked here independently of
//! distcc-config's own check).

use std::process::Command;

use super::Root;

const MAKE_CONF: &str = "# make.conf\nCOMMON_FLAGS=\"-O2 -march=native -pipe\"\nCFLAGS=\"${COMMON_FLAGS}\"\n\
                         CXXFLAGS=\"${COMMON_FLAGS}\"\nMAKEOPTS=\"-j8\"\n";
const MAKEPKG_CONF: &str = "BUILDENV=(distcc color !ccache check !sign)\nCFLAGS=\"-march=native -mtune=native -O2 \\\n        -pipe\"\n\
                            CXXFLAGS=\"$CFLAGS -Wp,-D_GLIBCXX_ASSERTIONS\"\n";

fn target_help(words: &[&str]) -> String {
    // Target flags only: -pipe would send the help text to the assembler.
    let words = words
        .iter()
        .filter(|w| w.starts_with("-m") || w.starts_with("--param"));
    let out = Command::new("gcc")
        .args(words)
        .args(["-Q", "--help=target"])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// The value of `var` in `text` (one line, double quotes).
fn value<'a>(text: &'a str, var: &str) -> &'a str {
    let start = text.find(&format!("{var}=\"")).unwrap() + var.len() + 2;
    let end = start + text[start..].find('"').unwrap();
    &text[start..end]
}

#[test]
fn report_then_apply_to_make_conf() {
    crate::require_tool!("gcc");
    let r = Root::new("gentoo");
    r.write("etc/portage/make.conf", MAKE_CONF);
    let out = r.run(&["--march-native"]);
    assert_eq!(out.status, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("make.conf line 2: COMMON_FLAGS uses native flags"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("verified with -Q --help=target"));
    // Our client resolves native flags itself (issue 11: the text said
    // such jobs compile locally): a note, not a warning.
    assert!(
        out.stdout.contains("note: ")
            && out
                .stdout
                .contains("this distcc resolves them for each job")
            && !out.stdout.contains("warning:"),
        "{}",
        out.stdout
    );
    assert_eq!(r.read("etc/portage/make.conf"), MAKE_CONF, "report only");
    let dry = r.run(&["--march-native", "--apply", "--dry-run"]);
    assert!(dry.stdout.contains("note: would rewrite"), "{dry:?}");
    assert_eq!(r.read("etc/portage/make.conf"), MAKE_CONF);

    let out = r.run(&["--march-native", "--apply"]);
    assert_eq!(out.status, 0, "{out:?}");
    let text = r.read("etc/portage/make.conf");
    let flags = value(&text, "COMMON_FLAGS");
    assert!(!flags.contains("native"), "{flags}");
    assert!(
        flags.starts_with("-O2 -march=") && flags.ends_with(" -pipe"),
        "{flags}"
    );
    assert!(
        text.contains("CFLAGS=\"${COMMON_FLAGS}\"\n") && text.contains("MAKEOPTS=\"-j8\""),
        "rest kept"
    );
    let words: Vec<&str> = flags.split_whitespace().collect();
    assert_eq!(
        target_help(&words),
        target_help(&["-O2", "-march=native", "-pipe"])
    );
    // Nothing left to do.
    let again = r.run(&["--march-native"]);
    assert!(again.stdout.contains("ok: no -march=native"), "{again:?}");
}

#[test]
fn makepkg_conf_with_both_native_flags() {
    crate::require_tool!("gcc");
    let r = Root::new("arch");
    r.write("etc/makepkg.conf", MAKEPKG_CONF);
    let out = r.run(&["--march-native", "--apply"]);
    assert_eq!(out.status, 0, "{out:?}");
    let text = r.read("etc/makepkg.conf");
    assert!(!text.contains("native"), "{text}");
    assert!(
        text.starts_with("BUILDENV=(distcc color !ccache check !sign)\nCFLAGS=\"-march="),
        "{text}"
    );
    let flags = value(&text, "CFLAGS").replace("\\\n", " ");
    let words: Vec<&str> = flags.split_whitespace().collect();
    assert!(words.iter().any(|w| w.starts_with("-mtune=")));
    assert_eq!(
        target_help(&words),
        target_help(&["-march=native", "-mtune=native", "-O2", "-pipe"])
    );
}

#[test]
fn a_compiler_that_cannot_resolve_native_leaves_files_alone() {
    let r = Root::new("gentoo");
    r.write("etc/portage/make.conf", MAKE_CONF);
    let out = r.run(&["--march-native", "--apply", "--cc", "/bin/false"]);
    assert_eq!(out.status, 1, "{out:?}");
    assert!(
        out.stdout.contains("problem:") && out.stderr.contains("1 problem(s)"),
        "{out:?}"
    );
    assert_eq!(r.read("etc/portage/make.conf"), MAKE_CONF);
}

#[test]
fn environment_flags_are_reported() {
    let r = Root::new("gentoo");
    let out: super::Run = r
        .cmd()
        .arg("--march-native")
        .env("CFLAGS", "-O2 -march=native")
        .output()
        .unwrap()
        .into();
    assert!(
        out.stdout
            .contains("$CFLAGS in the environment uses native flags"),
        "{out:?}"
    );
}

/// The predefined macros of `clang <target words> -E -dM`.
fn clang_macros(words: &[&str]) -> String {
    let words = words
        .iter()
        .filter(|w| w.starts_with("-m") || w.starts_with("--param"));
    let out = Command::new("clang")
        .args(words)
        .args(["-E", "-dM", "-x", "c", "/dev/null"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines.join("\n")
}

/// clang (issue 11: "no cc1 line"): its -cc1 line's CPU and features
/// become -march=/-m options, and clang predefines the same macros for
/// them as for -march=native; a real compile with them succeeds.
#[test]
fn clang_native_flags_are_expanded_and_applied() {
    crate::require_tool!("clang");
    let r = Root::new("gentoo");
    r.write("etc/portage/make.conf", MAKE_CONF);
    let out = r.run(&["--march-native", "--cc", "clang", "--apply"]);
    assert_eq!(out.status, 0, "{out:?}");
    assert!(
        out.stdout.contains("verified with -E -dM") && out.stdout.contains("rewrote"),
        "{}",
        out.stdout
    );
    let text = r.read("etc/portage/make.conf");
    let flags = value(&text, "COMMON_FLAGS");
    assert!(!flags.contains("native"), "{flags}");
    let words: Vec<&str> = flags.split_whitespace().collect();
    assert!(words.iter().any(|w| w.starts_with("-march=")), "{flags}");
    assert_eq!(
        clang_macros(&words),
        clang_macros(&["-O2", "-march=native", "-pipe"])
    );
    let work = crate::support::TempDir::new("config-clang-native");
    std::fs::write(work.path().join("t.c"), "int f(int x) { return x * 3; }\n").unwrap();
    let ok = Command::new("clang")
        .args(&words)
        .args(["-c", "t.c", "-o", "t.o"])
        .current_dir(work.path())
        .status()
        .unwrap();
    assert!(ok.success());
    // -mtune=native alone.
    let r = Root::new("arch");
    r.write("etc/makepkg.conf", "CFLAGS=\"-O2 -mtune=native\"\n");
    let out = r.run(&["--march-native", "--cc", "clang", "--apply"]);
    assert_eq!(out.status, 0, "{out:?}");
    let text = r.read("etc/makepkg.conf");
    assert!(
        text.starts_with("CFLAGS=\"-O2 -mtune=") && !text.contains("native"),
        "{text}"
    );
}
