//! Thin wrapper over the `docker` command line: run it, capture its output,
//! and turn a failure into a message that carries docker's own stderr. It
//! knows nothing of the farm; `harness.rs` builds on it.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// The outcome of one command (docker itself, or a command run by
/// `docker exec`): exit status and captured text.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from_output(out: Output) -> Self {
        Self {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn ok(&self) -> bool {
        self.code == 0
    }

    /// Both streams, for failure messages.
    pub fn text(&self) -> String {
        format!(
            "exit {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Run `docker ARGS` with optional stdin; never panics on a non-zero exit.
pub fn docker(args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut cmd = Command::new("docker");
    cmd.args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run docker {args:?}: {e}"));
    if let Some(data) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        let data = data.to_vec();
        // A writer thread: the command may fill its stdout pipe before it
        // has read all of its stdin.
        std::thread::spawn(move || {
            let _ = pipe.write_all(&data);
        });
    }
    Run::from_output(child.wait_with_output().unwrap())
}

/// Run `docker ARGS` and panic with docker's output when it fails.
pub fn docker_ok(args: &[&str]) -> String {
    let run = docker(args, None);
    assert!(run.ok(), "docker {} failed: {}", args.join(" "), run.text());
    run.stdout
}

/// Whether the docker CLI exists and its engine answers.
pub fn available() -> Result<(), String> {
    match Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
    {
        Err(e) => Err(format!("docker is not installed ({e})")),
        Ok(o) if !o.status.success() => Err(format!(
            "the Docker engine does not answer: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Ok(_) => Ok(()),
    }
}
