//! The compilers' sandbox (issue #10, part 2) against a real daemon on
//! loopback with real gcc: hostile compiles that try to read server files,
//! write outside the job, reach the network, or exhaust processes, memory
//! or disk; the death of compilers with the daemon and the removal of a
//! dead daemon's job directories; the options that weaken the sandbox.
//!
//! The hostile cases are one table, [`CASES`] (to be merged into the
//! hostile-request corpus). After each case the daemon must answer a valid
//! compile and leave no file in its TMPDIR. `confinement_cases_leak_*`
//! runs the file and network cases with `--no-sandbox` and requires every
//! one to leak: the checks can fail.

use std::io::{ErrorKind, Read};
use std::net::{TcpListener, UdpSocket};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use distcc::protocol::{
    Decoded, FileEntry, FileKind, Limits, Request, RequestHead, Response, decode_response,
};
use nix::sys::signal::Signal;

use super::harness::{DEBIAN_DISTCC, Daemon, Farm, GOOD_V1, Kind, Opts, exchange, text};
use crate::support::eventually;

/// A server file a compiler must not read: its contents may not reach a
/// reply. World-readable, so only the sandbox stands in the way.
const SECRET: &str = "secret.txt";
const SECRET_TEXT: &str = "TOP-SECRET-0x5eb1";
/// Where hostile compilers try to write (outside any job directory).
const OUTSIDE: &str = "outside";

