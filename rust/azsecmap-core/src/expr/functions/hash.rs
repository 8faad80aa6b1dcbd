//! Deterministic hash functions: `uniqueString` (ARM's 64-bit Murmur variant over the `-`-joined arguments,
//! rendered as 13 lower-case base32 characters) and `guid` (RFC 4122 name-based version-5 UUID over the
//! `-`-joined arguments in ARM's namespace `11fb06fb-712d-4ddd-98c7-e71bbd588830`). SHA-1 is implemented here.

use serde_json::Value;

use super::super::value::type_err;
use super::super::EvalError;

/// Evaluate `guid` / `uniqueString`.
pub(crate) fn call(name: &str, args: &[Value]) -> Result<Value, EvalError> {
    if args.is_empty() {
        return Err(EvalError(format!(
            "function `{name}` takes at least 1 argument, got 0"
        )));
    }
    let mut parts = Vec::with_capacity(args.len());
    for (i, a) in args.iter().enumerate() {
        match a {
            Value::String(s) => parts.push(s.as_str()),
            other => return Err(type_err(name, i.saturating_add(1), "a string", other)),
        }
    }
    let joined = parts.join("-");
    match name {
        "uniquestring" => Ok(Value::String(unique_string(joined.as_bytes()))),
        _ => Ok(Value::String(guid_v5(
            &ARM_GUID_NAMESPACE,
            joined.as_bytes(),
        ))),
    }
}

/// ARM's namespace for `guid()`, in network byte order.
const ARM_GUID_NAMESPACE: [u8; 16] = [
    0x11, 0xfb, 0x06, 0xfb, 0x71, 0x2d, 0x4d, 0xdd, 0x98, 0xc7, 0xe7, 0x1b, 0xbd, 0x58, 0x88, 0x30,
];

const M_C1: u32 = 0x239b_961b;
const M_C2: u32 = 0xab0e_9789;
const M_C3: u32 = 0x85eb_ca6b;
const M_C4: u32 = 0xc2b2_ae35;

fn le32(b: &[u8]) -> u32 {
    b.iter()
        .take(4)
        .enumerate()
        .fold(0u32, |acc, (i, x)| acc | (u32::from(*x) << (8 * i)))
}

fn fmix32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(M_C3);
    h ^= h >> 13;
    h = h.wrapping_mul(M_C4);
    h ^ (h >> 16)
}

fn mix_k1(k: u32) -> u32 {
    k.wrapping_mul(M_C1).rotate_left(15).wrapping_mul(M_C2)
}

fn mix_k2(k: u32) -> u32 {
    k.wrapping_mul(M_C2).rotate_left(17).wrapping_mul(M_C1)
}

