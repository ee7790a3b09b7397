//! `SearchPath::from_args`: which options land where, and which give up.

use std::path::{Path, PathBuf};

use super::SearchPath;

fn parse(args: &[&str]) -> Result<SearchPath, String> {
    let mut argv = vec![std::ffi::OsString::from("cc")];
    argv.extend(args.iter().map(std::ffi::OsString::from));
    SearchPath::from_args(
        &argv,
        Path::new("/w/b"),
        vec![PathBuf::from("/usr/include")],
    )
    .map_err(|e| e.0)
}

fn paths(v: &[&str]) -> Vec<PathBuf> {
    v.iter().map(PathBuf::from).collect()
}

#[test]
fn options_land_in_their_chains() {
    let sp = parse(&[
        "-c",
        "x.c",
        "-Ia",
        "-I",
        "/abs",
        "-iquote",
        "q",
        "-iquoteq2",
        "-isystem",
        "s",
        "-idirafter",
        "/af",
        "-include",
        "f.h",
        "-imacros",
        "m.h",
        "-I../up",
        "-Ia/./b/",
        "-o",
        "-Inot-a-dir",
    ])
    .unwrap();
    // /w/b does not exist here, so the kernel cannot take `..` out of it
    // and gcc drops -I../up.
    assert_eq!(sp.bracket, paths(&["/w/b/a", "/abs", "/w/b/a/b"]));
    assert_eq!(sp.quote, paths(&["/w/b/q", "/w/b/q2"]));
    assert_eq!(sp.isystem, paths(&["/w/b/s"]));
    assert_eq!(sp.after, paths(&["/af"]));
    assert_eq!(sp.forced, paths(&["f.h", "m.h"]));
    assert_eq!(sp.system, paths(&["/usr/include"]));
}

#[test]
fn nostdinc_drops_the_default_directories() {
    assert!(parse(&["-nostdinc", "x.c"]).unwrap().system.is_empty());
    assert_eq!(
        parse(&["-nostdinc++", "x.c"]).unwrap().system,
        paths(&["/usr/include"])
    );
}

/// Macros may pass through to the preprocessor; distccd refuses anything
/// else that way in pump mode, so the analysis gives up on it.
#[test]
fn only_macros_pass_through_to_the_preprocessor() {
    let sp = parse(&[
        "-Wp,-DA=1,-UB",
        "-Xpreprocessor",
        "-DX=-Ifoo",
        "-MF",
        "-Idep",
    ])
    .unwrap();
    assert!(sp.bracket.is_empty());
    assert!(parse(&["-Wp,-MD,x.d"]).is_err());
    assert!(parse(&["-Xpreprocessor", "-dD"]).is_err());
}

const GIVE_UP: &[&[&str]] = &[
    &["-I-"],
    &["-I"],
    &["-include"],
    &["-iprefix", "/p"],
    &["-iwithprefix", "x"],
    &["-iwithprefixbefore", "x"],
    &["-isysroot", "/s"],
    &["--sysroot=/s"],
    &["--sysroot", "/s"],
    &["-imultilib", "m"],
    &["-F", "/fw"],
    &["-I=inc"],
    &["-isystem", "$SYSROOT/inc"],
    &["@args.rsp"],
    &["-Wp,-I,inc"],
    &["-Xpreprocessor", "-isystem"],
    &["-traditional-cpp"],
    &["-nostdlibinc"],
    &["-include-pch", "x.pch"],
    &["-ivfsoverlay", "o.yaml"],
    &["-cxx-isystem", "x"],
    &["-Xclang", "-I"],
    &["-fmodules"],
    &["-fmodule-map-file=m"],
];

/// Long spellings are read as the option they spell (through the table).
#[test]
fn long_spellings_land_where_their_short_form_does() {
    let sp = parse(&["--include-directory=x", "--include-directory-after", "/y"]).unwrap();
    assert_eq!(sp.bracket, paths(&["/w/b/x"]));
    assert_eq!(sp.after, paths(&["/y"]));
}

#[test]
fn unmodelled_options_give_up() {
    for args in GIVE_UP {
        assert!(parse(args).is_err(), "{args:?}");
    }
}
