//! The command line: Gentoo's `distcc-config` options (packaging notes
//! §1.2) plus ours, parsed with clap after a Gentoo-style pre-check.
//!
//! Gentoo compatibility: every `--word` must be a known option (else
//! `!!! Error: --word is an invalid option.`, exit 1); other words are
//! values; the action is chosen by a fixed priority order wherever the
//! options are on the line. Deliberate fixes are listed in `--help`.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{CommandFactory, Parser};

use crate::error::Failure;
use crate::paths::{Distro, LinkStyle};

const FIXES: &str = "\
Differences from Gentoo's distcc-config (bugs fixed on purpose):
  --get-hosts prints the hosts file's contents (Gentoo printed ~/.distcc/hosts' path)
      and reads the files in the client's order: $DISTCC_HOSTS, $DISTCC_DIR/hosts
      (~/.distcc/hosts), /etc/distcc/hosts.
  --set-hosts checks the list with distcc's own parser and writes nothing if it is
      bad (exit 106); it joins several words (Gentoo kept only the last one) and
      accepts lists that start with a global keyword (randomize, localslots).
      As non-root it writes $DISTCC_DIR/hosts, which the client reads first.
  --set-log and --set-env add a missing variable (Gentoo silently did nothing).
  On Arch the variable options use makepkg's configuration (export VAR=\"value\"),
      which makepkg builds read, instead of /etc/env.d/02distcc; on Debian and
      others they say that nothing would read the file.
  --get-verbose, --get-log and --get-env read only real assignments (not
      commented ones).
  Missing values and files are errors with a message and exit 1 (not a Python
      traceback, not exit 0); errors go to stderr.
  gcc-config profiles whose version has a dash (11.0.0-pre9999) are split right.
  --update-masquerade changes only what is needed, keeps links it did not make
      (and the bin -> . link), removes stale distcc links, and also links clang,
      cpp, c89, c99 and cross compilers (masquerade/compilers.toml).
  env-update is waited for; with --root it runs with ROOT set.
  Files are replaced atomically (temp file + rename), keeping their mode.

Exit status: 0 success; 1 error, or problems found by a check; 106 bad host list.";

/// Configure distcc: hosts, masquerade links, cross toolchains, checks.
#[derive(Debug, Parser)]
#[command(
    name = "distcc-config",
    version,
    about = "Configure distcc: hosts, masquerade links, cross toolchains, checks",
    after_long_help = FIXES,
    disable_version_flag = true
)]
pub struct Args {
    /// Print the host list distcc uses.
    #[arg(long, help_heading = "Gentoo options")]
    pub get_hosts: bool,
    /// Set the host list (/etc/distcc/hosts as root, else $DISTCC_DIR/hosts).
    #[arg(long, help_heading = "Gentoo options")]
    pub set_hosts: bool,
    /// Print DISTCC_VERBOSE from /etc/env.d/02distcc (Gentoo) or makepkg.conf (Arch).
    #[arg(long, help_heading = "Gentoo options")]
    pub get_verbose: bool,
    /// Set DISTCC_VERBOSE (0 or 1) in /etc/env.d/02distcc (Gentoo) or makepkg.conf (Arch).
    #[arg(long, help_heading = "Gentoo options")]
    pub set_verbose: bool,
    /// Print DISTCC_LOG from /etc/env.d/02distcc (Gentoo) or makepkg.conf (Arch).
    #[arg(long, help_heading = "Gentoo options")]
    pub get_log: bool,
    /// Set the client's DISTCC_LOG (a file) in /etc/env.d/02distcc (Gentoo) or makepkg.conf (Arch).
    #[arg(long, help_heading = "Gentoo options")]
    pub set_log: bool,
    /// Print /etc/env.d/02distcc (Gentoo) or makepkg.conf's exported variables (Arch), or one VARIABLE.
    #[arg(long, help_heading = "Gentoo options")]
    pub get_env: bool,
    /// Set VARIABLE to VALUE in /etc/env.d/02distcc (Gentoo) or makepkg.conf (Arch).
    #[arg(long, help_heading = "Gentoo options")]
    pub set_env: bool,
    /// Link every installed compiler to distcc in /usr/lib/distcc.
    #[arg(long, help_heading = "Gentoo options")]
    pub update_masquerade: bool,
    /// The same, but only TRIPLE-prefixed compiler names.
    #[arg(long, help_heading = "Gentoo options")]
    pub update_masquerade_with_crossdev: bool,