/// What a hostile compile is.
#[derive(Clone, Copy, Debug)]
enum Attack {
    /// gcc compiles C `source` (protocol 1); `{secret}` stands for the
    /// secret's path.
    Source(&'static str),
    /// A protocol 3 (pump) compile of `p.c` holding `source`, with extra
    /// arguments before `-c`.
    Pump(&'static str, &'static [&'static str]),
    /// A whitelisted "compiler" script (bash) with this body; `{secret}`,
    /// `{outside}`, `{port}` are filled in, `$out` is the `-o` argument.
    Script(&'static str),
}

/// How to tell the attack failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    /// Neither the secret nor /etc/passwd's first line reaches the reply.
    NoLeak,
    /// Nothing appears under `outside/`.
    NoWrite,
    /// The test's TCP and UDP listeners on 127.0.0.1 hear nothing.
    NoNetwork,
    /// The compiler reports (on stdout) at most this many things done.
    AtMost(u64),
    /// Nothing the compile started is still running after the reply.
    NothingLeftRunning,
}

pub struct Case {
    name: &'static str,
    attack: Attack,
    check: Check,
    /// Extra daemon options.
    args: &'static [&'static str],
    /// Stopped by Landlock/seccomp (so `--no-sandbox` lets it through);
    /// false for what resource limits stop.
    confinement: bool,
}

const PASSWD_HEAD: &str = "root:x:0:0:";

/// The hostile cases.
pub const CASES: &[Case] = &[
    Case {
        name: "incbin /etc/passwd",
        attack: Attack::Source(
            "asm(\".section .rodata\\n.incbin \\\"/etc/passwd\\\"\\n\");\nint x;\n",
        ),
        check: Check::NoLeak,
        args: &[],
        confinement: true,
    },
    Case {
        name: "incbin of a server file beside the farm",
        attack: Attack::Source(
            "asm(\".section .rodata\\n.incbin \\\"{secret}\\\"\\n\");\nint x;\n",
        ),
        check: Check::NoLeak,
        args: &[],
        confinement: true,
    },
    Case {
        name: "pump: #include \"/etc/passwd\"",
        attack: Attack::Pump("#include \"/etc/passwd\"\nint x;\n", &[]),
        check: Check::NoLeak,
        args: &[],
        confinement: true,
    },
    Case {
        name: "pump: #include of the secret by its absolute path",
        attack: Attack::Pump("#include \"{secret}\"\nint x;\n", &[]),
        check: Check::NoLeak,
        args: &[],
        confinement: true,
    },
    Case {
        name: "pump: #include \"../../../...\" out of the mirror",
        attack: Attack::Pump(
            "#include \"../../../../../../../../../../../../../../../../../../../../etc/passwd\"\nint x;\n",
            &[],
        ),
        check: Check::NoLeak,
        args: &[],
        confinement: true,
    },
    Case {
        name: "pump: -I../.. out of the mirror",
        attack: Attack::Pump(
            "#include \"etc/passwd\"\nint x;\n",
            &["-I../../../../../../../../../../../../../../../../../../../.."],
        ),
        check: Check::NoLeak,
        args: &[],
        // The argument checks refuse a relative path that climbs above
        // the mirror's root before the sandbox is needed.
        confinement: false,
    },
    Case {
        name: "compiler copies a server file into its object",
        attack: Attack::Script("cat {secret} /etc/passwd > \"$out\""),
        check: Check::NoLeak,
        args: &[],
        confinement: true,
    },
    Case {
        name: "compiler runs /bin/sh to read a server file",
        attack: Attack::Script("/bin/sh -c \"cat {secret} > '$out'\""),
        check: Check::NoLeak,
        args: &[],
        confinement: true,
    },
    Case {
        name: "compiler writes outside the job directory",
        attack: Attack::Script("echo pwned > {outside}/written; gcc -c -x c /dev/null -o \"$out\""),
        check: Check::NoWrite,
        args: &[],
        confinement: true,
    },
    Case {
        name: "compiler makes a directory and a link outside",
        attack: Attack::Script("mkdir {outside}/dir; ln -s /etc/passwd {outside}/link"),
        check: Check::NoWrite,
        args: &[],
        confinement: true,
    },
    Case {
        name: "compiler opens a TCP connection",
        attack: Attack::Script("exec 3<>/dev/tcp/127.0.0.1/{port} && echo hello >&3"),
        check: Check::NoNetwork,
        args: &[],
        confinement: true,
    },
    Case {
        name: "compiler sends a UDP datagram",
        attack: Attack::Script("echo hello > /dev/udp/127.0.0.1/{port}"),
        check: Check::NoNetwork,
        args: &[],
        confinement: true,
    },
    Case {
        name: "fork bomb",
        attack: Attack::Script(
            "python3 -c '
import os, time
n = 0
for _ in range(300):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    n += 1
print(n)'",
        ),
        // 30 more processes than the daemon's user had at start-up: others
        // may exit meanwhile, hence the slack (3.4 and no limit: 300).
        check: Check::AtMost(120),
        args: &["--job-process-limit", "30"],
        confinement: false,
    },
    Case {
        name: "background processes outlive the compiler",
        attack: Attack::Script("(exec sleep 41.25) & (exec sleep 41.5) & echo started"),
        check: Check::NothingLeftRunning,
        args: &[],
        confinement: false,
    },
    Case {
        name: "memory hog",
        attack: Attack::Script(
            "python3 -c 'b = bytearray(1 << 30); print(1 << 30)' 2>/dev/null || echo 0",
        ),
        check: Check::AtMost(256 << 20),
        args: &["--job-memory-limit", "256"],
        confinement: false,
    },
    Case {
        name: "file-size hog",
        attack: Attack::Script(
            "python3 -c '
import os
n = 0
try:
    with open(os.environ[\"TMPDIR\"] + \"/big\", \"wb\") as f:
        for _ in range(64):
            f.write(b\"x\" * (1 << 20)); f.flush(); n += 1 << 20
except OSError:
    pass
print(n)'",
        ),
        check: Check::AtMost(1 << 20),
        args: &["--job-file-size-limit", "1"],
        confinement: false,
    },
];

/// The farm's paths a case needs.
struct Ctx<'a> {
    farm: &'a Farm,
    tcp: TcpListener,
    udp: UdpSocket,
}

impl Ctx<'_> {
    fn new(farm: &Farm) -> Ctx<'_> {
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

    fn fill(&self, text: &str) -> String {
        text.replace("{secret}", &self.farm.path(SECRET).display().to_string())
            .replace("{outside}", &self.farm.path(OUTSIDE).display().to_string())
            .replace("{port}", &self.tcp.local_addr().unwrap().port().to_string())
    }
}

/// The whitelisted name of case `i`'s script compiler.
fn script_name(i: usize) -> String {
    format!("hostile{i}")
}

/// Install case `i`'s script as a compiler on the daemon's PATH (the
/// farm's `dbin`) and in its whitelist.
fn install_script(ctx: &Ctx, i: usize, body: &str) {
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

fn v1_request(argv: &[&str], source: &[u8]) -> Vec<u8> {
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
fn pump_request(farm: &Farm, source: &str, flags: &[&str]) -> Vec<u8> {
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
fn response(reply: &[u8], pump: bool) -> Option<Response> {
    match decode_response(reply, &Limits::default(), pump) {
        Ok(Decoded::Done(r, _)) => Some(r),
        _ => None,
    }
}

/// Processes whose command line mentions `needle`.
fn running(needle: &str) -> Vec<i32> {
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
fn run_case(ctx: &Ctx, d: &Daemon, i: usize, case: &Case) -> Result<(), String> {
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
fn still_serves(farm: &Farm, d: &Daemon, case: &str) {
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
fn run_cases(tag: &str, extra: &[&str], which: impl Fn(&Case) -> bool) -> Vec<String> {
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

#[test]
fn hostile_compiles_are_confined() {
    crate::require_tool!("gcc");
    crate::require_tool!("python3");
    let failures = run_cases("hostile", &[], |_| true);
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The same file and network cases with `--no-sandbox`: each must get
/// through, or its check could not tell.
#[test]
fn confinement_cases_leak_without_the_sandbox() {
    crate::require_tool!("gcc");
    let failures = run_cases("nosandbox", &["--no-sandbox"], |c| c.confinement);
    let leaked: Vec<&str> = CASES
        .iter()
        .filter(|c| c.confinement)
        .map(|c| c.name)
        .filter(|name| !failures.iter().any(|f| f.starts_with(&format!("{name}:"))))
        .collect();
    assert!(
        leaked.is_empty(),
        "not caught without the sandbox: {leaked:?}"
    );
}

/// `kill -9` of the daemon during a long compile: the compiler and its
/// child are gone within two seconds, and the next daemon removes the job
/// directory left behind, but not one a live daemon sharing TMPDIR uses.
#[test]
fn kill_9_takes_the_compilers_along_and_a_restart_cleans_up() {
    let farm = Farm::new("kill9");
    let ctx = Ctx::new(&farm);
    let run = farm.path("run");
    install_script(
        &ctx,
        900,
        &format!(
            "echo $$ > {0}/tree.pid; sleep 300 & echo $! > {0}/tree.child; wait",
            run.display()
        ),
    );
    // A live daemon sharing the TMPDIR, with a job directory of its own.
    let live = farm.daemon(Kind::Ours, &Opts::default());
    assert!(exchange(live.port, GOOD_V1, false).starts_with(b"DONE00000001STAT00000000"));
    let dirs = || -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(farm.path("dtmp"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        v.sort();
        v
    };
    let live_dirs = dirs();
    assert_eq!(live_dirs.len(), 1, "{live_dirs:?}");

    let mut d = farm.daemon(Kind::Ours, &Opts::default());
    let port = d.port;
    let job = std::thread::spawn(move || {
        exchange(
            port,
            &v1_request(&[&script_name(900), "-c", "x.c", "-o", "x.o"], b"int x;\n"),
            false,
        )
    });
    let pid_of = |name: &str| -> i32 {
        let path = run.join(name);
        assert!(eventually(
            || std::fs::read_to_string(&path).is_ok_and(|t| t.ends_with('\n'))
        ));
        std::fs::read_to_string(&path)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let (compiler, child) = (pid_of("tree.pid"), pid_of("tree.child"));
    let stale = dirs();
    assert_eq!(stale.len(), 2, "{stale:?}");
    d.signal(Signal::SIGKILL);
    let alive = |pid: i32| {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        !stat.is_empty() && !stat.contains(") Z ")
    };
    let deadline = Instant::now() + Duration::from_secs(2);
    while (alive(compiler) || alive(child)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(compiler), "the compiler outlived the daemon");
    assert!(!alive(child), "the compiler's child outlived the daemon");
    let _ = job.join();
    assert_eq!(
        d.wait_exit(Duration::from_secs(5)).map(|s| s.success()),
        Some(false)
    );
    // The dead daemon's directory is still there (with the job's files).
    assert_eq!(dirs(), stale);

    let restarted = farm.daemon(Kind::Ours, &Opts::default());
    assert!(
        restarted.wait_log("removed the stale job directory"),
        "{}",
        restarted.log_text()
    );
    assert_eq!(dirs(), live_dirs, "the live daemon's directory must stay");
    assert!(exchange(live.port, GOOD_V1, false).starts_with(b"DONE00000001STAT00000000"));
    assert!(exchange(restarted.port, GOOD_V1, false).starts_with(b"DONE00000001STAT00000000"));
}

/// A kernel without Landlock (simulated): one warning, and jobs still run
/// with what is left (seccomp still refuses the network).
#[test]
fn without_landlock_a_warning_and_jobs_still_work() {
    crate::require_tool!("gcc");
    let farm = Farm::new("nolandlock");
    let ctx = Ctx::new(&farm);
    let d = farm.daemon(
        Kind::Ours,
        &Opts {
            args: vec!["--sandbox-landlock-abi".into(), "0".into()],
            ..Opts::default()
        },
    );
    still_serves(&farm, &d, "first compile");
    let log = d.log_text();
    assert_eq!(
        log.matches("this kernel has no Landlock").count(),
        1,
        "{log}"
    );
    let tcp = CASES
        .iter()
        .position(|c| c.name == "compiler opens a TCP connection")
        .unwrap();
    run_case(&ctx, &d, tcp, &CASES[tcp]).unwrap();
    // Without Landlock, files are not confined: the knob did take effect.
    let read = CASES
        .iter()
        .position(|c| c.name == "compiler copies a server file into its object")
        .unwrap();
    assert!(run_case(&ctx, &d, read, &CASES[read]).is_err());
    still_serves(&farm, &d, "after the cases");
}

/// `--sandbox-allow-path DIR` opens DIR (and only it) to the compiler;
/// `--no-sandbox` is announced once.
#[test]
fn allow_path_and_no_sandbox_behave_as_documented() {
    crate::require_tool!("gcc");
    let farm = Farm::new("allowpath");
    let ctx = Ctx::new(&farm);
    let allowed = farm.path("ccache");
    std::fs::create_dir_all(&allowed).unwrap();
    std::fs::set_permissions(&allowed, PermissionsExt::from_mode(0o777)).unwrap();
    install_script(
        &ctx,
        901,
        &format!(
            "echo cached > {}/entry; echo stray > {{outside}}/stray; gcc -c -x c /dev/null -o \"$out\"",
            allowed.display()
        ),
    );
    let req = v1_request(&[&script_name(901), "-c", "x.c", "-o", "x.o"], b"int x;\n");
    let d = farm.daemon(
        Kind::Ours,
        &Opts {
            args: vec!["--sandbox-allow-path".into(), allowed.display().to_string()],
            ..Opts::default()
        },
    );
    let r = response(&exchange(d.port, &req, false), false).expect("a reply");
    assert_eq!(r.status, 0, "{}", text(&r.stderr));
    assert!(
        allowed.join("entry").exists(),
        "the allowed directory was not writable"
    );
    assert!(!farm.path(OUTSIDE).join("stray").exists(), "wrote outside");
    assert!(!d.log_text().contains("--no-sandbox"));
    drop(d);

    let d = farm.daemon(
        Kind::Ours,
        &Opts {
            args: vec!["--no-sandbox".into()],
            ..Opts::default()
        },
    );
    let r = response(&exchange(d.port, &req, false), false).expect("a reply");
    assert_eq!(r.status, 0, "{}", text(&r.stderr));
    assert!(
        farm.path(OUTSIDE).join("stray").exists(),
        "--no-sandbox still confined"
    );
    assert_eq!(
        d.log_text()
            .matches("--no-sandbox: compilers run without")
            .count(),
        1
    );
}

/// Sandboxed builds equal local ones: gcc, g++, clang and the aarch64
/// cross gcc through our client, in protocols 1, 2 and 3 (pump).
#[test]
fn sandboxed_builds_match_local_ones() {
    use crate::client::harness::{Farm as ClientFarm, assert_same};
    crate::require_tool!("gcc");
    crate::require_tool!("g++");
    crate::require_tool!("clang");
    crate::require_tool!("aarch64-linux-gnu-gcc");
    let farm = ClientFarm::new("sandboxed-builds");
    for cc in ["clang", "clang++", "aarch64-linux-gnu-gcc"] {
        symlink(format!("/usr/bin/{cc}"), farm.path("masq").join(cc)).unwrap();
    }
    farm.write(
        "hello.c",
        "#include <stdio.h>\nint main(void) { puts(\"hi\"); return 0; }\n",
    );
    farm.write(
        "hello.cc",
        "#include <vector>\nint n() { std::vector<int> v{1, 2}; return v.size(); }\n",
    );
    farm.write("cross.c", "int twice(int x) { return 2 * x; }\n");
    let d = farm.daemon(Kind::Ours);
    let mut remote = 0;
    for (cc, src) in [
        ("gcc", "hello.c"),
        ("g++", "hello.cc"),
        ("clang", "hello.c"),
        ("clang++", "hello.cc"),
        ("aarch64-linux-gnu-gcc", "cross.c"),
    ] {
        for (hosts, env) in [
            (d.host(""), vec![]),
            (d.host(",lzo"), vec![]),
            (d.host(",cpp,lzo"), vec![("DISTCC_PUMP", "1")]),
        ] {
            let args = [cc, "-O2", "-c", src, "-o", "remote.o"];
            let mut env = env;
            env.push(("DISTCC_FALLBACK", "0"));
            let out = farm.distcc(&hosts, &args, &env);
            assert!(
                out.status.success(),
                "{cc} via {hosts}: {}\n{}",
                text(&out.stderr),
                d.log_text()
            );
            remote += 1;
            let local = [cc, "-O2", "-c", src, "-o", "local.o"];
            assert!(farm.local(&local).status.success());
            assert_same(&farm.work().join("remote.o"), &farm.work().join("local.o"));
        }
    }
    assert_eq!(d.wait_compiles(remote), remote, "{}", d.log_text());
}

/// A host that forbids seccomp(2) and the Landlock calls to distccd (as
/// systemd's `SystemCallFilter=@system-service` does): the start-up probe
/// drops those layers with a warning, and compiles still work, with the
/// rest of the sandbox (the limits) in place.
#[test]
fn a_host_that_forbids_seccomp_and_landlock_gets_warnings_not_failures() {
    use crate::support::{GroupChild, bin, free_port, listening};
    crate::require_tool!("python3");
    crate::require_tool!("gcc");
    if std::env::consts::ARCH != "x86_64" {
        return; // the filter below uses x86-64 system-call numbers
    }
    let farm = Farm::new("hostfilter");
    // no_new_privs + a seccomp filter refusing seccomp (317) and
    // landlock_* (444-446) with EPERM, then exec distccd.
    let wrapper = farm.path("filter.py");
    std::fs::write(
        &wrapper,
        r#"import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
def ins(code, k, jt=0, jf=0): return struct.pack("HBBI", code, jt, jf, k)
prog = [ins(0x20, 0)]
for nr in (317, 444, 445, 446):
    prog += [ins(0x15, nr, 0, 1), ins(0x06, 0x00050000 | 1)]
prog.append(ins(0x06, 0x7fff0000))
buf = ctypes.create_string_buffer(b"".join(prog))
class Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
p = Prog(len(prog), ctypes.addressof(buf))
assert libc.prctl(38, 1, 0, 0, 0) == 0
assert libc.prctl(22, 2, ctypes.byref(p), 0, 0) == 0
os.execv(sys.argv[1], sys.argv[1:])
"#,
    )
    .unwrap();
    let log = farm.path("daemon.log");
    std::fs::write(&log, "").unwrap();
    std::fs::set_permissions(&log, PermissionsExt::from_mode(0o666)).unwrap();
    let port = free_port();
    let _daemon = GroupChild::spawn(
        std::process::Command::new("python3")
            .arg(&wrapper)
            .arg(bin("distccd"))
            .args([
                "--daemon",
                "--no-detach",
                "--lifetime",
                "120",
                "--log-level",
                "info",
            ])
            .args(["--listen", "127.0.0.1", "--allow", "127.0.0.1"])
            .args(["--port", &port.to_string()])
            .arg("--log-file")
            .arg(&log)
            .arg("--masquerade-dir")
            .arg(farm.path("masq"))
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("TMPDIR", farm.path("dtmp"))
            .env("HOME", farm.path("home")),
    )
    .unwrap();
    assert!(
        eventually(|| listening(port)),
        "{}",
        text(&std::fs::read(&log).unwrap())
    );
    let reply = exchange(port, GOOD_V1, false);
    let log_text = text(&std::fs::read(&log).unwrap());
    assert!(
        reply.starts_with(b"DONE00000001STAT00000000"),
        "{:?}\n{log_text}",
        text(&reply)
    );
    assert!(
        log_text.contains("cannot apply the seccomp filter"),
        "{log_text}"
    );
    assert!(
        log_text.contains("this kernel has no Landlock"),
        "{log_text}"
    );
}
