//! Real X.509 material: key generation, self-signed certificates and CSRs from a policy,
//! certificate parsing, and the secret encodings (PEM, PKCS#12).

use std::net::IpAddr;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rcgen::{
    CertificateParams, DistinguishedName, DnType, DnValue, ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, KeyPair,
    KeyUsagePurpose, OtherNameValue, PublicKeyData, SanType, SerialNumber, SignatureAlgorithm, SigningKey,
    PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384, PKCS_RSA_SHA256,
};
use rustls::pki_types::PrivatePkcs8KeyDer;
use sha1::{Digest, Sha1};
use time::OffsetDateTime;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;

use crate::ids::random_bytes;
use crate::model::{Sans, X509Props};

/// OID of the Microsoft user principal name `otherName`.
const UPN_OID: &[u64] = &[1, 3, 6, 1, 4, 1, 311, 20, 2, 3];

/// The kind of key a certificate holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySpec {
    /// RSA with this modulus size in bits.
    Rsa(usize),
    /// ECDSA on NIST P-256.
    P256,
    /// ECDSA on NIST P-384.
    P384,
    /// ECDSA on NIST P-521 (signed with SHA-512, by the `p521` crate).
    P521,
    /// ECDSA on secp256k1 (`P-256K`, signed with SHA-256, by the `k256` crate).
    P256K,
}

impl KeySpec {
    /// The rcgen (ring) signature algorithm a self-signed certificate with this key uses, or
    /// `None` for the curves ring cannot sign with (see [`ExternalKey`]).
    fn algorithm(self) -> Option<&'static SignatureAlgorithm> {
        match self {
            KeySpec::Rsa(_) => Some(&PKCS_RSA_SHA256),
            KeySpec::P256 => Some(&PKCS_ECDSA_P256_SHA256),
            KeySpec::P384 => Some(&PKCS_ECDSA_P384_SHA384),
            KeySpec::P521 | KeySpec::P256K => None,
        }
    }
}

/// A certificate's key description for `key_props` (`kty`, `key_size`, `crv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDescription {
    /// `RSA` or `EC`.
    pub kty: String,
    /// Size in bits.
    pub key_size: u32,
    /// Curve name for EC keys.
    pub crv: Option<String>,
}

/// Errors of this module, as text for a `BadParameter` message.
pub type X509Result<T> = Result<T, String>;

struct RingRng;

#[derive(Debug)]
struct RngError;

impl std::fmt::Display for RngError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("system random generator failed")
    }
}

impl std::error::Error for RngError {}

impl rsa::rand_core::TryRng for RingRng {
    type Error = RngError;

    fn try_next_u32(&mut self) -> Result<u32, RngError> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, RngError> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), RngError> {
        use ring::rand::SecureRandom;
        ring::rand::SystemRandom::new().fill(dst).map_err(|_| RngError)
    }
}

impl rsa::rand_core::TryCryptoRng for RingRng {}

/// Generates a private key; returns its PKCS#8 DER. RSA generation takes a while: call it
/// off the async runtime.
pub fn generate_key(spec: KeySpec) -> X509Result<Vec<u8>> {
    match spec {
        KeySpec::Rsa(bits) => {
            use rsa::pkcs8::EncodePrivateKey;
            let key = rsa::PrivateKey::new(&mut RingRng, bits).map_err(|e| e.to_string())?;
            let der = key.to_pkcs8_der().map_err(|e| e.to_string())?;
            Ok(der.as_bytes().to_vec())
        }
        KeySpec::P256 | KeySpec::P384 => {
            let alg = spec.algorithm().ok_or("no signature algorithm")?;
            let kp = KeyPair::generate_for(alg).map_err(|e| e.to_string())?;
            Ok(kp.serialize_der())
        }
        KeySpec::P521 | KeySpec::P256K => {
            use p521::elliptic_curve::Generate;
            use p521::pkcs8::EncodePrivateKey;
            let der = if spec == KeySpec::P521 {
                p521::ecdsa::SigningKey::try_generate_from_rng(&mut RingRng).map_err(|e| e.to_string())?.to_pkcs8_der()
            } else {
                k256::ecdsa::SigningKey::try_generate_from_rng(&mut RingRng).map_err(|e| e.to_string())?.to_pkcs8_der()
            };
            Ok(der.map_err(|e| e.to_string())?.as_bytes().to_vec())
        }
    }
}

/// A key loaded for signing: by ring through rcgen, or by RustCrypto for the curves ring lacks.
enum Signer {
    Ring(KeyPair),
    External(ExternalKey),
}

impl Signer {
    /// The raw public key bits (the SubjectPublicKeyInfo bit string contents).
    fn public_key_raw(&self) -> &[u8] {
        match self {
            Signer::Ring(k) => k.public_key_raw(),
            Signer::External(k) => &k.point,
        }
    }
}

/// Loads a PKCS#8 key for signing.
fn signing_key(pkcs8: &[u8], spec: KeySpec) -> X509Result<Signer> {
    let cannot = |e: &dyn std::fmt::Display| format!("the private key cannot be used: {e}");
    match spec.algorithm() {
        Some(alg) => KeyPair::from_pkcs8_der_and_sign_algo(&PrivatePkcs8KeyDer::from(pkcs8), alg)
            .map(Signer::Ring)
            .map_err(|e| cannot(&e)),
        None => ExternalKey::from_pkcs8(pkcs8, spec).map(Signer::External).map_err(|e| cannot(&e)),
    }
}

/// An ECDSA key that ring cannot sign with (P-521, secp256k1), signed with RustCrypto.
///
/// rcgen has no signature algorithm for these curves (P-521 only with aws-lc, secp256k1 not at
/// all), and its `SignatureAlgorithm` cannot be built outside rcgen. So rcgen still lays out the
/// certificate or CSR (subject, SANs, extensions…) with this key as an external signer under a
/// placeholder algorithm, then [`ExternalKey::finish`] swaps in the real SubjectPublicKeyInfo and
/// signature AlgorithmIdentifier and signs the to-be-signed part.
struct ExternalKey {
    key: EcSigningKey,
    /// Uncompressed SEC1 point.
    point: Vec<u8>,
    /// DER SubjectPublicKeyInfo: id-ecPublicKey with the named curve.
    spki: Vec<u8>,
}

