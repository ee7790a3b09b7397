//! The daemon's side of the compiler check (docs/extension.md §7): the
//! identity of the compiler a job would run here, compared with the one
//! the client sent in `XCID`.
//!
//! The compiler is asked its questions through the
//! [`Launcher`](super::exec::Launcher), so it runs sandboxed as for a
//! compile, in a job directory of its own. An identity is computed once per compiler binary and kept in memory
//! while the files it hashed are unchanged (a `stat` each per job); one
//! computation at a time, so a burst of first jobs waits for one answer.
//!
//! Clients' identities are remembered too ([`Seen`]): with
//! `COMPILER_ID_REF` a client names its identity by digest, and only a
//! digest this daemon has not seen costs the question `XCIQ` and the
//! identity whole, once per client compiler while the daemon runs.

use std::collections::{HashMap, VecDeque};
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tracing::debug;

use super::exec::{ExecSpec, has_slash, is_executable_file, resolve};
use super::extension::{Session, send};
use super::incoming::Incoming;
use super::job::{Shared, Stop, io_stop, read_stop, refuse};
use super::summary::Category;
use crate::compiler_id::{self, Answer, BANNER_ARGS, Entry, Identity, files};
use crate::error::ExitCode;
use crate::protocol::ext::Before;
use crate::protocol::hdrcache::Digest;

/// How long one question may take (a compiler that hangs is not asked
/// again until the next job).
const QUESTION_TIMEOUT: Duration = Duration::from_secs(20);

/// The identities known, by the compiler binary a name resolved to, and
/// the clients' identities seen lately.
#[derive(Debug, Default)]
pub struct Known {
    entries: Mutex<HashMap<PathBuf, Entry>>,
    computing: tokio::sync::Mutex<()>,
    seen: Mutex<Seen>,
}

/// Clients' identities seen lately, by SHA-256 of their text. A farm's
/// clients have a handful of compilers; at most [`Seen::MAX`] (of at most
/// 4 KiB each) are kept, the least recently named dropped first.
#[derive(Debug, Default)]
pub struct Seen(VecDeque<(Digest, Vec<u8>)>);

impl Seen {
    /// How many identities are kept.
    pub const MAX: usize = 64;

    /// The identity whose digest is `d`, now the most recently named.
    pub fn recall(&mut self, d: &Digest) -> Option<Vec<u8>> {
        let i = self.0.iter().position(|(k, _)| k == d)?;
        let e = self.0.remove(i)?;
        let id = e.1.clone();
        self.0.push_back(e);
        Some(id)
    }

    /// Keep `id` (a text that parsed as an identity).
    pub fn keep(&mut self, id: &[u8]) {
        let d = Digest::of(id);
        if self.recall(&d).is_some() {
            return;
        }
        if self.0.len() >= Self::MAX {
            self.0.pop_front();
        }
        self.0.push_back((d, id.to_vec()));
    }
}

/// What the comparison found.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The client's compiler is this one.
    Same,
    /// It differs in these fields; this is ours.
    Differs(Vec<String>, Identity),
    /// This compiler has no identity (it is missing, or does not answer):
    /// the compile goes ahead and fails or succeeds as without the check.
    Unknown(String),
}

/// Compare the client's identity (`theirs`, as sent) with that of the
/// compiler `argv0` as a job would run it here. `Err` for an identity
/// that does not parse.
pub async fn check(shared: &Shared, argv0: &OsStr, theirs: &[u8]) -> Result<Verdict, String> {
    let theirs = Identity::parse(theirs).map_err(|e| format!("XCID: {e}"))?;
    let ours = match identity(shared, argv0).await {
        Ok(id) => id,
        Err(why) => return Ok(Verdict::Unknown(why)),
    };
    let differs = ours.differences(&theirs);
    Ok(if differs.is_empty() {
        Verdict::Same
    } else {
        Verdict::Differs(differs, ours)
    })
}

