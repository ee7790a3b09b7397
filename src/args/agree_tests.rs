//! Property tests of issue 10's promise: a job our client distributes is
//! never refused by our daemon for its arguments, in plain mode and in
//! pump mode, whatever the arguments; and no command line, however
//! hostile, makes the scan, the table or the daemon's checks panic.
//!
//! Command lines are drawn from a vocabulary of real options (table rows
//! with values, family members, long spellings, the attacks) and
//! words (sources, objects, stray files, `@file`, `-`), plus random bytes.

use std::ffi::OsString;
use std::path::Path;

use proptest::prelude::*;

use super::os::os_string;
use super::{Job, without_preprocessor_options};
use super::{Scan, expand_wp, preprocessed_languages, scan, scan_with, strip_local_args};
use crate::daemon::pumpargs;
use crate::pump::includes::SearchPath;

/// Arguments (one or two words each) real and hostile command lines use.
const VOCABULARY: &[&[&str]] = &[
    &["-c"],
    &["-S"],
    &["-E"],
    &["-o", "x.o"],
    &["-osub/y.o"],
    &["--output=z.o"],
    &["-O2"],
    &["-Os"],
    &["-g"],
    &["-g3"],
    &["-gsplit-dwarf"],
    &["-Wall"],
    &["-Werror=format-security"],
    &["-Wno-unused"],
    &["--warn-all"],
    &["-fPIC"],
    &["-fno-strict-aliasing"],
    &["-fstack-protector-strong"],
    &["-fvisibility=hidden"],
    &["-flto"],
    &["-flto=auto"],
    &["-fprofile-arcs"],
    &["-march=native"],
    &["-march=x86-64-v2"],
    &["--machine-arch=native"],
    &["-mtune=generic"],
    &["-m64"],
    &["-std=c11"],
    &["-std=gnu++17"],
    &["-pthread"],
    &["-DX=1"],
    &["-D", "Y"],
    &["-UZ"],
    &["-Iinc"],
    &["-I", "/abs/inc"],
    &["-I../../../../../x"],
    &["-I", "../up"],
    &["--include-directory=/etc"],
    &["-iquote", "q"],
    &["-isystem", "/sys"],
    &["-isystem=/etc"],
    &["-idirafter", "late"],
    &["-include", "cfg.h"],
    &["-imacros", "m.h"],
    &["-iprefix", "/p"],
    &["--sysroot=/sr"],
    &["-isysroot", "/sr"],
    &["-nostdinc"],
    &["-MD"],
    &["-MMD"],
    &["-MP"],
    &["-MF", "x.d"],
    &["-MFy.d"],
    &["-MT", "t.o"],
    &["-MQ", "q.o"],
    &["-M"],
    &["-Wp,-MD,x.d"],
    &["-Wp,-DFORTIFY=2"],
    &["-Xpreprocessor", "-DA"],
    &["-Wa,--noexecstack"],
    &["-Wa,-adhln"],
    &["-Xassembler", "-a=/tmp/l"],
    &["--for-assembler=@/etc/passwd"],
    &["-Wl,-O1"],
    &["-Xlinker", "--as-needed"],
    &["-lm"],
    &["-L", "/usr/lib"],
    &["-x", "c"],
    &["-x", "c++"],
    &["-xc"],
    &["-x", "assembler"],
    &["-save-temps"],
    &["-save-temps=obj"],
    &["-B/tmp/evil"],
    &["--prefix=/tmp/evil"],
    &["--plugin=/tmp/x.so"],
    &["-fplugin=/tmp/x.so"],
    &["-wrapper", "/bin/sh"],
    &["-fdump-tree-all"],
    &["-fdump-tree-original=/tmp/f"],
    &["-fopt-info-all=/tmp/f"],
    &["-aux-info", "/tmp/f"],
    &["-dumpdir", "/tmp/"],
    &["-specs=/tmp/evil"],
    &["-Xclang", "-load"],
    &["-mllvm", "-stats"],
    &["-target", "aarch64-linux-gnu"],
    &["--target=aarch64-linux-gnu"],
    &["-ffile-prefix-map=/src=."],
    &["-fdebug-prefix-map=/a=/b"],
    &["--param", "max-inline-insns-auto=5"],
    &["-v"],
    &["-w"],
    &["-pipe"],
    &["-frobnicate=/etc/passwd"],
    &["x.c"],
    &["y.cpp"],
    &["/abs/src/z.c"],
    &["x.o"],
    &["libx.a"],
    &["-"],
    &["@opts"],
    &["conftest.c"],
];

fn argv_from(compiler: &str, picks: &[usize]) -> Vec<OsString> {
    let mut argv = vec![OsString::from(compiler)];
    for &p in picks {
        argv.extend(VOCABULARY[p % VOCABULARY.len()].iter().map(OsString::from));
    }
    argv
}

