//! A small, strict reader for the certificate bundle, the body of `get_certificate` and of every
//! other operation that answers with a [`KeyVaultCertificate`].
//!
//! serde's derived decoder for the bundle and its policy is large (a decode runs about 27 KB of
//! its code), and a client calls it once per response, with caches cold from the network round
//! trip: fetching that much code costs more than the decoding itself (see BENCHMARKS.md). This
//! reader runs under half as much. It is not a second source of truth: it takes only the plain form of the
//! body and answers `None` for anything else (an escape in a string, a fraction in a number, a
//! key given twice, nesting deeper than [`MAX_SKIP_DEPTH`] in an unknown field, the free-form
//! `platformManaged`, malformed JSON), and the caller then decodes with serde, which decides and names any error. Whatever it
//! does accept, serde accepts too and decodes to an equal value: the tests here and the
//! `certificate_bundle` fuzz target compare the two.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::certificate::{CertificateAttributes, KeyVaultCertificate, PendingOperationRef};
use super::encoding::decode_base64;
use super::policy::{
    BasicConstraints, CertificatePolicy, IssuerParameters, KeyProperties, LifetimeAction, LifetimeActionType,
    LifetimeTrigger, PlatformManaged, SecretProperties, SubjectAlternativeNames, X509CertificateProperties,
};

/// How deeply the value of an unknown field may nest before the body goes to serde instead
/// (serde_json's own limit is 128).
const MAX_SKIP_DEPTH: u32 = 32;

/// Reads a certificate bundle, or `None` when serde must decide (see the module docs).
pub(crate) fn read_certificate(text: &str) -> Option<KeyVaultCertificate> {
    let mut reader = Reader { text, pos: 0 };
    let certificate = read_certificate_bundle(&mut reader)?;
    reader.peek().is_none().then_some(certificate)
}

/// Reads one JSON object into a `$model`, each field from its wire key with its read function;
/// `null` gives `None`. A key given twice answers `None` (serde's derive rejects duplicate
/// fields); unknown keys are skipped. Every field must be listed: the struct literal has no
/// `..`, so a new model field fails the build until it is read here.
macro_rules! read_object {
    ($reader:ident, $model:ident { $($field:ident: $key:literal => $read:expr,)* }) => {{
        /// The fields, numbered for the duplicate check.
        #[allow(non_camel_case_types)]
        enum Field { $($field,)* }
        let mut model = $model { $($field: None,)* };
        // The members are read in a closure that borrows the model, so that every early
        // `None` leaves through one exit that drops it, not each through its own drop code.
        let mut members = || -> Option<()> {
            let mut seen = 0u64;
            $reader.eat(b'{')?;
            let mut first = true;
            while let Some(key) = $reader.key(&mut first)? {
                match key {
                    $($key => {
                        let bit = 1u64 << Field::$field as u32;
                        if seen & bit != 0 {
                            return None;
                        }
                        seen |= bit;
                        model.$field = if $reader.null()? { None } else { Some(($read)($reader)?) };
                    })*
                    _ => $reader.skip(MAX_SKIP_DEPTH)?,
                }
            }
            Some(())
        };
        members().map(|()| model)
    }};
}

#[inline(never)]
fn read_certificate_bundle(r: &mut Reader<'_>) -> Option<KeyVaultCertificate> {
    read_object!(r, KeyVaultCertificate {
        id: "id" => Reader::string,
        key_id: "kid" => Reader::string,
        secret_id: "sid" => Reader::string,
        x509_thumbprint: "x5t" => Reader::base64,
        policy: "policy" => read_policy,
        cer: "cer" => Reader::base64,
        content_type: "contentType" => Reader::open_enum,
        attributes: "attributes" => read_attributes,
        tags: "tags" => read_tags,
        preserve_order: "preserveCertOrder" => Reader::boolean,
        pending: "pending" => read_pending,
        subject: "subject" => Reader::string,
        issuer: "issuer" => Reader::string,
        serial_number: "serialnumber" => Reader::string,
    })
}