/// The compilers' PATH.
fn search_path(shared: &Shared) -> OsString {
    shared
        .settings
        .compiler_env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| OsString::from("/usr/bin:/bin"))
}

/// The binary a job's `argv0` runs, as the launcher finds it.
fn driver(argv0: &OsStr, path: &OsString) -> Option<PathBuf> {
    if has_slash(argv0) {
        let p = PathBuf::from(argv0);
        if is_executable_file(&p) {
            return Some(p);
        }
        return resolve(crate::args::ext::basename(argv0), path).ok();
    }
    resolve(argv0, path).ok()
}

async fn identity(shared: &Shared, argv0: &OsStr) -> Result<Identity, String> {
    let path = search_path(shared);
    let driver = driver(argv0, &path)
        .ok_or_else(|| format!("{} is not on the compilers' PATH", argv0.to_string_lossy()))?;
    let known = &shared.compiler_ids;
    let lookup = || {
        let entries = known.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(&driver)
            .filter(|e| e.valid(files::stat))
            .map(|e| e.identity.clone())
    };
    if let Some(id) = lookup() {
        return Ok(id);
    }
    let _one = known.computing.lock().await;
    if let Some(id) = lookup() {
        return Ok(id);
    }
    let entry = compute(shared, argv0, &driver, &path).await?;
    debug!("identity of {}: {}", driver.display(), entry.identity);
    let id = entry.identity.clone();
    known
        .entries
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(driver, entry);
    Ok(id)
}

