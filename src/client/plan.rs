//! Failure handling (spec §3.10) as pure decisions the driver carries out
//! (style.md, example 4). Differences from 3.4, on purpose:
//!
//! * A host that fails is never tried again in the same run, even with
//!   `DISTCC_BACKOFF_PERIOD=0` (3.4 loops forever there, spec §6 quirk 8).
//! * A host is marked in backoff for a compile failure only when the local
//!   retry disagrees (3.4 marks it first and clears it after an agreeing
//!   retry; the end state is the same, without the window in between).
//! * Every fall back to local compilation is reported exactly once on
//!   stderr, with its cause.

use crate::error::{ExitCode, critique_status};

/// The user's choices (spec §3.12).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// `DISTCC_FALLBACK` is not "0".
    pub fallback: bool,
    /// `DISTCC_SKIP_LOCAL_RETRY` is set.
    pub skip_local_retry: bool,
}

/// What to do with a remote compiler's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AfterCompile {
    /// It worked: show the server's stderr, clear the host's backoff, exit 0.
    Success,
    /// Retry locally after printing `warning`; the server's stderr is dropped.
    RetryLocally {
        /// The one line to print.
        warning: String,
        /// The remote result, to compare with the local one.
        remote_code: i32,
    },
    /// Show the server's stderr and exit with `code`.
    Finish {
        /// Exit code.
        code: i32,
    },
}

/// Decide after the server reported wait status `status` for `file` on `host`.
pub fn after_compile(policy: Policy, file: &str, host: &str, status: u32) -> AfterCompile {
    let code = critique_status(status);
    if code == 0 {
        return AfterCompile::Success;
    }
    if policy.skip_local_retry || !policy.fallback {
        return AfterCompile::Finish { code };
    }
    let warning = if code >= 128 {
        format!(
            "compiler for '{file}' was killed by signal {} on {host}, running locally instead",
            code - 128
        )
    } else if code == ExitCode::CompilerMissing.code() {
        format!(
            "{host} could not run the compiler for '{file}' (exit 110: not installed or not allowed there), running locally instead"
        )
    } else {
        format!(
            "remote compilation of '{file}' failed on {host} with exit code {code}, retrying locally"
        )
    };
    AfterCompile::RetryLocally {
        warning,
        remote_code: code,
    }
}

/// After a local retry: does the host deserve a backoff mark? Only when
/// the local compiler disagrees (a genuine compile error fails both ways).
pub fn blame_host(remote_code: i32, local_code: i32) -> bool {
    remote_code != local_code
}

/// After a local retry that succeeded where the host failed: the warning
/// that says so, with what the server's compiler printed (its first
/// lines). For a genuine compile error both sides fail alike and gcc has
/// just said it all locally, so the server's copy is dropped; when only
/// the server failed (a full disk, a broken compiler there), its words
/// are the one clue to what is wrong on that machine.
pub fn host_disagreed(
    host: &str,
    file: &str,
    remote_code: i32,
    local_code: i32,
    backoff: bool,
    remote_stderr: &[u8],
) -> Option<String> {
    const MAX_LINES: usize = 10;
    if local_code != 0 || !blame_host(remote_code, local_code) {
        return None;
    }
    let mut msg = format!(
        "{host} failed to compile '{file}' (exit {remote_code}) but the local compiler succeeded"
    );
    if backoff {
        msg.push_str(&format!("; {host} is in backoff now"));
    }
    let text = String::from_utf8_lossy(remote_stderr);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        msg.push_str("; it printed nothing");
        return Some(msg);
    }
    msg.push_str("; it said:");
    for l in lines.iter().take(MAX_LINES) {
        msg.push_str("\n    ");
        msg.push_str(l);
    }
    if lines.len() > MAX_LINES {
        msg.push_str(&format!(
            "\n    ... ({} more lines)",
            lines.len() - MAX_LINES
        ));
    }
    Some(msg)
}

/// What to do when no host is left.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoHost {
    /// Compile locally after printing `warning` once.
    Local {
        /// The one line to print.
        warning: String,
    },
    /// `DISTCC_FALLBACK=0`: print `message` and exit with `code`.
    Fail {
        /// Exit code (116, or the last transport failure's code).
        code: i32,
        /// What to print.
        message: String,
    },
}

/// One failed host: its name and what went wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostFailure {
    /// The host as the user wrote it.
    pub host: String,
    /// What happened.
    pub cause: String,
}

