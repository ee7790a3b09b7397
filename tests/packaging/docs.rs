//! Manual pages and shell completions (written by hand: only distccd has a
//! clap definition, and the client's and distcc-config's command lines are
//! distcc's and Gentoo's, not clap's). Checked by mandoc's linter, zsh and
//! fish's parsers, bash-completion and fish actually completing, and against
//! each program's own `--help`: every long option a program documents there
//! must be in its manual page and in all three completions.

use super::{repo, run_ok, stdout_of};
use crate::require_tool;
use crate::support::bin;
use std::collections::BTreeSet;
use std::process::Command;

const PROGRAMS: [&str; 7] = [
    "distcc",
    "distccd",
    "distcc-config",
    "distccmon-text",
    "distccmon-tui",
    "pump",
    "lsdistcc",
];

/// Words in a program's `--help` that look like long options but are not
/// options of that program, with the reason.
const NOT_OPTIONS: &[(&str, &str)] = &[
    // distcc's help explains the host grammar, whose keywords look alike.
    ("distcc", "--randomize"),
    ("distcc", "--localslots"),
    ("distcc", "--localslots_cpp"),
];

/// The long options a program lists in its `--help` (stdout and stderr:
/// 3.4's programs print usage to either).
fn help_options(program: &str) -> BTreeSet<String> {
    let out = Command::new(bin(program)).arg("--help").output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let mut opts = BTreeSet::new();
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')) {
        let name = word.trim_end_matches('-');
        if name.len() > 3
            && name.starts_with("--")
            && name.as_bytes()[2].is_ascii_lowercase()
            && !NOT_OPTIONS.contains(&(program, name))
        {
            opts.insert(name.to_string());
        }
    }
    opts
}

/// A manual page as a reader sees it (mandoc's rendering, overstrike removed).
fn rendered_man(program: &str) -> String {
    let raw = stdout_of(
        Command::new("mandoc")
            .args(["-T", "ascii"])
            .arg(repo().join(format!("man/{program}.1"))),
    );
    let mut out = String::new();
    for c in raw.chars() {
        if c == '\u{8}' {
            out.pop();
        } else {
            out.push(c);
        }
    }
    out
}

fn read(rel: String) -> String {
    std::fs::read_to_string(repo().join(&rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn manual_pages_pass_mandoc_lint() {
    require_tool!("mandoc");
    for program in PROGRAMS {
        run_ok(
            Command::new("mandoc")
                .args(["-T", "lint", "-W", "warning"])
                .arg(repo().join(format!("man/{program}.1"))),
        );
        let page = rendered_man(program);
        assert!(page.contains("NAME"), "{program}.1:\n{page}");
        assert!(page.contains(program), "{program}.1:\n{page}");
    }
}

#[test]
fn every_help_option_is_in_the_man_page_and_completions() {
    require_tool!("mandoc");
    for program in PROGRAMS {
        let man = rendered_man(program);
        let bash = read(format!("completions/bash/{program}"));
        let zsh = read(format!("completions/zsh/_{program}"));
        let fish = read(format!("completions/fish/{program}.fish"));
        for opt in help_options(program) {
            let long = &opt[2..];
            assert!(
                man.contains(&opt),
                "{opt} of {program} missing from man/{program}.1"
            );
            assert!(
                bash.contains(&opt),
                "{opt} missing from bash completion of {program}"
            );
            assert!(
                zsh.contains(&opt),
                "{opt} missing from zsh completion of {program}"
            );
            assert!(
                fish.contains(&format!("-l {long} ")) || fish.contains(&format!("-l {long}\n")),
                "{opt} missing from fish completion of {program}"
            );
        }
    }
}

#[test]
fn completion_files_parse() {
    require_tool!("zsh");
    require_tool!("fish");
    for program in PROGRAMS {
        run_ok(
            Command::new("zsh")
                .arg("-n")
                .arg(repo().join(format!("completions/zsh/_{program}"))),
        );
        run_ok(
            Command::new("fish")
                .arg("--no-execute")
                .arg(repo().join(format!("completions/fish/{program}.fish"))),
        );
        run_ok(
            Command::new("bash")
                .arg("-n")
                .arg(repo().join(format!("completions/bash/{program}"))),
        );
    }
}

/// What bash-completion offers for `line` (the cursor at its end).
fn bash_complete(program: &str, line: &str) -> Vec<String> {
    let script = r#"source /usr/share/bash-completion/bash_completion
source "$1"
COMP_LINE="$2"; COMP_POINT=${#COMP_LINE}
read -ra COMP_WORDS <<<"$COMP_LINE"
[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
func=$(complete -p "$3" | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
"$func" "$3" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}""#;
    stdout_of(
        Command::new("bash")
            .arg("-c")
            .arg(script)
            .arg("complete")
            .arg(repo().join(format!("completions/bash/{program}")))
            .arg(line)
            .arg(program),
    )
    .lines()
    .map(String::from)
    .collect()
}

#[test]
fn bash_completion_completes_options_and_values() {
    require_tool!("/usr/share/bash-completion/bash_completion");
    assert_eq!(
        bash_complete("distccd", "distccd --log-level n"),
        ["notice"]
    );
    assert_eq!(
        bash_complete("distccd", "distccd --allow"),
        ["--allow", "--allow-private"]
    );
    assert_eq!(
        bash_complete("distcc-config", "distcc-config --update-m"),
        ["--update-masquerade", "--update-masquerade-with-crossdev"]
    );
    assert_eq!(
        bash_complete("distcc-config", "distcc-config --set-verbose "),
        ["0", "1"]
    );
}

#[test]
fn fish_completes_options_and_values() {
    require_tool!("fish");
    let out = stdout_of(Command::new("fish").arg("-c").arg(format!(
        "source {}; complete -C 'distccd --log-level='",
        repo().join("completions/fish/distccd.fish").display()
    )));
    let values: Vec<_> = out.lines().map(|l| l.split('\t').next().unwrap()).collect();
    assert!(values.contains(&"--log-level=debug"), "{out}");
    assert!(values.contains(&"--log-level=critical"), "{out}");
}
