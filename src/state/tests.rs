//! State-record tests: the layout of spec §3.14, byte for byte.

use super::*;

fn sample() -> TaskState {
    TaskState {
        cpid: 21669,
        file: "hello.c".into(),
        host: "127.0.0.1".into(),
        slot: 2,
        phase: Phase::Compile,
    }
}

#[test]
#[cfg(all(target_pointer_width = "64", target_endian = "little"))]
fn layout_matches_3_4_on_x86_64() {
    let b = sample().encode();
    assert_eq!(b.len(), 296);
    assert_eq!(&b[0..8], &296u64.to_le_bytes());
    assert_eq!(&b[8..16], &[0x00, 0x48, 0x49, 0x44, 0, 0, 0, 0]);
    assert_eq!(&b[16..24], &21669u64.to_le_bytes());
    assert_eq!(&b[24..32], b"hello.c\0");
    assert!(b[31..152].iter().all(|&x| x == 0));
    assert_eq!(&b[152..162], b"127.0.0.1\0");
    assert_eq!(&b[280..284], &2i32.to_le_bytes());
    assert_eq!(&b[284..288], &5u32.to_le_bytes());
    assert_eq!(&b[288..296], &[0; 8]);
}

#[test]
fn round_trips() {
    let s = sample();
    assert_eq!(TaskState::decode(&s.encode()), Ok(s));
}

#[test]
fn reader_rules_follow_mon_c() {
    let good = sample().encode();
    assert_eq!(TaskState::decode(&good[..100]), Err(StateError::Short(100)));
    let mut bad = good;
    bad[OFF_MAGIC] ^= 1;
    assert!(matches!(
        TaskState::decode(&bad),
        Err(StateError::BadMagic(_))
    ));
    let mut bad = good;
    bad[0] ^= 1;
    assert!(matches!(
        TaskState::decode(&bad),
        Err(StateError::BadSize(_))
    ));
    let mut high = good;
    high[OFF_PHASE..OFF_PHASE + 4].copy_from_slice(&42u32.to_ne_bytes());
    assert_eq!(TaskState::decode(&high).unwrap().phase, Phase::Compile);
}

#[test]
fn long_names_are_truncated_like_strlcpy() {
    let mut s = sample();
    s.file = "é".repeat(100); // 200 bytes
    let back = TaskState::decode(&s.encode()).unwrap();
    assert_eq!(
        back.file.len(),
        126,
        "127 bytes max, cut at a char boundary"
    );
    s.host = "h".repeat(300);
    assert_eq!(TaskState::decode(&s.encode()).unwrap().host.len(), 127);
}

#[test]
fn phase_numbers_and_names() {
    for n in 0..8 {
        assert_eq!(Phase::from_number(n).number(), n);
    }
    assert_eq!(Phase::Preprocess.name(), "Preprocess");
    assert_eq!(file_name(42), "binstate_42");
}