    /// Check everything: hosts, reachability, PATH, -j, allowed networks, -march=native.
    #[arg(long)]
    pub check: bool,
    /// Check the networks distccd allows and the address it listens on
    /// (conf.d, systemd drop-ins, Debian defaults).
    #[arg(long)]
    pub check_allow: bool,
    /// Show what -march=native/-mtune=native in make.conf and makepkg.conf
    /// stand for on this CPU (gcc or clang, see --cc); with --apply, write the explicit flags.
    #[arg(long)]
    pub march_native: bool,
    /// On a volunteer: link unprefixed compiler names in a cross
    /// toolchain's bin DIR (gcc -> TRIPLE-gcc, cc, ...) and whitelist it.
    #[arg(long, value_name = "DIR")]
    pub cross_links: Option<PathBuf>,
    /// On a client: send cc/gcc/c++/g++ to CHOST-gcc/g++ through a wrapper
    /// (Gentoo's cross-compiling set-up).
    #[arg(long, value_name = "CHOST")]
    pub cross_wrapper: Option<String>,
    /// On a volunteer: a distccd of its own for a cross toolchain's bin DIR
    /// (its links as --cross-links, its port, its toolchain first on PATH):
    /// /etc/conf.d/distccd.TRIPLE for distccd@TRIPLE.service and OpenRC's
    /// distccd.TRIPLE.
    #[arg(long, value_name = "DIR")]
    pub target_daemon: Option<PathBuf>,
    /// Interactive set-up (also the default with no options on a terminal).
    #[arg(long)]
    pub wizard: bool,

    /// Create this machine's TLS key: `daemon` (/etc/distcc/tls) or
    /// `client` ($DISTCC_DIR/tls; Portage's for root on Gentoo). Default:
    /// daemon for root, else client. See docs/tls.md.
    #[arg(long, help_heading = "Authenticated farms (TLS)")]
    pub tls_keygen: bool,
    /// Print the fingerprint of the daemon or client key.
    #[arg(long, help_heading = "Authenticated farms (TLS)")]
    pub tls_fingerprint: bool,
    /// On a daemon: serve the client key FINGERPRINT (then an optional comment).
    #[arg(long, help_heading = "Authenticated farms (TLS)")]
    pub tls_trust_client: bool,
    /// On a client: talk to HOST only when it shows key FINGERPRINT.
    #[arg(long, help_heading = "Authenticated farms (TLS)")]
    pub tls_trust_daemon: bool,
    /// List this machine's keys and the keys it trusts.
    #[arg(long, help_heading = "Authenticated farms (TLS)")]
    pub tls_list: bool,
    /// Stop trusting FINGERPRINT on both sides (only for HOST if given).
    #[arg(long, help_heading = "Authenticated farms (TLS)")]
    pub tls_revoke: bool,