#[inline(never)]
fn read_attributes(r: &mut Reader<'_>) -> Option<CertificateAttributes> {
    read_object!(r, CertificateAttributes {
        enabled: "enabled" => Reader::boolean,
        not_before: "nbf" => Reader::unix_time,
        expires_on: "exp" => Reader::unix_time,
        created_on: "created" => Reader::unix_time,
        updated_on: "updated" => Reader::unix_time,
        recoverable_days: "recoverableDays" => |r: &mut Reader<'_>| i32::try_from(r.integer()?).ok(),
        recovery_level: "recoveryLevel" => Reader::open_enum,
    })
}

#[inline(never)]
fn read_pending(r: &mut Reader<'_>) -> Option<PendingOperationRef> {
    read_object!(r, PendingOperationRef { id: "id" => Reader::string, })
}

#[inline(never)]
fn read_tags(r: &mut Reader<'_>) -> Option<BTreeMap<String, String>> {
    r.eat(b'{')?;
    let mut tags = BTreeMap::new();
    let mut first = true;
    while let Some(key) = r.key(&mut first)? {
        // A map keeps the last of a repeated key, in serde too.
        tags.insert(key.to_owned(), r.string()?);
    }
    Some(tags)
}

#[inline(never)]
fn read_policy(r: &mut Reader<'_>) -> Option<CertificatePolicy> {
    read_object!(r, CertificatePolicy {
        id: "id" => Reader::string,
        key_properties: "key_props" => read_key_properties,
        secret_properties: "secret_props" => read_secret_properties,
        x509_properties: "x509_props" => read_x509_properties,
        lifetime_actions: "lifetime_actions" => |r: &mut Reader<'_>| r.list(read_lifetime_action),
        issuer_parameters: "issuer" => read_issuer_parameters,
        attributes: "attributes" => read_attributes,
        // Free-form JSON values: serde's.
        platform_managed: "platformManaged" => |_: &mut Reader<'_>| None::<PlatformManaged>,
    })
}

#[inline(never)]
fn read_key_properties(r: &mut Reader<'_>) -> Option<KeyProperties> {
    read_object!(r, KeyProperties {
        exportable: "exportable" => Reader::boolean,
        key_type: "kty" => Reader::open_enum,
        key_size: "key_size" => Reader::unsigned,
        reuse_key: "reuse_key" => Reader::boolean,
        curve: "crv" => Reader::open_enum,
    })
}

#[inline(never)]
fn read_secret_properties(r: &mut Reader<'_>) -> Option<SecretProperties> {
    read_object!(r, SecretProperties { content_type: "contentType" => Reader::open_enum, })
}

#[inline(never)]
fn read_x509_properties(r: &mut Reader<'_>) -> Option<X509CertificateProperties> {
    read_object!(r, X509CertificateProperties {
        subject: "subject" => Reader::string,
        enhanced_key_usage: "ekus" => Reader::strings,
        subject_alternative_names: "sans" => read_subject_alternative_names,
        key_usage: "key_usage" => |r: &mut Reader<'_>| r.list(Reader::open_enum),
        validity_in_months: "validity_months" => Reader::unsigned,
        basic_constraints: "basic_constraints" => read_basic_constraints,
    })
}

#[inline(never)]
fn read_subject_alternative_names(r: &mut Reader<'_>) -> Option<SubjectAlternativeNames> {
    read_object!(r, SubjectAlternativeNames {
        emails: "emails" => Reader::strings,
        dns_names: "dns_names" => Reader::strings,
        upns: "upns" => Reader::strings,
        uris: "uris" => Reader::strings,
        ip_addresses: "ipAddresses" => Reader::strings,
    })
}

#[inline(never)]
fn read_basic_constraints(r: &mut Reader<'_>) -> Option<BasicConstraints> {
    read_object!(r, BasicConstraints { ca: "ca" => Reader::boolean, })
}

#[inline(never)]
fn read_lifetime_action(r: &mut Reader<'_>) -> Option<LifetimeAction> {
    read_object!(r, LifetimeAction {
        trigger: "trigger" => read_lifetime_trigger,
        action: "action" => read_lifetime_action_type,
    })
}

