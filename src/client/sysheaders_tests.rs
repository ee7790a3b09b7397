use super::*;

struct Tmp(PathBuf);

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn tmp(name: &str) -> Tmp {
    let d = std::env::temp_dir().join(format!("distcc-sysh-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    Tmp(d)
}

fn entry(path: &Path, data: &[u8]) -> Entry {
    Entry {
        path: path.as_os_str().as_bytes().to_vec(),
        size: data.len() as u64,
        digest: Digest::of(data),
    }
}

fn list(entries: &[Entry]) -> Received {
    Received::List(syslist::encode(&mut entries.to_vec()))
}

#[test]
fn a_list_is_this_machines_only_with_the_same_files_and_no_earlier_namesake() {
    let t = tmp("verify");
    let (local, usr) = (t.0.join("local"), t.0.join("usr"));
    fs::create_dir_all(local.join("sys")).unwrap();
    fs::create_dir_all(usr.join("sys")).unwrap();
    fs::write(usr.join("string.h"), b"char *strcpy();\n").unwrap();
    fs::write(usr.join("sys/types.h"), b"typedef int t;\n").unwrap();
    let search = vec![local.clone(), usr.clone()];
    let same = [
        entry(&usr.join("string.h"), b"char *strcpy();\n"),
        entry(&usr.join("sys/types.h"), b"typedef int t;\n"),
    ];
    let mut lists = Lists::load(None, search.clone());
    assert_eq!(lists.check(&list(&same), Codec::Raw), Ok(()));
    let other = [entry(&usr.join("string.h"), b"char *strcpy(void);\n")];
    let d = lists.check(&list(&other), Codec::Raw).unwrap_err();
    assert_eq!(d.header, usr.join("string.h").display().to_string());
    assert!(d.why.contains("bytes here"), "{d:?}");
    let other = [entry(&usr.join("string.h"), b"char *strcpy();\r")];
    let d = lists.check(&list(&other), Codec::Raw).unwrap_err();
    assert_eq!(d.why, "its contents differ");
    let gone = [entry(&usr.join("gone.h"), b"")];
    let d = lists.check(&list(&gone), Codec::Raw).unwrap_err();
    assert_eq!(d.why, "not on this machine");
    // Read through a directory this job does not search.
    fs::write(t.0.join("string.h"), b"x").unwrap();
    let beside = [entry(&t.0.join("string.h"), b"x")];
    let d = lists.check(&list(&beside), Codec::Raw).unwrap_err();
    assert_eq!(d.why, "outside this machine's include path");
    // A local compile would read local/sys/types.h instead.
    fs::write(local.join("sys/types.h"), b"typedef long t;\n").unwrap();
    let d = lists.check(&list(&same[1..]), Codec::Raw).unwrap_err();
    assert!(d.why.contains("comes first"), "{d:?}");
    // Unless the server read it too, or read from that directory (an
    // #include_next past it).
    let both = [
        same[1].clone(),
        entry(&local.join("sys/types.h"), b"typedef long t;\n"),
    ];
    assert_eq!(lists.check(&list(&both), Codec::Raw), Ok(()));
    fs::write(local.join("cmath"), b"#include_next <math.h>\n").unwrap();
    let next = [
        same[1].clone(),
        entry(&local.join("cmath"), b"#include_next <math.h>\n"),
    ];
    assert_eq!(lists.check(&list(&next), Codec::Raw), Ok(()));
}

#[test]
fn verified_lists_are_kept_and_named_by_index() {
    let t = tmp("record");
    let h = t.0.join("inc/a.h");
    fs::create_dir_all(h.parent().unwrap()).unwrap();
    fs::write(&h, b"int a;\n").unwrap();
    let search = vec![t.0.join("inc")];
    let one = [entry(&h, b"int a;\n")];
    let mut lists = Lists::load(Some(&t.0), search.clone());
    assert!(lists.known().is_empty());
    assert_eq!(
        lists.check(&list(&one), Codec::Zstd),
        Err(broken("XSYL's body does not decode"))
    );
    let Received::List(text) = list(&one) else {
        unreachable!()
    };
    let zstd = Received::List(Codec::Zstd.compress(&text));
    assert_eq!(lists.check(&zstd, Codec::Zstd), Ok(()));
    // Another process reads what this one verified.
    let mut again = Lists::load(Some(&t.0), search.clone());
    assert_eq!(again.known(), vec![Digest::of(&text)]);
    // A fresh list named by index is believed without looking: even
    // with its header changed since.
    fs::write(&h, b"int b;\n").unwrap();
    assert_eq!(again.check(&Received::Known(0), Codec::Raw), Ok(()));
    assert!(again.check(&Received::Known(1), Codec::Raw).is_err());
    // One verified too long ago is verified again.
    let mut old = again.lists.clone();
    old[0].at -= VERIFIED_SECS;
    store(again.path.as_ref().unwrap(), encode(&old));
    let mut stale = Lists::load(Some(&t.0), search);
    let d = stale.check(&Received::Known(0), Codec::Raw).unwrap_err();
    assert_eq!(d.why, "its contents differ");
    // A damaged record is no record.
    assert!(parse(b"distcc-system-headers 1\nzz 1 1\nx\n").is_empty());
    assert!(parse(b"other\n").is_empty());
}

#[test]
fn a_host_that_differed_is_remembered_per_compiler() {
    let t = tmp("differs");
    let top = Some(t.0.as_path());
    let gcc = OsStr::new("gcc");
    assert!(!known_to_differ(top, "tcp_h_1", gcc));
    let d = Differs {
        header: "/usr/include/string.h".into(),
        why: "its contents differ".into(),
    };
    differed(top, "h:1", "tcp_h_1", gcc, &d);
    assert!(known_to_differ(top, "tcp_h_1", gcc));
    assert!(!known_to_differ(top, "tcp_h_1", OsStr::new("clang")));
    assert!(!known_to_differ(top, "tcp_h_2", gcc));
    let said = fs::read_to_string(memory(&t.0, "differs", "tcp_h_1", gcc)).unwrap();
    assert!(said.contains("/usr/include/string.h"), "{said}");
    assert!(memory(&t.0, "warned", "tcp_h_1", gcc).exists());
}
