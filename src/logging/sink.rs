//! Where the lines go (stderr, a file, syslog, an inherited descriptor),
//! one whole line per write, and the handle that reopens a log file on
//! SIGHUP or switches the target after start-up.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tracing::Level;
use tracing_subscriber::fmt::MakeWriter;

use super::LogTarget;

pub(super) enum Sink {
    Stderr,
    File(PathBuf, File),
    Syslog(Option<UnixDatagram>),
    Fd(File),
}

impl Sink {
    pub(super) fn open(target: &LogTarget) -> io::Result<Self> {
        Ok(match target {
            LogTarget::Stderr => Self::Stderr,
            LogTarget::File(path) => Self::File(path.clone(), open_append(path)?),
            LogTarget::Syslog => Self::Syslog(connect_syslog()),
            LogTarget::Fd(fd) => Self::Fd(fd_file(*fd)?),
        })
    }

    fn write_line(&mut self, program: &str, level: Level, line: &[u8]) -> io::Result<()> {
        match self {
            Self::Stderr => io::stderr().lock().write_all(line),
            Self::File(_, f) | Self::Fd(f) => f.write_all(line),
            Self::Syslog(sock) => {
                // RFC 3164 without timestamp: rsyslog and journald fill it in.
                let severity = match level {
                    Level::ERROR => 3,
                    Level::WARN => 4,
                    Level::INFO => 5,
                    Level::DEBUG => 6,
                    Level::TRACE => 7,
                };
                let priority = 3 * 8 + severity; // LOG_DAEMON
                let mut msg = format!("<{priority}>").into_bytes();
                // Drop our own "prog[pid] " prefix: syslog adds the ident.
                let text = line.strip_suffix(b"\n").unwrap_or(line);
                msg.extend_from_slice(text);
                let _ = program;
                // No syslog daemon (containers, minimal systems): retry the
                // socket, else drop the line as glibc's syslog(3) does.
                // Never fall back to stderr: under inetd or ssh it is the
                // client's connection.
                if sock.is_none() {
                    *sock = connect_syslog();
                }
                match sock {
                    Some(s) => s.send(&msg).map(|_| ()),
                    None => Ok(()),
                }
            }
        }
    }
}

fn open_append(path: &PathBuf) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o666)
        .open(path)
}

fn connect_syslog() -> Option<UnixDatagram> {
    let sock = UnixDatagram::unbound().ok()?;
    sock.connect("/dev/log").ok()?;
    Some(sock)
}

fn fd_file(fd: i32) -> io::Result<File> {
    use std::os::fd::{BorrowedFd, OwnedFd};
    if fd < 0 {
        return Err(io::Error::from_raw_os_error(libc_ebadf()));
    }
    // Duplicate so closing our copy never closes the caller's descriptor.
    #[allow(unsafe_code)]
    // SAFETY: `fd` is only borrowed for the duration of the dup; the
    // duplicate is owned by the returned File.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    let owned: OwnedFd = borrowed.try_clone_to_owned()?;
    Ok(File::from(owned))
}

const fn libc_ebadf() -> i32 {
    9
}

/// Shared handle to the active sink; [`LogHandle::reopen`] reopens a log
/// file after logrotate moved it (distccd does this on SIGHUP).
#[derive(Clone)]
pub struct LogHandle {
    pub(super) inner: Arc<Mutex<Sink>>,
    pub(super) program: &'static str,
}

impl fmt::Debug for LogHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogHandle")
            .field("program", &self.program)
            .finish()
    }
}

impl LogHandle {
    /// Reopen the log file (no-op for other targets).
    pub fn reopen(&self) -> io::Result<()> {
        let mut sink = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Sink::File(path, file) = &mut *sink {
            *file = open_append(path)?;
        }
        Ok(())
    }

    /// Switch to another target (e.g. from early stderr logging to the
    /// configured log file after start-up).
    pub fn retarget(&self, target: &LogTarget) -> io::Result<()> {
        let new = Sink::open(target)?;
        *self.inner.lock().unwrap_or_else(|e| e.into_inner()) = new;
        Ok(())
    }
}

/// Writer handed to tracing for each event: buffers one line and passes it
/// to the sink in one write, so lines from several threads never interleave.
#[allow(missing_debug_implementations)]
pub struct LineWriter {
    handle: LogHandle,
    level: Level,
    buf: Vec<u8>,
}

impl Write for LineWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let mut sink = self.handle.inner.lock().unwrap_or_else(|e| e.into_inner());
        // A log line that cannot be written is dropped: logging must never
        // take the program down.
        let _ = sink.write_line(self.handle.program, self.level, &self.buf);
    }
}

impl<'a> MakeWriter<'a> for LogHandle {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            handle: self.clone(),
            level: Level::INFO,
            buf: Vec::new(),
        }
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        LineWriter {
            handle: self.clone(),
            level: *meta.level(),
            buf: Vec::new(),
        }
    }
}
