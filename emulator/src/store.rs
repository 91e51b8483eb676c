//! The vault's state: certificates with their versions and pending operations, deleted
//! certificates, contacts and issuers; plus the timing rules (operations that complete after
//! a delay, deletions and recoveries that become visible after a delay).
//!
//! The state is plain data behind one mutex. Every request first calls [`Vault::settle`], which
//! applies whatever became due since the last request; nothing runs in the background.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::api_error::ApiError;
use crate::ids::key_of;
use crate::model::{Contact, IssuerCredentials, IssuerParams, OrgDetails, Policy, Tags};

/// Current time in Unix seconds.
pub fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default()
}

/// Serde helpers that write bytes as standard base64 strings.
pub mod b64 {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes bytes as base64.
    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(v))
    }

    /// Deserializes base64 into bytes.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        STANDARD.decode(s).map_err(serde::de::Error::custom)
    }

    /// The same for a list of byte strings.
    pub mod list {
        use super::*;
        use serde::ser::SerializeSeq;

        /// Serializes a list of byte strings as base64 strings.
        pub fn serialize<S: Serializer>(v: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
            let mut seq = s.serialize_seq(Some(v.len()))?;
            for x in v {
                seq.serialize_element(&STANDARD.encode(x))?;
            }
            seq.end()
        }

        /// Deserializes base64 strings into byte strings.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
            let v = Vec::<String>::deserialize(d)?;
            v.into_iter().map(|s| STANDARD.decode(s).map_err(serde::de::Error::custom)).collect()
        }
    }

    /// The same for an optional byte string.
    pub mod option {
        use super::*;

        /// Serializes an optional byte string.
        pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(b) => s.serialize_some(&STANDARD.encode(b)),
                None => s.serialize_none(),
            }
        }

        /// Deserializes an optional byte string.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
            let v = Option::<String>::deserialize(d)?;
            v.map(|s| STANDARD.decode(s).map_err(serde::de::Error::custom)).transpose()
        }
    }
}

/// Timing and behaviour settings of the vault.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long a `Self`-issued create stays `inProgress`.
    pub create_delay: Duration,
    /// How long after a delete the deleted certificate becomes visible.
    pub delete_delay: Duration,
    /// How long after a recover the certificate becomes visible again.
    pub recover_delay: Duration,
    /// Whether deletes are soft (recoverable).
    pub soft_delete: bool,
    /// Days a deleted certificate is kept (for `scheduledPurgeDate` and `recoverableDays`).
    pub recoverable_days: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            create_delay: Duration::from_secs(1),
            delete_delay: Duration::ZERO,
            recover_delay: Duration::ZERO,
            soft_delete: true,
            recoverable_days: 90,
        }
    }
}

/// One completed version of a certificate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CertVersion {
    /// 32-hex version id.
    pub version: String,
    /// The chain, leaf first (DER).
    #[serde(with = "b64::list")]
    pub chain: Vec<Vec<u8>>,
    /// The PKCS#8 private key.
    #[serde(with = "b64::option", default)]
    pub key: Option<Vec<u8>>,
    /// Enabled flag.
    pub enabled: bool,
    /// Not-before (Unix seconds).
    pub nbf: i64,
    /// Expiry (Unix seconds).
    pub exp: i64,
    /// Creation time.
    pub created: i64,
    /// Last update time.
    pub updated: i64,
    /// Tags.
    #[serde(default)]
    pub tags: Option<Tags>,
    /// Secret content type this version was issued with.
    pub content_type: String,
    /// Whether the key may leave the vault with the secret.
    pub exportable: bool,
}

impl CertVersion {
    /// The leaf certificate DER.
    pub fn cer(&self) -> &[u8] {
        self.chain.first().map(|c| c.as_slice()).unwrap_or(&[])
    }
}

/// The state of a certificate operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpStatus {
    /// `inProgress`.
    InProgress,
    /// `completed`.
    Completed,
    /// `cancelled`.
    Cancelled,
    /// `failed`.
    Failed,
}

impl OpStatus {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            OpStatus::InProgress => "inProgress",
            OpStatus::Completed => "completed",
            OpStatus::Cancelled => "cancelled",
            OpStatus::Failed => "failed",
        }
    }
}

