//! The `--stats` HTTP server (spec §4.7).
//!
//! Like 3.4 it reads (and mostly ignores) up to 1024 bytes of request,
//! writes one page and closes; the same `--allow` list applies. Any path
//! gets 3.4's text page, except `/json`, which gets the same figures as
//! a JSON object, and `/metrics`, which gets them in Prometheus' text
//! format with counts by compiler, client address and refusal reason
//! (our additions; [`super::stats::prometheus`]).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::iorate::{self, IoWindow};
use super::job::Shared;
use super::sysinfo::{Sampler, disk_sectors_now};
use crate::access::AccessList;

/// How long a stats client may take to send its request line.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// Serve stats pages until the task is dropped.
pub async fn serve_stats(
    listener: TcpListener,
    access: Arc<AccessList>,
    shared: Arc<Shared>,
    tmpdir: PathBuf,
) {
    let sampler = Arc::new(Sampler);
    // dcc_io_rate covers about the last minute, however often anyone asks
    // (issue 11): sample the disks from now on, every few seconds.
    let io = Arc::new(Mutex::new(IoWindow::default()));
    let _sampling = AbortOnDrop(tokio::spawn(sample_disks(io.clone())));
    loop {
        let (stream, addr) = match listener.accept().await {
            Ok(a) => a,
            Err(e) => {
                tracing::error!("stats accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let peer = SocketAddr::new(addr.ip().to_canonical(), addr.port());
        if !access.allows(Some(peer.ip())) {
            tracing::warn!(
                "stats connection from client '{}' denied by access list",
                peer.ip()
            );
            continue;
        }
        let (shared, sampler, tmpdir) = (shared.clone(), sampler.clone(), tmpdir.clone());
        let io = io.clone();
        tokio::spawn(async move {
            if let Err(e) = answer(stream, &shared, &sampler, &io, tmpdir).await {
                tracing::debug!("stats client {peer}: {e}");
            }
        });
    }
}

/// Stops the sampling task when the stats server goes.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Add the disks' sector count to `io` now.
fn sample_now(io: &Mutex<IoWindow>) {
    if let Some(sectors) = disk_sectors_now() {
        let mut w = io.lock().unwrap_or_else(|e| e.into_inner());
        w.record(Instant::now(), sectors);
    }
}

async fn sample_disks(io: Arc<Mutex<IoWindow>>) {
    let mut every = tokio::time::interval(iorate::SAMPLE_EVERY);
    loop {
        every.tick().await; // the first tick is at once: the window starts now
        sample_now(&io);
    }
}

async fn answer(
    mut stream: TcpStream,
    shared: &Shared,
    sampler: &Sampler,
    io: &Mutex<IoWindow>,
    tmpdir: PathBuf,
) -> std::io::Result<()> {
    // The request line may come in pieces: read until its end (or 1024
    // bytes, EOF, or the timeout; then answer anyway, like 3.4).
    let mut buf = Vec::with_capacity(1024);
    let _ = tokio::time::timeout(REQUEST_TIMEOUT, async {
        let mut chunk = [0u8; 1024];
        while buf.len() < 1024 && !buf.contains(&b'\n') {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n.min(1024 - buf.len())]),
            }
        }
    })
    .await;
    let wanted = page_for(&buf);
    let mut sys = sampler.sample(&tmpdir);
    sample_now(io);
    sys.io_rate = io.lock().unwrap_or_else(|e| e.into_inner()).rate();
    let snap = shared.stats.snapshot(sys);
    let page = match wanted {
        Page::Text => snap.text_page(),
        Page::Json => snap.json_page(),
        Page::Metrics => snap.metrics_page(),
    };
    stream.write_all(page.as_bytes()).await?;
    stream.shutdown().await?;
    // Drain what is left of the request so closing does not reset the
    // connection before the client has read the page.
    let mut sink = [0u8; 1024];
    let _ = tokio::time::timeout(REQUEST_TIMEOUT, async {
        while let Ok(n) = stream.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
    Ok(())
}

/// The pages the stats server has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Page {
    /// 3.4's page, for any path but the two below.
    Text,
    /// `/json`.
    Json,
    /// `/metrics` (Prometheus).
    Metrics,
}

/// The page a request asks for, from the path of its first line (with or
/// without a query string or HTTP version).
fn page_for(request: &[u8]) -> Page {
    let line = request.split(|b| *b == b'\n').next().unwrap_or_default();
    let mut words = line.split(|b| *b == b' ');
    let _method = words.next();
    let path = words.next().unwrap_or_default();
    let path = path.split(|b| *b == b'?').next().unwrap_or_default();
    match path.strip_suffix(b"\r").unwrap_or(path) {
        b"/json" => Page::Json,
        b"/metrics" => Page::Metrics,
        _ => Page::Text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_path_gets_its_page() {
        const CASES: &[(&[u8], Page)] = &[
            (b"GET /json HTTP/1.0\r\n\r\n", Page::Json),
            (b"GET /json?x=1 HTTP/1.1\r\n", Page::Json),
            (b"GET /json\n", Page::Json),
            (b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", Page::Metrics),
            (b"GET /metrics?name[]=x HTTP/1.1\r\n", Page::Metrics),
            (b"GET /metrics\r\n", Page::Metrics),
            (b"GET / HTTP/1.0\r\n", Page::Text),
            (b"GET /json2 HTTP/1.0\r\n", Page::Text),
            (b"GET /metricsx HTTP/1.0\r\n", Page::Text),
            (b"", Page::Text),
        ];
        for (request, want) in CASES {
            assert_eq!(
                page_for(request),
                *want,
                "{}",
                String::from_utf8_lossy(request)
            );
        }
    }
}
