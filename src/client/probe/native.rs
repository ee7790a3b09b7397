//! `-march=native` / `-mtune=native` resolved on the client (distcc issue
//! #331; packaging notes §4), so such jobs can be distributed: on another
//! machine "native" would mean *that* CPU, which is why 3.4 keeps them
//! local (spec §3.4). `DISTCC_NATIVE_LOCAL=1` keeps 3.4's behaviour.
//!
//! Method: ask the compiler driver what it passes to `cc1` (`gcc -###`)
//! with the user's `-march=`/`-mtune=` flags, and again with the `native`
//! ones left out; the target options (`-m...`) and cache-size `--param`s
//! that only the first run has are what "native" means here. They replace
//! the first native flag, in place, so later user flags still win. Results
//! are cached per compiler binary, flag set and machine in
//! `$DISTCC_DIR/native/`.

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::args::driver;
use crate::args::os::{line, starts_with};
use crate::fnv::fnv1a;

/// Whether an argument asks for the local CPU.
pub fn is_native(arg: &OsStr) -> bool {
    arg == "-march=native" || arg == "-mtune=native"
}

/// The `-march=`/`-mtune=` flags of a command, in order: what the probe
/// must see so the driver makes the same choices (it only adds a native
/// `-mtune` when none was given).
pub fn probe_flags(argv: &[OsString]) -> Vec<OsString> {
    argv.iter()
        .skip(1)
        .filter(|a| starts_with(a, "-march=") || starts_with(a, "-mtune="))
        .cloned()
        .collect()
}

/// The target options on the `cc1`/`cc1plus` line of `gcc -###` output:
/// `-m...` words and `--param l1-.../l2-...` pairs, each a unit.
pub fn target_options(probe_stderr: &str) -> Option<Vec<Vec<String>>> {
    driver::cc1_command(probe_stderr).map(|cc1| driver::target_options(&cc1))
}

/// What the native flags stand for: units of the native probe that the
/// baseline probe does not have, flattened.
pub fn expansion(native: &[Vec<String>], baseline: &[Vec<String>]) -> Vec<String> {
    let base: HashSet<&Vec<String>> = baseline.iter().collect();
    native
        .iter()
        .filter(|u| !base.contains(u))
        .flatten()
        .cloned()
        .collect()
}

/// Replace the native flags of `argv` with `expanded`, at the position of
/// the first one.
pub fn substitute(argv: &[OsString], expanded: &[String]) -> Vec<OsString> {
    let mut out = Vec::with_capacity(argv.len() + expanded.len());
    let mut done = false;
    for (i, a) in argv.iter().enumerate() {
        if i > 0 && is_native(a) {
            if !done {
                out.extend(expanded.iter().map(OsString::from));
                done = true;
            }
        } else {
            out.push(a.clone());
        }
    }
    out
}

/// Why the flags could not be resolved (the job then stays local, as in 3.4).
#[derive(Debug)]
pub struct NativeError(pub String);

/// Resolve the native flags of `argv` (`argv[0]` = compiler as found on
/// `path`). Uses and fills the cache under `cache_dir` when given.
pub fn resolve(
    argv: &[OsString],
    compiler: &Path,
    cache_dir: Option<&Path>,
    safeguard: &str,
) -> Result<Vec<OsString>, NativeError> {
    let flags = probe_flags(argv);
    let cache = cache_dir.map(|d| d.join(cache_key(compiler, &flags)));
    if let Some(text) = cache.as_ref().and_then(|c| std::fs::read_to_string(c).ok()) {
        let expanded: Vec<String> = text.lines().map(str::to_owned).collect();
        if !expanded.is_empty() {
            return Ok(substitute(argv, &expanded));
        }
    }
    let native = probe(compiler, &flags, safeguard)?;
    let plain: Vec<OsString> = flags.iter().filter(|f| !is_native(f)).cloned().collect();
    let baseline = probe(compiler, &plain, safeguard)?;
    let expanded = expansion(&native, &baseline);
    let wants_arch = flags.iter().any(|f| f == "-march=native");
    let has = |p: &str| expanded.iter().any(|e| e.starts_with(p));
    if expanded.is_empty() || (wants_arch && !has("-march=")) {
        return Err(NativeError(format!(
            "{} -### did not show what -march=native means",
            compiler.display()
        )));
    }
    if let Some(path) = &cache {
        crate::client::probe::cache::store(path, expanded.join("\n"));
    }
    Ok(substitute(argv, &expanded))
}

