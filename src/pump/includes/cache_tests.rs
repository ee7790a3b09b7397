//! The shared include cache (a record's bytes are `cache/format.rs`'s
//! tests): hits in a second "process" (a fresh [`Cache`] on the same
//! directory), and every way a record must not be trusted.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;
use crate::pump::includes::SearchPath;
use crate::pump::includes::closure_cached;
use crate::pump::includes::walk::tests::Tree;

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

/// The cache's logs in `dir` (no marker, no temporary file).
fn logs(dir: &Path) -> Vec<PathBuf> {
    let mut logs: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    logs.sort();
    logs
}

#[test]
fn a_damaged_record_is_ignored_and_replaced() {
    let t = Tree::new("cache-corrupt");
    project(&t);
    let dir = t.root.join("cache");
    let (want, _) = job(&t, "src", "main.c", &["-I../inc"], &dir, OLD);
    // One log per directory: src/ (main.c, a.h, c.h), inc/lib/ (b.h, d.h).
    let logs = logs(&dir);
    assert_eq!(logs.len(), 2, "{logs:?}");
    let size = |p: &PathBuf| fs::metadata(p).unwrap().len();
    let (src, inc) = (&logs[0], &logs[1]);
    let (src, inc) = if size(src) > size(inc) {
        (src, inc)
    } else {
        (inc, src)
    };
    // src/'s log: garbage before it, one byte of its second record
    // changed (checksum), its last cut short. inc/lib's: junk only.
    let bytes = fs::read(src).unwrap();
    let len_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    let second = 4 + len_at(0);
    let second_end = second + 4 + len_at(second);
    let mut damaged = b"junk".to_vec();
    damaged.extend_from_slice(&bytes[..bytes.len() - 3]);
    damaged[4 + second_end - 1] ^= 0x40;
    fs::write(src, &damaged).unwrap();
    fs::write(inc, b"DCCINC4\ngarbage").unwrap();
    let (files, s) = job(&t, "src", "main.c", &["-I../inc"], &dir, OLD);
    assert_eq!(files, want);
    assert_eq!((s.lexed, s.hits, s.stored), (4, 1, 4), "{s:?}");
    assert!(s.corrupt >= 3, "{s:?}");
    // The records appended after the damage are found.
    let (files, s) = job(&t, "src", "main.c", &["-I../inc"], &dir, OLD);
    assert_eq!(files, want);
    assert_eq!((s.hits, s.lexed, s.stored), (5, 0, 0), "{s:?}");
    // No temporary file is left behind.
    assert_eq!(self::logs(&dir).len(), 2);
}

/// Clients of one build analysing at once, each with its own view of the
/// logs, appending to them together: every answer is right, no log is
/// damaged, and the next job hits every header.
#[test]
fn concurrent_jobs_share_the_logs() {
    let t = Tree::new("cache-concurrent");
    project(&t);
    let dir = t.root.join("cache");
    let want = job_uncached(&t, "src", "main.c", &["-I../inc"]);
    std::thread::scope(|s| {
        for _ in 0..4 {
            let (t, dir, want) = (&t, &dir, &want);
            s.spawn(move || {
                for _ in 0..25 {
                    let (files, st) = job(t, "src", "main.c", &["-I../inc"], dir, OLD);
                    assert_eq!(&files, want);
                    assert_eq!(st.corrupt, 0, "{st:?}");
                }
            });
        }
    });
    let (files, s) = job(&t, "src", "main.c", &["-I../inc"], &dir, OLD);
    assert_eq!(files, want);
    assert_eq!((s.hits, s.corrupt, s.stored), (5, 0, 0), "{s:?}");
    assert_eq!(logs(&dir).len(), 2);
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
        cache.max_records = 1;
        cache.trim_every = Duration::ZERO;
        let found = closure_cached(Path::new("main.c"), &cwd, &search, Some(&mut cache)).unwrap();
        (t.rel(&found.files), cache.stats())
    };
    let records = || logs(&dir).len();
    let (want, s) = bounded(&t);
    assert_eq!((s.stored, records()), (5, 1), "trimmed at the end: {s:?}");
    // The evicted log's headers are read again, the answer is the same.
    let (files, s) = bounded(&t);
    assert_eq!(files, want);
    assert!(
        [(3, 2), (2, 3)].contains(&(s.hits, s.lexed)) && s.stored == s.lexed,
        "{s:?}"
    );
    assert_eq!(records(), 1);
    // A header changed meanwhile is seen, evicted or not.
    later();
    t.file("src/e.h", "int e;\n");
    t.file("src/c.h", "#include \"e.h\"\n");
    let (files, _) = bounded(&t);
    assert!(files.contains(&"src/e.h".to_string()), "{files:?}");
    assert_eq!(records(), 1);
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
    // The four headers' records, in the logs of their two directories.
    assert_eq!(logs(&dir).len(), 2);
}
