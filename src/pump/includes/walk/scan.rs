//! Reading a file and listing the names it mentions: straight from the
//! bytes, or through the build's include cache ([`Cache`]).

use std::path::Path;

use super::Known;
use crate::protocol::hdrcache::Digest;
use crate::pump::includes::GiveUp;
use crate::pump::includes::cache::{Cache, Lookup};
use crate::pump::includes::lexer::{self, Directive};

pub(super) fn read(file: &Path) -> Result<Vec<u8>, GiveUp> {
    std::fs::read(file).map_err(|e| GiveUp(format!("cannot read {}: {e}", file.display())))
}

pub(super) fn lex(bytes: &[u8], file: &Path) -> Result<Vec<Directive>, GiveUp> {
    lexer::scan(bytes).map_err(|c| computed(file, c))
}

pub(super) fn computed(file: &Path, c: lexer::Computed) -> GiveUp {
    GiveUp(format!("{} at {}:{}", c.what, file.display(), c.line))
}

/// The names `file` mentions and its digest, from its record in `cache`
/// when that still holds; otherwise read (and lexed unless its bytes are
/// unchanged) and recorded. A file with a computed name gets no record:
/// the job goes to plain mode anyway.
pub(super) fn cached_scan(
    cache: &mut Cache,
    file: &Path,
) -> Result<(Vec<Directive>, Option<Known>), GiveUp> {
    let (key, old) = match cache.lookup(file) {
        Lookup::Hit(d, digest, size) => return Ok((d, Some(Known { digest, size }))),
        Lookup::Read(key, old) => (key, old),
        Lookup::Gone => return Ok((lex(&read(file)?, file)?, None)),
    };
    let bytes = read(file)?;
    let digest = Digest::of(&bytes);
    let directives = match old {
        Some((h, d)) if h == digest => {
            cache.same_bytes();
            d
        }
        _ => {
            cache.lexed();
            lex(&bytes, file)?
        }
    };
    cache.store(file, key, digest, &directives);
    let size = bytes.len() as u64;
    Ok((directives, Some(Known { digest, size })))
}
