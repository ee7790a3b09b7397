//! The directive half of the scanner: what follows a `#` at the start of
//! a line, and `__has_include` in `#if` and `#define` lines. Like the rest
//! of the lexer it is pure; see the parent module for the lexing rules.

use super::{Computed, Directive, Kind, Lexer, is_ident};

/// An `#if`/`#elif` (`cond`) or `#define` line being lexed.
#[derive(Debug, Clone, Copy)]
pub(super) struct Expr {
    /// Where the `#` is: line numbers are counted only when needed.
    hash: usize,
    cond: bool,
}

fn has_include_kind(id: &[u8]) -> Option<Kind> {
    match id {
        b"__has_include" | b"__has_include__" | b"__has_embed" => Some(Kind::Probe),
        b"__has_include_next" | b"__has_include_next__" => Some(Kind::ProbeNext),
        _ => None,
    }
}

impl Lexer<'_> {
    /// A directive; `hash` is the position of `#`, `i` just after it.
    /// Returns where the rest of the line is lexed from, and how.
    pub(super) fn directive(
        &mut self,
        hash: usize,
        i: usize,
    ) -> Result<(usize, Option<Expr>), Computed> {
        let j = self.skip_hspace(i);
        let Some((c, p, _)) = self.peek(j) else {
            return Ok((j, None));
        };
        if !is_ident(c) || c.is_ascii_digit() {
            return Ok((j, None));
        }
        let (end, name) = self.ident(p);
        let end = match &*name {
            b"include" | b"import" => {
                self.operand(end, Kind::Include, hash, "computed #include")?
            }
            b"include_next" => {
                self.operand(end, Kind::IncludeNext, hash, "computed #include_next")?
            }
            b"embed" => self.operand(end, Kind::Probe, hash, "computed #embed")?,
            b"if" | b"elif" => return Ok((end, Some(Expr { hash, cond: true }))),
            b"define" => return Ok((end, Some(Expr { hash, cond: false }))),
            b"pragma" => self.pragma(end, hash)?,
            _ => end,
        };
        Ok((end, None))
    }

    /// `"name"` or `<name>` at `i`: (end, angled, name). Like gcc's
    /// header-name lexing, a backslash is no escape here.
    fn header_name(&self, i: usize) -> Option<(usize, bool, Vec<u8>)> {
        let j = self.skip_hspace(i);
        let (c, p, n) = self.peek(j)?;
        let close = match c {
            b'"' => b'"',
            b'<' => b'>',
            _ => return None,
        };
        let mut name = Vec::new();
        let mut k = p + n;
        loop {
            let (c, p, n) = self.peek(k)?;
            if self.eol_at(p) {
                return None;
            }
            k = p + n;
            if c == close {
                return Some((k, close == b'>', name));
            }
            name.push(c);
        }
    }

    fn push(&mut self, kind: Kind, angled: bool, name: Vec<u8>, hash: usize) {
        let line = self.line_at(hash);
        self.out.push(Directive {
            kind,
            angled,
            name,
            line,
        });
    }

    fn operand(
        &mut self,
        i: usize,
        kind: Kind,
        hash: usize,
        what: &'static str,
    ) -> Result<usize, Computed> {
        match self.header_name(i) {
            Some((end, angled, name)) => {
                self.push(kind, angled, name, hash);
                Ok(end)
            }
            None => Err(Computed {
                line: self.line_at(hash),
                what,
            }),
        }
    }

    /// `#pragma GCC dependency "file"` makes gcc find and stat the file.
    fn pragma(&mut self, i: usize, hash: usize) -> Result<usize, Computed> {
        let mut k = i;
        for want in [&b"GCC"[..], b"dependency"] {
            let j = self.skip_hspace(k);
            match self.peek(j) {
                Some((c, p, _)) if is_ident(c) => {
                    let (end, id) = self.ident(p);
                    if *id != *want {
                        return Ok(end);
                    }
                    k = end;
                }
                _ => return Ok(j),
            }
        }
        self.operand(k, Kind::Probe, hash, "computed #pragma GCC dependency")
    }

    /// After a `(` in an `#if` or `#define` line: a lone `"..."` or `<...>`
    /// argument may be a header name for a `__has_include` wrapper macro.
    pub(super) fn maybe_argument(&mut self, i: usize, expr: Option<Expr>) -> usize {
        let Some(expr) = expr else { return i };
        let j = self.skip_hspace(i);
        if !matches!(self.peek(j), Some((b'"' | b'<', _, _))) {
            return i;
        }
        if let Some((end, angled, name)) = self.header_name(j) {
            let k = self.skip_hspace(end);
            if matches!(self.peek(k), Some((b')', _, _))) {
                self.push(Kind::Maybe, angled, name, expr.hash);
                return end;
            }
        }
        i
    }

    /// An identifier starting with `_` in an `#if` or `#define` line: maybe
    /// `__has_include(...)` and its relatives.
    pub(super) fn has_include(&mut self, i: usize, expr: Option<Expr>) -> Result<usize, Computed> {
        let (end, id) = self.ident(i);
        let (Some(expr), Some(kind)) = (expr, has_include_kind(&id)) else {
            return Ok(end);
        };
        let j = self.skip_hspace(end);
        let Some((b'(', p, n)) = self.peek(j) else {
            return Ok(end);
        };
        match self.header_name(p + n) {
            Some((e, angled, name)) => {
                self.push(kind, angled, name, expr.hash);
                Ok(e)
            }
            // In a #define the operand may be a parameter: the wrapper's
            // uses are caught by `maybe_argument`.
            None if expr.cond => Err(Computed {
                line: self.line_at(expr.hash),
                what: "computed __has_include",
            }),
            None => Ok(p + n),
        }
    }
}
