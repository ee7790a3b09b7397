//! A pump-mode (protocol 3) job on the server (spec §4.5 steps 2, 5 and
//! 8): receive the client's files into a mirror of its file system under
//! `<job dir>/root`, and prepare the compile there; afterwards, turn the
//! compiler's dependency file into the DOTD reply.
//!
//! The mirror lives in the job directory, so it goes when the job ends,
//! on every path, refusals included (and stays with `DISTCC_SAVE_TEMPS`),
//! or stays for the next pump job there to bring up to date, which costs
//! far fewer new files ([`super::tree`]).
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
use super::jobdir::{self, JobDir};
use super::mirror::{self, ClientPath};
use super::pumpargs;
use super::pumpcache;
use super::tree::{Tree, TreeError, write_file};
use crate::args::os::bytes;
use crate::args::{self, Job};
use crate::protocol::FileKind;
use crate::protocol::hdrcache::Item;

/// The mirror root's name in the job directory.
const ROOT: &str = jobdir::TREE;
/// The dependency file's name in the job directory.
const DEPS: &str = "deps.d";
/// The largest mirror kept for the next pump job ([`JobSettings::kept_tree_max`]):
/// a kept mirror sits idle in `$TMPDIR` (memory, when that is a tmpfs) in
/// each job directory until the next pump job there, so one job that sent
/// a huge tree must not leave it behind. Far above a usual job (liblzma's
/// send about 1 MB in 40 files, 1.2 MB as counted here).
pub const KEPT_TREE_MAX: u64 = 64 << 20;
/// What an entry of the mirror costs on disk beyond its content (an inode
/// and at least one block): many small files count, not only big ones.
const ENTRY_COST: u64 = 4096;

/// How to make the DOTD reply once the compile has succeeded, and the
/// list of system headers (docs/extension.md §13) from the same file.
#[derive(Debug)]
pub(super) struct Dotd {
    deps: PathBuf,
    output: OsString,
    target: OsString,
    root: OsString,
    /// The compile's directory, in the mirror.
    cwd: PathBuf,
    /// The client asked for a dependency file, or no list was asked for
    /// (3.4's DOTD): send the file. Else it is our `-MD`, made for the
    /// list only, and the client gets an empty DOTD.
    forward: bool,
    /// The list was asked for and the file names system headers.
    listed: bool,
}

impl Dotd {
    /// The compiler's .d file as it wrote it.
    pub fn read(&self) -> io::Result<Vec<u8>> {
        std::fs::read(&self.deps)
    }

    /// The DOTD reply made of `raw`: naming the client's paths and
    /// target.
    pub fn reply(&self, raw: &[u8]) -> Vec<u8> {
        if !self.forward {
            return Vec::new();
        }
        mirror::clean_dotd(
            raw,
            bytes(&self.output),
            bytes(&self.target),
            bytes(&self.root),
        )
    }

    /// What the list is made of, when it can be made: the file, the
    /// mirror's root and the compile's directory.
    pub fn listing<'a>(&'a self, raw: &'a [u8]) -> Option<(&'a [u8], &'a [u8], &'a [u8])> {
        self.listed
            .then(|| (raw, bytes(&self.root), bytes(self.cwd.as_os_str())))
    }
}

fn tree_stop(e: TreeError) -> Stop {
    match e {
        TreeError::Refused(why) => refuse(why),
        TreeError::Io(e) => io_stop(e),
    }
}

