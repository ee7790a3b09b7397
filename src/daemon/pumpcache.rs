//! A pump job's files through the header cache (docs/extension.md §10):
//! read the manifest, answer which contents the store lacks (`XWNT`),
//! then write every entry into the mirror in the manifest's order, from
//! the store or from the body the client sent for it.
//!
//! Each received body is hashed and must have the digest its entry names
//! before it is stored or written: the store holds only contents whose
//! digest is right, so a client can never make another one's path read
//! bytes that path's digest does not name. What lands under a path is
//! what this job's manifest says for that path.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};

use super::extension;
use super::hdrstore::HeaderStore;
use super::incoming::{Incoming, offload};
use super::job::{JobSettings, Stop, io_stop, read_stop, read_stop_after_head, refuse};
use super::pumpjob::{link, write};
use super::tree::Tree;
use crate::protocol::hdrcache::{Content, Digest, Item, encode_want};

/// Receive the job's files into `tree`: the count and their bytes. The
/// manifest is read here unless the request brought it (`items`, a
/// request by reference).
pub(super) async fn receive<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(
    inc: &mut Incoming<R>,
    version: u32,
    tree: &mut Tree,
    s: &JobSettings,
    store: &HeaderStore,
    writer: &mut W,
    items: Option<Vec<Item>>,
) -> Result<(u32, u64), Stop> {
    let items = match items {
        Some(items) => items,
        None => inc
            .manifest(version, &s.limits)
            .await
            .map_err(|e| read_stop_after_head(e, "its files (XMAN)"))?,
    };
    let empty = Digest::of(b"");
    // What the store has is held for this job now (an eviction meanwhile
    // does not take it away); what it lacks is asked for once per content.
    let mut have: HashMap<Digest, Arc<[u8]>> = HashMap::new();
    let mut asked = HashSet::new();
    let mut wanted = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Content::File(d) = &item.content else {
            continue;
        };
        if *d == empty || have.contains_key(d) || asked.contains(d) {
            continue;
        }
        match store.get(d) {
            Some(data) => {
                have.insert(*d, data);
            }
            None => {
                asked.insert(*d);
                wanted.push(i as u32);
            }
        }
    }
    let mut answer = Vec::new();
    encode_want(&mut answer, items.len() as u32, &wanted);
    extension::send(writer, &answer, s.io_timeout)
        .await
        .map_err(io_stop)?;
    inc.expect_bodies(wanted.len());
    let cached = items.len() - wanted.len();
    let mut next = wanted.iter().copied().peekable();
    let (mut total, mut received) = (0u64, 0u64);
    for (i, item) in items.iter().enumerate() {
        let d = match &item.content {
            Content::Link(target) => {
                link(tree, &item.name, target)?;
                continue;
            }
            Content::File(d) => d,
        };
        let data: Arc<[u8]> = if next.peek() == Some(&(i as u32)) {
            next.next();
            let body = inc
                .wanted_body(version, &s.limits, next.peek().is_none())
                .await
                .map_err(read_stop)?;
            let (body, digest) = offload(body.len(), move || {
                let d = Digest::of(&body);
                (body, d)
            })
            .await
            .map_err(io_stop)?;
            if digest != *d {
                return Err(refuse(format!(
                    "the contents sent for {} do not have the digest its manifest entry names",
                    String::from_utf8_lossy(&item.name).escape_debug()
                )));
            }
            received += body.len() as u64;
            let body: Arc<[u8]> = body.into();
            store.put(*d, body.clone());
            have.insert(*d, body.clone());
            body
        } else if *d == empty {
            Arc::from(&b""[..])
        } else {
            have.get(d).cloned().expect("held or asked for above")
        };
        total += data.len() as u64;
        write(tree, &item.name, data, total, s).await?;
    }
    let usage = store.usage();
    tracing::debug!(
        "header cache: {cached} of {} files cached, {} received ({received} bytes); \
         the cache holds {} files ({} bytes), {} evicted so far",
        items.len(),
        wanted.len(),
        usage.files,
        usage.bytes,
        usage.evicted
    );
    Ok((items.len() as u32, total))
}
