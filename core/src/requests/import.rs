//! Import: checks a PEM or PKCS#12 certificate locally, then sends it as the SDKs do.

use std::collections::BTreeMap;

use http::Method;

use super::json_body;
use crate::call::Call;
use crate::der;
use crate::error::Error;
use crate::models::encoding::{decode_base64, encode_standard};
use crate::models::{
    CertificateAttributes, CertificateContentType, CertificatePolicy, ImportCertificateParameters, KeyVaultCertificate,
    SecretProperties, SecretString,
};
use crate::names::validate_certificate_name;
use crate::operation::Operation;
use crate::pem;
use crate::pkcs12::{self, MacCheck};
use crate::response;
use crate::vault::Vault;

/// Optional settings for [`Vault::import_certificate`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportCertificateOptions {
    /// The PKCS#12 password (never printed); checked locally against the file's MAC.
    pub password: Option<SecretString>,
    /// The policy to store with the certificate.
    pub policy: Option<CertificatePolicy>,
    /// Whether the certificate is enabled.
    pub enabled: Option<bool>,
    /// Tags.
    pub tags: Option<BTreeMap<String, String>>,
    /// Whether the chain order is preserved.
    pub preserve_order: Option<bool>,
}

/// What the bytes handed to import turned out to be.
enum Prepared {
    Pem(String),
    Pkcs12(Vec<u8>),
}

impl Vault {
    /// `POST /certificates/{name}/import`: imports a certificate with its private key, given
    /// as PEM (certificates plus a PKCS#8 key; a PKCS#1 RSA or SEC1 EC key is converted to
    /// PKCS#8, CRLF line endings are normalized) or PKCS#12 bytes (or their base64 text).
    /// Problems the service would reject are reported here, before any request; for PKCS#12
    /// that includes a missing or wrong password, found by verifying the file's MAC (RFC 7292,
    /// HMAC-SHA-1 or HMAC-SHA-256; files without a MAC, or with another MAC, are sent as they
    /// are). Without [`ImportCertificateOptions::password`], the empty password is tried.
    pub fn import_certificate(
        &self,
        name: &str,
        certificate: &[u8],
        options: &ImportCertificateOptions,
    ) -> Result<Call<KeyVaultCertificate>, Error> {
        validate_certificate_name(name)?;
        let prepared = prepare(certificate, options.password.as_ref().map(SecretString::expose_secret))?;
        let mut policy = options.policy.clone();
        if let Some(p) = &policy {
            p.validate()?;
        }
        let value = match &prepared {
            Prepared::Pem(text) => {
                // The service stores PEM only when the policy says so.
                let p = policy.get_or_insert_with(CertificatePolicy::empty);
                match p.content_type() {
                    None => {
                        p.secret_properties = Some(SecretProperties { content_type: Some(CertificateContentType::Pem) })
                    }
                    Some(CertificateContentType::Pem) => {}
                    Some(other) => {
                        return Err(Error::invalid(
                            "certificate import",
                            format!("the certificate is PEM but the policy's content type is {other}; use application/x-pem-file"),
                        ))
                    }
                }
                encode_standard(text.as_bytes())
            }
            Prepared::Pkcs12(der) => encode_standard(der),
        };
        let body = ImportCertificateParameters {
            value: SecretString::new(value),
            password: options.password.clone(),
            policy,
            attributes: options.enabled.map(CertificateAttributes::enabled),
            tags: options.tags.clone(),
            preserve_order: options.preserve_order,
        };
        let body = json_body("import parameters", &body)?;
        let request = self.request(Method::POST, &["certificates", name, "import"], &[], Some(body))?;
        Ok(Call::new(request, Operation::ImportCertificate, response::certificate))
    }
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::invalid("certificate import", reason)
}

fn prepare(bytes: &[u8], password: Option<&str>) -> Result<Prepared, Error> {
    if bytes.is_empty() {
        return Err(invalid("the certificate is empty"));
    }
    if pem::looks_like_pem(bytes) {
        let text = std::str::from_utf8(bytes).map_err(|_| invalid("the PEM text is not UTF-8"))?;
        return prepare_pem(text, password.is_some()).map(Prepared::Pem);
    }
    if bytes[0] == 0x30 {
        return prepare_pkcs12(bytes, password).map(|()| Prepared::Pkcs12(bytes.to_vec()));
    }
    // Base64 text of PEM or PKCS#12, as some callers hold it.
    if let Ok(text) = std::str::from_utf8(bytes) {
        if let Ok(decoded) = decode_base64(text.trim()) {
            if !decoded.is_empty() && (decoded[0] == 0x30 || pem::looks_like_pem(&decoded)) {
                return prepare(&decoded, password);
            }
        }
    }
    Err(invalid("the certificate is neither PEM text nor PKCS#12 (PFX) bytes"))
}