/// The 64-bit Murmur variant ARM uses for `uniqueString` (two 32-bit lanes, seed 0).
pub(crate) fn murmur64(data: &[u8]) -> u64 {
    let (mut h1, mut h2) = (0u32, 0u32);
    let mut blocks = data.chunks_exact(8);
    for block in &mut blocks {
        let (a, b) = block.split_at(4);
        h1 ^= mix_k1(le32(a));
        h1 = h1
            .rotate_left(19)
            .wrapping_add(h2)
            .wrapping_mul(5)
            .wrapping_add(0x561c_cd1b);
        h2 ^= mix_k2(le32(b));
        h2 = h2
            .rotate_left(13)
            .wrapping_add(h1)
            .wrapping_mul(5)
            .wrapping_add(0x0bca_a747);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        let (a, b) = tail.split_at(tail.len().min(4));
        h1 ^= mix_k1(le32(a));
        if !b.is_empty() {
            h2 ^= mix_k2(le32(b));
        }
    }
    // the length is folded in as a 32-bit value
    let len = data.len() as u32;
    h1 ^= len;
    h2 ^= len;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix32(h1);
    h2 = fmix32(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    (u64::from(h2) << 32) | u64::from(h1)
}

/// 13 base32 characters (RFC 4648 alphabet, lower case) from the top bits of the hash.
pub(crate) fn unique_string(data: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut h = murmur64(data);
    let mut out = String::with_capacity(13);
    for _ in 0..13 {
        let idx = usize::try_from(h >> 59).unwrap_or(0);
        out.push(char::from(ALPHABET.get(idx).copied().unwrap_or(b'a')));
        h <<= 5;
    }
    out
}

/// SHA-1 digest (FIPS 180-4).
pub(crate) fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xefcd_ab89,
        0x98ba_dcfe,
        0x1032_5476,
        0xc3d2_e1f0,
    ];
    let bit_len = (data.len() as u64).wrapping_mul(8);
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for chunk in msg.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (i, word) in chunk.chunks_exact(4).enumerate() {
            if let (Some(slot), [a, b, c, d]) = (w.get_mut(i), word) {
                *slot = u32::from_be_bytes([*a, *b, *c, *d]);
            }
        }
        for i in 16..80 {
            let x = w.get(i - 3).copied().unwrap_or(0)
                ^ w.get(i - 8).copied().unwrap_or(0)
                ^ w.get(i - 14).copied().unwrap_or(0)
                ^ w.get(i - 16).copied().unwrap_or(0);
            if let Some(slot) = w.get_mut(i) {
                *slot = x.rotate_left(1);
            }
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5a82_7999),
                20..=39 => (b ^ c ^ d, 0x6ed9_eba1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8f1b_bcdc),
                _ => (b ^ c ^ d, 0xca62_c1d6u32),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (slot, v) in h.iter_mut().zip([a, b, c, d, e]) {
            *slot = slot.wrapping_add(v);
        }
    }
    let mut out = [0u8; 20];
    for (dst, word) in out.chunks_exact_mut(4).zip(h.iter()) {
        dst.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// Version-5 UUID of `name` in `namespace`, formatted `8-4-4-4-12` in lower case.
pub(crate) fn guid_v5(namespace: &[u8; 16], name: &[u8]) -> String {
    let mut input = namespace.to_vec();
    input.extend_from_slice(name);
    let digest = sha1(&input);
    let mut b = [0u8; 16];
    for (dst, src) in b.iter_mut().zip(digest.iter()) {
        *dst = *src;
    }
    if let Some(x) = b.get_mut(6) {
        *x = (*x & 0x0f) | 0x50;
    }
    if let Some(x) = b.get_mut(8) {
        *x = (*x & 0x3f) | 0x80;
    }
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    let part = |r: std::ops::Range<usize>| hex.get(r).unwrap_or_default().to_string();
    format!(
        "{}-{}-{}-{}-{}",
        part(0..8),
        part(8..12),
        part(12..16),
        part(16..20),
        part(20..32)
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::super::super::eval::tests::run;
    use super::*;
    use serde_json::json;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn sha1_vectors() {
        assert_eq!(hex(&sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            hex(&sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex(&sha1(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
    }

    #[test]
    fn unique_string_matches_published_outputs() {
        // published Bicep/ARM outputs (uniquestring.sh self-test, checked against Bicep)
        assert_eq!(
            run("[uniqueString('test')]").unwrap(),
            json!("rbgf3xv4ufgzg")
        );
        assert_eq!(
            run("[uniqueString('hello', 'world')]").unwrap(),
            json!("a7wkljktk6wne")
        );
        assert_eq!(
            run("[uniqueString('abc')]").unwrap(),
            json!("cgtzqvhu4i23s")
        );
        assert_eq!(
            run("[uniqueString('/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/my-rg')]").unwrap(),
            json!("bmg7c6xu4tw46")
        );
        assert_eq!(
            run("[uniqueString('foo', 'bar', 'baz')]").unwrap(),
            json!("xzi4ioaxtmth4")
        );
        assert_eq!(unique_string(b"foo-bar-baz"), "xzi4ioaxtmth4");
        assert!(run("[uniqueString(1)]").is_err());
        assert_eq!(run("[length(uniqueString(''))]").unwrap(), json!(13));
    }

    #[test]
    fn guid_is_uuid_v5_over_dash_joined_args() {
        // expected values computed with Python's uuid.uuid5(UUID('11fb06fb-712d-4ddd-98c7-e71bbd588830'), name)
        assert_eq!(run("[guid('a', 'b', 'c')]").unwrap(), json!(GUID_A_B_C));
        assert_eq!(run("[guid('test')]").unwrap(), json!(GUID_TEST));
        let g = run("[guid('x')]").unwrap();
        let g = g.as_str().unwrap();
        assert_eq!(g.len(), 36);
        assert_eq!(&g[14..15], "5");
        assert!(run("[guid(createArray())]").is_err());
    }

    const GUID_A_B_C: &str = "a98fa280-e03f-5afa-8d8e-92d0a9c201e8";
    const GUID_TEST: &str = "d6a5baf1-8b9b-542a-8525-2982f1f98a0c";
}
