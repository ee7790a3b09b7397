use super::*;

fn out(s: &str) -> Option<Answer> {
    Some(Answer {
        stdout: s.as_bytes().to_vec(),
        stderr: Vec::new(),
    })
}

fn gcc_banner() -> Answer {
    out("gcc (Debian 12.2.0-14+deb12u1) 12.2.0\nCopyright (C) 2022\n").unwrap()
}

fn gcc_answers(name: &str) -> Option<Answer> {
    match name {
        "fullversion" => out("12.2.0\n"),
        "version" => out("12\n"),
        "target" => out("x86_64-linux-gnu\n"),
        "cc1" => out("/usr/lib/gcc/x86_64-linux-gnu/12/cc1\n"),
        // No g++ installed: gcc prints the bare name.
        "cc1plus" => out("cc1plus\n"),
        "as" => out("as\n"),
        "specs" => out("*asm:\n%{m32:--32}\n"),
        _ => None,
    }
}

fn gcc() -> Identity {
    let p = plan(Kind::Gcc, &gcc_banner(), gcc_answers).unwrap();
    let hashes = p
        .programs
        .iter()
        .map(|(n, _)| (n.clone(), format!("sha256:{n}")))
        .collect();
    Identity::new(p, hashes)
}

#[test]
fn gcc_answers_make_a_plan_and_an_identity() {
    assert_eq!(kind(&gcc_banner()), Kind::Gcc);
    let p = plan(Kind::Gcc, &gcc_banner(), gcc_answers).unwrap();
    assert_eq!(
        p.programs,
        [
            ("cc1".into(), "/usr/lib/gcc/x86_64-linux-gnu/12/cc1".into()),
            ("as".into(), "as".into())
        ]
    );
    let id = gcc();
    let text = String::from_utf8(id.encode()).unwrap();
    assert_eq!(
        text,
        format!(
            "distcc-compiler-id 1\nbanner gcc (Debian 12.2.0-14+deb12u1) 12.2.0\n\
             version 12.2.0\ntarget x86_64-linux-gnu\ncc1 sha256:cc1\nas sha256:as\n\
             specs {}\n",
            hash_bytes(b"*asm:\n%{m32:--32}\n")
        )
    );
    assert_eq!(Identity::parse(text.as_bytes()).unwrap(), id);
    assert_eq!(
        id.to_string(),
        "gcc (Debian 12.2.0-14+deb12u1) 12.2.0, target x86_64-linux-gnu"
    );
    // Without -dumpfullversion (gcc before 7), -dumpversion.
    let old = plan(Kind::Gcc, &gcc_banner(), |n| {
        (n != "fullversion").then(|| gcc_answers(n)).flatten()
    })
    .unwrap();
    assert!(old.fields.contains(&("version".into(), "12".into())));
    let none = plan(Kind::Gcc, &gcc_banner(), |n| {
        (n != "target").then(|| gcc_answers(n)).flatten()
    });
    assert!(none.unwrap_err().0.contains("-dumpmachine"));
}

#[test]
fn clang_is_hashed_as_the_binary_that_runs_cc1() {
    let banner = out("Debian clang version 14.0.6\nTarget: x86_64-pc-linux-gnu\n").unwrap();
    assert_eq!(kind(&banner), Kind::Clang);
    let listing = "Debian clang version 14.0.6\nInstalledDir: /usr/bin\n (in-process)\n \
                   \"/usr/lib/llvm-14/bin/clang\" \"-cc1\" \"-triple\" \"x86_64-pc-linux-gnu\"\n";
    let p = plan(Kind::Clang, &banner, |n| match n {
        "version" => out("14.0.6"),
        "target" => out("x86_64-pc-linux-gnu"),
        "clang" => Some(Answer {
            stdout: Vec::new(),
            stderr: listing.as_bytes().to_vec(),
        }),
        _ => None,
    })
    .unwrap();
    assert_eq!(
        p.programs,
        [("clang".into(), "/usr/lib/llvm-14/bin/clang".into())]
    );
}

/// `(field, other value or None to drop it, differences expected)`.
const CASES: &[(&str, Option<&str>, &[&str])] = &[
    ("banner", Some("gcc (Debian 12.2.0-14) 12.2.0"), &[]),
    ("version", Some("13.1.0"), &["version"]),
    ("target", Some("aarch64-linux-gnu"), &["target"]),
    ("target", None, &["target"]),
    ("cc1", Some("sha256:other"), &["cc1"]),
    ("cc1", None, &[]),
    ("specs", Some("sha256:other"), &["specs"]),
    ("as", Some("sha256:other"), &["as"]),
];

