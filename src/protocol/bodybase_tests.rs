use proptest::prelude::*;

use super::*;

/// A preprocessed file: `main` sections interleaved with the headers'.
fn body(main: &str, headers: &[&str]) -> Vec<u8> {
    let mut t = format!("# 0 \"{main}.c\"\n# 0 \"<built-in>\"\n# 1 \"{main}.c\"\n");
    for (i, h) in headers.iter().enumerate() {
        t += &format!("# 1 \"/usr/include/{h}.h\" 1 3 4\n");
        for j in 0..20 {
            t += &format!("extern int {h}_{j}(const char *restrict s, int n);\n");
        }
        t += &format!("# {} \"{main}.c\" 2\n", 3 + i);
        t += &format!("static int {main}_{i}(void) {{ return {i}; }}\n");
    }
    t.into_bytes()
}

fn round_trip(base: &[u8], text: &[u8]) -> Option<usize> {
    let (copies, lits) = delta(base, text)?;
    let d = encode(&copies, &lits);
    assert_eq!(rebuild(base, &d, u64::MAX).unwrap(), text);
    Some(lits.len())
}

#[test]
fn shared_headers_are_copied_and_the_rest_sent() {
    let first = body("a", &["stdio", "stdlib", "string"]);
    let base = base_of(&first);
    // The main file's sections are gone, the headers' kept.
    let text = String::from_utf8(base.clone()).unwrap();
    assert!(!text.contains("static int a_"), "{text}");
    assert!(text.contains("stdlib_19"));
    // Another file with two of those headers and one more.
    let second = body("b", &["stdio", "string", "errno"]);
    let lits = round_trip(&base, &second).unwrap();
    assert!(
        lits < second.len() / 2,
        "{lits} literal bytes of {}",
        second.len()
    );
    // Against itself: all copied but the leading markers, too short for
    // a copy of their own (37 bytes).
    let again = round_trip(&first, &first).unwrap();
    assert!(again < MIN_COPY * 2, "{again}");
}

#[test]
fn a_base_that_shares_nothing_gives_no_delta() {
    let base = base_of(&body("a", &["stdio"]));
    assert_eq!(delta(&base, b"int main(void) { return 0; }\n"), None);
    assert_eq!(delta(b"", &body("b", &["stdio"])), None);
    assert_eq!(delta(&base, b""), None);
}

#[test]
fn a_damaged_base_gives_no_copy_where_it_differs() {
    // What the client compares is what it copies: a base whose bytes
    // differ from what its name says cannot put them into the body.
    let base = base_of(&body("a", &["stdio", "stdlib"]));
    let text = body("b", &["stdio", "stdlib"]);
    let mut bad = base.clone();
    let at = base.len() - 40;
    bad[at] ^= 0x20;
    let (copies, lits) = delta(&bad, &text).unwrap();
    let rebuilt = rebuild(&bad, &encode(&copies, &lits), u64::MAX).unwrap();
    assert_eq!(rebuilt, text);
    assert!(copies.iter().all(|c| (c.off + c.len) as usize <= at));
}

#[test]
fn rebuild_refuses_what_does_not_add_up() {
    let base = b"0123456789abcdef0123456789abcdef".to_vec();
    let ok = encode(
        &[Copy {
            lit: 2,
            off: 4,
            len: 8,
        }],
        b"xyz",
    );
    assert_eq!(rebuild(&base, &ok, 100).unwrap(), b"xy456789abz");
    assert_eq!(rebuild(&base, &ok, 10), Err(DeltaError::TooLarge(10)));
    let outside = encode(
        &[Copy {
            lit: 0,
            off: 30,
            len: 3,
        }],
        b"",
    );
    assert_eq!(rebuild(&base, &outside, 100), Err(DeltaError::OutsideBase));
    let greedy = encode(
        &[Copy {
            lit: 4,
            off: 0,
            len: 1,
        }],
        b"abc",
    );
    assert!(matches!(
        rebuild(&base, &greedy, 100),
        Err(DeltaError::Malformed(_))
    ));
    for cut in [&ok[..3], &ok[..10], &[0xff, 0xff, 0xff, 0xff][..]] {
        assert!(matches!(
            rebuild(&base, cut, 100),
            Err(DeltaError::Malformed(_))
        ));
    }
}

proptest! {
    #[test]
    fn any_delta_bytes_are_refused_or_rebuilt_within_the_cap(
        bytes in proptest::collection::vec(any::<u8>(), 0..200),
        base in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        if let Ok(out) = rebuild(&base, &bytes, 1000) {
            prop_assert!(out.len() <= 1000);
        }
    }

    #[test]
    fn any_body_round_trips_against_any_base(
        picks in proptest::collection::vec(0usize..6, 0..8),
        base_picks in proptest::collection::vec(0usize..6, 0..8),
        noise in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        const H: [&str; 6] = ["stdio", "stdlib", "string", "errno", "math", "time"];
        let name = |p: &Vec<usize>| p.iter().map(|&i| H[i]).collect::<Vec<_>>();
        let base = base_of(&body("a", &name(&base_picks)));
        let mut text = body("b", &name(&picks));
        text.extend_from_slice(&noise);
        if let Some((copies, lits)) = delta(&base, &text) {
            prop_assert_eq!(rebuild(&base, &encode(&copies, &lits), u64::MAX).unwrap(), text);
        }
    }
}
