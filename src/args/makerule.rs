//! The syntax of the make rule in a compiler's dependency file (`-MD`),
//! read by the client when it re-flows a pump job's rule
//! ([`crate::client::local::dotd`]) and by the daemon when it lists the
//! system headers a compile read (docs/extension.md §13). Pure.
//!
//! gcc (`mkdeps.cc`) writes the targets, a `:`, and the prerequisites,
//! separated by spaces and escaped newlines (`\` at a line's end); in a
//! name a space, tab or `#` is escaped by a backslash and `$` doubled.

/// The first rule (up to a newline not escaped by a backslash) and what
/// follows it.
pub fn first_rule(text: &[u8]) -> (&[u8], &[u8]) {
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'\\' => i += 2,
            b'\n' => return (&text[..i], &text[i + 1..]),
            _ => i += 1,
        }
    }
    (text, &[])
}

/// Split a rule into names as written: separated by spaces and escaped
/// newlines; a backslash keeps the next byte in the name (`\ `, `\#`).
pub fn split_words(rule: &[u8]) -> Vec<&[u8]> {
    let mut words = Vec::new();
    let mut start = None;
    let mut i = 0;
    while i < rule.len() {
        let c = rule[i];
        let continuation = c == b'\\' && rule.get(i + 1) == Some(&b'\n');
        if c == b' ' || c == b'\t' || c == b'\n' || continuation {
            if let Some(s) = start.take() {
                words.push(&rule[s..i]);
            }
            i += if continuation { 2 } else { 1 };
            continue;
        }
        start.get_or_insert(i);
        i += if c == b'\\' { 2 } else { 1 };
    }
    if let Some(s) = start {
        words.push(&rule[s..rule.len().min(i)]);
    }
    words
}

/// The prerequisites of the first rule, unescaped (the file names the
/// compiler read); `None` when it has no `:`.
pub fn prerequisites(text: &[u8]) -> Option<Vec<Vec<u8>>> {
    let words = split_words(first_rule(text).0);
    let colon = words.iter().position(|w| w.ends_with(b":"))?;
    Some(words[colon + 1..].iter().map(|w| unescape(w)).collect())
}

fn unescape(word: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(word.len());
    let mut i = 0;
    while i < word.len() {
        match (word[i], word.get(i + 1)) {
            (b'\\', Some(&c @ (b' ' | b'\t' | b'#'))) | (b'$', Some(&c @ b'$')) => {
                out.push(c);
                i += 2;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prerequisites_are_the_names_after_the_colon_unescaped() {
        let text = b"a\\ b.o c.o: x\\ y.c \\\n /usr/include/stdio.h \\#h.h $$x.h\n\nx\\ y.c:\n";
        let want: Vec<&[u8]> = vec![b"x y.c", b"/usr/include/stdio.h", b"#h.h", b"$x.h"];
        assert_eq!(prerequisites(text).unwrap(), want);
        assert_eq!(prerequisites(b"x.o:\n").unwrap(), Vec::<Vec<u8>>::new());
        assert!(prerequisites(b"no rule\n").is_none());
    }
}