    /// Work on the system installed in DIR (default /).
    #[arg(
        long,
        value_name = "DIR",
        default_value = "/",
        help_heading = "Modifiers"
    )]
    pub root: PathBuf,
    /// Show what would change, change nothing.
    #[arg(long, help_heading = "Modifiers")]
    pub dry_run: bool,
    /// With --march-native: rewrite the files.
    #[arg(long, help_heading = "Modifiers")]
    pub apply: bool,
    /// With --set-hosts: write a list that distcc accepts but that looks wrong.
    #[arg(long, help_heading = "Modifiers")]
    pub force: bool,
    /// With --set-hosts: add the distccd servers announcing themselves by
    /// mDNS now (as `lsdistcc -z` lists them), before any hosts given; a
    /// fixed snapshot (write `+zeroconf` in the list to look at each build).
    #[arg(long, help_heading = "Modifiers")]
    pub zeroconf: bool,
    /// Absolute or relative masquerade links (default: the distribution's).
    #[arg(long, value_enum, value_name = "STYLE", help_heading = "Modifiers")]
    pub links: Option<LinkStyle>,
    /// With the TLS actions: the key directory (default: see --tls-keygen).
    #[arg(long, value_name = "DIR", help_heading = "Modifiers")]
    pub tls_dir: Option<PathBuf>,
    /// The distribution in --root (default: detected).
    #[arg(long, value_enum, help_heading = "Modifiers")]
    pub distro: Option<Distro>,
    /// The program masquerade links point to (default EPREFIX/usr/bin/distcc).
    #[arg(long, value_name = "PATH", help_heading = "Modifiers")]
    pub distcc_binary: Option<PathBuf>,
    /// With --cross-links: the toolchain's triple (default: detected).
    #[arg(long, value_name = "TRIPLE", help_heading = "Modifiers")]
    pub triple: Option<String>,
    /// With --target-daemon: its port (default: the first free from 3634).
    #[arg(long, value_name = "PORT", help_heading = "Modifiers")]
    pub port: Option<u16>,
    /// With --target-daemon: a client network it allows (repeat for more;
    /// default: the private networks).
    #[arg(long, value_name = "NET", help_heading = "Modifiers")]
    pub allow: Vec<String>,
    /// With --march-native: the compiler to ask (default $CC or gcc).
    #[arg(long, value_name = "CC", help_heading = "Modifiers")]
    pub cc: Option<String>,
    /// With --check: seconds to wait for each host's port.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 2.0,
        help_heading = "Modifiers"
    )]
    pub timeout: f64,

    /// Values: the host list, `VARIABLE [VALUE]`, 0 or 1, FILE.
    #[arg(value_name = "VALUE")]
    pub values: Vec<String>,
}

/// What to do, chosen in Gentoo's priority order, then ours.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    GetHosts,
    SetHosts,
    GetVerbose,
    SetVerbose,
    GetLog,
    SetLog,
    UpdateMasquerade {
        crossdev: bool,
    },
    GetEnv,
    SetEnv,
    Check,
    CheckAllow,
    MarchNative,
    CrossLinks(PathBuf),
    CrossWrapper(String),
    TargetDaemon(PathBuf),
    TlsKeygen,
    TlsFingerprint,
    TlsTrustClient,
    TlsTrustDaemon,
    TlsList,
    TlsRevoke,
    Wizard,
    /// No action: the wizard on a terminal, else the usage text.
    Default,
}

impl Args {
    pub fn action(&self) -> Action {
        let gentoo = [
            (self.get_hosts, Action::GetHosts),
            (self.set_hosts, Action::SetHosts),
            (self.get_verbose, Action::GetVerbose),
            (self.set_verbose, Action::SetVerbose),
            (self.get_log, Action::GetLog),
            (self.set_log, Action::SetLog),
            (
                self.update_masquerade,
                Action::UpdateMasquerade { crossdev: false },
            ),
            (
                self.update_masquerade_with_crossdev,
                Action::UpdateMasquerade { crossdev: true },
            ),
            (self.get_env, Action::GetEnv),
            (self.set_env, Action::SetEnv),
            (self.check, Action::Check),
            (self.check_allow, Action::CheckAllow),
            (self.march_native, Action::MarchNative),
        ];
        if let Some((_, a)) = gentoo.into_iter().find(|(on, _)| *on) {
            return a;
        }
        if let Some(dir) = &self.cross_links {
            return Action::CrossLinks(dir.clone());
        }
        if let Some(chost) = &self.cross_wrapper {
            return Action::CrossWrapper(chost.clone());
        }
        if let Some(dir) = &self.target_daemon {
            return Action::TargetDaemon(dir.clone());
        }
        let tls = [
            (self.tls_keygen, Action::TlsKeygen),
            (self.tls_fingerprint, Action::TlsFingerprint),
            (self.tls_trust_client, Action::TlsTrustClient),
            (self.tls_trust_daemon, Action::TlsTrustDaemon),
            (self.tls_list, Action::TlsList),
            (self.tls_revoke, Action::TlsRevoke),
        ];
        if let Some((_, a)) = tls.into_iter().find(|(on, _)| *on) {
            return a;
        }
        if self.wizard {
            Action::Wizard
        } else {
            Action::Default
        }
    }
}

