//! The dependency file of a pump job, as a local gcc would write it.
//!
//! The server's gcc wrote the rule with its own paths (the job root, its
//! output file), which the server then replaced with ours; gcc breaks
//! lines by length, so the breaks are in the wrong places. gcc's
//! `make_write_name` (mkdeps.cc) puts a name on a new line when it would
//! end past column 72; we re-flow the first rule the same way and keep the
//! rest (`-MP`'s phony targets, one per line) as it is. Names stay as gcc
//! escaped them: their lengths are what gcc measured.

use crate::args::makerule::{first_rule, split_words};

/// gcc's line width for dependency rules (`deps_write (..., 72)`).
const COLMAX: usize = 72;

/// Re-flow the first rule of `text`; `None` if it has no `:`.
pub fn rewrap(text: &[u8]) -> Option<Vec<u8>> {
    let (rule, rest) = first_rule(text);
    let words = split_words(rule);
    let colon = words.iter().position(|w| w.ends_with(b":"))?;
    let mut out = Vec::with_capacity(text.len());
    let mut col = 0;
    for (i, w) in words[..=colon].iter().enumerate() {
        let name = if i == colon { &w[..w.len() - 1] } else { w };
        if !name.is_empty() {
            col = write_name(&mut out, name, col);
        }
    }
    out.push(b':');
    col += 1;
    for w in &words[colon + 1..] {
        col = write_name(&mut out, w, col);
    }
    out.push(b'\n');
    out.extend_from_slice(rest);
    Some(out)
}

/// gcc's `make_write_name`: a space before every name but the first,
/// and a line break first if the name would pass the width.
fn write_name(out: &mut Vec<u8>, name: &[u8], mut col: usize) -> usize {
    if col > 0 {
        if col + name.len() > COLMAX {
            out.extend_from_slice(b" \\\n");
            col = 0;
        }
        col += 1;
        out.push(b' ');
    }
    out.extend_from_slice(name);
    col + name.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_break_where_gcc_breaks_them() {
        let server = b"x.o: \\\n src/x.c /very/long/path/include/one.h /very/long/path/include/two.h /usr/include/stdio.h\n";
        // "two.h" ends at column 72 exactly: still on the line.
        let want = "x.o: src/x.c /very/long/path/include/one.h /very/long/path/include/two.h \\\n /usr/include/stdio.h\n";
        assert_eq!(String::from_utf8(rewrap(server).unwrap()).unwrap(), want);
    }

    #[test]
    fn escapes_and_phony_targets_are_kept() {
        let server = b"a\\ b.o c.o: \\\n x\\ y.c \\#h.h\n\nx\\ y.c:\n";
        assert_eq!(
            String::from_utf8(rewrap(server).unwrap()).unwrap(),
            "a\\ b.o c.o: x\\ y.c \\#h.h\n\nx\\ y.c:\n"
        );
        assert!(rewrap(b"no rule here\n").is_none());
    }

    /// Real gcc: its own .d, joined onto one line, comes back as it was.
    #[test]
    fn gcc_output_survives_a_rewrap() {
        let dir = std::env::temp_dir().join(format!("dcc-dotd-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("a-rather-long-directory-name/for/headers")).unwrap();
        let mut src = String::new();
        for i in 0..12 {
            let h = format!("a-rather-long-directory-name/for/headers/header_{i}.h");
            std::fs::write(dir.join(&h), "").unwrap();
            src.push_str(&format!("#include \"{h}\"\n"));
        }
        src.push_str("#include <stdio.h>\n#include <stdlib.h>\nint x;\n");
        std::fs::write(dir.join("x.c"), src).unwrap();
        for flags in [&["-MD"][..], &["-MMD", "-MP"], &["-MD", "-MT", "t1 t2"]] {
            let st = std::process::Command::new("gcc")
                .current_dir(&dir)
                .args(flags)
                .args(["-c", "x.c", "-o", "x.o"])
                .status()
                .expect("gcc");
            assert!(st.success());
            let local = std::fs::read(dir.join("x.d")).unwrap();
            let (rule, rest) = first_rule(&local);
            let mut joined = String::from_utf8(rule.to_vec())
                .unwrap()
                .replace(" \\\n", " ")
                .into_bytes();
            joined.push(b'\n');
            joined.extend_from_slice(rest);
            assert_ne!(joined, local, "{flags:?}: the test needs a wrapped rule");
            assert_eq!(
                String::from_utf8(rewrap(&joined).unwrap()).unwrap(),
                String::from_utf8(local).unwrap(),
                "{flags:?}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
