//! `pump` and `lsdistcc`.
//!
//! `lsdistcc` is complete: see [`lsdistcc`] (options and output) and
//! [`probe`] (network).
//!
//! `pump COMMAND` runs COMMAND in pump mode (spec §5): our client sends
//! `,cpp,lzo` hosts the source and its headers and lets them preprocess.
//! 3.4 starts an include server for this; our client finds the headers
//! itself ([`includes`]), so `pump` only switches the mode on
//! (`DISTCC_PUMP=1`) after checking, as 3.4 does, that some host can take
//! pump jobs. It also makes the build's pump directory (`DISTCC_PUMP_DIR`,
//! where 3.4 has its include server's socket) for the [`discrepancy`]
//! counter and the clients' shared include cache
//! ([`includes::Cache`]), and says at the end whether jobs failed on servers but
//! compiled here. `--startup` prints the variables to `eval`;
//! `--shutdown` reports and removes the directory.

pub mod discrepancy;
pub mod includes;
pub mod lsdistcc;
pub mod probe;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use crate::client::slots::hostlist::{self, Loaded};
use crate::env::Vars;
use crate::error;

const PUMP_USAGE: &str = "\
Usage:
    pump COMMAND [ARG...]
or
    eval `pump --startup`
    pump --shutdown

Runs COMMAND (typically make) with pump mode switched on: distcc sends
hosts marked ,cpp,lzo the source and the headers it includes, and they
preprocess and compile. No include server is needed. Headers from the
compiler's system directories are not sent: pump hosts need the same
system headers and compiler as this machine.
";

/// Entry point of `pump`.
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let vars = Vars::from_process();
    match args.first().map(String::as_str) {
        None | Some("--help") | Some("-h") => {
            print!("{PUMP_USAGE}");
            if args.is_empty() {
                error::ExitCode::BadArguments.into()
            } else {
                ExitCode::SUCCESS
            }
        }
        Some("--shutdown") => {
            if let Some(dir) = vars.get_os("DISTCC_PUMP_DIR") {
                finish(Path::new(dir), vars.max_discrepancy().unwrap_or(1));
            }
            ExitCode::SUCCESS
        }
        Some(first) => {
            if let Err(e) = has_pump_host(&vars) {
                eprintln!("pump: error: {e}");
                return ExitCode::FAILURE;
            }
            let limit = match vars.max_discrepancy() {
                Ok(n) => n,
                Err(e) => {
                    eprintln!("pump: error: {e}");
                    return error::ExitCode::BadArguments.into();
                }
            };
            let dir = make_dir(&vars.tmpdir());
            if first == "--startup" {
                match &dir {
                    Some(d) => println!(
                        "export DISTCC_PUMP='1' DISTCC_PUMP_DIR={}",
                        shell_quote(&d.to_string_lossy())
                    ),
                    None => println!("export DISTCC_PUMP='1'"),
                }
                return ExitCode::SUCCESS;
            }
            let mut cmd = Command::new(&args[0]);
            cmd.args(&args[1..])
                .env_clear()
                .envs(vars.iter())
                // Ours, not a 3.4 include server's, is this build's.
                .env_remove("INCLUDE_SERVER_PORT")
                .env("DISTCC_PUMP", "1");
            if let Some(d) = &dir {
                cmd.env("DISTCC_PUMP_DIR", d);
            }
            let code = match cmd.status() {
                Ok(status) => exit_like(status),
                Err(e) => {
                    eprintln!("pump: cannot run {}: {e}", args[0]);
                    ExitCode::from(127)
                }
            };
            if let Some(d) = &dir {
                finish(d, limit);
            }
            code
        }
    }
}

/// A new private directory `$TMPDIR/distcc-pump.XXXXXX`, like 3.4's. The
/// build still runs in pump mode without it, just without a counter.
fn make_dir(tmpdir: &Path) -> Option<PathBuf> {
    match nix::unistd::mkdtemp(&tmpdir.join("distcc-pump.XXXXXX")) {
        Ok(d) => Some(d),
        Err(e) => {
            eprintln!(
                "pump: warning: cannot create a directory in {}: {e}; \
                 pump-mode failures will not switch the build to plain mode",
                tmpdir.display()
            );
            None
        }
    }
}

/// Report the build's discrepancies and remove its pump directory (only
/// our counter and the directory itself: nothing else is ours to delete).
fn finish(dir: &Path, limit: u64) {
    let counter = discrepancy::Counter::new(dir, limit);
    if let Some(text) = discrepancy::report(counter.count(), limit) {
        eprint!("{text}");
    }
    let _ = std::fs::remove_file(dir.join(discrepancy::FILE));
    // The build's include cache: the clients' records, nothing else.
    let _ = std::fs::remove_dir_all(dir.join("includes"));
    let _ = std::fs::remove_dir(dir);
}

