//! One remote attempt in pump mode (a `,cpp,lzo` host): no local cpp,
//! the source and its headers go out in protocol 3.

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;

use tracing::debug;

use crate::args::os::{bytes, line, lossy};
use crate::args::{Job, side_outputs};
use crate::client::compiler_id;
use crate::client::ctx::Ctx;
use crate::client::extension;
use crate::client::pump as pumpmode;
use crate::client::pumpcache;
use crate::client::pumpfiles;
use crate::client::race::incoming::Incoming;
use crate::client::race::run::{LocalJob, Source};
use crate::client::sentreqs::Memory;
use crate::client::slots::status::Status;
use crate::client::stats;
use crate::client::stats::Counted;
use crate::client::sysheaders::{self, Lists};
use crate::client::transport::conn::Conn;
use crate::client::transport::remote::{RemoteError, Reply};
use crate::daemon::mirror;
use crate::hosts::HostSpec;
use crate::protocol::Limits;
use crate::protocol::codec::Codec;
use crate::protocol::ext::cap;
use crate::state::Phase;

use super::connect::{checked_opening, connect, open, probe_after_success, sent, wait_or_race};
use super::{AttemptError, side_files, upgrade};

/// A job in pump form, and why.
pub(super) struct Form<'a> {
    /// Its files.
    pub pumped: &'a pumpmode::Pumped,
    /// A plain-mode job sent so for its debug information
    /// ([`super::upgrade`]): only to a daemon of ours that agrees
    /// [`super::upgrade::NEEDED`].
    pub upgraded: bool,
}

/// Run the job on `host` in pump mode: the source and its headers go to
/// the server, which preprocesses (protocol 3). None: the host's daemon
/// (ours, older) does not send side outputs back in pump mode
/// (`PUMP_OUTPUTS`) and the job has some, or the job is upgraded and the
/// host is not what was remembered; it goes in plain mode instead.
/// `pipeline` as for [`open`].
#[allow(clippy::too_many_arguments)]
pub(super) fn run_pump(
    ctx: &Ctx,
    job: &Job,
    host: &HostSpec,
    name: &str,
    slot: u32,
    form: Form<'_>,
    status: &mut Status,
    pipeline: bool,
) -> Result<Option<Reply>, AttemptError> {
    let pumped = form.pumped;
    let files = &pumped.files;
    let mut argv = job.argv.clone();
    if let Some(target) = pumped.dotd.as_ref().and_then(|d| d.target.as_ref()) {
        argv.extend([OsString::from("-MT"), target.clone()]);
    }
    let reading =
        |e: std::io::Error| AttemptError::Local(format!("reading the files to send: {e}"));
    let outgoing = pumpfiles::outgoing(files, &pumped.known, &pumped.dirs).map_err(reading)?;
    stats::set_size(outgoing.iter().map(pumpfiles::Outgoing::size).sum());
    stats::set_job(job);
    status.set(Phase::Connect, name, slot);
    let mut check = checked_opening(ctx, host, job)?;
    let opening = check.opening;
    // The system headers' check (docs/extension.md §13) with a daemon of
    // ours: the lists verified lately, named in the choice.
    let mut lists = opening
        .is_hello()
        .then(|| Lists::load(ctx.topdir.as_deref(), pumped.search.clone()));
    check.system = lists.as_ref().map(Lists::known);
    // A 3.4 host keeps side files as 3.4 does, but what only this mode
    // makes as here (clang's .dwo) is not sent there at all.
    let only_here = side_outputs(job).is_ok_and(|s| s.needs_pump.is_some());
    if only_here && !opening.is_hello() {
        return Ok(None);
    }
    let mut raw = connect(ctx, host, opening.is_hello()).map_err(RemoteError::Io)?;
    let mut session = open(ctx, host, &mut raw, &check, pipeline, !form.upgraded)?;
    if form.upgraded
        && session
            .as_ref()
            .is_none_or(|s| s.choice.caps & upgrade::NEEDED != upgrade::NEEDED)
    {
        // Its offer changed since it was remembered (it is remembered
        // now): plain mode's job, on a connection of its own.
        debug!(
            "{} no longer offers pump form with side outputs: preprocessing here",
            host.text
        );
        return Ok(None);
    }
    let side = side_files(job, None);
    let carried = session
        .as_ref()
        .is_some_and(|s| s.choice.has(cap::PUMP_OUTPUTS));
    // Leaving a connection after the choice: an offer not read yet (the
    // choice went out behind the hello) is read first, so the server sees
    // the connection closed, not reset, and logs no refusal.
    let leave = |raw: &mut _, session: Option<&mut _>| {
        let _ = sent(Ok(()), &mut Counted(raw), session, ctx);
        Ok(None)
    };
    if !side.allowed.is_empty() && !carried && (session.is_some() || only_here) {
        debug!(
            "{} does not send side outputs back in pump mode: preprocessing here",
            host.text
        );
        return leave(&mut raw, session.as_mut());
    }
    if carried && !side.allowed.is_empty() {
        // Refused, the job would cost the host a backoff for its own
        // fault: the server's rule, asked before anything is sent.
        let sent = outgoing.iter().map(|o| &o.name[..]);
        let cwd = bytes(pumped.cwd.as_os_str());
        if let Some(why) = mirror::output_clash(cwd, bytes(&job.output), &side.allowed, sent) {
            debug!(
                "{} would refuse {} in pump mode ({why}): preprocessing here",
                host.text,
                lossy(&job.input)
            );
            return leave(&mut raw, session.as_mut());
        }
    }
    let codec = session
        .as_ref()
        .map_or(Codec::for_version(3), |s| s.codec(3));
    let mut conn = Counted(&mut raw);
    debug!(
        "sending {} with {} files to {} (protocol 3): {}",
        lossy(&job.input),
        files.len(),
        host.text,
        line(&argv)
    );
    status.set(Phase::Send, name, slot);
    if session
        .as_ref()
        .is_some_and(|s| s.choice.has(cap::HEADER_CACHE))
    {
        // Requests by reference need somewhere to remember what was sent.
        let memory = session
            .as_ref()
            .filter(|s| s.choice.has(cap::REQUEST_REF))
            .and(ctx.topdir.as_deref())
            .map(|top| Memory::new(top, &host.lock_id()));
        // The server's answers come after its offer: read that first.
        let before_read = |c: &mut Counted<'_, _>, w| sent(w, c, session.as_mut(), ctx);
        let s = pumpcache::send(
            &mut conn,
            &argv,
            &pumped.cwd,
            &outgoing,
            codec,
            memory.as_ref(),
            before_read,
        )?;
        debug!(
            "pump: header cache: sent {} of {} files ({} bytes)",
            s.bodies, s.files, s.bytes
        );
    } else {
        let request = pumpfiles::request(&argv, &pumped.cwd, &outgoing, codec).map_err(reading)?;
        let written = conn.write_all(&request).map_err(RemoteError::Io);
        sent(written, &mut conn, session.as_mut(), ctx)?;
    }
    status.set(Phase::Compile, name, slot);
    let local = || {
        Some(LocalJob {
            job: job.clone(),
            input: Source::File(&job.input, &[]),
            dotd: pumped
                .dotd
                .as_ref()
                .map(|d| (d.path.clone().into(), d.target.clone())),
        })
    };
    let mut incoming = Incoming::new(&mut conn, session.as_ref());
    let waited = wait_or_race(ctx, host, &mut incoming, local);
    let done = incoming.done();
    let mut read = done.map_or(Vec::new(), |d| d.to_vec());
    let listed = session
        .as_ref()
        .filter(|s| s.choice.has(cap::SYSTEM_HEADERS))
        .zip(lists.as_mut());
    let waited = match (waited, listed) {
        (Ok(()), Some((s, lists))) => {
            let checked = system_headers(ctx, host, job, &mut conn, s, done, lists);
            checked.map(|ahead| read = ahead)
        }
        (waited, _) => waited,
    };
    let mut stdout = std::io::stdout().lock();
    let received = waited.and_then(|()| {
        extension::receive(
            &mut conn,
            session.as_ref(),
            &read,
            3,
            Path::new(&job.output),
            pumped.dotd.as_ref().map(|d| Path::new(&d.path)),
            Some(&side),
            &mut stdout,
            &Limits::default(),
            || status.set(Phase::Receive, name, slot),
        )
        .map_err(AttemptError::from)
    });
    let reply = compiler_id::settle(ctx, host, &check, session.as_ref(), received)?;
    drop(raw);
    probe_after_success(ctx, host, opening, &reply);
    Ok(Some(reply))
}

