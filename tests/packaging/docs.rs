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
    // lsdistcc: distcc 3.4's one-letter options (issue 11: only --help).
    let offered = bash_complete("lsdistcc", "lsdistcc -");
    for opt in LSDISTCC_OPTIONS {
        assert!(offered.iter().any(|o| o == opt), "{opt} not in {offered:?}");
    }
    assert_eq!(
        bash_complete("lsdistcc", "lsdistcc -P"),
        ["-P1", "-P2", "-P3"]
    );
    assert!(bash_complete("lsdistcc", "lsdistcc -pgc").contains(&"-pgcc".to_owned()));
}

/// lsdistcc's options: the letters its parser (src/pump/lsdistcc.rs)
/// takes, each checked below against the parser and every completion.
const LSDISTCC_OPTIONS: [&str; 16] = [
    "-l", "-n", "-x", "-d", "-v", "-t", "-h", "-c", "-k", "-m", "-o", "-g", "-r", "-P", "-p",
    "--help",
];

#[test]
fn lsdistcc_completions_offer_its_real_options() {
    // Each one is an option lsdistcc accepts: with a value where it takes
    // one, it is not refused as a usage error (-d may still fail on a host
    // without a DNS domain, which is not about the option).
    for opt in LSDISTCC_OPTIONS.iter().filter(|o| **o != "--help") {
        let arg = match *opt {
            "-p" => "-pgcc".to_owned(),
            "-P" => "-P1".to_owned(),
            "-l" | "-n" | "-x" | "-d" | "-v" => (*opt).to_owned(),
            _ => format!("{opt}1"),
        };
        let out = Command::new(bin("lsdistcc"))
            .args([&arg, "-t1", "-c0", "localhost"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !err.contains("unknown option") && !err.contains("needs a number"),
            "lsdistcc {arg}: {err}"
        );
        assert!(
            out.status.success() || *opt == "-d",
            "lsdistcc {arg}: {err}"
        );
    }
    let letters = |text: &str| -> Vec<&str> {
        LSDISTCC_OPTIONS
            .iter()
            .copied()
            .filter(|o| !text.contains(&format!("'{o}")) && !text.contains(&format!(" {o} ")))
            .collect()
    };
    let zsh = read("completions/zsh/_lsdistcc".into());
    assert!(letters(&zsh).is_empty(), "zsh lacks {:?}", letters(&zsh));
    let fish = read("completions/fish/lsdistcc.fish".into());
    for opt in LSDISTCC_OPTIONS {
        let spec = match opt.strip_prefix("--") {
            Some(long) => format!("-l {long} "),
            None => format!("-s {} ", &opt[1..]),
        };
        assert!(fish.contains(&spec), "fish lacks {opt}");
    }
    if crate::support::have_tool("fish") {
        let out = stdout_of(Command::new("fish").arg("-c").arg(format!(
            "source {}; complete -C 'lsdistcc -P'",
            repo().join("completions/fish/lsdistcc.fish").display()
        )));
        let values: Vec<_> = out.lines().map(|l| l.split('\t').next().unwrap()).collect();
        assert_eq!(values, ["-P1", "-P2", "-P3"], "{out}");
    }
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

/// The README is user-first (style.md example 20; issue 11: Gentoo and
/// Arch were at the end of 760 lines): its first screen holds what it is,
/// the quick start, Gentoo, Arch and Security, and its first two
/// commands are the main job and the tests.
#[test]
fn readme_first_screen_serves_users() {
    let readme = read("README.md".into());
    let first: Vec<&str> = readme.lines().take(60).collect();
    for heading in ["## Quick start", "## Gentoo", "## Arch", "## Security"] {
        assert!(
            first.iter().any(|l| l.starts_with(heading)),
            "{heading} is not in the README's first 60 lines"
        );
    }
    // The first lines of the first two code blocks.
    let mut commands = Vec::new();
    let mut lines = readme.lines();
    while let Some(l) = lines.next() {
        if l.starts_with("```") {
            commands.extend(lines.next());
            for l in lines.by_ref() {
                if l.starts_with("```") {
                    break;
                }
            }
        }
    }
    assert_eq!(commands[..2], ["scripts/quickstart", "scripts/test"]);
    // The long reference moved out; the README stays short.
    assert!(readme.lines().count() < 200, "README has grown long again");
    // Gentoo's recipe makes the Manifest before emerging.
    for text in [&readme, &read("docs/packaging.md".into())] {
        let manifest = text.find(" manifest").expect("ebuild ... manifest step");
        let emerge = text
            .find("emerge --ask sys-devel/distcc-rs")
            .expect("emerge");
        assert!(manifest < emerge, "manifest after emerge");
    }
}

/// Every relative link of the README and docs/ leads to a file, and its
/// #anchor to a heading there (GitHub's slugs).
#[test]
fn readme_and_docs_links_resolve() {
    let slug = |heading: &str| -> String {
        heading
            .trim_start_matches('#')
            .trim()
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .collect()
    };
    let mut files = vec!["README.md".to_owned()];
    for e in std::fs::read_dir(repo().join("docs")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        files.push(format!("docs/{name}"));
    }
    let mut checked = 0;
    for file in &files {
        let text = read(file.clone());
        let base = repo().join(file).parent().unwrap().to_path_buf();
        for (i, _) in text.match_indices("](") {
            let rest = &text[i + 2..];
            let target = &rest[..rest.find(')').unwrap()];
            if target.contains("://") {
                continue;
            }
            let (path, anchor) = target.split_once('#').unwrap_or((target, ""));
            let dest = if path.is_empty() {
                repo().join(file)
            } else {
                base.join(path)
            };
            assert!(dest.exists(), "{file}: link to missing {target}");
            if !anchor.is_empty() {
                let body = std::fs::read_to_string(&dest).unwrap();
                assert!(
                    body.lines()
                        .filter(|l| l.starts_with('#'))
                        .any(|l| slug(l) == anchor),
                    "{file}: no heading #{anchor} in {}",
                    dest.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} links checked");
}
