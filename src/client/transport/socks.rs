//! SOCKS5 CONNECT (RFC 1928), as Gentoo's `distcc-3.2_rc1-socks5.patch`
//! does it and Portage's network sandbox expects (packaging notes §3.4):
//! greeting with "no authentication", then CONNECT with the address type
//! DOMAINNAME, so that names are resolved by the proxy.

use std::io::{self, Read, Write};

/// Split `host[:port]` (`[v6]:port` too); the port defaults to 1080.
pub fn split_proxy(spec: &str) -> io::Result<(String, u16)> {
    let bad = || {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("DISTCC_SOCKS_PROXY {spec:?} is not a socket path or host[:port]"),
        )
    };
    if let Some(rest) = spec.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(bad)?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| bad())?,
            None if after.is_empty() => 1080,
            None => return Err(bad()),
        };
        return Ok((host.to_owned(), port));
    }
    match spec.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => {
            Ok((host.to_owned(), port.parse().map_err(|_| bad())?))
        }
        _ if !spec.is_empty() => Ok((spec.to_owned(), 1080)),
        _ => Err(bad()),
    }
}

/// The CONNECT request for `host:port`.
pub fn connect_request(host: &str, port: u16) -> io::Result<Vec<u8>> {
    if host.is_empty() || host.len() > 255 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("host name {host:?} cannot be sent to a SOCKS5 proxy"),
        ));
    }
    let mut req = vec![5, 1, 0, 3, host.len() as u8];
    req.extend_from_slice(host.as_bytes());
    req.extend_from_slice(&port.to_be_bytes());
    Ok(req)
}

fn reply_error(code: u8) -> String {
    match code {
        1 => "general failure".into(),
        2 => "connection not allowed by ruleset".into(),
        3 => "network unreachable".into(),
        4 => "host unreachable".into(),
        5 => "connection refused".into(),
        6 => "TTL expired".into(),
        7 => "command not supported".into(),
        8 => "address type not supported".into(),
        n => format!("error {n}"),
    }
}

/// Ask the proxy on `conn` to connect to `host:port`.
pub fn connect(conn: &mut (impl Read + Write), host: &str, port: u16) -> io::Result<()> {
    let proto = |m: String| io::Error::new(io::ErrorKind::InvalidData, m);
    conn.write_all(&[5, 1, 0])?;
    let mut hello = [0u8; 2];
    conn.read_exact(&mut hello)?;
    if hello != [5, 0] {
        return Err(proto(format!(
            "proxy does not offer SOCKS5 without authentication (answered {hello:02x?})"
        )));
    }
    conn.write_all(&connect_request(host, port)?)?;
    let mut head = [0u8; 4];
    conn.read_exact(&mut head)?;
    if head[0] != 5 {
        return Err(proto(format!("not a SOCKS5 reply ({:02x?})", head)));
    }
    if head[1] != 0 {
        return Err(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            format!(
                "proxy could not reach {host}:{port}: {}",
                reply_error(head[1])
            ),
        ));
    }
    let addr_len = match head[3] {
        1 => 4,
        4 => 16,
        3 => {
            let mut n = [0u8; 1];
            conn.read_exact(&mut n)?;
            usize::from(n[0])
        }
        t => return Err(proto(format!("unknown address type {t} in SOCKS5 reply"))),
    };
    let mut rest = vec![0u8; addr_len + 2];
    conn.read_exact(&mut rest)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_specs() {
        assert_eq!(split_proxy("proxy").unwrap(), ("proxy".into(), 1080));
        assert_eq!(split_proxy("proxy:9050").unwrap(), ("proxy".into(), 9050));
        assert_eq!(split_proxy("[::1]:9050").unwrap(), ("::1".into(), 9050));
        assert_eq!(split_proxy("[::1]").unwrap(), ("::1".into(), 1080));
        assert!(split_proxy("proxy:x").is_err());
        assert!(split_proxy("").is_err());
    }

    #[test]
    fn connect_request_uses_domain_names() {
        assert_eq!(
            connect_request("h1", 3632).unwrap(),
            vec![5, 1, 0, 3, 2, b'h', b'1', 0x0e, 0x30]
        );
        assert!(connect_request(&"x".repeat(256), 1).is_err());
    }

    /// A scripted peer: replies from `input`, records what we write.
    struct Script {
        input: io::Cursor<Vec<u8>>,
        output: Vec<u8>,
    }
    impl Read for Script {
        fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
            self.input.read(b)
        }
    }
    impl Write for Script {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.output.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn handshake_and_refusal() {
        let mut ok = Script {
            input: io::Cursor::new(vec![5, 0, 5, 0, 0, 1, 127, 0, 0, 1, 0, 80]),
            output: Vec::new(),
        };
        connect(&mut ok, "h", 80).unwrap();
        assert_eq!(&ok.output[..3], &[5, 1, 0]);
        let mut refused = Script {
            input: io::Cursor::new(vec![5, 0, 5, 5, 0, 1]),
            output: Vec::new(),
        };
        let e = connect(&mut refused, "h", 80).unwrap_err();
        assert!(e.to_string().contains("connection refused"), "{e}");
    }
}
