//! The shared include cache: records that survive a round trip and none
//! that do not, hits in a second "process" (a fresh [`Cache`] on the same
//! directory), and every way a record must not be trusted.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;
use crate::pump::includes::SearchPath;
use crate::pump::includes::closure_cached;
use crate::pump::includes::walk::tests::Tree;

fn record() -> Record {
    Record {
        path: b"/w/inc/a.h".to_vec(),
        key: Key {
            dev: 2049,
            ino: 77,
            size: 120,
            mtime_ns: 1_700_000_000_123_456_789,
            ctime_ns: -5,
        },
        digest: Digest::of(b"#include \"b.h\"\n"),
        directives: vec![
            Directive {
                kind: Kind::Include,
                angled: false,
                name: b"b.h".to_vec(),
                value: Vec::new(),
                line: 3,
            },
            Directive {
                kind: Kind::Maybe,
                angled: true,
                name: b"sys/x.h".to_vec(),
                value: Vec::new(),
                line: 9,
            },
            Directive {
                kind: Kind::Define,
                angled: false,
                name: b"CONFIG_H".to_vec(),
                value: b"<cfg/config.h>".to_vec(),
                line: 12,
            },
        ],
    }
}

#[test]
fn records_round_trip_and_damage_is_seen() {
    let r = record();
    let bytes = encode(&r);
    assert_eq!(decode(&bytes), Some(r.clone()));
    // Cut anywhere (a reader racing a writer without rename would see this).
    for n in 0..bytes.len() {
        assert_eq!(decode(&bytes[..n]), None, "cut at {n}");
    }
    // Any one byte changed.
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x40;
        assert_eq!(decode(&b), None, "byte {i} flipped");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(decode(&longer), None);
    for k in KINDS {
        assert_eq!(kind_of(kind_code(k)), Some(k));
    }
}

/// A project whose source includes a chain of headers.
fn project(t: &Tree) {
    t.file(
        "src/main.c",
        "#include \"a.h\"\n#include <lib/b.h>\nint x;\n",
    );
    t.file("src/a.h", "#pragma once\n#include \"c.h\"\n");
    t.file("src/c.h", "int c;\n");
    t.file("inc/lib/b.h", "#include \"d.h\"\n");
    t.file("inc/lib/d.h", "int d;\n");
}

/// One client process: a fresh cache on `dir` (racy window `racy`).
fn job(
    t: &Tree,
    cwd: &str,
    src: &str,
    flags: &[&str],
    dir: &Path,
    racy: Duration,
) -> (Vec<String>, CacheStats) {
    let cwd = t.root.join(cwd);
    let mut argv: Vec<std::ffi::OsString> = vec!["gcc".into()];
    argv.extend(flags.iter().map(|f| f.into()));
    let search = SearchPath::from_args(&argv, &cwd, vec![]).unwrap();
    let mut cache = Cache::new(dir.to_path_buf());
    cache.racy = racy;
    let found = closure_cached(Path::new(src), &cwd, &search, Some(&mut cache)).unwrap();
    // Every file scanned comes with the digest and size of its bytes now,
    // whether its record hit or it was read: the manifest trusts them.
    assert_eq!(found.known.len(), found.files.len());
    for (f, k) in found.files.iter().zip(&found.known) {
        let k = k.unwrap_or_else(|| panic!("no digest for {}", f.display()));
        let bytes = fs::read(f).unwrap();
        assert_eq!(k.digest, Digest::of(&bytes), "{}", f.display());
        assert_eq!(k.size, bytes.len() as u64, "{}", f.display());
    }
    (t.rel(&found.files), cache.stats())
}

/// No racy window: the tests below change files right after reading them.
const OLD: Duration = Duration::ZERO;

/// Past the file system's timestamp tick, so that a rewrite shows in the
/// `stat` (what the racy window stands for outside tests).
fn later() {
    std::thread::sleep(Duration::from_millis(30));
}

#[test]
fn a_second_job_reads_records_instead_of_lexing() {
    let t = Tree::new("cache-hit");
    project(&t);
    let dir = t.root.join("pump/includes");
    let (first, s1) = job(&t, "src", "main.c", &["-I../inc"], &dir, OLD);
    assert_eq!(
        first,
        [
            "src/main.c",
            "src/a.h",
            "inc/lib/b.h",
            "inc/lib/d.h",
            "src/c.h"
        ]
    );
    assert_eq!((s1.hits, s1.lexed, s1.stored), (0, 5, 5), "{s1:?}");
    let (second, s2) = job(&t, "src", "main.c", &["-I../inc"], &dir, OLD);
    assert_eq!(second, first);
    assert_eq!((s2.hits, s2.lexed, s2.stored), (5, 0, 0), "{s2:?}");
    // Without the cache the answer is the same.
    assert_eq!(job_uncached(&t, "src", "main.c", &["-I../inc"]), first);
}

