use super::entries::{ENTRIES, offset};
use super::*;

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;

fn job(input: &str, output: &str) -> Job {
    let argv: Vec<OsString> = ["gcc", "-c", input, "-o", output]
        .iter()
        .map(OsString::from)
        .collect();
    match crate::args::scan(&argv) {
        crate::args::Scan::Distribute(j) => j,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_job_is_its_directory_source_and_output() {
    let here = Path::new("/src/a");
    let k = key(here, &job("x.c", "x.o"));
    assert_ne!(k, 0);
    assert_eq!(k, key(here, &job("x.c", "x.o")));
    assert_ne!(
        k,
        key(here, &job("x.c", "x.pic.o")),
        "libtool's two objects"
    );
    assert_ne!(k, key(here, &job("y.c", "x.o")));
    assert_ne!(k, key(Path::new("/src/b"), &job("x.c", "x.o")));
}

#[test]
fn costs_are_kept_per_job_and_survive_only_whole() {
    let dir = std::env::temp_dir().join(format!("distcc-jobcost-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let top = dir.as_path();
    assert_eq!(known(top, 42), None, "no file yet");
    note(top, 42, 8.0);
    note(top, 43, 0.5);
    assert_eq!(known(top, 42), Some(8.0));
    assert_eq!(known(top, 43), Some(0.5));
    assert_eq!(known(top, 0), None, "0 is no key");
    // Another key in the same slot takes it: the first is then unknown.
    note(top, 42 + ENTRIES, 2.0);
    assert_eq!(known(top, 42), None);
    assert_eq!(known(top, 42 + ENTRIES), Some(2.0));
    // Out of bounds: kept at the bound.
    note(top, 44, 1e9);
    assert_eq!(known(top, 44), Some(MAX_COST));
    // A damaged entry is none.
    let f = OpenOptions::new().write(true).open(top.join(FILE)).unwrap();
    f.write_all_at(&[0xff], offset(43) + 9).unwrap();
    assert_eq!(known(top, 43), None);
    assert!(std::fs::metadata(top.join(FILE)).unwrap().len() <= ENTRIES * ENTRY as u64);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_long_job_moves_its_host_s_sample_at_most_twice_the_figure() {
    // A host measured at 10 ms per KiB; a 9-KiB job that took 1 s: ten
    // times an average job of its size.
    assert_eq!(learn(1000.0, 9 * 1024, Some(10.0)), (200.0, Some(10.0)));
    assert_eq!(
        learn(10.0, 9 * 1024, Some(10.0)),
        (50.0, Some(0.1)),
        "or half"
    );
    assert_eq!(learn(150.0, 9 * 1024, Some(10.0)), (150.0, Some(1.5)));
    // Not measured yet: the raw time, and no cost.
    assert_eq!(learn(1000.0, 9 * 1024, None), (1000.0, None));
    assert_eq!(cost(f64::NAN, 1, 1.0), None);
}
