//! PKCS#12 password check: verifies a PFX's integrity MAC (RFC 7292) so that import can say a
//! password is missing or wrong before anything is sent.
//!
//! A PFX in password-integrity mode is
//!
//! ```text
//! PFX      ::= SEQUENCE { version INTEGER, authSafe ContentInfo, macData MacData OPTIONAL }
//! MacData  ::= SEQUENCE { mac DigestInfo, macSalt OCTET STRING, iterations INTEGER DEFAULT 1 }
//! ```
//!
//! where `authSafe` is `{ id-data, [0] EXPLICIT OCTET STRING }` and the MAC is
//! `HMAC(key, octets)`, the key coming from the PKCS#12 key derivation (RFC 7292 Appendix B.2,
//! ID 3) of the password as a BMPString (UTF-16BE and two zero bytes) and `macSalt`.
//!
//! The core takes no crypto dependency, so this module carries its own small SHA-1 and
//! SHA-256 (FIPS 180-4), HMAC (RFC 2104) and key derivation. They serve only this local check
//! of the caller's own file: nothing here decrypts, the bags stay opaque, and the service
//! remains the judge of everything else.
//!
//! What is not checked is accepted: a PFX without MAC, a MAC over a digest other than SHA-1 or
//! SHA-256 (or PBMAC1), iteration counts above [`MAX_ITERATIONS`], public-key integrity mode.
//! Hostile input can neither panic nor hang: lengths come from the DER reader, nesting is
//! bounded and so is the work.

use std::borrow::Cow;

use crate::der;

/// The largest MAC iteration count checked; above it the check is skipped and the service
/// decides. Writers use 1 to 10,000 (OpenSSL 2048) and p12-keystore refuses more than this;
/// a million rounds cost about a second per password tried in a release build.
pub(crate) const MAX_ITERATIONS: u64 = 1_000_000;

/// How deep constructed (BER) OCTET STRINGs may nest around the authenticated content.
const MAX_NESTING: usize = 8;

const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const CONSTRUCTED_OCTET_STRING: u8 = 0x24;
const OID: u8 = 0x06;
const SEQUENCE: u8 = 0x30;
const EXPLICIT_0: u8 = 0xa0;
/// DER of OID 1.2.840.113549.1.7.1 (id-data).
const ID_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
/// DER of OID 1.3.14.3.2.26 (id-sha1).
const ID_SHA1: &[u8] = &[0x2b, 0x0e, 0x03, 0x02, 0x1a];
/// DER of OID 2.16.840.1.101.3.4.2.1 (id-sha256).
const ID_SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];

/// What checking a PFX's MAC against a password gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MacCheck {
    /// The PFX has no MAC: there is nothing to check.
    Absent,
    /// The MAC verifies with the password.
    Verified,
    /// The MAC does not verify with the password.
    Mismatch,
    /// The MAC could not be checked here (another digest, too many iterations, public-key
    /// integrity mode): accept and let the service decide.
    Unchecked,
}

/// The bytes are not the DER of a PFX.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Malformed;

/// Checks the MAC of the DER `pfx` with `password`; `None` (or `""`) is the empty password,
/// tried both as a BMPString (two zero bytes) and as zero bytes, as writers differ.
pub(crate) fn check_password(pfx: &[u8], password: Option<&str>) -> Result<MacCheck, Malformed> {
    let parsed = parse(pfx)?;
    let (Some(mac), Some(content)) = (parsed.mac, parsed.content) else {
        return Ok(if parsed.mac.is_none() { MacCheck::Absent } else { MacCheck::Unchecked });
    };
    let Some(iterations) = mac.iterations else { return Ok(MacCheck::Unchecked) };
    let verify: Verify = match mac.algorithm {
        ID_SHA1 => verify::<Sha1>,
        ID_SHA256 => verify::<Sha256>,
        _ => return Ok(MacCheck::Unchecked),
    };
    for candidate in password_candidates(password.unwrap_or("")) {
        if verify(&mac, iterations, &content, &candidate)? {
            return Ok(MacCheck::Verified);
        }
    }
    Ok(MacCheck::Mismatch)
}