fn job_uncached(t: &Tree, cwd: &str, src: &str, flags: &[&str]) -> Vec<String> {
    t.run(cwd, src, flags, &[]).unwrap()
}

#[test]
fn a_header_changed_mid_build_is_read_again() {
    let t = Tree::new("cache-changed");
    project(&t);
    t.file("src/e.h", "int e;\n");
    let dir = t.root.join("cache");
    job(&t, "src", "main.c", &["-I../inc"], &dir, OLD);
    later();
    // Same size, another include: only the stat can tell.
    t.file("src/a.h", "#pragma once\n#include \"e.h\"\n");
    let (files, s) = job(&t, "src", "main.c", &["-I../inc"], &dir, OLD);
    assert!(files.contains(&"src/e.h".to_string()), "{files:?}");
    assert!(!files.contains(&"src/c.h".to_string()), "{files:?}");
    assert_eq!((s.hits, s.lexed, s.stored), (3, 2, 2), "{s:?}");
    // Rewritten with the same bytes (a regenerated config.h): hashed, not lexed.
    later();
    t.file("src/a.h", "#pragma once\n#include \"e.h\"\n");
    let (again, s) = job(&t, "src", "main.c", &["-I../inc"], &dir, OLD);
    assert_eq!(again, files);
    assert_eq!((s.hits, s.same_bytes, s.lexed), (4, 1, 0), "{s:?}");
}

#[test]
fn another_file_at_the_same_path_is_not_taken_for_the_old_one() {
    let t = Tree::new("cache-inode");
    project(&t);
    t.file("src/e.h", "int e;\n");
    let dir = t.root.join("cache");
    job(&t, "src", "main.c", &["-I../inc"], &dir, OLD);
    // A new file of the same size and modification time renamed over the
    // old one, as an editor or `git checkout` does: only the inode differs.
    let a = t.root.join("src/a.h");
    let old = fs::metadata(&a).unwrap();
    let new = t.file("src/a.h.new", "#pragma once\n#include \"e.h\"\n");
    let times = fs::FileTimes::new().set_modified(old.modified().unwrap());
    File::options()
        .write(true)
        .open(&new)
        .unwrap()
        .set_times(times)
        .unwrap();
    fs::rename(&new, &a).unwrap();
    let (files, s) = job(&t, "src", "main.c", &["-I../inc"], &dir, OLD);
    assert!(files.contains(&"src/e.h".to_string()), "{files:?}");
    assert_eq!(s.lexed, 2, "{s:?}");
}

#[test]
fn jobs_whose_names_resolve_to_different_files_share_no_answer() {
    // Two checkouts with the same layout and one cache, and one checkout
    // compiled with two -I orders: each job must get its own files.
    let t = Tree::new("cache-share");
    for co in ["one", "two"] {
        t.file(&format!("{co}/main.c"), "#include \"conf.h\"\n");
        t.file(
            &format!("{co}/x/conf.h"),
            &format!("#include \"{co}-x.h\"\n"),
        );
        t.file(
            &format!("{co}/y/conf.h"),
            &format!("#include \"{co}-y.h\"\n"),
        );
        t.file(&format!("{co}/x/{co}-x.h"), "");
        t.file(&format!("{co}/y/{co}-y.h"), "");
    }
    let dir = t.root.join("cache");
    let want = |co: &str, d: &str| {
        vec![
            format!("{co}/main.c"),
            format!("{co}/{d}/conf.h"),
            format!("{co}/{d}/{co}-{d}.h"),
        ]
    };
    for _ in 0..2 {
        for co in ["one", "two"] {
            assert_eq!(
                job(&t, co, "main.c", &["-Ix", "-Iy"], &dir, OLD).0,
                want(co, "x")
            );
            assert_eq!(
                job(&t, co, "main.c", &["-Iy", "-Ix"], &dir, OLD).0,
                want(co, "y")
            );
        }
    }
}

#[test]
fn a_damaged_record_is_ignored_and_replaced() {
    let t = Tree::new("cache-corrupt");
    project(&t);
    let dir = t.root.join("cache");
    let (want, _) = job(&t, "src", "main.c", &["-I../inc"], &dir, OLD);
    let listing = || {
        fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
            .collect::<Vec<PathBuf>>()
    };
    let mut records = listing();
    records.sort();
    assert_eq!(records.len(), 5, "{records:?}");
    fs::write(&records[0], [&MAGIC[..], b"garbage"].concat()).unwrap();
    let bytes = fs::read(&records[1]).unwrap();
    fs::write(&records[1], &bytes[..bytes.len() / 2]).unwrap();
    fs::write(&records[2], b"").unwrap();
    // A record of an older version of the format: a miss, not damage.
    fs::write(&records[3], b"DCCINC3\nolder").unwrap();
    let (files, s) = job(&t, "src", "main.c", &["-I../inc"], &dir, OLD);
    assert_eq!(files, want);
    assert_eq!(
        (s.corrupt, s.lexed, s.hits, s.stored),
        (3, 4, 1, 4),
        "{s:?}"
    );
    let (_, s) = job(&t, "src", "main.c", &["-I../inc"], &dir, OLD);
    assert_eq!((s.corrupt, s.hits), (0, 5), "{s:?}");
    // No temporary file is left behind.
    assert_eq!(listing().len(), 5);
}