enum EcSigningKey {
    P521(p521::ecdsa::SigningKey),
    K256(k256::ecdsa::SigningKey),
}

/// DER AlgorithmIdentifier of ecdsa-with-SHA256 (1.2.840.10045.4.3.2), parameters absent.
const ECDSA_WITH_SHA256: &[u8] = &[0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
/// DER AlgorithmIdentifier of ecdsa-with-SHA512 (1.2.840.10045.4.3.4), parameters absent.
const ECDSA_WITH_SHA512: &[u8] = &[0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04];

/// Which rcgen output [`ExternalKey::finish`] rewrites.
#[derive(Clone, Copy)]
enum Signed {
    Certificate,
    Request,
}

impl ExternalKey {
    fn from_pkcs8(pkcs8: &[u8], spec: KeySpec) -> X509Result<ExternalKey> {
        use p521::pkcs8::{DecodePrivateKey, EncodePublicKey};
        let (key, point, spki) = match spec {
            KeySpec::P521 => {
                let k = p521::ecdsa::SigningKey::from_pkcs8_der(pkcs8).map_err(|e| e.to_string())?;
                let vk = k.verifying_key();
                let spki = vk.to_public_key_der().map_err(|e| e.to_string())?;
                (EcSigningKey::P521(k.clone()), vk.to_sec1_point(false).as_bytes().to_vec(), spki)
            }
            KeySpec::P256K => {
                let k = k256::ecdsa::SigningKey::from_pkcs8_der(pkcs8).map_err(|e| e.to_string())?;
                let vk = k.verifying_key();
                let spki = vk.to_public_key_der().map_err(|e| e.to_string())?;
                (EcSigningKey::K256(k.clone()), vk.to_sec1_point(false).as_bytes().to_vec(), spki)
            }
            other => return Err(format!("{other:?} keys are signed by ring")),
        };
        Ok(ExternalKey { key, point, spki: spki.as_bytes().to_vec() })
    }

    /// The DER AlgorithmIdentifier of the signature.
    fn signature_algorithm(&self) -> &'static [u8] {
        match self.key {
            EcSigningKey::P521(_) => ECDSA_WITH_SHA512,
            EcSigningKey::K256(_) => ECDSA_WITH_SHA256,
        }
    }

    /// A DER ECDSA-Sig-Value over `msg` (SHA-512 for P-521, SHA-256 for secp256k1).
    fn sign_der(&self, msg: &[u8]) -> Vec<u8> {
        use p521::ecdsa::signature::Signer as _;
        match &self.key {
            EcSigningKey::P521(k) => {
                let sig: p521::ecdsa::DerSignature = k.sign(msg);
                sig.as_bytes().to_vec()
            }
            EcSigningKey::K256(k) => {
                let sig: k256::ecdsa::DerSignature = k.sign(msg);
                sig.as_bytes().to_vec()
            }
        }
    }

    /// Rewrites a certificate or CSR that rcgen laid out with this key under the placeholder
    /// algorithm: the SubjectPublicKeyInfo and the signature AlgorithmIdentifier(s) are replaced,
    /// and the to-be-signed part is signed.
    fn finish(&self, der: &[u8], kind: Signed) -> X509Result<Vec<u8>> {
        let malformed = || "rcgen produced an unexpected structure".to_string();
        let outer = der_elements(der_contents(der, 0x30)?)?;
        let tbs = outer.first().ok_or_else(malformed)?;
        let mut fields: Vec<Vec<u8>> =
            der_elements(der_contents(tbs, 0x30)?)?.into_iter().map(<[u8]>::to_vec).collect();
        let (spki_at, alg_at) = match kind {
            // [0] version, serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo…
            Signed::Certificate if fields.first().is_some_and(|f| f.first() == Some(&0xa0)) => (6, Some(2)),
            Signed::Certificate => (5, Some(1)),
            // version, subject, subjectPKInfo, [0] attributes
            Signed::Request => (2, None),
        };
        if fields.get(spki_at).and_then(|f| f.first()) != Some(&0x30) {
            return Err(malformed());
        }
        fields[spki_at] = self.spki.clone();
        if let Some(at) = alg_at {
            if fields.get(at).and_then(|f| f.first()) != Some(&0x30) {
                return Err(malformed());
            }
            fields[at] = self.signature_algorithm().to_vec();
        }
        let tbs = der_tlv(0x30, &fields.concat());
        let mut bits = vec![0u8];
        bits.extend(self.sign_der(&tbs));
        let body = [tbs, self.signature_algorithm().to_vec(), der_tlv(0x03, &bits)].concat();
        Ok(der_tlv(0x30, &body))
    }
}

impl PublicKeyData for ExternalKey {
    fn der_bytes(&self) -> &[u8] {
        &self.point
    }

    /// A placeholder: rcgen writes it as the signature algorithm and in the key's
    /// SubjectPublicKeyInfo; [`ExternalKey::finish`] replaces both.
    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &PKCS_ECDSA_P384_SHA384
    }

    fn subject_public_key_info(&self) -> Vec<u8> {
        self.spki.clone()
    }
}

impl SigningKey for ExternalKey {
    /// A placeholder signature: [`ExternalKey::finish`] signs the final to-be-signed bytes.
    fn sign(&self, _msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        Ok(Vec::new())
    }
}

