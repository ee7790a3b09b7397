//! Both halves of [`super::config`] in one process, the handshake in
//! memory: the pins are checked where docs/tls.md says, and each side's
//! reason names the key and the file.

use std::path::{Path, PathBuf};

use rustls::{ClientConnection, ServerConnection};

use super::config::{ClientTls, DaemonTls};
use super::keys::{Identity, Role};

struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("distcc-tls-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn key(&self, role: Role) -> Identity {
        let id = Identity::generate().unwrap();
        std::fs::write(self.0.join(role.key_file()), id.private_pem()).unwrap();
        id
    }

    fn trust(&self, role: Role, line: &str) {
        std::fs::write(self.0.join(role.trust_file()), format!("{line}\n")).unwrap();
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[derive(Debug)]
enum Failed {
    Client(rustls::Error),
    Daemon(rustls::Error),
}

/// Move the handshake's records between the two ends until both are done
/// or one fails.
fn handshake(client: &Path, daemon: &Path) -> Result<(), Failed> {
    let c = ClientTls::load(client, "build1", 3632, false).unwrap();
    let d = DaemonTls::load(daemon).unwrap();
    let mut cc = ClientConnection::new(c.config.clone(), ClientTls::server_name("build1")).unwrap();
    let mut sc = ServerConnection::new(d.config.clone()).unwrap();
    for _ in 0..8 {
        let mut wire = Vec::new();
        while cc.wants_write() {
            cc.write_tls(&mut wire).unwrap();
        }
        if !wire.is_empty() {
            sc.read_tls(&mut wire.as_slice()).unwrap();
            sc.process_new_packets().map_err(Failed::Daemon)?;
        }
        let mut wire = Vec::new();
        while sc.wants_write() {
            sc.write_tls(&mut wire).unwrap();
        }
        if !wire.is_empty() {
            cc.read_tls(&mut wire.as_slice()).unwrap();
            cc.process_new_packets().map_err(Failed::Client)?;
        }
        if !cc.is_handshaking() && !sc.is_handshaking() {
            return Ok(());
        }
    }
    panic!("the handshake did not end");
}

#[test]
fn each_side_accepts_only_the_key_it_trusts() {
    let (client, daemon) = (Dir::new("client"), Dir::new("daemon"));
    let me = client.key(Role::Client);
    let it = daemon.key(Role::Daemon);
    client.trust(Role::Client, &format!("build1 {}", it.fingerprint));
    daemon.trust(Role::Daemon, &me.fingerprint.to_string());
    handshake(&client.0, &daemon.0).expect("both keys trusted");

    // The daemon does not know this client: it says which key and file.
    daemon.trust(Role::Daemon, "# nobody");
    match handshake(&client.0, &daemon.0) {
        Err(Failed::Daemon(e)) => {
            let text = e.to_string();
            assert!(text.contains(&me.fingerprint.to_string()), "{text}");
            assert!(text.contains("authorized_clients"), "{text}");
        }
        other => panic!("the daemon should refuse: {other:?}"),
    }

    // Another daemon key: the client stops first, naming the key it saw.
    let other = Identity::generate().unwrap();
    client.trust(Role::Client, &format!("build1 {}", other.fingerprint));
    match handshake(&client.0, &daemon.0) {
        Err(Failed::Client(e)) => {
            let text = e.to_string();
            assert!(
                text.contains(&format!("build1 showed key {}", it.fingerprint)),
                "{text}"
            );
            assert!(text.contains("known_daemons"), "{text}");
        }
        other => panic!("the client should refuse: {other:?}"),
    }
}