/// A certificate operation (`/pending`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Operation {
    /// `request_id`.
    pub request_id: String,
    /// The version the operation will create.
    pub version: String,
    /// Issuer parameters.
    pub issuer: IssuerParams,
    /// PKCS#10 request (DER).
    #[serde(with = "b64")]
    pub csr: Vec<u8>,
    /// The new key (PKCS#8).
    #[serde(with = "b64")]
    pub key: Vec<u8>,
    /// Whether a cancellation was requested.
    pub cancellation_requested: bool,
    /// Status.
    pub status: OpStatus,
    /// Error code and message of a failed operation.
    #[serde(default)]
    pub error: Option<(String, String)>,
    /// When the operation completes by itself (Self issuer) or fails (other issuers).
    #[serde(skip)]
    pub ready_at: Option<Instant>,
    /// The self-signed certificate, issued up front and published at `ready_at`.
    #[serde(with = "b64::option", default)]
    pub issued: Option<Vec<u8>>,
    /// Enabled flag requested for the new version.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Tags requested for the new version.
    #[serde(default)]
    pub tags: Option<Tags>,
    /// Secret content type for the new version.
    pub content_type: String,
    /// Exportable flag for the new version.
    pub exportable: bool,
}

/// A certificate: its versions, policy and last operation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cert {
    /// The name as first given.
    pub name: String,
    /// Completed versions, oldest first.
    pub versions: Vec<CertVersion>,
    /// The policy.
    pub policy: Policy,
    /// The last certificate operation.
    #[serde(default)]
    pub operation: Option<Operation>,
    /// Hidden (404) until this instant: a recovery in progress.
    #[serde(skip)]
    pub hidden_until: Option<Instant>,
}

impl Cert {
    /// The newest version.
    pub fn latest(&self) -> Option<&CertVersion> {
        self.versions.last()
    }

    /// A version by id (case-insensitive).
    pub fn version(&self, v: &str) -> Option<&CertVersion> {
        self.versions.iter().find(|x| x.version.eq_ignore_ascii_case(v))
    }

    /// A version by id, mutable.
    pub fn version_mut(&mut self, v: &str) -> Option<&mut CertVersion> {
        self.versions.iter_mut().find(|x| x.version.eq_ignore_ascii_case(v))
    }

    /// Whether the certificate has an operation still in progress.
    pub fn in_progress(&self) -> bool {
        self.operation.as_ref().is_some_and(|o| o.status == OpStatus::InProgress)
    }
}

/// A soft-deleted certificate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeletedCert {
    /// The certificate as it was.
    pub cert: Cert,
    /// Deletion time.
    pub deleted_date: i64,
    /// When it would be purged.
    pub scheduled_purge_date: i64,
    /// Not visible under `/deletedcertificates` until this instant.
    #[serde(skip)]
    pub visible_at: Option<Instant>,
}

/// A certificate issuer object.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IssuerRecord {
    /// Name as given.
    pub name: String,
    /// Provider.
    pub provider: String,
    /// Credentials (the password is kept but never returned).
    pub credentials: Option<IssuerCredentials>,
    /// Organization details.
    pub org_details: Option<OrgDetails>,
    /// Enabled flag.
    pub enabled: bool,
    /// Creation time.
    pub created: i64,
    /// Update time.
    pub updated: i64,
}

/// Everything in the vault.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Vault {
    /// Active certificates by lower-case name.
    pub certs: BTreeMap<String, Cert>,
    /// Deleted certificates by lower-case name.
    pub deleted: BTreeMap<String, DeletedCert>,
    /// Certificate contacts.
    pub contacts: Option<Vec<Contact>>,
    /// Issuers by lower-case name.
    pub issuers: BTreeMap<String, IssuerRecord>,
}