async fn compute(
    shared: &Shared,
    argv0: &OsStr,
    driver: &std::path::Path,
    path: &OsString,
) -> Result<Entry, String> {
    let dir = shared
        .dirs
        .take(false)
        .map_err(|e| format!("cannot create a directory to ask the compiler in: {e}"))?;
    let banner = ask(shared, argv0, BANNER_ARGS, dir.path())
        .await
        .ok_or_else(|| format!("{} does not run", argv0.to_string_lossy()))?;
    let kind = compiler_id::kind(&banner);
    let mut answers = Vec::new();
    for (name, args) in compiler_id::questions(kind) {
        answers.push((*name, ask(shared, argv0, args, dir.path()).await));
    }
    drop(dir);
    let plan = compiler_id::plan(kind, &banner, |n| {
        answers
            .iter()
            .find(|(k, _)| *k == n)
            .and_then(|(_, a)| a.clone())
    })
    .map_err(|e| e.to_string())?;
    let search: Vec<PathBuf> = std::env::split_paths(path).collect();
    let driver = driver.to_path_buf();
    // Hashing reads tens of megabytes: off the runtime's thread.
    tokio::task::spawn_blocking(move || files::finish(&driver, plan, &search))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

/// Run `argv0 args` as a compile would run (sandboxed, the compilers'
/// environment, in `dir`); its output if it succeeded.
async fn ask(
    shared: &Shared,
    argv0: &OsStr,
    args: &[&str],
    dir: &std::path::Path,
) -> Option<Answer> {
    let mut argv = vec![argv0.to_owned()];
    argv.extend(args.iter().map(OsString::from));
    let mut env = shared.settings.compiler_env.clone();
    env.push(("TMPDIR".into(), dir.into()));
    env.push(("LC_ALL".into(), "C".into()));
    let spec = ExecSpec {
        argv,
        cwd: dir.to_path_buf(),
        stdin: None,
        env,
        job_dir: Some(dir.to_path_buf()),
    };
    let mut child = shared.launcher.launch(spec).ok()?;
    match tokio::time::timeout(QUESTION_TIMEOUT, child.wait()).await {
        Ok(Ok(done)) if done.status == 0 => Some(Answer {
            stdout: done.stdout,
            stderr: done.stderr,
        }),
        Ok(_) => None,
        Err(_) => {
            child.kill();
            let _ = child.wait().await;
            None
        }
    }
}

/// The compiler check of a job whose client chose it: compare, and on a
/// mismatch either answer `XCMM` and stop (nothing is compiled), or, if
/// the client asked for the compile anyway, note `XCMM` for the reply.
pub(super) async fn apply<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(
    mut session: Session,
    argv0: &OsStr,
    inc: &mut Incoming<R>,
    writer: &mut W,
    shared: &Shared,
) -> Result<Session, Stop> {
    let by_digest = session.choice.compiler_id.is_empty();
    if let (true, Some(d)) = (by_digest, session.choice.compiler_digest) {
        session.choice.compiler_id = theirs(d, inc, writer, shared).await?;
    }
    let verdict = check(shared, argv0, &session.choice.compiler_id)
        .await
        .map_err(refuse)?;
    // It parsed: a later job may name it by digest.
    shared.compiler_ids.seen().keep(&session.choice.compiler_id);
    let (differs, ours) = match verdict {
        Verdict::Same => return Ok(session),
        Verdict::Unknown(why) => {
            debug!(
                "compiling unchecked: no identity for {}: {why}",
                argv0.to_string_lossy()
            );
            return Ok(session);
        }
        Verdict::Differs(differs, ours) => (differs, ours),
    };
    let theirs = Identity::parse(&session.choice.compiler_id)
        .map_or_else(|_| "?".to_owned(), |t| t.to_string());
    let what = format!(
        "the client's compiler differs in {}: here {ours}, client's {theirs}",
        differs.join(", ")
    );
    if session.choice.compile_anyway {
        tracing::info!("{what}; compiling anyway, as the client asks");
        session.mismatch = Some(ours.encode());
        return Ok(session);
    }
    let mut bytes = Vec::new();
    Before::Mismatch(ours.encode()).encode(&mut bytes);
    send(writer, &bytes, shared.settings.io_timeout)
        .await
        .map_err(io_stop)?;
    Err(Stop {
        category: Category::Other,
        ret: ExitCode::CompilerMissing,
        reason: format!("{what}; not compiled"),
        quiet: true,
    })
}

/// The client's identity named by digest `d`: remembered, or asked for
/// (`XCIQ`) and checked against the digest.
async fn theirs<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(
    d: Digest,
    inc: &mut Incoming<R>,
    writer: &mut W,
    shared: &Shared,
) -> Result<Vec<u8>, Stop> {
    if let Some(id) = shared.compiler_ids.seen().recall(&d) {
        return Ok(id);
    }
    debug!("asking the client for its compiler identity: {d:?} not seen");
    let mut bytes = Vec::new();
    Before::IdentityWanted.encode(&mut bytes);
    send(writer, &bytes, shared.settings.io_timeout)
        .await
        .map_err(io_stop)?;
    let id = inc.identity().await.map_err(read_stop)?;
    if Digest::of(&id) != d {
        return Err(refuse("XCID: the identity is not the one XCIR named"));
    }
    Ok(id)
}

impl Known {
    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_identities_are_bounded_and_the_least_recently_named_go_first() {
        let mut seen = Seen::default();
        let id = |i: usize| format!("distcc-compiler-id 1\nversion {i}\n").into_bytes();
        for i in 0..Seen::MAX {
            seen.keep(&id(i));
        }
        // Named again: 0 is now the most recent, 1 the least.
        assert_eq!(seen.recall(&Digest::of(&id(0))), Some(id(0)));
        seen.keep(&id(0));
        seen.keep(&id(Seen::MAX));
        assert_eq!(seen.0.len(), Seen::MAX);
        assert_eq!(seen.recall(&Digest::of(&id(1))), None);
        assert_eq!(seen.recall(&Digest::of(&id(0))), Some(id(0)));
        assert_eq!(
            seen.recall(&Digest::of(&id(Seen::MAX))),
            Some(id(Seen::MAX))
        );
        assert_eq!(seen.recall(&Digest::of(b"unknown")), None);
    }
}