#[test]
fn headers_changed_within_the_racy_window_get_no_record() {
    let t = Tree::new("cache-racy");
    project(&t);
    let dir = t.root.join("cache");
    let (_, s) = job(&t, "src", "main.c", &["-I../inc"], &dir, RACY);
    assert_eq!((s.lexed, s.stored, s.racy), (5, 0, 5), "{s:?}");
    let (_, s) = job(&t, "src", "main.c", &["-I../inc"], &dir, RACY);
    assert_eq!((s.hits, s.lexed), (0, 5), "{s:?}");
}

#[test]
fn an_unwritable_cache_costs_only_the_scan() {
    let t = Tree::new("cache-ro");
    project(&t);
    // A file where the cache directory should be.
    let dir = t.file("cache", "");
    let (files, s) = job(&t, "src", "main.c", &["-I../inc"], &dir, OLD);
    assert_eq!(files.len(), 5);
    assert_eq!((s.lexed, s.stored), (5, 0), "{s:?}");
}

#[test]
fn the_cache_lives_in_the_pump_directory_else_in_distcc_dir() {
    let p = Path::new("/tmp/distcc-pump.x");
    let d = Path::new("/home/u/.distcc");
    assert_eq!(Cache::dir_for(Some(p), Some(d)), Some(p.join("includes")));
    assert_eq!(Cache::dir_for(None, Some(d)), Some(d.join("pump/includes")));
    assert_eq!(Cache::dir_for(None, None), None);
}

#[test]
fn the_cache_keeps_to_its_bound_and_still_answers_right() {
    let t = Tree::new("cache-bound");
    project(&t);
    let dir = t.root.join("cache");
    let bounded = |t: &Tree| {
        let cwd = t.root.join("src");
        let argv: Vec<std::ffi::OsString> = vec!["gcc".into(), "-I../inc".into()];
        let search = SearchPath::from_args(&argv, &cwd, vec![]).unwrap();
        let mut cache = Cache::new(dir.clone());
        cache.racy = OLD;
        cache.max_records = 3;
        cache.trim_every = Duration::ZERO;
        let found = closure_cached(Path::new("main.c"), &cwd, &search, Some(&mut cache)).unwrap();
        (t.rel(&found.files), cache.stats())
    };
    let records = || {
        fs::read_dir(&dir)
            .unwrap()
            .filter(|e| {
                !e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with('.')
            })
            .count()
    };
    let (want, s) = bounded(&t);
    assert_eq!((s.stored, records()), (5, 3), "trimmed at the end: {s:?}");
    // The evicted headers are read again, the answer is the same.
    let (files, s) = bounded(&t);
    assert_eq!(files, want);
    assert_eq!((s.hits, s.lexed, s.stored), (3, 2, 2), "{s:?}");
    assert_eq!(records(), 3);
    // A header changed meanwhile is seen, evicted or not.
    later();
    t.file("src/e.h", "int e;\n");
    t.file("src/c.h", "#include \"e.h\"\n");
    let (files, _) = bounded(&t);
    assert!(files.contains(&"src/e.h".to_string()), "{files:?}");
    assert_eq!(records(), 3);
}

#[test]
fn a_build_s_own_cache_keeps_no_record_of_its_sources() {
    let t = Tree::new("cache-build");
    project(&t);
    let dir = t.root.join("cache");
    let cwd = t.root.join("src");
    let argv: Vec<std::ffi::OsString> = vec!["gcc".into(), "-I../inc".into()];
    let search = SearchPath::from_args(&argv, &cwd, vec![]).unwrap();
    for round in 0..2 {
        let mut cache = Cache::new(dir.clone()).for_one_build();
        cache.racy = OLD;
        let found = closure_cached(Path::new("main.c"), &cwd, &search, Some(&mut cache)).unwrap();
        let s = cache.stats();
        // The source is lexed every time, the four headers once.
        let want = if round == 0 { (0, 5, 4) } else { (4, 1, 0) };
        assert_eq!((s.hits, s.lexed, s.stored), want, "{s:?}");
        let main = fs::read(cwd.join("main.c")).unwrap();
        assert_eq!(found.known[0].unwrap().digest, Digest::of(&main));
    }
    let records = fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            !e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with('.')
        })
        .count();
    assert_eq!(records, 4);
}
