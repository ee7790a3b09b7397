//! Pure parts of `distcc-config --check` (issue #4): make's `-j` against
//! the host slots, and the order of the masquerade directory in PATH.

use super::report::Finding;

/// The `-j` of MAKEOPTS/MAKEFLAGS (`-j8`, `-j 8`, `--jobs=8`, `--jobs 8`).
/// `Some(None)` is a bare `-j` (no limit); `None` means no `-j` at all.
pub fn make_jobs(value: &str) -> Option<Option<u32>> {
    let words: Vec<&str> = value.split_whitespace().collect();
    let mut found = None;
    for (i, w) in words.iter().enumerate() {
        let rest = if let Some(r) = w.strip_prefix("--jobs") {
            r.strip_prefix('=').or(r.is_empty().then_some(""))
        } else if w.starts_with("--") {
            None
        } else {
            w.strip_prefix("-j")
        };
        let Some(rest) = rest else { continue };
        let n = if rest.is_empty() {
            words.get(i + 1).and_then(|n| n.parse().ok())
        } else {
            rest.parse().ok()
        };
        found = Some(n);
    }
    found
}

/// Compare make's parallelism with the slots of the host list.
pub fn jobs_finding(label: &str, jobs: Option<Option<u32>>, slots: u32) -> Finding {
    match jobs {
        None => Finding::warning(format!(
            "{label} has no -j: make runs one job at a time and distcc cannot help \
             (the hosts have {slots} slots)"
        )),
        Some(None) => Finding::note(format!("{label}: -j without a number (no limit)")),
        Some(Some(j)) if j < slots => Finding::warning(format!(
            "{label}: -j{j} is less than the {slots} slots of the hosts: some stay idle"
        )),
        Some(Some(j)) if j > slots.saturating_mul(2).max(slots + 4) => Finding::warning(format!(
            "{label}: -j{j} is far more than the {slots} slots of the hosts: \
             the extra jobs wait or run locally"
        )),
        Some(Some(j)) => Finding::ok(format!("{label}: -j{j} for {slots} host slots")),
    }
}

/// What a PATH entry holds, as far as compilers are concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathKind {
    /// distcc's masquerade directory (or its `bin`).
    Masquerade,
    /// ccache's masquerade directory.
    Ccache,
    /// A directory with a real compiler (`gcc` or `cc`).
    Compiler,
    Other,
}

/// Findings on the order of PATH (entries in PATH order).
pub fn path_findings(entries: &[(String, PathKind)]) -> Vec<Finding> {
    let pos = |k| entries.iter().position(|(_, kind)| *kind == k);
    let (masq, ccache, compiler) = (
        pos(PathKind::Masquerade),
        pos(PathKind::Ccache),
        pos(PathKind::Compiler),
    );
    let Some(m) = masq else {
        return vec![Finding::note(
            "the masquerade directory is not in PATH: fine for Portage (FEATURES=distcc) and \
             makepkg (BUILDENV=(distcc)), which add it themselves; other builds need \
             CC=\"distcc gcc\" or the directory first in PATH",
        )];
    };
    let dir = &entries[m].0;
    let mut out = Vec::new();
    match compiler {
        Some(c) if c < m => out.push(Finding::problem(format!(
            "{} comes before {dir} in PATH: compilers found there bypass distcc",
            entries[c].0
        ))),
        _ => out.push(Finding::ok(format!(
            "{dir} comes before the compilers in PATH"
        ))),
    }
    if let Some(c) = ccache {
        if c > m {
            out.push(Finding::problem(format!(
                "{} (ccache) comes after {dir} in PATH: ccache's cache is bypassed; \
                 put ccache first (it hands misses to distcc) or use CCACHE_PREFIX=distcc",
                entries[c].0
            )));
        } else {
            out.push(Finding::ok(format!(
                "ccache ({}) comes before distcc",
                entries[c].0
            )));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::report::Level;
    use super::*;

    #[test]
    fn make_jobs_forms() {
        assert_eq!(make_jobs("-j8"), Some(Some(8)));
        assert_eq!(make_jobs("-j 8 -l4"), Some(Some(8)));
        assert_eq!(make_jobs("--jobs=12"), Some(Some(12)));
        assert_eq!(make_jobs("--jobs 3"), Some(Some(3)));
        assert_eq!(make_jobs("-j"), Some(None));
        assert_eq!(make_jobs("-l4 --load-average=3"), None);
        assert_eq!(make_jobs("-j2 -j9"), Some(Some(9)), "the last one wins");
    }

    #[test]
    fn jobs_against_slots() {
        assert_eq!(
            jobs_finding("MAKEOPTS", Some(Some(10)), 10).level,
            Level::Ok
        );
        assert_eq!(
            jobs_finding("MAKEOPTS", Some(Some(4)), 10).level,
            Level::Warning
        );
        assert_eq!(
            jobs_finding("MAKEOPTS", Some(Some(60)), 10).level,
            Level::Warning
        );
        assert_eq!(jobs_finding("MAKEOPTS", None, 10).level, Level::Warning);
        assert!(
            jobs_finding("MAKEFLAGS", Some(Some(2)), 8)
                .message
                .contains("-j2 is less")
        );
    }

    #[test]
    fn path_order() {
        use PathKind::*;
        let e = |l: &[(&str, PathKind)]| {
            path_findings(
                &l.iter()
                    .map(|(d, k)| ((*d).to_owned(), *k))
                    .collect::<Vec<_>>(),
            )
        };
        let f = e(&[
            ("/usr/lib/ccache/bin", Ccache),
            ("/usr/lib/distcc/bin", Masquerade),
            ("/usr/bin", Compiler),
        ]);
        assert!(f.iter().all(|f| f.level == Level::Ok), "{f:?}");
        let f = e(&[("/usr/bin", Compiler), ("/usr/lib/distcc", Masquerade)]);
        assert_eq!(f[0].level, Level::Problem);
        let f = e(&[
            ("/usr/lib/distcc", Masquerade),
            ("/usr/lib/ccache", Ccache),
            ("/usr/bin", Compiler),
        ]);
        assert_eq!(f[1].level, Level::Problem);
        let f = e(&[("/usr/bin", Compiler)]);
        assert_eq!(f[0].level, Level::Note);
    }
}
