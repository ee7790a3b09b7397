//! Translation phases 1-3 as far as the scanner needs them: line splices,
//! trigraphs, comments, string, character and raw string literals, and
//! the byte tables behind the fast paths. Pure, like its parent.

use std::borrow::Cow;

use super::Lexer;

pub(super) fn has_trigraph(src: &[u8]) -> bool {
    let mut i = 0;
    while let Some(k) = find_byte(&src[i..], b'?') {
        let p = i + k;
        if src.get(p + 1) == Some(&b'?') && src.get(p + 2).is_some_and(|&c| trigraph(c).is_some()) {
            return true;
        }
        i = p + 1;
    }
    false
}

/// The first `b` in `s`, eight bytes at a time: `?` and `*` are rare, and
/// this runs over every byte of every header.
pub(super) fn find_byte(s: &[u8], b: u8) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let pat = LO * u64::from(b);
    let mut i = 0;
    while let Some(chunk) = s.get(i..i + 8) {
        let w = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8])) ^ pat;
        // A zero byte in `w` is a match (the classic has-zero-byte test).
        if w.wrapping_sub(LO) & !w & HI != 0 {
            break;
        }
        i += 8;
    }
    s[i..].iter().position(|&c| c == b).map(|k| i + k)
}

fn trigraph(c: u8) -> Option<u8> {
    Some(match c {
        b'=' => b'#',
        b'/' => b'\\',
        b'\'' => b'^',
        b'(' => b'[',
        b')' => b']',
        b'!' => b'|',
        b'<' => b'{',
        b'>' => b'}',
        b'-' => b'~',
        _ => return None,
    })
}

const fn ident_table() -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        // gcc accepts `$` and UTF-8 in identifiers by default.
        t[b] = c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80;
        b += 1;
    }
    t
}
static IDENT: [bool; 256] = ident_table();

const fn special_table(chars: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut k = 0;
    while k < chars.len() {
        t[chars[k] as usize] = true;
        k += 1;
    }
    t
}
/// Bytes that matter inside a line of code: line ends, comment and
/// literal starts, splices and trigraphs.
pub(super) static CODE_SPECIAL: [bool; 256] = special_table(b"\n\r/\"'\\?");
/// In code lines of a file that mentions `__DATE__`, `__TIME__` or
/// `__TIMESTAMP__` somewhere, `_` too (to tell code from comments and
/// strings there).
pub(super) static CLOCK_SPECIAL: [bool; 256] = special_table(b"\n\r/\"'\\?_");
/// In `#if` and `#define` lines, `(` and `_` (for `__has_include`) too.
pub(super) static EXPR_SPECIAL: [bool; 256] = special_table(b"\n\r/\"'\\?(_");
/// Bytes that matter inside a string or character literal.
static QUOTED_SPECIAL: [bool; 256] = special_table(b"\n\r\"'\\?");

pub(super) fn is_ident(c: u8) -> bool {
    IDENT[c as usize]
}

pub(super) fn is_hspace(c: u8) -> bool {
    // NUL is whitespace to gcc (with a warning).
    matches!(c, b' ' | b'\t' | 0x0b | 0x0c | 0)
}

impl<'a> Lexer<'a> {
    /// Positions are asked for in increasing order, so counting is
    /// incremental; only lines with a name or an error are asked for, and
    /// includes sit near the top of a file.
    pub(super) fn line_at(&mut self, pos: usize) -> u32 {
        let n = self.s[self.line_pos..pos]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.line_no += n as u32;
        self.line_pos = pos;
        self.line_no
    }

    /// A lone CR ends a line too: gcc's `_cpp_clean_line` accepts \n, \r\n and \r.
    pub(super) fn eol_at(&self, i: usize) -> bool {
        match self.s.get(i) {
            Some(b'\n') => true,
            Some(b'\r') => self.s.get(i + 1) != Some(&b'\n'),
            _ => false,
        }
    }

    /// Length of the line splice at `i`, or 0. gcc also splices when
    /// whitespace separates the backslash from the newline.
    pub(super) fn splice(&self, i: usize) -> usize {
        let s = self.s;
        let mut j = match s.get(i) {
            Some(b'\\') => i + 1,
            Some(b'?')
                if self.mode.tri && s.get(i + 1) == Some(&b'?') && s.get(i + 2) == Some(&b'/') =>
            {
                i + 3
            }
            _ => return 0,
        };
        while s.get(j).is_some_and(|&c| is_hspace(c)) {
            j += 1;
        }
        match s.get(j) {
            Some(b'\n') => j + 1 - i,
            Some(b'\r') if s.get(j + 1) == Some(&b'\n') => j + 2 - i,
            Some(b'\r') => j + 1 - i,
            _ => 0,
        }
    }

    pub(super) fn skip(&self, mut i: usize) -> usize {
        loop {
            match self.splice(i) {
                0 => return i,
                n => i += n,
            }
        }
    }

    /// The logical character at `i` (not a splice) and its length: 3 for a trigraph.
    pub(super) fn ch(&self, i: usize) -> Option<(u8, usize)> {
        let b = *self.s.get(i)?;
        if b == b'?' && self.mode.tri && self.s.get(i + 1) == Some(&b'?') {
            if let Some(c) = self.s.get(i + 2).and_then(|&c| trigraph(c)) {
                return Some((c, 3));
            }
        }
        Some((b, 1))
    }

    /// The next logical character from `i`: (char, its position, its length).
    pub(super) fn peek(&self, i: usize) -> Option<(u8, usize, usize)> {
        let p = self.skip(i);
        self.ch(p).map(|(c, n)| (c, p, n))
    }

