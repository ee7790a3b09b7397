//! `#include MACRO`: the header names a macro can expand to, from every
//! definition in the files scanned and on the command line, followed once
//! they are known.

use super::Walk;
use super::scan::{computed, read};
use crate::pump::includes::GiveUp;
use crate::pump::includes::lexer::{self, Directive, Kind};
use crate::pump::includes::paths::FastSet;

impl Walk<'_> {
    /// The header names `name` can expand to through the definitions seen
    /// so far. `Err` names a definition that cannot be followed (a value
    /// other than a lone header name or macro name). Every definition
    /// counts, whatever `#if` or `#undef` surrounds it, so the answer is a
    /// superset. A macro that no file sent and no `-D` defines expands to
    /// nothing here (lua's `#if defined(LUA_USER_H)` / `#include
    /// LUA_USER_H`): only a system header could define it, and system
    /// headers are the server's own, like the headers they include.
    pub(super) fn expansions(&self, name: &[u8]) -> Result<Vec<Vec<u8>>, String> {
        let mut out = Vec::new();
        let mut todo = vec![name.to_vec()];
        let mut seen: FastSet<Vec<u8>> = FastSet::default();
        while let Some(m) = todo.pop() {
            if !seen.insert(m.clone()) {
                continue;
            }
            let Some(defs) = self.macros.get(&m) else {
                continue;
            };
            for (value, at) in defs {
                match value.first() {
                    Some(b'<' | b'"') => out.push(value.clone()),
                    Some(_) => todo.push(value.clone()),
                    None => {
                        return Err(format!(
                            "{} is defined at {at} as something other than a header name",
                            String::from_utf8_lossy(&m)
                        ));
                    }
                }
            }
        }
        Ok(out)
    }

    /// Follows every header name the pending `#include MACRO`s can name
    /// now; `Ok(true)` when something new was followed.
    pub(super) fn expand_pending(&mut self) -> Result<bool, GiveUp> {
        if self.pending.is_empty() {
            return Ok(false);
        }
        while self.indexed < self.scanned.len() {
            let file = self.scanned[self.indexed].clone();
            self.indexed += 1;
            for d in lexer::defines(&read(&file)?).map_err(|c| computed(&file, c))? {
                let at = format!("{}:{}", file.display(), d.line);
                self.macros.entry(d.name).or_default().push((d.value, at));
            }
        }
        let mut progress = false;
        for i in 0..self.pending.len() {
            let (file, origin, d) = self.pending[i].clone();
            let values = self.expansions(&d.name).map_err(|why| {
                GiveUp(format!(
                    "computed #include at {}:{}: {why}",
                    file.display(),
                    d.line
                ))
            })?;
            for v in values {
                if !self.expanded.insert((i, v.clone())) {
                    continue;
                }
                progress = true;
                let kind = if d.kind == Kind::MacroNext {
                    Kind::IncludeNext
                } else {
                    Kind::Include
                };
                let named = Directive {
                    kind,
                    angled: v[0] == b'<',
                    name: v[1..v.len() - 1].to_vec(),
                    value: Vec::new(),
                    line: d.line,
                };
                self.follow(&file, origin, &named)?;
            }
        }
        Ok(progress)
    }
}

/// A `-DNAME=VALUE` value as a [`Kind::Define`] value: a clean header
/// name with its delimiters, a macro name, or empty (cannot be followed).
pub(super) fn macro_value(v: &[u8]) -> Vec<u8> {
    let header = v.len() > 2
        && matches!((v[0], v[v.len() - 1]), (b'<', b'>') | (b'"', b'"'))
        && !v[1..v.len() - 1]
            .iter()
            .any(|&c| matches!(c, b' ' | b'\t' | b'\\' | b'"' | b'<' | b'>'));
    let ident = !v.is_empty()
        && !v[0].is_ascii_digit()
        && v.iter().all(|&c| c == b'_' || c.is_ascii_alphanumeric());
    if header || ident {
        v.to_vec()
    } else {
        Vec::new()
    }
}
