//! A pump-mode (protocol 3) job on the server (spec §4.5 steps 2, 5 and
//! 8): receive the client's files into a mirror of its file system under
//! `<job dir>/root`, and prepare the compile there; afterwards, turn the
//! compiler's dependency file into the DOTD reply.
//!
//! The mirror lives in the job directory, so it goes when the job ends,
//! on every path, refusals included (and stays with `DISTCC_SAVE_TEMPS`).
//! What may be written where is decided by [`super::mirror`] (pure) and
//! done by [`super::tree`]; the command line comes from
//! [`super::pumpargs`]. Compiling and replying are shared with protocols
//! 1 and 2 ([`super::job`]).

use std::ffi::OsString;
use std::io;
use std::path::PathBuf;
use std::time::Instant;

use tokio::io::AsyncRead;
use tracing::trace;

use super::incoming::{Incoming, offload};
use super::job::{
    JobSettings, OUTPUT, Prepared, Stop, io_stop, read_stop, read_stop_after_head, refuse,
};
use super::jobdir::JobDir;
use super::mirror::{self, ClientPath};
use super::pumpargs;
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

/// Read NFIL and the entries into the mirror, and make the command that
/// compiles `job` there in the client's working directory `cwd`.
pub(super) async fn receive<R: AsyncRead + Unpin>(
    inc: &mut Incoming<R>,
    version: u32,
    cwd: &ClientPath,
    job: &Job,
    dir: &JobDir,
    s: &JobSettings,
) -> Result<Prepared, Stop> {
    let mut tree = Tree::create(dir.file(ROOT)).map_err(io_stop)?;
    // 3.4 makes the working directory first. Made before any entry, none
    // of its components can be a symlink the client sent.
    let cwd_path = tree.mkdirs(cwd).map_err(tree_stop)?;
    let started = Instant::now();
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
                FileKind::Link(target) => {
                    trace!(
                        "received {} -> {}",
                        String::from_utf8_lossy(&entry.name).escape_debug(),
                        String::from_utf8_lossy(&target).escape_debug()
                    );
                    tree.link(&entry.name, &target).map_err(tree_stop)?
                }
                FileKind::File(data) => {
                    trace!(
                        "received {}: {} bytes",
                        String::from_utf8_lossy(&entry.name).escape_debug(),
                        data.len()
                    );
                    // One request's files together count against the body
                    // limit, or a client could fill the disk 2 GiB at a time.
                    total += data.len() as u64;
                    if total > s.limits.max_body {
                        return Err(refuse(format!(
                            "the files of the request exceed {} bytes",
                            s.limits.max_body
                        )));
                    }
                    let path = tree.file(&entry.name).map_err(tree_stop)?;
                    offload(data.len(), move || write_new(&path, &data))
                        .await
                        .map_err(io_stop)?
                        .map_err(tree_stop)?;
                }
            }
        }
    }
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
