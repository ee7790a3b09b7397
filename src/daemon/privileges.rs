//! Dropping root (spec §4.2 step 4; style.md example 13): resolve the
//! user first, then setgroups → setgid → setuid, then check that root
//! cannot be regained and set `PR_SET_NO_NEW_PRIVS`, as 3.4 does on Linux.
//!
//! The user is `--user`, else the first account of [`DEFAULT_USERS`] that
//! exists (the distributions' packaged names, then `nobody`), else uid/gid
//! 65534. Not started as root: nothing to drop; `--user` is ignored with
//! a warning, as in 3.4.

use std::fmt;

use nix::unistd::{Gid, Uid, User, geteuid, setgid, setgroups, setuid};

use crate::error::ExitCode;

/// The accounts tried, in order, when `--user` is not given (issue 11),
/// with who creates each. 3.4 tries only `distcc`, then `nobody`; Debian
/// patches its default to `distccd`, so on Debian 3.4 runs as `distccd`
/// where ours ran as `nobody`.
pub const DEFAULT_USERS: &[(&str, &str)] = &[
    (
        "distcc",
        "3.4's default; Gentoo's acct-user/distcc, our sysusers file (Arch)",
    ),
    ("distccd", "Debian's and Ubuntu's distcc package"),
    ("nobody", "3.4's fallback"),
];

/// The first of [`DEFAULT_USERS`] for which `exists` is true. Pure: the
/// account lookup is passed in.
pub fn default_user(exists: impl Fn(&str) -> bool) -> Option<&'static str> {
    DEFAULT_USERS
        .iter()
        .map(|(name, _)| *name)
        .find(|name| exists(name))
}

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
    let mut accounts = Vec::new();
    for (name, _) in DEFAULT_USERS {
        if let Some(u) = lookup(name)? {
            accounts.push(u);
        }
    }
    let pick = default_user(|name| accounts.iter().any(|u| u.name == name));
    if let Some(u) = accounts.into_iter().find(|u| Some(u.name.as_str()) == pick) {
        if u.name == "nobody" {
            tracing::warn!(
                "no distcc or distccd account: running jobs as nobody (create one, or pass --user)"
            );
        }
        return Ok(Some(found(u)));
    }
    tracing::warn!("no distcc, distccd or nobody account: running jobs as uid 65534");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_user_follows_the_packaged_names() {
        let cases: &[(&[&str], Option<&str>)] = &[
            (&["distcc", "distccd", "nobody"], Some("distcc")),
            // Debian: the package's account (3.4 upstream took nobody).
            (&["distccd", "nobody"], Some("distccd")),
            // Gentoo, Arch: acct-user/distcc, our sysusers file.
            (&["distcc", "nobody"], Some("distcc")),
            (&["nobody"], Some("nobody")),
            (&["root", "daemon"], None),
            (&[], None),
        ];
        for (exist, want) in cases {
            assert_eq!(default_user(|n| exist.contains(&n)), *want, "{exist:?}");
        }
    }
}
