//! A pump-mode (protocol 3) job on the server (spec §4.5 steps 2, 5 and
//! 8): receive the client's files into a mirror of its file system under
//! `<job dir>/root`, and prepare the compile there; afterwards, turn the
//! compiler's dependency file into the DOTD reply.
//!
//! The mirror lives in the job directory, so it goes when the job ends,
//! on every path, refusals included (and stays with `DISTCC_SAVE_TEMPS`).
//! What may be written where is decided by [`super::mirror`] (pure) and
//! done by [`super::tree`]; with the extension's header cache the files
//! come by digest ([`super::pumpcache`]); the command line comes from
//! [`super::pumpargs`]. Compiling and replying are shared with protocols
//! 1 and 2 ([`super::job`]).

use std::ffi::OsString;
use std::io;
use std::path::PathBuf;
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite};
use tracing::trace;

use super::hdrstore::HeaderStore;
use super::incoming::{Incoming, offload};
use super::job::{
    JobSettings, OUTPUT, Prepared, Stop, io_stop, read_stop, read_stop_after_head, refuse,
};
use super::jobdir::JobDir;
use super::mirror::{self, ClientPath};
use super::pumpargs;
use super::pumpcache;
use super::tree::{Tree, TreeError, write_new};
use crate::args::Job;
use crate::args::os::bytes;
use crate::protocol::FileKind;

/// The mirror root's name in the job directory.
const ROOT: &str = "root";
/// The dependency file's name in the job directory.
const DEPS: &str = "deps.d";

/// How to make the DOTD reply once the compile has succeeded.
#[derive(Debug)]
pub(super) struct Dotd {
    deps: PathBuf,
    output: OsString,
    target: OsString,
    root: OsString,
}

impl Dotd {
    /// The compiler's .d file, naming the client's paths and target.
    pub fn read(&self) -> io::Result<Vec<u8>> {
        let text = std::fs::read(&self.deps)?;
        Ok(mirror::clean_dotd(
            &text,
            bytes(&self.output),
            bytes(&self.target),
            bytes(&self.root),
        ))
    }
}

fn tree_stop(e: TreeError) -> Stop {
    match e {
        TreeError::Refused(why) => refuse(why),
        TreeError::Io(e) => io_stop(e),
    }
}

/// Read the client's files into the mirror (NFIL and the entries, or with
/// the extension's header cache a manifest, [`super::pumpcache`]), and make
/// the command that compiles `job` there in the client's working directory
/// `cwd`.
#[allow(clippy::too_many_arguments)]
pub(super) async fn receive<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(
    inc: &mut Incoming<R>,
    version: u32,
    cwd: &ClientPath,
    job: &Job,
    dir: &JobDir,
    s: &JobSettings,
    cached: Option<(&HeaderStore, &mut W)>,
) -> Result<Prepared, Stop> {
    let mut tree = Tree::create(dir.file(ROOT)).map_err(io_stop)?;
    // 3.4 makes the working directory first. Made before any entry, none
    // of its components can be a symlink the client sent.
    let cwd_path = tree.mkdirs(cwd).map_err(tree_stop)?;
    let started = Instant::now();
    let (count, total) = match cached {
        Some((store, writer)) => {
            pumpcache::receive(inc, version, &mut tree, s, store, writer).await?
        }
        None => receive_files(inc, version, &mut tree, s).await?,
    };
    tracing::debug!("pump job: {count} files ({total} bytes) under {cwd}");
    trace!("received the files in {} ms", started.elapsed().as_millis());
    let root = tree.root().as_os_str().to_os_string();
    let output = dir.file(OUTPUT).into_os_string();
    let deps = dir.file(DEPS);
    let args = pumpargs::server_argv(job, &root, &output, deps.as_os_str());
    Ok(Prepared {
        argv: args.argv,
        stdin: None,
        cwd: cwd_path,
        output: PathBuf::from(&output),
        side: Vec::new(),
        dotd: Some(Dotd {
            deps,
            output,
            target: args.dotd_target,
            root,
        }),
    })
}

/// Protocol 3's NFIL and entries, written into `tree`: the count and
/// their bytes.
async fn receive_files<R: AsyncRead + Unpin>(
    inc: &mut Incoming<R>,
    version: u32,
    tree: &mut Tree,
    s: &JobSettings,
) -> Result<(u32, u64), Stop> {
    let count = inc
        .file_count(&s.limits)
        .await
        .map_err(|e| read_stop_after_head(e, "its files (NFIL)"))?;
    let (mut left, mut total) = (count, 0u64);
    while left > 0 {
        let batch = inc
            .file_entries(version, &s.limits, left)
            .await
            .map_err(read_stop)?;
        left -= batch.len() as u32;
        for entry in batch {
            match entry.kind {
                FileKind::Link(target) => link(tree, &entry.name, &target)?,
                FileKind::File(data) => {
                    total += data.len() as u64;
                    write(tree, &entry.name, data, total, s).await?;
                }
            }
        }
    }
    Ok((count, total))
}

/// Make the link `name` → `target` in the mirror.
pub(super) fn link(tree: &mut Tree, name: &[u8], target: &[u8]) -> Result<(), Stop> {
    trace!(
        "received {} -> {}",
        String::from_utf8_lossy(name).escape_debug(),
        String::from_utf8_lossy(target).escape_debug()
    );
    tree.link(name, target).map_err(tree_stop)
}

/// Write the file `name` into the mirror; `total` is the request's file
/// bytes so far, this one included.
pub(super) async fn write(
    tree: &mut Tree,
    name: &[u8],
    data: impl AsRef<[u8]> + Send + 'static,
    total: u64,
    s: &JobSettings,
) -> Result<(), Stop> {
    let len = data.as_ref().len();
    trace!(
        "received {}: {len} bytes",
        String::from_utf8_lossy(name).escape_debug(),
    );
    // One request's files together count against the body limit, or a
    // client could fill the disk 2 GiB at a time.
    if total > s.limits.max_body {
        return Err(refuse(format!(
            "the files of the request exceed {} bytes",
            s.limits.max_body
        )));
    }
    let path = tree.file(name).map_err(tree_stop)?;
    offload(len, move || write_new(&path, data.as_ref()))
        .await
        .map_err(io_stop)?
        .map_err(tree_stop)
}
