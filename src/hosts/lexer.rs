//! Splitting a host list into tokens (spec §2.2): whitespace separates,
//! `#` starts a comment that runs to the end of the line, and a token ends
//! at the first of ` \t\n\f\r#` (so `host#x` is the host `host`).

/// One token: its text and its byte offset in the whole list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    pub text: &'a str,
    pub start: usize,
}

/// C's `isspace` in the "C" locale: these separate tokens.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// What ends a token. Vertical tab is missing on purpose: 3.4 skips it
/// between tokens but does not stop a token at it.
fn ends_token(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0c | b'\r' | b'#')
}

/// The tokens of `text`, comments removed.
pub(crate) fn tokens(text: &str) -> Vec<Token<'_>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if is_space(b) {
            i += 1;
        } else if b == b'#' {
            while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                i += 1;
            }
        } else {
            let start = i;
            while i < bytes.len() && !ends_token(bytes[i]) {
                i += 1;
            }
            // Terminators are ASCII, so `start..i` is on char boundaries.
            out.push(Token {
                text: &text[start..i],
                start,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<&str> {
        tokens(s).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn splits_on_whitespace_and_drops_comments() {
        assert_eq!(texts("a b\tc\nd"), ["a", "b", "c", "d"]);
        assert_eq!(texts("a#c b\nd"), ["a", "d"]);
        assert_eq!(texts("# only\r x"), ["x"]);
        assert_eq!(texts("  "), Vec::<&str>::new());
        assert_eq!(texts("a\x0bb"), ["a\x0bb"]);
        assert_eq!(texts("\x0ba"), ["a"]);
    }

    #[test]
    fn records_byte_offsets() {
        let t = tokens("  ab  cd");
        assert_eq!(t[0].start, 2);
        assert_eq!(t[1].start, 6);
    }
}