#[inline(never)]
fn read_lifetime_trigger(r: &mut Reader<'_>) -> Option<LifetimeTrigger> {
    read_object!(r, LifetimeTrigger {
        lifetime_percentage: "lifetime_percentage" => Reader::unsigned,
        days_before_expiry: "days_before_expiry" => Reader::unsigned,
    })
}

#[inline(never)]
fn read_lifetime_action_type(r: &mut Reader<'_>) -> Option<LifetimeActionType> {
    read_object!(r, LifetimeActionType { action_type: "action_type" => Reader::open_enum, })
}

#[inline(never)]
fn read_issuer_parameters(r: &mut Reader<'_>) -> Option<IssuerParameters> {
    read_object!(r, IssuerParameters {
        name: "name" => Reader::string,
        certificate_type: "cty" => Reader::string,
        certificate_transparency: "cert_transparency" => Reader::boolean,
    })
}

/// A position in JSON text. Every read answers `None` for what serde must decide instead.
///
/// The `#[inline(never)]` on the readers of values and of each model is deliberate: each then
/// exists once in the binary, and a cold decode runs less code (336 instruction-cache lines
/// against 397 with nothing kept out of line, for a few calls more; see BENCHMARKS.md).
struct Reader<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Reader<'a> {
    /// The next byte after JSON whitespace, not consumed; `None` at the end.
    #[inline]
    fn peek(&mut self) -> Option<u8> {
        // Bodies are compact: the next byte is hardly ever whitespace (all of which is <= b' ').
        match self.text.as_bytes().get(self.pos) {
            Some(&byte) if byte > b' ' => Some(byte),
            _ => self.skip_whitespace(),
        }
    }

    /// [`Reader::peek`] past whitespace.
    #[cold]
    #[inline(never)]
    fn skip_whitespace(&mut self) -> Option<u8> {
        let bytes = self.text.as_bytes();
        while let Some(&byte) = bytes.get(self.pos) {
            if !matches!(byte, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(byte);
            }
            self.pos += 1;
        }
        None
    }

    /// Consumes `byte`, the next one after whitespace.
    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.pos += 1)
    }

    /// Consumes `word` (`true`, `false`, `null`), which must start right here.
    fn literal(&mut self, word: &str) -> Option<()> {
        self.text.as_bytes().get(self.pos..)?.starts_with(word.as_bytes()).then(|| self.pos += word.len())
    }

    /// The next key of the object whose `{` was read, with its `:`; `Some(None)` past the `}`.
    /// `first` is true until the first key was read.
    #[inline(never)]
    fn key(&mut self, first: &mut bool) -> Option<Option<&'a str>> {
        if !self.more(first, b'}')? {
            return Some(None);
        }
        let key = self.str()?;
        self.eat(b':')?;
        Some(Some(key))
    }

    /// Whether another member or element follows (reading its `,`) or the container ends
    /// (reading `close`).
    fn more(&mut self, first: &mut bool, close: u8) -> Option<bool> {
        let next = self.peek()?;
        if next == close {
            self.pos += 1;
            return Some(false);
        }
        if !std::mem::take(first) {
            if next != b',' {
                return None;
            }
            self.pos += 1;
        }
        Some(true)
    }

    /// A string without escapes or control characters, borrowed from the text.
    #[inline(never)]
    fn str(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let len = special_byte(&bytes[start..])?;
        // An escape, or a control character (which JSON forbids raw): serde's to decode or reject.
        if bytes[start + len] != b'"' {
            return None;
        }
        self.pos = start + len + 1;
        // Both ends are next to an ASCII quote, so on character boundaries.
        self.text.get(start..start + len)
    }

    /// Whether the next value is `null` (read if so).
    fn null(&mut self) -> Option<bool> {
        if self.peek()? != b'n' {
            return Some(false);
        }
        self.literal("null").map(|()| true)
    }

    #[inline(never)]
    fn string(&mut self) -> Option<String> {
        self.str().map(str::to_owned)
    }

    #[inline(never)]
    fn strings(&mut self) -> Option<Vec<String>> {
        self.list(Reader::string)
    }

    #[inline(never)]
    fn open_enum<T: for<'t> From<&'t str>>(&mut self) -> Option<T> {
        self.str().map(T::from)
    }

    #[inline(never)]
    fn base64(&mut self) -> Option<Vec<u8>> {
        decode_base64(self.str()?).ok()
    }

    #[inline(never)]
    fn boolean(&mut self) -> Option<bool> {
        match self.peek()? {
            b't' => self.literal("true").map(|()| true),
            b'f' => self.literal("false").map(|()| false),
            _ => None,
        }
    }

    /// An array of what `item` reads.
    fn list<T>(&mut self, item: impl Fn(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        self.eat(b'[')?;
        let mut items = Vec::new();
        let mut first = true;
        while self.more(&mut first, b']')? {
            items.push(item(self)?);
        }
        Some(items)
    }

    /// An integer as serde_json reads one: up to 18 digits (no overflow), no leading zero, no
    /// fraction or exponent, not `-0` (serde_json reads the last two as floats).
    #[inline(never)]
    fn integer(&mut self) -> Option<i64> {
        self.peek()?;
        let bytes = &self.text.as_bytes()[self.pos..];
        let negative = bytes[0] == b'-';
        let first = usize::from(negative);
        let count = digits(&bytes[first..]);
        if count == 0 || count > 18 || (count > 1 && bytes[first] == b'0') {
            return None;
        }
        if matches!(bytes.get(first + count), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        let value = bytes[first..first + count].iter().fold(0i64, |v, d| v * 10 + i64::from(d - b'0'));
        if negative && value == 0 {
            return None;
        }
        self.pos += first + count;
        Some(if negative { -value } else { value })
    }

    #[inline(never)]
    fn unsigned(&mut self) -> Option<u32> {
        u32::try_from(self.integer()?).ok()
    }

    #[inline(never)]
    fn unix_time(&mut self) -> Option<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp(self.integer()?).ok()
    }

    /// Skips any JSON value, checking its grammar, nested at most `depth` deep.
    fn skip(&mut self, depth: u32) -> Option<()> {
        let object = match self.peek()? {
            b'"' => return self.str().map(drop),
            b't' => return self.literal("true"),
            b'f' => return self.literal("false"),
            b'n' => return self.literal("null"),
            b'{' => true,
            b'[' => false,
            _ => return self.number(),
        };
        let depth = depth.checked_sub(1)?;
        self.pos += 1;
        let mut first = true;
        if object {
            while self.key(&mut first)?.is_some() {
                self.skip(depth)?;
            }
        } else {
            while self.more(&mut first, b']')? {
                self.skip(depth)?;
            }
        }
        Some(())
    }

    /// Skips a number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    fn number(&mut self) -> Option<()> {
        let bytes = self.text.as_bytes();
        let mut pos = self.pos + usize::from(bytes[self.pos] == b'-');
        let whole = digits(&bytes[pos..]);
        if whole == 0 || (whole > 1 && bytes[pos] == b'0') {
            return None;
        }
        pos += whole;
        if bytes.get(pos) == Some(&b'.') {
            pos += 1;
            let fraction = digits(&bytes[pos..]);
            if fraction == 0 {
                return None;
            }
            pos += fraction;
        }
        if matches!(bytes.get(pos), Some(b'e' | b'E')) {
            pos += 1;
            pos += usize::from(matches!(bytes.get(pos), Some(b'+' | b'-')));
            let exponent = digits(&bytes[pos..]);
            if exponent == 0 {
                return None;
            }
            pos += exponent;
        }
        self.pos = pos;
        Some(())
    }
}

