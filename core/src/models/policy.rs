//! Certificate policies: how a certificate is issued, renewed and stored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::certificate::CertificateAttributes;
use super::enums::{CertificateContentType, CertificatePolicyAction, KeyCurveName, KeyType, KeyUsageType};
use crate::error::Error;

/// The issuer name for self-signed certificates.
pub const ISSUER_SELF: &str = "Self";
/// The issuer name for certificates signed by a CA outside Key Vault (merge workflow).
pub const ISSUER_UNKNOWN: &str = "Unknown";

/// Management policy for a certificate.
///
/// [`CertificatePolicy::default`] is the SDKs' default policy: issuer `Self`, subject
/// `CN=DefaultPolicy`, everything else chosen by the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificatePolicy {
    /// The policy id (read only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The key pair (`key_props`).
    #[serde(rename = "key_props", skip_serializing_if = "Option::is_none")]
    pub key_properties: Option<KeyProperties>,
    /// The secret (`secret_props`).
    #[serde(rename = "secret_props", skip_serializing_if = "Option::is_none")]
    pub secret_properties: Option<SecretProperties>,
    /// The X.509 contents (`x509_props`).
    #[serde(rename = "x509_props", skip_serializing_if = "Option::is_none")]
    pub x509_properties: Option<X509CertificateProperties>,
    /// What happens as the certificate ages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifetime_actions: Option<Vec<LifetimeAction>>,
    /// The issuer (`issuer`).
    #[serde(rename = "issuer", skip_serializing_if = "Option::is_none")]
    pub issuer_parameters: Option<IssuerParameters>,
    /// The policy's attributes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<CertificateAttributes>,
    /// Platform-managed settings (internal to Azure; kept as sent).
    #[serde(rename = "platformManaged", skip_serializing_if = "Option::is_none")]
    pub platform_managed: Option<PlatformManaged>,
}

impl Default for CertificatePolicy {
    fn default() -> Self {
        CertificatePolicy::new(ISSUER_SELF, "CN=DefaultPolicy")
    }
}

impl CertificatePolicy {
    /// A policy with only an issuer and a subject.
    pub fn new(issuer_name: impl Into<String>, subject: impl Into<String>) -> Self {
        CertificatePolicy {
            issuer_parameters: Some(IssuerParameters { name: Some(issuer_name.into()), ..Default::default() }),
            x509_properties: Some(X509CertificateProperties { subject: Some(subject.into()), ..Default::default() }),
            ..CertificatePolicy::empty()
        }
    }

    /// A policy with nothing set, for updates that change only some members.
    pub fn empty() -> Self {
        CertificatePolicy {
            id: None,
            key_properties: None,
            secret_properties: None,
            x509_properties: None,
            lifetime_actions: None,
            issuer_parameters: None,
            attributes: None,
            platform_managed: None,
        }
    }

    /// The issuer name (`Self`, `Unknown` or a configured issuer).
    pub fn issuer_name(&self) -> Option<&str> {
        self.issuer_parameters.as_ref().and_then(|i| i.name.as_deref())
    }

    /// The subject.
    pub fn subject(&self) -> Option<&str> {
        self.x509_properties.as_ref().and_then(|x| x.subject.as_deref())
    }

    /// The secret's content type.
    pub fn content_type(&self) -> Option<&CertificateContentType> {
        self.secret_properties.as_ref().and_then(|s| s.content_type.as_ref())
    }

    /// Checks what the service documents and would otherwise reject after a round trip:
    /// lifetime triggers, key type/size/curve consistency.
    pub fn validate(&self) -> Result<(), Error> {
        if let Some(actions) = &self.lifetime_actions {
            for (i, action) in actions.iter().enumerate() {
                if let Some(trigger) = &action.trigger {
                    trigger.validate().map_err(|reason| {
                        Error::invalid("certificate policy", format!("lifetime_actions[{i}].trigger: {reason}"))
                    })?;
                }
            }
        }
        if let Some(key) = &self.key_properties {
            key.validate().map_err(|reason| Error::invalid("certificate policy", format!("key_props: {reason}")))?;
        }
        if let Some(x509) = &self.x509_properties {
            if x509.validity_in_months == Some(0) {
                return Err(Error::invalid("certificate policy", "x509_props.validity_months must be at least 1"));
            }
        }
        Ok(())
    }

    /// [`CertificatePolicy::validate`], plus what creation needs: a subject or at least one
    /// subject alternative name, and an issuer.
    pub fn validate_for_create(&self) -> Result<(), Error> {
        self.validate()?;
        let x509 = self.x509_properties.as_ref();
        let has_subject = x509.and_then(|x| x.subject.as_deref()).is_some_and(|s| !s.trim().is_empty());
        let has_san =
            x509.and_then(|x| x.subject_alternative_names.as_ref()).is_some_and(SubjectAlternativeNames::has_any);
        if !has_subject && !has_san {
            return Err(Error::invalid(
                "certificate policy",
                "a policy used to create a certificate needs a subject or at least one subject alternative name",
            ));
        }
        if self.issuer_name().is_none_or(|n| n.trim().is_empty()) {
            return Err(Error::invalid(
                "certificate policy",
                "a policy used to create a certificate needs an issuer name (\"Self\", \"Unknown\" or a configured issuer)",
            ));
        }
        Ok(())
    }
}

