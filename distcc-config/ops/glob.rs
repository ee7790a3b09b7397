//! Shell-style globs for compiler names (masquerade/compilers.toml):
//! `*`, `?`, `[...]` classes (with `!`/`^` negation and ranges) and `{a,b}`
//! alternatives, which are expanded first like bash's brace expansion.
//! Pure; matches whole names only.

/// A pattern, expanded into brace-free alternatives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Glob {
    alternatives: Vec<Vec<char>>,
}

impl Glob {
    /// Compile a pattern. Unbalanced braces or brackets are an error.
    pub fn new(pattern: &str) -> Result<Self, String> {
        let alternatives = expand_braces(pattern)
            .map_err(|e| format!("bad pattern {pattern:?}: {e}"))?
            .into_iter()
            .map(|s| s.chars().collect::<Vec<_>>())
            .collect::<Vec<_>>();
        for alt in &alternatives {
            check_classes(alt).map_err(|e| format!("bad pattern {pattern:?}: {e}"))?;
        }
        Ok(Self { alternatives })
    }

    /// Whether `name` matches one of the alternatives.
    pub fn matches(&self, name: &str) -> bool {
        let name: Vec<char> = name.chars().collect();
        self.alternatives.iter().any(|p| match_here(p, &name))
    }
}

/// `a{b,c}d{,e}` → `abd abde acd acde`. Nested braces are allowed.
fn expand_braces(pattern: &str) -> Result<Vec<String>, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let Some(open) = chars.iter().position(|&c| c == '{') else {
        if chars.contains(&'}') {
            return Err("'}' without '{'".into());
        }
        return Ok(vec![pattern.to_owned()]);
    };
    let mut depth = 0;
    let mut close = None;
    let mut commas = Vec::new();
    for (i, &c) in chars.iter().enumerate().skip(open) {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            ',' if depth == 1 => commas.push(i),
            _ => {}
        }
    }
    let close = close.ok_or("'{' without '}'")?;
    let prefix: String = chars[..open].iter().collect();
    let suffix: String = chars[close + 1..].iter().collect();
    let mut bounds = vec![open];
    bounds.extend(&commas);
    bounds.push(close);
    let mut out = Vec::new();
    for w in bounds.windows(2) {
        let middle: String = chars[w[0] + 1..w[1]].iter().collect();
        for tail in expand_braces(&format!("{middle}{suffix}"))? {
            for whole in expand_braces(&format!("{prefix}{tail}"))? {
                out.push(whole);
            }
        }
    }
    out.dedup();
    Ok(out)
}

fn check_classes(p: &[char]) -> Result<(), String> {
    let mut i = 0;
    while i < p.len() {
        if p[i] == '[' {
            class_end(p, i).ok_or("'[' without ']'")?;
        }
        i += 1;
    }
    Ok(())
}

/// Index of the `]` closing the class that starts at `start`.
fn class_end(p: &[char], start: usize) -> Option<usize> {
    let mut i = start + 1;
    if matches!(p.get(i), Some('!' | '^')) {
        i += 1;
    }
    if p.get(i) == Some(&']') {
        i += 1; // a leading ']' is a member
    }
    (i..p.len()).find(|&j| p[j] == ']')
}

fn class_matches(class: &[char], c: char) -> bool {
    let (negate, body) = match class.first() {
        Some('!' | '^') => (true, &class[1..]),
        _ => (false, class),
    };
    let mut hit = false;
    let mut i = 0;
    while i < body.len() {
        if i + 2 < body.len() && body[i + 1] == '-' {
            hit |= body[i] <= c && c <= body[i + 2];
            i += 3;
        } else {
            hit |= body[i] == c;
            i += 1;
        }
    }
    hit != negate
}

fn match_here(p: &[char], s: &[char]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some('*') => (0..=s.len()).any(|k| match_here(&p[1..], &s[k..])),
        Some('?') => !s.is_empty() && match_here(&p[1..], &s[1..]),
        Some('[') => {
            let end = class_end(p, 0).expect("checked in Glob::new");
            !s.is_empty() && class_matches(&p[1..end], s[0]) && match_here(&p[end + 1..], &s[1..])
        }
        Some(&c) => s.first() == Some(&c) && match_here(&p[1..], &s[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(pattern: &str, yes: &[&str], no: &[&str]) {
        let g = Glob::new(pattern).unwrap();
        for name in yes {
            assert!(g.matches(name), "{pattern} should match {name}");
        }
        for name in no {
            assert!(!g.matches(name), "{pattern} should not match {name}");
        }
    }

    #[test]
    fn shadowman_patterns() {
        check(
            "{,*-}{gcc,g++}{,-[0-9]*}",
            &[
                "gcc",
                "g++",
                "gcc-12",
                "x86_64-linux-gnu-gcc-12",
                "aarch64-unknown-linux-gnu-g++",
            ],
            &[
                "gcc-ar",
                "x86_64-linux-gnu-gcc-ar-12",
                "distcc",
                "gccgo",
                "c++",
            ],
        );
        check(
            "{,*-}clang{,++}{,-[0-9]*}",
            &["clang", "clang++-15", "x86_64-pc-linux-gnu-clang"],
            &["clangd", "clang-format", "clang-tidy-15"],
        );
        check(
            "{,*-}{cc,c99,c++}",
            &["cc", "c++", "arm-none-eabi-cc", "c99"],
            &["c++filt", "gcc"],
        );
    }

    #[test]
    fn classes_and_questions() {
        check("c[89]9", &["c89", "c99"], &["c79"]);
        check("x[!0-9]", &["xa"], &["x1"]);
        check("a?c", &["abc"], &["ac", "abbc"]);
    }

    #[test]
    fn bad_patterns_are_errors() {
        assert!(Glob::new("{a,b").is_err());
        assert!(Glob::new("a}").is_err());
        assert!(Glob::new("[ab").is_err());
    }

    #[test]
    fn brace_expansion_is_bash_like() {
        assert_eq!(expand_braces("a{b,c}d").unwrap(), ["abd", "acd"]);
        assert_eq!(expand_braces("{,x-}y").unwrap(), ["y", "x-y"]);
        assert_eq!(expand_braces("{a,{b,c}}").unwrap(), ["a", "b", "c"]);
    }
}
