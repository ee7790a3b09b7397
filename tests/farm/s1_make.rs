//! Scenario 1: a real multi-file C/C++ project built with `make -j` across
//! two volunteers on different networks through the client's masquerade
//! directory. Every compile must run remotely (the daemons' stats add up to
//! the number of objects, and each volunteer did some), and the objects are
//! byte-identical to a local build of the same tree.

use super::harness::{Net, serial};
use super::setup;
use super::{CONFIG, farm, project, two_volunteers};
use crate::support::TempDir;

/// The distributed build, then a local one; prints the program's output
/// and fails on the first object that differs.
pub const BUILD_AND_COMPARE: &str = r#"
cd /work/proj
M=/usr/lib/distcc; [ -d $M/bin ] && M=$M/bin
PATH=$M:$PATH make -j8 >/work/dist.log 2>&1 || { cat /work/dist.log; exit 1; }
./prog
mkdir -p /work/dist && cp ./*.o /work/dist/
make clean >/dev/null
make -j2 >/dev/null
for o in ./*.o; do cmp "$o" "/work/dist/$o"; done
echo identical
"#;

pub fn run() {
    let _serial = serial();
    let mut farm = farm!("s1");
    let (c, v1, v2) = two_volunteers(&mut farm);
    setup::set_hosts(
        &c,
        CONFIG,
        &format!("{}/4 {}/4", v1.ip(Net::A), v2.ip(Net::B)),
    );
    let tmp = TempDir::new("farm-s1");
    let (c_files, cpp_files) = (10, 4);
    let expect = project::write(tmp.path(), c_files, cpp_files, 30);
    c.copy_dir(tmp.path(), "/work/proj");

    let out = c.sh_ok(BUILD_AND_COMPARE);
    assert!(
        out.contains(&expect),
        "program printed {out:?}, want {expect:?}"
    );
    assert!(out.contains("identical"), "{out}");

    let objects = (c_files + cpp_files + 1) as u64;
    let done: Vec<u64> = [(&v1, Net::A), (&v2, Net::B)]
        .iter()
        .map(|(v, net)| setup::compiles_ok(&c, v.ip(*net), setup::PORT + 1))
        .collect();
    assert!(
        done.iter().all(|&n| n > 0),
        "every volunteer must have compiled something: {done:?}"
    );
    assert_eq!(
        done.iter().sum::<u64>(),
        objects,
        "every object must be compiled remotely: {done:?}"
    );
}
