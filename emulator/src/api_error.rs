//! Errors in the shape Key Vault sends them: `{"error":{"code","message","innererror"}}`.

use http::StatusCode;
use serde_json::{json, Value};

/// The message suffix Key Vault appends to "not found" errors for certificates and secrets.
const RECOVER_HINT: &str = "If you recently deleted this certificate you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182";

/// A service error: HTTP status plus the Key Vault error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// `error.code`.
    pub code: String,
    /// `error.message`.
    pub message: String,
    /// `error.innererror.code`, when the service sends one.
    pub inner_code: Option<String>,
}

impl ApiError {
    /// An error with the given status, code and message.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError { status, code: code.to_string(), message: message.into(), inner_code: None }
    }

    /// Adds an `innererror` code.
    pub fn with_inner(mut self, code: &str) -> Self {
        self.inner_code = Some(code.to_string());
        self
    }

    /// 400 `BadParameter`.
    pub fn bad_parameter(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadParameter", message)
    }

    /// 400 for a body that is not the JSON the operation expects.
    pub fn bad_body(detail: impl std::fmt::Display) -> Self {
        Self::bad_parameter(format!("The request body is not valid: {detail}"))
    }

    /// 404 `CertificateNotFound` for an active certificate (name or name/version).
    pub fn certificate_not_found(name_or_id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "CertificateNotFound",
            format!("A certificate with (name/id) {name_or_id} was not found in this key vault. {RECOVER_HINT}"),
        )
    }

    /// 404 `CertificateNotFound` for a deleted certificate.
    pub fn deleted_certificate_not_found(name: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "CertificateNotFound", format!("Deleted Certificate not found: {name}"))
    }

    /// 404 `PendingCertificateNotFound`.
    pub fn pending_not_found(name: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "PendingCertificateNotFound", format!("Pending certificate not found: {name}"))
    }

    /// 404 `SecretNotFound`.
    pub fn secret_not_found(name_or_id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "SecretNotFound",
            format!(
                "A secret with (name/id) {name_or_id} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"
            ),
        )
    }

    /// 404 `CertificateIssuerNotFound`.
    pub fn issuer_not_found(name: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "CertificateIssuerNotFound", format!("Issuer not found: {name}"))
    }

    /// 404 `ContactsNotFound`.
    pub fn contacts_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "ContactsNotFound", "Contacts not found")
    }

    /// 409 `Conflict` / `ObjectIsDeletedButRecoverable`.
    pub fn deleted_but_recoverable(name: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "Conflict",
            format!(
                "Certificate {name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the certificate can only be recovered or purged."
            ),
        )
        .with_inner("ObjectIsDeletedButRecoverable")
    }

    /// 409 `Conflict` / `ObjectIsBeingDeleted`.
    pub fn being_deleted(name: &str) -> Self {
        Self::new(StatusCode::CONFLICT, "Conflict", format!("Certificate {name} is currently being deleted."))
            .with_inner("ObjectIsBeingDeleted")
    }

    /// 409 `Conflict` / `ObjectIsBeingRecovered`.
    pub fn being_recovered(name: &str) -> Self {
        Self::new(StatusCode::CONFLICT, "Conflict", format!("Certificate {name} is currently being recovered."))
            .with_inner("ObjectIsBeingRecovered")
    }

    /// 409 `Conflict` (generic).
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "Conflict", message)
    }

    /// 403 `Forbidden` for a disabled certificate's secret.
    pub fn secret_disabled() -> Self {
        Self::new(StatusCode::FORBIDDEN, "Forbidden", "Operation get is not allowed on a disabled secret.")
            .with_inner("SecretDisabled")
    }

    /// 500 `InternalServerError` (emulator bug or crypto failure).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError", message)
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(inner) = &self.inner_code {
            error["innererror"] = json!({ "code": inner });
        }
        json!({ "error": error })
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)
    }
}

impl std::error::Error for ApiError {}
