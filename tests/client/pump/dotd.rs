//! Dependency files in pump mode: the server's DOTD written as a local
//! gcc writes it, against our daemon (in the extension) and 3.4's.

use crate::require_tool;

use super::{check, setup};
use crate::client::harness::{Daemon, Farm, Kind};

/// Dependency files come back from the server (DOTD) and are written as a
/// local gcc writes them: same names, same line breaks. With our daemon
/// the client probes before the first job (the compiler check wants it
/// checked too: docs/extension.md §7), and every job uses the extension
/// (zstd bodies, DOTD included).
fn dependency_files_match_local_ones(kind: Kind) {
    require_tool!("gcc");
    let farm = Farm::new(&format!("pump-deps-{kind:?}"));
    setup(&farm);
    std::fs::create_dir_all(farm.work().join("objs/.deps")).unwrap();
    let daemon = Daemon::start(&farm.daemon_config(kind).args(["--log-level", "debug"]));
    let hosts = daemon.host(",cpp,lzo");
    let abs = format!("-I{}", farm.work().join("include").display());
    let cases: &[(&[&str], &[&str])] = &[
        (
            &[
                "gcc",
                "-MD",
                "-Iinclude",
                &abs,
                "-c",
                "src/main.c",
                "-o",
                "objs/main.o",
            ],
            &["objs/main.o", "objs/main.d"],
        ),
        (
            &[
                "gcc",
                "-O2",
                "-MMD",
                "-MP",
                "-MF",
                "objs/.deps/main.Tpo",
                "-Iinclude",
                "-c",
                "src/main.c",
                "-o",
                "objs/mmd.o",
            ],
            &["objs/mmd.o", "objs/.deps/main.Tpo"],
        ),
        (
            &[
                "g++",
                "-MD",
                "-MT",
                "custom-target",
                "-c",
                "src/shapes.cc",
                "-o",
                "objs/shapes.o",
            ],
            &["objs/shapes.o", "objs/shapes.d"],
        ),
    ];
    for (args, outputs) in cases {
        // Our daemon lists the system headers a compile read, which -MMD
        // leaves out of the file: such a job is preprocessed here
        // (docs/extension.md §13; at -O0 it would be compiled here).
        let plain = kind == Kind::Ours && args.contains(&"-MMD");
        check(&farm, &hosts, args, outputs, plain);
    }
    if kind == Kind::Ours {
        // Logged before the compile, so there by now (a loaded machine may
        // race a job here and close its connection: not counted on).
        let log = daemon.log_text();
        assert_eq!(
            log.matches("client speaks extension 1 (zstd, heartbeats, status")
                .count(),
            3,
            "{log}"
        );
        assert_eq!(log.matches("pump job: ").count(), 2, "{log}");
        assert!(!log.contains("refused"), "{log}");
    }
}

#[test]
fn dependency_files_match_local_ones_with_our_daemon() {
    dependency_files_match_local_ones(Kind::Ours);
}

#[test]
fn dependency_files_match_local_ones_with_debians_daemon() {
    dependency_files_match_local_ones(Kind::Debian);
}
