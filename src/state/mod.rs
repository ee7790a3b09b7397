//! The monitor state-file format (spec §3.14): pure encode/decode of
//! distcc 3.4's `struct dcc_task_state`, shared by the client (writer) and
//! `distccmon-text` (reader).
//!
//! The file holds one native C struct, so its layout depends on the word
//! size: on LP64 (x86_64, aarch64) it is 296 bytes, on ILP32 280. We write
//! exactly what 3.4 writes so that distcc 3.4's own monitor shows our jobs,
//! and we read 3.4's files. Reading and writing the files is the client's
//! and the monitor's business; this module only turns bytes into values.
//!
//! [`record`] is our own addition: the client's per-job record that
//! `distccmon-text --summary` and `distccmon-tui` read.

use std::fmt;

pub mod record;

/// `magic` of every state file: `DIH\0` (0x44494800).
pub const MAGIC: u64 = 0x4449_4800;

/// Size of a C `unsigned long`/`size_t`/pointer on this machine.
const WORD: usize = size_of::<usize>();

/// Bytes of the `file` and `host` arrays.
pub const NAME_LEN: usize = 128;

/// Offsets of the fields (spec §3.14 table).
const OFF_MAGIC: usize = WORD;
const OFF_CPID: usize = 2 * WORD;
const OFF_FILE: usize = 3 * WORD;
const OFF_HOST: usize = OFF_FILE + NAME_LEN;
const OFF_SLOT: usize = OFF_HOST + NAME_LEN;
const OFF_PHASE: usize = OFF_SLOT + 4;
const OFF_NEXT: usize = OFF_PHASE + 4;

/// Size of the struct: 296 bytes on LP64, 280 on ILP32.
pub const STRUCT_SIZE: usize = OFF_NEXT + WORD;

/// Prefix of state file names; the rest is the client's decimal pid.
pub const FILE_PREFIX: &str = "binstate_";

/// Phases of a job (3.4's `enum dcc_phase`, in order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// 0: never written by 3.4.
    Startup,
    /// 1: never written by 3.4.
    Blocked,
    /// 2: connecting to the server.
    Connect,
    /// 3: running the local preprocessor.
    Preprocess,
    /// 4: sending the request.
    Send,
    /// 5: compiling (remotely or locally).
    Compile,
    /// 6: receiving the reply.
    Receive,
    /// 7: finished (never written by 3.4; hidden by monitors).
    Done,
}

impl Phase {
    /// The phase with this number; anything above 7 reads as Compile, as
    /// 3.4's monitor clamps it.
    pub fn from_number(n: u32) -> Self {
        match n {
            0 => Self::Startup,
            1 => Self::Blocked,
            2 => Self::Connect,
            3 => Self::Preprocess,
            4 => Self::Send,
            6 => Self::Receive,
            7 => Self::Done,
            _ => Self::Compile,
        }
    }

    /// The number stored in the file.
    pub fn number(self) -> u32 {
        self as u32
    }

    /// The name distccmon-text prints.
    pub fn name(self) -> &'static str {
        match self {
            Self::Startup => "Startup",
            Self::Blocked => "Blocked",
            Self::Connect => "Connect",
            Self::Preprocess => "Preprocess",
            Self::Send => "Send",
            Self::Compile => "Compile",
            Self::Receive => "Receive",
            Self::Done => "Done",
        }
    }
}

/// One job's state, as the monitor shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskState {
    /// The client's pid.
    pub cpid: u64,
    /// Basename of the source file (at most 127 bytes are kept).
    pub file: String,
    /// Host name without port, or `localhost`.
    pub host: String,
    /// Slot number on that host.
    pub slot: i32,
    /// Current phase.
    pub phase: Phase,
}

