//! request → compile → reply without gcc: [`job::serve`] driven through
//! an in-memory pipe with a fake compiler (style.md example 14).

use std::ffi::OsString;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

use super::exec::{BoxFuture, ExecSpec, Finished, Launcher, Running};
use super::job::{self, JobSettings, Shared};
use super::policy::Policy;
use super::stats::Stats;
use super::summary::{Category, Summary};
use crate::protocol::{Decoded, FileKind, Limits, Request, RequestHead, Response, decode_response};

mod protocol3;

use protocol3::pump;

/// What the fake compiler does.
#[derive(Clone, Debug)]
enum Behaviour {
    /// Exit with this status; on 0 write "OBJ:" + the source to the output.
    Exit(u32),
    /// Run until terminated.
    Hang,
    /// Cannot be started.
    Missing,
}

#[derive(Debug)]
struct Fake {
    behaviour: Behaviour,
    seen: Mutex<Vec<Vec<OsString>>>,
}

impl Launcher for Fake {
    fn launch(&self, spec: ExecSpec) -> io::Result<Box<dyn Running>> {
        self.seen.lock().unwrap().push(spec.argv.clone());
        let (tx, rx) = watch::channel(false);
        let (status, hang) = match self.behaviour {
            Behaviour::Missing => return Err(io::Error::from(io::ErrorKind::NotFound)),
            Behaviour::Hang => (15, true),
            Behaviour::Exit(status) => (status, false),
        };
        let input = &spec.argv[spec.argv.iter().position(|a| a == "-c").expect("-c") + 1];
        let source = match &spec.stdin {
            Some(data) => data.clone(),
            None => {
                let mut source = Vec::new();
                std::fs::File::open(spec.cwd.join(input))?.read_to_end(&mut source)?;
                source
            }
        };
        if status == 0 {
            let out = spec.argv.iter().position(|a| a == "-o").expect("-o");
            let mut obj = b"OBJ:".to_vec();
            obj.extend_from_slice(&source);
            std::fs::write(&spec.argv[out + 1], obj)?;
            // Pump mode: a .d file naming the output and the input.
            if let Some(mf) = spec.argv.iter().position(|a| a == "-MF") {
                let dir = spec.cwd.to_string_lossy();
                let deps = format!(
                    "{}: {dir}/{}\n",
                    spec.argv[out + 1].to_string_lossy(),
                    input.to_string_lossy()
                );
                std::fs::write(&spec.argv[mf + 1], deps)?;
            }
        }
        let done = Finished {
            status,
            stdout: b"out".to_vec(),
            stderr: format!("fake: compiling {}\n", input.to_string_lossy()).into_bytes(),
        };
        Ok(Box::new(FakeRun { done, tx, rx, hang }))
    }
}

struct FakeRun {
    done: Finished,
    tx: watch::Sender<bool>,
    rx: watch::Receiver<bool>,
    hang: bool,
}

impl Running for FakeRun {
    fn wait(&mut self) -> BoxFuture<'_, io::Result<Finished>> {
        Box::pin(async move {
            if self.hang {
                let _ = self.rx.wait_for(|t| *t).await;
            }
            Ok(self.done.clone())
        })
    }
    fn terminate(&mut self) {
        let _ = self.tx.send(true);
    }
    fn kill(&mut self) {
        let _ = self.tx.send(true);
    }
}

struct Harness {
    shared: Arc<Shared>,
    tmp: PathBuf,
}