/// The byte strings a password may have been turned into by the PFX's writer: the BMPString
/// of RFC 7292 first; for the empty password also zero bytes; for a non-ASCII password also
/// its UTF-8 bytes widened one by one, as OpenSSL before 1.1.0 wrote them.
fn password_candidates(password: &str) -> Vec<Vec<u8>> {
    let mut bmp: Vec<u8> = password.encode_utf16().flat_map(u16::to_be_bytes).collect();
    bmp.extend_from_slice(&[0, 0]);
    let mut candidates = vec![bmp];
    if password.is_empty() {
        candidates.push(Vec::new());
    } else if !password.is_ascii() {
        let mut legacy: Vec<u8> = password.bytes().flat_map(|b| [0, b]).collect();
        legacy.extend_from_slice(&[0, 0]);
        candidates.push(legacy);
    }
    candidates
}

/// Whether a MAC verifies with a password (BMPString bytes), given the iteration count and
/// the content it covers.
type Verify = fn(&MacData<'_>, u64, &[u8], &[u8]) -> Result<bool, Malformed>;

fn verify<C: Compression>(
    mac: &MacData<'_>,
    iterations: u64,
    content: &[u8],
    password: &[u8],
) -> Result<bool, Malformed> {
    if mac.digest.len() != C::OUTPUT_LEN {
        return Err(Malformed);
    }
    let key = derive_key::<C>(3, password, mac.salt, iterations, C::OUTPUT_LEN);
    Ok(same(&hmac::<C>(&key, content), mac.digest))
}

/// Compares without an early exit.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

// ---- The PFX structure ----------------------------------------------------------------------

struct Pfx<'a> {
    /// The octets the MAC covers; `None` when the authSafe is not id-data.
    content: Option<Cow<'a, [u8]>>,
    mac: Option<MacData<'a>>,
}

#[derive(Clone, Copy)]
struct MacData<'a> {
    /// The digest algorithm's OID (contents octets).
    algorithm: &'a [u8],
    digest: &'a [u8],
    salt: &'a [u8],
    /// `None` when outside `1..=MAX_ITERATIONS`.
    iterations: Option<u64>,
}

/// Reads one element with the given tag; returns its contents and the rest.
fn element(input: &[u8], tag: u8) -> Result<(&[u8], &[u8]), Malformed> {
    match der::read(input) {
        Some((e, rest)) if e.tag == tag => Ok((e.contents, rest)),
        _ => Err(Malformed),
    }
}

/// Reads exactly one element with the given tag.
fn only(input: &[u8], tag: u8) -> Result<&[u8], Malformed> {
    match element(input, tag)? {
        (contents, []) => Ok(contents),
        _ => Err(Malformed),
    }
}

fn parse(pfx: &[u8]) -> Result<Pfx<'_>, Malformed> {
    let fields = only(pfx, SEQUENCE)?;
    let (version, fields) = element(fields, INTEGER)?;
    if version.is_empty() {
        return Err(Malformed);
    }
    let (auth_safe, fields) = element(fields, SEQUENCE)?;
    let (content_type, explicit) = element(auth_safe, OID)?;
    let content = if content_type == ID_DATA {
        let wrapped = only(explicit, EXPLICIT_0)?;
        match der::read(wrapped) {
            Some((e, [])) => Some(octets(e.tag, e.contents, 0)?),
            _ => return Err(Malformed),
        }
    } else {
        None // Public-key integrity mode (signedData): no MAC to check.
    };
    let mac = if fields.is_empty() { None } else { Some(mac_data(only(fields, SEQUENCE)?)?) };
    Ok(Pfx { content, mac })
}

fn mac_data(fields: &[u8]) -> Result<MacData<'_>, Malformed> {
    let (digest_info, fields) = element(fields, SEQUENCE)?;
    let (algorithm, digest) = element(digest_info, SEQUENCE)?;
    let (algorithm, _parameters) = element(algorithm, OID)?;
    let digest = only(digest, OCTET_STRING)?;
    let (salt, fields) = element(fields, OCTET_STRING)?;
    let iterations = if fields.is_empty() { Some(1) } else { iteration_count(only(fields, INTEGER)?)? };
    Ok(MacData { algorithm, digest, salt, iterations })
}

