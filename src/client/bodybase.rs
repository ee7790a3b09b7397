//! The client's base for preprocessed bodies (docs/extension.md §12): one
//! earlier body's headers per language, kept in
//! `$DISTCC_DIR/body-base/<extension>` (`i`, `ii`, ...), against which a
//! job's body goes as a delta to a daemon that chose `BODY_BASE`.
//!
//! The file is written rarely, never per job: when there is none (the
//! first job wins, others leave it), and when a body shares less than
//! half of itself with it and it is older than [`REFRESH_SECS`] (another
//! project's headers). Each job reads it once. Its first line names its
//! SHA-256, computed when it was written, so a job does not hash it; a
//! copy is only made of bytes compared with the body, and before the base
//! is sent to a daemon that asks for it (`XBAQ`) its digest is checked:
//! a damaged file is removed and the job sent again without it.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use tracing::debug;

use crate::client::extension::Session;
use crate::client::transport::remote::{self, RemoteError};
use crate::protocol::bodybase::{self, MAX_BASE};
use crate::protocol::codec::Codec;
use crate::protocol::ext::{cap, put};
use crate::protocol::hdrcache::{DIGEST_LEN, Digest};

/// The directory under `$DISTCC_DIR`.
pub const DIR: &str = "body-base";
/// A base that serves bodies poorly is replaced after this long: long
/// enough that jobs of two projects built at once do not rewrite it for
/// every job, short enough that the next project's build soon has its own.
pub const REFRESH_SECS: u64 = 60;
/// Bases smaller than this are not kept, and bodies smaller than this
/// are sent whole: too little to copy.
const MIN_BASE: usize = 4096;
/// The file's first line: this, the digest in hex, a newline.
const MAGIC: &str = "distcc-body-base 1 ";

/// A base read from its file.
#[derive(Clone, Debug)]
pub struct Base {
    /// The SHA-256 its first line names.
    pub digest: Digest,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Its file, removed if the bytes turn out not to be the digest's.
    pub path: PathBuf,
}

fn path(top: &Path, ext: &str) -> PathBuf {
    top.join(DIR).join(ext.trim_start_matches('.'))
}

/// The base for bodies of extension `ext` and its age, if there is a
/// readable one.
fn load(top: &Path, ext: &str) -> Option<(Base, Duration)> {
    let path = path(top, ext);
    let mut f = File::open(&path).ok()?;
    let meta = f.metadata().ok()?;
    if meta.len() > (MAX_BASE + MAGIC.len() + 2 * DIGEST_LEN + 1) as u64 {
        return None;
    }
    let age = meta
        .modified()
        .ok()
        .and_then(|m| SystemTime::now().duration_since(m).ok())
        .unwrap_or_default();
    let mut all = Vec::with_capacity(meta.len() as usize);
    f.read_to_end(&mut all).ok()?;
    let head = MAGIC.len() + 2 * DIGEST_LEN + 1;
    let hex = all.get(MAGIC.len()..head - 1)?;
    if !all.starts_with(MAGIC.as_bytes()) || all[head - 1] != b'\n' {
        return None;
    }
    let mut digest = [0u8; DIGEST_LEN];
    for (i, pair) in hex.chunks(2).enumerate() {
        let s = std::str::from_utf8(pair).ok()?;
        digest[i] = u8::from_str_radix(s, 16).ok()?;
    }
    all.drain(..head);
    let base = Base {
        digest: Digest(digest),
        bytes: all,
        path,
    };
    Some((base, age))
}

/// Keep `body`'s headers as the base for `ext`: only where there is none
/// unless `replace` (written to a temp file, then linked or renamed into
/// place, so a reader sees a whole file and concurrent first jobs leave
/// one base).
fn save(top: &Path, ext: &str, body: &[u8], replace: bool) {
    let base = bodybase::base_of(body);
    if !(MIN_BASE..=MAX_BASE).contains(&base.len()) {
        return;
    }
    let dir = top.join(DIR);
    let _ = fs::create_dir_all(&dir);
    let tmp = dir.join(format!(
        ".{}.{}",
        ext.trim_start_matches('.'),
        std::process::id()
    ));
    let hex: String = Digest::of(&base)
        .0
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let written = File::create(&tmp).and_then(|mut f| {
        f.write_all(format!("{MAGIC}{hex}\n").as_bytes())?;
        f.write_all(&base)
    });
    let target = path(top, ext);
    let placed = written.and_then(|()| match replace {
        true => fs::rename(&tmp, &target),
        false => fs::hard_link(&tmp, &target),
    });
    if placed.is_ok() {
        debug!(
            "body base {} written: {} bytes",
            target.display(),
            base.len()
        );
    }
    let _ = fs::remove_file(&tmp);
}

