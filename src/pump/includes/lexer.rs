//! The directive scanner of the include analysis: bytes in, the names the
//! preprocessor may open out. Pure: it never touches the file system.
//!
//! It lexes just enough of translation phases 1-3 (line splices, comments,
//! string and character literals, raw strings, pp-numbers) to know where a
//! line starts and what is code, then reads the operands of `#include`,
//! `#include_next`, `#import`, `#embed`, `#pragma GCC dependency` and
//! `__has_include(...)`. Conditionals are not evaluated: every branch is
//! scanned, so the answer is a superset of what gcc opens (spec §5).
//!
//! Three lexing rules depend on the language mode: raw strings (gnu99
//! and C++11 on, c99 and c++98 off), trigraphs (strict ISO modes only) and
//! digit separators (`1'000`: C++14 and C23). A file where one could
//! matter is lexed both ways and the results are joined, so the answer
//! holds whatever `-std` says, and only such files pay for a second look.
//!
//! Submodules: `chars` (splices, comments, literals) and `directives`.

use std::collections::HashSet;

use chars::{CLOCK_SPECIAL, CODE_SPECIAL, EXPR_SPECIAL, has_trigraph, is_ident};
use directives::Expr;

/// What gcc does with the file a directive names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `#include`, `#import`: opened and preprocessed.
    Include,
    /// `#include_next`: the same, searching on past the current file's directory.
    IncludeNext,
    /// `__has_include`, `#embed`, `#pragma GCC dependency`: opened, not preprocessed.
    Probe,
    /// `__has_include_next`.
    ProbeNext,
    /// `#include NAME` (and `#import NAME`): a computed include naming one
    /// object-like macro, resolved by the walk from the [`Kind::Define`]s
    /// of the files it scans and the command line's `-D`s.
    Macro,
    /// `#include_next NAME`.
    MacroNext,
    /// `#define NAME VALUE` (only from [`defines`]); `name` is the macro,
    /// `value` a header name with its delimiters (`<a/b.h>`, `"c.h"`),
    /// another macro's name, or empty for anything else (which the walk
    /// cannot follow).
    Define,
    /// A `("...")` or `(<...>)` macro argument in `#if` or `#define`: possibly
    /// a `__has_include` hidden in a wrapper macro such as fmt's
    /// `FMT_HAS_INCLUDE(x)`, which cannot be told apart without expanding macros.
    Maybe,
    /// `__DATE__`, `__TIME__` or `__TIMESTAMP__` (the `name`) in code or
    /// in a directive: what it expands to depends on where and when the
    /// preprocessor runs, so the job is preprocessed on the client.
    Clock,
}

/// One file name a directive mentions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub kind: Kind,
    /// `<...>` rather than `"..."`.
    pub angled: bool,
    pub name: Vec<u8>,
    /// What a [`Kind::Define`] defines `name` as; empty for other kinds.
    pub value: Vec<u8>,
    /// 1-based line of the `#`, for messages.
    pub line: u32,
}

/// A name the scanner cannot know without expanding macros.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Computed {
    pub line: u32,
    /// E.g. "computed #include".
    pub what: &'static str,
}

/// Every name `src` may make gcc open, in order of appearance.
pub fn scan(src: &[u8]) -> Result<Vec<Directive>, Computed> {
    scan_with(src, false)
}

/// Every `#define` of `src` ([`Kind::Define`]), for the rare compile with
/// an `#include MACRO`: the walk asks for them only then, so that other
/// compiles do not pay for recording every macro of every header.
pub fn defines(src: &[u8]) -> Result<Vec<Directive>, Computed> {
    let mut all = scan_with(src, true)?;
    all.retain(|d| d.kind == Kind::Define);
    Ok(all)
}

fn scan_with(src: &[u8], defines: bool) -> Result<Vec<Directive>, Computed> {
    let trigraphs = has_trigraph(src);
    let mut lx = Lexer::new(src, Mode::DEFAULT, defines);
    lx.run()?;
    let mut todo = lx.flips(trigraphs);
    if todo.is_empty() {
        return Ok(lx.out);
    }
    let mut out = lx.out;
    let mut seen: HashSet<(Kind, bool, Vec<u8>, Vec<u8>)> = out
        .iter()
        .map(|d| (d.kind, d.angled, d.name.clone(), d.value.clone()))
        .collect();
    let mut done = vec![Mode::DEFAULT];
    while let Some(mode) = todo.pop() {
        if done.contains(&mode) {
            continue;
        }
        done.push(mode);
        let mut lx = Lexer::new(src, mode, defines);
        lx.run()?;
        todo.extend(lx.flips(trigraphs));
        for d in lx.out {
            if seen.insert((d.kind, d.angled, d.name.clone(), d.value.clone())) {
                out.push(d);
            }
        }
    }
    Ok(out)
}

/// The mode-dependent lexing rules of one pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mode {
    raw: bool,
    tri: bool,
    sep: bool,
}

impl Mode {
    /// gcc's defaults, gnu17 and gnu++17, but with C++14's separators.
    const DEFAULT: Mode = Mode {
        raw: true,
        tri: false,
        sep: true,
    };
}