/// A positive INTEGER up to [`MAX_ITERATIONS`]; `None` for anything else that is an INTEGER.
fn iteration_count(contents: &[u8]) -> Result<Option<u64>, Malformed> {
    let (&first, _) = contents.split_first().ok_or(Malformed)?;
    if first & 0x80 != 0 {
        return Ok(None); // negative
    }
    let significant = &contents[contents.iter().take_while(|b| **b == 0).count()..];
    if significant.len() > 8 {
        return Ok(None);
    }
    let value = significant.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    Ok((1..=MAX_ITERATIONS).contains(&value).then_some(value))
}

/// The value of an OCTET STRING: primitive as DER has it, or constructed (BER) as the
/// concatenation of its segments.
fn octets(tag: u8, contents: &[u8], depth: usize) -> Result<Cow<'_, [u8]>, Malformed> {
    match tag {
        OCTET_STRING => Ok(Cow::Borrowed(contents)),
        CONSTRUCTED_OCTET_STRING if depth < MAX_NESTING => {
            let mut out = Vec::with_capacity(contents.len());
            let mut rest = contents;
            while !rest.is_empty() {
                let (segment, after) = der::read(rest).ok_or(Malformed)?;
                out.extend_from_slice(&octets(segment.tag, segment.contents, depth + 1)?);
                rest = after;
            }
            Ok(Cow::Owned(out))
        }
        _ => Err(Malformed),
    }
}

// ---- PKCS#12 key derivation (RFC 7292 Appendix B.2) -----------------------------------------

/// Derives `len` bytes of key material of kind `id` (1 key, 2 IV, 3 MAC) from `password` (the
/// BMPString bytes, terminator included) and `salt`, hashing `iterations` times.
fn derive_key<C: Compression>(id: u8, password: &[u8], salt: &[u8], iterations: u64, len: usize) -> Vec<u8> {
    const V: usize = BLOCK_LEN;
    // S and P: salt and password repeated to a whole number of v-byte blocks; I = S || P.
    let stretch = |s: &[u8]| s.iter().copied().cycle().take(V * s.len().div_ceil(V)).collect::<Vec<u8>>();
    let mut i = stretch(salt);
    i.extend(stretch(password));
    let mut out = Vec::with_capacity(len);
    loop {
        // A = H^r(D || I), with D the diversifier: v copies of ID.
        let mut hasher = Hasher::<C>::new();
        hasher.update(&[id; V]);
        hasher.update(&i);
        let mut a = hasher.finish();
        rehash::<C>(&mut a, iterations.saturating_sub(1));
        let take = (len - out.len()).min(a.len());
        out.extend_from_slice(&a[..take]);
        if out.len() == len {
            return out;
        }
        // B = A repeated to v bytes; each v-byte block of I becomes (I_j + B + 1) mod 2^8v.
        let b: Vec<u8> = a.iter().copied().cycle().take(V).collect();
        for block in i.chunks_exact_mut(V) {
            let mut carry = 1u16;
            for (x, y) in block.iter_mut().zip(&b).rev() {
                let sum = u16::from(*x) + u16::from(*y) + carry;
                *x = sum as u8;
                carry = sum >> 8;
            }
        }
    }
}

// ---- HMAC (RFC 2104) ------------------------------------------------------------------------

