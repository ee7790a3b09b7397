//! Running a hostile case against a daemon: the scripts it installs, the
//! requests it sends, the checks it makes afterwards.

use std::io::{ErrorKind, Read};
use std::net::{TcpListener, UdpSocket};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::time::{Duration, Instant};

use distcc::protocol::{
    Decoded, FileEntry, FileKind, Limits, Request, RequestHead, Response, decode_response,
};
use nix::sys::signal::Signal;

use super::super::harness::{DEBIAN_DISTCC, Daemon, Farm, GOOD_V1, Kind, Opts, exchange, text};
use super::cases::{Attack, CASES, Case, Check, OUTSIDE, PASSWD_HEAD, SECRET, SECRET_TEXT};
use crate::support::eventually;

/// The farm's paths a case needs.
pub(super) struct Ctx<'a> {
    farm: &'a Farm,
    tcp: TcpListener,
    udp: UdpSocket,
}

impl Ctx<'_> {
    pub(super) fn new(farm: &Farm) -> Ctx<'_> {
        let secret = farm.path(SECRET);
        std::fs::write(&secret, SECRET_TEXT).unwrap();
        std::fs::set_permissions(&secret, PermissionsExt::from_mode(0o644)).unwrap();
        std::fs::create_dir_all(farm.path(OUTSIDE)).unwrap();
        std::fs::set_permissions(farm.path(OUTSIDE), PermissionsExt::from_mode(0o777)).unwrap();
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        tcp.set_nonblocking(true).unwrap();
        // UDP on the same port number, so one {port} serves both.
        let port = tcp.local_addr().unwrap().port();
        let udp = UdpSocket::bind(("127.0.0.1", port)).unwrap();
        udp.set_nonblocking(true).unwrap();
        Ctx { farm, tcp, udp }
    }

    pub(super) fn fill(&self, text: &str) -> String {
        text.replace("{secret}", &self.farm.path(SECRET).display().to_string())
            .replace("{outside}", &self.farm.path(OUTSIDE).display().to_string())
            .replace("{port}", &self.tcp.local_addr().unwrap().port().to_string())
    }
}

/// The whitelisted name of case `i`'s script compiler.
pub(super) fn script_name(i: usize) -> String {
    format!("hostile{i}")
}

/// Install case `i`'s script as a compiler on the daemon's PATH (the
/// farm's `dbin`) and in its whitelist.
pub(super) fn install_script(ctx: &Ctx, i: usize, body: &str) {
    let name = script_name(i);
    let script = ctx.farm.path("dbin").join(&name);
    let text = format!(
        "#!/bin/bash\nout=\nwhile [ $# -gt 0 ]; do [ \"$1\" = -o ] && out=$2; shift; done\n{}\nexit 0\n",
        ctx.fill(body)
    );
    std::fs::write(&script, text).unwrap();
    std::fs::set_permissions(&script, PermissionsExt::from_mode(0o755)).unwrap();
    let link = ctx.farm.path("masq").join(&name);
    if !link.exists() {
        symlink(DEBIAN_DISTCC, link).unwrap();
    }
}

pub(super) fn v1_request(argv: &[&str], source: &[u8]) -> Vec<u8> {
    Request {
        head: RequestHead {
            version: 1,
            cwd: None,
            argv: argv.iter().map(|a| a.as_bytes().to_vec()).collect(),
        },
        files: Vec::new(),
        source: source.to_vec(),
    }
    .encode()
}

/// A pump request compiling `p.c` (holding `source`) in the farm's source
/// directory, as 3.4's include server sends it (with its link to the
/// server's system headers).
pub(super) fn pump_request(farm: &Farm, source: &str, flags: &[&str]) -> Vec<u8> {
    let src = farm.src().join("p.c");
    std::fs::write(&src, source).unwrap();
    let up = "../".repeat(22);
    let files = vec![
        FileEntry {
            name: src.as_os_str().as_bytes().to_vec(),
            kind: FileKind::File(source.as_bytes().to_vec()),
        },
        FileEntry {
            name: b"/usr/include".to_vec(),
            kind: FileKind::Link(format!("{up}usr/include").into_bytes()),
        },
    ];
    let mut argv: Vec<Vec<u8>> = vec![b"gcc".to_vec()];
    argv.extend(flags.iter().map(|f| f.as_bytes().to_vec()));
    argv.extend([&b"-c"[..], b"p.c", b"-o", b"p.o"].map(<[u8]>::to_vec));
    Request {
        head: RequestHead {
            version: 3,
            cwd: Some(farm.src().as_os_str().as_bytes().to_vec()),
            argv,
        },
        files,
        source: Vec::new(),
    }
    .encode()
}

/// The decoded reply (None: the daemon refused, closing without one).
pub(super) fn response(reply: &[u8], pump: bool) -> Option<Response> {
    match decode_response(reply, &Limits::default(), pump) {
        Ok(Decoded::Done(r, _)) => Some(r),
        _ => None,
    }
}

/// Processes whose command line mentions `needle`.
pub(super) fn running(needle: &str) -> Vec<i32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        if text(&cmd).contains(needle) && !stat.contains(") Z ") {
            out.push(pid);
        }
    }
    out
}

