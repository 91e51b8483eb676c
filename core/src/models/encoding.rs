//! Wire encodings: Unix-second dates and the two base64 alphabets.
//!
//! Decoding is lenient (either alphabet, padded or not, as different service versions and
//! recorders send them); encoding writes what the service writes: standard padded base64 for
//! `cer`, `csr` and `x5c`, unpadded base64url for `x5t` and backup blobs.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;

/// Why text is not base64 (offsets count bytes of the text; the offending bytes themselves are
/// not repeated, as the text may be a secret).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Base64Error {
    /// A byte that is in neither alphabet and is not padding or whitespace.
    InvalidByte {
        /// Where it is.
        offset: usize,
    },
    /// A base64 character after the `=` padding.
    AfterPadding {
        /// Where it is.
        offset: usize,
    },
    /// More `=` than the length calls for, or `=` with nothing to pad.
    InvalidPadding,
    /// A single character left over at the end, which holds no whole byte.
    InvalidLength,
    /// Characters of both alphabets: `+` or `/` and `-` or `_`.
    MixedAlphabets,
}

impl std::fmt::Display for Base64Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Base64Error::InvalidByte { offset } => write!(f, "a byte that is not base64 at offset {offset}"),
            Base64Error::AfterPadding { offset } => write!(f, "text after the `=` padding at offset {offset}"),
            Base64Error::InvalidPadding => f.write_str("the `=` padding does not fit the length"),
            Base64Error::InvalidLength => f.write_str("one character left over at the end"),
            Base64Error::MixedAlphabets => f.write_str("characters of both the standard and the URL-safe alphabet"),
        }
    }
}

impl std::error::Error for Base64Error {}

/// Markers in [`DECODE`] for bytes that carry no bits.
const PAD: u8 = 0xf0;
const SPACE: u8 = 0xf1;
const INVALID: u8 = 0xff;
/// Flags in [`DECODE`] on the characters only one alphabet has.
const STANDARD_ONLY: u8 = 0x40;
const URL_ONLY: u8 = 0x80;

/// Each byte's 6-bit value (with [`STANDARD_ONLY`] or [`URL_ONLY`] for `+/-_`) or a marker.
const DECODE: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 26 {
        table[b'A' as usize + i] = i as u8;
        table[b'a' as usize + i] = 26 + i as u8;
        if i < 10 {
            table[b'0' as usize + i] = 52 + i as u8;
        }
        i += 1;
    }
    table[b'+' as usize] = STANDARD_ONLY | 62;
    table[b'/' as usize] = STANDARD_ONLY | 63;
    table[b'-' as usize] = URL_ONLY | 62;
    table[b'_' as usize] = URL_ONLY | 63;
    table[b'=' as usize] = PAD;
    let mut space = 0;
    while space < 5 {
        // The ASCII whitespace of `u8::is_ascii_whitespace`: \t \n \x0c \r and the space.
        table[[b'\t', b'\n', 0x0c, b'\r', b' '][space] as usize] = SPACE;
        space += 1;
    }
    table
};