    /// Whether the `"` at `i` follows a raw string prefix (R, LR, uR, UR, u8R).
    pub(super) fn raw_prefix_before(&self, i: usize) -> bool {
        let s = &self.s[..i];
        if !s.ends_with(b"R") {
            return false;
        }
        for p in [&b"u8R"[..], b"LR", b"uR", b"UR", b"R"] {
            if s.ends_with(p) {
                let k = i - p.len();
                return k == 0 || !is_ident(s[k - 1]);
            }
        }
        false
    }

    /// Whether the `'` at `i` is a C++14 digit separator (`1'000`): it sits
    /// inside a pp-number, i.e. the token before it starts with a digit.
    pub(super) fn digit_separator(&self, i: usize) -> bool {
        let s = self.s;
        if i == 0 || !is_ident(s[i - 1]) || !s.get(i + 1).is_some_and(|&c| is_ident(c)) {
            return false;
        }
        let mut k = i;
        while k > 0 {
            let c = s[k - 1];
            let sign =
                (c == b'+' || c == b'-') && k >= 2 && matches!(s[k - 2], b'e' | b'E' | b'p' | b'P');
            if !(is_ident(c) || c == b'.' || c == b'\'' || sign) {
                break;
            }
            k -= 1;
        }
        s[k].is_ascii_digit() || (s[k] == b'.' && s.get(k + 1).is_some_and(u8::is_ascii_digit))
    }

    /// From after `/*` to after `*/` (or the end: gcc reports it, we need not).
    pub(super) fn block_comment(&self, mut i: usize) -> usize {
        let s = self.s;
        loop {
            let Some(k) = find_byte(&s[i..], b'*') else {
                return s.len();
            };
            let after = self.skip(i + k + 1);
            if s.get(after) == Some(&b'/') {
                return after + 1;
            }
            i += k + 1;
        }
    }

    /// From after `//` to the newline that ends it (a splice continues it).
    pub(super) fn line_comment(&self, mut i: usize) -> usize {
        let s = self.s;
        loop {
            let Some(k) = s[i..].iter().position(|&b| b == b'\n' || b == b'\r') else {
                return s.len();
            };
            let k = i + k;
            let mut b = k;
            while b > 0 && is_hspace(s[b - 1]) {
                b -= 1;
            }
            let spliced =
                (b > 0 && s[b - 1] == b'\\') || (self.mode.tri && b >= 3 && &s[b - 3..b] == b"??/");
            if !spliced {
                return k;
            }
            i = if s[k] == b'\r' && s.get(k + 1) == Some(&b'\n') {
                k + 2
            } else {
                k + 1
            };
        }
    }

    /// From after the opening quote to after the closing one, or to the end
    /// of the line: an unterminated literal stops there, as in gcc.
    pub(super) fn quoted(&self, mut i: usize, quote: u8) -> usize {
        let s = self.s;
        loop {
            while i < s.len() && !QUOTED_SPECIAL[s[i] as usize] {
                i += 1;
            }
            let Some((c, p, n)) = self.peek(i) else {
                return s.len();
            };
            if self.eol_at(p) {
                return p;
            }
            i = p + n;
            if c == quote {
                return i;
            }
            if c == b'\\' {
                if let Some((_, q, m)) = self.peek(i) {
                    if !self.eol_at(q) {
                        i = q + m;
                    }
                }
            }
        }
    }

    /// An identifier starting at `i` (a non-splice position), possibly spliced.
    pub(super) fn ident(&self, i: usize) -> (usize, Cow<'a, [u8]>) {
        let s = self.s;
        let mut j = i;
        while j < s.len() && is_ident(s[j]) {
            j += 1;
        }
        if self.splice(j) == 0 {
            return (j, Cow::Borrowed(&s[i..j]));
        }
        let mut v = s[i..j].to_vec();
        loop {
            let k = self.skip(j);
            match s.get(k) {
                Some(&c) if is_ident(c) => {
                    v.push(c);
                    j = k + 1;
                }
                _ => return (j, Cow::Owned(v)),
            }
        }
    }

    /// The end of `delim( ... )delim"` starting after the quote, or `None` if
    /// the delimiter is malformed (gcc then lexes an ordinary string).
    /// Splices are not applied: gcc undoes them inside raw strings.
    pub(super) fn raw_string(&self, i: usize) -> Option<usize> {
        let s = self.s;
        let mut j = i;
        while j < s.len() && j - i <= 16 {
            match s[j] {
                b'(' => break,
                b' ' | b')' | b'\\' | b'\t' | 0x0b | 0x0c | b'\n' | b'\r' => return None,
                _ => j += 1,
            }
        }
        if s.get(j) != Some(&b'(') {
            return None;
        }
        let delim = &s[i..j];
        let mut k = j + 1;
        loop {
            let Some(p) = s[k..].iter().position(|&b| b == b')') else {
                return Some(s.len());
            };
            let t = k + p + 1;
            if s[t..].starts_with(delim) && s.get(t + delim.len()) == Some(&b'"') {
                return Some(t + delim.len() + 1);
            }
            k = t;
        }
    }

    /// Whitespace and comments up to the next token or the end of the line;
    /// a block comment may span lines without ending a directive.
    pub(super) fn skip_hspace(&self, mut i: usize) -> usize {
        while let Some((c, p, n)) = self.peek(i) {
            match c {
                b' ' | b'\t' | 0x0b | 0x0c | 0 => i = p + n,
                b'\r' if !self.eol_at(p) => i = p + n,
                b'/' => match self.peek(p + n) {
                    Some((b'*', q, m)) => i = self.block_comment(q + m),
                    Some((b'/', q, m)) => return self.line_comment(q + m),
                    _ => return p,
                },
                _ => return p,
            }
        }
        self.s.len()
    }
}
