//! The request reader's deadlines and budget, against clients that
//! trickle, stall or hang up (issue 10), in paused time.

use std::sync::Arc;

use tokio::io::AsyncWriteExt;

use super::pending::{Caps, Pending};
use super::*;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap()
}

const HEAD: &[u8] = b"DIST00000001ARGC00000001ARGV00000003gcc";

/// A client writing `bytes` one at a time, `every` apart, then staying
/// connected; what reading the head gives, and when.
async fn trickled(bytes: &'static [u8], every: Duration, io: u64) -> (ReadError, Duration) {
    let (mut w, r) = tokio::io::duplex(64);
    tokio::spawn(async move {
        for b in bytes {
            if w.write_all(&[*b]).await.is_err() {
                return;
            }
            tokio::time::sleep(every).await;
        }
        std::future::pending::<()>().await;
    });
    let started = Instant::now();
    let mut inc = Incoming::new(r, Duration::from_secs(io));
    let err = inc.head(&Limits::default()).await.unwrap_err();
    (err, started.elapsed())
}

/// One byte every 5 s kept a connection for ever with a timeout per
/// read; the head's deadline ends it after 30 s.
#[test]
fn a_trickled_head_ends_at_its_deadline() {
    rt().block_on(async {
        let (err, took) = trickled(HEAD, Duration::from_secs(5), 300).await;
        assert!(
            matches!(
                err,
                ReadError::TooSlow {
                    part: Part::Head,
                    bytes: 6 | 7,
                    secs: 30,
                    ..
                }
            ),
            "{err}"
        );
        assert!(took >= Duration::from_secs(30) && took < Duration::from_secs(31));
        assert!(
            err.to_string().contains("bytes of the request head in 30s"),
            "{err}"
        );
    });
}

#[test]
fn silence_is_still_a_timeout_per_read() {
    rt().block_on(async {
        let (err, took) = trickled(b"DIST", Duration::from_secs(100), 20).await;
        assert!(matches!(err, ReadError::Timeout(_)), "{err}");
        assert_eq!(took.as_secs(), 20);
    });
}

/// After the head, the client may preprocess for up to the IO timeout;
/// then the source must flow.
#[test]
fn the_gap_and_the_body_have_their_own_deadlines() {
    rt().block_on(async {
        let (mut w, r) = tokio::io::duplex(1 << 16);
        let mut inc = Incoming::new(r, Duration::from_secs(300));
        w.write_all(HEAD).await.unwrap();
        inc.head(&Limits::default()).await.unwrap();
        let t = Instant::now();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(250)).await;
            w.write_all(b"DOTI00100000").await.unwrap();
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                if w.write_all(b"x").await.is_err() {
                    return;
                }
            }
        });
        let spill = || -> io::Result<std::fs::File> { panic!("small source") };
        let err = inc
            .source(1, &Limits::default(), 1 << 30, spill)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                ReadError::TooSlow {
                    part: Part::Body,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(
            t.elapsed().as_secs(),
            280,
            "250 s of preprocessing, then 30 s"
        );
    });
}

#[test]
fn a_dropped_connection_stops_reading_at_once() {
    rt().block_on(async {
        let pending = Arc::new(Pending::new(Caps {
            per_address: 1,
            ..Caps::UNLIMITED
        }));
        let (_w, r) = tokio::io::duplex(64);
        let mut inc =
            Incoming::with_ticket(r, Duration::from_secs(300), pending.admit(None).unwrap());
        let newcomer = pending.admit(None).unwrap();
        let err = inc.head(&Limits::default()).await.unwrap_err();
        assert!(matches!(err, ReadError::Dropped(_)), "{err}");
        assert!(err.to_string().contains("(cap 1)"), "{err}");
        drop(newcomer);
    });
}

/// The head's buffer and arguments are charged while they arrive, and
/// given back when the connection ends.
#[test]
fn the_head_is_charged_to_the_budget() {
    rt().block_on(async {
        let pending = Arc::new(Pending::new(Caps {
            memory: 64 << 20,
            ..Caps::UNLIMITED
        }));
        let arg = vec![b'a'; 1 << 20];
        let head = RequestHead {
            version: 1,
            cwd: None,
            argv: vec![arg; 8],
        }
        .encode();
        let mut inc = Incoming::with_ticket(
            &head[..],
            Duration::from_secs(5),
            pending.admit(None).unwrap(),
        );
        inc.head(&Limits::default()).await.unwrap();
        let used = pending.budget.used();
        assert!((8 << 20..20 << 20).contains(&used), "{used}");
        drop(inc);
        assert_eq!(pending.budget.used(), 0);
        // With less memory than the head needs, it is refused.
        pending.set_caps(Caps {
            memory: 4 << 20,
            ..Caps::UNLIMITED
        });
        let mut inc = Incoming::with_ticket(
            &head[..],
            Duration::from_secs(5),
            pending.admit(None).unwrap(),
        );
        let err = inc.head(&Limits::default()).await.unwrap_err();
        assert!(matches!(err, ReadError::NoMemory(_)), "{err}");
    });
}