fn probe(
    compiler: &Path,
    flags: &[OsString],
    safeguard: &str,
) -> Result<Vec<Vec<String>>, NativeError> {
    let out = crate::client::local::cleanup::probe_output(
        Command::new(compiler)
            .arg("-###")
            .args(flags)
            .args(["-x", "c", "-c", "/dev/null", "-o", "/dev/null"])
            .env("LC_ALL", "C")
            .env("_DISTCC_SAFEGUARD", safeguard)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    )
    .map_err(|e| NativeError(format!("cannot run {}: {e}", compiler.display())))?;
    let text = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(NativeError(format!(
            "{} -### {} failed: {}",
            compiler.display(),
            line(flags),
            text.lines().last().unwrap_or("")
        )));
    }
    target_options(&text)
        .ok_or_else(|| NativeError(format!("{} -### printed no cc1 line", compiler.display())))
}

/// Cache key: the compiler binary (path, size, mtime, inode), the flags
/// and the machine, hashed (FNV-1a) into a file name.
fn cache_key(compiler: &Path, flags: &[OsString]) -> String {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(compiler).ok();
    let host = nix::unistd::gethostname().unwrap_or_default();
    let text = format!(
        "{}\0{:?}\0{}\0{}\0{}\0{:?}",
        compiler.display(),
        meta.as_ref()
            .map(|m| (m.size(), m.mtime(), m.mtime_nsec(), m.ino())),
        line(flags),
        host.to_string_lossy(),
        cpu_model(),
        std::env::consts::ARCH,
    );
    format!("{:016x}", fnv1a(text.as_bytes()))
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name") || l.starts_with("CPU part"))
                .map(str::to_owned)
        })
        .unwrap_or_default()
}

/// Where the cache lives.
pub fn cache_dir(distcc_dir: &Path) -> PathBuf {
    distcc_dir.join("native")
}

#[cfg(test)]
mod tests {
    use super::*;

    const NATIVE: &str = r#"Using built-in specs.
COLLECT_GCC=gcc
 /usr/lib/gcc/x86_64-linux-gnu/12/cc1 -quiet -imultiarch x86_64-linux-gnu /dev/null "-march=znver3" -mmmx -mno-fma4 --param "l1-cache-size=48" --param "l2-cache-size=1024" "-mtune=znver3" -quiet -dumpbase null -fasynchronous-unwind-tables -o /tmp/cc.s
 as --64 -o /dev/null /tmp/cc.s
"#;
    const BASE: &str = r#" /usr/lib/gcc/x86_64-linux-gnu/12/cc1 -quiet /dev/null -quiet -dumpbase null "-mtune=generic" "-march=x86-64" -fasynchronous-unwind-tables -o /tmp/cc.s
"#;

    fn v(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn target_options_come_from_the_cc1_line() {
        let units = target_options(NATIVE).unwrap();
        let flat: Vec<String> = units.into_iter().flatten().collect();
        assert_eq!(
            flat,
            v(
                "-march=znver3 -mmmx -mno-fma4 --param l1-cache-size=48 --param l2-cache-size=1024 -mtune=znver3"
            )
        );
        assert!(target_options("no compiler here").is_none());
    }

    #[test]
    fn expansion_drops_what_the_baseline_has() {
        let native = target_options(NATIVE).unwrap();
        let base = target_options(BASE).unwrap();
        assert_eq!(
            expansion(&native, &base),
            v(
                "-march=znver3 -mmmx -mno-fma4 --param l1-cache-size=48 --param l2-cache-size=1024 -mtune=znver3"
            )
        );
        let tune_only = target_options(
            r#" cc1 --param "l1-cache-size=48" "-mtune=znver3" "-march=x86-64" -o x"#,
        )
        .unwrap();
        assert_eq!(
            expansion(&tune_only, &base),
            v("--param l1-cache-size=48 -mtune=znver3")
        );
    }

    #[test]
    fn substitute_replaces_in_place() {
        use crate::args::os::words;
        let argv = words("gcc -O2 -march=native -c x.c -mtune=native -mno-avx");
        assert_eq!(
            substitute(&argv, &v("-march=k8 -msse3")),
            words("gcc -O2 -march=k8 -msse3 -c x.c -mno-avx")
        );
        assert_eq!(probe_flags(&argv), words("-march=native -mtune=native"));
    }
}