/// The header length and contents length of the DER TLV at the start of `der`.
fn der_header(der: &[u8]) -> X509Result<(usize, usize)> {
    let malformed = || "malformed DER".to_string();
    let first = *der.get(1).ok_or_else(malformed)?;
    let (header, len) = if first & 0x80 == 0 {
        (2, first as usize)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return Err(malformed());
        }
        let bytes = der.get(2..2 + n).ok_or_else(malformed)?;
        (2 + n, bytes.iter().fold(0usize, |a, b| (a << 8) | *b as usize))
    };
    if der.len() < header + len {
        return Err(malformed());
    }
    Ok((header, len))
}

/// The contents of the DER TLV at the start of `der`, which must have tag `tag`.
fn der_contents(der: &[u8], tag: u8) -> X509Result<&[u8]> {
    if der.first() != Some(&tag) {
        return Err(format!("expected DER tag {tag:#04x}"));
    }
    let (header, len) = der_header(der)?;
    Ok(&der[header..header + len])
}

/// Splits DER contents into their TLVs (each whole, header included).
fn der_elements(mut der: &[u8]) -> X509Result<Vec<&[u8]>> {
    let mut out = Vec::new();
    while !der.is_empty() {
        let (header, len) = der_header(der)?;
        let (tlv, rest) = der.split_at(header + len);
        out.push(tlv);
        der = rest;
    }
    Ok(out)
}

/// Encodes a DER TLV.
fn der_tlv(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = contents.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(contents);
    out
}

/// The raw public key bits of a PKCS#8 private key (the SubjectPublicKeyInfo bit string
/// contents), and the key's spec.
pub fn public_key_of(pkcs8: &[u8]) -> X509Result<(Vec<u8>, KeySpec)> {
    use rsa::pkcs8::der::Decode;
    let info = rsa::pkcs8::PrivateKeyInfoRef::from_der(pkcs8)
        .map_err(|_| "the private key is not a valid PKCS#8 key".to_string())?;
    let alg = info.algorithm.oid.to_string();
    match alg.as_str() {
        "1.2.840.113549.1.1.1" => {
            use rsa::pkcs1::EncodeRsaPublicKey;
            use rsa::pkcs8::DecodePrivateKey;
            use rsa::traits::PublicKeyParts;
            let key =
                rsa::PrivateKey::from_pkcs8_der(pkcs8).map_err(|_| "the RSA private key is not valid".to_string())?;
            let public = key.to_public_key();
            let bits = public.n().bit_width() as usize;
            let der = public.to_pkcs1_der().map_err(|e| e.to_string())?;
            Ok((der.as_bytes().to_vec(), KeySpec::Rsa(bits)))
        }
        "1.2.840.10045.2.1" => {
            let curve = info.algorithm.parameters_oid().map(|o| o.to_string()).unwrap_or_default();
            let spec = match curve.as_str() {
                "1.2.840.10045.3.1.7" => KeySpec::P256,
                "1.3.132.0.34" => KeySpec::P384,
                "1.3.132.0.35" => KeySpec::P521,
                "1.3.132.0.10" => KeySpec::P256K,
                other => return Err(format!("the elliptic curve {other} is not supported")),
            };
            let kp = signing_key(pkcs8, spec)?;
            Ok((kp.public_key_raw().to_vec(), spec))
        }
        other => Err(format!("the key algorithm {other} is not supported")),
    }
}

/// The `key_props` description of a key spec.
pub fn describe_key(spec: KeySpec) -> KeyDescription {
    match spec {
        KeySpec::Rsa(bits) => KeyDescription { kty: "RSA".into(), key_size: bits as u32, crv: None },
        KeySpec::P256 => KeyDescription { kty: "EC".into(), key_size: 256, crv: Some("P-256".into()) },
        KeySpec::P384 => KeyDescription { kty: "EC".into(), key_size: 384, crv: Some("P-384".into()) },
        KeySpec::P521 => KeyDescription { kty: "EC".into(), key_size: 521, crv: Some("P-521".into()) },
        KeySpec::P256K => KeyDescription { kty: "EC".into(), key_size: 256, crv: Some("P-256K".into()) },
    }
}

/// Parses an X.500 distinguished name such as `CN=host, O=Org, C=US`.
pub fn parse_dn(subject: &str) -> X509Result<DistinguishedName> {
    let invalid = || "Invalid X.500 distinguished name".to_string();
    let mut dn = DistinguishedName::new();
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = subject.chars().peekable();
    let mut in_quotes = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '"' => in_quotes = !in_quotes,
            ',' | ';' | '+' if !in_quotes => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    for part in parts {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (k, v) = part.split_once('=').ok_or_else(invalid)?;
        let (k, v) = (k.trim(), v.trim());
        if v.is_empty() {
            return Err(invalid());
        }
        let ty = match k.to_ascii_uppercase().as_str() {
            "CN" => DnType::CommonName,
            "O" => DnType::OrganizationName,
            "OU" => DnType::OrganizationalUnitName,
            "C" => DnType::CountryName,
            "L" => DnType::LocalityName,
            "S" | "ST" => DnType::StateOrProvinceName,
            "E" | "EMAIL" | "EMAILADDRESS" => DnType::CustomDnType(vec![1, 2, 840, 113549, 1, 9, 1]),
            "DC" => DnType::CustomDnType(vec![0, 9, 2342, 19200300, 100, 1, 25]),
            "STREET" => DnType::CustomDnType(vec![2, 5, 4, 9]),
            "SERIALNUMBER" => DnType::CustomDnType(vec![2, 5, 4, 5]),
            "T" | "TITLE" => DnType::CustomDnType(vec![2, 5, 4, 12]),
            "G" | "GIVENNAME" => DnType::CustomDnType(vec![2, 5, 4, 42]),
            "SN" | "SURNAME" => DnType::CustomDnType(vec![2, 5, 4, 4]),
            "UID" => DnType::CustomDnType(vec![0, 9, 2342, 19200300, 100, 1, 1]),
            _ => return Err(invalid()),
        };
        let value = match &ty {
            DnType::CustomDnType(oid) if oid.len() == 7 && oid[6] == 1 || oid_is_dc(&ty) => {
                DnValue::Ia5String(v.to_string().try_into().map_err(|_| invalid())?)
            }
            DnType::CountryName => DnValue::PrintableString(v.to_string().try_into().map_err(|_| invalid())?),
            _ => DnValue::Utf8String(v.to_string()),
        };
        dn.push(ty, value);
    }
    if dn.iter().next().is_none() {
        return Err(invalid());
    }
    Ok(dn)
}

