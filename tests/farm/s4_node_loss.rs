//! Scenario 4: node loss. A volunteer's container is killed (`docker kill`:
//! the machine is gone, mid-job) while `make -j` is running across two
//! volunteers. The build still finishes with objects byte-identical to a
//! local build, and the client has backed the dead host off (a
//! `backoff_tcp_<ip>_<port>_*` file in `$DISTCC_DIR/lock`, spec §3.8/§3.10).

use super::harness::{Net, serial};
use super::setup;
use super::{CONFIG, farm, project, two_volunteers};
use crate::support::TempDir;
use std::time::{Duration, Instant};

pub fn run() {
    let _serial = serial();
    let mut farm = farm!("s4");
    let (c, v1, v2) = two_volunteers(&mut farm);
    let (ip1, ip2) = (v1.ip(Net::A).to_string(), v2.ip(Net::B).to_string());
    setup::set_hosts(&c, CONFIG, &format!("{ip1}/2 {ip2}/2"));
    let tmp = TempDir::new("farm-s4");
    let expect = project::write(tmp.path(), 24, 4, 120);
    c.copy_dir(tmp.path(), "/work/proj");

    // The build runs in the background inside the client; a bounded I/O
    // timeout (a user setting) keeps a job stuck on the dead host short.
    c.sh_ok(
        r#"
cd /work/proj
M=/usr/lib/distcc; [ -d $M/bin ] && M=$M/bin
cat > /work/build.sh <<EOF
cd /work/proj
export PATH=$M:\$PATH DISTCC_IO_TIMEOUT=20
if make -j6 >/work/dist.log 2>&1; then echo ok > /work/done; else echo failed > /work/done; fi
EOF
nohup bash /work/build.sh >/dev/null 2>&1 &
"#,
    );
    // Kill v2 once it has finished some jobs and is busy with more.
    let started = Instant::now();
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "v2 never completed a job"
        );
        let finished = c.sh("test -e /work/done").ok();
        assert!(
            !finished,
            "the build finished before the volunteer could be killed; make the project bigger"
        );
        if setup::compiles_ok(&c, &ip2, setup::PORT + 1) >= 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    v2.kill();
    let killed_at = started.elapsed();

    let deadline = Instant::now() + Duration::from_secs(600);
    while !c.sh("test -e /work/done").ok() {
        assert!(
            Instant::now() < deadline,
            "the build did not finish after the node loss"
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    let status = c.sh_ok("cat /work/done");
    let log = c.sh_ok("cat /work/dist.log");
    assert_eq!(
        status.trim(),
        "ok",
        "the build failed after the node loss:\n{log}"
    );
    eprintln!(
        "v2 killed after {killed_at:.1?}, build done after {:.1?}",
        started.elapsed()
    );

    let out = c.sh_ok(
        r#"
cd /work/proj
./prog
mkdir -p /work/dist && cp ./*.o /work/dist/
make clean >/dev/null && make -j2 >/dev/null
for o in ./*.o; do cmp "$o" "/work/dist/$o"; done
echo identical
ls "${DISTCC_DIR:-$HOME/.distcc}/lock/"
"#,
    );
    assert!(out.contains(&expect), "{out}");
    assert!(out.contains("identical"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with(&format!("backoff_tcp_{ip2}_3632"))),
        "the dead host {ip2} must be backed off:\n{out}"
    );
    assert!(
        !out.lines()
            .any(|l| l.starts_with(&format!("backoff_tcp_{ip1}_3632"))),
        "the live host {ip1} must not be backed off:\n{out}"
    );
}
