//! Protocols 1 and 2 on the server (spec §4.5 step 4): receive the
//! preprocessed source (DOTI) and point the command at it, laid out so
//! that side outputs come out as they would on the client when the
//! extension carries them back. Checking,
//! compiling and replying are shared with protocol 3 ([`super::job`]).
//!
//! The source reaches the compiler on stdin (`-x <language> -`, the
//! language 3.4's temp-file extension would imply) when it is small
//! enough to hold in memory, else through a file as in 3.4. Same objects,
//! no file creation on disk for a normal job.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite};

use super::bodybase;
use super::hdrstore::HeaderStore;
use super::incoming::{Incoming, Source};
use super::job::{JobSettings, OUTPUT, Prepared, Stop, io_stop, read_stop_after_head};
use super::jobdir::JobDir;
use crate::args::ext::basename;
use crate::args::outputs::output_climb;
use crate::args::{self, Job};

/// Sources up to this size reach the compiler from memory; bigger ones
/// through a file in the job directory.
pub const MEMORY_SOURCE_MAX: usize = 32 << 20;

/// The `-x` language of a preprocessed input with this extension (as gcc
/// and clang would infer it from a file name), for feeding it on stdin.
fn stdin_language(ext: &str) -> Option<&'static str> {
    Some(match ext {
        ".i" => "cpp-output",
        ".ii" => "c++-cpp-output",
        ".mi" => "objective-c-cpp-output",
        ".mii" => "objective-c++-cpp-output",
        ".s" => "assembler",
        _ => return None,
    })
}

/// Protocols 1 and 2: receive DOTI and point the command at it. With
/// `based` (the client chose `BODY_BASE`: the base store and the way
/// back to the client), `XBAS` before `DOTI` makes it a delta.
pub(super) async fn receive<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(
    inc: &mut Incoming<R>,
    version: u32,
    job: &Job,
    dir: &JobDir,
    s: &JobSettings,
    outputs: bool,
    based: Option<(&HeaderStore, &mut W)>,
) -> Result<Prepared, Stop> {
    // spec §3.5: the extension (3.4's temp file name) gives the language.
    let ext = args::preprocessed_ext(&job.input).unwrap_or(".tmp");
    let input_name = format!("input{ext}");
    let spill = || dir.create_file(&input_name);
    // DISTCC_SAVE_TEMPS keeps every input as a file, to look at later.
    let memory_max = if s.save_temps { 0 } else { MEMORY_SOURCE_MAX };
    let started = Instant::now();
    let read = |e| read_stop_after_head(e, "its source (DOTI)");
    let source = match based {
        Some((store, writer)) if &inc.next_token().await.map_err(read)? == b"XBAS" => {
            let spilled = dir.file(&input_name);
            bodybase::receive(inc, writer, store, version, s, memory_max, &spill, &spilled).await?
        }
        _ => inc
            .source(version, &s.limits, memory_max, spill)
            .await
            .map_err(read)?,
    };
    let (size, place) = match &source {
        Source::Memory(data) => (data.len() as u64, "memory"),
        Source::File(n) => (*n, "a file"),
    };
    tracing::trace!(
        "received the preprocessed source: {size} bytes in {} ms, into {place} ({input_name})",
        started.elapsed().as_millis()
    );
    let layout = side_layout(job, dir, outputs).map_err(io_stop)?;
    let output = layout.output_arg.as_os_str();
    let input_path = dir.file(&input_name).into_os_string();
    let (argv, stdin) = match (source, stdin_language(ext)) {
        // Small sources go to the compiler's stdin: no file to create.
        (Source::Memory(data), Some(lang)) => {
            let mut argv = job.with_input_output(OsStr::new("-"), output);
            argv.splice(job.input_index..job.input_index, ["-x".into(), lang.into()]);
            (argv, Some(data))
        }
        (Source::Memory(data), None) => {
            std::fs::write(dir.file(&input_name), data).map_err(io_stop)?;
            (job.with_input_output(&input_path, output), None)
        }
        (Source::File(_), _) => (job.with_input_output(&input_path, output), None),
    };
    Ok(Prepared {
        argv,
        stdin,
        cwd: layout.cwd,
        dotd: None,
        output: layout.output,
        side: layout.side,
    })
}