/// The key pair backing a certificate (`key_props`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyProperties {
    /// Whether the private key can be exported (downloaded with the secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exportable: Option<bool>,
    /// The key type (`kty`).
    #[serde(rename = "kty", skip_serializing_if = "Option::is_none")]
    pub key_type: Option<KeyType>,
    /// The key size in bits (RSA: 2048, 3072, 4096).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_size: Option<u32>,
    /// Whether renewal keeps the same key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reuse_key: Option<bool>,
    /// The elliptic curve (`crv`).
    #[serde(rename = "crv", skip_serializing_if = "Option::is_none")]
    pub curve: Option<KeyCurveName>,
}

impl KeyProperties {
    fn validate(&self) -> Result<(), String> {
        match &self.key_type {
            Some(KeyType::Oct | KeyType::OctHsm) => {
                return Err("a certificate key must be RSA or EC, not a symmetric (oct) key".into())
            }
            Some(kty) if kty.is_rsa() => {
                if let Some(curve) = &self.curve {
                    return Err(format!("key type {kty} takes no curve, but crv is {curve}"));
                }
                if let Some(size) = self.key_size {
                    if ![2048, 3072, 4096].contains(&size) {
                        return Err(format!("RSA key_size must be 2048, 3072 or 4096, not {size}"));
                    }
                }
            }
            Some(kty) if kty.is_ec() => {
                if let (Some(curve), Some(size)) = (&self.curve, self.key_size) {
                    if let Some(expected) = curve.key_size() {
                        if expected != size {
                            return Err(format!("curve {curve} has a {expected}-bit key, but key_size is {size}"));
                        }
                    }
                }
                if self.curve.is_none() {
                    if let Some(size) = self.key_size {
                        if ![256, 384, 521].contains(&size) {
                            return Err(format!("EC key_size must be 256, 384 or 521, not {size}"));
                        }
                    }
                }
            }
            Some(_) => {}
            None => {
                if self.curve.is_some() && self.key_size.is_some_and(|s| s >= 2048) {
                    return Err("a curve was given with an RSA-sized key_size; set kty to EC".into());
                }
            }
        }
        Ok(())
    }
}

/// The certificate's secret (`secret_props`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretProperties {
    /// PKCS#12 or PEM.
    #[serde(rename = "contentType", skip_serializing_if = "Option::is_none")]
    pub content_type: Option<CertificateContentType>,
}

/// The X.509 contents of a certificate (`x509_props`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct X509CertificateProperties {
    /// The subject distinguished name, e.g. `CN=example.com`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Extended key usages as OIDs (`ekus`).
    #[serde(rename = "ekus", skip_serializing_if = "Option::is_none")]
    pub enhanced_key_usage: Option<Vec<String>>,
    /// Subject alternative names (`sans`).
    #[serde(rename = "sans", skip_serializing_if = "Option::is_none")]
    pub subject_alternative_names: Option<SubjectAlternativeNames>,
    /// Key usages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_usage: Option<Vec<KeyUsageType>>,
    /// Validity in months (`validity_months`).
    #[serde(rename = "validity_months", skip_serializing_if = "Option::is_none")]
    pub validity_in_months: Option<u32>,
    /// Basic constraints (sent by the service).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basic_constraints: Option<BasicConstraints>,
}

/// The basic-constraints extension as the service reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BasicConstraints {
    /// Whether the certificate is a CA.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca: Option<bool>,
}

/// Subject alternative names (`sans`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectAlternativeNames {
    /// Email addresses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emails: Option<Vec<String>>,
    /// DNS names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_names: Option<Vec<String>>,
    /// User principal names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upns: Option<Vec<String>>,
    /// URIs (api-version 2025-07-01 and later).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uris: Option<Vec<String>>,
    /// IP addresses (api-version 2025-07-01 and later).
    #[serde(rename = "ipAddresses", skip_serializing_if = "Option::is_none")]
    pub ip_addresses: Option<Vec<String>>,
}

impl SubjectAlternativeNames {
    /// Whether any name is set.
    pub fn has_any(&self) -> bool {
        [&self.emails, &self.dns_names, &self.upns, &self.uris, &self.ip_addresses]
            .iter()
            .any(|list| list.as_ref().is_some_and(|l| !l.is_empty()))
    }

    /// SANs with DNS names only.
    pub fn dns(names: impl IntoIterator<Item = impl Into<String>>) -> Self {
        SubjectAlternativeNames { dns_names: Some(names.into_iter().map(Into::into).collect()), ..Default::default() }
    }
}

