//! Answers for 3.4's subtype query, which `mdns-sd` 0.21 gets wrong: asked
//! for `<subtype>._sub._distcc._tcp.local. PTR`, it answers with a record
//! named `_distcc._tcp.local.`, which a browser of the subtype (Avahi's,
//! so 3.4's client; and `mdns-sd`'s own) ignores. Only its unsolicited
//! announcements at start-up carry the right name. This listener answers
//! that one question with the right PTR record; the instance's SRV, TXT
//! and address records, which the asker looks up next, `mdns-sd` answers
//! correctly.
//!
//! The packet work (reading questions, writing the answer) is pure and
//! tested here; the socket shares port 5353 with `mdns-sd` (SO_REUSEPORT,
//! as every mDNS stack on a host does).

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::OwnedFd;
use std::time::Duration;

use nix::sys::socket::{self, AddressFamily, SockFlag, SockType, SockaddrIn, sockopt};

/// mDNS group and port.
const GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 251);
const PORT: u16 = 5353;
/// TTL of the PTR record: RFC 6762's for records not tied to a host name.
const PTR_TTL: u32 = 4500;
/// TTL of records tied to a host name (SRV, A).
const HOST_TTL: u32 = 120;
const TYPE_A: u16 = 1;
const TYPE_PTR: u16 = 12;
const TYPE_TXT: u16 = 16;
const TYPE_SRV: u16 = 33;
const TYPE_ANY: u16 = 255;

