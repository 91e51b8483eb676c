//! The service's data, as Rust types with the names Key Vault users know from the other SDKs.
//!
//! Every model is forward compatible: unknown JSON fields are ignored, unknown enum values are
//! kept (`Other`) and written back unchanged. Fields the service may omit are `Option`s, and
//! `None` is never sent.

mod certificate;
mod contacts;
mod deletion;
mod download;
pub mod encoding;
mod enums;
mod issuer;
mod operation;
mod page;
mod params;
mod policy;
pub(crate) mod reader;
mod secret;

pub use certificate::{
    CertificateAttributes, CertificateBackup, CertificateProperties, DeletedCertificate, DeletedCertificateProperties,
    KeyVaultCertificate, PendingOperationRef,
};
pub use contacts::{CertificateContact, CertificateContacts};
pub use download::{DownloadedCertificate, PemCertificateWithKey};
pub use enums::{
    CertificateContentType, CertificateOperationStatus, CertificatePolicyAction, DeletionRecoveryLevel, KeyCurveName,
    KeyType, KeyUsageType,
};
pub use issuer::{
    AdministratorDetails, CertificateIssuer, IssuerAttributes, IssuerCredentials, IssuerProperties, OrganizationDetails,
};
pub use operation::{CertificateOperation, OperationError};
pub use page::Page;
pub use params::{
    CertificateOperationUpdateParameters, CreateCertificateParameters, ImportCertificateParameters,
    MergeCertificateParameters, RestoreCertificateParameters, UpdateCertificateParameters,
};
pub use policy::{
    BasicConstraints, CertificatePolicy, IssuerParameters, KeyProperties, LifetimeAction, LifetimeActionType,
    LifetimeTrigger, PlatformManaged, SecretProperties, SubjectAlternativeNames, X509CertificateProperties,
    ISSUER_SELF, ISSUER_UNKNOWN,
};
pub use secret::SecretString;
