//! Setting farm machines up the way users do: distccd started by OpenRC
//! from `/etc/conf.d/<service>` (Gentoo's DISTCCD_OPTS semantics, packaging
//! notes §2.4-2.5), host lists written by `distcc-config --set-hosts`,
//! masquerade links by `distcc-config --update-masquerade`; and reading the
//! daemons' `--stats` page (spec §4.7).

use super::harness::{Container, Impl};

/// The port every volunteer's main daemon listens on (distcc's default).
pub const PORT: u16 = 3632;

/// One distccd service on a volunteer.
#[derive(Debug, Clone)]
pub struct Service {
    /// OpenRC service name: `distccd`, or `distccd-<x>` for a second daemon
    /// (a symlink to the same script, its own conf.d, pid and log file).
    pub name: &'static str,
    pub port: u16,
    pub stats_port: u16,
    /// `--allow` CIDRs.
    pub allow: Vec<String>,
    /// `DISTCCD_PATH` for the daemon (the Arch-wiki cross set-up), if any.
    pub path: Option<String>,
}

impl Service {
    pub fn main(allow: &[String]) -> Self {
        Service {
            name: "distccd",
            port: PORT,
            stats_port: PORT + 1,
            allow: allow.to_vec(),
            path: None,
        }
    }

    pub fn log_file(&self) -> String {
        format!("/var/log/{}.log", self.name)
    }
}

/// The OpenRC script: the packaging's `init/` file once it exists on main,
/// else a stand-in with Gentoo's semantics (packaging notes §2.4).
fn initd() -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    for rel in ["init/openrc/distccd.initd", "init/distccd.initd"] {
        if let Ok(text) = std::fs::read_to_string(format!("{root}/{rel}")) {
            return text;
        }
    }
    "#!/sbin/openrc-run\n\
     depend() { need net; use avahi-daemon ypbind; }\n\
     command=\"${DISTCCD_EXEC:-/usr/bin/distccd}\"\n\
     command_args=\"--user distcc --daemon --no-detach ${DISTCCD_OPTS}\"\n\
     command_background=\"true\"\n\
     pidfile=\"/run/${RC_SVCNAME}.pid\"\n\
     export TMPDIR=\"${TMPDIR:-/tmp}\"\n"
        .to_string()
}

/// The conf.d file for `svc`: the packaging's `init/openrc/distccd.confd`
/// edited the way an admin edits it (the example `--allow` line replaced by
/// ours, a log file, the stats page), or Gentoo's shape (packaging notes
/// §2.5) when the packaging's file is not there.
fn confd(svc: &Service) -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    let shipped = std::fs::read_to_string(format!("{root}/init/openrc/distccd.confd"))
        .unwrap_or_else(|_| {
            "DISTCCD_OPTS=\"\"\nDISTCCD_EXEC=\"/usr/bin/distccd\"\n\
             DISTCCD_OPTS=\"${DISTCCD_OPTS} --port 3632\"\n\
             DISTCCD_OPTS=\"${DISTCCD_OPTS} --log-level notice\"\n\
             DISTCCD_OPTS=\"${DISTCCD_OPTS} --allow 192.168.0.0/24\"\n\
             DISTCCD_OPTS=\"${DISTCCD_OPTS} -N 15\"\n"
                .to_string()
        });
    let opt = |o: &str| format!("DISTCCD_OPTS=\"${{DISTCCD_OPTS}} {o}\"");
    let mut conf = String::new();
    let mut replaced = (false, false, false);
    for line in shipped.lines() {
        if line == opt("--port 3632") {
            conf += &opt(&format!("--port {}", svc.port));
            replaced.0 = true;
        } else if line == opt("--log-level notice") {
            conf += &opt(&format!("--log-level info --log-file {}", svc.log_file()));
            replaced.1 = true;
        } else if line == opt("--allow 192.168.0.0/24") {
            let allows: Vec<String> = svc
                .allow
                .iter()
                .map(|c| opt(&format!("--allow {c}")))
                .collect();
            conf += &allows.join("\n");
            replaced.2 = true;
        } else {
            conf += line;
        }
        conf.push('\n');
    }
    assert!(
        replaced == (true, true, true),
        "init/openrc/distccd.confd no longer has the --port, --log-level or --allow example lines the farm edits"
    );
    conf += &opt(&format!("--stats --stats-port {}", svc.stats_port));
    conf.push('\n');
    if let Some(path) = &svc.path {
        conf += &format!("export DISTCCD_PATH=\"{path}\"\n");
    }
    conf
}

