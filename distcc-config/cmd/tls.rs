//! `--tls-*`: keys and pins for authenticated farms (issue 14,
//! docs/tls.md). One step per machine: `--tls-keygen`, then trust the
//! other side's fingerprint with `--tls-trust-client` (on a daemon) or
//! `--tls-trust-daemon` (on a client).
//!
//! Where the files are: the daemon's in `ROOT/etc/distcc/tls`; the
//! client's in `$DISTCC_DIR/tls`, else, for root on Gentoo, in Portage's
//! `/var/tmp/portage/.distcc/tls` owned by the `portage` user (the
//! `userpriv` build user reads it), else `~/.distcc/tls` (makepkg builds as
//! the user who runs it). `--tls-dir` overrides both.

use std::path::{Path, PathBuf};

use distcc::tls::keys::{Identity, Role};
use distcc::tls::pins::{self, Fingerprint};

use super::{Ctx, say};
use crate::error::{Failure, Result};
use crate::fsio;
use crate::paths::Distro;

/// Portage's `DISTCC_DIR` (make.globals: `${PORTAGE_TMPDIR}/portage/.distcc`).
const PORTAGE_DISTCC_DIR: &str = "var/tmp/portage/.distcc";

/// A client directory and who should own it.
struct Place {
    dir: PathBuf,
    /// `(uid, gid)` to give the files to (Portage's build user).
    owner: Option<(u32, u32)>,
}

fn daemon_dir(ctx: &Ctx) -> Place {
    Place {
        dir: ctx
            .args
            .tls_dir
            .clone()
            .unwrap_or_else(|| ctx.layout.sys("etc/distcc/tls")),
        owner: None,
    }
}

/// `name:x:uid:gid:` of `user` in ROOT/etc/passwd.
fn passwd_ids(ctx: &Ctx, user: &str) -> Option<(u32, u32)> {
    let text = fsio::read_opt(&ctx.layout.sys("etc/passwd")).ok()??;
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() > 3 && f[0] == user).then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))?
    })
}

fn client_dir(ctx: &Ctx) -> Result<Place> {
    if let Some(dir) = &ctx.args.tls_dir {
        return Ok(Place {
            dir: dir.clone(),
            owner: None,
        });
    }
    if ctx.vars.distcc_dir_is_explicit() {
        let top = ctx.vars.distcc_dir().unwrap_or_default();
        return Ok(Place {
            dir: top.join("tls"),
            owner: None,
        });
    }
    if ctx.uid == 0 && ctx.distro == Distro::Gentoo {
        return Ok(Place {
            dir: ctx.layout.sys(PORTAGE_DISTCC_DIR).join("tls"),
            owner: passwd_ids(ctx, "portage"),
        });
    }
    let top = ctx
        .vars
        .distcc_dir()
        .ok_or_else(|| Failure::error("neither DISTCC_DIR nor HOME is set"))?;
    Ok(Place {
        dir: top.join("tls"),
        owner: None,
    })
}

/// The role named by the first value (`daemon` or `client`), else the
/// default: the daemon's for root, the client's for others.
fn role(ctx: &Ctx) -> Result<Role> {
    match ctx.args.values.first().map(String::as_str) {
        Some("daemon") => Ok(Role::Daemon),
        Some("client") => Ok(Role::Client),
        Some(other) => Err(Failure::error(format!(
            "'{other}': say which key, daemon or client"
        ))),
        None if ctx.uid == 0 => Ok(Role::Daemon),
        None => Ok(Role::Client),
    }
}

fn place(ctx: &Ctx, role: Role) -> Result<Place> {
    match role {
        Role::Daemon => Ok(daemon_dir(ctx)),
        Role::Client => client_dir(ctx),
    }
}

fn give(place: &Place, path: &Path) -> Result<()> {
    if let Some((uid, gid)) = place.owner {
        let real = fsio::inside(path).unwrap_or_else(|_| path.to_path_buf());
        std::os::unix::fs::chown(&real, Some(uid), Some(gid)).map_err(|e| {
            Failure::error(format!(
                "cannot give {} to the build user: {e}",
                real.display()
            ))
        })?;
    }
    Ok(())
}

