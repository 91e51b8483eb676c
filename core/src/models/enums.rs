//! The service's enumerations, all forward compatible.

use super::encoding::open_enum;

open_enum! {
    /// The type of key pair backing a certificate (`kty`).
    KeyType {
        /// Elliptic curve.
        Ec = "EC",
        /// Elliptic curve in an HSM.
        EcHsm = "EC-HSM",
        /// RSA.
        Rsa = "RSA",
        /// RSA in an HSM.
        RsaHsm = "RSA-HSM",
        /// Symmetric key.
        Oct = "oct",
        /// Symmetric key in an HSM.
        OctHsm = "oct-HSM",
    }
}

impl KeyType {
    /// Whether this is an elliptic-curve key type.
    pub fn is_ec(&self) -> bool {
        matches!(self, KeyType::Ec | KeyType::EcHsm)
    }

    /// Whether this is an RSA key type.
    pub fn is_rsa(&self) -> bool {
        matches!(self, KeyType::Rsa | KeyType::RsaHsm)
    }
}

open_enum! {
    /// An elliptic curve (`crv`).
    KeyCurveName {
        /// NIST P-256.
        P256 = "P-256",
        /// NIST P-384.
        P384 = "P-384",
        /// NIST P-521.
        P521 = "P-521",
        /// secp256k1.
        P256K = "P-256K",
    }
}

impl KeyCurveName {
    /// The key size in bits that goes with the curve.
    pub fn key_size(&self) -> Option<u32> {
        match self {
            KeyCurveName::P256 | KeyCurveName::P256K => Some(256),
            KeyCurveName::P384 => Some(384),
            KeyCurveName::P521 => Some(521),
            KeyCurveName::Other(_) => None,
        }
    }
}

open_enum! {
    /// A permitted use of the certificate's key (`key_usage`).
    KeyUsageType {
        /// digitalSignature.
        DigitalSignature = "digitalSignature",
        /// nonRepudiation.
        NonRepudiation = "nonRepudiation",
        /// keyEncipherment.
        KeyEncipherment = "keyEncipherment",
        /// dataEncipherment.
        DataEncipherment = "dataEncipherment",
        /// keyAgreement.
        KeyAgreement = "keyAgreement",
        /// keyCertSign.
        KeyCertSign = "keyCertSign",
        /// cRLSign.
        CrlSign = "cRLSign",
        /// encipherOnly.
        EncipherOnly = "encipherOnly",
        /// decipherOnly.
        DecipherOnly = "decipherOnly",
    }
}

open_enum! {
    /// What a lifetime action does (`action_type`).
    CertificatePolicyAction {
        /// Email the certificate contacts.
        EmailContacts = "EmailContacts",
        /// Renew the certificate.
        AutoRenew = "AutoRenew",
    }
}

open_enum! {
    /// The deletion recovery level in effect (`recoveryLevel`).
    DeletionRecoveryLevel {
        /// Purgeable: deletion is permanent.
        Purgeable = "Purgeable",
        /// Soft-delete, purge allowed.
        RecoverablePurgeable = "Recoverable+Purgeable",
        /// Soft-delete, purge not allowed.
        Recoverable = "Recoverable",
        /// Soft-delete, subscription protected.
        RecoverableProtectedSubscription = "Recoverable+ProtectedSubscription",
        /// Soft-delete with a custom retention, purge allowed.
        CustomizedRecoverablePurgeable = "CustomizedRecoverable+Purgeable",
        /// Soft-delete with a custom retention.
        CustomizedRecoverable = "CustomizedRecoverable",
        /// Soft-delete with a custom retention, subscription protected.
        CustomizedRecoverableProtectedSubscription = "CustomizedRecoverable+ProtectedSubscription",
    }
}

open_enum! {
    /// The format of a certificate's secret (`contentType`).
    CertificateContentType {
        /// PKCS#12 (PFX), base64 in the secret value.
        Pkcs12 = "application/x-pkcs12",
        /// PEM text.
        Pem = "application/x-pem-file",
    }
}

open_enum! {
    /// The status of a certificate operation (`status`).
    CertificateOperationStatus {
        /// Still running.
        InProgress = "inProgress",
        /// Finished; the certificate exists.
        Completed = "completed",
        /// Failed; see the operation's `error`.
        Failed = "failed",
        /// Cancelled by a cancellation request.
        Cancelled = "cancelled",
    }
}

impl CertificateOperationStatus {
    /// Whether the operation is still running (case-insensitive, as the service is).
    pub fn is_in_progress(&self) -> bool {
        self.as_str().eq_ignore_ascii_case("inprogress")
    }

    /// Whether the operation completed (case-insensitive).
    pub fn is_completed(&self) -> bool {
        self.as_str().eq_ignore_ascii_case("completed")
    }

    /// Whether the operation was cancelled (either spelling, case-insensitive).
    pub fn is_cancelled(&self) -> bool {
        let s = self.as_str();
        s.eq_ignore_ascii_case("cancelled") || s.eq_ignore_ascii_case("canceled")
    }

    /// Whether the operation failed (case-insensitive).
    pub fn is_failed(&self) -> bool {
        self.as_str().eq_ignore_ascii_case("failed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_round_trip() {
        let v: KeyType = serde_json::from_str("\"RSA-QUANTUM\"").unwrap();
        assert_eq!(v, KeyType::Other("RSA-QUANTUM".into()));
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"RSA-QUANTUM\"");
        let v: KeyType = serde_json::from_str("\"EC-HSM\"").unwrap();
        assert_eq!(v, KeyType::EcHsm);
        assert!(CertificateOperationStatus::from("InProgress").is_in_progress());
        assert!(CertificateOperationStatus::from("canceled").is_cancelled());
    }
}
