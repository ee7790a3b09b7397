//! `distcc --scan-includes COMPILE...` (spec §3.1): print what pump mode
//! would send for this compile, one `%-9s %s` line each, and exit; the
//! compile itself is not run.
//!
//! 3.4 asks its include server; the categories are its: `FILE` for the
//! source and each header sent, `DIRECTORY` for a directory made to exist
//! on the server (its `forcing_technique_271828` file), `SYSTEMDIR` for a
//! compiler default directory the server takes from its own system (3.4
//! sends a symbolic link for it; we send nothing), `SYMLINK` (never
//! printed here: we send no links). Our list comes from the in-process
//! analysis the real job uses ([`super::pump`]), for the host the real
//! job would pick.
//!
//! Exit codes as 3.4's: 0 after the list; 100 when the chosen host would
//! not take the job in pump mode (not a `,cpp,lzo` host, or input already
//! preprocessed), with 3.4's message; 1 when the include list cannot be
//! had (3.4: no include server, i.e. not run under `pump`). Where 3.4
//! compiles the job locally instead (a job that must run here, no host
//! list, `localhost` chosen), we print why and exit 100: a scan should
//! not build anything.

use std::ffi::OsString;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use tracing::{error, warn};

use crate::args::is_preprocessed;
use crate::args::os::lossy;
use crate::client::ctx::Ctx;
use crate::client::job::{affinity_key, prepare};
use crate::client::pump::PumpState;
use crate::client::slots::hostlist::{self, Loaded};
use crate::client::slots::pick::{Preference, pick};
use crate::error::ExitCode;

/// 3.4's message when the host would not use pump mode.
pub const NOT_PUMP: &str = "'--scan_includes' specified, but distcc wouldn't have used include \
                            server (make sure hosts list includes ',cpp' option?)";

/// One output line: 3.4's `printf("%-9s %s\n", category, name)`.
pub fn line(category: &str, name: &Path) -> Vec<u8> {
    let mut out = format!("{category:<9} ").into_bytes();
    out.extend_from_slice(name.as_os_str().as_bytes());
    out.push(b'\n');
    out
}

/// Run the scan; returns the exit code.
pub fn run(ctx: &Ctx, argv: Vec<OsString>) -> i32 {
    let failed = ExitCode::Failed.code();
    let p = prepare(ctx, argv);
    let job = match p.scan {
        Ok(job) => job,
        Err((reason, _)) => {
            error!("'--scan_includes' specified, but this command would run locally ({reason})");
            return failed;
        }
    };
    let list = match hostlist::load(&ctx.vars) {
        Loaded::List { list, .. } => list,
        Loaded::Empty { message, .. } | Loaded::Unreadable { message, .. } => {
            error!("{message}");
            return failed;
        }
        Loaded::Bad { error, origin } => {
            error!("{origin}: {error}");
            return error.exit_code().code();
        }
    };
    // The host the real job would take first (its lock is let go at once).
    let locks = ctx.lock_dir();
    let excluded = vec![false; list.hosts.len()];
    let host = match pick(
        &list.hosts,
        &excluded,
        locks.as_ref(),
        ctx.backoff,
        ctx.pause,
        ctx.topdir.as_deref(),
        Preference {
            source: affinity_key(ctx, &job).as_deref(),
            home: None,
        },
    ) {
        Ok(Some(picked)) => &list.hosts[picked.index],
        Ok(None) => {
            error!("'--scan_includes' specified, but every host is down or in backoff");
            return failed;
        }
        Err(e) => {
            error!("choosing a host: {e}");
            return failed;
        }
    };
    if host.is_local() {
        error!("'--scan_includes' specified, but localhost was chosen: the job would compile here");
        return failed;
    }
    if host.protover < 3 || is_preprocessed(&job.input) {
        error!("{NOT_PUMP}");
        return failed;
    }
    if !ctx.vars.pump() {
        // 3.4: "INCLUDE_SERVER_PORT not set - did you forget to run under
        // 'distcc-pump'?" Ours needs no include server, only pump mode.
        warn!("pump mode is off - did you forget to run under 'pump' (or set DISTCC_PUMP=1)?");
        error!("failed to get includes");
        return 1;
    }
    let mut state = PumpState::default();
    let Some(pumped) = state.get(ctx, &job, p.driver_deps) else {
        error!(
            "failed to get includes for {} (DISTCC_VERBOSE=1 says why)",
            lossy(&job.input)
        );
        return 1;
    };
    let mut out = Vec::new();
    for f in &pumped.files {
        out.extend(line("FILE", f));
    }
    for d in &pumped.dirs {
        out.extend(line("DIRECTORY", d));
    }
    for d in &pumped.system {
        out.extend(line("SYSTEMDIR", d));
    }
    let mut stdout = io::stdout().lock();
    match stdout.write_all(&out).and_then(|()| stdout.flush()) {
        Ok(()) => 0,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            error!("writing the list: {e}");
            ExitCode::IoError.code()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_3_4s_printf() {
        assert_eq!(line("FILE", Path::new("/w/x.c")), b"FILE      /w/x.c\n");
        assert_eq!(
            line("DIRECTORY", Path::new("/w/sub")),
            b"DIRECTORY /w/sub\n"
        );
        assert_eq!(
            line("SYSTEMDIR", Path::new("/usr/include")),
            b"SYSTEMDIR /usr/include\n"
        );
    }
}