/// The key directory: the daemon's is 0755 like /etc/ssh, so that
/// distccd, no longer root, can re-read `authorized_clients` on SIGHUP
/// (the key itself is 0600); a client's is its user's alone.
fn ensure_key_dir(place: &Place, role: Role) -> Result<()> {
    if let Some(parent) = place.dir.parent() {
        fsio::ensure_dir(parent, 0o755)?;
        if place.owner.is_some() {
            give(place, parent)?;
        }
    }
    let mode = match role {
        Role::Daemon => 0o755,
        Role::Client => 0o700,
    };
    fsio::ensure_dir(&place.dir, mode)?;
    give(place, &place.dir)
}

fn load(place: &Place, role: Role) -> Result<Identity> {
    let path = place.dir.join(role.key_file());
    let real = fsio::inside(&path).unwrap_or(path);
    Identity::load(&real).map_err(|e| {
        Failure::error(format!(
            "{e}\n(create it with: distcc-config --tls-keygen {})",
            role_word(role)
        ))
    })
}

fn role_word(role: Role) -> &'static str {
    match role {
        Role::Daemon => "daemon",
        Role::Client => "client",
    }
}

fn host_name() -> String {
    nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "localhost".into())
}

/// `--tls-keygen [daemon|client]`: a new key pair, never replacing one
/// without `--force` (every pin of the old key would break).
pub fn keygen(ctx: &Ctx) -> Result<u8> {
    let role = role(ctx)?;
    let place = place(ctx, role)?;
    let key = place.dir.join(role.key_file());
    if fsio::exists(&key) && !ctx.args.force {
        let old = load(&place, role)?;
        return Err(Failure::error(format!(
            "{} exists (key {}); --force replaces it, and every machine that trusts it must trust the new one",
            key.display(),
            old.fingerprint
        )));
    }
    if ctx.args.dry_run {
        say(format!("Would create {}", key.display()));
        return Ok(0);
    }
    let id = Identity::generate().map_err(Failure::error)?;
    ensure_key_dir(&place, role)?;
    fsio::write_atomic(&key, id.private_pem().as_bytes(), 0o600)?;
    give(&place, &key)?;
    let public = place.dir.join(role.pub_file());
    let comment = format!("{}@{}", role_word(role), host_name());
    fsio::write_atomic(&public, id.public_line(&comment).as_bytes(), 0o644)?;
    give(&place, &public)?;
    say(format!("Created {} key {}", role_word(role), key.display()));
    say(id.fingerprint);
    match role {
        Role::Daemon => say(format!(
            "On each client: distcc-config --tls-trust-daemon {} {}",
            host_name(),
            id.fingerprint
        )),
        Role::Client => say(format!(
            "On each daemon: distcc-config --tls-trust-client {} {comment}",
            id.fingerprint
        )),
    }
    Ok(0)
}

/// `--tls-fingerprint [daemon|client]`: the key's fingerprint alone.
pub fn fingerprint(ctx: &Ctx) -> Result<u8> {
    let role = role(ctx)?;
    let id = load(&place(ctx, role)?, role)?;
    say(id.fingerprint);
    Ok(0)
}

fn parse_fp(word: Option<&String>, usage: &str) -> Result<Fingerprint> {
    word.ok_or_else(|| Failure::error(usage))?
        .parse()
        .map_err(Failure::error)
}

fn edit_trust(
    place: &Place,
    role: Role,
    edit: impl FnOnce(&str) -> Option<String>,
    dry_run: bool,
) -> Result<bool> {
    let file = place.dir.join(role.trust_file());
    let text = fsio::read_opt(&file)?.unwrap_or_default();
    // Refuse to add to a file the programs could not read.
    let bad = match role {
        Role::Daemon => pins::parse_authorized(&text).err(),
        Role::Client => pins::parse_known(&text).err(),
    };
    if let Some(e) = bad {
        return Err(Failure::error(format!("{}: {e}", file.display())));
    }
    let Some(new) = edit(&text) else {
        return Ok(false);
    };
    if dry_run {
        say(format!("Would write {}", file.display()));
        return Ok(true);
    }
    ensure_key_dir(place, role)?;
    fsio::write_atomic(&file, new.as_bytes(), 0o644)?;
    give(place, &file)?;
    Ok(true)
}

