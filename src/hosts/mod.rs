//! The `DISTCC_HOSTS` grammar (spec §2): text in, [`HostList`] out.
//!
//! Pure: no environment, no files, no randomness. The client decides where
//! the text comes from ([`sources`] lists the places in 3.4's order) and
//! shuffles for `--randomize` with a seed it chooses ([`HostList::shuffle`]);
//! `distcc-config` validates `--set-hosts` with the very same [`parse`].
//!
//! Compatibility policy. Every list distcc 3.4 accepts is accepted and means
//! the same hosts, slots, ports and options (checked against Debian's
//! `distcc --show-hosts`/`-j` in `tests/config/hosts_oracle.rs`), with three
//! deliberate exceptions where 3.4 silently does something harmful:
//!
//! * a negative or overflowing slot count (`h/-3`: 3.4 sums it into `-j`);
//! * a port outside 1..=65535 written as digits (`h:70000`: 3.4 truncates it
//!   to 16 bits and connects to another port; `h:-1` likewise);
//! * `[IPv6]` after `@` is parsed as an address (3.4 cuts the host at the
//!   first `:` and runs `ssh [`).
//!
//! The first two are errors. Things 3.4 accepts but that are almost surely
//! typos (text ignored after a slot count, `h:` meaning port 0, a keyword
//! with `=0` becoming a host name, `=` inside a host name) parse exactly as
//! in 3.4 and are reported in [`HostList::warnings`], which `distcc-config`
//! treats as reasons not to write the file.

mod lexer;
mod spec;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::env::Vars;
use crate::error::ExitCode;

/// The default TCP port of distccd.
pub const DEFAULT_PORT: u16 = 3632;
/// Default slots of a TCP or SSH host (spec §2.3).
pub const DEFAULT_REMOTE_SLOTS: u32 = 4;
/// Default slots of a `localhost` entry (spec §2.3).
pub const DEFAULT_LOCAL_SLOTS: u32 = 2;
/// Default of `--localslots` (spec §2.2).
pub const DEFAULT_LOCALSLOTS: u32 = 4;
/// Default of `--localslots_cpp` (spec §2.2).
pub const DEFAULT_LOCALSLOTS_CPP: u32 = 8;

/// A parsed host list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostList {
    /// Hosts in the order written (shuffle with [`HostList::shuffle`]).
    pub hosts: Vec<HostSpec>,
    /// `--randomize` was given.
    pub randomize: bool,
    /// `--localslots=N` (default 4): slots for local compiles and links.
    pub local_slots: u32,
    /// `--localslots_cpp=N` (default 8): slots for local preprocessing.
    pub local_slots_cpp: u32,
    /// `+zeroconf` was given (hosts are discovered through mDNS).
    pub zeroconf: bool,
    /// Where in `hosts` the found daemons go: the number of hosts written
    /// before `+zeroconf` (3.4 puts them at the token's place).
    pub zeroconf_at: usize,
    /// Things 3.4 accepts that are probably mistakes (see the module docs).
    pub warnings: Vec<HostWarning>,
}

/// One host of the list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostSpec {
    /// The token as written (what `distcc --show-hosts` prints).
    pub text: String,
    /// 1-based character column of the token in the parsed text.
    pub position: usize,
    /// Where and how to connect.
    pub kind: HostKind,
    /// How many jobs may run there at once.
    pub slots: u32,
    /// Protocol version: 1 plain, 2 with `,lzo`, 3 with `,lzo,cpp`.
    pub protover: u32,
    /// `,lzo`: compress bulk data.
    pub lzo: bool,
    /// `,cpp`: preprocess on the server (pump mode).
    pub cpp: bool,
    /// `,down`: never used.
    pub down: bool,
    /// `,auth` (`Some(None)`) or `,auth=NAME` (`Some(Some(NAME))`).
    pub auth: Option<Option<String>>,
    /// `tls+HOST`: TLS 1.3 with pinned keys (ours, docs/tls.md). 3.4 reads
    /// the token as a TCP host named `tls+HOST`, which no resolver knows,
    /// and compiles locally: never another machine in the clear.
    pub tls: bool,
}

/// The transport of a host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostKind {
    /// Compile on this machine.
    Local,
    /// distccd over TCP. `host` has no brackets for IPv6.
    Tcp { host: String, port: u16 },
    /// `ssh [-l user] host command --inetd --enable-tcp-insecure`.
    /// `command` is `None` for the default `distccd`.
    Ssh {
        user: Option<String>,
        host: String,
        command: Option<String>,
    },
}

impl HostSpec {
    /// The middle part of lock and backoff file names (spec §3.8):
    /// `cpu_<lock_id>_<slot>`, `backoff_<lock_id>_<slot>`.
    pub fn lock_id(&self) -> String {
        match &self.kind {
            HostKind::Local => "localhost".to_owned(),
            HostKind::Tcp { host, port } => format!("tcp_{host}_{port}"),
            HostKind::Ssh { host, .. } => format!("ssh_{host}"),
        }
    }

