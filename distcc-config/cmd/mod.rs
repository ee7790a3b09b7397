//! The drivers: each action reads what it needs, calls the pure `ops`, and
//! carries out the result. The shared context lives here.

pub mod allow;
pub mod check;
pub mod envvars;
pub mod gentoo;
pub mod march;
pub mod masquerade;
pub mod target;
pub mod tls;

use std::io::Write;
use std::path::PathBuf;

use distcc::env::Vars;

use crate::cli::{Action, Args};
use crate::error::{Failure, Result};
use crate::fsio;
use crate::ops::patterns::Patterns;
use crate::paths::{Distro, Layout};

/// Everything a driver may consult.
#[derive(Debug)]
pub struct Ctx {
    pub args: Args,
    pub vars: Vars,
    pub layout: Layout,
    pub distro: Distro,
    /// The effective user id.
    pub uid: u32,
    /// `argv[0]` and `argv[1]`, for Gentoo's "must be run as root" message.
    pub argv0: String,
    pub first_arg: String,
    /// Whether stdin is a terminal (the wizard needs one).
    pub interactive: bool,
}

impl Ctx {
    /// Gentoo refuses changes to the live system unless run as root.
    /// With --root or EPREFIX the files may be the user's own: then the
    /// file system decides.
    pub fn require_root(&self) -> Result<()> {
        if self.layout.is_live_system() && self.uid != 0 {
            return Err(Failure::raw(format!(
                "!!! {} {} must be run as root",
                self.argv0, self.first_arg
            )));
        }
        Ok(())
    }

    /// The compiler patterns: the administrator's file, the packaged
    /// file, else the built-in copy.
    pub fn patterns(&self) -> Result<Patterns> {
        for path in self.layout.compilers_toml() {
            if let Some(text) = fsio::read_opt(&path)? {
                return Patterns::parse(&text, &path.display().to_string()).map_err(Failure::error);
            }
        }
        Ok(Patterns::builtin())
    }

    /// The program masquerade links point to, as the system sees it.
    pub fn distcc_binary(&self) -> PathBuf {
        self.args
            .distcc_binary
            .clone()
            .unwrap_or_else(|| self.layout.distcc_host())
    }
}

/// Print a line on stdout; a closed stdout is not an error worth a panic.
pub fn say(line: impl std::fmt::Display) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// Run the chosen action; the exit status on success.
pub fn run(ctx: &Ctx) -> Result<u8> {
    match ctx.args.action() {
        Action::GetHosts => gentoo::get_hosts(ctx),
        Action::SetHosts => gentoo::set_hosts(ctx),
        Action::GetVerbose => envvars::get_var(ctx, "DISTCC_VERBOSE"),
        Action::SetVerbose => envvars::set_verbose(ctx),
        Action::GetLog => envvars::get_var(ctx, "DISTCC_LOG"),
        Action::SetLog => envvars::set_log(ctx),
        Action::GetEnv => envvars::get_env(ctx),
        Action::SetEnv => envvars::set_env(ctx),
        Action::UpdateMasquerade { crossdev } => masquerade::update(ctx, crossdev),
        Action::CrossLinks(dir) => masquerade::cross_links(ctx, &dir),
        Action::CrossWrapper(chost) => masquerade::cross_wrapper(ctx, &chost),
        Action::TargetDaemon(dir) => target::run(ctx, &dir),
        Action::MarchNative => march::run(ctx),
        Action::CheckAllow => allow::run(ctx),
        Action::Check => check::run(ctx),
        Action::TlsKeygen => tls::keygen(ctx),
        Action::TlsFingerprint => tls::fingerprint(ctx),
        Action::TlsTrustClient => tls::trust_client(ctx),
        Action::TlsTrustDaemon => tls::trust_daemon(ctx),
        Action::TlsList => tls::list(ctx),
        Action::TlsRevoke => tls::revoke(ctx),
        Action::Wizard => crate::prompts::wizard(ctx),
        Action::Default if ctx.interactive => crate::prompts::wizard(ctx),
        Action::Default => {
            print!("{}", crate::cli::usage(&ctx.argv0));
            Ok(0)
        }
    }
}