/// Send `body` (preprocessed text of extension `ext`) as `DOTI` in
/// `codec`: as a delta against this client's base when the session chose
/// `BODY_BASE` and the base shares some of it (the base is noted in the
/// session, for `XBAQ`). Afterwards the base is written or replaced when
/// due (see the module's doc).
pub fn send(
    conn: &mut impl Write,
    top: Option<&Path>,
    session: Option<&Session>,
    ext: Option<&str>,
    codec: Codec,
    body: &[u8],
) -> io::Result<()> {
    let (Some(top), Some(session), Some(ext)) = (top, session, ext) else {
        return remote::send_source_with(conn, codec, body);
    };
    // A body too small to leave a base gains too little to ask for one.
    if !session.choice.has(cap::BODY_BASE) || codec != Codec::Zstd || body.len() < MIN_BASE {
        return remote::send_source_with(conn, codec, body);
    }
    let loaded = load(top, ext);
    let delta = loaded
        .as_ref()
        .and_then(|(b, _)| bodybase::delta(&b.bytes, body));
    let copied: u64 = delta.as_ref().map_or(0, |(copies, _)| {
        copies.iter().map(|c| u64::from(c.len)).sum()
    });
    let sent = match (&loaded, &delta) {
        (Some((base, _)), Some((copies, lits))) => {
            let mut out = Vec::with_capacity(12 + DIGEST_LEN);
            put(&mut out, b"XBAS", DIGEST_LEN as u32);
            out.extend_from_slice(&base.digest.0);
            conn.write_all(&out)?;
            remote::send_source_with(conn, codec, &bodybase::encode(copies, lits))?;
            *session.base.borrow_mut() = Some(base.clone());
            debug!(
                "body sent against its base: {copied} of {} bytes copied",
                body.len()
            );
            Ok(())
        }
        _ => remote::send_source_with(conn, codec, body),
    };
    match &loaded {
        // A file there that is no base is replaced; else the first wins.
        None => save(top, ext, body, path(top, ext).exists()),
        Some((_, age)) if copied * 2 < body.len() as u64 && age.as_secs() >= REFRESH_SECS => {
            save(top, ext, body, true)
        }
        Some(_) => {}
    }
    sent
}

/// Answer `XBAQ`: the base this connection's `XBAS` named, as `XBAD`,
/// after checking it is what its name says. A damaged base is removed,
/// and the job goes again without it (no host is to blame).
pub fn answer(conn: &mut impl Write, session: &Session) -> Result<(), RemoteError> {
    let base = session.base.borrow();
    let Some(base) = base.as_ref() else {
        return Err(RemoteError::BadReply("XBAQ for a body sent without a base"));
    };
    if Digest::of(&base.bytes) != base.digest {
        let _ = fs::remove_file(&base.path);
        return Err(RemoteError::Resend(
            "the body's base here was damaged; removed",
        ));
    }
    let frame = Codec::Zstd.compress(&base.bytes);
    let mut out = Vec::with_capacity(12 + frame.len());
    put(&mut out, b"XBAD", frame.len() as u32);
    out.extend_from_slice(&frame);
    conn.write_all(&out).map_err(RemoteError::Io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(main: &str) -> Vec<u8> {
        let mut t = format!("# 0 \"{main}.c\"\n# 1 \"/usr/include/stdio.h\" 1 3 4\n");
        for j in 0..200 {
            t += &format!("extern int f_{j}(const char *restrict s, int n);\n");
        }
        t += &format!("# 3 \"{main}.c\" 2\nint {main}(void) {{ return 0; }}\n");
        t.into_bytes()
    }

    #[test]
    fn the_first_body_makes_the_base_and_later_ones_leave_it() {
        let top = std::env::temp_dir().join(format!("bodybase-{}", std::process::id()));
        let _ = fs::remove_dir_all(&top);
        fs::create_dir_all(&top).unwrap();
        assert!(load(&top, ".i").is_none());
        save(&top, ".i", &body("a"), false);
        let (a, age) = load(&top, ".i").unwrap();
        assert!(age.as_secs() < REFRESH_SECS);
        assert_eq!(a.digest, Digest::of(&a.bytes));
        assert_eq!(a.bytes, bodybase::base_of(&body("a")));
        // Another first job finds it there and leaves it.
        save(&top, ".i", &b"# 0 \"b.c\"\n".repeat(1000), false);
        assert_eq!(load(&top, ".i").unwrap().0.bytes, a.bytes);
        // Too small to keep; another language has its own.
        save(&top, ".ii", b"int x;\n", false);
        assert!(load(&top, ".ii").is_none());
        // A damaged first line is no base.
        fs::write(path(&top, ".i"), b"distcc-body-base 1 zz\nabc").unwrap();
        assert!(load(&top, ".i").is_none());
        fs::remove_dir_all(&top).unwrap();
    }
}
