//! Setting the networks distccd allows, in each distribution's file (used
//! by the wizard). Pure text edits:
//! * Gentoo OpenRC `/etc/conf.d/distccd`: the file is sourced by a shell,
//!   so old `DISTCCD_OPTS` lines with `--allow` are commented out and one
//!   `DISTCCD_OPTS="${DISTCCD_OPTS} --allow A --allow B"` line is appended;
//! * Arch `/etc/conf.d/distccd`: read by systemd's EnvironmentFile, which
//!   does not expand `${...}`, so the last `DISTCC_ARGS` value is rewritten
//!   in place with its `--allow` words replaced;
//! * Gentoo's systemd drop-in: `Environment="ALLOWED_SERVERS=A --allow B"`.

use std::collections::BTreeMap;

use super::shvars;

const MARK: &str = "# (replaced by distcc-config)";

fn allow_words(nets: &[String]) -> String {
    nets.iter()
        .map(|n| format!("--allow {n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Remove `--allow X`, `--allow=X`, `-a X` and `--allow-private` words.
pub fn strip_allow(words: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        if w == "--allow" || w == "-a" {
            i += 2;
            continue;
        }
        if !(w.starts_with("--allow=") || w == "--allow-private") {
            out.push(words[i].clone());
        }
        i += 1;
    }
    out
}

/// Gentoo OpenRC conf.d.
pub fn gentoo_confd(text: &str, nets: &[String]) -> String {
    let mut out: Vec<String> = text
        .lines()
        .map(|l| {
            let t = l.trim_start();
            if t.starts_with("DISTCCD_OPTS=") && (t.contains("--allow") || t.contains(" -a ")) {
                format!("#{l} {MARK}")
            } else {
                l.to_owned()
            }
        })
        .collect();
    out.push(format!(
        "DISTCCD_OPTS=\"${{DISTCCD_OPTS}} {}\"",
        allow_words(nets)
    ));
    out.join("\n") + "\n"
}

/// Arch conf.d (systemd EnvironmentFile).
pub fn arch_confd(text: &str, nets: &[String]) -> String {
    let all = shvars::assignments(text, &BTreeMap::new());
    let Some(last) = all.iter().rev().find(|a| a.name == "DISTCC_ARGS") else {
        let sep = if text.is_empty() || text.ends_with('\n') {
            ""
        } else {
            "\n"
        };
        return format!("{text}{sep}DISTCC_ARGS=\"{}\"\n", allow_words(nets));
    };
    let words: Vec<String> = last.value.split_whitespace().map(str::to_owned).collect();
    let mut kept = strip_allow(&words);
    kept.insert(0, allow_words(nets));
    let mut new = text.to_owned();
    new.replace_range(last.span.clone(), &format!("\"{}\"", kept.join(" ")));
    new
}

/// Gentoo's systemd drop-in.
pub fn dropin(text: &str, nets: &[String]) -> String {
    let value = match nets.split_first() {
        Some((first, rest)) if !rest.is_empty() => format!("{first} {}", allow_words(rest)),
        Some((first, _)) => first.clone(),
        None => String::new(),
    };
    let line = format!("Environment=\"ALLOWED_SERVERS={value}\"");
    let mut found = false;
    let mut out: Vec<String> = text
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("Environment=") && l.contains("ALLOWED_SERVERS=") {
                found = true;
                line.clone()
            } else {
                l.to_owned()
            }
        })
        .collect();
    if !found {
        if !out.iter().any(|l| l.trim() == "[Service]") {
            out.push("[Service]".to_owned());
        }
        out.push(line);
    }
    out.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(l: &[&str]) -> Vec<String> {
        l.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn gentoo_lines_are_commented_and_one_appended() {
        let t = "DISTCCD_OPTS=\"\"\nDISTCCD_OPTS=\"${DISTCCD_OPTS} --allow 192.168.0.0/24\"\nDISTCCD_OPTS=\"${DISTCCD_OPTS} -N 15\"\n";
        let new = gentoo_confd(t, &nets(&["10.0.0.0/8", "127.0.0.1"]));
        assert_eq!(
            new,
            "DISTCCD_OPTS=\"\"\n#DISTCCD_OPTS=\"${DISTCCD_OPTS} --allow 192.168.0.0/24\" # (replaced by distcc-config)\n\
             DISTCCD_OPTS=\"${DISTCCD_OPTS} -N 15\"\nDISTCCD_OPTS=\"${DISTCCD_OPTS} --allow 10.0.0.0/8 --allow 127.0.0.1\"\n"
        );
        let v = shvars::values(&new, &BTreeMap::new());
        assert_eq!(
            v["DISTCCD_OPTS"],
            " -N 15 --allow 10.0.0.0/8 --allow 127.0.0.1"
        );
    }

    #[test]
    fn arch_value_is_rewritten_in_place() {
        let t = "# c\nDISTCC_ARGS=\"--allow-private --log-level error\"\n";
        assert_eq!(
            arch_confd(t, &nets(&["192.168.1.0/24"])),
            "# c\nDISTCC_ARGS=\"--allow 192.168.1.0/24 --log-level error\"\n"
        );
        assert_eq!(
            arch_confd("# only\n", &nets(&["10.0.0.0/8"])),
            "# only\nDISTCC_ARGS=\"--allow 10.0.0.0/8\"\n"
        );
    }

    #[test]
    fn dropin_line() {
        let t = "# x\n[Service]\nEnvironment=\"ALLOWED_SERVERS=127.0.0.1\"\n";
        assert_eq!(
            dropin(t, &nets(&["10.0.0.0/8", "192.168.0.0/16"])),
            "# x\n[Service]\nEnvironment=\"ALLOWED_SERVERS=10.0.0.0/8 --allow 192.168.0.0/16\"\n"
        );
        assert_eq!(
            dropin("", &nets(&["10.0.0.0/8"])),
            "[Service]\nEnvironment=\"ALLOWED_SERVERS=10.0.0.0/8\"\n"
        );
    }

    #[test]
    fn strip_allow_words() {
        let w: Vec<String> = "--allow a -N 5 --allow=b -a c --allow-private --port 1"
            .split(' ')
            .map(String::from)
            .collect();
        assert_eq!(strip_allow(&w).join(" "), "-N 5 --port 1");
    }
}