/// `--tls-trust-client FINGERPRINT [COMMENT...]`: a daemon serves it.
pub fn trust_client(ctx: &Ctx) -> Result<u8> {
    let fp = parse_fp(
        ctx.args.values.first(),
        "--tls-trust-client needs a client key's fingerprint (distcc-config --tls-fingerprint client on the client)",
    )?;
    let comment = ctx.args.values.get(1..).unwrap_or_default().join(" ");
    let place = daemon_dir(ctx);
    let added = edit_trust(
        &place,
        Role::Daemon,
        |t| pins::with_pin(t, None, fp, &comment),
        ctx.args.dry_run,
    )?;
    let file = place.dir.join(Role::Daemon.trust_file());
    if added {
        say(format!("Trusted client {fp} in {}", file.display()));
        say("distccd reads it at start and on SIGHUP.");
    } else {
        say(format!("{fp} is already in {}", file.display()));
    }
    Ok(0)
}

/// `--tls-trust-daemon HOST FINGERPRINT`: the client talks to HOST only
/// when it shows that key.
pub fn trust_daemon(ctx: &Ctx) -> Result<u8> {
    let usage = "--tls-trust-daemon needs HOST and the daemon key's fingerprint (distcc-config --tls-fingerprint daemon on the daemon)";
    let host = ctx
        .args
        .values
        .first()
        .ok_or_else(|| Failure::error(usage))?;
    if host.starts_with("SHA256:") || host.contains(char::is_whitespace) {
        return Err(Failure::error(usage));
    }
    let host = host.strip_prefix("tls+").unwrap_or(host);
    let fp = parse_fp(ctx.args.values.get(1), usage)?;
    let comment = ctx.args.values.get(2..).unwrap_or_default().join(" ");
    let place = client_dir(ctx)?;
    let added = edit_trust(
        &place,
        Role::Client,
        |t| pins::with_pin(t, Some(host), fp, &comment),
        ctx.args.dry_run,
    )?;
    let file = place.dir.join(Role::Client.trust_file());
    if added {
        say(format!("Pinned {host} to {fp} in {}", file.display()));
    } else {
        say(format!("{host} {fp} is already in {}", file.display()));
    }
    Ok(0)
}

/// `--tls-revoke FINGERPRINT [HOST]`: forget a key on both sides.
pub fn revoke(ctx: &Ctx) -> Result<u8> {
    let fp = parse_fp(
        ctx.args.values.first(),
        "--tls-revoke needs the fingerprint to forget",
    )?;
    let host = ctx.args.values.get(1).map(String::as_str);
    let mut total = 0;
    for (role, place) in [
        (Role::Daemon, daemon_dir(ctx)),
        (Role::Client, client_dir(ctx)?),
    ] {
        let mut n = 0;
        let host = if role == Role::Daemon { None } else { host };
        let file = place.dir.join(role.trust_file());
        if !fsio::exists(&file) {
            continue;
        }
        edit_trust(
            &place,
            role,
            |t| {
                let (new, removed) = pins::without_pin(t, host, fp);
                n = removed;
                (removed > 0).then_some(new)
            },
            ctx.args.dry_run,
        )?;
        if n > 0 {
            say(format!(
                "Removed {fp} from {} ({n} line(s))",
                file.display()
            ));
        }
        total += n;
    }
    if total == 0 {
        return Err(Failure::error(format!("{fp} is not trusted here")));
    }
    Ok(0)
}

/// `--tls-list`: this machine's keys and what each side trusts.
pub fn list(ctx: &Ctx) -> Result<u8> {
    for (role, place) in [
        (Role::Daemon, daemon_dir(ctx)),
        (Role::Client, client_dir(ctx)?),
    ] {
        let key = place.dir.join(role.key_file());
        let word = role_word(role);
        if fsio::exists(&key) {
            let id = load(&place, role)?;
            say(format!(
                "{word} key: {} ({})",
                id.fingerprint,
                key.display()
            ));
        } else {
            say(format!("{word} key: none ({})", key.display()));
        }
        let file = place.dir.join(role.trust_file());
        let text = fsio::read_opt(&file)?.unwrap_or_default();
        let parsed = match role {
            Role::Daemon => pins::parse_authorized(&text),
            Role::Client => pins::parse_known(&text),
        }
        .map_err(|e| Failure::error(format!("{}: {e}", file.display())))?;
        say(format!("  {} ({}):", role.trust_file(), parsed.len()));
        for p in parsed {
            let line = [
                p.host.as_deref().unwrap_or(""),
                &p.key.to_string(),
                &p.comment,
            ]
            .into_iter()
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
            say(format!("    {line}"));
        }
    }
    Ok(0)
}
