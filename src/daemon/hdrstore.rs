//! The server's header cache (docs/extension.md §10): file contents
//! received in pump-mode jobs, keyed by their SHA-256 only, kept in
//! memory up to `--header-cache-size` bytes, the least recently used
//! dropped first.
//!
//! Contents only: which path a content appears under is decided by each
//! job's own manifest, so a file one client sent is only ever seen under
//! the paths another client names for the same bytes. A body is stored
//! only after its digest was checked, so no client can put bytes under a
//! digest they do not have.
//!
//! A job takes what it needs as shared handles ([`Arc`]) when it reads its
//! manifest; an entry evicted meanwhile stays alive until that job has
//! written it out. So the store may briefly exceed its size by what
//! running jobs hold.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use crate::protocol::hdrcache::Digest;

/// The default `--header-cache-size`: 256 MiB, the headers of several
/// large projects.
pub const DEFAULT_SIZE: u64 = 256 << 20;

#[derive(Debug)]
struct Entry {
    data: Arc<[u8]>,
    used: u64,
}

#[derive(Debug, Default)]
struct Inner {
    map: HashMap<Digest, Entry>,
    /// Last use → digest, oldest first.
    order: BTreeMap<u64, Digest>,
    bytes: u64,
    clock: u64,
}

/// What the store holds, for the log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Contents held.
    pub files: usize,
    /// Their bytes.
    pub bytes: u64,
    /// Contents dropped to make room, since start.
    pub evicted: u64,
}

/// The store, shared by all jobs.
#[derive(Debug)]
pub struct HeaderStore {
    cap: u64,
    inner: Mutex<Inner>,
    evicted: std::sync::atomic::AtomicU64,
}

impl HeaderStore {
    /// A store of at most `cap` bytes.
    pub fn new(cap: u64) -> Self {
        Self {
            cap,
            inner: Mutex::new(Inner::default()),
            evicted: 0.into(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A job that panicked holding the lock left consistent maps: every
        // change below is completed before the guard drops.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The contents with `digest`, marked as just used.
    pub fn get(&self, digest: &Digest) -> Option<Arc<[u8]>> {
        let mut g = self.lock();
        let inner = &mut *g;
        inner.clock += 1;
        let now = inner.clock;
        let e = inner.map.get_mut(digest)?;
        inner.order.remove(&e.used);
        e.used = now;
        inner.order.insert(now, *digest);
        Some(e.data.clone())
    }

    /// Keep `data`, whose digest the caller has checked is `digest`,
    /// dropping the least recently used contents until it fits. Contents
    /// larger than the whole store are not kept.
    pub fn put(&self, digest: Digest, data: Arc<[u8]>) {
        let size = data.len() as u64;
        if size > self.cap {
            return;
        }
        let mut g = self.lock();
        let inner = &mut *g;
        if inner.map.contains_key(&digest) {
            return;
        }
        while inner.bytes + size > self.cap {
            let Some((_, old)) = inner.order.pop_first() else {
                break;
            };
            if let Some(e) = inner.map.remove(&old) {
                inner.bytes -= e.data.len() as u64;
                self.evicted
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
        inner.clock += 1;
        let used = inner.clock;
        inner.order.insert(used, digest);
        inner.bytes += size;
        inner.map.insert(digest, Entry { data, used });
    }

    /// What it holds now.
    pub fn usage(&self) -> Usage {
        let g = self.lock();
        Usage {
            files: g.map.len(),
            bytes: g.bytes,
            evicted: self.evicted.load(std::sync::atomic::Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(s: &HeaderStore, text: &str) -> Digest {
        let d = Digest::of(text.as_bytes());
        s.put(d, Arc::from(text.as_bytes()));
        d
    }

    #[test]
    fn the_least_recently_used_goes_first() {
        let s = HeaderStore::new(10);
        let a = put(&s, "aaaa");
        let b = put(&s, "bbbb");
        assert_eq!(s.usage().bytes, 8);
        // a is used again, so b is the oldest when c needs room.
        assert_eq!(s.get(&a).as_deref(), Some(&b"aaaa"[..]));
        let c = put(&s, "cccc");
        assert!(s.get(&b).is_none());
        assert!(s.get(&a).is_some() && s.get(&c).is_some());
        assert_eq!(
            s.usage(),
            Usage {
                files: 2,
                bytes: 8,
                evicted: 1
            }
        );
        // Too big for the whole store: not kept, nothing evicted for it.
        let big = put(&s, "0123456789x");
        assert!(s.get(&big).is_none());
        assert_eq!(s.usage().files, 2);
        // The same contents twice are kept once.
        put(&s, "aaaa");
        assert_eq!(s.usage().bytes, 8);
    }

    #[test]
    fn a_held_entry_outlives_its_eviction() {
        let s = HeaderStore::new(4);
        let a = put(&s, "aaaa");
        let held = s.get(&a).unwrap();
        put(&s, "bbbb");
        assert!(s.get(&a).is_none());
        assert_eq!(&held[..], b"aaaa");
    }
}