impl Harness {
    fn new(behaviour: Behaviour, lifetime: Option<Duration>) -> Self {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let tmp = std::env::temp_dir().join(format!(
            "job-tests-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&tmp).unwrap();
        let settings = JobSettings {
            tmpdir: tmp.clone(),
            save_temps: false,
            io_timeout: Duration::from_secs(5),
            job_lifetime: lifetime,
            limits: Limits::default(),
            policy: Policy {
                insecure: true,
                ..Policy::default()
            },
            compiler_env: Vec::new(),
            header_cache: 0,
            inetd: false,
            kept_tree_max: protocol3::KEPT_TREE_MAX,
        };
        let fake = Fake {
            behaviour,
            seen: Mutex::new(Vec::new()),
        };
        let shared = Shared::new(settings, Box::new(fake), Stats::new(1, "distccd"));
        Self {
            shared: Arc::new(shared),
            tmp,
        }
    }

    /// Send `request` (then close our side if `close`), return the reply
    /// bytes and the summary.
    fn exchange(&self, request: Vec<u8>, close: bool) -> (Vec<u8>, Summary) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let shared = self.shared.clone();
        rt.block_on(async move {
            let (mut client, server) = tokio::io::duplex(1 << 16);
            let job = tokio::spawn(async move {
                let (r, w) = tokio::io::split(server);
                let ticket = shared.pending.admit(None).unwrap();
                job::serve(r, w, "test:1", ticket, &shared).await
            });
            client.write_all(&request).await.unwrap();
            if close {
                client.shutdown().await.unwrap();
            }
            let mut reply = Vec::new();
            client.read_to_end(&mut reply).await.unwrap();
            (reply, job.await.unwrap())
        })
    }

    /// No file is left in any job directory (the directories themselves
    /// are kept for reuse until the daemon ends).
    fn assert_clean(&self) {
        self.assert_clean_but(None);
    }

    /// Nothing left but `kept`: a pump job's mirror, kept for the next.
    fn assert_clean_but(&self, kept: Option<&str>) {
        for dir in std::fs::read_dir(&self.tmp).unwrap() {
            let dir = dir.unwrap().path();
            let left: Vec<_> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .filter(|n| kept.is_none_or(|k| n != k))
                .collect();
            assert!(left.is_empty(), "left in {}: {left:?}", dir.display());
        }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}

fn request(version: u32, argv: &[&str], source: &[u8]) -> Vec<u8> {
    Request {
        head: RequestHead {
            version,
            cwd: None,
            argv: argv.iter().map(|a| a.as_bytes().to_vec()).collect(),
        },
        source: source.to_vec(),
        files: Vec::new(),
    }
    .encode()
}

fn response(bytes: &[u8]) -> Response {
    match decode_response(bytes, &Limits::default(), true).unwrap() {
        Decoded::Done(r, n) => {
            assert_eq!(n, bytes.len());
            r
        }
        Decoded::NeedMore(_) => panic!("incomplete reply: {bytes:?}"),
    }
}

const HELLO: &[&str] = &["gcc", "-c", "hello.c", "-o", "hello.o"];

#[test]
fn protocols_1_and_2_compile_and_reply() {
    for version in [1, 2] {
        let h = Harness::new(Behaviour::Exit(0), None);
        let (reply, summary) = h.exchange(request(version, HELLO, b"int x;\n"), false);
        let r = response(&reply);
        assert_eq!((r.version, r.status), (version, 0));
        assert_eq!(r.object, b"OBJ:int x;\n");
        assert_eq!(r.stdout, b"out");
        assert!(String::from_utf8_lossy(&r.stderr).contains("fake: compiling"));
        assert_eq!(summary.category, Category::CompileOk);
        assert_eq!(summary.input.as_deref(), Some("hello.c"));
        h.assert_clean();
    }
}

/// Issue 10: a file name that is not UTF-8 (`h\xe9llo.c`, Latin-1) is
/// compiled, in every protocol; 3.4 and gcc do, and we refused it.
#[test]
fn names_that_are_not_utf8_compile() {
    let name = b"h\xe9llo.c".to_vec();
    let with_name = |version: u32| {
        let mut r = request(version, &["gcc", "-c", "NAME", "-o", "NAME.o"], b"int x;\n");
        for _ in 0..2 {
            let at = r.windows(4).position(|w| w == b"NAME").unwrap();
            r.splice(at..at + 4, name.iter().copied());
            // Fix up the ARGV length (4 -> 7 bytes), 12 bytes before it.
            let len = &mut r[at - 8..at];
            let n = std::str::from_utf8(len).unwrap();
            let n = usize::from_str_radix(n, 16).unwrap() + name.len() - 4;
            len.copy_from_slice(format!("{n:08x}").as_bytes());
        }
        r
    };
    for version in [1, 2] {
        let h = Harness::new(Behaviour::Exit(0), None);
        let (reply, summary) = h.exchange(with_name(version), false);
        let r = response(&reply);
        assert_eq!(r.status, 0, "v{version}");
        assert_eq!(r.object, b"OBJ:int x;\n");
        assert_eq!(summary.category, Category::CompileOk);
        assert_eq!(summary.input.as_deref(), Some("h\u{fffd}llo.c"));
        h.assert_clean();
    }
}

#[test]
fn the_compiler_sees_temp_input_and_output_in_the_job_dir() {
    let h = Harness::new(Behaviour::Exit(0), None);
    h.exchange(request(1, &["g++", "-O2", "-c", "a.cpp"], b"x"), false);
    let fake = format!("{:?}", h.shared.launcher);
    // Small sources arrive on stdin, with the language of their extension.
    assert!(
        fake.contains(r#""-c", "-x", "c++-cpp-output", "-", "-o""#),
        "{fake}"
    );
    assert!(fake.contains("output.o"), "{fake}");
    assert!(fake.contains(&h.tmp.display().to_string()), "{fake}");
}

#[test]
fn failures_send_status_and_an_empty_object() {
    let h = Harness::new(Behaviour::Exit(0x100), None);
    let (reply, summary) = h.exchange(request(2, HELLO, b"bad"), false);
    assert!(reply.ends_with(b"DOTO00000000"));
    let r = response(&reply);
    assert_eq!(r.status, 0x100);
    assert!(r.object.is_empty());
    assert_eq!(summary.category, Category::CompileError);
    h.assert_clean();
}

#[test]
fn a_missing_compiler_is_status_110_with_a_message() {
    let h = Harness::new(Behaviour::Missing, None);
    let (reply, _) = h.exchange(request(1, HELLO, b"x"), false);
    let r = response(&reply);
    assert_eq!(r.status, 110 << 8);
    assert!(String::from_utf8_lossy(&r.stderr).contains("failed to exec gcc"));
    h.assert_clean();
}

#[test]
fn client_disconnect_kills_the_compile_with_107() {
    let h = Harness::new(Behaviour::Hang, None);
    let (reply, summary) = h.exchange(request(1, HELLO, b"x"), true);
    assert_eq!(summary.category, Category::CliDisconn);
    assert_eq!(response(&reply).status, 107 << 8);
    h.assert_clean();
}

#[test]
fn job_lifetime_kills_the_compile_with_118() {
    let h = Harness::new(Behaviour::Hang, Some(Duration::from_millis(200)));
    let (reply, summary) = h.exchange(request(2, HELLO, b"x"), false);
    assert_eq!(summary.category, Category::CompileTimeout);
    assert_eq!(response(&reply).status, 118 << 8);
    h.assert_clean();
}

#[test]
fn bad_requests_get_no_reply_and_leave_nothing() {
    let mut truncated = request(1, HELLO, &[b'x'; 100]);
    truncated.truncate(truncated.len() - 50);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "v3 relative name",
            pump(HELLO, &[("x/y.h", FileKind::File(b"x".to_vec()))]),
        ),
        (
            "v3 through a link",
            pump(
                HELLO,
                &[
                    ("/src/l", FileKind::Link(b"/elsewhere".to_vec())),
                    ("/src/l/x.h", FileKind::File(b"x".to_vec())),
                ],
            ),
        ),
        (
            "v3 preprocessor deps",
            pump(&["gcc", "-c", "h.c", "-Wp,-MD,/x"], &[]),
        ),
        ("argc 0", b"DIST00000001ARGC00000000".to_vec()),
        ("derailed", b"HELO00000001".to_vec()),
        ("truncated", truncated),
        ("link", request(1, &["gcc", "hello.c", "-o", "hello"], b"")),
        (
            "plugin",
            request(1, &["gcc", "-c", "x.c", "-fplugin=/x.so"], b""),
        ),
        ("nul byte", {
            let mut r = request(1, &["gcc", "-c", "x.c"], b"");
            let at = r.windows(3).position(|w| w == b"x.c").unwrap();
            r[at + 1] = 0;
            r
        }),
    ];
    for (name, bytes) in cases {
        let h = Harness::new(Behaviour::Exit(0), None);
        let (reply, summary) = h.exchange(bytes, true);
        assert!(reply.is_empty(), "{name}: got a reply {reply:?}");
        assert_eq!(summary.category, Category::RejBadReq, "{name}");
        h.assert_clean();
    }
}