/// Decodes base64 in either alphabet, padded or not, ignoring ASCII whitespace (line breaks
/// of PEM-style text), as different service versions and recorders send it.
///
/// One pass over a table for every form it accepts (the `base64` crate's engines take one
/// alphabet and no whitespace, so this used to try up to three decodes), and little code: a
/// response is decoded right after the client waited on its socket, when not much of the
/// decoder is still in the CPU's caches (see BENCHMARKS.md).
pub fn decode_base64(text: &str) -> Result<Vec<u8>, Base64Error> {
    let text = text.as_bytes();
    // Not `vec![0; n]`: that is `calloc`, a function no other step of a decode runs, so one
    // more to fetch from memory when the caches are cold; `malloc` and `memset` are warm.
    #[expect(clippy::slow_vector_initialization, reason = "calloc is the slow one here, see above")]
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    out.resize(out.capacity(), 0u8);
    let mut alphabets = 0u8;
    // Eight plain characters at a time (a marker, or both alphabets' flags, make their OR reach
    // `PAD`), six bytes each: what the service sends is all such runs but the last few characters.
    let mut groups = 0;
    for (run, bytes) in text.chunks_exact(8).zip(out.chunks_exact_mut(6)) {
        let values: [u8; 8] = std::array::from_fn(|i| DECODE[usize::from(run[i])]);
        let any = values.iter().fold(0, |any, &value| any | value);
        if any >= PAD {
            break;
        }
        alphabets |= any;
        let bits = values.iter().fold(0u64, |bits, &value| bits << 6 | u64::from(value & 0x3f));
        bytes.copy_from_slice(&bits.to_be_bytes()[2..]);
        groups += 2;
    }
    // The rest one character at a time: padding, whitespace, a short last group, errors.
    let mut written = groups * 3;
    let (mut bits, mut held, mut padding) = (0u32, 0u8, 0u8);
    for (offset, &byte) in text.iter().enumerate().skip(groups * 4) {
        let value = DECODE[usize::from(byte)];
        if value < PAD {
            if padding > 0 {
                return Err(Base64Error::AfterPadding { offset });
            }
            alphabets |= value;
            bits = bits << 6 | u32::from(value & 0x3f);
            held += 1;
            if held == 4 {
                out[written..written + 3].copy_from_slice(&bits.to_be_bytes()[1..]);
                written += 3;
                (bits, held) = (0, 0);
            }
        } else if value == PAD {
            padding += 1;
        } else if value != SPACE {
            return Err(Base64Error::InvalidByte { offset });
        }
    }
    if alphabets & (STANDARD_ONLY | URL_ONLY) == STANDARD_ONLY | URL_ONLY {
        return Err(Base64Error::MixedAlphabets);
    }
    // Left-over bits that do not make a whole byte are dropped (trailing bits are allowed).
    match (held, padding) {
        (0, 0) => {}
        // As the `base64` crate reads it, `QQ=` is `A` as well as `QQ==` and `QQ`.
        (2, 0..=2) => {
            out[written] = (bits >> 4) as u8;
            written += 1;
        }
        (3, 0 | 1) => {
            out[written..written + 2].copy_from_slice(&((bits >> 2) as u16).to_be_bytes());
            written += 2;
        }
        (1, _) => return Err(Base64Error::InvalidLength),
        _ => return Err(Base64Error::InvalidPadding),
    }
    out.truncate(written);
    Ok(out)
}

/// Encodes with the standard alphabet and padding.
pub fn encode_standard(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Encodes with the URL-safe alphabet, no padding.
pub fn encode_url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

macro_rules! base64_option_module {
    ($name:ident, $encode:path) => {
        /// Serde for `Option<Vec<u8>>` carried as base64 text.
        pub mod $name {
            use serde::{Deserialize, Deserializer, Serializer};

            /// Serializes the bytes as base64 text.
            pub fn serialize<S: Serializer>(value: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
                match value {
                    Some(bytes) => s.serialize_str(&$encode(bytes)),
                    None => s.serialize_none(),
                }
            }

            /// Deserializes base64 text (either alphabet, padded or not).
            pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
                Ok(Option::<super::Base64>::deserialize(d)?.map(|b| b.bytes))
            }
        }
    };
}

base64_option_module!(base64_standard, super::encode_standard);
base64_option_module!(base64_url, super::encode_url);

/// Serde for `Vec<Vec<u8>>` carried as a list of standard base64 strings (`x5c`).
pub mod base64_standard_list {
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes each entry as standard base64.
    pub fn serialize<S: Serializer>(value: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(value.len()))?;
        for bytes in value {
            seq.serialize_element(&super::encode_standard(bytes))?;
        }
        seq.end()
    }

    /// Deserializes a list of base64 strings.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        Ok(Vec::<super::Base64>::deserialize(d)?.into_iter().map(|b| b.bytes).collect())
    }
}

/// Serde for `Option<OffsetDateTime>` carried as Unix seconds.
pub mod unix_time {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;