fn oid_is_dc(ty: &DnType) -> bool {
    matches!(ty, DnType::CustomDnType(oid) if oid.as_slice() == [0, 9, 2342, 19200300, 100, 1, 25])
}

/// The canonical Key Vault key usage names, in the order the service sorts them.
pub const KEY_USAGES: [&str; 9] = [
    "cRLSign",
    "dataEncipherment",
    "decipherOnly",
    "digitalSignature",
    "encipherOnly",
    "keyAgreement",
    "keyCertSign",
    "keyEncipherment",
    "nonRepudiation",
];

fn key_usage_purpose(name: &str) -> Option<KeyUsagePurpose> {
    Some(match name {
        "digitalSignature" => KeyUsagePurpose::DigitalSignature,
        "nonRepudiation" => KeyUsagePurpose::ContentCommitment,
        "keyEncipherment" => KeyUsagePurpose::KeyEncipherment,
        "dataEncipherment" => KeyUsagePurpose::DataEncipherment,
        "keyAgreement" => KeyUsagePurpose::KeyAgreement,
        "keyCertSign" => KeyUsagePurpose::KeyCertSign,
        "cRLSign" => KeyUsagePurpose::CrlSign,
        "encipherOnly" => KeyUsagePurpose::EncipherOnly,
        "decipherOnly" => KeyUsagePurpose::DecipherOnly,
        _ => return None,
    })
}

/// Parses a dotted OID.
pub fn parse_oid(s: &str) -> Option<Vec<u64>> {
    let parts: Option<Vec<u64>> = s.split('.').map(|p| p.parse().ok()).collect();
    parts.filter(|p| p.len() >= 2 && p[0] <= 2)
}

fn san_list(sans: Option<&Sans>) -> X509Result<Vec<SanType>> {
    let mut out = Vec::new();
    let Some(sans) = sans else {
        return Ok(out);
    };
    let ia5 = |s: &String, what: &str| -> X509Result<rcgen::string::Ia5String> {
        s.clone().try_into().map_err(|_| format!("Invalid {what} subject alternative name: {s}"))
    };
    for d in sans.dns_names.iter().flatten() {
        out.push(SanType::DnsName(ia5(d, "DNS")?));
    }
    for e in sans.emails.iter().flatten() {
        out.push(SanType::Rfc822Name(ia5(e, "e-mail")?));
    }
    for u in sans.uris.iter().flatten() {
        out.push(SanType::URI(ia5(u, "URI")?));
    }
    for ip in sans.ip_addresses.iter().flatten() {
        let addr: IpAddr = ip.parse().map_err(|_| format!("Invalid IP address subject alternative name: {ip}"))?;
        out.push(SanType::IpAddress(addr));
    }
    for upn in sans.upns.iter().flatten() {
        out.push(SanType::OtherName((UPN_OID.to_vec(), OtherNameValue::Utf8String(upn.clone()))));
    }
    Ok(out)
}

/// Adds calendar months to a time, clamping the day to the target month's length.
pub fn add_months(t: OffsetDateTime, months: u32) -> OffsetDateTime {
    let total = t.year() as i64 * 12 + (t.month() as i64 - 1) + months as i64;
    let year = (total / 12) as i32;
    let month = time::Month::try_from((total % 12 + 1) as u8).unwrap_or(time::Month::January);
    let mut day = t.day();
    loop {
        if let Ok(date) = time::Date::from_calendar_date(year, month, day) {
            return t.replace_date(date);
        }
        day -= 1;
        if day == 0 {
            return t;
        }
    }
}

/// Certificate parameters from (normalized) X.509 policy properties.
fn params_from_policy(x509: &X509Props, now: OffsetDateTime) -> X509Result<CertificateParams> {
    let mut params = CertificateParams::default();
    params.distinguished_name = match x509.subject.as_deref() {
        Some(s) if !s.trim().is_empty() => parse_dn(s)?,
        _ => DistinguishedName::new(),
    };
    params.subject_alt_names = san_list(x509.sans.as_ref())?;
    params.key_usages = x509.key_usage.iter().flatten().filter_map(|k| key_usage_purpose(k)).collect();
    params.extended_key_usages = x509
        .ekus
        .iter()
        .flatten()
        .map(|e| {
            parse_oid(e)
                .map(|oid| match oid.as_slice() {
                    [1, 3, 6, 1, 5, 5, 7, 3, 1] => ExtendedKeyUsagePurpose::ServerAuth,
                    [1, 3, 6, 1, 5, 5, 7, 3, 2] => ExtendedKeyUsagePurpose::ClientAuth,
                    [1, 3, 6, 1, 5, 5, 7, 3, 3] => ExtendedKeyUsagePurpose::CodeSigning,
                    [1, 3, 6, 1, 5, 5, 7, 3, 4] => ExtendedKeyUsagePurpose::EmailProtection,
                    [1, 3, 6, 1, 5, 5, 7, 3, 8] => ExtendedKeyUsagePurpose::TimeStamping,
                    [1, 3, 6, 1, 5, 5, 7, 3, 9] => ExtendedKeyUsagePurpose::OcspSigning,
                    [2, 5, 29, 37, 0] => ExtendedKeyUsagePurpose::Any,
                    _ => ExtendedKeyUsagePurpose::Other(oid),
                })
                .ok_or_else(|| format!("Invalid extended key usage: {e}"))
        })
        .collect::<X509Result<_>>()?;
    params.is_ca = if x509.basic_constraints.as_ref().is_some_and(|b| b.ca) {
        IsCa::Ca(rcgen::BasicConstraints::Unconstrained)
    } else {
        IsCa::ExplicitNoCa
    };
    let mut serial = random_bytes::<16>();
    serial[0] &= 0x7f;
    serial[0] |= 0x01;
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    params.not_before = now - time::Duration::minutes(10);
    params.not_after = add_months(now, x509.validity_months.unwrap_or(12));
    Ok(params)
}