/// Names in DNS wire form are lists of labels; compared without case.
fn split(name: &str) -> Vec<String> {
    name.trim_end_matches('.')
        .split('.')
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Read a possibly compressed name at `pos`; returns its labels and the
/// position after it in the packet (not after a pointer's target).
fn read_name(pkt: &[u8], mut pos: usize) -> Option<(Vec<String>, usize)> {
    let mut labels = Vec::new();
    let mut end = None;
    for _ in 0..64 {
        let len = *pkt.get(pos)? as usize;
        if len & 0xc0 == 0xc0 {
            let target = ((len & 0x3f) << 8) | *pkt.get(pos + 1)? as usize;
            end.get_or_insert(pos + 2);
            pos = target;
            continue;
        }
        if len == 0 {
            return Some((labels, end.unwrap_or(pos + 1)));
        }
        let label = pkt.get(pos + 1..pos + 1 + len)?;
        labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
        pos += 1 + len;
    }
    None
}

/// Does this packet ask (as a query, not a response) for a PTR of
/// `subtype` (or ANY)?
pub fn asks_for(pkt: &[u8], subtype: &str) -> bool {
    if pkt.len() < 12 || pkt[2] & 0x80 != 0 {
        return false;
    }
    let want = split(subtype);
    let questions = u16::from_be_bytes([pkt[4], pkt[5]]);
    let mut pos = 12;
    for _ in 0..questions {
        let Some((name, after)) = read_name(pkt, pos) else {
            return false;
        };
        let Some(t) = pkt.get(after..after + 4) else {
            return false;
        };
        let qtype = u16::from_be_bytes([t[0], t[1]]);
        if name == want && (qtype == TYPE_PTR || qtype == TYPE_ANY) {
            return true;
        }
        pos = after + 4;
    }
    false
}

fn write_name(out: &mut Vec<u8>, labels: &[&str]) {
    for l in labels {
        let bytes = l.as_bytes();
        out.push(bytes.len().min(63) as u8);
        out.extend_from_slice(&bytes[..bytes.len().min(63)]);
    }
    out.push(0);
}

/// What the answer says: the instance behind the subtype and how to
/// reach it.
#[derive(Clone, Debug)]
pub struct Instance {
    /// `<subtype>._sub._distcc._tcp.local.`
    pub subtype: String,
    /// `distcc@host` (one label).
    pub name: String,
    /// `_distcc._tcp.local.`
    pub service: String,
    /// `host.local.`
    pub host: String,
    /// The daemon's port.
    pub port: u16,
    /// The TXT pairs.
    pub txt: Vec<(String, String)>,
}

fn record(out: &mut Vec<u8>, name: &[&str], rtype: u16, flush: bool, ttl: u32, rdata: &[u8]) {
    write_name(out, name);
    out.extend_from_slice(&rtype.to_be_bytes());
    let class: u16 = if flush { 0x8001 } else { 1 };
    out.extend_from_slice(&class.to_be_bytes());
    out.extend_from_slice(&ttl.to_be_bytes());
    out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    out.extend_from_slice(rdata);
}

fn labels(name: &str) -> Vec<&str> {
    name.trim_end_matches('.').split('.').collect()
}

/// The response sent on the interface with address `addr`: the PTR record
/// `subtype` → instance, and, as mDNS answers carry them, the instance's
/// SRV and TXT records and the host's address on that interface, so the
/// asker needs no second round.
pub fn answer(i: &Instance, addr: Ipv4Addr) -> Vec<u8> {
    let mut out = vec![0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 3];
    let mut instance: Vec<&str> = vec![i.name.as_str()];
    instance.extend(labels(&i.service));
    let mut rdata = Vec::new();
    write_name(&mut rdata, &instance);
    record(
        &mut out,
        &labels(&i.subtype),
        TYPE_PTR,
        false,
        PTR_TTL,
        &rdata,
    );
    let mut srv = vec![0, 0, 0, 0];
    srv.extend_from_slice(&i.port.to_be_bytes());
    write_name(&mut srv, &labels(&i.host));
    record(&mut out, &instance, TYPE_SRV, true, HOST_TTL, &srv);
    let mut txt = Vec::new();
    for (k, v) in &i.txt {
        let item = format!("{k}={v}");
        let bytes = &item.as_bytes()[..item.len().min(255)];
        txt.push(bytes.len() as u8);
        txt.extend_from_slice(bytes);
    }
    record(&mut out, &instance, TYPE_TXT, true, PTR_TTL, &txt);
    record(
        &mut out,
        &labels(&i.host),
        TYPE_A,
        true,
        HOST_TTL,
        &addr.octets(),
    );
    out
}

/// The host's IPv4 interface addresses, loopback excepted.
fn interfaces() -> Vec<Ipv4Addr> {
    let Ok(addrs) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    let mut out: Vec<Ipv4Addr> = addrs
        .filter_map(|i| i.address?.as_sockaddr_in().map(|a| a.ip()))
        .filter(|a| !a.is_loopback())
        .collect();
    out.sort();
    out.dedup();
    out
}

fn open() -> nix::Result<UdpSocket> {
    let fd: OwnedFd = socket::socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    socket::setsockopt(&fd, sockopt::ReuseAddr, &true)?;
    socket::setsockopt(&fd, sockopt::ReusePort, &true)?;
    socket::bind(
        std::os::fd::AsRawFd::as_raw_fd(&fd),
        &SockaddrIn::from(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, PORT)),
    )?;
    Ok(UdpSocket::from(fd))
}