/// Parse argv (without `argv[0]`). `Ok(Err(text))` is help to print, exit 0.
pub fn parse(argv: &[OsString]) -> Result<Result<Args, String>, Failure> {
    let known: Vec<String> = Args::command()
        .get_arguments()
        .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
        .chain(["--help".to_owned()])
        .collect();
    let text: Vec<String> = argv
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let setting_hosts = text.iter().any(|a| a == "--set-hosts");
    let mut checked = Vec::new();
    let mut after_dashdash = false;
    for a in &text {
        let name = a.split_once('=').map_or(a.as_str(), |(n, _)| n);
        let is_host_keyword = a.starts_with("--randomize") || a.starts_with("--localslots");
        if after_dashdash || !a.starts_with("--") {
            checked.push(a.clone());
        } else if a == "--" {
            after_dashdash = true;
            checked.push(a.clone());
        } else if known.iter().any(|k| k == name) {
            checked.push(a.clone());
        } else if setting_hosts && is_host_keyword {
            // A host list word (`--randomize a b`): marked with a NUL so
            // clap takes it as a value; the mark is removed below.
            checked.push(format!("\u{0}{a}"));
        } else {
            return Err(Failure::raw(format!(
                "!!! Error: {a} is an invalid option."
            )));
        }
    }
    let argv0 = std::iter::once("distcc-config".to_owned());
    match Args::try_parse_from(argv0.chain(checked)) {
        Ok(mut args) => {
            for v in &mut args.values {
                if let Some(stripped) = v.strip_prefix('\u{0}') {
                    *v = stripped.to_owned();
                }
            }
            Ok(Ok(args))
        }
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => Ok(Err(e.to_string())),
        Err(e) => Err(Failure::raw(e.to_string().trim_end().to_owned())),
    }
}

/// Gentoo's usage text (the first six lines, word for word), then ours.
pub fn usage(cmd: &str) -> String {
    format!(
        "Usage: {cmd} --set-hosts DISTCC_HOSTS | --get-hosts\n\
         \x20      {cmd} --set-verbose {{ 0 | 1 }}  | --get-verbose\n\
         \x20      {cmd} --set-log FILE           | --get-log\n\
         \x20      {cmd} --set-env VARIABLE VALUE | --get-env [VARIABLE]\n\
         \x20      {cmd} --update-masquerade\n\
         \x20      {cmd} --update-masquerade-with-crossdev\n\
         \x20      {cmd} --check | --check-allow | --march-native [--apply]\n\
         \x20      {cmd} --cross-links DIR [--triple TRIPLE] | --cross-wrapper CHOST\n\
         \x20      {cmd} --target-daemon DIR [--triple TRIPLE] [--port N] [--allow NET]...\n\
         \x20      {cmd} --tls-keygen [daemon|client] | --tls-fingerprint [daemon|client] | --tls-list\n\
         \x20      {cmd} --tls-trust-client FP | --tls-trust-daemon HOST FP | --tls-revoke FP [HOST]\n\
         \x20      {cmd} --wizard\n\
         \x20      (--help for all options and modifiers)\n"
    )
}

#[cfg(test)]
#[path = "cli_tests.rs"]
mod tests;