/// Decide when host choice found nothing usable. `configured`: hosts in the
/// list; `failures`: hosts that failed in this run, in order.
pub fn no_host(policy: Policy, file: &str, configured: usize, failures: &[HostFailure]) -> NoHost {
    let why = if !failures.is_empty() {
        let list: Vec<String> = failures
            .iter()
            .map(|f| format!("{} ({})", f.host, f.cause))
            .collect();
        format!("failed to distribute {file} to {}", list.join(", "))
    } else if configured == 0 {
        format!("no hosts are configured, so {file} cannot be distributed")
    } else if configured == 1 {
        format!("the only host is down or in backoff, so {file} cannot be distributed")
    } else {
        format!("all {configured} hosts are down or in backoff, so {file} cannot be distributed")
    };
    if policy.fallback {
        NoHost::Local {
            warning: format!("{why}, running locally instead"),
        }
    } else {
        NoHost::Fail {
            code: ExitCode::NoHosts.code(),
            message: format!("{why}, and DISTCC_FALLBACK=0 forbids compiling locally"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: Policy = Policy {
        fallback: true,
        skip_local_retry: false,
    };
    const NO_RETRY: Policy = Policy {
        fallback: true,
        skip_local_retry: true,
    };
    const NO_FALLBACK: Policy = Policy {
        fallback: false,
        skip_local_retry: false,
    };

    #[test]
    fn after_compile_follows_spec_3_10() {
        assert_eq!(after_compile(DEFAULT, "x.c", "h", 0), AfterCompile::Success);
        let retry = after_compile(DEFAULT, "x.c", "h", 0x100);
        assert!(
            matches!(&retry, AfterCompile::RetryLocally { warning, remote_code: 1 }
                if warning.contains("retrying locally") && warning.contains("x.c")),
            "{retry:?}"
        );
        let sig = after_compile(DEFAULT, "x.c", "h", 11);
        assert!(
            matches!(&sig, AfterCompile::RetryLocally { warning, remote_code: 139 }
                if warning.contains("signal 11") && !warning.contains("retrying")),
            "{sig:?}"
        );
        assert!(matches!(
            after_compile(DEFAULT, "x.c", "h", 110 << 8),
            AfterCompile::RetryLocally {
                remote_code: 110,
                ..
            }
        ));
        assert_eq!(
            after_compile(NO_RETRY, "x.c", "h", 0x100),
            AfterCompile::Finish { code: 1 }
        );
        assert_eq!(
            after_compile(NO_FALLBACK, "x.c", "h", 110 << 8),
            AfterCompile::Finish { code: 110 }
        );
    }

    #[test]
    fn host_is_blamed_only_on_disagreement() {
        assert!(!blame_host(1, 1));
        assert!(blame_host(1, 0));
        assert!(blame_host(139, 1));
    }

    #[test]
    fn no_host_names_every_cause_once() {
        let failures = [
            HostFailure {
                host: "a:1".into(),
                cause: "connection refused".into(),
            },
            HostFailure {
                host: "b".into(),
                cause: "server closed the connection before sending DONE".into(),
            },
        ];
        match no_host(DEFAULT, "x.c", 2, &failures) {
            NoHost::Local { warning } => assert_eq!(
                warning,
                "failed to distribute x.c to a:1 (connection refused), b (server closed the connection before sending DONE), running locally instead"
            ),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            no_host(NO_FALLBACK, "x.c", 2, &failures),
            NoHost::Fail { code: 116, .. }
        ));
        assert!(
            matches!(no_host(DEFAULT, "x.c", 0, &[]), NoHost::Local { warning } if warning.contains("no hosts"))
        );
    }
    #[test]
    fn a_host_that_alone_failed_is_quoted() {
        let err = b"as: x.o: No space left on device\n\nmore\n";
        let m = host_disagreed("h:1", "x.c", 1, 0, true, err).unwrap();
        assert_eq!(
            m,
            "h:1 failed to compile 'x.c' (exit 1) but the local compiler succeeded; \
             h:1 is in backoff now; it said:\n    as: x.o: No space left on device\n    more"
        );
        let quiet = host_disagreed("h", "x.c", 139, 0, false, b"").unwrap();
        assert!(quiet.ends_with("succeeded; it printed nothing"), "{quiet}");
        let long: Vec<u8> = (0..25)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        let m = host_disagreed("h", "x.c", 1, 0, false, &long).unwrap();
        assert!(m.contains("line 9") && !m.contains("line 10"), "{m}");
        assert!(m.ends_with("... (15 more lines)"), "{m}");
        // Both failed alike, or the local retry failed too: gcc has spoken.
        assert_eq!(host_disagreed("h", "x.c", 1, 1, true, err), None);
        assert_eq!(host_disagreed("h", "x.c", 1, 4, true, err), None);
    }
}
