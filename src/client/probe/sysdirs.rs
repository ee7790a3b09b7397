//! The compiler's default include directories, for pump mode: headers
//! found there are the server's business (pump mode assumes the servers
//! have the same system headers, as 3.4's does), everything else is sent.
//!
//! We ask the compiler once (`cc <target flags> -x <lang> -E -v /dev/null`
//! prints its search list) and cache the answer in `$DISTCC_DIR/pump/`,
//! keyed by the compiler binary, the language and the flags that can move
//! the list (`-m*`, `--sysroot`, `-nostdinc`, ...). Only those flags are
//! passed, so `-I`/`-D`/`-O` variations share one entry.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use crate::args::os::{bytes, line, starts_with, strip_prefix};
use crate::client::probe::cache::{binary_id, probe_stderr, store};
use crate::fnv::fnv1a;

/// Where the cache lives.
pub fn cache_dir(distcc_dir: &Path) -> PathBuf {
    distcc_dir.join("pump")
}

/// The `-x` language gcc would give `input`, for the probe: the system
/// list differs between C and C++.
pub fn language(argv: &[OsString], input: &OsStr) -> &'static str {
    // The last -x before the input applies to it.
    let mut lang: Option<&[u8]> = None;
    let mut it = argv.iter().skip(1);
    while let Some(a) = it.next() {
        if a == input {
            break;
        }
        if a == "-x" {
            lang = it.next().map(|l| bytes(l));
        } else if let Some(l) = strip_prefix(a, "-x") {
            lang = Some(bytes(l));
        }
    }
    match lang {
        Some(l) if l.starts_with(b"c++") => "c++",
        Some(l) if l.starts_with(b"objective-c++") => "objective-c++",
        Some(l) if l.starts_with(b"objective-c") => "objective-c",
        Some(l) if l != b"none" => "c",
        _ => match crate::args::preprocessed_ext(input) {
            Some(".ii") => "c++",
            Some(".mi") => "objective-c",
            Some(".mii") => "objective-c++",
            _ => "c",
        },
    }
}

/// The flags of `argv` that can change the default search list, with
/// their separate values.
pub fn target_flags(argv: &[OsString]) -> Vec<OsString> {
    let mut out = Vec::new();
    let mut it = argv.iter().skip(1);
    while let Some(a) = it.next() {
        let takes_value = matches!(
            bytes(a),
            b"--sysroot" | b"-isysroot" | b"-B" | b"-target" | b"--target" | b"-imultilib"
        );
        let keep = takes_value
            || starts_with(a, "-m")
            || starts_with(a, "--sysroot=")
            || starts_with(a, "--target=")
            || starts_with(a, "-stdlib=")
            || starts_with(a, "-B")
            || a == "-nostdinc"
            || a == "-nostdinc++"
            || a == "-undef";
        if keep {
            out.push(a.clone());
            if takes_value {
                if let Some(v) = it.next() {
                    out.push(v.clone());
                }
            }
        }
    }
    out
}

/// The lines between `#include <...> search starts here:` and
/// `End of search list.` of `-v` output.
pub fn parse(listing: &str) -> Option<Vec<PathBuf>> {
    let mut lines = listing.lines();
    lines.find(|l| l.starts_with("#include <...> search starts here:"))?;
    let mut dirs = Vec::new();
    for l in lines {
        if l.starts_with("End of search list.") {
            return Some(dirs);
        }
        let d = l.trim().trim_end_matches(" (framework directory)");
        dirs.push(PathBuf::from(d));
    }
    None
}

