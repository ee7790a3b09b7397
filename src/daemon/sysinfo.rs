//! System figures for the stats page (spec §4.7), read from `/proc` and
//! `statvfs` the way 3.4 reads them:
//!
//! * load: the running count of `/proc/loadavg` and its three averages;
//! * processes in state D and the largest RSS, from `/proc/*/stat`,
//!   skipping compilers (names ending in `cc` or `++`);
//! * the sectors read and written so far on the first `sd*`, `hd*`,
//!   `vd*`, `nvme*n*` or `xvd*` whole disk, from `/proc/diskstats` (the
//!   rate over a window is [`super::iorate`]'s business);
//! * free space in `$TMPDIR`, in MB.

use std::path::Path;

/// System figures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct System {
    /// Runnable tasks now.
    pub running: u32,
    /// Load averages over 1, 5 and 15 minutes.
    pub load: [f64; 3],
    /// Processes in uninterruptible sleep.
    pub procs_d: u32,
    /// Largest resident set among non-compiler processes, in KiB.
    pub max_rss_kb: u64,
    /// Its name.
    pub max_rss_name: String,
    /// Disk sectors per second over the last minute (-1: unknown); filled
    /// in from [`super::iorate::IoWindow`].
    pub io_rate: i64,
    /// Free space where jobs run, in MiB.
    pub free_mb: u64,
}

/// Reads the system figures.
#[derive(Debug, Default)]
pub struct Sampler;

/// Sectors read and written so far on the first whole disk, if any.
pub fn disk_sectors_now() -> Option<u64> {
    std::fs::read_to_string("/proc/diskstats")
        .ok()
        .and_then(|t| disk_sectors(&t))
}

/// The one-minute load average now (for the extension's status).
pub fn load1() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut sys = System::default();
    parse_loadavg(&text, &mut sys);
    Some(sys.load[0])
}

impl Sampler {
    /// Read everything now (`io_rate` stays -1).
    pub fn sample(&self, tmpdir: &Path) -> System {
        let mut sys = System {
            io_rate: -1,
            ..System::default()
        };
        if let Ok(text) = std::fs::read_to_string("/proc/loadavg") {
            parse_loadavg(&text, &mut sys);
        }
        scan_processes(&mut sys);
        if let Ok(vfs) = nix::sys::statvfs::statvfs(tmpdir) {
            sys.free_mb = vfs.blocks_available() * vfs.fragment_size() / (1024 * 1024);
        }
        sys
    }
}

fn parse_loadavg(text: &str, sys: &mut System) {
    let mut parts = text.split_whitespace();
    for slot in sys.load.iter_mut() {
        *slot = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0.0);
    }
    sys.running = parts
        .next()
        .and_then(|p| p.split('/').next())
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
}

fn scan_processes(sys: &mut System) {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return;
    };
    let page_kb = 4; // Linux on every architecture distcc farms use.
    for entry in dir.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        if let Some((comm, state, rss_pages)) = parse_stat(&stat) {
            if comm.ends_with("cc") || comm.ends_with("++") {
                continue;
            }
            if state == 'D' {
                sys.procs_d += 1;
            }
            let kb = rss_pages * page_kb;
            if kb > sys.max_rss_kb {
                sys.max_rss_kb = kb;
                sys.max_rss_name = comm.to_string();
            }
        }
    }
}

/// (comm, state, rss in pages) from a `/proc/PID/stat` line.
fn parse_stat(line: &str) -> Option<(&str, char, u64)> {
    let open = line.find('(')?;
    let close = line.rfind(')')?;
    let comm = &line[open + 1..close];
    let mut rest = line[close + 1..].split_whitespace();
    let state = rest.next()?.chars().next()?;
    // Fields after the state: rss is field 24 of stat, i.e. the 21st here.
    let rss = rest.nth(20)?.parse().ok()?;
    Some((comm, state, rss))
}

/// Sectors read + written of the first whole disk.
fn disk_sectors(text: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        let name = *f.get(2)?;
        let whole = (name.starts_with("sd")
            || name.starts_with("hd")
            || name.starts_with("vd")
            || name.starts_with("xvd"))
            && !name.ends_with(|c: char| c.is_ascii_digit())
            || (name.starts_with("nvme") && !name.contains('p'));
        if !whole {
            return None;
        }
        let read: u64 = f.get(5)?.parse().ok()?;
        let written: u64 = f.get(9)?.parse().ok()?;
        Some(read + written)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loadavg_and_stat_lines_parse() {
        let mut sys = System::default();
        parse_loadavg("0.52 0.31 0.20 3/412 99812\n", &mut sys);
        assert_eq!(sys.load, [0.52, 0.31, 0.20]);
        assert_eq!(sys.running, 3);
        let stat = "1234 (my (odd) proc) S 1 1234 1234 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 \
                    100 12345678 777 18446744073709551615";
        assert_eq!(parse_stat(stat), Some(("my (odd) proc", 'S', 777)));
    }

    #[test]
    fn first_whole_disk_is_used() {
        let text = "   8       0 sda 100 0 2000 0 50 0 3000 0\n   8       1 sda1 1 0 5 0 1 0 7 0\n";
        assert_eq!(disk_sectors(text), Some(5000));
        let nvme = " 259 0 nvme0n1 1 0 10 0 1 0 20 0\n 259 1 nvme0n1p1 1 0 1 0 1 0 1 0\n";
        assert_eq!(disk_sectors(nvme), Some(30));
        assert_eq!(disk_sectors("   7 0 loop0 1 0 2 0 1 0 2 0\n"), None);
    }

    #[test]
    fn sampling_this_machine_gives_plausible_figures() {
        let sys = Sampler.sample(Path::new("/tmp"));
        assert!(sys.max_rss_kb > 0, "{sys:?}");
        assert!(!sys.max_rss_name.is_empty());
    }
}