fn hmac<C: Compression>(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut block = [0u8; BLOCK_LEN];
    if key.len() > BLOCK_LEN {
        let hashed = digest::<C>(key);
        block[..hashed.len()].copy_from_slice(&hashed);
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Hasher::<C>::new();
    inner.update(&block.map(|b| b ^ 0x36));
    inner.update(message);
    let inner = inner.finish();
    let mut outer = Hasher::<C>::new();
    outer.update(&block.map(|b| b ^ 0x5c));
    outer.update(&inner);
    outer.finish()
}

// ---- SHA-1 and SHA-256 (FIPS 180-4) ---------------------------------------------------------

/// Both hashes work on 64-byte blocks.
const BLOCK_LEN: usize = 64;

/// The compression function of a Merkle–Damgård hash with 64-byte blocks and a 64-bit
/// big-endian bit length in the padding: SHA-1 and SHA-256.
trait Compression: Copy {
    const INITIAL: Self;
    const OUTPUT_LEN: usize;
    fn compress(&mut self, block: &[u8; BLOCK_LEN]);
    /// The state words, whose big-endian bytes are the hash once the padding is in.
    fn words(&self) -> &[u32];
}

/// Streaming hashing: padding and length (FIPS 180-4 §5.1.1) around a [`Compression`].
struct Hasher<C> {
    state: C,
    block: [u8; BLOCK_LEN],
    filled: usize,
    length: u64,
}

impl<C: Compression> Hasher<C> {
    fn new() -> Self {
        Hasher { state: C::INITIAL, block: [0; BLOCK_LEN], filled: 0, length: 0 }
    }

    fn update(&mut self, mut data: &[u8]) {
        self.length = self.length.wrapping_add(data.len() as u64);
        while !data.is_empty() {
            let take = (BLOCK_LEN - self.filled).min(data.len());
            self.block[self.filled..self.filled + take].copy_from_slice(&data[..take]);
            self.filled += take;
            data = &data[take..];
            if self.filled == BLOCK_LEN {
                self.state.compress(&self.block);
                self.filled = 0;
            }
        }
    }

    fn finish(mut self) -> Vec<u8> {
        const PADDING: [u8; BLOCK_LEN] = {
            let mut p = [0u8; BLOCK_LEN];
            p[0] = 0x80;
            p
        };
        let bits = self.length.wrapping_mul(8);
        // 0x80, then zeros up to 8 bytes short of a block boundary, then the bit length.
        let pad =
            if self.filled < BLOCK_LEN - 8 { BLOCK_LEN - 8 - self.filled } else { 2 * BLOCK_LEN - 8 - self.filled };
        self.update(&PADDING[..pad]);
        self.update(&bits.to_be_bytes());
        self.state.words().iter().flat_map(|w| w.to_be_bytes()).collect()
    }
}

/// Replaces `a`, one hash output, by its hash, `times` times. Such an input always fits one
/// block, so the block is padded once and nothing is allocated per round.
fn rehash<C: Compression>(a: &mut [u8], times: u64) {
    let n = C::OUTPUT_LEN;
    let mut block = [0u8; BLOCK_LEN];
    block[n] = 0x80;
    block[BLOCK_LEN - 8..].copy_from_slice(&(n as u64 * 8).to_be_bytes());
    block[..n].copy_from_slice(a);
    for _ in 0..times {
        let mut state = C::INITIAL;
        state.compress(&block);
        for (out, word) in block[..n].chunks_exact_mut(4).zip(state.words()) {
            out.copy_from_slice(&word.to_be_bytes());
        }
    }
    a.copy_from_slice(&block[..n]);
}

fn digest<C: Compression>(data: &[u8]) -> Vec<u8> {
    let mut hasher = Hasher::<C>::new();
    hasher.update(data);
    hasher.finish()
}

/// The block's big-endian words, in an array of `N` (the message schedule).
fn schedule<const N: usize>(block: &[u8; BLOCK_LEN]) -> [u32; N] {
    let mut w = [0u32; N];
    for (w, c) in w.iter_mut().zip(block.chunks_exact(4)) {
        *w = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
    }
    w
}

#[derive(Clone, Copy)]
struct Sha1([u32; 5]);

impl Compression for Sha1 {
    const INITIAL: Self = Sha1([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0]);
    const OUTPUT_LEN: usize = 20;

    fn compress(&mut self, block: &[u8; BLOCK_LEN]) {
        let mut w: [u32; 80] = schedule(block);
        for t in 16..80 {
            w[t] = (w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = self.0;
        for (t, wt) in w.into_iter().enumerate() {
            let (f, k) = match t {
                0..=19 => ((b & c) | (!b & d), 0x5a827999),
                20..=39 => (b ^ c ^ d, 0x6ed9eba1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8f1bbcdc),
                _ => (b ^ c ^ d, 0xca62c1d6),
            };
            let temp = a.rotate_left(5).wrapping_add(f).wrapping_add(e).wrapping_add(k).wrapping_add(wt);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = temp;
        }
        for (h, v) in self.0.iter_mut().zip([a, b, c, d, e]) {
            *h = h.wrapping_add(v);
        }
    }

    fn words(&self) -> &[u32] {
        &self.0
    }
}

#[derive(Clone, Copy)]
struct Sha256([u32; 8]);

/// SHA-256 round constants (FIPS 180-4 §4.2.2).
const K256: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
    0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
    0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
    0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
];

impl Compression for Sha256 {
    const INITIAL: Self =
        Sha256([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
    const OUTPUT_LEN: usize = 32;

    fn compress(&mut self, block: &[u8; BLOCK_LEN]) {
        let mut w: [u32; 64] = schedule(block);
        for t in 16..64 {
            let s0 = w[t - 15].rotate_right(7) ^ w[t - 15].rotate_right(18) ^ (w[t - 15] >> 3);
            let s1 = w[t - 2].rotate_right(17) ^ w[t - 2].rotate_right(19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16].wrapping_add(s0).wrapping_add(w[t - 7]).wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = self.0;
        for (k, wt) in K256.into_iter().zip(w) {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = h.wrapping_add(s1).wrapping_add(ch).wrapping_add(k).wrapping_add(wt);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            h = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (s, v) in self.0.iter_mut().zip([a, b, c, d, e, f, g, h]) {
            *s = s.wrapping_add(v);
        }
    }

    fn words(&self) -> &[u32] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn unhex(text: &str) -> Vec<u8> {
        (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
    }

    const MSG_448: &[u8] = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

    #[test]
    fn sha1_fips_180_vectors() {
        assert_eq!(hex(&digest::<Sha1>(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(hex(&digest::<Sha1>(b"abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(hex(&digest::<Sha1>(MSG_448)), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
        assert_eq!(hex(&digest::<Sha1>(&vec![b'a'; 1_000_000])), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    }

    #[test]
    fn sha256_fips_180_vectors() {
        assert_eq!(hex(&digest::<Sha256>(b"")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(hex(&digest::<Sha256>(b"abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(hex(&digest::<Sha256>(MSG_448)), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
        assert_eq!(
            hex(&digest::<Sha256>(&vec![b'a'; 1_000_000])),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        );
    }

    #[test]
    fn streaming_matches_one_shot_across_block_boundaries() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        for split in [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 999, 1000] {
            let mut h = Hasher::<Sha256>::new();
            h.update(&data[..split]);
            h.update(&data[split..]);
            assert_eq!(h.finish(), digest::<Sha256>(&data), "split at {split}");
        }
        // Lengths around the padding boundary (55, 56 and 64 bytes) against known digests.
        assert_eq!(hex(&digest::<Sha1>(&[b'a'; 64])), "0098ba824b5c16427bd7a1122a5a442a25ec644d");
        assert_eq!(
            hex(&digest::<Sha256>(&[b'a'; 55])),
            "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"
        );
        assert_eq!(
            hex(&digest::<Sha256>(&[b'a'; 56])),
            "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"
        );
    }

    #[test]
    fn hmac_sha1_rfc_2202_vectors() {
        assert_eq!(hex(&hmac::<Sha1>(&[0x0b; 20], b"Hi There")), "b617318655057264e28bc0b6fb378c8ef146be00");
        assert_eq!(
            hex(&hmac::<Sha1>(b"Jefe", b"what do ya want for nothing?")),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        assert_eq!(hex(&hmac::<Sha1>(&[0xaa; 20], &[0xdd; 50])), "125d7342b9ac11cd91a39af48aa17b4f63f175d3");
        assert_eq!(
            hex(&hmac::<Sha1>(&[0xaa; 80], b"Test Using Larger Than Block-Size Key - Hash Key First")),
            "aa4ae5e15272d00e95705637ce8a3b55ed402112"
        );
    }

    #[test]
    fn hmac_sha256_rfc_4231_vectors() {
        assert_eq!(
            hex(&hmac::<Sha256>(&[0x0b; 20], b"Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            hex(&hmac::<Sha256>(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex(&hmac::<Sha256>(&[0xaa; 20], &[0xdd; 50])),
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"
        );
        assert_eq!(
            hex(&hmac::<Sha256>(&[0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn pkcs12_kdf_vectors() {
        // The published PKCS#12 test vectors (passwords "smeg" and "queeg" as BMPStrings).
        let smeg = unhex("0073006d006500670000");
        let queeg = unhex("007100750065006500670000");
        let kdf = |id, pw: &[u8], salt: &str, iterations, len| {
            hex(&derive_key::<Sha1>(id, pw, &unhex(salt), iterations, len))
        };
        assert_eq!(kdf(1, &smeg, "0a58cf64530d823f", 1, 24), "8aaae6297b6cb04642ab5b077851284eb7128f1a2a7fbca3");
        assert_eq!(kdf(2, &smeg, "0a58cf64530d823f", 1, 8), "79993dfe048d3b76");
        assert_eq!(kdf(3, &smeg, "3d83c0e4546ac140", 1, 20), "8d967d88f6caa9d714800ab3d48051d63f73a312");
        assert_eq!(kdf(1, &queeg, "05dec959acff72f7", 1000, 24), "ed2034e36328830ff09df1e1a07dd357185dac0d4f9eb3d4");
        // SHA-256, MAC key and more than one output block: computed with OpenSSL 3
        // (`openssl kdf -keylen N -kdfopt digest:... -kdfopt hexpass:... -kdfopt hexsalt:...
        // -kdfopt id:... -kdfopt iter:... PKCS12KDF`).
        assert_eq!(
            hex(&derive_key::<Sha256>(3, &queeg, &unhex("3d83c0e4546ac140"), 1000, 32)),
            "0695f1c812aea33e3e2916f7b7a4bad27ff8b88a6ae8d8c617cb1eed19c91f88"
        );
        assert_eq!(
            kdf(1, &smeg, "0a58cf64530d823f", 1, 32),
            "8aaae6297b6cb04642ab5b077851284eb7128f1a2a7fbca340830d0ce0d7879d"
        );
    }

    /// A PFX around `content` with a MAC made here over `password` (raw KDF bytes).
    fn synthetic_pfx(content: &[u8], mac: Option<(&[u8], &[u8])>) -> Vec<u8> {
        let mut octets = Vec::new();
        der::write(OCTET_STRING, content, &mut octets);
        let mut explicit = Vec::new();
        der::write(EXPLICIT_0, &octets, &mut explicit);
        let mut auth_safe = Vec::new();
        der::write(OID, ID_DATA, &mut auth_safe);
        auth_safe.extend_from_slice(&explicit);
        let mut fields = vec![0x02, 0x01, 0x03];
        der::write(SEQUENCE, &auth_safe, &mut fields);
        if let Some((password, salt)) = mac {
            let key = derive_key::<Sha256>(3, password, salt, 5, 32);
            let mut algorithm = Vec::new();
            der::write(OID, ID_SHA256, &mut algorithm);
            let mut digest_info = Vec::new();
            der::write(SEQUENCE, &algorithm, &mut digest_info);
            der::write(OCTET_STRING, &hmac::<Sha256>(&key, content), &mut digest_info);
            let mut mac_data = Vec::new();
            der::write(SEQUENCE, &digest_info, &mut mac_data);
            der::write(OCTET_STRING, salt, &mut mac_data);
            der::write(INTEGER, &[5], &mut mac_data);
            der::write(SEQUENCE, &mac_data, &mut fields);
        }
        let mut pfx = Vec::new();
        der::write(SEQUENCE, &fields, &mut pfx);
        pfx
    }

    #[test]
    fn empty_password_is_accepted_in_either_encoding() {
        for empty in [&[0u8, 0][..], &[]] {
            let pfx = synthetic_pfx(b"bags", Some((empty, b"salt")));
            assert_eq!(check_password(&pfx, None), Ok(MacCheck::Verified));
            assert_eq!(check_password(&pfx, Some("")), Ok(MacCheck::Verified));
            assert_eq!(check_password(&pfx, Some("x")), Ok(MacCheck::Mismatch));
        }
    }

    #[test]
    fn non_ascii_passwords_are_tried_as_utf16_and_as_legacy_bytes() {
        let utf16 = password_candidates("pä").remove(0);
        assert_eq!(utf16, [0, b'p', 0, 0xe4, 0, 0]);
        let pfx = synthetic_pfx(b"bags", Some((&[0, b'p', 0, 0xc3, 0, 0xa4, 0, 0], b"salt")));
        assert_eq!(check_password(&pfx, Some("pä")), Ok(MacCheck::Verified));
        assert_eq!(password_candidates("p").len(), 1);
    }

    #[test]
    fn structure_outcomes() {
        assert_eq!(check_password(&synthetic_pfx(b"bags", None), None), Ok(MacCheck::Absent));
        assert_eq!(check_password(&[0x30, 0x03, 0x02, 0x01, 0x03], None), Err(Malformed));
        assert_eq!(check_password(&[0x30, 0x00], None), Err(Malformed));
        assert_eq!(check_password(b"", None), Err(Malformed));
        // Trailing bytes after the PFX.
        let mut trailing = synthetic_pfx(b"bags", None);
        trailing.push(0);
        assert_eq!(check_password(&trailing, None), Err(Malformed));
        // A constructed OCTET STRING is read as the concatenation of its segments.
        let mut segments = Vec::new();
        der::write(OCTET_STRING, b"ba", &mut segments);
        der::write(OCTET_STRING, b"gs", &mut segments);
        let mut constructed = Vec::new();
        der::write(CONSTRUCTED_OCTET_STRING, &segments, &mut constructed);
        assert_eq!(octets(constructed[0], &constructed[2..], 0).unwrap().as_ref(), b"bags");
        // Deeply nested constructed strings are refused, not recursed into.
        let mut nested = Vec::new();
        der::write(OCTET_STRING, b"x", &mut nested);
        for _ in 0..=MAX_NESTING {
            let mut outer = Vec::new();
            der::write(CONSTRUCTED_OCTET_STRING, &nested, &mut outer);
            nested = outer;
        }
        let (e, _) = der::read(&nested).unwrap();
        assert_eq!(octets(e.tag, e.contents, 0), Err(Malformed));
    }

    #[test]
    fn iteration_counts() {
        assert_eq!(iteration_count(&[0x08, 0x00]), Ok(Some(2048)));
        assert_eq!(iteration_count(&[0x00, 0x80]), Ok(Some(128)));
        assert_eq!(iteration_count(&[0x00]), Ok(None));
        assert_eq!(iteration_count(&[0xff]), Ok(None));
        assert_eq!(iteration_count(&[0x0f, 0x42, 0x40]), Ok(Some(1_000_000)));
        assert_eq!(iteration_count(&[0x0f, 0x42, 0x41]), Ok(None));
        assert_eq!(iteration_count(&[0x01; 20]), Ok(None));
        assert_eq!(iteration_count(&[]), Err(Malformed));
    }

    #[test]
    fn huge_iteration_counts_and_other_digests_are_not_checked() {
        let pfx = synthetic_pfx(b"bags", Some((&[0, 0], b"salt")));
        // The iterations INTEGER (5) is last: put 0x7fffffff there instead.
        let fields = only(&pfx, SEQUENCE).unwrap();
        let (_, after_version) = element(fields, INTEGER).unwrap();
        let (_, after_auth_safe) = element(after_version, SEQUENCE).unwrap();
        let mac_fields = only(after_auth_safe, SEQUENCE).unwrap();
        assert!(mac_fields.ends_with(&[0x02, 0x01, 0x05]));
        let mut mac_data = mac_fields[..mac_fields.len() - 3].to_vec();
        mac_data.extend_from_slice(&[0x02, 0x04, 0x7f, 0xff, 0xff, 0xff]);
        let mut new_fields = fields[..fields.len() - after_auth_safe.len()].to_vec();
        der::write(SEQUENCE, &mac_data, &mut new_fields);
        let mut huge = Vec::new();
        der::write(SEQUENCE, &new_fields, &mut huge);
        assert_eq!(check_password(&huge, None), Ok(MacCheck::Unchecked));
        // SHA-384 instead of SHA-256 (same OID length, last arc 2).
        let mut sha384 = pfx.clone();
        let at = sha384.windows(ID_SHA256.len()).position(|w| w == ID_SHA256).unwrap();
        sha384[at + ID_SHA256.len() - 1] = 0x02;
        assert_eq!(check_password(&sha384, None), Ok(MacCheck::Unchecked));
        // A MAC of the wrong length for its digest is malformed.
        let mut short = pfx;
        let at = short.windows(2).position(|w| w == [OCTET_STRING, 32]).unwrap();
        short[at + 1] = 31;
        assert!(check_password(&short, None).is_err());
    }
}