    /// Serializes as whole Unix seconds.
    pub fn serialize<S: Serializer>(value: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(t) => s.serialize_i64(t.unix_timestamp()),
            None => s.serialize_none(),
        }
    }

    /// Deserializes Unix seconds (an integer, or a number with a fraction).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<OffsetDateTime>, D::Error> {
        Ok(Option::<UnixSeconds>::deserialize(d)?.map(|t| t.0))
    }

    /// One Unix time, read from any JSON number without buffering.
    struct UnixSeconds(OffsetDateTime);

    impl<'de> Deserialize<'de> for UnixSeconds {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(UnixSecondsVisitor)
        }
    }

    struct UnixSecondsVisitor;

    impl serde::de::Visitor<'_> for UnixSecondsVisitor {
        type Value = UnixSeconds;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a Unix time in seconds")
        }

        fn visit_i64<E: serde::de::Error>(self, seconds: i64) -> Result<UnixSeconds, E> {
            OffsetDateTime::from_unix_timestamp(seconds)
                .map(UnixSeconds)
                .map_err(|_| E::custom(format!("{seconds} is out of range for a Unix time")))
        }

        fn visit_u64<E: serde::de::Error>(self, seconds: u64) -> Result<UnixSeconds, E> {
            let seconds = i64::try_from(seconds).map_err(|_| E::custom(format!("{seconds} is not a Unix time")))?;
            self.visit_i64(seconds)
        }

        fn visit_f64<E: serde::de::Error>(self, f: f64) -> Result<UnixSeconds, E> {
            if f.is_finite() && f.abs() < 1e15 {
                self.visit_i64(f.floor() as i64)
            } else {
                Err(E::custom(format!("{f} is not a Unix time")))
            }
        }
    }
}

/// Base64 bytes read from a borrowed or transient string, without copying the text.
struct Base64 {
    bytes: Vec<u8>,
}

impl<'de> serde::Deserialize<'de> for Base64 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Base64;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("base64 text")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Base64, E> {
                decode_base64(text).map(|bytes| Base64 { bytes }).map_err(E::custom)
            }
        }
        d.deserialize_str(Visitor)
    }
}

/// Deserializes a string into `T` through `From<&str>`, without copying the text when the
/// deserializer can lend it (the open enums: known values allocate nothing).
pub(crate) fn deserialize_via_str<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: for<'a> From<&'a str>,
{
    struct Visitor<T>(std::marker::PhantomData<T>);
    impl<T: for<'a> From<&'a str>> serde::de::Visitor<'_> for Visitor<T> {
        type Value = T;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<T, E> {
            Ok(T::from(text))
        }
    }
    d.deserialize_str(Visitor(std::marker::PhantomData))
}

/// Declares an open (forward-compatible) string enum: known wire values become variants, any
/// other value is kept in `Other` and written back unchanged.
macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A value this version of the library does not know; kept as sent.
            Other(String),
        }

        impl $name {
            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)*
                    $name::Other(other) => other,
                }
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $($wire => $name::$variant,)*
                    other => $name::Other(other.to_owned()),
                }
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                match value.as_str() {
                    $($wire => $name::$variant,)*
                    _ => $name::Other(value),
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Ok($name::from(value))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::models::encoding::deserialize_via_str(d)
            }
        }
    };
}

