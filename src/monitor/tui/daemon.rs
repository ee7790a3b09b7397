//! The daemons' own figures for `distccmon-tui`: a background thread asks
//! each host's `--stats` port for its page every few seconds (3.4's text
//! page, which both 3.4's daemon and ours serve) and keeps the latest
//! figures, so a slow or silent host never holds up the screen.
//! [`parse_page`] is pure.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::model::{Daemon, DaemonFigures};

/// How often the pages are fetched.
pub const EVERY: Duration = Duration::from_secs(3);
/// Connect and read timeout per host.
const TIMEOUT: Duration = Duration::from_millis(700);
/// The most of a page read.
const MAX_PAGE: u64 = 64 * 1024;

/// The figures of a `--stats` page (3.4's text layout); `None` when it is
/// not one.
pub fn parse_page(page: &str) -> Option<DaemonFigures> {
    if !page.contains("<distccstats>") {
        return None;
    }
    let mut f = DaemonFigures::default();
    for line in page.lines() {
        let Some((key, value)) = line.split_once(' ') else {
            continue;
        };
        match key {
            "dcc_num_compiles1" => f.compiles_1m = value.trim().parse().ok()?,
            "dcc_max_kids" => f.max_kids = value.trim().parse().ok()?,
            "dcc_load1" => f.load1 = value.trim().parse().ok()?,
            _ => {}
        }
    }
    Some(f)
}

fn fetch(addr: &str) -> Daemon {
    let get = || -> std::io::Result<String> {
        let sock = addr
            .to_socket_addrs()?
            .next()
            .ok_or(std::io::ErrorKind::NotFound)?;
        let mut s = TcpStream::connect_timeout(&sock, TIMEOUT)?;
        s.set_read_timeout(Some(TIMEOUT))?;
        s.set_write_timeout(Some(TIMEOUT))?;
        s.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
        let mut page = String::new();
        s.take(MAX_PAGE).read_to_string(&mut page)?;
        Ok(page)
    };
    match get().ok().as_deref().and_then(parse_page) {
        Some(f) => Daemon::Figures(f),
        None => Daemon::Unreachable,
    }
}

#[derive(Debug, Default)]
struct Shared {
    /// (lock id, `HOST:PORT` of its stats page).
    targets: Vec<(String, String)>,
    figures: BTreeMap<String, Daemon>,
    /// Requests for a round now ([`Fetcher::fetch_now`]), counted.
    requested: u64,
    /// The requests the last finished round answers.
    served: u64,
}

/// Fetches in the background.
#[derive(Debug, Clone)]
pub struct Fetcher {
    shared: Arc<(Mutex<Shared>, Condvar)>,
}

impl Fetcher {
    /// Start the fetching thread (it sleeps while there is nothing to ask).
    pub fn start() -> Self {
        let shared = Arc::new((Mutex::new(Shared::default()), Condvar::new()));
        let worker = shared.clone();
        std::thread::spawn(move || {
            let (lock, wake) = &*worker;
            loop {
                let (targets, request) = {
                    let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
                    while s.targets.is_empty() && s.served == s.requested {
                        s = wake.wait(s).unwrap_or_else(|e| e.into_inner());
                    }
                    (s.targets.clone(), s.requested)
                };
                let got: Vec<(String, Daemon)> = targets
                    .into_iter()
                    .map(|(id, addr)| (id, fetch(&addr)))
                    .collect();
                let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
                s.figures = got.into_iter().collect();
                s.served = request;
                wake.notify_all();
                if s.served == s.requested {
                    let (guard, _) = wake
                        .wait_timeout(s, EVERY)
                        .unwrap_or_else(|e| e.into_inner());
                    drop(guard);
                }
            }
        });
        Self { shared }
    }

    /// The hosts to ask from now on.
    pub fn set_targets(&self, targets: Vec<(String, String)>) {
        let (lock, wake) = &*self.shared;
        let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
        if s.targets != targets {
            s.targets = targets;
            wake.notify_all();
        }
    }

    /// The latest figures.
    pub fn figures(&self) -> BTreeMap<String, Daemon> {
        let (lock, _) = &*self.shared;
        lock.lock()
            .unwrap_or_else(|e| e.into_inner())
            .figures
            .clone()
    }

    /// Ask every host now and wait for the answers.
    pub fn fetch_now(&self) {
        let (lock, wake) = &*self.shared;
        let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
        if s.targets.is_empty() {
            return;
        }
        s.requested += 1;
        let mine = s.requested;
        wake.notify_all();
        while s.served < mine {
            s = wake.wait(s).unwrap_or_else(|e| e.into_inner());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_3_4s_page() {
        let page = "HTTP/1.0 200 OK\nContent-Type: text/plain\n\nargv /usr/bin/distccd\n<distccstats>\n\
                    dcc_tcp_accept 5\ndcc_max_kids 8\ndcc_load1 1.50\ndcc_num_compiles1 12\n\
                    dcc_max_RSS_name (x y)\n</distccstats>\n";
        assert_eq!(
            parse_page(page),
            Some(DaemonFigures {
                compiles_1m: 12,
                max_kids: 8,
                load1: 1.5,
            })
        );
        assert_eq!(parse_page("HTTP/1.0 404\n\n"), None);
        assert_eq!(parse_page("<distccstats>\ndcc_max_kids lots\n"), None);
    }

    #[test]
    fn a_closed_port_is_unreachable_and_a_page_is_read() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        // Serves every request (the fetcher may ask more than once).
        std::thread::spawn(move || {
            for mut s in listener.incoming().flatten() {
                let mut buf = [0u8; 256];
                let _ = s.read(&mut buf);
                let _ = s.write_all(
                    b"HTTP/1.0 200 OK\n\n<distccstats>\ndcc_num_compiles1 3\n</distccstats>\n",
                );
            }
        });
        let f = Fetcher::start();
        f.set_targets(vec![("tcp_a_1".into(), addr)]);
        f.fetch_now();
        match &f.figures()["tcp_a_1"] {
            Daemon::Figures(d) => assert_eq!(d.compiles_1m, 3),
            other => panic!("{other:?}"),
        }
        // Nothing listens on a port just freed.
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let gone = free.local_addr().unwrap().to_string();
        drop(free);
        f.set_targets(vec![("tcp_b_2".into(), gone)]);
        f.fetch_now();
        assert_eq!(f.figures()["tcp_b_2"], Daemon::Unreachable);
    }
}
