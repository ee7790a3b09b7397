//! The client's side of the compiler check (docs/extension.md §7): the
//! identity of the compiler a job would run here, computed once per
//! compiler binary and kept in `$DISTCC_DIR/compiler-id/`, and the
//! warning about a host whose compiler differs, given once per host and
//! pair of compilers (remembered in `$DISTCC_DIR/compiler-id/warned/`),
//! and, with `refuse`, the host skipped for that compiler for an hour
//! without asking it again (`$DISTCC_DIR/compiler-id/differs/`).
//!
//! A cached identity costs a `stat` of the driver, one small file read
//! and a `stat` of each program it hashed (bench/RESULTS.md); computing
//! it runs the compiler a few times and hashes `cc1`/`cc1plus`, once.
//! Concurrent first jobs wait on a lock rather than all computing it.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use nix::fcntl::{Flock, FlockArg};
use tracing::{debug, warn};

use crate::client::attempt::AttemptError;
use crate::client::ctx::Ctx;
use crate::client::extension::{Opening, Session};
use crate::client::local::cleanup::probe_output;
use crate::client::local::spawn::Spawner;
use crate::client::probe::cache::{binary_id, store};
use crate::client::probe::cross::find_on_path;
use crate::client::transport::remote::{RemoteError, Reply};
use crate::compiler_id::{self, Answer, BANNER_ARGS, Entry, Identity, Mode, files};
use crate::fnv::fnv1a;
use crate::hosts::HostSpec;

/// The directory under `$DISTCC_DIR`.
pub const DIR: &str = "compiler-id";

/// How long a host whose compiler differed from one here is skipped for
/// that compiler's jobs: the host may get ours meanwhile (a 3.4 host's
/// memory lasts as long, docs/extension.md §3).
pub const DIFFERS_SECS: u64 = 3600;

/// What an attempt knows of the check before it connects.
#[derive(Debug)]
pub struct Check {
    /// How the job's connection opens.
    pub opening: Opening,
    /// `DISTCC_COMPILER_CHECK`.
    pub mode: Mode,
    /// Our identity, to send when the host speaks the extension.
    pub ours: Option<Identity>,
    /// A pump-form job asks for the list of the system headers its
    /// compile reads (docs/extension.md §13): the lists verified here
    /// lately, to name in the choice (`XSYK`).
    pub system: Option<Vec<crate::protocol::hdrcache::Digest>>,
}

/// The end of an attempt that sent our identity: a host that answered
/// `XCMM` is warned about (once) and, unless the client asked for the
/// compile anyway, left with [`AttemptError::CompilerDiffers`].
pub fn settle(
    ctx: &Ctx,
    host: &HostSpec,
    check: &Check,
    session: Option<&Session>,
    received: Result<Reply, AttemptError>,
) -> Result<Reply, AttemptError> {
    let theirs = match &received {
        Err(AttemptError::CompilerDiffers(theirs)) => Some((theirs.clone(), Mode::Refuse)),
        Ok(_) => session
            .and_then(|s| s.mismatch.borrow_mut().take())
            .map(|theirs| (theirs, Mode::Warn)),
        Err(_) => None,
    };
    if let (Some((sent, mode)), Some(ours)) = (theirs, &check.ours) {
        let Ok(theirs) = Identity::parse(&sent) else {
            return Err(AttemptError::Host(RemoteError::BadReply(
                "XCMM: not a compiler identity",
            )));
        };
        warn_once(ctx, &host.text, &host.lock_id(), ours, &theirs, mode);
        if let (Mode::Refuse, Some(top)) = (mode, ctx.topdir.as_deref()) {
            store(
                &differs_path(top, &host.lock_id(), ours),
                String::from_utf8_lossy(&sent).as_bytes(),
            );
        }
    }
    received
}

fn differs_path(top: &Path, lock_id: &str, ours: &Identity) -> PathBuf {
    top.join(DIR)
        .join("differs")
        .join(compiler_id::differs_name(lock_id, ours))
}

/// The identity `lock_id`'s compiler had when it last differed from
/// `ours`, if that was less than [`DIFFERS_SECS`] ago: one `stat` when
/// it did not.
pub fn known_to_differ(ctx: &Ctx, lock_id: &str, ours: &Identity) -> Option<Vec<u8>> {
    let path = differs_path(ctx.topdir.as_deref()?, lock_id, ours);
    let age = fs::metadata(&path).ok()?.modified().ok()?.elapsed().ok()?;
    if age.as_secs() >= DIFFERS_SECS {
        return None;
    }
    let theirs = fs::read(&path).ok()?;
    debug!(
        "not asking {lock_id}: its compiler differed from this one {} s ago ({})",
        age.as_secs(),
        path.display()
    );
    Some(theirs)
}

