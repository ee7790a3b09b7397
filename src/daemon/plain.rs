//! Protocols 1 and 2 on the server (spec §4.5 step 4): receive the
//! preprocessed source (DOTI) and point the command at it. Checking,
//! compiling and replying are shared with protocol 3 ([`super::job`]).
//!
//! The source reaches the compiler on stdin (`-x <language> -`, the
//! language 3.4's temp-file extension would imply) when it is small
//! enough to hold in memory, else through a file as in 3.4. Same objects,
//! no file creation on disk for a normal job.

use std::ffi::OsStr;
use std::time::Instant;

use tokio::io::AsyncRead;

use super::incoming::{Incoming, Source};
use super::job::{JobSettings, OUTPUT, Prepared, Stop, io_stop, read_stop_after_head};
use super::jobdir::JobDir;
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

/// Protocols 1 and 2: receive DOTI and point the command at it.
pub(super) async fn receive<R: AsyncRead + Unpin>(
    inc: &mut Incoming<R>,
    version: u32,
    job: &Job,
    dir: &JobDir,
    s: &JobSettings,
) -> Result<Prepared, Stop> {
    // spec §3.5: the extension (3.4's temp file name) gives the language.
    let ext = args::preprocessed_ext(&job.input).unwrap_or(".tmp");
    let input_name = format!("input{ext}");
    let spill = || dir.create_file(&input_name);
    // DISTCC_SAVE_TEMPS keeps every input as a file, to look at later.
    let memory_max = if s.save_temps { 0 } else { MEMORY_SOURCE_MAX };
    let started = Instant::now();
    let source = inc
        .source(version, &s.limits, memory_max, spill)
        .await
        .map_err(|e| read_stop_after_head(e, "its source (DOTI)"))?;
    let (size, place) = match &source {
        Source::Memory(data) => (data.len() as u64, "memory"),
        Source::File(n) => (*n, "a file"),
    };
    tracing::trace!(
        "received the preprocessed source: {size} bytes in {} ms, into {place} ({input_name})",
        started.elapsed().as_millis()
    );
    let output = dir.file(OUTPUT).into_os_string();
    let input_path = dir.file(&input_name).into_os_string();
    let (argv, stdin) = match (source, stdin_language(ext)) {
        // Small sources go to the compiler's stdin: no file to create.
        (Source::Memory(data), Some(lang)) => {
            let mut argv = job.with_input_output(OsStr::new("-"), &output);
            argv.splice(job.input_index..job.input_index, ["-x".into(), lang.into()]);
            (argv, Some(data))
        }
        (Source::Memory(data), None) => {
            std::fs::write(dir.file(&input_name), data).map_err(io_stop)?;
            (job.with_input_output(&input_path, &output), None)
        }
        (Source::File(_), _) => (job.with_input_output(&input_path, &output), None),
    };
    Ok(Prepared {
        argv,
        stdin,
        cwd: dir.path().to_path_buf(),
        dotd: None,
    })
}
