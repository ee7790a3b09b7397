//! File-name extensions (spec §3.5): which inputs are sources, which are
//! already preprocessed, and what a preprocessed file is called.
//!
//! distcc 3.4 takes the extension as everything after the last `.` of the
//! whole path (not just the basename), and it must be non-empty. Names
//! are bytes (see [`super::os`]): a source need not be UTF-8.

use std::ffi::{OsStr, OsString};

use super::os::{bytes, os};

/// The extension of `path`: the bytes after the last `.`, if non-empty.
pub fn extension(path: &OsStr) -> Option<&[u8]> {
    let b = bytes(path);
    match b.iter().rposition(|&c| c == b'.') {
        Some(i) if i + 1 < b.len() => Some(&b[i + 1..]),
        _ => None,
    }
}

/// Whether `path` names a source file distcc may compile (`dcc_is_source`):
/// `.i .ii .c .cc .cpp .cxx .cp .c++ .C .m .mm .mi .mii .M`. Assembler
/// files (`.s`, `.S`) are not sources, so they are never distributed.
pub fn is_source(path: &OsStr) -> bool {
    matches!(
        extension(path),
        Some(
            b"i" | b"ii"
                | b"c"
                | b"cc"
                | b"cpp"
                | b"cxx"
                | b"cp"
                | b"c++"
                | b"C"
                | b"m"
                | b"mm"
                | b"mi"
                | b"mii"
                | b"M"
        )
    )
}

/// Whether `path` is already preprocessed (`.i .ii .mi .mii`): the client
/// sends it as it is, without running cpp.
pub fn is_preprocessed(path: &OsStr) -> bool {
    matches!(extension(path), Some(b"i" | b"ii" | b"mi" | b"mii"))
}

/// The extension of the preprocessed form of `input` (`dcc_preproc_exten`),
/// with its dot. The server names its input temp file with it, and gcc picks
/// the language from it. `None`: the server falls back to `.tmp`.
pub fn preprocessed_ext(input: &OsStr) -> Option<&'static str> {
    let e = extension(input)?;
    Some(match e {
        b"c" | b"i" => ".i",
        b"cc" | b"cpp" | b"cxx" | b"cp" | b"c++" | b"C" | b"ii" => ".ii",
        b"m" | b"mi" => ".mi",
        b"mm" | b"M" | b"mii" => ".mii",
        _ if e.eq_ignore_ascii_case(b"s") => ".s",
        _ => return None,
    })
}

/// The basename of a path (bytes after the last `/`).
pub fn basename(path: &OsStr) -> &OsStr {
    let b = bytes(path);
    os(b.rsplit(|&c| c == b'/').next().unwrap_or(b))
}

/// `path` with the suffix of its basename (from the last `.` of the
/// basename, if any) replaced by `new_suffix`. This is gcc's `%.d%*` rule
/// for `-MD`'s file name and distcc's `dcc_output_from_source` when applied
/// to a basename.
pub fn replace_suffix(path: &OsStr, new_suffix: &str) -> OsString {
    let b = bytes(path);
    let base_start = b.iter().rposition(|&c| c == b'/').map_or(0, |i| i + 1);
    let stem_end = b[base_start..]
        .iter()
        .rposition(|&c| c == b'.')
        .map_or(b.len(), |i| base_start + i);
    let mut out = os(&b[..stem_end]).to_os_string();
    out.push(new_suffix);
    out
}

/// Whether the job must stay local because autoconf probes it
/// (`dcc_source_needs_local`): the basename starts with `conftest.` or
/// `tmp.conftest.`.
pub fn is_conftest(input: &OsStr) -> bool {
    let b = bytes(basename(input));
    b.starts_with(b"conftest.") || b.starts_with(b"tmp.conftest.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_follow_spec_3_5() {
        // (path, is_source, is_preprocessed, preprocessed_ext)
        const CASES: &[(&str, bool, bool, Option<&str>)] = &[
            ("a.c", true, false, Some(".i")),
            ("a.i", true, true, Some(".i")),
            ("a.cc", true, false, Some(".ii")),
            ("a.cpp", true, false, Some(".ii")),
            ("a.cxx", true, false, Some(".ii")),
            ("a.cp", true, false, Some(".ii")),
            ("a.c++", true, false, Some(".ii")),
            ("a.C", true, false, Some(".ii")),
            ("a.ii", true, true, Some(".ii")),
            ("a.m", true, false, Some(".mi")),
            ("a.mi", true, true, Some(".mi")),
            ("a.mm", true, false, Some(".mii")),
            ("a.M", true, false, Some(".mii")),
            ("a.mii", true, true, Some(".mii")),
            ("a.s", false, false, Some(".s")),
            ("a.S", false, false, Some(".s")),
            ("a.CPP", false, false, None),
            ("a.o", false, false, None),
            ("a.", false, false, None),
            ("noext", false, false, None),
            ("dir.c/file", false, false, None),
            ("sub/x.c", true, false, Some(".i")),
        ];
        for &(path, src, pre, ext) in CASES {
            let path = OsStr::new(path);
            assert_eq!(is_source(path), src, "is_source({path:?})");
            assert_eq!(is_preprocessed(path), pre, "is_preprocessed({path:?})");
            assert_eq!(preprocessed_ext(path), ext, "preprocessed_ext({path:?})");
        }
    }

    #[test]
    fn replace_suffix_works_on_the_basename_like_gcc() {
        const CASES: &[(&str, &str)] = &[
            ("x.o", "x.d"),
            ("sub/y.o", "sub/y.d"),
            ("sub/noext", "sub/noext.d"),
            ("sub.dir/noext", "sub.dir/noext.d"),
            ("two.dots.o", "two.dots.d"),
            (".hidden", ".d"),
        ];
        for &(from, to) in CASES {
            assert_eq!(replace_suffix(OsStr::new(from), ".d"), to, "{from}");
        }
    }

    #[test]
    fn names_need_not_be_utf8() {
        use std::os::unix::ffi::OsStrExt;
        let name = OsStr::from_bytes(b"h\xe9llo.c");
        assert!(is_source(name));
        assert_eq!(preprocessed_ext(name), Some(".i"));
        assert_eq!(
            replace_suffix(name, ".o").as_bytes(),
            b"h\xe9llo.o",
            "the other bytes survive"
        );
    }

    #[test]
    fn conftest_is_matched_on_the_basename() {
        let c = |p: &str| is_conftest(OsStr::new(p));
        assert!(c("conftest.c"));
        assert!(c("/tmp/x/tmp.conftest.c"));
        assert!(!c("myconftest.c"));
        assert!(!c("conftest/a.c"));
    }
}