/// A certificate issued by the emulator.
#[derive(Debug, Clone)]
pub struct Issued {
    /// DER of the certificate.
    pub der: Vec<u8>,
}

/// Issues a self-signed certificate for the key, per the policy.
pub fn self_signed(x509: &X509Props, pkcs8: &[u8], spec: KeySpec, now: OffsetDateTime) -> X509Result<Issued> {
    let key = signing_key(pkcs8, spec)?;
    let mut params = params_from_policy(x509, now)?;
    let ski = Sha1::digest(key.public_key_raw()).to_vec();
    params.key_identifier_method = KeyIdMethod::PreSpecified(ski);
    params.use_authority_key_identifier_extension = true;
    let der = match &key {
        Signer::Ring(k) => params.self_signed(k).map_err(|e| e.to_string())?.der().to_vec(),
        Signer::External(k) => {
            let laid_out = params.self_signed(k).map_err(|e| e.to_string())?;
            k.finish(laid_out.der(), Signed::Certificate)?
        }
    };
    Ok(Issued { der })
}

/// A PKCS#10 certificate signing request for the key, per the policy.
pub fn csr(x509: &X509Props, pkcs8: &[u8], spec: KeySpec) -> X509Result<Vec<u8>> {
    let key = signing_key(pkcs8, spec)?;
    let mut params = params_from_policy(x509, OffsetDateTime::now_utc())?;
    params.serial_number = None;
    match &key {
        Signer::Ring(k) => Ok(params.serialize_request(k).map_err(|e| e.to_string())?.der().to_vec()),
        Signer::External(k) => {
            let laid_out = params.serialize_request(k).map_err(|e| e.to_string())?;
            k.finish(laid_out.der(), Signed::Request)
        }
    }
}

/// Facts read from a certificate.
#[derive(Debug, Clone)]
pub struct CertInfo {
    /// Not-before, Unix seconds.
    pub nbf: i64,
    /// Not-after, Unix seconds.
    pub exp: i64,
    /// Subject DN (`CN=…, O=…`).
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Serial number, upper-case hex.
    pub serial: String,
    /// Raw public key bits (SubjectPublicKeyInfo bit string contents).
    pub public_key: Vec<u8>,
    /// Key description, when the key type is known.
    pub key: Option<KeyDescription>,
    /// Subject alternative names.
    pub sans: Sans,
    /// EKU OIDs.
    pub ekus: Vec<String>,
    /// Key usage names, sorted as the service sorts them.
    pub key_usage: Vec<String>,
    /// Basic constraints CA flag.
    pub is_ca: bool,
    /// Validity in whole months, rounded up (as the service reports for imports).
    pub validity_months: u32,
}

fn upn_from_other_name(value: &[u8]) -> Option<String> {
    // value is the content of [0] EXPLICIT: a UTF8String TLV (possibly still wrapped in [0]).
    let mut v = value;
    for _ in 0..2 {
        let (&tag, rest) = v.split_first()?;
        let (&len, rest) = rest.split_first()?;
        let (len, rest) = if len & 0x80 == 0 {
            (len as usize, rest)
        } else {
            let n = (len & 0x7f) as usize;
            if n == 0 || n > 2 || rest.len() < n {
                return None;
            }
            let l = rest[..n].iter().fold(0usize, |a, b| (a << 8) | *b as usize);
            (l, &rest[n..])
        };
        let body = rest.get(..len)?;
        if tag == 0x0c {
            return String::from_utf8(body.to_vec()).ok();
        }
        v = body;
    }
    None
}