/// Write `/etc/conf.d/<name>` and start the service with `openrc-run`.
/// OpenRC runs in a container with `rc_sys="docker"`,
/// `rc_provide="loopback net"` (there is no net service to satisfy `need
/// net`) and `/run/openrc/softlevel` (OpenRC did not boot the container).
pub fn start_daemon(v: &Container, svc: &Service) {
    let conf = confd(svc);
    v.write(&format!("/etc/conf.d/{}", svc.name), &conf, "0644");
    v.write("/etc/init.d/distccd", &initd(), "0755");
    let name = svc.name;
    let log = svc.log_file();
    v.sh_ok(&format!(
        r#"
grep -q '^rc_sys="docker"' /etc/rc.conf || printf 'rc_sys="docker"\nrc_provide="loopback net"\n' >> /etc/rc.conf
mkdir -p /run/openrc && touch /run/openrc/softlevel
[ -e /etc/init.d/{name} ] || ln -s distccd /etc/init.d/{name}
touch {log} && chown distcc {log}
/sbin/openrc-run /etc/init.d/{name} start
for i in $(seq 1 50); do
    ss -Hltn "sport = :{port}" | grep -q LISTEN && exit 0
    sleep 0.2
done
echo "{name} is not listening on {port}:"; cat {log}; exit 1
"#,
        port = svc.port
    ));
}

/// Stop the service with `openrc-run ... stop` and check that the port is
/// closed, no distccd is left and OpenRC says it is stopped (start-stop-daemon reads the daemon's
/// /proc/PID/exe, hence CAP_SYS_PTRACE on volunteers).
pub fn stop_daemon(v: &Container, svc: &Service) {
    v.sh_ok(&format!(
        r#"
/sbin/openrc-run /etc/init.d/{name} stop
for i in $(seq 1 50); do
    ss -Hltn "sport = :{port}" | grep -q LISTEN || break
    sleep 0.2
done
if ss -Hltn "sport = :{port}" | grep -q LISTEN; then echo "{name} still listens on {port}"; exit 1; fi
if pgrep -x distccd >/dev/null && [ {name} = distccd ]; then echo "distccd processes left:"; ps -ef; exit 1; fi
s=0; /sbin/openrc-run /etc/init.d/{name} status || s=$?
[ "$s" = 3 ] || {{ echo "status after stop: $s (want 3, stopped)"; exit 1; }}
"#,
        name = svc.name,
        port = svc.port
    ));
}

/// The daemon's log file content.
pub fn daemon_log(v: &Container, svc: &Service) -> String {
    v.sh_ok(&format!("cat {}", svc.log_file()))
}

/// `dcc_compile_ok` (and friends) from a daemon's stats page, fetched from
/// `from` (the stats port is ACL-checked like the service port).
pub fn stats(from: &Container, ip: &str, port: u16) -> std::collections::HashMap<String, String> {
    let page = from.sh_ok(&format!(
        "exec 3<>/dev/tcp/{ip}/{port}; printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3"
    ));
    page.lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

/// Number of successful compiles a daemon reports.
pub fn compiles_ok(from: &Container, ip: &str, port: u16) -> u64 {
    let s = stats(from, ip, port);
    s.get("dcc_compile_ok")
        .unwrap_or_else(|| panic!("no dcc_compile_ok on the stats page of {ip}:{port}: {s:?}"))
        .parse()
        .unwrap()
}

/// Write the machine's host list (`/etc/distcc/hosts`, what root's
/// `distcc-config --set-hosts` writes and what Portage's builds read).
pub fn set_hosts(c: &Container, config: Impl, hosts: &str) {
    match config {
        Impl::Ours => {
            c.sh_ok(&format!("distcc-config --set-hosts '{hosts}'"));
        }
        // Debian ships no distcc-config: write the file it would write.
        Impl::Debian => c.write("/etc/distcc/hosts", &format!("{hosts}\n"), "0644"),
    }
}

/// Rebuild `/usr/lib/distcc` with our `distcc-config --update-masquerade`
/// (Debian's postinst made one at image build time; ours replaces it).
pub fn update_masquerade(c: &Container, distro: Option<&str>) {
    let distro = distro.map(|d| format!("--distro {d} ")).unwrap_or_default();
    let out = c.sh_ok(&format!(
        "rm -rf /usr/lib/distcc && distcc-config {distro}--update-masquerade && ls -A /usr/lib/distcc"
    ));
    assert!(
        !out.trim().is_empty(),
        "distcc-config --update-masquerade made no links in {}",
        c.name
    );
}
