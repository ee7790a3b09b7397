//! Dropping root (spec §4.2 step 4; style.md example 13): resolve the
//! user first, then setgroups → setgid → setuid, then check that root
//! cannot be regained and set `PR_SET_NO_NEW_PRIVS`, as 3.4 does on Linux.
//!
//! The user is `--user`, else `distcc`, else `nobody`, else uid/gid 65534.
//! Not started as root: nothing to drop; `--user` is ignored with a
//! warning, as in 3.4.

use std::fmt;

use nix::unistd::{Gid, Uid, User, geteuid, setgid, setgroups, setuid};

use crate::error::ExitCode;

/// The identity the daemon will run as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// User name (or the number, when there is no passwd entry).
    pub name: String,
    /// User id.
    pub uid: Uid,
    /// Primary group id.
    pub gid: Gid,
}

/// Changing user failed (exit 112).
#[derive(Debug)]
pub struct PrivError(pub String);

impl fmt::Display for PrivError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PrivError {
    /// distccd's exit status for it.
    pub fn code(&self) -> ExitCode {
        ExitCode::SetuidFailed
    }
}

/// Pick the identity to switch to, or `None` when not root. Done before
/// anything else so a bad `--user` fails at start-up.
pub fn resolve(user: Option<&str>) -> Result<Option<Identity>, PrivError> {
    if !geteuid().is_root() {
        if let Some(u) = user {
            tracing::warn!("--user {u} ignored: distccd was not started as root");
        }
        return Ok(None);
    }
    let found = |u: User| Identity {
        name: u.name,
        uid: u.uid,
        gid: u.gid,
    };
    let lookup = |name: &str| {
        User::from_name(name).map_err(|e| PrivError(format!("cannot look up user {name}: {e}")))
    };
    if let Some(name) = user {
        if let Some(u) = lookup(name)? {
            return Ok(Some(found(u)));
        }
        if let Ok(n) = name.parse::<u32>() {
            return Ok(Some(Identity {
                name: name.to_string(),
                uid: Uid::from_raw(n),
                gid: Gid::from_raw(n),
            }));
        }
        return Err(PrivError(format!("--user {name}: no such user")));
    }
    for name in ["distcc", "nobody"] {
        if let Some(u) = lookup(name)? {
            return Ok(Some(found(u)));
        }
    }
    Ok(Some(Identity {
        name: "65534".into(),
        uid: Uid::from_raw(65534),
        gid: Gid::from_raw(65534),
    }))
}

/// Become `who` for good.
pub fn drop_to(who: &Identity) -> Result<(), PrivError> {
    if who.uid.is_root() {
        tracing::warn!(
            "running jobs as root (--user {}): not recommended",
            who.name
        );
        return Ok(());
    }
    let fail =
        |what: &str, e: nix::Error| PrivError(format!("{what} for {} failed: {e}", who.name));
    setgroups(&[who.gid]).map_err(|e| fail("setgroups", e))?;
    setgid(who.gid).map_err(|e| fail("setgid", e))?;
    setuid(who.uid).map_err(|e| fail("setuid", e))?;
    if setuid(Uid::from_raw(0)).is_ok() {
        return Err(PrivError(format!(
            "still able to become root after switching to {}",
            who.name
        )));
    }
    nix::sys::prctl::set_no_new_privs().map_err(|e| fail("PR_SET_NO_NEW_PRIVS", e))?;
    tracing::debug!(
        "now running as {} (uid {}, gid {})",
        who.name,
        who.uid,
        who.gid
    );
    Ok(())
}