/// `DISTCC_COMPILER_CHECK` for this client. An unknown value is said
/// (once per process) and protects the user: `refuse`.
pub fn mode(ctx: &Ctx) -> Mode {
    Mode::parse(ctx.vars.compiler_check()).unwrap_or_else(|why| {
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| warn!("{why}: checking compilers as with refuse"));
        Mode::Refuse
    })
}

/// The identity of the compiler `name` (a job's `argv[0]`) as this
/// machine would run it; `None` when there is none to send (no
/// `$DISTCC_DIR`, no such compiler here, or it does not answer).
pub fn ours(ctx: &Ctx, name: &OsStr) -> Option<Identity> {
    identity(ctx.topdir.as_deref()?, &ctx.spawner, name)
}

/// [`ours`] with the cache in `top` (`$DISTCC_DIR`) and the compiler run
/// by `spawner` (bench/compiler_id_cost.rs times it).
pub fn identity(top: &Path, spawner: &Spawner, name: &OsStr) -> Option<Identity> {
    let driver = find_on_path(name, &spawner.path)?;
    let key = binary_id(&driver)?;
    let dir = top.join(DIR);
    let entry_path = dir.join(format!("{:016x}", fnv1a(key.as_bytes())));
    if let Some(e) = cached(&entry_path) {
        return Some(e.identity);
    }
    let _ = fs::create_dir_all(&dir);
    // One process computes; the others wait for its answer.
    let _lock = File::create(entry_path.with_extension("lock"))
        .ok()
        .and_then(|f| Flock::lock(f, FlockArg::LockExclusive).ok());
    if let Some(e) = cached(&entry_path) {
        return Some(e.identity);
    }
    match compute(spawner, name, &driver) {
        Ok(e) => {
            debug!("identity of {}: {}", driver.display(), e.identity);
            let text = String::from_utf8_lossy(&e.encode()).into_owned();
            store(&entry_path, &text);
            Some(e.identity)
        }
        Err(why) => {
            debug!("no identity for {}: {why}", driver.display());
            None
        }
    }
}

fn cached(path: &Path) -> Option<Entry> {
    let e = Entry::parse(&fs::read(path).ok()?)?;
    e.valid(files::stat).then_some(e)
}

fn compute(
    spawner: &Spawner,
    name: &OsStr,
    driver: &Path,
) -> Result<Entry, compiler_id::NoIdentity> {
    let run = |args: &[&str]| -> Option<Answer> {
        let mut argv: Vec<OsString> = vec![name.to_owned()];
        argv.extend(args.iter().map(OsString::from));
        let mut cmd = spawner.command(&argv);
        cmd.env("LC_ALL", "C")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let out = probe_output(&mut cmd).ok()?;
        out.status.success().then_some(Answer {
            stdout: out.stdout,
            stderr: out.stderr,
        })
    };
    let banner = run(BANNER_ARGS)
        .ok_or_else(|| compiler_id::NoIdentity("it does not run (--version)".into()))?;
    let kind = compiler_id::kind(&banner);
    let answers: Vec<(&str, Option<Answer>)> = compiler_id::questions(kind)
        .iter()
        .map(|(n, args)| (*n, run(args)))
        .collect();
    let plan = compiler_id::plan(kind, &banner, |n| {
        answers
            .iter()
            .find(|(k, _)| *k == n)
            .and_then(|(_, a)| a.clone())
    })?;
    files::finish(driver, plan, &spawner.path)
}

/// Say, once per host and pair of compilers, that `host`'s compiler
/// differs from ours and what is done about it.
pub fn warn_once(
    ctx: &Ctx,
    host: &str,
    lock_id: &str,
    ours: &Identity,
    theirs: &Identity,
    mode: Mode,
) {
    let differs = ours.differences(theirs).join(", ");
    let what = match mode {
        Mode::Warn => "using its object anyway (DISTCC_COMPILER_CHECK=warn)",
        _ => "not compiling there (DISTCC_COMPILER_CHECK=refuse)",
    };
    let message = format!(
        "{host}'s compiler differs from this machine's ({differs}): here {ours}; there {theirs}; {what}"
    );
    if first_time(ctx.topdir.as_deref(), lock_id, ours, theirs) {
        warn!("{message}");
    } else {
        debug!("{message}");
    }
}

/// Whether this is the first warning for the host and pair: creating its
/// file (exclusively, so parallel jobs agree) says so.
fn first_time(top: Option<&Path>, lock_id: &str, ours: &Identity, theirs: &Identity) -> bool {
    let Some(top) = top else {
        return true;
    };
    let dir: PathBuf = top.join(DIR).join("warned");
    let _ = fs::create_dir_all(&dir);
    let name = compiler_id::warned_name(lock_id, ours, theirs);
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dir.join(name))
    {
        Ok(_) => true,
        Err(e) => e.kind() != std::io::ErrorKind::AlreadyExists,
    }
}
