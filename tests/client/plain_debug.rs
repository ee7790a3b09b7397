//! Plain mode's `-g` jobs in pump form (issue 12 item 3,
//! src/client/attempt/upgrade.rs): without `DISTCC_PUMP`, a job with
//! debug information goes to a daemon of ours offering `OUTPUTS`,
//! `PUMP_OUTPUTS` and `SYSTEM_HEADERS` in protocol 3, so its object and
//! `.dwo` are a local build's, and gdb finds the `.dwo`; a 3.4 daemon and
//! ours without those capabilities get the preprocessed text as before; a
//! job that fails in pump form is sent again preprocessed. On by default
//! (the system headers are checked: tests/client/sysheaders.rs);
//! `DISTCC_PUMP_DEBUG_INFO=0` preprocesses every `-g` job here.

use std::sync::{Arc, Mutex};

use distcc::protocol::Response;
use distcc::protocol::codec::Codec;
use distcc::protocol::ext::{self, cap};

use super::harness::{Daemon, Farm, Kind, assert_ok, probes_in_3_4_log, text};
use super::outputs::{fake_ours, files, gdb, same_as_local_on};
use super::pump_outputs::{CALC_C, UTIL_H, with_output};

const VERBOSE: (&str, &str) = ("DISTCC_VERBOSE", "1");
const ON: (&str, &str) = ("DISTCC_PUMP_DEBUG_INFO", "1");
const OFF: (&str, &str) = ("DISTCC_PUMP_DEBUG_INFO", "0");
const UPGRADED: &str = "in pump form, so that its debug information is a local compile's";

fn farm(tag: &str) -> Farm {
    let f = Farm::new(&format!("plain-debug-{tag}"));
    f.write("src/calc.c", CALC_C);
    f.write("src/util.h", UTIL_H);
    std::fs::create_dir_all(f.work().join("obj")).unwrap();
    f
}

fn ours(f: &Farm) -> Daemon {
    Daemon::start(&f.daemon_config(Kind::Ours).args(["--log-level", "debug"]))
}