/// The default include directories of `compiler` for this job, or `None`
/// when the compiler cannot tell (pump mode is then not used).
pub fn system_dirs(
    compiler: &Path,
    argv: &[OsString],
    lang: &str,
    cache: Option<&Path>,
    safeguard: &str,
) -> Option<Vec<PathBuf>> {
    let flags = target_flags(argv);
    let key = format!("{}\0{lang}\0{}", binary_id(compiler)?, line(&flags));
    let file = cache.map(|d| d.join(format!("sysdirs-{:016x}", fnv1a(key.as_bytes()))));
    if let Some(text) = file.as_ref().and_then(|f| std::fs::read_to_string(f).ok()) {
        if let Some(dirs) = text.strip_prefix("ok\n") {
            return Some(dirs.lines().map(PathBuf::from).collect());
        }
    }
    let mut args: Vec<&OsStr> = flags.iter().map(OsString::as_os_str).collect();
    args.extend(["-x", lang, "-E", "-v", "/dev/null", "-o", "/dev/null"].map(OsStr::new));
    let dirs = parse(&probe_stderr(compiler, &args, safeguard)?)?;
    if let Some(f) = file {
        let mut text = String::from("ok\n");
        for d in &dirs {
            text.push_str(&d.to_string_lossy());
            text.push('\n');
        }
        store(&f, &text);
    }
    Some(dirs)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::args::os::words as v;

    #[test]
    fn only_flags_that_move_the_list_are_kept() {
        assert_eq!(
            target_flags(&v(
                "gcc -O2 -m32 -Iinc -DX=1 --sysroot /sr -MD -MF x.d -nostdinc -c x.c -o x.o"
            )),
            v("-m32 --sysroot /sr -nostdinc")
        );
    }

    #[test]
    fn the_language_follows_x_then_the_extension() {
        let language = |cmd: &str, input: &str| language(&v(cmd), OsStr::new(input));
        assert_eq!(language("g++ -c a.cc", "a.cc"), "c++");
        assert_eq!(language("gcc -c a.c", "a.c"), "c");
        assert_eq!(language("gcc -x c++ -c a.c", "a.c"), "c++");
        assert_eq!(language("gcc -xc -c a.cc", "a.cc"), "c");
        assert_eq!(language("gcc -x c -x none -c a.cc", "a.cc"), "c++");
    }

    #[test]
    fn the_search_list_is_read_from_v_output() {
        let text = "ignoring nonexistent directory \"/x\"\n\
#include \"...\" search starts here:\n\
#include <...> search starts here:\n /usr/lib/gcc/x86_64-linux-gnu/12/include\n /usr/local/include\n /usr/include\nEnd of search list.\n";
        assert_eq!(
            parse(text).unwrap(),
            vec![
                PathBuf::from("/usr/lib/gcc/x86_64-linux-gnu/12/include"),
                PathBuf::from("/usr/local/include"),
                PathBuf::from("/usr/include")
            ]
        );
        assert!(parse("no list").is_none());
        assert!(parse("#include <...> search starts here:\n /a\n").is_none());
    }

    #[test]
    fn real_gcc_is_asked_once_and_cached() {
        let dir = std::env::temp_dir().join(format!("dcc-sysdirs-{}", std::process::id()));
        let gcc = crate::client::probe::cross::find_on_path(
            "gcc",
            &crate::env::Vars::from_process().path_entries(),
        )
        .expect("gcc on PATH");
        let argv = v("gcc -O2 -c x.c");
        let first = system_dirs(&gcc, &argv, "c", Some(&dir), "1").expect("gcc lists its dirs");
        assert!(
            first.iter().any(|d| d == Path::new("/usr/include")),
            "{first:?}"
        );
        let cxx = system_dirs(&gcc, &argv, "c++", Some(&dir), "1").unwrap();
        assert!(
            cxx.len() > first.len(),
            "C++ adds libstdc++'s dirs: {cxx:?}"
        );
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
        assert_eq!(
            system_dirs(&gcc, &argv, "c", Some(&dir), "1").unwrap(),
            first
        );
        let none = system_dirs(&gcc, &v("gcc -nostdinc -c x.c"), "c", Some(&dir), "1").unwrap();
        assert!(none.is_empty(), "{none:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
