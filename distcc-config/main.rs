//! `distcc-config`: the Gentoo/Arch configuration tool (issue #4).
//!
//! A thin program: `cli` parses, `paths` locates files under --root and
//! EPREFIX, `ops` holds the pure rules, `cmd` and `prompts` do the I/O.
//! Only this file prints errors and picks the exit status.

mod cli;
mod cmd;
mod error;
mod fsio;
mod ops;
mod paths;
mod prompts;

use std::ffi::OsString;
use std::io::IsTerminal;
use std::process::ExitCode;

use distcc::env::Vars;

use crate::paths::{Distro, Layout};

/// EPREFIX baked in at build time (Gentoo Prefix ebuilds set it), unless
/// the environment says otherwise.
const BUILD_EPREFIX: Option<&str> = option_env!("DISTCC_CONFIG_EPREFIX");

fn detect_distro(layout: &Layout) -> Distro {
    let os_release = layout
        .os_release()
        .iter()
        .find_map(|p| fsio::read_opt(p).ok().flatten());
    let markers = layout.distro_markers().map(|p| fsio::exists(&p));
    Distro::detect(os_release.as_deref(), markers)
}

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let argv0 = argv.first().map_or("distcc-config".to_owned(), |a| {
        a.to_string_lossy().into_owned()
    });
    let rest = argv.get(1..).unwrap_or_default();
    let args = match cli::parse(rest) {
        Ok(Ok(args)) => args,
        Ok(Err(help)) => {
            print!("{help}");
            return ExitCode::SUCCESS;
        }
        Err(f) => {
            eprintln!("{}", f.text);
            return ExitCode::from(f.status);
        }
    };
    let vars = Vars::from_process();
    let eprefix = vars
        .get("EPREFIX")
        .map(str::to_owned)
        .or(BUILD_EPREFIX.map(str::to_owned))
        .unwrap_or_default();
    let layout = Layout::new(&args.root, &eprefix);
    // From here on, paths under --root resolve inside it (issue 11).
    fsio::set_root(&layout.root);
    let distro = args.distro.unwrap_or_else(|| detect_distro(&layout));
    let ctx = cmd::Ctx {
        first_arg: rest
            .first()
            .map(|a| a.to_string_lossy().into_owned())
            .unwrap_or_default(),
        argv0,
        uid: nix::unistd::geteuid().as_raw(),
        interactive: std::io::stdin().is_terminal(),
        vars,
        layout,
        distro,
        args,
    };
    match cmd::run(&ctx) {
        Ok(status) => ExitCode::from(status),
        Err(f) => {
            eprintln!("{}", f.text);
            ExitCode::from(f.status)
        }
    }
}
