//! Reading what the gcc driver says it would run (`gcc -### ...`): pure
//! text parsing, shared by the client (`-march=native` resolution and the
//! direct `cc1 -E` start-up) and `distcc-config --march-native`.
//!
//! `-###` prints each command on a line that starts with a space, every
//! word in double quotes except a few (`"-march=znver3" -mmmx`), with `\"`
//! and `\\` escaped inside quotes.

/// Split one `-###` command line into words: double quotes group and are
/// removed, `\"` and `\\` inside them are literal.
pub fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut have = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quoted = !quoted;
                have = true;
            }
            '\\' if quoted => cur.extend(chars.next()),
            c if c.is_whitespace() && !quoted => {
                if have || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                have = false;
            }
            c => cur.push(c),
        }
    }
    if have || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The commands of a `-###` listing (lines starting with a space), as words.
pub fn commands(listing: &str) -> Vec<Vec<String>> {
    listing
        .lines()
        .filter(|l| l.starts_with(' '))
        .map(words)
        .filter(|w| !w.is_empty())
        .collect()
}

/// The base name of a program path.
pub fn program_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The compiler proper's command (`cc1`, `cc1plus`, `cc1obj`, ...) in a
/// `-###` listing.
pub fn cc1_command(listing: &str) -> Option<Vec<String>> {
    commands(listing)
        .into_iter()
        .find(|w| program_name(&w[0]).starts_with("cc1"))
}

/// The target options of a cc1 command: `-m...` words and the cache-size
/// `--param l1-.../l2-...` pairs, each pair one unit. These are what
/// `-march=native`/`-mtune=native` turn into (packaging notes §4).
pub fn target_options(cc1: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut i = 1;
    while i < cc1.len() {
        let w = &cc1[i];
        let next = cc1.get(i + 1);
        if w == "--param" && next.is_some_and(|v| v.starts_with("l1-") || v.starts_with("l2-")) {
            out.push(vec![w.clone(), next.cloned().unwrap_or_default()]);
            i += 2;
            continue;
        }
        if w.starts_with("-m") {
            out.push(vec![w.clone()]);
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTING: &str = r#"Using built-in specs.
COLLECT_GCC=gcc
 /usr/lib/gcc/x86_64-linux-gnu/12/cc1 -quiet -imultiarch x86_64-linux-gnu /dev/null "-march=znver3" -mmmx -mno-fma4 --param "l1-cache-size=48" --param "l2-cache-size=1024" "-mtune=znver3" -quiet -dumpbase null -fasynchronous-unwind-tables -o /tmp/cc.s
 as --64 -o /dev/null /tmp/cc.s
"#;

    fn v(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn words_unquote_like_a_shell() {
        assert_eq!(
            words(r#" a "b c" "" d\x "e\"f""#),
            vec!["a", "b c", "", "d\\x", "e\"f"]
        );
    }

    #[test]
    fn commands_skip_the_driver_chatter() {
        let c = commands(LISTING);
        assert_eq!(c.len(), 2);
        assert_eq!(program_name(&c[1][0]), "as");
    }

    #[test]
    fn target_options_come_from_the_cc1_line() {
        let cc1 = cc1_command(LISTING).unwrap();
        let flat: Vec<String> = target_options(&cc1).into_iter().flatten().collect();
        assert_eq!(
            flat,
            v(
                "-march=znver3 -mmmx -mno-fma4 --param l1-cache-size=48 --param l2-cache-size=1024 -mtune=znver3"
            )
        );
        assert!(cc1_command("no compiler here").is_none());
        assert!(cc1_command(" as --64 x.s\n").is_none());
    }
}