pub(crate) use open_enum;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_alphabets_decode() {
        let bytes = [0xfbu8, 0xff, 0x01, 0x02];
        assert_eq!(decode_base64(&encode_standard(&bytes)).unwrap(), bytes);
        assert_eq!(decode_base64(&encode_url(&bytes)).unwrap(), bytes);
        assert_eq!(decode_base64("+/8B\nAg==").unwrap(), bytes);
        assert!(decode_base64("!!!").is_err());
    }

    #[test]
    fn recorded_certificate_decodes() {
        // The `cer` and `x5t` of the recorded GetCertificate bundle.
        let body: serde_json::Value =
            serde_json::from_str(include_str!("../../benches/fixtures/certificate_bundle_recorded.json")).unwrap();
        let cer = decode_base64(body["cer"].as_str().unwrap()).unwrap();
        assert_eq!(cer.len(), 775);
        assert_eq!(&cer[..2], &[0x30, 0x82]);
        assert_eq!(u16::from_be_bytes([cer[2], cer[3]]) as usize + 4, cer.len());
        assert_eq!(encode_standard(&cer), body["cer"].as_str().unwrap());
        let x5t = decode_base64(body["x5t"].as_str().unwrap()).unwrap();
        assert_eq!(x5t.len(), 20);
        assert_eq!(encode_url(&x5t), body["x5t"].as_str().unwrap());
    }

    #[test]
    fn padding_whitespace_and_trailing_bits() {
        assert_eq!(decode_base64("").unwrap(), b"");
        assert_eq!(decode_base64("QQ").unwrap(), b"A");
        assert_eq!(decode_base64("QQ==").unwrap(), b"A");
        assert_eq!(decode_base64("QQ=").unwrap(), b"A");
        assert_eq!(decode_base64("QUI").unwrap(), b"AB");
        assert_eq!(decode_base64("QUI=").unwrap(), b"AB");
        assert_eq!(decode_base64(" Q\r\nU\tI =\n").unwrap(), b"AB");
        // Bits below the last whole byte need not be zero.
        assert_eq!(decode_base64("QR").unwrap(), b"A");
    }

    #[test]
    fn bad_text_is_a_typed_error() {
        assert_eq!(decode_base64("QUJD!"), Err(Base64Error::InvalidByte { offset: 4 }));
        assert_eq!(decode_base64("QUJ\u{e9}"), Err(Base64Error::InvalidByte { offset: 3 }));
        assert_eq!(decode_base64("QQ==QUJD"), Err(Base64Error::AfterPadding { offset: 4 }));
        assert_eq!(decode_base64("QQ===").unwrap_err(), Base64Error::InvalidPadding);
        assert_eq!(decode_base64("QUI=="), Err(Base64Error::InvalidPadding));
        assert_eq!(decode_base64("QUJD="), Err(Base64Error::InvalidPadding));
        assert_eq!(decode_base64("===="), Err(Base64Error::InvalidPadding));
        assert_eq!(decode_base64("QUJDR"), Err(Base64Error::InvalidLength));
        assert_eq!(decode_base64("+/-_"), Err(Base64Error::MixedAlphabets));
        assert_eq!(decode_base64("QUJD!").unwrap_err().to_string(), "a byte that is not base64 at offset 4");
    }

    proptest::proptest! {
        #[test]
        fn encoded_bytes_decode_in_either_alphabet(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300), wrap in 1usize..80) {
            proptest::prop_assert_eq!(decode_base64(&encode_standard(&bytes)).unwrap(), bytes.clone());
            proptest::prop_assert_eq!(decode_base64(&encode_url(&bytes)).unwrap(), bytes.clone());
            // Broken into lines, as PEM bodies are.
            let text = encode_standard(&bytes);
            let lines: Vec<&str> = text.as_bytes().chunks(wrap).map(|c| std::str::from_utf8(c).unwrap()).collect();
            proptest::prop_assert_eq!(decode_base64(&lines.join("\r\n")).unwrap(), bytes.clone());
        }

        /// Agrees with the `base64` crate (either alphabet, padding optional, trailing bits
        /// allowed, whitespace removed first) on any text made of base64's own characters.
        #[test]
        fn agrees_with_the_base64_crate(text in "[A-Da-d0-2+/_=\n-]{0,24}") {
            use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
            use base64::engine::DecodePaddingMode;
            let lenient = GeneralPurposeConfig::new()
                .with_decode_padding_mode(DecodePaddingMode::Indifferent)
                .with_decode_allow_trailing_bits(true);
            let cleaned: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            let standard = GeneralPurpose::new(&base64::alphabet::STANDARD, lenient).decode(&cleaned).ok();
            let url = GeneralPurpose::new(&base64::alphabet::URL_SAFE, lenient).decode(&cleaned).ok();
            proptest::prop_assert_eq!(decode_base64(&text).ok(), standard.or(url));
        }
    }
}
