//! The only reader of the process environment.
//!
//! Every program takes one [`Vars`] snapshot at start-up and passes it (or
//! values derived from it) down. Parsers never call `std::env` themselves,
//! so tests build a `Vars` from a list instead of juggling process-global
//! state (style.md, example 6). The variables and their parsing rules are
//! those of distcc 3.4 (spec §3.12 for the client, §4.8 for the daemon).

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// A snapshot of environment variables.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Vars {
    map: BTreeMap<OsString, OsString>,
}

impl Vars {
    /// Snapshot the current process environment.
    #[allow(clippy::disallowed_methods)] // this is the one place that may
    pub fn from_process() -> Self {
        Self {
            map: std::env::vars_os().collect(),
        }
    }

    /// Build a snapshot from pairs (for tests and for child environments).
    pub fn from_pairs<K, V, I>(pairs: I) -> Self
    where
        K: Into<OsString>,
        V: Into<OsString>,
        I: IntoIterator<Item = (K, V)>,
    {
        Self {
            map: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The raw value of a variable, if set (possibly empty).
    pub fn get_os(&self, name: &str) -> Option<&OsStr> {
        self.map.get(OsStr::new(name)).map(OsString::as_os_str)
    }

    /// The value of a variable as UTF-8 text, if set and valid.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_os(name).and_then(OsStr::to_str)
    }

    /// Whether a variable is set at all (even to an empty string).
    pub fn is_set(&self, name: &str) -> bool {
        self.map.contains_key(OsStr::new(name))
    }

    /// Set or replace a variable in the snapshot.
    pub fn set(&mut self, name: impl Into<OsString>, value: impl Into<OsString>) {
        self.map.insert(name.into(), value.into());
    }

    /// Remove a variable from the snapshot.
    pub fn remove(&mut self, name: &str) {
        self.map.remove(OsStr::new(name));
    }

    /// Iterate over all variables (to hand to a child process).
    pub fn iter(&self) -> impl Iterator<Item = (&OsStr, &OsStr)> {
        self.map.iter().map(|(k, v)| (k.as_os_str(), v.as_os_str()))
    }

    /// C `atoi` of a variable: leading whitespace, optional sign, digits;
    /// anything unparsable is 0. `None` when unset.
    pub fn atoi(&self, name: &str) -> Option<i64> {
        self.get_os(name).map(|v| atoi(&v.to_string_lossy()))
    }

    /// distcc's `dcc_getenv_bool`: only "1" and "0" count; anything else
    /// (or unset) gives `default`.
    pub fn bool_or(&self, name: &str, default: bool) -> bool {
        match self.get(name) {
            Some("1") => true,
            Some("0") => false,
            _ => default,
        }
    }

    /// `$TMPDIR`, or `/tmp` when unset or empty (spec §3.12).
    pub fn tmpdir(&self) -> PathBuf {
        match self.get_os("TMPDIR") {
            Some(v) if !v.is_empty() => PathBuf::from(v),
            _ => PathBuf::from("/tmp"),
        }
    }

    /// distcc's top directory: `$DISTCC_DIR`, else `$HOME/.distcc`.
    /// `None` when neither is usable.
    pub fn distcc_dir(&self) -> Option<PathBuf> {
        match self.get_os("DISTCC_DIR") {
            Some(v) if !v.is_empty() => Some(PathBuf::from(v)),
            _ => self.home().map(|h| h.join(".distcc")),
        }
    }

    /// Whether the top directory was chosen through `$DISTCC_DIR` (3.4 does
    /// not create it in that case).
    pub fn distcc_dir_is_explicit(&self) -> bool {
        self.get_os("DISTCC_DIR").is_some_and(|v| !v.is_empty())
    }

    /// `$HOME`, if set and non-empty.
    pub fn home(&self) -> Option<PathBuf> {
        match self.get_os("HOME") {
            Some(v) if !v.is_empty() => Some(PathBuf::from(v)),
            _ => None,
        }
    }

    /// `$PATH` split into entries (empty list when unset).
    pub fn path_entries(&self) -> Vec<PathBuf> {
        self.get_os("PATH")
            .map(|p| std::env::split_paths(p).collect())
            .unwrap_or_default()
    }

    /// `DISTCC_IO_TIMEOUT` in seconds: default 300, must be > 0 (spec §3.12).
    /// `Err` carries the bad text; 3.4 exits 101 on it.
    pub fn io_timeout_secs(&self) -> Result<u64, String> {
        self.positive_or("DISTCC_IO_TIMEOUT", 300, "a positive number of seconds")
    }

    /// A variable that must hold a number > 0 (read like C `atoi`), or
    /// `default` when unset; `Err` says what it must be and what it holds.
    fn positive_or(&self, name: &str, default: u64, must_be: &str) -> Result<u64, String> {
        let Some(v) = self.get_os(name) else {
            return Ok(default);
        };
        let text = v.to_string_lossy();
        match atoi(&text) {
            n if n > 0 => Ok(n as u64),
            _ => Err(format!("{name} must be {must_be}, not {text:?}")),
        }
    }

    /// `DISTCC_SAVE_TEMPS=1` keeps temporary files.
    pub fn save_temps(&self) -> bool {
        self.bool_or("DISTCC_SAVE_TEMPS", false)
    }

    /// `DISTCC_VERBOSE=1` turns on debug logging.
    pub fn verbose(&self) -> bool {
        self.bool_or("DISTCC_VERBOSE", false)
    }

    /// `DISTCCD_PATH`: replaces `PATH` for the compilers distccd runs
    /// (spec §4.2 step 7). `None` when unset.
    pub fn distccd_path(&self) -> Option<&OsStr> {
        self.get_os("DISTCCD_PATH")
    }

    /// `DISTCC_CMDLIST`: a file listing the compilers distccd may run, one
    /// path a line (spec §4.5 step 6). `None` when unset or empty.
    pub fn cmdlist(&self) -> Option<PathBuf> {
        match self.get_os("DISTCC_CMDLIST") {
            Some(v) if !v.is_empty() => Some(PathBuf::from(v)),
            _ => None,
        }
    }

    /// `DISTCC_CMDLIST_NUMWORDS`: how many trailing `/`-separated
    /// components of a compiler path are its key (default 1, at least 1).
    pub fn cmdlist_numwords(&self) -> usize {
        match self.atoi("DISTCC_CMDLIST_NUMWORDS") {
            Some(n) if n >= 1 => n as usize,
            _ => 1,
        }
    }

    /// `DISTCC_TCP_DEFER_ACCEPT`: `0` turns TCP_DEFER_ACCEPT off on the
    /// daemon's socket (spec §4.2 step 10); on by default.
    pub fn tcp_defer_accept(&self) -> bool {
        self.bool_or("DISTCC_TCP_DEFER_ACCEPT", true)
    }

    /// systemd socket activation (`sd_listen_fds(3)`): how many listening
    /// sockets were passed from fd 3 on. Only counts when `LISTEN_PID`
    /// names this process, so a value inherited by accident is ignored.
    pub fn listen_fds(&self, my_pid: u32) -> u32 {
        let for_us = self.get("LISTEN_PID").and_then(|p| p.parse::<u32>().ok()) == Some(my_pid);
        match self.get("LISTEN_FDS").and_then(|n| n.parse::<u32>().ok()) {
            Some(n) if for_us => n,
            _ => 0,
        }
    }

    // ----- client variables (spec §3.12), read by src/client -----

    /// `DISTCC_HOSTS`, if set (even empty: 3.4 then has no hosts).
    pub fn distcc_hosts(&self) -> Option<String> {
        self.get_os("DISTCC_HOSTS")
            .map(|v| v.to_string_lossy().into_owned())
    }

    /// `DISTCC_LOG`: append the log to this file.
    pub fn distcc_log(&self) -> Option<PathBuf> {
        match self.get_os("DISTCC_LOG") {
            Some(v) if !v.is_empty() => Some(PathBuf::from(v)),
            _ => None,
        }
    }

    /// `UNCACHED_ERR_FD` (set by ccache): log to this descriptor when
    /// `DISTCC_LOG` is unset.
    pub fn uncached_err_fd(&self) -> Option<i32> {
        self.atoi("UNCACHED_ERR_FD")
            .filter(|&fd| fd > 2 && fd < i64::from(i32::MAX))
            .map(|fd| fd as i32)
    }

    /// `DISTCC_FALLBACK`: only "0" turns local fallback off.
    pub fn fallback(&self) -> bool {
        self.bool_or("DISTCC_FALLBACK", true)
    }

    /// `DISTCC_BACKOFF_PERIOD` in seconds (atoi; default 60). 0 (or
    /// non-numeric text) disables backoff files entirely.
    pub fn backoff_period_secs(&self) -> u64 {
        self.atoi("DISTCC_BACKOFF_PERIOD")
            .map_or(60, |n| n.max(0) as u64)
    }

    /// `DISTCC_PAUSE_TIME_MSEC`: sleep when every slot is busy (atoi;
    /// default 1000; 0 spins).
    pub fn pause_time_msec(&self) -> u64 {
        self.atoi("DISTCC_PAUSE_TIME_MSEC")
            .map_or(1000, |n| n.max(0) as u64)
    }

    /// `DISTCC_SKIP_LOCAL_RETRY`: set to anything (even "0") means no
    /// local retry after a remote compile failure.
    pub fn skip_local_retry(&self) -> bool {
        self.is_set("DISTCC_SKIP_LOCAL_RETRY")
    }

    /// `DISTCC_TCP_CORK`: "0" disables corking. 3.4 never corks in
    /// practice (spec §3.9); our client writes each message in one call
    /// with `TCP_NODELAY`, and corks only a request that follows the
    /// extension's hello without waiting (docs/extension.md §2.1), so
    /// that hello, choice and request leave as one segment.
    pub fn tcp_cork(&self) -> bool {
        self.bool_or("DISTCC_TCP_CORK", true)
    }

    /// `DISTCC_SSH` split on spaces: the ssh program and extra arguments
    /// (default `ssh`).
    pub fn ssh_command(&self) -> Vec<String> {
        let words: Vec<String> = self
            .get("DISTCC_SSH")
            .unwrap_or("")
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect();
        if words.is_empty() {
            vec!["ssh".to_owned()]
        } else {
            words
        }
    }

    /// `DISTCC_NO_REWRITE_CROSS`: set to anything disables cross rewriting.
    pub fn no_rewrite_cross(&self) -> bool {
        self.is_set("DISTCC_NO_REWRITE_CROSS")
    }

    /// `DISTCC_SOCKS_PROXY`: a UNIX socket path or `host[:port]` of a SOCKS5
    /// proxy (Gentoo's patch, used by Portage's network sandbox).
    pub fn socks_proxy(&self) -> Option<String> {
        match self.get("DISTCC_SOCKS_PROXY") {
            Some(v) if !v.trim().is_empty() => Some(v.trim().to_owned()),
            _ => None,
        }
    }

    /// `DISTCC_STATS=0` stops the client from appending its record of each
    /// compile to `$DISTCC_DIR/stats/jobs` (read by `distccmon-text
    /// --summary` and `distccmon-tui`); on by default. Our addition.
    pub fn stats_records(&self) -> bool {
        self.bool_or("DISTCC_STATS", true)
    }

    /// `NO_COLOR` (no-color.org): set and not empty, `distccmon-tui` uses
    /// no colours.
    pub fn no_color(&self) -> bool {
        self.get_os("NO_COLOR").is_some_and(|v| !v.is_empty())
    }

    /// `DISTCC_NATIVE_LOCAL=1` keeps 3.4's behaviour of compiling
    /// `-march=native`/`-mtune=native` jobs locally instead of resolving
    /// the flags on the client.
    pub fn native_local(&self) -> bool {
        self.bool_or("DISTCC_NATIVE_LOCAL", false)
    }

    /// `DISTCC_COMPILER_CHECK` as set (`refuse`, `warn`, `off`): what the
    /// client does about a host whose compiler differs
    /// (src/compiler_id; docs/extension.md §7).
    pub fn compiler_check(&self) -> Option<&str> {
        self.get("DISTCC_COMPILER_CHECK")
    }

    /// `DISTCC_CPP_DIRECT=0` makes the client run the preprocessor through
    /// the compiler driver every time instead of starting `cc1` directly
    /// (src/client/local/cppfast.rs).
    pub fn cpp_direct(&self) -> bool {
        self.bool_or("DISTCC_CPP_DIRECT", true)
    }

    /// `DISTCC_RACE=0`: never compile a late remote job here too
    /// (src/client/race); on by default.
    pub fn race(&self) -> bool {
        self.bool_or("DISTCC_RACE", true)
    }

    /// Pump mode for `,cpp,lzo` hosts: `DISTCC_PUMP=1` (set by our
    /// `pump`), or a running 3.4 include server (`INCLUDE_SERVER_PORT`),
    /// whose work our client does itself. `DISTCC_PUMP=0` turns it off.
    pub fn pump(&self) -> bool {
        self.bool_or("DISTCC_PUMP", self.is_set("INCLUDE_SERVER_PORT"))
    }

    /// `DISTCC_PUMP_DEBUG_INFO=0`: in plain mode, never send `-g` jobs to
    /// a daemon of ours in pump form (src/client/attempt/upgrade.rs). On
    /// by default: such a daemon lists the system headers each compile
    /// read, and the object is used only if they are this machine's.
    pub fn pump_debug_info(&self) -> bool {
        self.bool_or("DISTCC_PUMP_DEBUG_INFO", true)
    }

    /// `DISTCC_PUMP_CACHE=0` makes every pump-mode job scan its headers
    /// itself instead of sharing what the build's other jobs learned
    /// (src/pump/includes/cache.rs).
    pub fn pump_cache(&self) -> bool {
        self.bool_or("DISTCC_PUMP_CACHE", true)
    }

    /// `DISTCC_MAX_DISCREPANCY`: how many pump jobs of one build may fail
    /// on a server and then compile here before the rest of the build is
    /// preprocessed here (spec §5). Default 1, must be > 0; `Err` carries
    /// the bad text (3.4 exits 101 on it).
    pub fn max_discrepancy(&self) -> Result<u64, String> {
        self.positive_or("DISTCC_MAX_DISCREPANCY", 1, "a positive number")
    }

    /// The directory of this build's pump-mode bookkeeping: where 3.4's
    /// include server has its socket (`INCLUDE_SERVER_PORT`), else the one
    /// our `pump` made (`DISTCC_PUMP_DIR`).
    pub fn pump_dir(&self) -> Option<PathBuf> {
        if let Some(port) = self.get_os("INCLUDE_SERVER_PORT").filter(|p| !p.is_empty()) {
            return Path::new(port).parent().map(Path::to_path_buf);
        }
        self.get_os("DISTCC_PUMP_DIR")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
    }

    /// The recursion level in `_DISTCC_SAFEGUARD` (spec §3.2): C `atoi`,
    /// but set to something non-numeric counts as 1; unset is 0.
    pub fn safeguard_level(&self) -> u32 {
        match self.atoi("_DISTCC_SAFEGUARD") {
            None => 0,
            Some(n) if n > 0 => n.min(9) as u32,
            Some(_) => 1,
        }
    }
}

/// C `atoi`: skip leading whitespace, optional sign, then as many decimal
/// digits as follow; no digits gives 0. Saturates instead of overflowing.
pub fn atoi(text: &str) -> i64 {
    let t = text.trim_start();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut n: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        n = n.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if neg { -n } else { n }
}

#[cfg(test)]
#[path = "env_tests.rs"]
mod tests;
