//! The farm harness: two Docker networks with subnets the test creates, and
//! containers on them with fixed addresses; exec, files in and out, stop and
//! kill; everything removed on Drop, also when a scenario panics. Set
//! `KEEP_FARM=1` to leave a failed farm running for inspection.
//!
//! Scenarios run one at a time (`serial()`): they share the images and a
//! 2-core machine, and each builds a farm of its own so that one scenario's
//! dead volunteer cannot spoil the next.

use super::docker::{Run, docker, docker_ok};
use super::images::{self, Image};
use std::sync::{Mutex, MutexGuard};

/// Label on everything the farm creates, valued with the test process id,
/// so leftovers of a killed run can be found and removed.
const LABEL: &str = "distcc-rs.farm.pid";

/// Which implementation of a program a container runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Impl {
    /// Ours, from this checkout's build, bind-mounted over /usr/bin/NAME.
    Ours,
    /// Debian's distcc 3.4 package, as installed in the image.
    Debian,
}

/// Take the farm lock: one scenario at a time. A panicked scenario poisons
/// the mutex; the next one still runs.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// One of the farm's two networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Net {
    A,
    B,
}

/// A farm: networks and containers, torn down on Drop.
#[derive(Debug)]
pub struct Farm {
    id: String,
    /// `(docker network name, "a.b.c" prefix of its /24)` for A and B.
    nets: [(String, String); 2],
    containers: Vec<String>,
}

/// How to create one container.
#[derive(Debug, Clone)]
pub struct Spec {
    pub name: &'static str,
    pub image: Image,
    /// Networks and the last octet of the address on each.
    pub nets: Vec<(Net, u8)>,
    /// Which programs of ours replace Debian's in /usr/bin.
    pub ours: &'static [&'static str],
    /// Extra capabilities (Portage's network sandbox needs SYS_ADMIN).
    pub caps: &'static [&'static str],
}

/// A running container of a farm.
#[derive(Debug, Clone)]
pub struct Container {
    pub name: String,
    /// Its address on A and/or B.
    pub ips: Vec<(Net, String)>,
}

fn remove_leftovers() {
    use std::sync::Once;
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let filter = format!("label={LABEL}");
        for (kind, list) in [
            ("container", vec!["ps", "-a"]),
            ("network", vec!["network", "ls"]),
        ] {
            let mut args = list.clone();
            args.extend(["--filter", &filter, "--format"]);
            let fmt = format!("{{{{.ID}}}} {{{{.Label \"{LABEL}\"}}}}");
            args.push(&fmt);
            for line in docker_ok(&args).lines() {
                let Some((id, pid)) = line.split_once(' ') else {
                    continue;
                };
                if std::path::Path::new(&format!("/proc/{pid}")).exists() {
                    continue;
                }
                let rm: &[&str] = if kind == "container" {
                    &["rm", "-f", id]
                } else {
                    &["network", "rm", id]
                };
                let _ = docker(rm, None);
            }
        }
    });
}

impl Farm {
    /// A new farm for `scenario`, or `None` when Docker is missing outside
    /// CI (the scenario is then skipped; under CI=true it panics instead).
    pub fn new(scenario: &str) -> Option<Self> {
        images::get(Image::Node)?;
        remove_leftovers();
        let id = format!("dfarm-{}-{scenario}", std::process::id());
        let mut farm = Farm {
            id: id.clone(),
            nets: Default::default(),
            containers: Vec::new(),
        };
        let label = format!("{LABEL}={}", std::process::id());
        // Two /24s under 172.28/16; skip pairs another network already uses.
        let mut made = 0;
        let mut third = 10u8;
        while made < 2 {
            assert!(third < 250, "no free /24 for the farm under 172.28.0.0/16");
            let prefix = format!("172.28.{third}");
            let name = format!("{id}-{}", ["a", "b"][made]);
            let subnet = format!("{prefix}.0/24");
            let run = docker(
                &[
                    "network", "create", "--driver", "bridge", "--subnet", &subnet, "--label",
                    &label, &name,
                ],
                None,
            );
            third += 1;
            if run.ok() {
                farm.nets[made] = (name, prefix);
                made += 1;
            } else if !run.stderr.contains("overlap") {
                panic!("docker network create {name} failed: {}", run.text());
            }
        }
        Some(farm)
    }

    /// The CIDR of a network, e.g. "172.28.10.0/24".
    pub fn subnet(&self, net: Net) -> String {
        format!("{}.0/24", self.nets[net as usize].1)
    }

