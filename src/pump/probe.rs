//! Network side of `lsdistcc`: resolve names, connect, and optionally run
//! the canned probe job of spec §1.11 (`int foo(){return 0;}` compiled as
//! `hello.c`), all in parallel with one overall deadline.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use super::lsdistcc::{Found, Options, Targets, format_name};
use crate::protocol::{
    Decoded, FileEntry, FileKind, Limits, Request, RequestHead, decode_response,
};

const PROBE_SOURCE: &[u8] = b"int foo(){return 0;}\n";

/// Resolve `name` to its first address, retrying once after `retry`.
fn resolve(name: &str, port: u16, retry: Duration) -> Option<SocketAddr> {
    for attempt in 0..2 {
        if let Ok(mut addrs) = (name, port).to_socket_addrs() {
            if let Some(a) = addrs.next() {
                return Some(a);
            }
        }
        if attempt == 0 && !retry.is_zero() {
            thread::sleep(retry.min(Duration::from_millis(500)));
        }
    }
    None
}

/// The probe job's bytes for a protocol version.
pub fn probe_request(compiler: &str, protocol: u32) -> Vec<u8> {
    let argv = [compiler, "-c", "hello.c", "-o", "hello.o"];
    let head = RequestHead {
        version: protocol,
        cwd: (protocol > 2).then(|| b"/".to_vec()),
        argv: argv.iter().map(|a| a.as_bytes().to_vec()).collect(),
    };
    let (source, files) = if protocol > 2 {
        let file = FileEntry {
            name: b"/hello.c".to_vec(),
            kind: FileKind::File(PROBE_SOURCE.into()),
        };
        (Vec::new(), vec![file])
    } else {
        (PROBE_SOURCE.to_vec(), Vec::new())
    };
    Request {
        head,
        source,
        files,
    }
    .encode()
}

/// Send the probe job and wait for a successful reply.
fn compile(stream: &mut TcpStream, o: &Options, compiler: &str, deadline: Instant) -> bool {
    if stream
        .write_all(&probe_request(compiler, o.protocol))
        .is_err()
    {
        return false;
    }
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let limits = Limits::default();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return false;
        }
        let (n, eof) = match stream.read(&mut chunk) {
            Ok(0) => (0, true),
            Ok(n) => (n, false),
            Err(_) => return false,
        };
        buf.extend_from_slice(&chunk[..n]);
        match decode_response(&buf, &limits, eof) {
            Ok(Decoded::Done(r, _)) => return r.status == 0,
            Ok(Decoded::NeedMore(_)) if !eof => {}
            _ => return false,
        }
    }
}

/// Probe one host.
fn probe_one(name: String, o: &Options) -> Found {
    let mut found = Found {
        name,
        addr: None,
        up: false,
        latency_ms: 0,
    };
    if o.verbose {
        eprintln!("lsdistcc: looking up {}", found.name);
    }
    let Some(addr) = resolve(&found.name, o.port, o.dns_retry) else {
        return found;
    };
    found.addr = Some(addr.ip().to_string());
    let Some(connect) = o.connect else {
        // -c0: a name that resolves counts as up.
        found.up = true;
        return found;
    };
    let start = Instant::now();
    if o.verbose {
        eprintln!("lsdistcc: connecting to {addr}");
    }
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, connect) else {
        return found;
    };
    found.up = match (&o.compiler, o.compile) {
        (Some(cc), Some(limit)) => {
            if o.verbose {
                eprintln!("lsdistcc: {}: sending compile request", found.name);
            }
            compile(&mut stream, o, cc, start + limit)
        }
        _ => true,
    };
    found.latency_ms = start.elapsed().as_millis() as u64;
    found
}

/// Whether the first `bits` of two addresses agree (`-m`).
pub fn same_prefix(a: IpAddr, b: IpAddr, bits: u8) -> bool {
    fn octets(ip: IpAddr) -> Vec<u8> {
        match ip {
            IpAddr::V4(v) => v.octets().to_vec(),
            IpAddr::V6(v) => v.octets().to_vec(),
        }
    }
    let (a, b) = (octets(a), octets(b));
    if a.len() != b.len() {
        return bits == 0;
    }
    let bits = usize::from(bits).min(a.len() * 8);
    (0..bits).all(|i| (a[i / 8] ^ b[i / 8]) & (0x80 >> (i % 8)) == 0)
}

/// Names to probe: the explicit list, or the format expanded while names
/// resolve (stopping after `-g` misses in a row, or at the deadline).
fn names(o: &Options, deadline: Instant, domain: Option<&str>) -> Vec<String> {
    match &o.targets {
        Targets::Hosts(h) => h.clone(),
        Targets::Format(f) => {
            let mut out = Vec::new();
            let mut misses = 0;
            let mut i = 1;
            while Instant::now() < deadline && i < 10_000 {
                let batch: Vec<String> = (i..=i + o.overlap)
                    .map(|n| format_name(f, n, domain))
                    .collect();
                i += o.overlap + 1;
                for name in batch {
                    if resolve(&name, o.port, Duration::ZERO).is_some() {
                        misses = 0;
                        out.push(name);
                    } else {
                        misses += 1;
                        if misses > o.dns_gap {
                            return out;
                        }
                    }
                }
            }
            out
        }
    }
}

/// Probe every target in parallel; results come back in target order.
/// Hosts still unanswered at the deadline count as down.
pub fn probe_all(o: &Options, domain: Option<&str>) -> Vec<Found> {
    let deadline = Instant::now() + o.overall;
    let names = names(o, deadline, domain);
    let (tx, rx) = mpsc::channel();
    for (i, name) in names.iter().cloned().enumerate() {
        let (tx, o) = (tx.clone(), o.clone());
        thread::spawn(move || {
            let _ = tx.send((i, probe_one(name, &o)));
        });
    }
    drop(tx);
    let mut results: Vec<Found> = names
        .into_iter()
        .map(|name| Found {
            name,
            addr: None,
            up: false,
            latency_ms: 0,
        })
        .collect();
    while let Ok((i, found)) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        results[i] = found;
    }
    apply_match_bits(o, &mut results);
    results
}

/// `-m BITS`: hosts whose address does not share the first found host's
/// leading bits are dropped from the list.
fn apply_match_bits(o: &Options, results: &mut Vec<Found>) {
    if o.match_bits == 0 {
        return;
    }
    let first = results
        .iter()
        .filter(|f| f.up)
        .find_map(|f| f.addr.as_deref().and_then(|a| a.parse::<IpAddr>().ok()));
    if let Some(first) = first {
        results.retain(|f| {
            f.addr
                .as_deref()
                .and_then(|a| a.parse::<IpAddr>().ok())
                .is_none_or(|a| same_prefix(first, a, o.match_bits))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_request_follows_spec_1_11() {
        let v1 = probe_request("gcc", 1);
        assert!(v1.starts_with(b"DIST00000001ARGC00000005ARGV00000003gccARGV00000002-c"));
        assert!(v1.ends_with(b"DOTI00000015int foo(){return 0;}\n"));
        let v3 = probe_request("gcc", 3);
        assert!(v3.starts_with(b"DIST00000003CDIR00000001/ARGC00000005"));
        assert!(v3.windows(20).any(|w| w == b"NFIL00000001NAME0000"));
    }

    #[test]
    fn prefix_match_counts_leading_bits() {
        let a: IpAddr = "192.168.1.10".parse().unwrap();
        let b: IpAddr = "192.168.7.1".parse().unwrap();
        assert!(same_prefix(a, b, 16));
        assert!(!same_prefix(a, b, 24));
        assert!(same_prefix(a, b, 0));
    }
}
