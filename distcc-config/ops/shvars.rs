//! Just enough of the shell to read variable assignments from the files
//! distcc-config inspects: /etc/conf.d/distccd (`DISTCCD_OPTS="${DISTCCD_OPTS}
//! --allow ..."`), /etc/portage/make.conf, /etc/makepkg.conf, env.d files.
//!
//! Handles `[export] NAME=value` where the value is made of bare text,
//! `"..."` (with `$NAME`/`${NAME}` expansion and backslash escapes, may span
//! lines) and `'...'`, arrays `NAME=(...)` (kept as raw text), and comments.
//! Other lines are skipped. Pure; spans let callers rewrite a value in place.

use std::collections::BTreeMap;
use std::ops::Range;

/// One assignment, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub name: String,
    /// The value after quote removal and expansion.
    pub value: String,
    /// Byte range of the value as written (quotes included).
    pub span: Range<usize>,
    /// 1-based line of the assignment.
    pub line: usize,
}

/// All assignments, expanding references with `initial` plus earlier
/// assignments (as sourcing the file would).
pub fn assignments(text: &str, initial: &BTreeMap<String, String>) -> Vec<Assignment> {
    let mut vars = initial.clone();
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        // At the start of a line: skip blanks.
        while i < b.len() && matches!(b[i], b' ' | b'\t') {
            i += 1;
        }
        if text[i..].starts_with("export ") {
            i += "export ".len();
            while i < b.len() && b[i] == b' ' {
                i += 1;
            }
        }
        let name_end = i + text[i..]
            .bytes()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
            .count();
        let is_name = name_end > i && !b[i].is_ascii_digit();
        if is_name && b.get(name_end) == Some(&b'=') {
            let start = name_end + 1;
            let (value, end) = if b.get(start) == Some(&b'(') {
                let end = array_end(b, start);
                (text[start..end].to_owned(), end)
            } else {
                word(text, start, &vars)
            };
            let name = text[i..name_end].to_owned();
            vars.insert(name.clone(), value.clone());
            out.push(Assignment {
                name,
                value,
                span: start..end,
                line: text[..i].matches('\n').count() + 1,
            });
            i = end;
        }
        i = skip_to_next_line(b, i);
    }
    out
}

/// The last value of each variable.
pub fn values(text: &str, initial: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    assignments(text, initial)
        .into_iter()
        .map(|a| (a.name, a.value))
        .collect()
}

/// Skip the rest of a line (respecting quotes, so a quoted newline does
/// not count) and return the index after the newline.
fn skip_to_next_line(b: &[u8], mut i: usize) -> usize {
    let mut quote = None;
    while i < b.len() {
        match (quote, b[i]) {
            (None, b'\n') => return i + 1,
            (None, b'#') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            (None, q @ (b'"' | b'\'')) => quote = Some(q),
            (Some(q), c) if c == q => quote = None,
            (Some(b'"'), b'\\') => i += 1,
            _ => {}
        }
        i += 1;
    }
    i
}

fn array_end(b: &[u8], start: usize) -> usize {
    let mut depth = 0;
    let mut quote = None;
    let mut i = start;
    while i < b.len() {
        match (quote, b[i]) {
            (None, b'(') => depth += 1,
            (None, b')') => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            (None, q @ (b'"' | b'\'')) => quote = Some(q),
            (Some(q), c) if c == q => quote = None,
            _ => {}
        }
        i += 1;
    }
    i
}

/// One shell word starting at `i`: returns its expanded value and the end.
fn word(text: &str, mut i: usize, vars: &BTreeMap<String, String>) -> (String, usize) {
    let b = text.as_bytes();
    let mut out = String::new();
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' | b'\n' | b';' => break,
            b'\'' => {
                let end = text[i + 1..].find('\'').map_or(b.len(), |e| i + 1 + e);
                out.push_str(&text[i + 1..end]);
                i = (end + 1).min(b.len());
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i = one_char(text, i, vars, &mut out, true);
                }
                i = (i + 1).min(b.len());
            }
            _ => i = one_char(text, i, vars, &mut out, false),
        }
    }
    (out, i)
}