/// Checks the PFX structure and, through its MAC, the password (none given: the empty one).
fn prepare_pkcs12(der: &[u8], password: Option<&str>) -> Result<(), Error> {
    let check = pkcs12::check_password(der, password)
        .map_err(|_| invalid("the bytes start like PKCS#12 (DER) but are truncated or malformed"))?;
    match check {
        MacCheck::Absent | MacCheck::Verified | MacCheck::Unchecked => Ok(()),
        MacCheck::Mismatch if password.is_none() => {
            Err(invalid("the PKCS#12 is protected by a password: give it (ImportCertificateOptions::password)"))
        }
        MacCheck::Mismatch => Err(invalid("the password does not open the PKCS#12 (its MAC does not verify)")),
    }
}

fn prepare_pem(text: &str, has_password: bool) -> Result<String, Error> {
    let text = text.replace("\r\n", "\n");
    let blocks = pem::parse(&text).map_err(invalid)?;
    let certificates = blocks.iter().filter(|b| b.label == "CERTIFICATE").count();
    if certificates == 0 {
        return Err(invalid("the PEM has no CERTIFICATE block"));
    }
    let keys: Vec<&pem::PemBlock> = blocks.iter().filter(|b| b.label.ends_with("PRIVATE KEY")).collect();
    let key = match keys.as_slice() {
        [] => return Err(invalid("the PEM has no private key; Key Vault imports a certificate together with its key")),
        [key] => *key,
        _ => return Err(invalid("the PEM has more than one private key")),
    };
    let pkcs8 = match key.label.as_str() {
        "PRIVATE KEY" => return Ok(text),
        "ENCRYPTED PRIVATE KEY" if has_password => return Ok(text),
        "ENCRYPTED PRIVATE KEY" => {
            return Err(invalid("the private key is encrypted; give its password (ImportCertificateOptions::password)"))
        }
        "RSA PRIVATE KEY" => der::pkcs1_to_pkcs8(&key.der).map_err(invalid)?,
        "EC PRIVATE KEY" => der::sec1_to_pkcs8(&key.der).map_err(invalid)?,
        other => {
            return Err(invalid(format!(
                "the key is a {other:?} block; Key Vault accepts only PKCS#8 (\"PRIVATE KEY\")"
            )))
        }
    };
    // Rebuild the PEM with the converted key in place of the legacy one.
    let mut out = String::with_capacity(text.len() + 64);
    for block in &blocks {
        if block.label.ends_with("PRIVATE KEY") {
            out.push_str(&pem::encode("PRIVATE KEY", &pkcs8));
        } else {
            out.push_str(&pem::encode(&block.label, &block.der));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault() -> Vault {
        Vault::new("https://v.vault.azure.net").unwrap()
    }

    fn body(call: &Call<KeyVaultCertificate>) -> serde_json::Value {
        serde_json::from_slice(call.request().body()).unwrap()
    }

    #[test]
    fn pem_is_checked_and_sent_as_base64_with_pem_policy() {
        let cert = pem::encode("CERTIFICATE", &[0x30, 0x03, 0x02, 0x01, 0x01]);
        let key = pem::encode("PRIVATE KEY", &[0x30, 0x03, 0x02, 0x01, 0x00]);
        let text = format!("{cert}{key}").replace('\n', "\r\n");
        let call = vault().import_certificate("c", text.as_bytes(), &Default::default()).unwrap();
        let json = body(&call);
        let sent = decode_base64(json["value"].as_str().unwrap()).unwrap();
        assert!(!String::from_utf8(sent).unwrap().contains('\r'));
        assert_eq!(json["policy"]["secret_props"]["contentType"], "application/x-pem-file");
        assert!(!format!("{call:?}").contains(json["value"].as_str().unwrap()));
    }

    #[test]
    fn bad_pem_is_rejected_with_reasons() {
        let cert = pem::encode("CERTIFICATE", &[0x30, 0x00]);
        let err = |bytes: &[u8]| vault().import_certificate("c", bytes, &Default::default()).unwrap_err().to_string();
        assert!(err(cert.as_bytes()).contains("no private key"));
        assert!(err(pem::encode("PRIVATE KEY", &[0x30, 0x00]).as_bytes()).contains("no CERTIFICATE"));
        assert!(err(format!("{cert}{}", pem::encode("ENCRYPTED PRIVATE KEY", &[0x30, 0x00])).as_bytes())
            .contains("password"));
        assert!(err(format!("{cert}{}", pem::encode("DSA PRIVATE KEY", &[0x30, 0x00])).as_bytes()).contains("PKCS#8"));
        assert!(err(b"hello").contains("neither PEM"));
        assert!(err(&[0x30, 0x82, 0x10]).contains("truncated"));
        assert!(err(b"").contains("empty"));
    }

    #[test]
    fn pkcs1_keys_are_converted() {
        let cert = pem::encode("CERTIFICATE", &[0x30, 0x00]);
        let key = pem::encode("RSA PRIVATE KEY", &[0x30, 0x03, 0x02, 0x01, 0x00]);
        let call = vault().import_certificate("c", format!("{cert}{key}").as_bytes(), &Default::default()).unwrap();
        let sent = String::from_utf8(decode_base64(body(&call)["value"].as_str().unwrap()).unwrap()).unwrap();
        assert!(sent.contains(concat!("-----BEGIN ", "PRIVATE KEY-----")), "the key is sent as PKCS#8");
        assert!(!sent.contains("RSA PRIVATE KEY"));
    }

    /// PKCS#12 files made with `openssl pkcs12 -export` (see tests/fixtures/README.md).
    const SHA1_PASSWORD: &[u8] = include_bytes!("../../tests/fixtures/pkcs12-sha1-password.p12");
    const SHA256_PASSWORD: &[u8] = include_bytes!("../../tests/fixtures/pkcs12-sha256-password.p12");
    const SHA1_EMPTY: &[u8] = include_bytes!("../../tests/fixtures/pkcs12-sha1-empty-password.p12");
    const SHA256_EMPTY: &[u8] = include_bytes!("../../tests/fixtures/pkcs12-sha256-empty-password.p12");
    const SHA256_NON_ASCII: &[u8] = include_bytes!("../../tests/fixtures/pkcs12-sha256-non-ascii-password.p12");
    const NO_MAC: &[u8] = include_bytes!("../../tests/fixtures/pkcs12-nomac.p12");
    const PASSWORD: &str = "p@ss";

    fn with_password(password: &str) -> ImportCertificateOptions {
        ImportCertificateOptions { password: Some(password.into()), ..Default::default() }
    }

    fn import_error(pfx: &[u8], options: &ImportCertificateOptions) -> Error {
        vault().import_certificate("c", pfx, options).unwrap_err()
    }

    #[test]
    fn pkcs12_and_its_base64_are_accepted_with_the_right_password() {
        for pfx in [SHA1_PASSWORD, SHA256_PASSWORD] {
            let call = vault().import_certificate("c", pfx, &with_password(PASSWORD)).unwrap();
            assert_eq!(call.request().method(), "POST");
            assert_eq!(body(&call)["value"], encode_standard(pfx));
            assert_eq!(body(&call)["pwd"], PASSWORD);
            let call =
                vault().import_certificate("c", encode_standard(pfx).as_bytes(), &with_password(PASSWORD)).unwrap();
            assert_eq!(body(&call)["value"], encode_standard(pfx));
        }
        let call = vault().import_certificate("c", SHA256_NON_ASCII, &with_password("pässwörd")).unwrap();
        assert_eq!(body(&call)["pwd"], "pässwörd");
    }

    #[test]
    fn pkcs12_without_its_password_is_rejected_locally() {
        for pfx in [SHA1_PASSWORD, SHA256_PASSWORD, SHA256_NON_ASCII] {
            let err = import_error(pfx, &Default::default());
            assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
            match err {
                Error::InvalidInput { what, reason } => {
                    assert_eq!(what, "certificate import");
                    assert_eq!(
                        reason,
                        "the PKCS#12 is protected by a password: give it (ImportCertificateOptions::password)"
                    );
                }
                other => panic!("unexpected {other:?}"),
            }
            // Base64 text of it too.
            let err = import_error(encode_standard(pfx).as_bytes(), &Default::default());
            assert!(err.to_string().contains("protected by a password"));
        }
    }

    #[test]
    fn pkcs12_with_a_wrong_password_is_rejected_without_echoing_it() {
        for (pfx, wrong) in [
            (SHA1_PASSWORD, "p@sS"),
            (SHA256_PASSWORD, "hunter2"),
            (SHA256_NON_ASCII, "passwoerd"),
            (SHA256_PASSWORD, ""),
        ] {
            match import_error(pfx, &with_password(wrong)) {
                Error::InvalidInput { what, reason } => {
                    assert_eq!(what, "certificate import");
                    assert_eq!(reason, "the password does not open the PKCS#12 (its MAC does not verify)");
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        let err = import_error(SHA256_PASSWORD, &with_password("hunter2"));
        assert!(!err.to_string().contains("hunter2"));
        assert!(!format!("{err:?}").contains("hunter2"));
        // A password for a file protected by the empty one is wrong too.
        assert!(import_error(SHA256_EMPTY, &with_password(PASSWORD)).to_string().contains("does not open"));
    }

    #[test]
    fn pkcs12_with_the_empty_password_or_no_mac_is_accepted() {
        for pfx in [SHA1_EMPTY, SHA256_EMPTY] {
            let call = vault().import_certificate("c", pfx, &Default::default()).unwrap();
            assert_eq!(body(&call)["value"], encode_standard(pfx));
            assert!(body(&call).get("pwd").is_none());
            let call = vault().import_certificate("c", pfx, &with_password("")).unwrap();
            assert_eq!(body(&call)["pwd"], "");
        }
        // Without a MAC there is nothing to check: with or without a password.
        assert!(vault().import_certificate("c", NO_MAC, &Default::default()).is_ok());
        let call = vault().import_certificate("c", NO_MAC, &with_password(PASSWORD)).unwrap();
        assert_eq!(body(&call)["pwd"], PASSWORD);
    }

    #[test]
    fn malformed_pkcs12_is_rejected() {
        let malformed = |bytes: &[u8]| {
            let err = import_error(bytes, &with_password(PASSWORD)).to_string();
            assert!(err.contains("truncated or malformed"), "{err}");
        };
        // One SEQUENCE, but no PFX inside (a version only; an X.509 certificate's shape).
        malformed(&[0x30, 0x03, 0x02, 0x01, 0x03]);
        malformed(&[0x30, 0x06, 0x30, 0x00, 0x30, 0x00, 0x03, 0x00]);
        // Truncated anywhere, or with a byte changed in the structure.
        for cut in [1, 2, 10, 40, SHA256_PASSWORD.len() / 2, SHA256_PASSWORD.len() - 1] {
            malformed(&SHA256_PASSWORD[..cut]);
        }
        let mut trailing = SHA256_PASSWORD.to_vec();
        trailing.push(0);
        malformed(&trailing);
        // A changed MAC byte is not malformed: the password no longer opens it.
        let mut tampered = SHA256_PASSWORD.to_vec();
        let last = tampered.len() - 10;
        tampered[last] ^= 1;
        assert!(import_error(&tampered, &with_password(PASSWORD)).to_string().contains("does not open"));
    }

    #[test]
    fn smallest_pfx_without_mac_is_accepted() {
        // version 3, authSafe { id-data, [0] { OCTET STRING { SEQUENCE {} } } }, no macData.
        let pfx = [
            0x30, 0x16, 0x02, 0x01, 0x03, 0x30, 0x11, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01,
            0xa0, 0x04, 0x04, 0x02, 0x30, 0x00,
        ];
        assert!(vault().import_certificate("c", &pfx, &Default::default()).is_ok());
        assert!(vault().import_certificate("c", &pfx, &with_password("")).is_ok());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..Default::default() })]

        #[test]
        fn der_like_bytes_never_panic(
            tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            password in proptest::option::of(".{0,8}"),
        ) {
            let mut bytes = vec![0x30];
            bytes.extend(tail);
            let options = ImportCertificateOptions { password: password.map(Into::into), ..Default::default() };
            let _ = vault().import_certificate("c", &bytes, &options);
        }
    }

    proptest::proptest! {
        // Each case derives MAC keys (2048 iterations): fewer cases.
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 100, ..Default::default() })]

        #[test]
        fn mutated_pkcs12_never_panics(
            at in 0usize..1119,
            value in proptest::prelude::any::<u8>(),
            cut in 0usize..1200,
        ) {
            let mut bytes = SHA256_PASSWORD.to_vec();
            let at = at % bytes.len();
            bytes[at] = value;
            bytes.truncate(cut.max(1));
            let _ = vault().import_certificate("c", &bytes, &with_password(PASSWORD));
            let _ = vault().import_certificate("c", &bytes, &Default::default());
        }
    }
}
