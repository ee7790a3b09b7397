//! A distccd per cross target (`--target-daemon DIR`, issue 11; packaging
//! notes §7.4, the Arch Linux ARM volunteer's set-up): a daemon on its own
//! port whose compilers' PATH starts with the target's toolchain directory
//! (where `--cross-links` put `gcc -> TRIPLE-gcc` ...), so clients that
//! send plain `gcc` get the cross compiler.
//!
//! Its settings file, `/etc/conf.d/distccd.TRIPLE`, is read both by
//! OpenRC (the `distccd.TRIPLE -> distccd` instance sources it after
//! `/etc/conf.d/distccd`) and by systemd (`distccd@TRIPLE.service`'s
//! EnvironmentFile), so it holds plain `NAME="value"` lines only. Pure.

use std::collections::BTreeSet;

/// distcc's port and the stats port are the main daemon's.
const FIRST_PORT: u16 = 3634;

/// The ports a `DISTCCD_OPTS`/`DISTCC_ARGS` value names with `--port N`,
/// `--port=N`, `-p N` or `--stats-port N`.
pub fn ports(opts: &str) -> Vec<u16> {
    let words: Vec<&str> = opts.split_whitespace().collect();
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let value = match *w {
            "--port" | "-p" | "--stats-port" => words.get(i + 1).copied(),
            _ => w
                .strip_prefix("--port=")
                .or_else(|| w.strip_prefix("--stats-port=")),
        };
        if let Some(p) = value.and_then(|v| v.parse().ok()) {
            out.push(p);
        }
    }
    out
}

/// The first port from 3634 up that no other daemon uses.
pub fn pick_port(used: &BTreeSet<u16>) -> u16 {
    (FIRST_PORT..=u16::MAX)
        .find(|p| !used.contains(p))
        .unwrap_or(FIRST_PORT)
}

/// The instance's settings file.
pub fn instance_conf(
    triple: &str,
    toolchain: &str,
    port: u16,
    allow: &[String],
    log_file: &str,
) -> String {
    let allow = if allow.is_empty() {
        "--allow-private".to_owned()
    } else {
        allow
            .iter()
            .map(|a| format!("--allow {a}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    format!(
        "# /etc/conf.d/distccd.{triple}: the distccd for {triple} clients, written by\n\
         # distcc-config --target-daemon {toolchain}.\n\
         # Read by OpenRC's distccd.{triple} instance (after /etc/conf.d/distccd) and\n\
         # by distccd@{triple}.service (EnvironmentFile): plain NAME=\"value\" lines only.\n\
         #\n\
         # SECURITY: who may connect is --allow, as for the main daemon.\n\
         # Clients add HOST:{port} to their host list for {triple} builds.\n\
         DISTCCD_OPTS=\"--port {port} {allow} --log-file {log_file} --log-level notice\"\n\
         # The compilers' PATH: the toolchain's unprefixed links (gcc -> {triple}-gcc) first.\n\
         DISTCCD_PATH=\"{toolchain}:/usr/bin:/bin\"\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_in_options() {
        assert_eq!(
            ports("--port 3632 --allow x -p 3700 --port=3701 --stats-port 3633"),
            [3632, 3700, 3701, 3633]
        );
        assert_eq!(ports("--allow-private --port"), Vec::<u16>::new());
        let used: BTreeSet<u16> = [3632, 3633, 3634, 3636].into();
        assert_eq!(pick_port(&used), 3635);
        assert_eq!(pick_port(&BTreeSet::new()), 3634);
    }

    #[test]
    fn settings_file() {
        let t = instance_conf(
            "aarch64-linux-gnu",
            "/opt/x/bin",
            3634,
            &["192.168.1.0/24".to_owned()],
            "/var/log/distccd/aarch64-linux-gnu.log",
        );
        assert!(t.contains(
            "\nDISTCCD_OPTS=\"--port 3634 --allow 192.168.1.0/24 --log-file \
             /var/log/distccd/aarch64-linux-gnu.log --log-level notice\"\n"
        ));
        assert!(t.ends_with("\nDISTCCD_PATH=\"/opt/x/bin:/usr/bin:/bin\"\n"));
        let t = instance_conf("t-x", "/d", 3635, &[], "/l");
        assert!(t.contains("--port 3635 --allow-private --log-file /l"));
    }
}