/// Run case `i` against `d`; Err says what got through.
pub(super) fn run_case(ctx: &Ctx, d: &Daemon, i: usize, case: &Case) -> Result<(), String> {
    let farm = ctx.farm;
    let (reply, pump) = match case.attack {
        Attack::Source(src) => {
            let src = ctx.fill(src);
            let req = v1_request(&["gcc", "-c", "x.c", "-o", "x.o"], src.as_bytes());
            (exchange(d.port, &req, false), false)
        }
        Attack::Pump(src, flags) => {
            let req = pump_request(farm, &ctx.fill(src), flags);
            (exchange(d.port, &req, false), true)
        }
        Attack::Script(body) => {
            install_script(ctx, i, body);
            let name = script_name(i);
            let req = v1_request(&[&name, "-c", "x.c", "-o", "x.o"], b"int x;\n");
            (exchange(d.port, &req, false), false)
        }
    };
    let r = response(&reply, pump).unwrap_or_default();
    let all = [
        &r.object[..],
        &r.stdout,
        &r.stderr,
        &r.dotd.clone().unwrap_or_default(),
    ]
    .concat();
    let all = text(&all);
    match case.check {
        Check::NoLeak => {
            for secret in [SECRET_TEXT, PASSWD_HEAD] {
                if all.contains(secret) {
                    return Err(format!("{secret:?} reached the reply"));
                }
            }
        }
        Check::NoWrite => {
            let written: Vec<_> = std::fs::read_dir(farm.path(OUTSIDE))
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .collect();
            for p in &written {
                let _ = std::fs::remove_file(p).or_else(|_| std::fs::remove_dir(p));
            }
            if !written.is_empty() {
                return Err(format!("wrote {written:?}"));
            }
        }
        Check::NoNetwork => {
            let mut heard = Vec::new();
            if let Ok((mut s, _)) = ctx.tcp.accept() {
                let mut buf = Vec::new();
                s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
                let _ = s.read_to_end(&mut buf);
                heard.push(format!("TCP {:?}", text(&buf)));
            }
            let mut buf = [0u8; 64];
            match ctx.udp.recv(&mut buf) {
                Ok(n) => heard.push(format!("UDP {:?}", text(&buf[..n]))),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => panic!("udp: {e}"),
            }
            if !heard.is_empty() {
                return Err(format!("the listener heard {heard:?}"));
            }
        }
        Check::AtMost(max) => {
            let n: u64 = text(&r.stdout).trim().parse().map_err(|_| {
                format!(
                    "no count on stdout: {:?} {:?}",
                    text(&r.stdout),
                    text(&r.stderr)
                )
            })?;
            if n > max {
                return Err(format!("did {n}, more than {max}"));
            }
        }
        Check::NothingLeftRunning => {
            // The background sleeps, by their unusual arguments.
            let left = || {
                let mut v = running("sleep\u{0}41.25\u{0}");
                v.extend(running("sleep\u{0}41.5\u{0}"));
                v
            };
            let deadline = Instant::now() + Duration::from_secs(2);
            while !left().is_empty() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let pids = left();
            if !pids.is_empty() {
                for pid in pids {
                    let _ =
                        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), Signal::SIGKILL);
                }
                return Err("background processes still run after the reply".into());
            }
        }
    }
    Ok(())
}

/// After every case: the daemon still compiles, and keeps no file.
#[track_caller]
pub(super) fn still_serves(farm: &Farm, d: &Daemon, case: &str) {
    let reply = exchange(d.port, GOOD_V1, false);
    assert!(
        reply.starts_with(b"DONE00000001STAT00000000"),
        "after {case:?}: {:?}\n{}",
        text(&reply),
        d.log_text()
    );
    assert!(
        eventually(|| farm.daemon_temp_files().is_empty()),
        "after {case:?}: files left: {:?}",
        farm.daemon_temp_files()
    );
}

/// Run every case whose filter passes against a daemon started with
/// `extra` options (and the case's own); the failures.
pub(super) fn run_cases(tag: &str, extra: &[&str], which: impl Fn(&Case) -> bool) -> Vec<String> {
    let farm = Farm::new(tag);
    let ctx = Ctx::new(&farm);
    let mut failures = Vec::new();
    // Cases with the same daemon options share a daemon.
    let mut i = 0;
    while i < CASES.len() {
        let args = CASES[i].args;
        let group: Vec<usize> = (i..CASES.len())
            .take_while(|&j| CASES[j].args == args)
            .filter(|&j| which(&CASES[j]))
            .collect();
        let next = (i..CASES.len())
            .find(|&j| CASES[j].args != args)
            .unwrap_or(CASES.len());
        if !group.is_empty() {
            let mut all: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
            all.extend(args.iter().map(|s| s.to_string()));
            let d = farm.daemon(
                Kind::Ours,
                &Opts {
                    args: all,
                    ..Opts::default()
                },
            );
            for j in group {
                let case = &CASES[j];
                if let Err(e) = run_case(&ctx, &d, j, case) {
                    failures.push(format!("{}: {e}", case.name));
                }
                still_serves(&farm, &d, case.name);
            }
        }
        i = next;
    }
    failures
}
