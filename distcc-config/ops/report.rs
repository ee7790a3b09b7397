//! Findings of the checks (`--check`, `--check-allow`, `--march-native`)
//! and how they are printed: one line each, `ok:`, `note:`, `warning:` or
//! `problem:`, so scripts can grep them. Problems make the exit status 1.

use std::fmt;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    Note,
    Warning,
    Problem,
}

/// One line of a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub level: Level,
    pub message: String,
}

impl Finding {
    pub fn new(level: Level, message: impl Into<String>) -> Self {
        Self {
            level,
            message: message.into(),
        }
    }
    pub fn ok(m: impl Into<String>) -> Self {
        Self::new(Level::Ok, m)
    }
    pub fn note(m: impl Into<String>) -> Self {
        Self::new(Level::Note, m)
    }
    pub fn warning(m: impl Into<String>) -> Self {
        Self::new(Level::Warning, m)
    }
    pub fn problem(m: impl Into<String>) -> Self {
        Self::new(Level::Problem, m)
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match self.level {
            Level::Ok => "ok",
            Level::Note => "note",
            Level::Warning => "warning",
            Level::Problem => "problem",
        };
        write!(f, "{tag}: {}", self.message)
    }
}

/// Whether any finding is a problem.
pub fn has_problems(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.level == Level::Problem)
}

/// The closing line of a report.
pub fn summary(findings: &[Finding]) -> String {
    let count = |l| findings.iter().filter(|f| f.level == l).count();
    let (p, w) = (count(Level::Problem), count(Level::Warning));
    if p == 0 && w == 0 {
        "distcc-config: everything checked is fine".to_owned()
    } else {
        format!("distcc-config: {p} problem(s), {w} warning(s)")
    }
}
