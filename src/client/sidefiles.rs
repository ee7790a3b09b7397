//! The side files of a job that come back in `XOUT` (docs/extension.md
//! §8, capability `OUTPUTS`): read after the 3.4 reply, checked against
//! the names the command writes, and written beside the object under
//! temp names that the reply's reader renames into place with it.

use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use tracing::debug;

use crate::args::os::os;
use crate::args::outputs;
use crate::client::extension::io_error;
use crate::client::local::output::Output;
use crate::client::transport::remote::RemoteError;
use crate::protocol::codec::Codec;
use crate::protocol::ext;
use crate::protocol::token::{HEADER_LEN, Header};
use crate::protocol::{Limits, ProtocolError};

/// The side files of a job sent with `OUTPUTS` (docs/extension.md §8).
#[derive(Debug)]
pub struct Side<'a> {
    /// The object's directory, as written (empty: the working directory).
    pub dir: PathBuf,
    /// The names the server may send back: those the command writes.
    pub allowed: Vec<OsString>,
    /// Side files made here (`-save-temps`' preprocessed text): name and
    /// bytes, put in place with the others.
    pub own: Vec<(OsString, &'a [u8])>,
}

fn bad_xout(what: &'static str) -> RemoteError {
    RemoteError::Protocol(ProtocolError::Ext {
        token: *b"XOUT",
        what,
    })
}

/// Read one extension header, which must be `token`.
fn item(conn: &mut dyn Read, token: &'static [u8; 4]) -> Result<u32, RemoteError> {
    let mut head = [0u8; HEADER_LEN];
    conn.read_exact(&mut head)
        .map_err(|e| io_error(e, "XOUT"))?;
    let h = Header::decode(&head)
        .map_err(RemoteError::Protocol)?
        .expect("12 bytes");
    if &h.token != token {
        return Err(RemoteError::Protocol(ProtocolError::UnexpectedToken {
            expected: std::str::from_utf8(token).unwrap_or("?"),
            got: h.token,
        }));
    }
    Ok(h.param)
}

fn body(conn: &mut dyn Read, len: u32) -> Result<Vec<u8>, RemoteError> {
    let mut data = vec![0u8; len as usize];
    conn.read_exact(&mut data)
        .map_err(|e| io_error(e, "XOUT"))?;
    Ok(data)
}

/// Read `XOUT` and write its files beside the object under temp names
/// (renamed into place by the caller with the object): only names in
/// `side.allowed`, each once, so a server never writes anything else.
pub fn read_outputs(
    conn: &mut dyn Read,
    codec: Codec,
    limits: &Limits,
    side: &Side<'_>,
) -> Result<Vec<Output>, RemoteError> {
    let n = item(conn, b"XOUT")?;
    if n > ext::MAX_OUTPUTS || n as usize > side.allowed.len() {
        return Err(bad_xout("more files than the command writes"));
    }
    let mut names: Vec<Vec<u8>> = Vec::new();
    let mut files = Vec::new();
    for _ in 0..n {
        let len = item(conn, b"NAME")?;
        if len > ext::MAX_OUTPUT_NAME {
            return Err(bad_xout("a name longer than 255 bytes"));
        }
        let name = body(conn, len)?;
        if !outputs::allowed_name(&name, &side.allowed) || names.contains(&name) {
            debug!(
                "XOUT names {:?}; the command writes only {:?}",
                String::from_utf8_lossy(&name),
                side.allowed
            );
            return Err(bad_xout("a file the command does not write"));
        }
        let len = item(conn, b"FILE")?;
        if u64::from(len) > limits.max_body {
            return Err(bad_xout("a file above the size limit"));
        }
        let data = codec
            .decompress(&body(conn, len)?, limits.max_body)
            .map_err(|e| RemoteError::Protocol(ProtocolError::Codec(e)))?;
        files.push(side_file(&side.dir, os(&name), &data)?);
        names.push(name);
    }
    for (name, data) in &side.own {
        files.push(side_file(&side.dir, name, data)?);
    }
    Ok(files)
}

fn side_file(dir: &Path, name: &OsStr, data: &[u8]) -> Result<Output, RemoteError> {
    let mut f = Output::create(&dir.join(name)).map_err(RemoteError::Output)?;
    f.write_all(data).map_err(RemoteError::Output)?;
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn xout_writes_only_the_expected_names_and_nothing_on_a_bad_one() {
        let dir = std::env::temp_dir().join(format!("distcc-xout-{}", std::process::id()));
        let side = Side {
            dir: dir.clone(),
            allowed: vec!["x.dwo".into(), "x.su".into()],
            own: vec![("x.i".into(), b"# 1 \"x.c\"\n")],
        };
        let limits = Limits::default();
        let mut bytes = Vec::new();
        let files = [(b"x.su".to_vec(), b"x.c:1:5:main\t16\tstatic\n".to_vec())];
        ext::encode_outputs(&files, Codec::Zstd, &mut bytes);
        let got = read_outputs(&mut &bytes[..], Codec::Zstd, &limits, &side).unwrap();
        assert_eq!(got.len(), 2);
        for f in got {
            f.commit().unwrap();
        }
        assert_eq!(fs::read(dir.join("x.su")).unwrap(), files[0].1);
        assert_eq!(fs::read(dir.join("x.i")).unwrap(), b"# 1 \"x.c\"\n");
        fs::remove_dir_all(&dir).unwrap();
        // A server never writes a name the command does not, twice the
        // same, or more files than the command writes; a cut reply leaves
        // no temp file.
        let dup = (b"x.su".to_vec(), Vec::new());
        for bad in [
            vec![(b"../x.su".to_vec(), b"evil".to_vec())],
            vec![(b"x.o".to_vec(), b"evil".to_vec())],
            vec![(b"sub/x.su".to_vec(), Vec::new())],
            vec![dup.clone(), dup.clone()],
            vec![dup.clone(), dup.clone(), dup],
        ] {
            let mut bytes = Vec::new();
            ext::encode_outputs(&bad, Codec::Raw, &mut bytes);
            let e = read_outputs(&mut &bytes[..], Codec::Raw, &limits, &side).unwrap_err();
            assert!(matches!(e, RemoteError::Protocol(_)), "{bad:?}: {e:?}");
            assert!(!dir.exists() || fs::read_dir(&dir).unwrap().count() == 0);
        }
        let mut bytes = Vec::new();
        ext::encode_outputs(&files, Codec::Raw, &mut bytes);
        let e = read_outputs(&mut &bytes[..bytes.len() - 3], Codec::Raw, &limits, &side);
        assert!(matches!(e, Err(RemoteError::Eof(_))), "{e:?}");
        assert!(!dir.exists() || fs::read_dir(&dir).unwrap().count() == 0);
        let _ = fs::remove_dir_all(&dir);
    }
}