/// Start the listener thread; it lives as long as the process. Errors are
/// returned for a warning: the main announcement works without it, only
/// browsers of the subtype that start later miss the daemon.
pub fn start(instance: Instance) -> Result<(), String> {
    let sock = open().map_err(|e| format!("cannot listen on port {PORT}: {e}"))?;
    let _ = sock.set_multicast_ttl_v4(255);
    let _ = sock.set_read_timeout(Some(Duration::from_secs(30)));
    std::thread::Builder::new()
        .name("zeroconf-subtype".into())
        .spawn(move || {
            let mut joined = Vec::new();
            let mut buf = [0u8; 9000];
            loop {
                // Interfaces come and go: join new ones as they appear.
                for a in interfaces() {
                    if !joined.contains(&a) && sock.join_multicast_v4(&GROUP, &a).is_ok() {
                        joined.push(a);
                    }
                }
                let Ok((n, _from)) = sock.recv_from(&mut buf) else {
                    continue;
                };
                if !asks_for(&buf[..n], &instance.subtype) {
                    continue;
                }
                // Shared record: RFC 6762 wants 20-120 ms of delay.
                std::thread::sleep(Duration::from_millis(
                    20 + u64::from(std::process::id() % 100),
                ));
                for a in &joined {
                    let _ = socket2::SockRef::from(&sock).set_multicast_if_v4(a);
                    let reply = answer(&instance, *a);
                    let _ = sock.send_to(&reply, SocketAddrV4::new(GROUP, PORT));
                }
            }
        })
        .map(|_| ())
        .map_err(|e| format!("cannot start a thread: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUB: &str = "_x86-64-linux-gnu--12._sub._distcc._tcp.local.";

    fn query(name: &str, qtype: u16) -> Vec<u8> {
        let mut q = vec![0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        let labels: Vec<&str> = name.trim_end_matches('.').split('.').collect();
        write_name(&mut q, &labels);
        q.extend_from_slice(&qtype.to_be_bytes());
        q.extend_from_slice(&1u16.to_be_bytes());
        q
    }

    #[test]
    fn the_subtype_question_is_recognised() {
        assert!(asks_for(&query(SUB, TYPE_PTR), SUB));
        assert!(asks_for(&query(&SUB.to_uppercase(), TYPE_PTR), SUB));
        assert!(!asks_for(&query("_distcc._tcp.local.", TYPE_PTR), SUB));
        assert!(!asks_for(&query(SUB, 33), SUB));
        let mut response = query(SUB, TYPE_PTR);
        response[2] = 0x84;
        assert!(!asks_for(&response, SUB), "responses are not questions");
        assert!(!asks_for(&[0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63], SUB));
    }

    #[test]
    fn compressed_question_names_are_followed() {
        // Second question: "_sub" pointer-compressed onto the first's tail.
        let mut q = vec![0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0];
        write_name(&mut q, &["_distcc", "_tcp", "local"]);
        q.extend_from_slice(&[0, 12, 0, 1]);
        q.extend_from_slice(&[21]);
        q.extend_from_slice(b"_x86-64-linux-gnu--12");
        q.extend_from_slice(&[4]);
        q.extend_from_slice(b"_sub");
        q.extend_from_slice(&[0xc0, 12, 0, 12, 0, 1]);
        assert!(asks_for(&q, SUB));
    }

    #[test]
    fn the_answer_names_the_subtype_the_instance_and_how_to_reach_it() {
        let i = Instance {
            subtype: SUB.into(),
            name: "distcc@h1".into(),
            service: "_distcc._tcp.local.".into(),
            host: "h1.local.".into(),
            port: 3632,
            txt: vec![("jobs".into(), "3".into())],
        };
        let a = answer(&i, Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(&a[..12], &[0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 3]);
        let (name, after) = read_name(&a, 12).unwrap();
        assert_eq!(name, split(SUB));
        assert_eq!(&a[after..after + 4], &[0, 12, 0, 1]);
        let (target, end) = read_name(&a, after + 10).unwrap();
        assert_eq!(target, ["distcc@h1", "_distcc", "_tcp", "local"]);
        // SRV: the port after priority and weight.
        let (srv_name, after) = read_name(&a, end).unwrap();
        assert_eq!(srv_name, target);
        assert_eq!(&a[after..after + 4], &[0, 33, 0x80, 1]);
        assert_eq!(&a[after + 14..after + 16], &3632u16.to_be_bytes());
        assert!(
            a.windows(7)
                .any(|w| w == [6, b'j', b'o', b'b', b's', b'=', b'3'])
        );
        assert!(a.ends_with(&[0, 1, 0x80, 1, 0, 0, 0, 120, 0, 4, 10, 0, 0, 2]));
    }
}
