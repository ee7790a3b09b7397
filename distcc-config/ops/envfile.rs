//! Gentoo's /etc/env.d/02distcc: reading and setting `VAR="value"` lines
//! (packaging notes §1.2, readenv/writeenv), and the same as `export
//! VAR="value"` in makepkg's configuration (Arch), with Gentoo's bugs fixed:
//! a variable that is missing is appended (Gentoo silently did nothing, so
//! `--set-log` never worked on a stock install), and only real assignments
//! count (Gentoo's regex also matched `#DISTCC_LOG="..."` and `XDISTCC_LOG`).

use super::shvars;
use std::collections::BTreeMap;

/// The value of `var`, if the file assigns it (the last assignment wins,
/// as when the shell sources it).
pub fn read_var(text: &str, var: &str) -> Option<String> {
    shvars::assignments(text, &BTreeMap::new())
        .into_iter()
        .rev()
        .find(|a| a.name == var)
        .map(|a| a.value)
}

/// `text` with `var` set to `value`: every assignment line of `var` is
/// replaced by `VAR="value"`, or the line is appended if there is none.
pub fn set_var(text: &str, var: &str, value: &str) -> String {
    set_line(text, var, &format!("{var}=\"{value}\""))
}

/// The same for a file that bash sources, such as makepkg.conf, where only
/// exported variables reach the compilers: `export VAR="value"`.
pub fn set_exported(text: &str, var: &str, value: &str) -> String {
    set_line(text, var, &format!("export {var}=\"{value}\""))
}

/// The exported assignments of a sourced file, `(name, value)`, the last
/// one of each name, in file order.
pub fn exported(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let l = line.trim_start();
        let Some(rest) = l.strip_prefix("export ") else {
            continue;
        };
        for a in shvars::assignments(rest.trim_start(), &BTreeMap::new()) {
            out.retain(|(n, _)| *n != a.name);
            out.push((a.name, a.value));
        }
    }
    out
}

fn set_line(text: &str, var: &str, line: &str) -> String {
    let line = line.to_owned();
    let mut found = false;
    let mut out: Vec<String> = text
        .lines()
        .map(|l| {
            if assigns(l, var) {
                found = true;
                line.clone()
            } else {
                l.to_owned()
            }
        })
        .collect();
    if !found {
        out.push(line);
    }
    let mut joined = out.join("\n");
    joined.push('\n');
    joined
}

fn assigns(line: &str, var: &str) -> bool {
    let l = line.trim_start();
    let l = l.strip_prefix("export ").map_or(l, str::trim_start);
    l.strip_prefix(var)
        .is_some_and(|rest| rest.starts_with('='))
}

/// A variable name the shell accepts.
pub fn check_name(var: &str) -> Result<(), String> {
    let ok = var
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!("{var:?} is not a valid variable name"))
    }
}

/// A value that can go between double quotes without changing meaning.
pub fn check_value(value: &str) -> Result<(), String> {
    match value
        .chars()
        .find(|c| matches!(c, '"' | '\\' | '$' | '`' | '\n'))
    {
        Some(c) => Err(format!("the value may not contain {c:?}")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STOCK: &str = "# Managed by distcc-config\nDISTCC_VERBOSE=\"0\"\n#DISTCC_LOG=\"/x\"\nXDISTCC_LOG=\"/y\"\nDISTCC_SSH=\"\"\n";

    #[test]
    fn reads_only_real_assignments() {
        assert_eq!(read_var(STOCK, "DISTCC_VERBOSE").as_deref(), Some("0"));
        assert_eq!(read_var(STOCK, "DISTCC_LOG"), None);
        assert_eq!(read_var(STOCK, "DISTCC_SSH").as_deref(), Some(""));
        assert_eq!(read_var("export A='b'\n", "A").as_deref(), Some("b"));
    }

    #[test]
    fn set_replaces_or_appends() {
        let t = set_var(STOCK, "DISTCC_VERBOSE", "1");
        assert!(t.contains("\nDISTCC_VERBOSE=\"1\"\n"), "{t}");
        assert!(!t.contains("DISTCC_VERBOSE=\"0\""));
        let t = set_var(STOCK, "DISTCC_LOG", "/var/log/distcc.log");
        assert!(
            t.ends_with("DISTCC_SSH=\"\"\nDISTCC_LOG=\"/var/log/distcc.log\"\n"),
            "{t}"
        );
        assert!(t.contains("#DISTCC_LOG=\"/x\""), "comments stay");
        assert_eq!(set_var("", "A", "b"), "A=\"b\"\n");
    }

    #[test]
    fn makepkg_conf_gets_exported_lines() {
        let conf = "CFLAGS=\"-O2\"\nDISTCC_VERBOSE=\"0\"\n#export DISTCC_LOG=\"/x\"\n";
        let t = set_exported(conf, "DISTCC_VERBOSE", "1");
        assert_eq!(
            t,
            "CFLAGS=\"-O2\"\nexport DISTCC_VERBOSE=\"1\"\n#export DISTCC_LOG=\"/x\"\n"
        );
        let t = set_exported(&t, "DISTCC_LOG", "/tmp/d.log");
        assert!(t.ends_with("export DISTCC_LOG=\"/tmp/d.log\"\n"), "{t}");
        assert_eq!(
            exported(&t),
            [
                ("DISTCC_VERBOSE".to_owned(), "1".to_owned()),
                ("DISTCC_LOG".to_owned(), "/tmp/d.log".to_owned())
            ]
        );
        assert_eq!(read_var(&t, "DISTCC_VERBOSE").as_deref(), Some("1"));
    }

    #[test]
    fn names_and_values_are_checked() {
        assert!(check_name("DISTCC_LOG").is_ok());
        assert!(check_name("1X").is_err());
        assert!(check_name("A-B").is_err());
        assert!(check_value("/var/log/x").is_ok());
        assert!(check_value("a\"b").is_err());
        assert!(check_value("$(rm)").is_err());
    }
}
