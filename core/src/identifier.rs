//! Parsing Key Vault certificate URLs (`id`, `kid`, `sid`, pending and deleted-certificate
//! URLs) into their parts.

use std::fmt;

use crate::error::Error;
use crate::vault::{Vault, VaultOptions};

/// Which collection a Key Vault URL points into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Collection {
    /// `/certificates/{name}[/{version}]`.
    Certificates,
    /// `/certificates/{name}/pending`: the certificate's pending operation.
    PendingOperation,
    /// `/deletedcertificates/{name}`.
    DeletedCertificates,
    /// `/keys/{name}[/{version}]` (a certificate's `kid`).
    Keys,
    /// `/secrets/{name}[/{version}]` (a certificate's `sid`).
    Secrets,
}

impl Collection {
    /// The path segment of the collection.
    pub fn as_str(self) -> &'static str {
        match self {
            Collection::Certificates | Collection::PendingOperation => "certificates",
            Collection::DeletedCertificates => "deletedcertificates",
            Collection::Keys => "keys",
            Collection::Secrets => "secrets",
        }
    }
}

/// The parts of a certificate URL.
///
/// ```
/// use kvcerts_core::{Collection, KeyVaultCertificateIdentifier};
/// let id = KeyVaultCertificateIdentifier::parse(
///     "https://myvault.vault.azure.net/certificates/web/0123456789abcdef0123456789abcdef",
/// ).unwrap();
/// assert_eq!(id.vault_url(), "https://myvault.vault.azure.net");
/// assert_eq!(id.name(), "web");
/// assert_eq!(id.version(), Some("0123456789abcdef0123456789abcdef"));
/// assert_eq!(id.collection(), Collection::Certificates);
/// assert_eq!(id.to_string(), id.source_id());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyVaultCertificateIdentifier {
    source_id: String,
    vault_url: String,
    collection: Collection,
    name: String,
    version: Option<String>,
}

impl KeyVaultCertificateIdentifier {
    /// Parses a URL; anything that is not one of the shapes above is a clear error.
    pub fn parse(url: &str) -> Result<Self, Error> {
        let bad = |reason: &str| Error::invalid("certificate identifier", format!("{url:?}: {reason}"));
        let (without_query, _) = url.split_once('?').unwrap_or((url, ""));
        let scheme_end = without_query.find("://").ok_or_else(|| bad("not an absolute URL"))?;
        let path_start = without_query[scheme_end + 3..]
            .find('/')
            .map(|i| scheme_end + 3 + i)
            .ok_or_else(|| bad("no path: expected /certificates/{name}[/{version}]"))?;
        let origin = &without_query[..path_start];
        let vault = Vault::with_options(origin, VaultOptions::default().allow_insecure_loopback(true))
            .map_err(|e| bad(&e.to_string()))?;
        let segments: Vec<&str> = without_query[path_start + 1..].trim_end_matches('/').split('/').collect();
        let (collection, name, version) = match segments.as_slice() {
            ["certificates", name, "pending"] => (Collection::PendingOperation, *name, None),
            ["certificates", name] => (Collection::Certificates, *name, None),
            ["certificates", name, version] => (Collection::Certificates, *name, Some(*version)),
            ["deletedcertificates", name] => (Collection::DeletedCertificates, *name, None),
            ["keys", name] => (Collection::Keys, *name, None),
            ["keys", name, version] => (Collection::Keys, *name, Some(*version)),
            ["secrets", name] => (Collection::Secrets, *name, None),
            ["secrets", name, version] => (Collection::Secrets, *name, Some(*version)),
            _ => {
                return Err(bad(
                    "expected /certificates/{name}[/{version}|/pending], /deletedcertificates/{name}, /keys/{name}[/{version}] or /secrets/{name}[/{version}]",
                ))
            }
        };
        crate::names::validate_certificate_name(name).map_err(|e| bad(&e.to_string()))?;
        if let Some(v) = version {
            crate::names::validate_version(v).map_err(|e| bad(&e.to_string()))?;
        }
        Ok(KeyVaultCertificateIdentifier {
            source_id: without_query.trim_end_matches('/').to_owned(),
            vault_url: vault.url().to_owned(),
            collection,
            name: name.to_owned(),
            version: version.map(str::to_owned),
        })
    }

    /// The URL as given, without query and trailing slash.
    pub fn source_id(&self) -> &str {
        &self.source_id
    }

    /// The vault URL, `https://host[:port]`.
    pub fn vault_url(&self) -> &str {
        &self.vault_url
    }

    /// Which collection the URL points into.
    pub fn collection(&self) -> Collection {
        self.collection
    }

    /// The certificate name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The version, when the URL names one.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }
}

impl fmt::Display for KeyVaultCertificateIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source_id)
    }
}

impl std::str::FromStr for KeyVaultCertificateIdentifier {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        KeyVaultCertificateIdentifier::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_shape() {
        let cases = [
            ("https://v.vault.azure.net/certificates/c1", Collection::Certificates, None),
            ("https://v.vault.azure.net/certificates/c1/", Collection::Certificates, None),
            ("https://v.vault.azure.net/certificates/c1/abc123", Collection::Certificates, Some("abc123")),
            ("https://v.vault.azure.net/certificates/c1/pending", Collection::PendingOperation, None),
            ("https://v.vault.azure.net/deletedcertificates/c1", Collection::DeletedCertificates, None),
            ("https://v.vault.azure.net/keys/c1/abc", Collection::Keys, Some("abc")),
            ("https://v.vault.azure.net/secrets/c1/abc", Collection::Secrets, Some("abc")),
            ("https://v.vault.azure.net:8443/secrets/c1/abc?api-version=7.4", Collection::Secrets, Some("abc")),
        ];
        for (url, collection, version) in cases {
            let id = KeyVaultCertificateIdentifier::parse(url).unwrap();
            assert_eq!(id.collection(), collection, "{url}");
            assert_eq!(id.name(), "c1");
            assert_eq!(id.version(), version);
        }
        let id = KeyVaultCertificateIdentifier::parse("https://v.vault.azure.net:8443/secrets/c1/abc").unwrap();
        assert_eq!(id.vault_url(), "https://v.vault.azure.net:8443");
    }

    #[test]
    fn rejects_other_urls() {
        for url in [
            "",
            "c1",
            "https://v.vault.azure.net",
            "https://v.vault.azure.net/",
            "https://v.vault.azure.net/storage/c1",
            "https://v.vault.azure.net/certificates/c1/v/extra",
            "https://v.vault.azure.net/certificates/bad_name",
            "ftp://v.vault.azure.net/certificates/c1",
        ] {
            assert!(KeyVaultCertificateIdentifier::parse(url).is_err(), "{url}");
        }
    }
}
