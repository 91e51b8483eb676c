//! Wire encodings: Unix-second dates and the two base64 alphabets.
//!
//! Decoding is lenient (either alphabet, padded or not, as different service versions and
//! recorders send them); encoding writes what the service writes: standard padded base64 for
//! `cer`, `csr` and `x5c`, unpadded base64url for `x5t` and backup blobs.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD, URL_SAFE_NO_PAD};
use base64::engine::DecodePaddingMode;
use base64::Engine;

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const URL_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// Decodes base64 in either alphabet, padded or not, ignoring embedded line breaks.
pub fn decode_base64(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    decode_base64_expecting(text, &STANDARD_LENIENT)
}

/// [`decode_base64`], trying `likely` (the alphabet the field is sent in) first, so what the
/// service sends decodes on the first try.
fn decode_base64_expecting(text: &str, likely: &GeneralPurpose) -> Result<Vec<u8>, base64::DecodeError> {
    match likely.decode(text) {
        Ok(bytes) => Ok(bytes),
        Err(first) => decode_base64_unusual(text).ok_or(first),
    }
}

/// The URL-safe alphabet, or text broken into lines; `None` when that does not help either.
#[cold]
fn decode_base64_unusual(text: &str) -> Option<Vec<u8>> {
    let cleaned: std::borrow::Cow<'_, str> = if text.bytes().any(|b| b.is_ascii_whitespace()) {
        text.chars().filter(|c| !c.is_ascii_whitespace()).collect::<String>().into()
    } else {
        text.into()
    };
    let engine = if cleaned.contains(['-', '_']) { &URL_LENIENT } else { &STANDARD_LENIENT };
    engine.decode(cleaned.as_bytes()).ok()
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
    ($name:ident, $encode:path, $likely:ident) => {
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
                Ok(Option::<super::Base64<super::$likely>>::deserialize(d)?.map(|b| b.bytes))
            }
        }
    };
}

base64_option_module!(base64_standard, super::encode_standard, Standard);
base64_option_module!(base64_url, super::encode_url, UrlSafe);

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
        Ok(Vec::<super::Base64<super::Standard>>::deserialize(d)?.into_iter().map(|b| b.bytes).collect())
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

/// Which alphabet a field is sent in (tried first when decoding it).
trait Alphabet {
    const ENGINE: &'static GeneralPurpose;
}

/// Standard alphabet (`cer`, `csr`, `x5c`).
struct Standard;

impl Alphabet for Standard {
    const ENGINE: &'static GeneralPurpose = &STANDARD_LENIENT;
}

/// URL-safe alphabet (`x5t`).
struct UrlSafe;

impl Alphabet for UrlSafe {
    const ENGINE: &'static GeneralPurpose = &URL_LENIENT;
}

/// Base64 bytes read from a borrowed or transient string, without copying the text.
struct Base64<A> {
    bytes: Vec<u8>,
    alphabet: std::marker::PhantomData<A>,
}

impl<'de, A: Alphabet> serde::Deserialize<'de> for Base64<A> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor<A>(std::marker::PhantomData<A>);
        impl<A: Alphabet> serde::de::Visitor<'_> for Visitor<A> {
            type Value = Base64<A>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("base64 text")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Base64<A>, E> {
                decode_base64_expecting(text, A::ENGINE)
                    .map(|bytes| Base64 { bytes, alphabet: std::marker::PhantomData })
                    .map_err(E::custom)
            }
        }
        d.deserialize_str(Visitor(std::marker::PhantomData))
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
}