    /// Start a container (PID 1 is docker-init running `sleep infinity`;
    /// daemons are started by exec, the way an admin would).
    pub fn start(&mut self, spec: &Spec) -> Container {
        let image = images::get(spec.image).expect("images were available a moment ago");
        let name = format!("{}-{}", self.id, spec.name);
        let label = format!("{LABEL}={}", std::process::id());
        let (first, octet) = spec.nets[0];
        let ip = |net: Net, octet: u8| format!("{}.{octet}", self.nets[net as usize].1);
        let first_ip = ip(first, octet);
        let mut args: Vec<String> = [
            "run",
            "-d",
            "--init",
            "--name",
            &name,
            "--hostname",
            spec.name,
            "--label",
            &label,
            "--network",
            &self.nets[first as usize].0,
            "--ip",
            &first_ip,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for cap in spec.caps {
            args.extend(["--cap-add".into(), cap.to_string()]);
        }
        for prog in spec.ours {
            let host = crate::support::bin(prog);
            args.extend([
                "-v".into(),
                format!("{}:/usr/bin/{prog}:ro", host.display()),
            ]);
        }
        args.extend([image, "sleep".into(), "infinity".into()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        docker_ok(&args);
        self.containers.push(name.clone());
        let mut ips = vec![(first, first_ip)];
        for &(net, octet) in &spec.nets[1..] {
            let addr = ip(net, octet);
            docker_ok(&[
                "network",
                "connect",
                "--ip",
                &addr,
                &self.nets[net as usize].0,
                &name,
            ]);
            ips.push((net, addr));
        }
        Container { name, ips }
    }
}

// Tests may read the environment (TEAM.md); KEEP_FARM is a debugging switch.
#[allow(clippy::disallowed_methods)]
impl Drop for Farm {
    fn drop(&mut self) {
        if std::env::var_os("KEEP_FARM").is_some() {
            eprintln!("KEEP_FARM: leaving {} running", self.id);
            return;
        }
        for c in &self.containers {
            let _ = docker(&["rm", "-f", "-v", c], None);
        }
        for (net, _) in &self.nets {
            if !net.is_empty() {
                let _ = docker(&["network", "rm", net], None);
            }
        }
    }
}

impl Container {
    /// Its address on `net` (panics if it is not on it).
    pub fn ip(&self, net: Net) -> &str {
        &self
            .ips
            .iter()
            .find(|(n, _)| *n == net)
            .unwrap_or_else(|| panic!("{} is not on network {net:?}", self.name))
            .1
    }

    /// Run a bash script as root (`set -euo pipefail` first).
    pub fn sh(&self, script: &str) -> Run {
        self.sh_as("root", script)
    }

    /// Run a bash script as `user`.
    pub fn sh_as(&self, user: &str, script: &str) -> Run {
        let full = format!("set -euo pipefail\n{script}");
        docker(
            &["exec", "-u", user, "-i", &self.name, "bash", "-s"],
            Some(full.as_bytes()),
        )
    }

    /// Run a script as root; panic with its output unless it succeeds.
    pub fn sh_ok(&self, script: &str) -> String {
        let run = self.sh(script);
        assert!(
            run.ok(),
            "in {}: script failed:\n{script}\n{}",
            self.name,
            run.text()
        );
        run.stdout
    }

    /// Write a file (parents created) with `mode`.
    pub fn write(&self, path: &str, content: &str, mode: &str) {
        let run = docker(
            &[
                "exec",
                "-i",
                &self.name,
                "sh",
                "-c",
                &format!(
                    "mkdir -p \"$(dirname '{path}')\" && cat > '{path}' && chmod {mode} '{path}'"
                ),
            ],
            Some(content.as_bytes()),
        );
        assert!(run.ok(), "writing {path} in {}: {}", self.name, run.text());
    }

    /// Copy a host directory's contents into the container at `dest`.
    pub fn copy_dir(&self, host_dir: &std::path::Path, dest: &str) {
        self.sh_ok(&format!("mkdir -p '{dest}'"));
        docker_ok(&[
            "cp",
            &format!("{}/.", host_dir.display()),
            &format!("{}:{dest}", self.name),
        ]);
    }

    /// `docker kill`: the machine dies at once (node loss).
    pub fn kill(&self) {
        docker_ok(&["kill", &self.name]);
    }
}
