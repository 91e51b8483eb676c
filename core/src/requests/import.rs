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
use crate::response;
use crate::vault::Vault;

/// Optional settings for [`Vault::import_certificate`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportCertificateOptions {
    /// The PKCS#12 password (never printed).
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
    /// Problems the service would reject are reported here, before any request.
    pub fn import_certificate(
        &self,
        name: &str,
        certificate: &[u8],
        options: &ImportCertificateOptions,
    ) -> Result<Call<KeyVaultCertificate>, Error> {
        validate_certificate_name(name)?;
        let prepared = prepare(certificate, options.password.is_some())?;
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
        let request = self.request(Method::POST, &["certificates", name, "import"], &[], Some(body));
        Ok(Call::new(request, Operation::ImportCertificate, response::json))
    }
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::invalid("certificate import", reason)
}

fn prepare(bytes: &[u8], has_password: bool) -> Result<Prepared, Error> {
    if bytes.is_empty() {
        return Err(invalid("the certificate is empty"));
    }
    if pem::looks_like_pem(bytes) {
        let text = std::str::from_utf8(bytes).map_err(|_| invalid("the PEM text is not UTF-8"))?;
        return prepare_pem(text, has_password).map(Prepared::Pem);
    }
    if bytes[0] == 0x30 {
        return match der::read(bytes) {
            Some((_, [])) => Ok(Prepared::Pkcs12(bytes.to_vec())),
            _ => Err(invalid("the bytes start like PKCS#12 (DER) but are truncated or malformed")),
        };
    }
    // Base64 text of PEM or PKCS#12, as some callers hold it.
    if let Ok(text) = std::str::from_utf8(bytes) {
        if let Ok(decoded) = decode_base64(text.trim()) {
            if !decoded.is_empty() && (decoded[0] == 0x30 || pem::looks_like_pem(&decoded)) {
                return prepare(&decoded, has_password);
            }
        }
    }
    Err(invalid("the certificate is neither PEM text nor PKCS#12 (PFX) bytes"))
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
        assert!(sent.contains("-----BEGIN PRIVATE KEY-----"));
        assert!(!sent.contains("RSA PRIVATE KEY"));
    }

    #[test]
    fn pkcs12_and_its_base64_are_accepted() {
        let mut pfx = Vec::new();
        der::write(0x30, &[0x02, 0x01, 0x03], &mut pfx);
        let options = ImportCertificateOptions { password: Some("pw".into()), ..Default::default() };
        let call = vault().import_certificate("c", &pfx, &options).unwrap();
        assert_eq!(body(&call)["value"], encode_standard(&pfx));
        assert_eq!(body(&call)["pwd"], "pw");
        let call = vault().import_certificate("c", encode_standard(&pfx).as_bytes(), &options).unwrap();
        assert_eq!(body(&call)["value"], encode_standard(&pfx));
    }
}