/// Append the expansion of the character(s) at `i`; return the next index.
fn one_char(
    text: &str,
    i: usize,
    vars: &BTreeMap<String, String>,
    out: &mut String,
    in_double: bool,
) -> usize {
    let b = text.as_bytes();
    match b[i] {
        b'\\' if i + 1 < b.len() => {
            let next = b[i + 1];
            if next == b'\n' {
                // line continuation
            } else if in_double && !matches!(next, b'"' | b'\\' | b'$' | b'`') {
                out.push('\\');
                out.push(next as char);
            } else {
                out.push_str(&text[i + 1..i + 1 + utf8_len(next)]);
                return i + 1 + utf8_len(next);
            }
            i + 2
        }
        b'$' => {
            let rest = &text[i + 1..];
            if let Some(inner) = rest.strip_prefix('{') {
                if let Some(close) = inner.find('}') {
                    let name = &inner[..close];
                    let (var, default) = match name.split_once(":-") {
                        Some((v, d)) => (v, Some(d)),
                        None => (name, None),
                    };
                    match vars.get(var).filter(|v| !v.is_empty()) {
                        Some(v) => out.push_str(v),
                        None => out.push_str(default.unwrap_or("")),
                    }
                    return i + 2 + close + 1;
                }
            }
            let len = rest
                .bytes()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
                .count();
            if len == 0 {
                out.push('$');
                return i + 1;
            }
            out.push_str(vars.get(&rest[..len]).map_or("", String::as_str));
            i + 1 + len
        }
        c => {
            let n = utf8_len(c);
            out.push_str(&text[i..i + n]);
            i + n
        }
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xf0.. => 4,
        0xe0.. => 3,
        0xc0.. => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(text: &str) -> BTreeMap<String, String> {
        values(text, &BTreeMap::new())
    }

    #[test]
    fn gentoo_confd_accumulates_options() {
        let text = "# c\nDISTCCD_OPTS=\"\"\nDISTCCD_EXEC=\"/usr/bin/distccd\"\n\
                    DISTCCD_OPTS=\"${DISTCCD_OPTS} --port 3632\"\n\
                    #DISTCCD_OPTS=\"${DISTCCD_OPTS} --listen 1.2.3.4\"\n\
                    DISTCCD_OPTS=\"${DISTCCD_OPTS} --allow 192.168.0.0/24\"\n";
        assert_eq!(
            vals(text)["DISTCCD_OPTS"],
            " --port 3632 --allow 192.168.0.0/24"
        );
        let a = assignments(text, &BTreeMap::new());
        assert_eq!(a.len(), 4);
        assert_eq!(a[3].line, 6);
    }

    #[test]
    fn quoting_expansion_and_arrays() {
        let text = "A=x\nexport B='$A y'\nC=\"$A\"z${NOPE:-d}\nD=(a \"b c\"\n  d)\nE=1; F=2\n\
                    G=\"multi\n  line \\\"q\\\"\"\nH=a\\ b\n";
        let v = vals(text);
        assert_eq!(v["B"], "$A y");
        assert_eq!(v["C"], "xzd");
        assert_eq!(v["D"], "(a \"b c\"\n  d)");
        assert_eq!(v["E"], "1");
        assert!(!v.contains_key("F"), "only the first assignment of a line");
        assert_eq!(v["G"], "multi\n  line \"q\"");
        assert_eq!(v["H"], "a b");
    }

    #[test]
    fn spans_cover_the_value_as_written() {
        let text = "CFLAGS=\"-O2 -march=native\" # x\nCXXFLAGS=\"${CFLAGS}\"\n";
        let a = assignments(text, &BTreeMap::new());
        assert_eq!(&text[a[0].span.clone()], "\"-O2 -march=native\"");
        assert_eq!(a[1].value, "-O2 -march=native");
    }

    #[test]
    fn makepkg_conf_style_continuations() {
        let text = "CFLAGS=\"-march=native -O2 \\\n        -pipe\"\nBUILDENV=(!distcc color)\n";
        assert_eq!(vals(text)["CFLAGS"], "-march=native -O2         -pipe");
    }
}