/// Parses a DER certificate.
pub fn cert_info(der: &[u8]) -> X509Result<CertInfo> {
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(der)
        .map_err(|_| "The certificate is not a valid X.509 certificate".to_string())?;
    let nbf = cert.validity().not_before.timestamp();
    let exp = cert.validity().not_after.timestamp();
    let spki = cert.public_key();
    let key = match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => {
            Some(KeyDescription { kty: "RSA".into(), key_size: rsa.key_size() as u32, crv: None })
        }
        Ok(PublicKey::EC(ec)) => {
            let crv = spki.algorithm.parameters.as_ref().and_then(|p| p.as_oid().ok()).map(|o| o.to_id_string());
            let (name, size) = match crv.as_deref() {
                Some("1.2.840.10045.3.1.7") => ("P-256", 256),
                Some("1.3.132.0.34") => ("P-384", 384),
                Some("1.3.132.0.35") => ("P-521", 521),
                Some("1.3.132.0.10") => ("P-256K", 256),
                _ => ("", ec.key_size() as u32),
            };
            Some(KeyDescription { kty: "EC".into(), key_size: size, crv: (!name.is_empty()).then(|| name.to_string()) })
        }
        _ => None,
    };
    let mut sans = Sans::default();
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for name in &ext.value.general_names {
            match name {
                GeneralName::DNSName(d) => sans.dns_names.get_or_insert_with(Vec::new).push(d.to_string()),
                GeneralName::RFC822Name(e) => sans.emails.get_or_insert_with(Vec::new).push(e.to_string()),
                GeneralName::URI(u) => sans.uris.get_or_insert_with(Vec::new).push(u.to_string()),
                GeneralName::IPAddress(b) => {
                    let ip = match b.len() {
                        4 => <[u8; 4]>::try_from(*b).ok().map(IpAddr::from),
                        16 => <[u8; 16]>::try_from(*b).ok().map(IpAddr::from),
                        _ => None,
                    };
                    if let Some(ip) = ip {
                        sans.ip_addresses.get_or_insert_with(Vec::new).push(ip.to_string());
                    }
                }
                GeneralName::OtherName(oid, value) if oid.to_id_string() == "1.3.6.1.4.1.311.20.2.3" => {
                    if let Some(upn) = upn_from_other_name(value) {
                        sans.upns.get_or_insert_with(Vec::new).push(upn);
                    }
                }
                _ => {}
            }
        }
    }
    let mut ekus = Vec::new();
    if let Ok(Some(ext)) = cert.extended_key_usage() {
        let e = ext.value;
        for (set, oid) in [
            (e.server_auth, "1.3.6.1.5.5.7.3.1"),
            (e.client_auth, "1.3.6.1.5.5.7.3.2"),
            (e.code_signing, "1.3.6.1.5.5.7.3.3"),
            (e.email_protection, "1.3.6.1.5.5.7.3.4"),
            (e.time_stamping, "1.3.6.1.5.5.7.3.8"),
            (e.ocsp_signing, "1.3.6.1.5.5.7.3.9"),
            (e.any, "2.5.29.37.0"),
        ] {
            if set {
                ekus.push(oid.to_string());
            }
        }
        for o in &e.other {
            ekus.push(o.to_id_string());
        }
    }
    let mut key_usage = Vec::new();
    if let Ok(Some(ext)) = cert.key_usage() {
        let k = ext.value;
        for (set, name) in [
            (k.crl_sign(), "cRLSign"),
            (k.data_encipherment(), "dataEncipherment"),
            (k.decipher_only(), "decipherOnly"),
            (k.digital_signature(), "digitalSignature"),
            (k.encipher_only(), "encipherOnly"),
            (k.key_agreement(), "keyAgreement"),
            (k.key_cert_sign(), "keyCertSign"),
            (k.key_encipherment(), "keyEncipherment"),
            (k.non_repudiation(), "nonRepudiation"),
        ] {
            if set {
                key_usage.push(name.to_string());
            }
        }
    }
    let is_ca = matches!(cert.basic_constraints(), Ok(Some(bc)) if bc.value.ca);
    let validity_months = months_between(nbf, exp);
    Ok(CertInfo {
        nbf,
        exp,
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial: cert.raw_serial().iter().map(|b| format!("{b:02X}")).collect(),
        public_key: spki.subject_public_key.data.to_vec(),
        key,
        sans,
        ekus,
        key_usage,
        is_ca,
        validity_months,
    })
}

/// Whole months from `nbf` to `exp`, rounded up.
fn months_between(nbf: i64, exp: i64) -> u32 {
    let (Ok(a), Ok(b)) = (OffsetDateTime::from_unix_timestamp(nbf), OffsetDateTime::from_unix_timestamp(exp)) else {
        return 12;
    };
    if b <= a {
        return 0;
    }
    let mut months = (b.year() as i64 - a.year() as i64) * 12 + (b.month() as i64 - a.month() as i64);
    if add_months(a, months.max(0) as u32) < b {
        months += 1;
    }
    months.clamp(0, u32::MAX as i64) as u32
}

/// `x5t`: base64url (no padding) of the SHA-1 of the DER.
pub fn x5t(der: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(Sha1::digest(der))
}

fn pem_block(tag: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {tag}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {tag}-----\n"));
    out
}

/// The PEM secret: the PKCS#8 key (when given) then the certificate chain, leaf first.
pub fn secret_pem(chain: &[Vec<u8>], key: Option<&[u8]>) -> String {
    let mut out = String::new();
    if let Some(k) = key {
        out.push_str(&pem_block("PRIVATE KEY", k));
    }
    for c in chain {
        out.push_str(&pem_block("CERTIFICATE", c));
    }
    out
}

/// The PKCS#12 secret (empty password): the key with its chain, or the chain alone.
pub fn secret_pkcs12(chain: &[Vec<u8>], key: Option<&[u8]>) -> X509Result<Vec<u8>> {
    use p12_keystore::{
        Certificate, EncryptionAlgorithm, KeyStore, KeyStoreEntry, MacAlgorithm, PrivateKey, PrivateKeyChain,
    };
    let certs: Vec<Certificate> =
        chain.iter().map(|c| Certificate::from_der(c).map_err(|e| e.to_string())).collect::<X509Result<_>>()?;
    let mut store = KeyStore::new();
    match key {
        Some(k) => {
            let pk = PrivateKey::from_der(k).map_err(|e| e.to_string())?;
            let local_id = chain.first().map(|c| Sha1::digest(c).to_vec()).unwrap_or_default();
            store.add_entry("certificate", KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new(local_id, pk, certs)));
        }
        None => {
            for (i, c) in certs.into_iter().enumerate() {
                store.add_entry(&format!("certificate-{i}"), KeyStoreEntry::Certificate(c));
            }
        }
    }
    store
        .writer("")
        .encryption_algorithm(EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc)
        .encryption_iterations(2048)
        .mac_algorithm(MacAlgorithm::HmacSha1)
        .mac_iterations(2048)
        .write()
        .map_err(|e| e.to_string())
}

/// Certificates and key read from an import value or a secret.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// DER certificates, in the order found.
    pub certs: Vec<Vec<u8>>,
    /// PKCS#8 key, when present.
    pub key: Option<Vec<u8>>,
    /// True when the input was PEM.
    pub was_pem: bool,
}

/// Why an import value could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportError {
    /// PEM text that is not usable (no certificate, a key that is not PKCS#8, …).
    Pem(String),
    /// PKCS#12 that cannot be read (corrupt, or the password is wrong).
    Pkcs12(String),
}

