use super::*;

fn top(name: &str) -> PathBuf {
    let top = std::env::temp_dir().join(format!("distcc-sentreqs-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&top);
    top
}

#[test]
fn the_newest_texts_are_the_bases() {
    let top = top("newest");
    let sent = Memory::new(&top, "tcp_10.0.0.1_3632");
    assert!(sent.bases().is_empty(), "nothing sent yet");
    for i in 0..12u8 {
        sent.keep(&[b'a' + i; 100]);
    }
    let f = File::open(&sent.path).unwrap();
    assert_eq!(Memory::newest(&Memory::heads(&f)).len(), KEEP);
    let bases = sent.bases();
    assert_eq!(bases.len(), reqref::MAX_BASES);
    for (i, (d, t)) in bases.iter().enumerate() {
        assert_eq!(*t, vec![b'l' - i as u8; 100], "newest first");
        assert_eq!(*d, Digest::of(t));
    }
    // A text kept again is the newest, once.
    sent.keep(&[b'j'; 100]);
    let texts: Vec<u8> = sent.bases().iter().map(|(_, t)| t[0]).collect();
    assert_eq!(texts, b"jlki");
    sent.keep(&vec![1u8; MAX_TEXT as usize + 1]);
    sent.keep(b"");
    assert_eq!(
        sent.bases()[0].1,
        vec![b'j'; 100],
        "too large or empty: not kept"
    );
    sent.forget();
    assert!(sent.bases().is_empty());
    sent.keep(b"after");
    assert_eq!(
        sent.bases(),
        vec![(Digest::of(b"after"), b"after".to_vec())]
    );
    let names: Vec<_> = fs::read_dir(sent.path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["tcp_10.0.0.1_3632.ring"], "one file, no temp file");
    assert!(fs::metadata(&sent.path).unwrap().len() < SLOT * KEEP as u64);
    fs::remove_dir_all(&top).unwrap();
}

/// A slot changed under its head, a head over another text (a reader
/// between two writes), a file of junk: skipped, and written over.
#[test]
fn a_damaged_slot_or_file_is_no_base_and_costs_no_job() {
    let top = top("damage");
    let sent = Memory::new(&top, "h");
    for t in [&b"first text"[..], b"second text", b"third text"] {
        sent.keep(t);
    }
    let f = OpenOptions::new().write(true).open(&sent.path).unwrap();
    // The newest (slot 2): one byte of its text changed.
    f.write_all_at(b"X", 2 * SLOT + HEAD_LEN as u64).unwrap();
    // The oldest (slot 0): another text's head.
    let other = Head {
        len: 10,
        seq: 1,
        digest: Digest::of(b"other text"),
    };
    f.write_all_at(&encode_head(&other), 0).unwrap();
    let bases: Vec<Vec<u8>> = sent.bases().into_iter().map(|(_, t)| t).collect();
    assert_eq!(bases, [b"second text".to_vec()]);
    // A head whose length is past the end of the file, or too large.
    let long = Head {
        len: 1000,
        seq: 9,
        digest: Digest::of(b"x"),
    };
    f.write_all_at(&encode_head(&long), 3 * SLOT).unwrap();
    let mut huge = encode_head(&long);
    huge[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    f.write_all_at(&huge, 4 * SLOT).unwrap();
    assert_eq!(sent.bases().len(), 1);
    // Junk throughout: no bases, and the next text is kept.
    fs::write(&sent.path, vec![0xa5; 3 * SLOT as usize / 2]).unwrap();
    assert!(sent.bases().is_empty());
    sent.keep(b"new text");
    assert_eq!(
        sent.bases(),
        vec![(Digest::of(b"new text"), b"new text".to_vec())]
    );
    // A directory in the way (an older client's layout is `<lock id>/`,
    // this one's `<lock id>.ring`): nothing kept, nothing fails.
    let blocked = Memory::new(&top, "blocked");
    fs::create_dir_all(&blocked.path).unwrap();
    blocked.keep(b"text");
    assert!(blocked.bases().is_empty());
    blocked.forget();
    fs::remove_dir_all(&top).unwrap();
}

/// Clients keeping and reading texts at once: every base read is one of
/// the texts kept, whole.
#[test]
fn concurrent_clients_read_only_whole_texts() {
    let top = top("concurrent");
    let sent = Memory::new(&top, "h");
    let texts: Vec<Vec<u8>> = (0..6u8).map(|i| vec![b'a' + i; 20_000]).collect();
    std::thread::scope(|s| {
        for t in &texts {
            let sent = &sent;
            s.spawn(move || {
                for _ in 0..200 {
                    sent.keep(t);
                }
            });
        }
        for _ in 0..2 {
            let (sent, texts) = (&sent, &texts);
            s.spawn(move || {
                for _ in 0..300 {
                    for (d, t) in sent.bases() {
                        assert!(texts.contains(&t), "a mixed text of {}", t.len());
                        assert_eq!(d, Digest::of(&t));
                    }
                }
            });
        }
    });
    assert_eq!(sent.bases().len(), reqref::MAX_BASES);
    fs::remove_dir_all(&top).unwrap();
}