/// Read the client's files into the mirror (NFIL and the entries, or with
/// the extension's header cache a manifest, [`super::pumpcache`], which a
/// request by reference brought already, [`super::reqref`]), and make
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
    cached: Option<(&HeaderStore, &mut W, Option<Vec<Item>>)>,
    outputs: bool,
    system: bool,
) -> Result<Prepared, Stop> {
    let kept = dir.has_tree();
    let mut tree = if kept {
        Tree::reuse(dir.file(ROOT))
    } else {
        Tree::create(dir.file(ROOT))
    }
    .map_err(io_stop)?;
    // 3.4 makes the working directory first. Made before any entry, none
    // of its components can be a symlink the client sent.
    let cwd_path = tree.mkdirs(cwd).map_err(tree_stop)?;
    let started = Instant::now();
    let (count, total) = match cached {
        Some((store, writer, items)) => {
            pumpcache::receive(inc, version, &mut tree, s, store, writer, items).await?
        }
        None => receive_files(inc, version, &mut tree, s).await?,
    };
    // An earlier job's entries go before anything looks at the tree.
    tree.sweep().map_err(io_stop)?;
    // Kept for the next pump job only once the request was whole (a
    // refused one leaves nothing), and only if it is not too big to leave
    // lying there.
    let size = total.saturating_add(u64::from(count).saturating_mul(ENTRY_COST));
    if size <= s.kept_tree_max {
        dir.keep_tree();
    } else {
        tracing::debug!(
            "pump job: the mirror ({size} bytes as counted) exceeds {} and goes with the job",
            s.kept_tree_max
        );
    }
    tracing::debug!(
        "pump job: {count} files ({total} bytes) under {cwd}{}",
        if kept {
            ", in an earlier job's mirror"
        } else {
            ""
        }
    );
    trace!("received the files in {} ms", started.elapsed().as_millis());
    let root = tree.root().as_os_str().to_os_string();
    let output = dir.file(OUTPUT).into_os_string();
    let deps = dir.file(DEPS);
    let side = outputs
        .then(|| args::side_outputs(job).ok())
        .flatten()
        .filter(|s| !s.compiler.is_empty());
    let place = match side {
        Some(side) => Some(side_place(&mut tree, cwd, job, &side.compiler)?),
        None => None,
    };
    let arg = place.as_ref().map_or(&output, |p| &p.arg);
    let args = pumpargs::server_argv(job, &root, arg, deps.as_os_str(), system);
    let mut argv = args.argv;
    if place.is_some() && args.default_target {
        // The .d file names our output as its target, which the DOTD
        // reply replaces (the -o value, often short, could also match
        // inside a header's path). Not with a -MQ: gcc would write both.
        argv.extend(["-MT".into(), output.clone()]);
    }
    let (object, side) = match place {
        Some(p) => (p.object, p.side),
        None => (PathBuf::from(&output), Vec::new()),
    };
    let listed_cwd = cwd_path.clone();
    Ok(Prepared {
        argv,
        stdin: None,
        cwd: cwd_path,
        output: object,
        side,
        dotd: Some(Dotd {
            deps,
            output,
            target: args.dotd_target,
            root,
            cwd: listed_cwd,
            forward: args.user_deps || !system,
            listed: system && args.lists_system,
        }),
    })
}

/// Where a pump job with side outputs compiles to, in the mirror.
struct SidePlace {
    /// The `-o` value given to the compiler.
    arg: OsString,
    /// The object.
    object: PathBuf,
    /// The side files: their names for the client, where they are made.
    side: Vec<(OsString, PathBuf)>,
}

/// With side outputs to send back, the compiler writes the client's `-o`
/// value as written when it is relative (the object names its `.dwo` by
/// it, docs/extension.md §8), else that path in the mirror, so the object
/// and its side files land in the mirror where the client has them. The
/// directories on the way are made real ones ([`mirror::output_place`]),
/// and no file of those names may be in the mirror already: the compiler
/// would write through a link the client sent.
fn side_place(
    tree: &mut Tree,
    cwd: &ClientPath,
    job: &Job,
    names: &[OsString],
) -> Result<SidePlace, Stop> {
    let place = mirror::output_place(cwd, bytes(&job.output)).map_err(refuse)?;
    for d in &place.dirs {
        tree.mkdirs(d).map_err(tree_stop)?;
    }
    let object = place.file.under(tree.root());
    let beside = object.parent().unwrap_or(tree.root()).to_path_buf();
    let side: Vec<(OsString, PathBuf)> =
        names.iter().map(|n| (n.clone(), beside.join(n))).collect();
    for p in std::iter::once(&object).chain(side.iter().map(|(_, p)| p)) {
        if std::fs::symlink_metadata(p).is_ok() {
            let rel = p.strip_prefix(tree.root()).unwrap_or(p);
            return Err(refuse(format!(
                "the client sent /{}, where the compiler writes an output",
                rel.display()
            )));
        }
    }
    let arg = if bytes(&job.output).starts_with(b"/") {
        object.clone().into_os_string()
    } else {
        job.output.clone()
    };
    Ok(SidePlace { arg, object, side })
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
    let place = tree.file(name).map_err(tree_stop)?;
    offload(len, move || write_file(&place, data.as_ref()))
        .await
        .map_err(io_stop)?
        .map_err(tree_stop)
}