/// `text` in single quotes for a POSIX shell.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// 3.4's check: pump mode needs at least one `,cpp` host.
fn has_pump_host(vars: &Vars) -> Result<(), String> {
    match hostlist::load(vars) {
        Loaded::List { list, .. } if list.hosts.iter().any(|h| h.cpp) => Ok(()),
        Loaded::List { origin, .. } | Loaded::Empty { origin, .. } => Err(format!(
            "pump mode requested, but the distcc host list ({origin}) has no host with the ',cpp' option"
        )),
        Loaded::Unreadable { message, .. } => Err(message),
        Loaded::Bad { error, origin } => Err(format!("{origin}: {error}")),
    }
}

fn exit_like(status: std::process::ExitStatus) -> ExitCode {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => ExitCode::from(c as u8),
        (None, Some(sig)) => ExitCode::from((128 + sig) as u8),
        _ => ExitCode::FAILURE,
    }
}

/// The DNS domain of this host for `lsdistcc -d`: the part of the host
/// name after the first dot, else `domain`/`search` in /etc/resolv.conf.
fn dns_domain() -> Option<String> {
    let host = nix::unistd::gethostname().ok()?.into_string().ok()?;
    if let Some((_, d)) = host.split_once('.') {
        return Some(d.to_string());
    }
    let resolv = std::fs::read_to_string("/etc/resolv.conf").ok()?;
    resolv.lines().find_map(|l| {
        let mut w = l.split_whitespace();
        match w.next() {
            Some("domain") | Some("search") => w.next().map(str::to_string),
            _ => None,
        }
    })
}

/// `lsdistcc -z`: browse now, refresh the `+zeroconf` cache, print the
/// host lines (with `-v`, each daemon's TXT record on stderr).
fn zeroconf_list(options: &lsdistcc::Options) -> ExitCode {
    let vars = Vars::from_process();
    let seen = match crate::zeroconf::cache::dir(&vars) {
        Some(dir) => crate::zeroconf::cache::refresh(&dir),
        None => crate::zeroconf::mdns::browse(
            crate::zeroconf::compiler::default_compiler()
                .as_ref()
                .map(|(m, v)| (m.as_str(), v.as_str())),
            crate::zeroconf::cache::WINDOW,
        ),
    };
    let seen = match seen {
        Ok(s) => s,
        Err(e) => {
            eprintln!("lsdistcc: zeroconf: {e}");
            return error::ExitCode::Failed.into();
        }
    };
    let mut out = String::new();
    for s in &seen {
        if options.verbose {
            let txt: Vec<String> = s.txt.iter().map(|(k, v)| format!("{k}={v}")).collect();
            eprintln!(
                "lsdistcc: {} {:?} port {}: {}",
                s.name,
                s.addrs,
                s.port,
                txt.join(" ")
            );
        }
        if let Some(line) = s.host_line() {
            out.push_str(&line);
            out.push('\n');
        }
    }
    print_list(&out)
}

/// Entry point of `lsdistcc`.
pub fn lsdistcc_main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match lsdistcc::parse_args(&args) {
        // 3.4 exits 1 after its usage, asked for or not (issue 11).
        Ok(lsdistcc::Command::Help) => {
            print!("{}", lsdistcc::USAGE);
            return ExitCode::FAILURE;
        }
        Ok(lsdistcc::Command::Run(o)) => o,
        Err(e) => {
            // 3.4 prints the usage on stdout here too; stderr keeps it out
            // of the host list a script reads from stdout.
            eprintln!("lsdistcc: {e}");
            eprint!("{}", lsdistcc::USAGE);
            return ExitCode::FAILURE;
        }
    };
    if options.zeroconf {
        return zeroconf_list(&options);
    }
    let domain = if options.domain {
        match dns_domain() {
            Some(d) => Some(d),
            None => {
                eprintln!("lsdistcc: cannot find this host's DNS domain name (for -d)");
                return error::ExitCode::Failed.into();
            }
        }
    } else {
        None
    };
    let mut out = String::new();
    for found in probe::probe_all(&options, domain.as_deref()) {
        if let Some(line) = lsdistcc::format_line(&options, &found) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    print_list(&out)
}

/// Print `lsdistcc`'s host list; a reader that closed stdout early (a
/// `| head`) is a clean exit.
fn print_list(out: &str) -> ExitCode {
    use std::io::Write;
    match std::io::stdout().write_all(out.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(_) => error::ExitCode::IoError.into(),
    }
}
