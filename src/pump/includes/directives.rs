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
            b"define" => {
                if self.defines {
                    self.define(end, hash);
                }
                return Ok((end, Some(Expr { hash, cond: false })));
            }
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
        self.push_value(kind, angled, name, Vec::new(), hash);
    }

    fn push_value(&mut self, kind: Kind, angled: bool, name: Vec<u8>, value: Vec<u8>, hash: usize) {
        let line = self.line_at(hash);
        self.out.push(Directive {
            kind,
            angled,
            name,
            value,
            line,
        });
    }

    /// Nothing but whitespace and comments from `i` to the end of the line.
    fn blank_from(&self, i: usize) -> bool {
        let k = self.skip_hspace(i);
        self.peek(k).is_none_or(|(_, p, _)| self.eol_at(p))
    }

    /// A lone identifier from `i` to the end of the line.
    fn lone_ident(&self, i: usize) -> Option<(usize, Vec<u8>)> {
        let j = self.skip_hspace(i);
        let (c, p, _) = self.peek(j)?;
        if !is_ident(c) || c.is_ascii_digit() {
            return None;
        }
        let (end, name) = self.ident(p);
        self.blank_from(end).then(|| (end, name.into_owned()))
    }

    fn operand(
        &mut self,
        i: usize,
        kind: Kind,
        hash: usize,
        what: &'static str,
    ) -> Result<usize, Computed> {
        if let Some((end, angled, name)) = self.header_name(i) {
            self.push(kind, angled, name, hash);
            return Ok(end);
        }
        // `#include MACRO`: the walk resolves it from the definitions it
        // sees (`define`), or gives up.
        let by_macro = match kind {
            Kind::Include => Some(Kind::Macro),
            Kind::IncludeNext => Some(Kind::MacroNext),
            _ => None,
        };
        if let (Some(k), Some((end, name))) = (by_macro, self.lone_ident(i)) {
            self.push(k, false, name, hash);
            return Ok(end);
        }
        Err(Computed {
            line: self.line_at(hash),
            what,
        })
    }

    /// `#define NAME ...`: recorded for `#include NAME` (see [`Kind::Define`]).
    /// The value is kept only when it is a lone header name gcc would
    /// rebuild byte for byte (no spaces, comments or backslashes inside)
    /// or a lone identifier; anything else, function-like macros included,
    /// is recorded with an empty value, which the walk cannot follow.
    fn define(&mut self, i: usize, hash: usize) {
        let j = self.skip_hspace(i);
        let Some((c, p, _)) = self.peek(j) else {
            return;
        };
        if !is_ident(c) || c.is_ascii_digit() {
            return;
        }
        let (end, name) = self.ident(p);
        let name = name.into_owned();
        let function_like = matches!(self.peek(end), Some((b'(', q, _)) if q == end);
        let mut value = Vec::new();
        if !function_like {
            if let Some((e, angled, text)) = self.header_name(end) {
                let clean = !text.iter().any(|&b| matches!(b, b' ' | b'\\' | b'\t'))
                    && !text.windows(2).any(|w| w == b"//" || w == b"/*");
                if clean && !text.is_empty() && self.blank_from(e) {
                    let (open, close) = if angled { (b'<', b'>') } else { (b'"', b'"') };
                    value.push(open);
                    value.extend_from_slice(&text);
                    value.push(close);
                }
            } else if let Some((_, alias)) = self.lone_ident(end) {
                value = alias;
            }
        }
        self.push_value(Kind::Define, false, name, value, hash);
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

    /// An identifier starting with `_`: `__DATE__` and its relatives
    /// anywhere, and in an `#if` or `#define` line maybe
    /// `__has_include(...)` and its relatives.
    pub(super) fn has_include(&mut self, i: usize, expr: Option<Expr>) -> Result<usize, Computed> {
        let (end, id) = self.ident(i);
        if matches!(&*id, b"__DATE__" | b"__TIME__" | b"__TIMESTAMP__") {
            let name = id.into_owned();
            self.push(Kind::Clock, false, name, i);
            return Ok(end);
        }
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
