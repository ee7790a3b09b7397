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
}
