//! Property tests of the extension's decoders and of the zstd codec
//! (docs/extension.md), in the manner of [`super::fuzz_tests`]: on
//! arbitrary bytes and on extension-token soup they never panic, a prefix
//! of a valid encoding always asks for more than it has, a complete one
//! decodes to what was encoded, and a body never expands past its cap.

use proptest::prelude::*;

use super::Decoded;
use super::codec::Codec;
use super::ext::{Before, Choice, ServerHello, Status, cap};

const TOKENS: [&[u8; 4]; 12] = [
    b"XTND", b"XCAP", b"XSTA", b"XHBT", b"XCID", b"XBEA", b"XCMM", b"FREE", b"LOAD", b"DONE",
    b"DIST", b"WHAT",
];

/// Extension headers in any order with lengths that match or do not.
fn soup() -> impl Strategy<Value = Vec<u8>> {
    let item = (
        0..TOKENS.len(),
        prop_oneof![0u32..8, 0u32..100, any::<u32>()],
        proptest::collection::vec(any::<u8>(), 0..40),
        any::<bool>(),
    );
    proptest::collection::vec(item, 0..12).prop_map(|items| {
        let mut out = Vec::new();
        for (t, param, body, honest) in items {
            let len = if honest { body.len() as u32 } else { param };
            out.extend_from_slice(TOKENS[t]);
            out.extend_from_slice(format!("{len:08x}").as_bytes());
            out.extend_from_slice(&body);
        }
        out
    })
}

fn any_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![proptest::collection::vec(any::<u8>(), 0..300), soup()]
}

fn status() -> impl Strategy<Value = Status> {
    let f = || proptest::option::of(any::<u32>());
    (f(), f(), f(), f()).prop_map(|(free, slots, queued, load_centi)| Status {
        free,
        slots,
        queued,
        load_centi,
    })
}

proptest! {
    #[test]
    fn decoders_never_panic(bytes in any_input(), offered in any::<u32>()) {
        let _ = ServerHello::decode(&bytes);
        let _ = Choice::decode(&bytes, offered);
        if let Ok(Decoded::Done(Some(Before::Mismatch(id)), _)) = Before::decode(&bytes) {
            prop_assert!(id.len() as u32 <= super::ext::MAX_ID);
        }
        if let Ok(Decoded::Done(c, _)) = Choice::decode(&bytes, offered) {
            prop_assert_eq!(c.caps & !offered, 0);
        }
    }

    #[test]
    fn valid_items_need_more_until_whole(
        st in status(),
        caps in any::<u32>(),
        ms in any::<u32>(),
        id in proptest::collection::vec(any::<u8>(), 0..60),
        secs in any::<u32>(),
    ) {
        let hello = ServerHello { version: 1, caps, status: st };
        let bytes = hello.encode();
        for cut in 0..bytes.len() {
            prop_assert!(matches!(ServerHello::decode(&bytes[..cut]), Ok(Decoded::NeedMore(n)) if n > cut));
        }
        prop_assert_eq!(ServerHello::decode(&bytes).unwrap(), Decoded::Done(hello, bytes.len()));
        let choice = Choice {
            caps: caps & cap::KNOWN,
            heartbeat_ms: if caps & cap::HEARTBEAT != 0 { ms } else { 0 },
            // By digest the server gets the digest, not the text.
            compiler_id: if caps & cap::COMPILER_ID != 0 && caps & cap::COMPILER_ID_REF == 0 {
                id.clone()
            } else {
                Vec::new()
            },
            compiler_digest: (caps & cap::COMPILER_ID != 0 && caps & cap::COMPILER_ID_REF != 0)
                .then(|| crate::protocol::hdrcache::Digest::of(&id)),
            compile_anyway: caps & cap::COMPILER_ID != 0 && secs % 2 == 1,
            sys_known: if caps & cap::SYSTEM_HEADERS != 0 {
                vec![crate::protocol::hdrcache::Digest::of(&id); (secs % 5) as usize]
            } else {
                Vec::new()
            },
        };
        let bytes = choice.encode();
        for cut in 0..bytes.len() {
            prop_assert!(matches!(Choice::decode(&bytes[..cut], cap::KNOWN), Ok(Decoded::NeedMore(n)) if n > cut));
        }
        prop_assert_eq!(Choice::decode(&bytes, cap::KNOWN).unwrap(), Decoded::Done(choice, bytes.len()));
        let known = Before::SystemKnown(secs % 4);
        let listed = Before::SystemList(id.clone());
        for item in [Before::Heartbeat(secs), Before::Status(st), Before::Mismatch(id), known, listed] {
            let mut bytes = Vec::new();
            item.encode(&mut bytes);
            prop_assert_eq!(Before::decode(&bytes).unwrap(), Decoded::Done(Some(item), bytes.len()));
        }
    }

    #[test]
    fn zstd_bodies_round_trip_and_never_exceed_the_cap(
        data in proptest::collection::vec(any::<u8>(), 0..3000),
        noise in proptest::collection::vec(any::<u8>(), 0..200),
        cap in 0u64..4000,
    ) {
        let packed = Codec::Zstd.compress(&data);
        prop_assert_eq!(Codec::Zstd.decompress(&packed, 1 << 20).unwrap(), data.clone());
        match Codec::Zstd.decompress(&packed, cap) {
            Ok(out) => prop_assert!(out.len() as u64 <= cap),
            Err(_) => prop_assert!(data.len() as u64 > cap),
        }
        if let Ok(out) = Codec::Zstd.decompress(&noise, cap) {
            prop_assert!(out.len() as u64 <= cap);
        }
        let mut sink = Vec::new();
        if Codec::Zstd.decompress_to(&noise, cap, &mut sink).is_ok() {
            prop_assert!(sink.len() as u64 <= cap);
        }
    }
}