/// The offset of the first `"`, `\\` or control character in `bytes`, eight bytes a step.
fn special_byte(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = ONES * 0x80;
    // The high bit of each byte that is zero; the lowest one flagged is exact (a borrow can
    // only flag bytes above a real zero byte), which is all that is used.
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let below_space = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
        let found = zero(x ^ (ONES * u64::from(b'"'))) | zero(x ^ (ONES * u64::from(b'\\'))) | below_space;
        if found != 0 {
            return Some(offset + found.trailing_zeros() as usize / 8);
        }
        offset += 8;
    }
    let rest = chunks.remainder().iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
    Some(offset + rest)
}

/// How many ASCII digits `bytes` starts with.
fn digits(bytes: &[u8]) -> usize {
    bytes.iter().take_while(|b| b.is_ascii_digit()).count()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::models::{
        CertificateContentType, CertificatePolicyAction, DeletionRecoveryLevel, KeyCurveName, KeyType, KeyUsageType,
    };

    const EMULATOR: &str = include_str!("../../benches/fixtures/certificate_bundle_emulator.json");
    const RECORDED: &str = include_str!("../../benches/fixtures/certificate_bundle_recorded.json");
    const FULL: &str = include_str!("../../benches/fixtures/certificate_bundle.json");

    fn serde(text: &str) -> Result<KeyVaultCertificate, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The reader's one promise: what it reads, serde reads to the same value.
    fn agrees_with_serde(text: &str) -> Result<Option<KeyVaultCertificate>, String> {
        match (read_certificate(text), serde(text)) {
            (Some(read), Ok(decoded)) if read == decoded => Ok(Some(read)),
            (Some(read), decoded) => Err(format!("read {read:?}, serde gave {decoded:?} for {text}")),
            (None, _) => Ok(None),
        }
    }

    #[test]
    fn the_real_and_the_emulators_bundles_are_read_as_serde_decodes_them() {
        for body in [EMULATOR, RECORDED, FULL] {
            assert!(agrees_with_serde(body).unwrap().is_some(), "{body}");
        }
    }

    /// Every field set, through serde's encoder: a field the reader skips or misreads shows.
    #[test]
    fn a_fully_populated_bundle_reads_back_whole() {
        let attributes = CertificateAttributes {
            enabled: Some(true),
            not_before: Some(OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap()),
            expires_on: Some(OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()),
            created_on: Some(OffsetDateTime::from_unix_timestamp(-1).unwrap()),
            updated_on: Some(OffsetDateTime::from_unix_timestamp(0).unwrap()),
            recoverable_days: Some(-7),
            recovery_level: Some(DeletionRecoveryLevel::Other("SomethingNew".into())),
        };
        let policy = CertificatePolicy {
            id: Some("https://v.vault.azure.net/certificates/c/policy".into()),
            key_properties: Some(KeyProperties {
                exportable: Some(false),
                key_type: Some(KeyType::Rsa),
                key_size: Some(4096),
                reuse_key: Some(true),
                curve: Some(KeyCurveName::P384),
            }),
            secret_properties: Some(SecretProperties { content_type: Some(CertificateContentType::Pem) }),
            x509_properties: Some(X509CertificateProperties {
                subject: Some("CN=a, O=ü".into()),
                enhanced_key_usage: Some(vec!["1.3.6.1.5.5.7.3.1".into(), String::new()]),
                subject_alternative_names: Some(SubjectAlternativeNames {
                    emails: Some(vec!["a@b.example".into()]),
                    dns_names: Some(vec!["a.example".into(), "*.b.example".into()]),
                    upns: Some(vec!["u@b.example".into()]),
                    uris: Some(vec!["https://c.example/".into()]),
                    ip_addresses: Some(vec!["10.0.0.1".into(), "::1".into()]),
                }),
                key_usage: Some(vec![KeyUsageType::DigitalSignature, KeyUsageType::Other("newUsage".into())]),
                validity_in_months: Some(u32::MAX),
                basic_constraints: Some(BasicConstraints { ca: Some(true) }),
            }),
            lifetime_actions: Some(vec![
                LifetimeAction {
                    trigger: Some(LifetimeTrigger { lifetime_percentage: Some(80), days_before_expiry: None }),
                    action: Some(LifetimeActionType { action_type: Some(CertificatePolicyAction::AutoRenew) }),
                },
                LifetimeAction {
                    trigger: Some(LifetimeTrigger { lifetime_percentage: None, days_before_expiry: Some(30) }),
                    action: Some(LifetimeActionType { action_type: Some(CertificatePolicyAction::EmailContacts) }),
                },
            ]),
            issuer_parameters: Some(IssuerParameters {
                name: Some("Self".into()),
                certificate_type: Some("OV-SSL".into()),
                certificate_transparency: Some(false),
            }),
            attributes: Some(attributes.clone()),
            // Free-form: left to serde (see `platform_managed_is_left_to_serde`).
            platform_managed: None,
        };
        let certificate = KeyVaultCertificate {
            id: Some("https://v.vault.azure.net/certificates/c/0123456789abcdef".into()),
            key_id: Some("https://v.vault.azure.net/keys/c/0123456789abcdef".into()),
            secret_id: Some("https://v.vault.azure.net/secrets/c/0123456789abcdef".into()),
            x509_thumbprint: Some(vec![0xfb; 20]),
            policy: Some(policy),
            cer: Some((0..=255).collect()),
            content_type: Some(CertificateContentType::Pkcs12),
            attributes: Some(attributes),
            tags: Some(BTreeMap::from([("env".into(), "prod".into()), ("empty".into(), String::new())])),
            preserve_order: Some(true),
            pending: Some(PendingOperationRef { id: Some("https://v.vault.azure.net/certificates/c/pending".into()) }),
            subject: Some("CN=a".into()),
            issuer: Some("CN=issuer".into()),
            serial_number: Some("00ff".into()),
        };
        let text = serde_json::to_string(&certificate).unwrap();
        assert_eq!(read_certificate(&text), Some(certificate.clone()));
        let pretty = serde_json::to_string_pretty(&certificate).unwrap();
        assert_eq!(read_certificate(&pretty), Some(certificate));
    }

    #[test]
    fn nulls_unknown_fields_whitespace_and_empty_containers_are_read() {
        for text in [
            "{}",
            " \t\r\n{ } \n",
            r#"{"id":null,"policy":null,"attributes":null,"tags":null,"cer":null,"x5t":null}"#,
            r#"{"new":{"deep":[1,-2.5e+3,0,true,false,null,"s",{"a":[]}]},"id":"x","other":[]}"#,
            r#"{ "id" : "x" , "tags" : { } , "policy" : { "lifetime_actions" : [ ] , "x509_props" : { "ekus" : [ ] } } }"#,
            r#"{"tags":{"a":"1","a":"2"}}"#,
            r#"{"cer":"QQ==","x5t":"QQ"}"#,
            r#"{"attributes":{"nbf":-5,"exp":0,"recoverableDays":2147483647,"recoveryLevel":"Purgeable"}}"#,
            r#"{"subject":"CN=Zoë 日本"}"#,
            r#"{"policy":{"platformManaged":null}}"#,
        ] {
            assert!(agrees_with_serde(text).unwrap().is_some(), "{text}");
        }
    }

    #[test]
    fn anything_unusual_is_left_to_serde() {
        let deep = format!(r#"{{"x":{}{}}}"#, "[".repeat(40), "]".repeat(40));
        let cases: &[&str] = &[
            // Escapes, decoded by serde (the reader only reads plain strings).
            r#"{"id":"a\/b"}"#,
            r#"{"id":"\u0041"}"#,
            r#"{"\u0069d":"x"}"#,
            r#"{"x":"\n"}"#,
            // Duplicate fields, which serde rejects; null counts as given.
            r#"{"id":"a","id":"b"}"#,
            r#"{"id":null,"id":null}"#,
            r#"{"policy":{"x509_props":{"subject":"a","subject":"a"}}}"#,
            // Numbers serde reads as floats, or out of range for the field.
            r#"{"attributes":{"exp":1.5}}"#,
            r#"{"attributes":{"exp":1e3}}"#,
            r#"{"attributes":{"exp":-0}}"#,
            r#"{"attributes":{"exp":01}}"#,
            r#"{"attributes":{"exp":1234567890123456789}}"#,
            r#"{"attributes":{"exp":253402300800}}"#,
            r#"{"attributes":{"recoverableDays":2147483648}}"#,
            r#"{"policy":{"key_props":{"key_size":-1}}}"#,
            // Wrong types, which serde rejects.
            r#"{"id":1}"#,
            r#"{"tags":{"a":null}}"#,
            r#"{"policy":{"x509_props":{"ekus":[null]}}}"#,
            r#"{"policy":{"lifetime_actions":[null]}}"#,
            r#"{"preserveCertOrder":"true"}"#,
            r#"{"cer":"not base64!"}"#,
            // Free-form values.
            r#"{"policy":{"platformManaged":{"certificateUsage":"x"}}}"#,
            // Not one plain JSON object.
            r#"["id"]"#,
            r#"{"id":"x"} {}"#,
            r#"{"id":"x",}"#,
            r#"{"id":"x""#,
            r#"{"x":[1,]}"#,
            r#"{"x":-}"#,
            r#"{"x":1.}"#,
            r#"{"x":tru}"#,
            "{\"x\":\"\u{1}\"}",
            "",
            &deep,
        ];
        for text in cases {
            assert_eq!(read_certificate(text), None, "{text}");
        }
        // Shallower nesting in an unknown field is skipped.
        let shallow = format!(r#"{{"x":{}{}}}"#, "[".repeat(31), "]".repeat(31));
        assert!(read_certificate(&shallow).is_some());
    }

    #[test]
    fn platform_managed_is_left_to_serde() {
        let text = r#"{"policy":{"platformManaged":{"certificateUsage":"x","metadata":{"a":[1]}}}}"#;
        assert_eq!(read_certificate(text), None);
        let decoded = serde(text).unwrap();
        assert_eq!(decoded.policy.unwrap().platform_managed.unwrap().certificate_usage.as_deref(), Some("x"));
    }

    #[test]
    fn special_bytes_are_found_in_every_position() {
        for len in 0..40 {
            for special in [b'"', b'\\', 0x00, 0x1f] {
                let mut bytes = vec![b'a'; len];
                bytes.push(special);
                bytes.extend_from_slice(b"\"\\");
                assert_eq!(special_byte(&bytes), Some(len), "{len} {special}");
            }
            // 0x20 and above, other than the two, are plain.
            let plain: Vec<u8> = (0..len).map(|i| [b' ', b'!', b'#', b'[', b']', 0x7f, 0xc3][i % 7]).collect();
            assert_eq!(special_byte(&plain), None);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// Any byte changed, inserted or removed anywhere in a real bundle: whatever the reader
        /// still accepts, serde decodes to the same value.
        #[test]
        fn edited_bundles_agree_with_serde(
            body in prop::sample::select(vec![EMULATOR, RECORDED, FULL]),
            edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, prop::sample::select(b"{}[]\",:\\-.0123456789eEtfnul \nAQ=/+_x\x01\xc3".to_vec())), 1..4),
        ) {
            let mut bytes = body.as_bytes().to_vec();
            for (at, kind, byte) in edits {
                let at = at.index(bytes.len());
                match kind {
                    0 => bytes[at] = byte,
                    1 => bytes.insert(at, byte),
                    _ => { bytes.remove(at); }
                }
            }
            if let Ok(text) = std::str::from_utf8(&bytes) {
                agrees_with_serde(text).map_err(TestCaseError::fail)?;
            }
        }

        /// Whitespace between any two tokens changes nothing.
        #[test]
        fn whitespace_between_tokens_is_read(
            body in prop::sample::select(vec![EMULATOR, RECORDED, FULL]),
            spaces in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(vec![" ", "\n", "\t", "\r\n  "])), 1..8),
        ) {
            // Token boundaries: next to a structural character outside strings.
            let mut boundaries = Vec::new();
            let mut in_string = false;
            for (i, b) in body.bytes().enumerate() {
                match b {
                    b'"' => in_string = !in_string,
                    b'{' | b'}' | b'[' | b']' | b',' | b':' if !in_string => boundaries.extend([i, i + 1]),
                    _ => {}
                }
            }
            let mut at: Vec<(usize, &str)> = spaces.iter().map(|(i, s)| (boundaries[i.index(boundaries.len())], *s)).collect();
            at.sort_unstable_by_key(|&(i, _)| std::cmp::Reverse(i));
            let mut text = body.to_owned();
            for (i, s) in at {
                text.insert_str(i, s);
            }
            prop_assert_eq!(read_certificate(&text), Some(serde(body).unwrap()));
        }
    }
}