#[track_caller]
fn compare(field: &str, value: Option<&str>, expected: &[&str]) {
    let ours = gcc();
    let mut theirs = ours.clone();
    match value {
        Some(v) => {
            theirs
                .fields
                .iter_mut()
                .find(|(k, _)| k == field)
                .unwrap()
                .1 = v.to_owned()
        }
        None => theirs.fields.retain(|(k, _)| k != field),
    }
    assert_eq!(ours.differences(&theirs), expected, "{field} {value:?}");
    // The comparison is symmetric.
    assert_eq!(theirs.differences(&ours), expected, "{field} {value:?}");
}

#[test]
fn what_must_match() {
    assert!(gcc().differences(&gcc()).is_empty());
    for (field, value, expected) in CASES {
        compare(field, *value, expected);
    }
    // A later format: only version and target are understood.
    let mut later = gcc();
    later.format = "distcc-compiler-id 2".into();
    later.fields[3].1 = "blake3:x".into();
    assert!(gcc().differences(&later).is_empty());
    later.fields[1].1 = "14.1.0".into();
    assert_eq!(gcc().differences(&later), ["version"]);
}

#[test]
fn bad_identities_are_refused() {
    for bad in [&b"gcc 12"[..], b"", b"\xff\xfe", b"distcc-compiler-idx"] {
        assert!(Identity::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn the_mode_protects_by_default() {
    for (v, m) in [
        (None, Mode::Refuse),
        (Some(""), Mode::Refuse),
        (Some("refuse"), Mode::Refuse),
        (Some(" warn "), Mode::Warn),
        (Some("off"), Mode::Off),
        (Some("0"), Mode::Off),
    ] {
        assert_eq!(Mode::parse(v), Ok(m), "{v:?}");
    }
    let e = Mode::parse(Some("refuze")).unwrap_err();
    assert!(
        e.contains("DISTCC_COMPILER_CHECK=\"refuze\"") && e.contains("refuse, warn or off"),
        "{e}"
    );
}

#[test]
fn a_cache_entry_holds_while_its_files_are_unchanged() {
    let dep = |path: &str, mtime| Dep {
        path: path.into(),
        size: 10,
        mtime,
        ino: 7,
    };
    let e = Entry {
        deps: vec![dep("/usr/bin/gcc", 1), dep("/usr/lib/gcc/cc1 x", 2)],
        identity: gcc(),
    };
    let bytes = e.encode();
    assert!(bytes.starts_with(b"dep 7 10 1 /usr/bin/gcc\ndep 7 10 2 /usr/lib/gcc/cc1 x\n\n"));
    let back = Entry::parse(&bytes).unwrap();
    assert_eq!(back, e);
    assert!(back.valid(|p| Some(dep(p, if p == "/usr/bin/gcc" { 1 } else { 2 }))));
    assert!(!back.valid(|p| Some(dep(p, 1))), "cc1 was replaced");
    assert!(
        !back.valid(|p| (p == "/usr/bin/gcc").then(|| dep(p, 1))),
        "cc1 is gone"
    );
    for bad in [
        &b""[..],
        b"\n\ndistcc-compiler-id 1\n",
        b"dep 1 2\n\ndistcc-compiler-id 1\n",
    ] {
        assert_eq!(Entry::parse(bad), None, "{bad:?}");
    }
}

#[test]
fn warnings_are_remembered_per_host_and_pair() {
    let ours = gcc();
    let mut theirs = gcc();
    theirs.fields[1].1 = "13.1.0".into();
    let a = warned_name("tcp_h_3632", &ours, &theirs);
    assert!(a.starts_with("tcp_h_3632-"), "{a}");
    assert_ne!(a, warned_name("tcp_g_3632", &ours, &theirs));
    assert_ne!(a, warned_name("tcp_h_3632", &theirs, &ours));
    assert_eq!(a, warned_name("tcp_h_3632", &ours, &theirs));
    let d = differs_name("tcp_h_3632", &ours);
    assert!(d.starts_with("tcp_h_3632-"), "{d}");
    assert_ne!(d, differs_name("tcp_h_3632", &theirs));
    assert_ne!(d, differs_name("tcp_g_3632", &ours));
}
