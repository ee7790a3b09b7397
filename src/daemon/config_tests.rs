//! The daemon's options and environment made into its [`Config`]: the
//! defaults 3.4 has, the combinations it refuses, and the warnings.

use super::*;
use crate::daemon::cli::parse;

fn build(args: &[&str], env: &[(&str, &str)], sock: bool) -> Result<Config, ConfigError> {
    let mut argv = vec!["distccd", "--masquerade-dir", "/usr/bin"];
    argv.extend_from_slice(args);
    let cli = parse(argv).expect("parses");
    Config::build(&cli, &Vars::from_pairs(env.iter().copied()), sock)
}

#[test]
fn defaults_follow_3_4() {
    let c = build(&[], &[("PATH", "/usr/bin")], false).unwrap();
    assert_eq!(c.mode, Mode::Daemon);
    assert!(c.detach);
    assert_eq!(c.port, 3632);
    assert_eq!(c.nice, 5);
    assert_eq!(c.stats_port, None);
    assert_eq!(c.log_level, LogLevel::Notice);
    assert_eq!(c.log_target, LogTarget::Syslog);
    assert!(c.access.is_default());
    assert!(c.jobs >= 3);
    assert_eq!(c.job.io_timeout, Duration::from_secs(300));
}

#[test]
fn modes_and_wizard() {
    assert_eq!(build(&[], &[], true).unwrap().mode, Mode::Inetd);
    assert_eq!(build(&["--daemon"], &[], true).unwrap().mode, Mode::Daemon);
    let w = build(&["--wizard"], &[], false).unwrap();
    assert!(!w.detach);
    assert_eq!(w.jobs, 1);
    assert_eq!(w.log_target, LogTarget::Stderr);
    assert_eq!(w.log_level, LogLevel::Debug);
    let s = build(
        &["--stats", "--no-detach", "--log-file", "/x.log"],
        &[],
        false,
    )
    .unwrap();
    assert_eq!(s.stats_port, Some(3633));
    assert!(!s.detach);
    assert_eq!(s.log_target, LogTarget::File("/x.log".into()));
}

#[test]
fn allow_lists_and_errors() {
    let c = build(&["-a", "10.0.0.0/8", "--allow-private"], &[], false).unwrap();
    assert!(!c.access.is_default());
    assert_eq!(c.access.nets().len(), 8);
    let e = build(&["-a", "10.0.0.0/33"], &[], false).unwrap_err();
    assert_eq!(e.code, ExitCode::BadArguments);
    assert_eq!(
        build(&["--auth"], &[], false).unwrap_err().code,
        ExitCode::BadArguments
    );
    assert_eq!(
        build(&["-j", "0"], &[], false).unwrap_err().code,
        ExitCode::BadArguments
    );
    let e = build(&[], &[("DISTCC_IO_TIMEOUT", "0")], false).unwrap_err();
    assert_eq!(e.code, ExitCode::BadArguments);
}

#[test]
fn compiler_environment_replaces_path_and_raises_the_safeguard() {
    let env = [
        ("PATH", "/usr/bin"),
        ("DISTCCD_PATH", "/opt/cc/bin"),
        ("_DISTCC_SAFEGUARD", "1"),
        ("LANG", "C"),
    ];
    let c = build(&[], &env, false).unwrap();
    let get = |k: &str| {
        c.job
            .compiler_env
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(get("PATH"), Some("/opt/cc/bin".into()));
    assert_eq!(get("_DISTCC_SAFEGUARD"), Some("2".into()));
    assert_eq!(get("LANG"), Some("C".into()));
}

#[test]
fn sandbox_settings_from_options() {
    let c = build(&[], &[("DISTCCD_PATH", "/opt/cc/bin:/usr/bin")], false).unwrap();
    let s = &c.sandbox;
    assert!(s.confine);
    assert_eq!(
        s.path_dirs,
        [PathBuf::from("/opt/cc/bin"), "/usr/bin".into()]
    );
    assert_eq!(s.whitelist_dirs, [PathBuf::from("/usr/bin")]);
    assert_eq!(s.cpu_secs, None);
    assert_eq!(s.memory_bytes, None);
    assert_eq!(s.file_bytes, Some(4096 << 20));
    assert_eq!(s.processes, Some(1024 * u64::from(c.jobs)));
    let c = build(
        &[
            "--no-sandbox",
            "--job-lifetime",
            "60",
            "--job-memory-limit",
            "512",
            "--job-file-size-limit",
            "0",
            "--job-process-limit",
            "0",
            "--sandbox-allow-path",
            "/var/cache/ccache",
        ],
        &[],
        false,
    )
    .unwrap();
    let s = &c.sandbox;
    assert!(!s.confine);
    assert_eq!(s.cpu_secs, Some(61));
    assert_eq!(s.memory_bytes, Some(512 << 20));
    assert_eq!(s.file_bytes, None);
    assert_eq!(s.processes, None);
    assert_eq!(s.allow, [PathBuf::from("/var/cache/ccache")]);
    // DISTCC_CMDLIST's compilers run by full path: their directories
    // are the toolchain's too.
    let list = std::env::temp_dir().join(format!("cmdlist-{}", std::process::id()));
    std::fs::write(&list, "/opt/cross/bin/arm-gcc\n/usr/bin/gcc\n").unwrap();
    let c = build(
        &[],
        &[
            ("PATH", "/usr/bin"),
            ("DISTCC_CMDLIST", list.to_str().unwrap()),
        ],
        false,
    )
    .unwrap();
    std::fs::remove_file(&list).unwrap();
    assert_eq!(
        c.sandbox.path_dirs,
        [
            PathBuf::from("/usr/bin"),
            "/opt/cross/bin".into(),
            "/usr/bin".into()
        ]
    );
}

#[test]
fn missing_whitelist_dir_is_exit_110_unless_insecure() {
    let cli = parse(["distccd", "--masquerade-dir", "/nonexistent/distcc"]).unwrap();
    let e = Config::build(&cli, &Vars::default(), false).unwrap_err();
    assert_eq!(e.code, ExitCode::CompilerMissing);
    let cli = parse([
        "distccd",
        "--masquerade-dir",
        "/nonexistent",
        "--make-me-a-botnet",
    ]);
    assert!(Config::build(&cli.unwrap(), &Vars::default(), false).is_ok());
}

#[test]
fn whitelist_without_compiler_links_is_exit_110() {
    let dir = std::env::temp_dir().join(format!("distccd-empty-wl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Only the packages' `bin -> .` link and a non-executable file.
    let _ = std::os::unix::fs::symlink(".", dir.join("bin"));
    std::fs::write(dir.join("README"), "").unwrap();
    let d = dir.to_str().unwrap();
    let e = Config::build(
        &parse(["distccd", "--masquerade-dir", d]).unwrap(),
        &Vars::default(),
        false,
    )
    .unwrap_err();
    assert_eq!(e.code, ExitCode::CompilerMissing);
    assert!(e.message.contains("has no compiler links"), "{}", e.message);
    let insecure = parse(["distccd", "--masquerade-dir", d, "--enable-tcp-insecure"]).unwrap();
    assert!(Config::build(&insecure, &Vars::default(), false).is_ok());
    std::os::unix::fs::symlink("/bin/sh", dir.join("gcc")).unwrap();
    let ok = parse(["distccd", "--masquerade-dir", d]).unwrap();
    assert!(Config::build(&ok, &Vars::default(), false).is_ok());
    std::fs::remove_dir_all(&dir).unwrap();
}
