//! The files of a pump job's request (protocol 3, spec §5): each by its
//! absolute name, with its bytes read now, or, when the include analysis
//! already knows its digest and size (from the include cache), read only
//! if it must travel: for 3.4's `NFIL` request always, through the header
//! cache ([`crate::client::pumpcache`]) only if the server lacks it.

use std::ffi::OsString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::client::pump::FORCING_FILE;
use crate::protocol::codec::Codec;
use crate::protocol::hdrcache::Digest;
use crate::protocol::{FileEntry, FileKind, Request, RequestHead};
use crate::pump::includes::Known;

/// One file of a pump job's request.
#[derive(Debug)]
pub struct Outgoing {
    /// Its absolute name on the wire.
    pub name: Vec<u8>,
    pub body: Body,
}

/// What is in hand of a file to send.
#[derive(Debug)]
pub enum Body {
    /// Its bytes, read.
    Bytes(Vec<u8>),
    /// Not read: its path, and its digest and size from the analysis.
    Unread(PathBuf, Known),
}

impl Outgoing {
    /// Its size, for the job's statistics.
    pub fn size(&self) -> u64 {
        match &self.body {
            Body::Bytes(b) => b.len() as u64,
            Body::Unread(_, k) => k.size,
        }
    }

    /// The SHA-256 of its contents, for the header cache's manifest.
    pub fn digest(&self) -> Digest {
        match &self.body {
            Body::Bytes(b) => Digest::of(b),
            Body::Unread(_, k) => k.digest,
        }
    }

    /// Its bytes, read now if they were not. `checked`: they must still be
    /// those of the digest the manifest named (the file may have changed
    /// since the include cache recorded it), else the job cannot go out.
    pub fn bytes(&self, checked: bool) -> io::Result<std::borrow::Cow<'_, [u8]>> {
        match &self.body {
            Body::Bytes(b) => Ok(b.into()),
            Body::Unread(p, k) => {
                let data = read(p)?;
                if checked && Digest::of(&data) != k.digest {
                    return Err(io::Error::other(format!(
                        "{} changed while the job was being sent",
                        p.display()
                    )));
                }
                Ok(data.into())
            }
        }
    }
}

fn read(f: &Path) -> io::Result<Vec<u8>> {
    std::fs::read(f).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", f.display())))
}

/// The files of a protocol 3 request: `files` by their absolute names,
/// read now unless `known` gives their digest (the header cache may not
/// need them), then an empty [`FORCING_FILE`] in each of `dirs`.
pub fn outgoing(
    files: &[PathBuf],
    known: &[Option<Known>],
    dirs: &[PathBuf],
) -> io::Result<Vec<Outgoing>> {
    let mut out = Vec::with_capacity(files.len() + dirs.len());
    for (i, f) in files.iter().enumerate() {
        let body = match known.get(i).copied().flatten() {
            Some(k) => Body::Unread(f.clone(), k),
            None => Body::Bytes(read(f)?),
        };
        out.push(Outgoing {
            name: f.as_os_str().as_bytes().to_vec(),
            body,
        });
    }
    for d in dirs {
        out.push(Outgoing {
            name: d.join(FORCING_FILE).as_os_str().as_bytes().to_vec(),
            body: Body::Bytes(Vec::new()),
        });
    }
    Ok(out)
}

/// The whole protocol 3 request: DIST, CDIR, the argv as it is (the
/// server needs `-I` and `-D`), NFIL and the `files` (read now where they
/// were not), bodies in `codec` (LZO, or the extension's zstd).
pub fn request(
    argv: &[OsString],
    cwd: &Path,
    files: &[Outgoing],
    codec: Codec,
) -> io::Result<Vec<u8>> {
    let files = files
        .iter()
        .map(|f| {
            Ok(FileEntry {
                name: f.name.clone(),
                kind: FileKind::File(f.bytes(false)?.into_owned()),
            })
        })
        .collect::<io::Result<_>>()?;
    Ok(Request {
        head: RequestHead {
            version: 3,
            cwd: Some(cwd.as_os_str().as_bytes().to_vec()),
            argv: argv.iter().map(|a| a.as_bytes().to_vec()).collect(),
        },
        source: Vec::new(),
        files,
    }
    .encode_with(codec))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::args::os::words as v;

    #[test]
    fn the_request_carries_every_file_by_its_absolute_name() {
        use crate::protocol::{Decoded, Limits, decode_request};
        let dir = std::env::temp_dir().join(format!("dcc-pumpreq-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let src = dir.join("x.c");
        std::fs::write(&src, "#include \"x.h\"\nint x;\n").unwrap();
        let hdr = dir.join("x.h");
        std::fs::write(&hdr, "int y;\n").unwrap();
        // The header is known (as from the include cache): read when the
        // request is made, not before.
        let known = Known {
            digest: Digest::of(b"int y;\n"),
            size: 7,
        };
        let files = outgoing(
            &[src.clone(), hdr.clone()],
            &[None, Some(known)],
            &[dir.join("sub")],
        )
        .unwrap();
        assert!(matches!(files[0].body, Body::Bytes(_)));
        assert!(matches!(files[1].body, Body::Unread(..)));
        assert_eq!(files[1].size(), 7);
        assert_eq!(files[1].digest(), known.digest);
        let bytes = request(&v("gcc -c x.c -o x.o"), &dir, &files, Codec::Lzo).unwrap();
        let Decoded::Done(req, used) = decode_request(&bytes, &Limits::default()).unwrap() else {
            panic!("incomplete request");
        };
        assert_eq!(used, bytes.len());
        assert_eq!(req.head.version, 3);
        assert_eq!(req.head.cwd.as_deref(), Some(dir.as_os_str().as_bytes()));
        assert_eq!(req.files.len(), 3);
        assert_eq!(req.files[1].name, hdr.as_os_str().as_bytes());
        assert_eq!(req.files[1].kind, FileKind::File(b"int y;\n".to_vec()));
        let forcing = dir.join("sub").join(FORCING_FILE);
        assert_eq!(req.files[2].name, forcing.as_os_str().as_bytes());
        assert_eq!(req.files[2].kind, FileKind::File(Vec::new()));
        let gone = outgoing(&[dir.join("missing.h")], &[], &[]).unwrap_err();
        assert!(gone.to_string().contains("missing.h"), "{gone}");
        // A known file changed since its digest was taken: refused when
        // checked (the header cache's manifest named the old bytes).
        std::fs::write(&hdr, "int z;\n").unwrap();
        let err = files[1].bytes(true).unwrap_err();
        assert!(err.to_string().contains("changed while"), "{err}");
        assert_eq!(&*files[1].bytes(false).unwrap(), b"int z;\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