/// What our client sends in plain mode, and what our daemon makes of it.
fn plain_round_trip(job: &Job) -> Result<(), String> {
    let sent = preprocessed_languages(&strip_local_args(&job.argv));
    let Scan::Distribute(on_server) = scan_with(&sent, None) else {
        return Err(format!("daemon refuses {sent:?}: {:?}", scan(&sent)));
    };
    let stripped = without_preprocessor_options(&on_server);
    match scan(&stripped.argv) {
        Scan::Distribute(_) => Ok(()),
        Scan::Local(why) => Err(format!("stripped {:?} is local: {why}", stripped.argv)),
    }
}

/// What our client sends in pump mode (when its include analysis accepts
/// the job), and what our daemon makes of it.
fn pump_round_trip(job: &Job) -> Result<(), String> {
    let cwd = Path::new("/w/b");
    if SearchPath::from_args(&job.argv, cwd, Vec::new()).is_err() {
        return Ok(()); // the client preprocesses such a job itself
    }
    let mut sent = job.argv.clone();
    sent.extend([OsString::from("-MT"), job.output.clone()]);
    let sent = pumpargs::drop_client_mf(sent);
    let Scan::Distribute(on_server) = scan_with(&sent, None) else {
        return Err(format!("daemon refuses pump {sent:?}: {:?}", scan(&sent)));
    };
    pumpargs::check(&on_server.argv, 2).map_err(|e| format!("pump check of {sent:?}: {e}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn what_the_client_sends_the_daemon_accepts(
        compiler in prop::sample::select(vec!["gcc", "g++", "clang", "cc", "x86_64-linux-gnu-gcc"]),
        picks in prop::collection::vec(0usize..VOCABULARY.len(), 0..12),
    ) {
        // The client expands -Wp, before it scans (spec §3.3 step 1).
        let argv = expand_wp(&argv_from(compiler, &picks));
        if let Scan::Distribute(job) = scan(&argv) {
            prop_assert_eq!(plain_round_trip(&job), Ok(()), "{:?}", argv);
            prop_assert_eq!(pump_round_trip(&job), Ok(()), "{:?}", argv);
        }
    }

    #[test]
    fn hostile_bytes_never_panic(
        words in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..24), 0..10),
        dashes in prop::collection::vec(any::<bool>(), 10),
    ) {
        let mut argv = vec![OsString::from("gcc")];
        for (i, mut w) in words.into_iter().enumerate() {
            if dashes[i] {
                w.insert(0, b'-');
            }
            argv.push(os_string(w));
        }
        argv.push("-c".into());
        if let Scan::Distribute(job) = scan(&argv) {
            let _ = plain_round_trip(&job);
            let _ = pump_round_trip(&job);
        }
        let _ = pumpargs::check(&argv, 1);
    }
}

#[test]
fn a_corpus_of_real_command_lines_round_trips() {
    // From Debian and Gentoo build logs (autotools, CMake, meson, kernel).
    const LINES: &[&str] = &[
        "gcc -DHAVE_CONFIG_H -I. -I.. -Wdate-time -D_FORTIFY_SOURCE=2 -g -O2 -ffile-prefix-map=/build/x=. -fstack-protector-strong -Wformat -Werror=format-security -c -o a.o a.c",
        "gcc -DHAVE_CONFIG_H -I. -g -O2 -MT lib.lo -MD -MP -MF .deps/lib.Tpo -c lib.c -fPIC -DPIC -o .libs/lib.o",
        "/usr/bin/c++ -DNDEBUG -I/src/include -isystem /usr/include/qt -O3 -std=gnu++17 -fPIC -MD -MT obj.o -MF obj.o.d -o obj.o -c /src/obj.cpp",
        "cc -Ilib.a.p -I. -I.. -fdiagnostics-color=always -D_FILE_OFFSET_BITS=64 -Wall -Winvalid-pch -std=c11 -O2 -g -fPIC -MD -MQ lib.a.p/x.c.o -MF lib.a.p/x.c.o.d -o lib.a.p/x.c.o -c ../x.c",
        "gcc -Wp,-MMD,kernel/.fork.o.d -nostdinc -I./arch/x86/include -include ./include/linux/kconfig.h -D__KERNEL__ -fmacro-prefix-map=./= -Wall -fno-strict-aliasing -mno-sse -mno-red-zone -mcmodel=kernel -fno-PIE -O2 -fno-stack-protector -c -o kernel/fork.o kernel/fork.c",
        "x86_64-pc-linux-gnu-gcc -O2 -pipe -march=x86-64 -frecord-gcc-switches -c -o x.o x.c",
        "clang -target x86_64-linux-gnu -O2 -gdwarf-4 -fcolor-diagnostics -Xlinker --as-needed -c x.c -o x.o",
        "gcc -std=gnu99 -Wa,--noexecstack -Wa,-mrelax-relocations=no -c x.c",
        "g++ -fvisibility=hidden -fvisibility-inlines-hidden -flto=auto -fno-fat-lto-objects -c y.cpp -o y.o",
    ];
    for line in LINES {
        let argv = expand_wp(&super::os::words(line));
        let Scan::Distribute(job) = scan(&argv) else {
            panic!("{line}: {:?}", scan(&argv));
        };
        assert_eq!(plain_round_trip(&job), Ok(()), "{line}");
        assert_eq!(pump_round_trip(&job), Ok(()), "{line}");
    }
}