/// Reads PEM text.
pub fn parse_pem(text: &str) -> Result<Bundle, ImportError> {
    let blocks = pem::parse_many(text.as_bytes()).map_err(|_| {
        ImportError::Pem(
            "The specified PEM X.509 certificate content is in an unexpected format. Please check if certificate is in valid PEM format."
                .into(),
        )
    })?;
    let mut certs = Vec::new();
    let mut key = None;
    for b in blocks {
        match b.tag() {
            "CERTIFICATE" => certs.push(b.contents().to_vec()),
            "PRIVATE KEY" => key = Some(b.contents().to_vec()),
            "RSA PRIVATE KEY" | "EC PRIVATE KEY" | "ENCRYPTED PRIVATE KEY" => {
                return Err(ImportError::Pem(
                    "The specified PEM X.509 certificate content is in an unexpected format. Please check if certificate is in valid PEM format. The private key must be an unencrypted PKCS#8 key (a PEM block labelled PRIVATE KEY)."
                        .into(),
                ))
            }
            _ => {}
        }
    }
    if certs.is_empty() {
        return Err(ImportError::Pem(
            "The specified PEM X.509 certificate content is in an unexpected format. Please check if certificate is in valid PEM format."
                .into(),
        ));
    }
    Ok(Bundle { certs, key, was_pem: true })
}

/// Reads PKCS#12 bytes with a password.
pub fn parse_pkcs12(data: &[u8], password: &str) -> Result<Bundle, ImportError> {
    use p12_keystore::{KeyStore, KeyStoreEntry, Pkcs12ImportPolicy};
    let store = KeyStore::from_pkcs12(data, password, Pkcs12ImportPolicy::Relaxed).map_err(|e| {
        let msg = match e {
            p12_keystore::error::Error::MacError(_) => "The specified PKCS#12 X.509 certificate content can not be read. The password is incorrect.".to_string(),
            _ => "The specified PKCS#12 X.509 certificate content can not be read. Please check if certificate is in valid PKCS#12 format.".to_string(),
        };
        ImportError::Pkcs12(msg)
    })?;
    let mut certs = Vec::new();
    let mut key = None;
    if let Some((_, chain)) = store.private_key_chain() {
        key = Some(chain.key().as_der().to_vec());
        certs.extend(chain.certs().iter().map(|c| c.as_der().to_vec()));
    }
    for (_, entry) in store.entries() {
        if let KeyStoreEntry::Certificate(c) = entry {
            let der = c.as_der().to_vec();
            if !certs.contains(&der) {
                certs.push(der);
            }
        }
    }
    if certs.is_empty() {
        return Err(ImportError::Pkcs12(
            "The specified PKCS#12 X.509 certificate content does not contain a certificate.".into(),
        ));
    }
    Ok(Bundle { certs, key, was_pem: false })
}

/// Reads an import `value`: PEM text, base64 of PEM text, or base64 PKCS#12.
pub fn parse_import_value(value: &str, password: Option<&str>) -> Result<Bundle, ImportError> {
    if value.contains("-----BEGIN") {
        return parse_pem(value);
    }
    let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = STANDARD
        .decode(compact.as_bytes())
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(compact.as_bytes()))
        .or_else(|_| URL_SAFE_NO_PAD.decode(compact.trim_end_matches('=').as_bytes()))
        .map_err(|_| {
            ImportError::Pkcs12(
                "The specified certificate content is neither PEM text nor base64-encoded PKCS#12.".into(),
            )
        })?;
    if let Ok(text) = std::str::from_utf8(&bytes) {
        if text.contains("-----BEGIN") {
            return parse_pem(text);
        }
    }
    parse_pkcs12(&bytes, password.unwrap_or(""))
}

/// Orders a chain leaf first: the certificate whose public key is `public_key` goes first.
/// Returns `None` when no certificate matches the key.
pub fn order_chain(certs: &[Vec<u8>], public_key: &[u8]) -> Option<Vec<Vec<u8>>> {
    let leaf = certs.iter().position(|c| cert_info(c).is_ok_and(|i| i.public_key == public_key))?;
    let mut out = vec![certs[leaf].clone()];
    out.extend(certs.iter().enumerate().filter(|(i, _)| *i != leaf).map(|(_, c)| c.clone()));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::X509Props;

    /// The certificate and key as a PEM secret and as a PKCS#12 secret, read back: the same
    /// certificate and key, and a wrong PKCS#12 password is refused. Returns the PKCS#12 bundle.
    pub(super) fn secret_round_trips(der: &[u8], key: &[u8]) -> Bundle {
        let pem = secret_pem(&[der.to_vec()], Some(key));
        let back = parse_import_value(&pem, None).unwrap();
        assert_eq!(back.key.as_deref(), Some(key));
        let p12 = secret_pkcs12(&[der.to_vec()], Some(key)).unwrap();
        assert!(parse_pkcs12(&p12, "wrong").is_err());
        let back = parse_pkcs12(&p12, "").unwrap();
        assert_eq!(back.certs, vec![der.to_vec()]);
        back
    }

    #[test]
    fn dn_parsing() {
        assert!(parse_dn("CN=xyz").is_ok());
        assert!(parse_dn("CN=a, O=b, OU=c, C=US").is_ok());
        assert!(parse_dn("Self").is_err());
        assert!(parse_dn("").is_err());
        assert!(parse_dn("XX=1").is_err());
    }

    #[test]
    fn months() {
        let a = 1636058681;
        assert_eq!(months_between(a, 1667595281), 13);
        assert_eq!(months_between(a, a + 86400 * 365 - 700), 12);
    }

    #[test]
    fn ec_self_signed_roundtrip() {
        let key = generate_key(KeySpec::P256).unwrap();
        let (pk, spec) = public_key_of(&key).unwrap();
        assert_eq!(spec, KeySpec::P256);
        let x509 = X509Props {
            subject: Some("CN=test".into()),
            sans: Some(Sans {
                dns_names: Some(vec!["a.example".into()]),
                upns: Some(vec!["user@example.com".into()]),
                ip_addresses: Some(vec!["10.0.0.1".into()]),
                ..Default::default()
            }),
            ekus: Some(vec!["1.3.6.1.5.5.7.3.1".into()]),
            key_usage: Some(vec!["digitalSignature".into()]),
            validity_months: Some(12),
            basic_constraints: None,
        };
        let issued = self_signed(&x509, &key, spec, OffsetDateTime::now_utc()).unwrap();
        let info = cert_info(&issued.der).unwrap();
        assert_eq!(info.public_key, pk);
        assert_eq!(info.subject, "CN=test");
        assert_eq!(info.sans.upns, Some(vec!["user@example.com".to_string()]));
        assert_eq!(info.ekus, vec!["1.3.6.1.5.5.7.3.1"]);
        assert_eq!(info.key_usage, vec!["digitalSignature"]);
        secret_round_trips(&issued.der, &key);
        assert!(csr(&x509, &key, spec).is_ok());
    }
}

