//! A misbehaving "server" on a loopback port, for failure tests: it can
//! answer garbage, drop the connection after reading the request, or hold
//! it open without answering until told to let go.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the fake does with each connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Answer like a web server.
    Garbage,
    /// Read the request, then close without a reply.
    Drop,
    /// Read, then keep the connection open until [`Fake::release`].
    Hang,
}

/// A fake server; stops listening when dropped.
#[derive(Debug)]
pub struct Fake {
    pub port: u16,
    pub connections: Arc<AtomicUsize>,
    held: Arc<Mutex<Vec<TcpStream>>>,
    listener: TcpListener,
    stop: Arc<AtomicBool>,
}

fn read_some(s: &mut TcpStream) {
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buf = [0u8; 65536];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
    }
}

/// Whether the client's first bytes are the extension's hello
/// (`DIST7874...`); they stay unread.
fn says_hello(s: &TcpStream) -> bool {
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut buf = [0u8; 8];
    for _ in 0..20 {
        match s.peek(&mut buf) {
            Ok(8) => return &buf == b"DIST7874",
            Ok(0) | Err(_) => return false,
            Ok(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    false
}

impl Fake {
    pub fn start(mode: Mode) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let held = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (l, c, h, st) = (
            listener.try_clone().unwrap(),
            connections.clone(),
            held.clone(),
            stop.clone(),
        );
        std::thread::spawn(move || {
            for stream in l.incoming() {
                let Ok(mut s) = stream else { return };
                if st.load(Ordering::SeqCst) {
                    return;
                }
                let (c, h) = (c.clone(), h.clone());
                std::thread::spawn(move || {
                    // Like a 3.4 server, close at the extension's hello
                    // (docs/extension.md §2): a probe, not counted.
                    if says_hello(&s) {
                        return;
                    }
                    c.fetch_add(1, Ordering::SeqCst);
                    match mode {
                        Mode::Garbage => {
                            let _ = s.write_all(b"HTTP/1.0 400 Bad Request\r\n\r\n");
                            read_some(&mut s);
                        }
                        Mode::Drop => read_some(&mut s),
                        Mode::Hang => {
                            read_some(&mut s);
                            h.lock().unwrap().push(s);
                        }
                    }
                });
            }
        });
        Self {
            port,
            connections,
            held,
            listener,
            stop,
        }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn count(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Close every held connection (the client then sees EOF).
    pub fn release(&self) {
        for s in self.held.lock().unwrap().drain(..) {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.release();
        self.stop.store(true, Ordering::SeqCst);
        // Unblock the accept loop so its thread ends.
        let _ = TcpStream::connect(self.listener.local_addr().unwrap());
    }
}
