//! The command line distccd really gets from a service manager, for
//! `--check-allow` (issue 11): systemd's `distccd.service` with its
//! drop-ins (systemd.unit(5): a copy in /etc/systemd/system replaces the
//! packaged unit, `*.conf` drop-ins apply in file-name order, an empty
//! `ExecStart=` resets the list; systemd.service(5) "Command lines":
//! `$VAR` alone is split into words, `${VAR}` is put in as it is), and
//! xinetd's `server_args`. Pure: file texts in, words out.

use std::collections::BTreeMap;

/// One file of a unit: where it is (for messages) and its text.
#[derive(Clone, Debug)]
pub struct UnitFile {
    pub label: String,
    pub text: String,
}

/// What the unit and its drop-ins say, merged.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Service {
    /// The last `ExecStart=` and the file it is in.
    pub exec_start: Option<(String, String)>,
    /// `Environment=` assignments: name → (value, file).
    pub environment: BTreeMap<String, (String, String)>,
    /// `EnvironmentFile=` paths (a leading `-`, "may be missing", removed).
    pub environment_files: Vec<String>,
}

/// Merge the unit file and its drop-ins, in the order systemd applies
/// them (the caller sorts the drop-ins).
pub fn merge(files: &[UnitFile]) -> Service {
    let mut s = Service::default();
    for file in files {
        let mut section = String::new();
        for line in logical_lines(&file.text) {
            let line = line.trim();
            if line.starts_with('[') && line.ends_with(']') {
                section = line[1..line.len() - 1].to_owned();
                continue;
            }
            if section != "Service" {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let value = value.trim();
            match key.trim() {
                "ExecStart" if value.is_empty() => s.exec_start = None,
                "ExecStart" => s.exec_start = Some((value.to_owned(), file.label.clone())),
                "Environment" if value.is_empty() => s.environment.clear(),
                "Environment" => {
                    for word in split_words(value) {
                        if let Some((k, v)) = word.split_once('=') {
                            s.environment
                                .insert(k.to_owned(), (v.to_owned(), file.label.clone()));
                        }
                    }
                }
                "EnvironmentFile" if value.is_empty() => s.environment_files.clear(),
                "EnvironmentFile" => s
                    .environment_files
                    .push(value.trim_start_matches('-').to_owned()),
                _ => {}
            }
        }
    }
    s
}

/// Lines with `\` continuations joined; comments (`#`, `;`) dropped.
fn logical_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        if cur.is_empty() && (t.starts_with('#') || t.starts_with(';')) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(head) => {
                cur.push_str(head);
                cur.push(' ');
            }
            None => {
                cur.push_str(line);
                out.push(std::mem::take(&mut cur));
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Words of a command line or an `Environment=` value: whitespace
/// separates, double and single quotes group.
fn split_words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote = None;
    let mut any = false;
    for c in text.chars() {
        match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (_, c) => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// The arguments of a command line (the program dropped, systemd's `-@:+!`
/// prefixes with it), variables expanded from `env`: a word that is only
/// `$NAME` becomes the value's words, `${NAME}` and `$NAME` inside a word
/// are replaced. Returns the words and the variables used.
pub fn command_words(command: &str, env: &BTreeMap<String, String>) -> (Vec<String>, Vec<String>) {
    let mut used = Vec::new();
    let mut out = Vec::new();
    for word in split_words(command).into_iter().skip(1) {
        let whole = word.strip_prefix('$').filter(|n| is_name(n));
        if let Some(name) = whole {
            used.push(name.to_owned());
            let value = env.get(name).map_or("", String::as_str);
            out.extend(value.split_whitespace().map(str::to_owned));
            continue;
        }
        out.push(expand_inline(&word, env, &mut used));
    }
    (out, used)
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn expand_inline(word: &str, env: &BTreeMap<String, String>, used: &mut Vec<String>) -> String {
    let mut out = String::new();
    let mut rest = word;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, len) = if let Some(inner) = after.strip_prefix('{') {
            match inner.find('}') {
                Some(end) => (&inner[..end], end + 2),
                None => ("", 0),
            }
        } else {
            let n = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .count();
            (&after[..n], n)
        };
        if name.is_empty() {
            out.push('$');
            rest = after;
            continue;
        }
        used.push(name.to_owned());
        out.push_str(env.get(name).map_or("", String::as_str));
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

/// xinetd's distcc service: (`server_args` words, whether `disable = yes`).
/// `None` when the file has no `service distcc` block.
pub fn xinetd_args(text: &str) -> Option<(Vec<String>, bool)> {
    let mut in_distcc = false;
    let mut seen = false;
    let mut args = Vec::new();
    let mut disabled = false;
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if let Some(name) = line.strip_prefix("service") {
            in_distcc = name.trim() == "distcc";
            seen |= in_distcc;
            continue;
        }
        if !in_distcc {
            continue;
        }
        if line == "}" {
            in_distcc = false;
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let (key, value) = (key.trim().trim_end_matches(['+', '-']), value.trim());
        match key {
            "server_args" => args = value.split_whitespace().map(str::to_owned).collect(),
            "disable" => disabled = value == "yes",
            _ => {}
        }
    }
    seen.then_some((args, disabled))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(label: &str, text: &str) -> UnitFile {
        UnitFile {
            label: label.to_owned(),
            text: text.to_owned(),
        }
    }

    #[test]
    fn dropins_override_and_reset_exec_start() {
        let unit = file(
            "unit",
            "[Unit]\nDescription=x\n[Service]\nUser=distcc\n\
             ExecStart=/usr/bin/distccd --no-detach --daemon --allow $ALLOWED_SERVERS\n\
             Environment=\"ALLOWED_SERVERS=127.0.0.1\"\n",
        );
        let gentoo = file(
            "00gentoo.conf",
            "[Service]\nEnvironment=\"ALLOWED_SERVERS=10.0.0.0/8 --allow 10.1.0.0/16\"\n",
        );
        let s = merge(&[unit.clone(), gentoo.clone()]);
        let (cmd, from) = s.exec_start.clone().unwrap();
        assert_eq!(from, "unit");
        let env = s
            .environment
            .iter()
            .map(|(k, (v, _))| (k.clone(), v.clone()))
            .collect();
        let (words, used) = command_words(&cmd, &env);
        assert_eq!(
            words.join(" "),
            "--no-detach --daemon --allow 10.0.0.0/8 --allow 10.1.0.0/16"
        );
        assert_eq!(used, ["ALLOWED_SERVERS"]);
        assert_eq!(s.environment["ALLOWED_SERVERS"].1, "00gentoo.conf");
        // An override: reset, then a new command line, continued.
        let over = file(
            "override.conf",
            "# mine\n[Service]\nExecStart=\nExecStart=/usr/bin/distccd --daemon \\\n  --enable-tcp-insecure\n",
        );
        let s = merge(&[unit, gentoo, over]);
        assert_eq!(
            s.exec_start,
            Some((
                "/usr/bin/distccd --daemon    --enable-tcp-insecure".to_owned(),
                "override.conf".to_owned()
            ))
        );
    }

    #[test]
    fn expansion_follows_systemd() {
        let env: BTreeMap<String, String> = [("A", "--allow 1.2.3.0/24"), ("P", "3632")]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let (w, used) = command_words("-/usr/bin/distccd $A --port=${P} \"x y\" $NONE", &env);
        assert_eq!(w, ["--allow", "1.2.3.0/24", "--port=3632", "x y"]);
        assert_eq!(used, ["A", "P", "NONE"]);
        let s = merge(&[file(
            "arch",
            "[Service]\nEnvironmentFile=-/etc/conf.d/distccd\nExecStart=/usr/bin/distccd $DISTCC_ARGS\n",
        )]);
        assert_eq!(s.environment_files, ["/etc/conf.d/distccd"]);
    }

    #[test]
    fn xinetd_service() {
        let text = "# c\nservice other\n{\n server_args = --x\n}\nservice distcc\n{\n\tdisable\t= no\n\
                    \tserver_args\t= --inetd --allow 10.0.0.0/8 # lan\n}\n";
        assert_eq!(
            xinetd_args(text),
            Some((
                vec!["--inetd".into(), "--allow".into(), "10.0.0.0/8".into()],
                false
            ))
        );
        assert_eq!(xinetd_args("service other\n{\n}\n"), None);
        let (_, disabled) = xinetd_args("service distcc\n{\n disable = yes\n}\n").unwrap();
        assert!(disabled);
    }
}