impl Vault {
    /// Applies everything that became due: operations that complete or fail, recoveries
    /// and deletions that become visible.
    pub fn settle(&mut self, now: Instant) {
        let unix = unix_now();
        for cert in self.certs.values_mut() {
            if cert.hidden_until.is_some_and(|t| t <= now) {
                cert.hidden_until = None;
            }
            let Some(op) = cert.operation.as_mut() else {
                continue;
            };
            if op.status != OpStatus::InProgress {
                continue;
            }
            if op.cancellation_requested {
                op.status = OpStatus::Cancelled;
                op.issued = None;
                continue;
            }
            let due = op.ready_at.is_none_or(|t| t <= now);
            if !due {
                continue;
            }
            let issuer = op.issuer.name.clone().unwrap_or_default();
            if issuer == crate::policy::ISSUER_SELF {
                if let Some(der) = op.issued.take() {
                    let (nbf, exp) = crate::x509::cert_info(&der).map(|i| (i.nbf, i.exp)).unwrap_or((unix, unix));
                    cert.versions.push(CertVersion {
                        version: op.version.clone(),
                        chain: vec![der],
                        key: Some(op.key.clone()),
                        enabled: op.enabled.unwrap_or(true),
                        nbf,
                        exp,
                        created: unix,
                        updated: unix,
                        tags: op.tags.clone(),
                        content_type: op.content_type.clone(),
                        exportable: op.exportable,
                    });
                    op.status = OpStatus::Completed;
                } else {
                    op.status = OpStatus::Failed;
                    op.error =
                        Some(("InternalError".into(), "The self-signed certificate could not be issued.".into()));
                }
            } else if issuer != crate::policy::ISSUER_UNKNOWN {
                let provider =
                    self.issuers.get(&key_of(&issuer)).map(|i| i.provider.clone()).unwrap_or_else(|| issuer.clone());
                op.status = OpStatus::Failed;
                op.error = Some((
                    "Request rejected".into(),
                    format!(
                        "The call to {provider} failed: this emulator does not contact external certificate issuers. Use the Self or Unknown issuer."
                    ),
                ));
            }
        }
        for d in self.deleted.values_mut() {
            if d.visible_at.is_some_and(|t| t <= now) {
                d.visible_at = None;
            }
        }
    }

    /// An active, visible certificate.
    pub fn cert(&self, name: &str) -> Option<&Cert> {
        self.certs.get(&key_of(name)).filter(|c| c.hidden_until.is_none())
    }

    /// An active, visible certificate, mutable.
    pub fn cert_mut(&mut self, name: &str) -> Option<&mut Cert> {
        self.certs.get_mut(&key_of(name)).filter(|c| c.hidden_until.is_none())
    }

    /// A visible deleted certificate.
    pub fn deleted(&self, name: &str) -> Option<&DeletedCert> {
        self.deleted.get(&key_of(name)).filter(|d| d.visible_at.is_none())
    }

    /// Checks that a create, import or restore may use the name: not deleted, not being
    /// deleted or recovered.
    pub fn check_name_usable(&self, name: &str) -> Result<(), ApiError> {
        let key = key_of(name);
        if let Some(d) = self.deleted.get(&key) {
            return Err(if d.visible_at.is_some() {
                ApiError::being_deleted(name)
            } else {
                ApiError::deleted_but_recoverable(name)
            });
        }
        if self.certs.get(&key).is_some_and(|c| c.hidden_until.is_some()) {
            return Err(ApiError::being_recovered(name));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(issuer: &str, ready_in: Duration) -> Operation {
        Operation {
            request_id: "r".into(),
            version: "v".into(),
            issuer: IssuerParams { name: Some(issuer.into()), ..Default::default() },
            csr: vec![],
            key: vec![],
            cancellation_requested: false,
            status: OpStatus::InProgress,
            error: None,
            ready_at: Some(Instant::now() + ready_in),
            issued: None,
            enabled: None,
            tags: None,
            content_type: "application/x-pkcs12".into(),
            exportable: true,
        }
    }

    #[test]
    fn unknown_issuer_waits_and_named_issuer_fails() {
        let mut v = Vault::default();
        for (name, issuer) in [("a", "Unknown"), ("b", "Digi")] {
            v.certs.insert(
                name.into(),
                Cert {
                    name: name.into(),
                    versions: vec![],
                    policy: Policy::default(),
                    operation: Some(op(issuer, Duration::ZERO)),
                    hidden_until: None,
                },
            );
        }
        v.settle(Instant::now());
        assert_eq!(v.certs["a"].operation.as_ref().unwrap().status, OpStatus::InProgress);
        assert_eq!(v.certs["b"].operation.as_ref().unwrap().status, OpStatus::Failed);
    }

    #[test]
    fn deleted_names_conflict() {
        let mut v = Vault::default();
        v.deleted.insert(
            "x".into(),
            DeletedCert {
                cert: Cert {
                    name: "X".into(),
                    versions: vec![],
                    policy: Policy::default(),
                    operation: None,
                    hidden_until: None,
                },
                deleted_date: 0,
                scheduled_purge_date: 0,
                visible_at: Some(Instant::now() + Duration::from_secs(60)),
            },
        );
        let e = v.check_name_usable("X").unwrap_err();
        assert_eq!(e.inner_code.as_deref(), Some("ObjectIsBeingDeleted"));
        v.deleted.get_mut("x").unwrap().visible_at = None;
        let e = v.check_name_usable("x").unwrap_err();
        assert_eq!(e.inner_code.as_deref(), Some("ObjectIsDeletedButRecoverable"));
    }
}
