//! `pump` and `lsdistcc`.
//!
//! `lsdistcc` is complete: see [`lsdistcc`] (options and output) and
//! [`probe`] (network).
//!
//! `pump` mode (preprocessing on the servers, protocol 3 with an include
//! server, spec §5) is not built yet. Rather than pretend, `pump COMMAND`
//! says so once on stderr and runs COMMAND with plain distribution: our
//! client treats `,cpp` hosts as `,lzo` (protocol 2) when no include
//! server is running, which is exactly what distcc 3.4 does when its include
//! server fails. `--startup` and `--shutdown` succeed and print nothing to
//! evaluate, so build scripts written for distcc-pump keep working.

pub mod lsdistcc;
pub mod probe;

use std::process::{Command, ExitCode};

use crate::env::Vars;
use crate::error;

const PUMP_USAGE: &str = "\
Usage:
    pump COMMAND [ARG...]
or
    pump --startup
    pump --shutdown

distcc-rs does not have an include server yet, so pump mode (preprocessing
on the servers) is not available: COMMAND runs with plain distribution, in
which ,cpp hosts are used as ,lzo hosts. --startup and --shutdown succeed
and export nothing.
";

const NOTICE: &str = "pump: distcc-rs has no include server yet; running with plain distribution \
                      (,cpp hosts are used as ,lzo)";

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
        Some("--startup") | Some("--shutdown") => {
            eprintln!("{NOTICE}");
            ExitCode::SUCCESS
        }
        Some(_) => {
            eprintln!("{NOTICE}");
            let mut cmd = Command::new(&args[0]);
            cmd.args(&args[1..]).env_clear().envs(vars.iter());
            match cmd.status() {
                Ok(status) => exit_like(status),
                Err(e) => {
                    eprintln!("pump: cannot run {}: {e}", args[0]);
                    ExitCode::from(127)
                }
            }
        }
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

/// Entry point of `lsdistcc`.
pub fn lsdistcc_main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match lsdistcc::parse_args(&args) {
        Ok(lsdistcc::Command::Help) => {
            print!("{}", lsdistcc::USAGE);
            return ExitCode::SUCCESS;
        }
        Ok(lsdistcc::Command::Run(o)) => o,
        Err(e) => {
            eprintln!("lsdistcc: {e}");
            eprint!("{}", lsdistcc::USAGE);
            return error::ExitCode::BadArguments.into();
        }
    };
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
    use std::io::Write;
    match std::io::stdout().write_all(out.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(_) => error::ExitCode::IoError.into(),
    }
}
