//! Huge request heads: 30,000 arguments one segment each cost little
//! daemon CPU, and a head over the cap is refused in bounded memory.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::daemon::harness::{Farm, GOOD_V1, Kind, Opts, exchange, text};
use crate::daemon::hostile::{item, tok, vm_hwm};

/// Nanoseconds on CPU of all the daemon's threads.
fn cpu_ns(pid: i32) -> u64 {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).unwrap();
    tasks
        .flatten()
        .map(|t| {
            let s = std::fs::read_to_string(t.path().join("schedstat")).unwrap_or_default();
            s.split_whitespace()
                .next()
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0)
        })
        .sum()
}

/// Send `items` one segment each, `gap` apart (3.4 writes every token on
/// its own), then read the reply.
fn send_slowly(port: u16, items: &[Vec<u8>], gap: Duration) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_nodelay(true).unwrap();
    for it in items {
        if s.write_all(it).is_err() {
            break;
        }
        if !gap.is_zero() {
            std::thread::sleep(gap);
        }
    }
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut reply = Vec::new();
    let _ = s.read_to_end(&mut reply);
    reply
}

/// 30,000 arguments, each its own segment: parsed in under a second of
/// daemon CPU (it took 15 s when the head was re-parsed after every read)
/// with memory bounded by the caps.
#[test]
fn a_head_of_30000_arguments_costs_under_a_second_of_cpu() {
    crate::require_tool!("gcc");
    let farm = Farm::new("head-30000");
    let d = farm.daemon(Kind::Ours, &Opts::default());
    let args: Vec<Vec<u8>> = ["gcc", "-c", "hello.c", "-o", "hello.o"]
        .iter()
        .map(|a| a.as_bytes().to_vec())
        .chain((0..30_000).map(|i| format!("-DA{i}").into_bytes()))
        .collect();
    let mut items = vec![[tok("DIST", 1), tok("ARGC", args.len() as u32)].concat()];
    items.extend(args.iter().map(|a| item("ARGV", a)));
    items.push(item("DOTI", b"int main(void) { return 0; }\n"));
    let (cpu0, hwm0) = (cpu_ns(d.pid()), vm_hwm(d.pid()));
    let reply = send_slowly(d.port, &items, Duration::from_micros(100));
    // gcc itself cannot pass 30,000 options to cc1 (one environment
    // variable holds them all): a compile error, but a reply.
    assert!(reply.starts_with(b"DONE00000001STAT"), "{:?}", text(&reply));
    let cpu = Duration::from_nanos(cpu_ns(d.pid()) - cpu0);
    let grew = vm_hwm(d.pid()).saturating_sub(hwm0);
    eprintln!(
        "30,000 arguments: {cpu:?} of daemon CPU, peak memory +{} KiB",
        grew >> 10
    );
    assert!(cpu < Duration::from_secs(1), "{cpu:?} of daemon CPU");
    assert!(grew < 48 << 20, "peak memory grew by {grew} bytes");
}

/// 64 arguments of 1 MiB (each within the per-argument cap): refused at
/// the 16 MiB head cap, quickly and in bounded memory, and the next
/// request is served.
#[test]
fn a_head_over_the_cap_is_refused_in_bounded_memory() {
    crate::require_tool!("gcc");
    let farm = Farm::new("head-64mib");
    let d = farm.daemon(Kind::Ours, &Opts::default());
    let big = vec![b'D'; 1 << 20];
    let mut items = vec![[tok("DIST", 1), tok("ARGC", 65), item("ARGV", b"gcc")].concat()];
    items.extend((0..64).map(|_| item("ARGV", &big)));
    let (cpu0, hwm0) = (cpu_ns(d.pid()), vm_hwm(d.pid()));
    let reply = send_slowly(d.port, &items, Duration::ZERO);
    assert!(reply.is_empty(), "{:?}", text(&reply));
    assert!(
        d.wait_log("makes the request head at least"),
        "{}",
        crate::daemon::hostile::tail(&d.log_text())
    );
    assert!(
        d.log_text()
            .contains("above the limit of 16777216 bytes per head")
    );
    let cpu = Duration::from_nanos(cpu_ns(d.pid()) - cpu0);
    let grew = vm_hwm(d.pid()).saturating_sub(hwm0);
    assert!(cpu < Duration::from_secs(1), "{cpu:?} of daemon CPU");
    assert!(grew < 48 << 20, "peak memory grew by {grew} bytes");
    let reply = exchange(d.port, GOOD_V1, false);
    assert!(reply.starts_with(b"DONE00000001STAT00000000"));
    assert!(farm.daemon_temp_files().is_empty());
}
