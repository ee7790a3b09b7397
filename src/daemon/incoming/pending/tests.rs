//! The table's choices: who is dropped when a cap is reached, and the
//! memory given back.

use std::net::Ipv4Addr;
use std::time::Duration;

use super::*;

fn ip(n: u8) -> Option<IpAddr> {
    Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, n)))
}

fn snap(addr: u8, part: Part, since_ms: u64) -> Snap {
    Snap {
        id: 0,
        addr: ip(addr),
        part,
        since_ms,
        held: 0,
        kicked: false,
    }
}

#[test]
fn choose_takes_the_least_progress_first() {
    use Part::*;
    // (rows, expected index)
    let cases: &[(&[Snap], Option<usize>)] = &[
        (&[], None),
        (&[snap(1, Received, 0)], None),
        (&[snap(1, Body, 50), snap(1, Head, 900)], Some(1)),
        (
            &[snap(1, Head, 900), snap(1, Head, 100), snap(1, Gap, 0)],
            Some(1),
        ),
        (
            &[snap(1, Body, 500), snap(1, Gap, 700), snap(1, Body, 20)],
            Some(1),
        ),
        (
            &[snap(1, Body, 500), snap(1, Body, 20), snap(1, Received, 1)],
            Some(1),
        ),
        (
            &[
                Snap {
                    kicked: true,
                    ..snap(1, Head, 0)
                },
                snap(1, Head, 5),
            ],
            Some(1),
        ),
    ];
    for (i, (rows, want)) in cases.iter().enumerate() {
        assert_eq!(choose(rows), *want, "case {i}");
    }
}

#[test]
fn heaviest_counts_only_waiting_connections() {
    let rows = [
        snap(1, Part::Head, 0),
        snap(2, Part::Head, 0),
        snap(2, Part::Gap, 0),
        snap(1, Part::Received, 0),
        snap(1, Part::Received, 0),
    ];
    assert_eq!(heaviest(&rows), Some((ip(2), 2)));
    assert_eq!(heaviest(&rows[3..]), None);
}

#[test]
fn a_full_address_drops_its_own_oldest_head() {
    let p = Arc::new(Pending::new(Caps {
        per_address: 2,
        ..Caps::UNLIMITED
    }));
    let a = p.admit(ip(1)).unwrap();
    let other = p.admit(ip(2)).unwrap();
    let b = p.admit(ip(1)).unwrap();
    b.set_part(Part::Gap);
    let c = p.admit(ip(1)).unwrap();
    let why = a.kicked().expect("the oldest head goes");
    assert!(why.contains("2 connections from 127.0.0.1"), "{why}");
    assert!(why.contains("(cap 2)"), "{why}");
    assert!(b.kicked().is_none() && c.kicked().is_none() && other.kicked().is_none());
    // A received request is never dropped; one without its head goes
    // before one that sent it.
    c.set_part(Part::Received);
    let d = p.admit(ip(1)).unwrap();
    assert!(b.kicked().is_none() && d.kicked().is_none());
    let e = p.admit(ip(1)).unwrap();
    assert!(d.kicked().is_some(), "d had not sent its head");
    assert!(b.kicked().is_none() && c.kicked().is_none() && e.kicked().is_none());
    drop((a, d));
    assert_eq!(p.len(), 4);
}

#[test]
fn the_global_cap_drops_from_the_busiest_address() {
    let p = Arc::new(Pending::new(Caps {
        connections: 3,
        ..Caps::UNLIMITED
    }));
    let real = p.admit(ip(1)).unwrap();
    let x1 = p.admit(ip(9)).unwrap();
    let x2 = p.admit(ip(9)).unwrap();
    let _new = p.admit(ip(3)).unwrap();
    assert!(
        real.kicked().is_none(),
        "the older connection of a lighter address stays"
    );
    assert!(x1.kicked().unwrap().contains("2 of them from 127.0.0.9"));
    assert!(x2.kicked().is_none());
    // Everything received: nothing can go, the newcomer is refused.
    for t in [&real, &x2, &_new] {
        t.set_part(Part::Received);
    }
    drop(x1);
    let err = p.admit(ip(4)).unwrap_err();
    assert!(err.contains("every one with a complete request"), "{err}");
}

#[test]
fn memory_is_given_back_and_a_stalled_holder_makes_room() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let p = Arc::new(Pending::new(Caps {
            memory: 1000,
            ..Caps::UNLIMITED
        }));
        let stalled = p.admit(ip(1)).unwrap();
        assert!(stalled.try_hold(900));
        let busy = p.admit(ip(2)).unwrap();
        busy.set_part(Part::Received);
        assert!(busy.try_hold(50));
        let t = p.admit(ip(3)).unwrap();
        assert!(!t.try_hold(200));
        // `hold` drops the stalled one; its job ends and gives back.
        let until = tokio::time::Instant::now() + Duration::from_secs(5);
        let release = async {
            let why = stalled.wait_kicked().await;
            assert!(why.contains("free memory"), "{why}");
            drop(stalled);
        };
        let (got, ()) = tokio::join!(t.hold(200, until), release);
        got.unwrap();
        assert_eq!(p.budget.used(), 250);
        // Over the whole budget: refused at once.
        let err = t.hold(5000, until).await.unwrap_err();
        assert_eq!(err.cap, 1000);
        drop(t);
        assert_eq!(p.budget.used(), 50);
        // Nothing to drop and no memory: wait until the deadline.
        let u = p.admit(ip(4)).unwrap();
        let soon = tokio::time::Instant::now() + Duration::from_millis(50);
        assert!(u.try_hold(900));
        let v = p.admit(ip(5)).unwrap();
        v.set_part(Part::Received);
        assert!(v.hold(100, soon).await.is_err());
        assert!(u.kicked().is_some(), "u held memory without a full request");
    });
}