/// An action and when it happens.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifetimeAction {
    /// When.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger: Option<LifetimeTrigger>,
    /// What.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<LifetimeActionType>,
}

impl LifetimeAction {
    /// An action at a percentage of the lifetime.
    pub fn at_lifetime_percentage(action: CertificatePolicyAction, percentage: u32) -> Self {
        LifetimeAction {
            trigger: Some(LifetimeTrigger { lifetime_percentage: Some(percentage), days_before_expiry: None }),
            action: Some(LifetimeActionType { action_type: Some(action) }),
        }
    }

    /// An action some days before expiry.
    pub fn days_before_expiry(action: CertificatePolicyAction, days: u32) -> Self {
        LifetimeAction {
            trigger: Some(LifetimeTrigger { lifetime_percentage: None, days_before_expiry: Some(days) }),
            action: Some(LifetimeActionType { action_type: Some(action) }),
        }
    }
}

/// When a lifetime action happens (`trigger`): exactly one of the two.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifetimeTrigger {
    /// At this percentage of the lifetime (1–99).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifetime_percentage: Option<u32>,
    /// This many days before expiry (at least 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_before_expiry: Option<u32>,
}

impl LifetimeTrigger {
    fn validate(&self) -> Result<(), String> {
        match (self.lifetime_percentage, self.days_before_expiry) {
            (Some(_), Some(_)) => Err("set lifetime_percentage or days_before_expiry, not both".into()),
            (None, None) => Err("set lifetime_percentage (1-99) or days_before_expiry (>= 1)".into()),
            (Some(p), None) if !(1..=99).contains(&p) => Err(format!("lifetime_percentage must be 1-99, not {p}")),
            (None, Some(0)) => Err("days_before_expiry must be at least 1".into()),
            _ => Ok(()),
        }
    }
}

/// The action part of a lifetime action (`action`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifetimeActionType {
    /// `EmailContacts` or `AutoRenew`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action_type: Option<CertificatePolicyAction>,
}

/// The issuer of a certificate (`issuer` in policies and operations).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerParameters {
    /// `Self`, `Unknown` or the name of a configured issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The certificate type the issuer supports (`cty`), e.g. `OV-SSL`.
    #[serde(rename = "cty", skip_serializing_if = "Option::is_none")]
    pub certificate_type: Option<String>,
    /// Whether the certificate is published to certificate-transparency logs.
    #[serde(rename = "cert_transparency", skip_serializing_if = "Option::is_none")]
    pub certificate_transparency: Option<bool>,
}

/// Platform-managed certificate settings (internal to Azure).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformManaged {
    /// The usage.
    #[serde(rename = "certificateUsage", skip_serializing_if = "Option::is_none")]
    pub certificate_usage: Option<String>,
    /// Free-form metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, serde_json::Value>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_matches_the_sdks() {
        let json = serde_json::to_value(CertificatePolicy::default()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"issuer": {"name": "Self"}, "x509_props": {"subject": "CN=DefaultPolicy"}})
        );
        CertificatePolicy::default().validate_for_create().unwrap();
    }

    #[test]
    fn validation_names_the_problem() {
        let mut p = CertificatePolicy {
            lifetime_actions: Some(vec![LifetimeAction {
                trigger: Some(LifetimeTrigger { lifetime_percentage: Some(80), days_before_expiry: Some(3) }),
                action: None,
            }]),
            ..Default::default()
        };
        assert!(p.validate().unwrap_err().to_string().contains("not both"));
        p.lifetime_actions =
            Some(vec![LifetimeAction::at_lifetime_percentage(CertificatePolicyAction::AutoRenew, 100)]);
        assert!(p.validate().unwrap_err().to_string().contains("1-99"));
        p.lifetime_actions = Some(vec![LifetimeAction::days_before_expiry(CertificatePolicyAction::EmailContacts, 0)]);
        assert!(p.validate().is_err());

        let mut p = CertificatePolicy::new(ISSUER_SELF, "");
        assert!(p.validate_for_create().unwrap_err().to_string().contains("subject alternative name"));
        p.x509_properties.as_mut().unwrap().subject_alternative_names =
            Some(SubjectAlternativeNames::dns(["a.example"]));
        p.validate_for_create().unwrap();

        let mut p = CertificatePolicy {
            key_properties: Some(KeyProperties {
                key_type: Some(KeyType::Rsa),
                curve: Some(KeyCurveName::P256),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(p.validate().unwrap_err().to_string().contains("takes no curve"));
        p.key_properties = Some(KeyProperties {
            key_type: Some(KeyType::Ec),
            curve: Some(KeyCurveName::P384),
            key_size: Some(256),
            ..Default::default()
        });
        assert!(p.validate().unwrap_err().to_string().contains("384-bit"));
        p.key_properties =
            Some(KeyProperties { key_type: Some(KeyType::Rsa), key_size: Some(1024), ..Default::default() });
        assert!(p.validate().is_err());
    }
}