/// Why bytes are not a state record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StateError {
    /// Fewer bytes than the struct (a file being rewritten, or foreign).
    Short(usize),
    /// `struct_size` is not ours (another word size or version).
    BadSize(u64),
    /// `magic` is wrong.
    BadMagic(u64),
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Short(n) => write!(f, "state file has {n} bytes, expected {STRUCT_SIZE}"),
            Self::BadSize(n) => {
                write!(f, "state file says struct_size {n}, expected {STRUCT_SIZE}")
            }
            Self::BadMagic(m) => write!(f, "state file has magic {m:#x}, expected {MAGIC:#x}"),
        }
    }
}

impl std::error::Error for StateError {}

fn put_word(buf: &mut [u8], off: usize, value: u64) {
    if WORD == 8 {
        buf[off..off + 8].copy_from_slice(&value.to_ne_bytes());
    } else {
        buf[off..off + 4].copy_from_slice(&(value as u32).to_ne_bytes());
    }
}

fn get_word(buf: &[u8], off: usize) -> u64 {
    if WORD == 8 {
        u64::from_ne_bytes(buf[off..off + 8].try_into().expect("8 bytes"))
    } else {
        u64::from(u32::from_ne_bytes(
            buf[off..off + 4].try_into().expect("4 bytes"),
        ))
    }
}

/// `strlcpy` into a fixed array: at most `NAME_LEN - 1` bytes, NUL-padded.
/// Truncation never splits a UTF-8 character.
fn put_name(buf: &mut [u8], off: usize, text: &str) {
    let mut end = text.len().min(NAME_LEN - 1);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    buf[off..off + end].copy_from_slice(&text.as_bytes()[..end]);
}

fn get_name(buf: &[u8], off: usize) -> String {
    let field = &buf[off..off + NAME_LEN];
    let len = field.iter().position(|&b| b == 0).unwrap_or(NAME_LEN);
    String::from_utf8_lossy(&field[..len]).into_owned()
}

impl TaskState {
    /// The bytes 3.4 would write for this state (`next` is 0).
    pub fn encode(&self) -> [u8; STRUCT_SIZE] {
        let mut buf = [0u8; STRUCT_SIZE];
        put_word(&mut buf, 0, STRUCT_SIZE as u64);
        put_word(&mut buf, OFF_MAGIC, MAGIC);
        put_word(&mut buf, OFF_CPID, self.cpid);
        put_name(&mut buf, OFF_FILE, &self.file);
        put_name(&mut buf, OFF_HOST, &self.host);
        buf[OFF_SLOT..OFF_SLOT + 4].copy_from_slice(&self.slot.to_ne_bytes());
        buf[OFF_PHASE..OFF_PHASE + 4].copy_from_slice(&self.phase.number().to_ne_bytes());
        buf
    }

    /// Read a state record (3.4's reader rules: full size, matching
    /// `struct_size` and magic; phases above 7 read as Compile).
    pub fn decode(buf: &[u8]) -> Result<Self, StateError> {
        if buf.len() < STRUCT_SIZE {
            return Err(StateError::Short(buf.len()));
        }
        let size = get_word(buf, 0);
        if size != STRUCT_SIZE as u64 {
            return Err(StateError::BadSize(size));
        }
        let magic = get_word(buf, OFF_MAGIC);
        if magic != MAGIC {
            return Err(StateError::BadMagic(magic));
        }
        let slot = i32::from_ne_bytes(buf[OFF_SLOT..OFF_SLOT + 4].try_into().expect("4"));
        let phase = u32::from_ne_bytes(buf[OFF_PHASE..OFF_PHASE + 4].try_into().expect("4"));
        Ok(Self {
            cpid: get_word(buf, OFF_CPID),
            file: get_name(buf, OFF_FILE),
            host: get_name(buf, OFF_HOST),
            slot,
            phase: Phase::from_number(phase),
        })
    }
}

/// The state file name for a client pid (`binstate_<pid>`).
pub fn file_name(pid: u32) -> String {
    format!("{FILE_PREFIX}{pid}")
}

#[cfg(test)]
mod tests;