struct Lexer<'a> {
    s: &'a [u8],
    mode: Mode,
    /// Record `#define`s too.
    defines: bool,
    /// A raw string prefix, a digit separator were seen: the other mode
    /// might lex this file differently.
    saw_raw: bool,
    saw_sep: bool,
    out: Vec<Directive>,
    line_pos: usize,
    line_no: u32,
    /// What stops the fast loop in code lines ([`CLOCK_SPECIAL`] when the
    /// file may use `__DATE__` and its relatives).
    code: &'static [bool; 256],
}

/// Whether `src` mentions `__DATE__`, `__TIME__` or `__TIMESTAMP__` at
/// all: only such files have their code lines' identifiers looked at.
/// (Three `memmem` scans: building a regex for this cost 0.4 M
/// instructions, 7 % of a pump job's client, issue 16.)
fn mentions_clock(src: &[u8]) -> bool {
    [&b"__DATE__"[..], b"__TIME__", b"__TIMESTAMP__"]
        .iter()
        .any(|w| memchr::memmem::find(src, w).is_some())
}

impl<'a> Lexer<'a> {
    fn new(s: &'a [u8], mode: Mode, defines: bool) -> Self {
        Lexer {
            code: if mentions_clock(s) {
                &CLOCK_SPECIAL
            } else {
                &CODE_SPECIAL
            },
            s,
            mode,
            defines,
            saw_raw: false,
            saw_sep: false,
            out: Vec::new(),
            line_pos: 0,
            line_no: 1,
        }
    }

    /// The modes that differ from this pass's in one rule that mattered.
    fn flips(&self, trigraphs: bool) -> Vec<Mode> {
        let m = self.mode;
        let mut v = Vec::new();
        if self.saw_raw {
            v.push(Mode { raw: !m.raw, ..m });
        }
        if trigraphs {
            v.push(Mode { tri: !m.tri, ..m });
        }
        if self.saw_sep {
            v.push(Mode { sep: !m.sep, ..m });
        }
        v
    }

    fn run(&mut self) -> Result<(), Computed> {
        let mut i = 0;
        while i < self.s.len() {
            let (j, expr) = self.line_start(i)?;
            i = self.rest_of_line(j, expr)?;
        }
        Ok(())
    }

    /// Whitespace and comments at the start of a line, then a directive if
    /// there is one. Comments keep the line start: gcc takes
    /// `/* ... */ #include` as a directive when the comment starts its line,
    /// even when it spans lines.
    fn line_start(&mut self, mut i: usize) -> Result<(usize, Option<Expr>), Computed> {
        while let Some((c, p, n)) = self.peek(i) {
            match c {
                b' ' | b'\t' | 0x0b | 0x0c | 0 => i = p + n,
                b'\r' if !self.eol_at(p) => i = p + n,
                b'/' => match self.peek(p + n) {
                    Some((b'*', q, m)) => i = self.block_comment(q + m),
                    _ => return Ok((p, None)),
                },
                b'#' => return self.directive(p, p + n),
                // The digraph `%:` is `#`.
                b'%' => match self.peek(p + n) {
                    Some((b':', q, m)) => return self.directive(p, q + m),
                    _ => return Ok((p, None)),
                },
                _ => return Ok((p, None)),
            }
        }
        Ok((self.s.len(), None))
    }

    /// From inside a line to after the newline that ends it. Only what can
    /// hide a newline or a comment matters here, so most bytes are skipped
    /// by a table lookup; identifiers and numbers are looked at backwards
    /// only when a quote follows them. In `#if` and `#define` lines (`expr`)
    /// `(` and `__has_include` matter too.
    fn rest_of_line(&mut self, mut i: usize, expr: Option<Expr>) -> Result<usize, Computed> {
        let s = self.s;
        let special = if expr.is_some() {
            &EXPR_SPECIAL
        } else {
            self.code
        };
        loop {
            while i < s.len() && !special[s[i] as usize] {
                i += 1;
            }
            let Some(&b) = s.get(i) else {
                return Ok(s.len());
            };
            match b {
                b'\n' => return Ok(i + 1),
                b'\r' if s.get(i + 1) == Some(&b'\n') => return Ok(i + 2),
                b'\r' => return Ok(i + 1),
                b'/' => {
                    let j = self.skip(i + 1);
                    i = match s.get(j) {
                        Some(b'*') => self.block_comment(j + 1),
                        Some(b'/') => self.line_comment(j + 1),
                        _ => i + 1,
                    };
                }
                b'"' => {
                    if self.raw_prefix_before(i) {
                        if let Some(e) = self.raw_string(i + 1) {
                            self.saw_raw = true;
                            if self.mode.raw {
                                i = e;
                                continue;
                            }
                        }
                    }
                    i = self.quoted(i + 1, b'"');
                }
                b'\'' if self.digit_separator(i) => {
                    self.saw_sep = true;
                    if !self.mode.sep {
                        i = self.quoted(i + 1, b'\'');
                        continue;
                    }
                    i += 1;
                }
                b'\'' => i = self.quoted(i + 1, b'\''),
                b'(' => i = self.maybe_argument(i + 1, expr),
                b'_' if i == 0 || !is_ident(s[i - 1]) => i = self.has_include(i, expr)?,
                b'_' => i += 1,
                // A splice, a trigraph (`??'` is `^`, not a quote) or neither.
                _ => i += self.splice(i).max(self.ch(i).map_or(1, |(_, n)| n)),
            }
        }
    }
}

#[path = "chars.rs"]
mod chars;
#[path = "directives.rs"]
mod directives;

#[cfg(test)]
#[path = "lexer_tests.rs"]
mod tests;