#[test]
fn plain_mode_sends_g_jobs_to_our_daemon_in_pump_form() {
    crate::require_tool!("gdb");
    let f = farm("gcc");
    let d = ours(&f);
    // gcc -O2 -g -gsplit-dwarf -gdwarf-4 -gstrict-dwarf -fstack-usage,
    // with which gcc is reproducible; a host without ,cpp, no DISTCC_PUMP.
    let args = with_output("obj/calc.o");
    same_as_local_on(&f, &d, ",lzo", &[VERBOSE, ON], &args, 1);
    let log = d.log_text();
    assert_eq!(log.matches("pump job:").count(), 1, "{log}");
    assert!(f.work().join("obj/calc.dwo").exists());
    assert_ok(&f.local(&["gcc", "obj/calc.o", "-o", "calc"]), "link");
    let seen = gdb(&f, "calc", "ptype struct point");
    assert!(seen.contains("int x;") && seen.contains("int y;"), "{seen}");

    // DISTCC_VERBOSE says which form the job took.
    let out = f.distcc(&d.host(",lzo"), &args, &[VERBOSE, ON]);
    assert_ok(&out, "again");
    assert!(
        text(&out.stderr).contains(UPGRADED),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(d.wait_count("COMPILE_OK", 2), 2);

    // Off: preprocessed here, and the columns of -g follow that text.
    let reference = files(&f.work().join("obj"));
    let out = f.distcc(&d.host(",lzo"), &args, &[VERBOSE, OFF]);
    assert_ok(&out, "off");
    let err = text(&out.stderr);
    assert!(
        !err.contains(UPGRADED) && err.contains("(protocol 2)"),
        "{err}"
    );
    assert_eq!(d.wait_count("COMPILE_OK", 3), 3);
    assert_eq!(d.log_text().matches("pump job:").count(), 2);
    let plain = files(&f.work().join("obj"));
    assert_ne!(
        plain["calc.o"], reference["calc.o"],
        "plain mode's -g limit"
    );
    assert_ne!(plain["calc.dwo"], reference["calc.dwo"]);

    // Without -g nothing changes: preprocessed here.
    let out = f.distcc(
        &d.host(",lzo"),
        &["gcc", "-O2", "-c", "src/calc.c", "-o", "obj/calc.o"],
        &[VERBOSE, ON],
    );
    assert_ok(&out, "no -g");
    assert!(text(&out.stderr).contains("(protocol 2)"));
    assert_eq!(d.wait_count("COMPILE_OK", 4), 4);
    assert_eq!(d.log_text().matches("pump job:").count(), 2);
    let held = crate::support::job_dir_contents(&f.path("dtmp"));
    assert!(held.is_empty(), "{held:?}");
}

/// clang writes its working directory as `DW_AT_comp_dir`: in plain mode
/// the server's, in pump form the client's (the mirror's, remapped). So
/// its `-g` objects differ in plain mode, and its `-gsplit-dwarf` jobs
/// were compiled here: now both come back a local build's.
#[test]
fn plain_mode_clang_g_objects_are_a_local_builds() {
    crate::require_tool!("clang");
    crate::require_tool!("gdb");
    let f = farm("clang");
    std::os::unix::fs::symlink("/usr/bin/clang", f.path("masq/clang")).unwrap();
    let d = ours(&f);
    let args = ["clang", "-O2", "-g", "-c", "src/calc.c", "-o", "obj/calc.o"];
    same_as_local_on(&f, &d, ",lzo", &[ON], &args, 1);
    assert_eq!(d.log_text().matches("pump job:").count(), 1);
    let reference = files(&f.work().join("obj"));
    assert_ok(&f.distcc(&d.host(",lzo"), &args, &[OFF]), "off");
    assert_eq!(d.wait_count("COMPILE_OK", 2), 2);
    assert_ne!(files(&f.work().join("obj"))["calc.o"], reference["calc.o"]);

    let mut split = args.to_vec();
    split.insert(3, "-gsplit-dwarf");
    same_as_local_on(&f, &d, ",lzo", &[ON], &split, 3);
    assert_eq!(d.log_text().matches("pump job:").count(), 2);
    assert_ok(&f.local(&["clang", "obj/calc.o", "-o", "calc"]), "link");
    let seen = gdb(&f, "calc", "ptype struct point");
    assert!(seen.contains("int x;") && seen.contains("int y;"), "{seen}");
}

/// Debian's distccd 3.4: probed once, then every -g job in 3.4's protocol
/// 2 with the preprocessed text, as before; no backoff.
#[test]
fn a_3_4_daemon_still_gets_the_preprocessed_text() {
    crate::require_tool!(crate::support::distccd::DEBIAN_DISTCCD);
    let f = farm("debian");
    let d = f.daemon(Kind::Debian);
    for obj in ["obj/a.o", "obj/b.o"] {
        let out = f.distcc(&d.host(",lzo"), &with_output(obj), &[VERBOSE]);
        assert_ok(&out, obj);
        let err = text(&out.stderr);
        assert!(
            err.contains("is not known to be a daemon of ours") && err.contains("(protocol 2)"),
            "{err}"
        );
        assert!(!err.contains("(protocol 3)"), "{err}");
    }
    assert_eq!(d.wait_count("COMPILE_OK", 2), 2, "{}", d.log_text());
    let log = d.log_text();
    assert_eq!(probes_in_3_4_log(&log), 1, "one probe:\n{log}");
    f.assert_no_backoff();
}

/// Fakes of ours: without `PUMP_OUTPUTS` or `SYSTEM_HEADERS` a -g job is
/// preprocessed here (protocol 2); with both, it goes in protocol 3, and
/// when it fails there it is sent again preprocessed, to the same host:
/// not compiled here.
#[test]
fn only_daemons_with_the_capabilities_get_pump_form_and_a_failure_is_resent() {
    let f = farm("fakes");
    let pump_form = cap::OUTPUTS | cap::PUMP_OUTPUTS | cap::SYSTEM_HEADERS;
    for (caps, want) in [
        (cap::OUTPUTS, &[2][..]),
        // Without the list of system headers, nothing checks them.
        (cap::OUTPUTS | cap::PUMP_OUTPUTS, &[2]),
        (pump_form, &[3, 2]),
    ] {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        // Protocol 3 fails (exit 1), protocol 2 gives an "object".
        let port = fake_ours(&f, caps, move |got| {
            let Some(version) = [b"DIST00000002", b"DIST00000003"]
                .iter()
                .find(|v| got.windows(12).any(|w| w == **v))
                .map(|v| u32::from(v[11] - b'0'))
            else {
                return Vec::new();
            };
            log.lock().unwrap().push(version);
            let mut reply = Response {
                version,
                status: if version == 3 { 1 << 8 } else { 0 },
                object: if version == 3 {
                    Vec::new()
                } else {
                    b"remote".to_vec()
                },
                ..Response::default()
            }
            .encode();
            ext::encode_outputs(&[], Codec::Lzo, &mut reply);
            reply
        });
        // Its offer remembered, as after any hello.
        std::fs::write(
            f.path(&format!("ddir/extension/tcp_127.0.0.1_{port}")),
            format!("v1 ours 1 1 {caps:x}\n"),
        )
        .unwrap();
        let out = f.distcc(
            &format!("127.0.0.1:{port},lzo"),
            &with_output("obj/calc.o"),
            &[VERBOSE, ON],
        );
        assert_ok(&out, "distcc");
        let err = text(&out.stderr);
        assert_eq!(*seen.lock().unwrap(), want, "{caps:#x}:\n{err}");
        let made = std::fs::read(f.work().join("obj/calc.o")).unwrap();
        assert_eq!(made, b"remote", "{err}");
        // Nothing compiled here: no .dwo, no .su.
        assert!(!f.work().join("obj/calc.dwo").exists(), "{err}");
        f.assert_no_backoff();
    }
}

/// By default (no `DISTCC_PUMP_DEBUG_INFO`) a plain-mode `-g` job goes to
/// our daemon in pump form, its system headers checked, and its object
/// and `.dwo` are a local build's.
#[test]
fn by_default_a_plain_mode_g_job_goes_in_pump_form() {
    let f = farm("default");
    let d = ours(&f);
    same_as_local_on(&f, &d, ",lzo", &[VERBOSE], &with_output("obj/calc.o"), 1);
    let out = f.distcc(&d.host(",lzo"), &with_output("obj/b.o"), &[VERBOSE]);
    assert_ok(&out, "again");
    let err = text(&out.stderr);
    assert!(
        err.contains(UPGRADED) && err.contains("(protocol 3)"),
        "{err}"
    );
    assert!(!err.contains("(protocol 2)"), "{err}");
    assert_eq!(d.wait_count("COMPILE_OK", 2), 2, "{}", d.log_text());
    assert_eq!(d.log_text().matches("pump job:").count(), 2);
}