/// Where a job's compiler runs and writes.
struct Layout {
    cwd: PathBuf,
    /// The `-o` value given to the compiler.
    output_arg: OsString,
    /// The object, for reading it back.
    output: PathBuf,
    side: Vec<(OsString, PathBuf)>,
}

/// The job directory's subdirectory where side outputs are made.
const WORK: &str = "w";

/// Without side outputs to send back (`outputs`: the client chose
/// `OUTPUTS`), the compiler writes our `output.o`. With them it runs in
/// `<job dir>/w` (nested deep enough for the `-o` value's `..`) with the
/// client's `-o` value as written when that is relative (its directories
/// made there), else with its base name: gcc names the side files after
/// the `-o` value, and the object names its `.dwo` by it
/// (docs/extension.md §8). [`output_climb`] keeps every path inside
/// `<job dir>/w`.
fn side_layout(job: &Job, dir: &JobDir, outputs: bool) -> std::io::Result<Layout> {
    let side = outputs
        .then(|| args::side_outputs(job).ok())
        .flatten()
        // What only pump mode makes as on the client: our client does not
        // send it in plain mode.
        .filter(|s| s.needs_pump.is_none() && !s.compiler.is_empty());
    let Some(side) = side else {
        let output = dir.file(OUTPUT);
        return Ok(Layout {
            cwd: dir.path().to_path_buf(),
            output_arg: output.clone().into_os_string(),
            output,
            side: Vec::new(),
        });
    };
    let mut cwd = dir.file(WORK);
    let output_arg = match output_climb(&job.output) {
        Some(depth) => {
            cwd.extend(std::iter::repeat_n("d", depth));
            job.output.clone()
        }
        None => basename(&job.output).to_os_string(),
    };
    std::fs::create_dir_all(&cwd)?;
    let output = cwd.join(&output_arg);
    let beside = output.parent().unwrap_or(&cwd).to_path_buf();
    std::fs::create_dir_all(&beside)?;
    let side = side
        .compiler
        .into_iter()
        .map(|name| {
            let path = beside.join(&name);
            (name, path)
        })
        .collect();
    Ok(Layout {
        cwd,
        output_arg,
        output,
        side,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{Scan, scan};
    use std::path::{Component, Path};

    /// `path` with `.` and `..` resolved lexically (the directories exist:
    /// no symlink can be among them).
    fn normal(path: &Path) -> PathBuf {
        let mut out = PathBuf::new();
        for c in path.components() {
            match c {
                Component::ParentDir => {
                    out.pop();
                }
                Component::CurDir => {}
                c => out.push(c),
            }
        }
        out
    }

    #[test]
    fn side_files_are_made_inside_the_job_directory_whatever_the_output() {
        let base = std::env::temp_dir().join(format!("plain-layout-{}", std::process::id()));
        std::fs::create_dir_all(&base).unwrap();
        let dirs = crate::daemon::jobdir::JobDirs::new(&base, false);
        let climb = "../".repeat(40);
        for (o, arg) in [
            ("obj/x.o", "obj/x.o"),
            ("../../b/x.o", "../../b/x.o"),
            ("/etc/x.o", "x.o"),
            (&*format!("{climb}etc/x.o"), "x.o"),
        ] {
            let argv: Vec<OsString> = [
                "gcc",
                "-g",
                "-fstack-usage",
                "-fcallgraph-info",
                "-c",
                "x.c",
                "-o",
                o,
            ]
            .iter()
            .map(OsString::from)
            .collect();
            let Scan::Distribute(job) = scan(&argv) else {
                panic!("{o}")
            };
            let dir = dirs.take(false).unwrap();
            let work = dir.file(WORK);
            let layout = side_layout(&job, &dir, true).unwrap();
            assert_eq!(layout.output_arg, arg, "{o}");
            for p in [&layout.output]
                .into_iter()
                .chain(layout.side.iter().map(|(_, p)| p))
            {
                let p = normal(&layout.cwd.join(p));
                assert!(p.starts_with(&work), "{o}: {}", p.display());
                assert!(p.parent().unwrap().is_dir(), "{o}: {}", p.display());
            }
            assert_eq!(layout.side.len(), 2, "{o}");
            // Without OUTPUTS: our output.o, as always.
            let plain = side_layout(&job, &dir, false).unwrap();
            assert_eq!(plain.output, dir.file(OUTPUT));
            assert!(plain.side.is_empty());
        }
        drop(dirs);
        std::fs::remove_dir_all(&base).unwrap();
    }
}