    /// Whether this entry compiles on the local machine.
    pub fn is_local(&self) -> bool {
        self.kind == HostKind::Local
    }
}

impl HostList {
    /// The sum of all hosts' slots, as `distcc -j` prints it (3.4 counts
    /// `,down` hosts and `localhost` too; `--localslots` is not included).
    pub fn total_slots(&self) -> u32 {
        self.hosts
            .iter()
            .fold(0u32, |sum, h| sum.saturating_add(h.slots))
    }

    /// Shuffle the hosts for `--randomize`. 3.4 seeds `rand()` with the
    /// pid; callers pass whatever seed they like (the pid, for the same
    /// spread across concurrent jobs). Deterministic for a given seed.
    pub fn shuffle(&mut self, seed: u64) {
        let mut state = seed;
        for i in (1..self.hosts.len()).rev() {
            let j = (splitmix64(&mut state) % (i as u64 + 1)) as usize;
            self.hosts.swap(i, j);
        }
    }
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Why a host list was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostError {
    /// The whole token the problem is in (empty for an empty list).
    pub token: String,
    /// 1-based character column in the parsed text of the offending part.
    pub position: usize,
    /// 1-based line of `position`.
    pub line: usize,
    /// 1-based character column of `position` within its line.
    pub column: usize,
    /// What is wrong, naming the offending part.
    pub message: String,
    /// Malformed text, or a well-formed list without any host.
    pub kind: HostErrorKind,
}

/// The two ways a list can be refused; the client treats an empty list as
/// "no hosts" (run locally, 116 without fallback) like 3.4 does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostErrorKind {
    /// A token does not follow the grammar.
    Malformed,
    /// Nothing but comments, whitespace and global options.
    NoHosts,
}

impl HostError {
    /// The exit status distcc uses for a bad host list: 106 (`BAD_HOSTSPEC`).
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::BadHostspec
    }
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            HostErrorKind::NoHosts => write!(f, "{}", self.message),
            HostErrorKind::Malformed => write!(
                f,
                "bad host specification {:?} at line {}, column {}: {}",
                self.token, self.line, self.column, self.message
            ),
        }
    }
}

impl std::error::Error for HostError {}

/// Something 3.4 accepts that is probably not what the author meant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostWarning {
    /// The token concerned.
    pub token: String,
    /// 1-based character column in the parsed text.
    pub position: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based character column within the line.
    pub column: usize,
    /// What 3.4 (and we) will do with it.
    pub message: String,
}

impl fmt::Display for HostWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "host specification {:?} at line {}, column {}: {}",
            self.token, self.line, self.column, self.message
        )
    }
}

/// Parse a host list: the value of `DISTCC_HOSTS` or a hosts file (both
/// have the same syntax, spec §2.1).
pub fn parse(text: &str) -> Result<HostList, HostError> {
    let mut list = HostList {
        hosts: Vec::new(),
        randomize: false,
        local_slots: DEFAULT_LOCALSLOTS,
        local_slots_cpp: DEFAULT_LOCALSLOTS_CPP,
        zeroconf: false,
        zeroconf_at: 0,
        warnings: Vec::new(),
    };
    for token in lexer::tokens(text) {
        spec::parse_token(text, token, &mut list)?;
    }
    if list.hosts.is_empty() && !list.zeroconf {
        let (line, column) = line_column(text, text.len());
        return Err(HostError {
            token: String::new(),
            position: text.chars().count() + 1,
            line,
            column,
            message: "the host list contains no hosts".to_owned(),
            kind: HostErrorKind::NoHosts,
        });
    }
    Ok(list)
}

/// 1-based (line, column) of a byte offset, counting characters.
pub(crate) fn line_column(text: &str, byte: usize) -> (usize, usize) {
    let before = &text[..byte];
    let line = before.matches(['\n', '\r']).count() + 1;
    let line_start = before.rfind(['\n', '\r']).map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Where a host list may come from, in 3.4's order (spec §2.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// `$DISTCC_HOSTS` is set (even empty: then it is the list, and empty).
    Env(String),
    /// A file to try; the first readable one is the list.
    File(PathBuf),
}

/// The places to look for the host list: `$DISTCC_HOSTS` if set (and then
/// nothing else), otherwise `$DISTCC_DIR/hosts` (or `~/.distcc/hosts`) and
/// `<sysconfdir>/distcc/hosts`.
pub fn sources(vars: &Vars, sysconfdir: &Path) -> Vec<Source> {
    if let Some(value) = vars.get_os("DISTCC_HOSTS") {
        return vec![Source::Env(value.to_string_lossy().into_owned())];
    }
    let mut out = Vec::new();
    if let Some(dir) = vars.distcc_dir() {
        out.push(Source::File(dir.join("hosts")));
    }
    out.push(Source::File(sysconfdir.join("distcc").join("hosts")));
    out
}