#[cfg(test)]
mod external_curve_tests {
    use super::*;
    use x509_parser::certificate::X509Certificate;
    use x509_parser::certification_request::X509CertificationRequest;

    /// Verifies `sig` (DER) over `msg` with the SEC1 point `point`.
    fn verifies(spec: KeySpec, point: &[u8], msg: &[u8], sig: &[u8]) -> bool {
        use p521::ecdsa::signature::Verifier;
        match spec {
            KeySpec::P521 => {
                let vk = p521::ecdsa::VerifyingKey::from_sec1_bytes(point).unwrap();
                vk.verify(msg, &p521::ecdsa::DerSignature::from_bytes(sig).unwrap()).is_ok()
            }
            KeySpec::P256K => {
                let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(point).unwrap();
                vk.verify(msg, &k256::ecdsa::DerSignature::from_bytes(sig).unwrap()).is_ok()
            }
            _ => unreachable!(),
        }
    }

    #[test]
    fn p521_and_secp256k1_certificates_csrs_and_secrets() {
        for (spec, curve, sig_alg) in [
            (KeySpec::P521, "1.3.132.0.35", "1.2.840.10045.4.3.4"),
            (KeySpec::P256K, "1.3.132.0.10", "1.2.840.10045.4.3.2"),
        ] {
            let t = std::time::Instant::now();
            let key = generate_key(spec).unwrap();
            let (pk, got) = public_key_of(&key).unwrap();
            assert_eq!(got, spec);
            let x509 = X509Props {
                subject: Some("CN=curve, O=kvcerts".into()),
                sans: Some(Sans { dns_names: Some(vec!["a.example".into()]), ..Default::default() }),
                key_usage: Some(vec!["digitalSignature".into()]),
                ..Default::default()
            };
            let issued = self_signed(&x509, &key, spec, OffsetDateTime::now_utc()).unwrap();
            let (rest, cert) = X509Certificate::from_der(&issued.der).unwrap();
            assert!(rest.is_empty());
            assert_eq!(cert.signature_algorithm.algorithm.to_id_string(), sig_alg);
            assert_eq!(cert.tbs_certificate.signature.algorithm.to_id_string(), sig_alg);
            let spki = cert.public_key();
            assert_eq!(spki.algorithm.algorithm.to_id_string(), "1.2.840.10045.2.1");
            let params = spki.algorithm.parameters.as_ref().unwrap().as_oid().unwrap();
            assert_eq!(params.to_id_string(), curve);
            assert_eq!(spki.subject_public_key.data.as_ref(), pk.as_slice());
            assert!(verifies(spec, &pk, cert.tbs_certificate.as_ref(), &cert.signature_value.data));
            let info = cert_info(&issued.der).unwrap();
            assert_eq!(info.subject, "CN=curve, O=kvcerts");
            assert_eq!(info.issuer, "CN=curve, O=kvcerts");
            assert_eq!(info.key, Some(describe_key(spec)));
            assert_eq!(info.sans.dns_names, Some(vec!["a.example".to_string()]));
            assert_eq!(info.key_usage, vec!["digitalSignature"]);
            assert_eq!(order_chain(std::slice::from_ref(&issued.der), &pk).unwrap().len(), 1);

            let req = csr(&x509, &key, spec).unwrap();
            let (rest, req) = X509CertificationRequest::from_der(&req).unwrap();
            assert!(rest.is_empty());
            assert_eq!(req.signature_algorithm.algorithm.to_id_string(), sig_alg);
            let info = &req.certification_request_info;
            assert_eq!(info.subject.to_string(), "CN=curve, O=kvcerts");
            assert_eq!(info.subject_pki.subject_public_key.data.as_ref(), pk.as_slice());
            assert!(verifies(spec, &pk, info.raw, &req.signature_value.data));

            let back = super::tests::secret_round_trips(&issued.der, &key);
            assert_eq!(public_key_of(back.key.as_deref().unwrap()).unwrap(), (pk, spec));
            eprintln!("{spec:?}: {:?}", t.elapsed());
        }
    }
}

#[cfg(test)]
mod rsa_tests {
    use super::*;

    #[test]
    fn rsa_key_and_cert() {
        let t = std::time::Instant::now();
        let key = generate_key(KeySpec::Rsa(2048)).unwrap();
        eprintln!("rsa keygen {:?}", t.elapsed());
        let (pk, spec) = public_key_of(&key).unwrap();
        assert_eq!(spec, KeySpec::Rsa(2048));
        let x509 = X509Props { subject: Some("CN=rsa".into()), ..Default::default() };
        let issued = self_signed(&x509, &key, spec, OffsetDateTime::now_utc()).unwrap();
        let info = cert_info(&issued.der).unwrap();
        assert_eq!(info.public_key, pk);
        assert_eq!(info.key.unwrap().key_size, 2048);
    }
}