/// Why `job` does not go to `host` in pump form, for the system headers'
/// check (docs/extension.md §13): the host's system headers differed
/// from ours lately for this compiler (remembered,
/// [`sysheaders::known_to_differ`]), or the host checks them and the
/// job's `-MMD` leaves them out of the list the check needs.
pub(super) fn system_headers_need_plain(ctx: &Ctx, host: &HostSpec, job: &Job) -> Option<String> {
    let checks = matches!(
        extension::opening(ctx, host),
        extension::Opening::Hello(Some(o)) if o.caps & cap::SYSTEM_HEADERS != 0
    );
    if !checks {
        return None;
    }
    if job.argv.iter().any(|a| a == "-MMD") {
        return Some(format!(
            "-MMD leaves system headers out of the list {} checks them by",
            host.text
        ));
    }
    sysheaders::known_to_differ(ctx.topdir.as_deref(), &host.lock_id(), &job.argv[0]).then(|| {
        format!(
            "{}'s system headers differed from this machine's lately",
            host.text
        )
    })
}

/// Before the reply is read: on a success, the server's system headers
/// must be this machine's (`lists` says which were verified lately). A
/// reply that differs, or a success without a list, is read to its end
/// and not used ([`AttemptError::SystemHeaders`]); a host that differs
/// is remembered and warned about. `Ok`: the bytes read of the reply.
fn system_headers(
    ctx: &Ctx,
    host: &HostSpec,
    job: &Job,
    conn: &mut Counted<'_, Conn>,
    session: &extension::Session,
    done: Option<[u8; crate::protocol::token::HEADER_LEN]>,
    lists: &mut Lists,
) -> Result<Vec<u8>, AttemptError> {
    let (status, read) = extension::status_ahead(conn, session, done)?;
    if status != 0 {
        return Ok(read);
    }
    let got = session.system.borrow_mut().take();
    let verdict = match &got {
        Some(got) => lists.check(got, session.codec(3)).map_err(Some),
        None => Err(None),
    };
    let Err(differs) = verdict else {
        return Ok(read);
    };
    extension::drain(conn);
    match &differs {
        Some(d) => sysheaders::differed(
            ctx.topdir.as_deref(),
            &host.text,
            &host.lock_id(),
            &job.argv[0],
            d,
        ),
        None => debug!("{} listed no system headers for this job", host.text),
    }
    Err(AttemptError::SystemHeaders(differs))
}
