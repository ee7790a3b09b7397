//! Protocol 3 through [`super::Harness`]: the compile runs in the mirror
//! and the reply carries the client's .d, or none after a failure.

use super::{Behaviour, HELLO, Harness, response};
use crate::daemon::summary::Category;
use crate::protocol::{FileEntry, FileKind, Request, RequestHead};

/// A protocol 3 request from `/src` with these files.
pub(super) fn pump(argv: &[&str], files: &[(&str, FileKind)]) -> Vec<u8> {
    Request {
        head: RequestHead {
            version: 3,
            cwd: Some(b"/src".to_vec()),
            argv: argv.iter().map(|a| a.as_bytes().to_vec()).collect(),
        },
        source: Vec::new(),
        files: files
            .iter()
            .map(|(name, kind)| FileEntry {
                name: name.as_bytes().to_vec(),
                kind: kind.clone(),
            })
            .collect(),
    }
    .encode()
}

#[test]
fn protocol_3_compiles_in_the_mirror_and_sends_the_dotd() {
    let h = Harness::new(Behaviour::Exit(0), None);
    let files = [
        ("/src/hello.c", FileKind::File(b"int x;\n".to_vec())),
        ("/src/inc/h.h", FileKind::File(b"int y;\n".to_vec())),
        ("/src/inc/l.h", FileKind::Link(b"h.h".to_vec())),
    ];
    let (reply, summary) = h.exchange(
        pump(&["gcc", "-Iinc", "-c", "hello.c", "-o", "hello.o"], &files),
        false,
    );
    let r = response(&reply);
    assert_eq!((r.version, r.status), (3, 0));
    assert_eq!(r.object, b"OBJ:int x;\n");
    assert_eq!(summary.category, Category::CompileOk);
    // The .d names the client's target and paths, not the server's.
    assert_eq!(
        String::from_utf8_lossy(&r.dotd.unwrap()),
        "hello.o: /src/hello.c\n"
    );
    let fake = format!("{:?}", h.shared.launcher);
    assert!(fake.contains(r#""-MMD", "-MF""#), "{fake}");
    assert!(fake.contains("-ffile-prefix-map="), "{fake}");
    h.assert_clean_but(Some(crate::daemon::jobdir::TREE));
}

#[test]
fn protocol_3_failures_send_no_dotd() {
    let h = Harness::new(Behaviour::Exit(0x100), None);
    let files = [("/src/hello.c", FileKind::File(b"bad".to_vec()))];
    let (reply, summary) = h.exchange(pump(HELLO, &files), false);
    assert!(reply.ends_with(b"DOTO00000000"));
    let r = response(&reply);
    assert_eq!((r.status, r.dotd), (0x100, None));
    assert_eq!(summary.category, Category::CompileError);
    h.assert_clean_but(Some(crate::daemon::jobdir::TREE));
}

/// The harness's bound on a kept mirror (`JobSettings::kept_tree_max`):
/// room for the small trees above, not for a 64 KiB header.
pub(super) const KEPT_TREE_MAX: u64 = 64 << 10;

#[test]
fn a_mirror_over_the_bound_is_not_kept() {
    use crate::daemon::jobdir::TREE;
    let h = Harness::new(Behaviour::Exit(0), None);
    let source = ("/src/hello.c", FileKind::File(b"int x;\n".to_vec()));
    let (reply, _) = h.exchange(pump(HELLO, std::slice::from_ref(&source)), false);
    assert_eq!(response(&reply).status, 0);
    h.assert_clean_but(Some(TREE));
    // The kept mirror brought up to date with a big header: it goes.
    let big = vec![b' '; KEPT_TREE_MAX as usize];
    let files = [source.clone(), ("/src/big.h", FileKind::File(big))];
    let (reply, summary) = h.exchange(pump(HELLO, &files), false);
    assert_eq!(response(&reply).status, 0);
    assert_eq!(summary.category, Category::CompileOk);
    h.assert_clean();
    // A small one is kept again.
    h.exchange(pump(HELLO, &[source]), false);
    h.assert_clean_but(Some(TREE));
}
