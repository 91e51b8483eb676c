//! The one error type of `kvcerts-core`.
//!
//! Every failure is an [`Error`]; [`Error::kind`] tells what kind of failure it is without string
//! matching. Service errors keep the HTTP status, the Key Vault error code, the message, the
//! inner-error chain and the `x-ms-request-id`, so a user can quote them in a support request.

use std::fmt;
use std::time::Duration;

use http::StatusCode;

/// What kind of failure an [`Error`] is: the thing callers branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Client-side validation failed before any request was built.
    InvalidInput,
    /// The service answered 404 (the certificate, version, issuer or operation does not exist).
    NotFound,
    /// The service answered 409; see [`ServiceError::conflict_reason`].
    Conflict,
    /// The service answered 429 (or 503 with `Retry-After`) and the retry budget ran out.
    Throttled,
    /// The service answered 401 after authentication was attempted.
    Unauthorized,
    /// The service answered 403: the identity lacks the permission the operation needs.
    Forbidden,
    /// Any other non-success answer from the service (400, 5xx, …).
    Service,
    /// The response could not be understood: not JSON, wrong shape, truncated, too large.
    UnexpectedResponse,
    /// A security check refused to go on (token would leave for a host that was not verified,
    /// plain http, foreign `nextLink`, challenge resource mismatch).
    Security,
    /// Getting a token failed (identity endpoint error, credential unavailable).
    Authentication,
    /// The transport failed (connection refused, reset, timeout, TLS failure).
    Transport,
    /// A long-running operation ended without the expected result (failed, cancelled, deleted).
    OperationFailed,
    /// A flow was driven incorrectly (e.g. an input that does not answer the last step).
    Misuse,
}

/// Why the service answered 409 Conflict, from its error code, inner error and message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConflictReason {
    /// The name belongs to a certificate that is deleted but recoverable: recover or purge it.
    DeletedButRecoverable,
    /// The certificate is still being deleted; wait for the deletion to complete, then retry.
    BeingDeleted,
    /// Another operation on the pending certificate is in progress.
    PendingOperation,
    /// The name is already in use (e.g. restoring over an existing certificate).
    AlreadyExists,
    /// A conflict the client does not recognise.
    Other,
}

/// One level of the service's error chain (`error` and each `innererror`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ErrorDetail {
    /// The Key Vault error code, e.g. `CertificateNotFound`.
    pub code: Option<String>,
    /// The human-readable message.
    pub message: Option<String>,
}

/// A non-success answer from the service.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServiceError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The outermost error code (`error.code`), e.g. `Conflict` or `BadParameter`.
    pub code: Option<String>,
    /// The outermost error message.
    pub message: Option<String>,
    /// The inner errors, outermost first (`error.innererror`, then its `innererror`, …).
    pub inner: Vec<ErrorDetail>,
    /// The `x-ms-request-id` response header, for support requests.
    pub request_id: Option<String>,
    /// The `x-ms-keyvault-region` response header: the Azure region that answered.
    pub region: Option<String>,
    /// The `x-ms-keyvault-service-version` response header: the build of the service that
    /// answered.
    pub service_version: Option<String>,
    /// The wait the service asked for (`Retry-After`, `retry-after-ms`, `x-ms-retry-after-ms`).
    pub retry_after: Option<Duration>,
    /// The Key Vault permission the failed operation needs (e.g. `certificates/get`).
    pub permission: Option<&'static str>,
}

impl ServiceError {
    /// The innermost error code, which is often the most specific one
    /// (e.g. `ObjectIsDeletedButRecoverable` under `Conflict`).
    pub fn innermost_code(&self) -> Option<&str> {
        self.inner.iter().rev().find_map(|d| d.code.as_deref()).or(self.code.as_deref())
    }

    /// Whether any level of the error chain carries `code`.
    pub fn has_code(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code) || self.inner.iter().any(|d| d.code.as_deref() == Some(code))
    }

    /// For a 409, why the service refused.
    pub fn conflict_reason(&self) -> Option<ConflictReason> {
        if self.status != StatusCode::CONFLICT {
            return None;
        }
        let message = self.message.as_deref().unwrap_or("").to_ascii_lowercase();
        Some(if self.has_code("ObjectIsDeletedButRecoverable") || message.contains("deleted but recoverable") {
            ConflictReason::DeletedButRecoverable
        } else if self.has_code("ObjectIsBeingDeleted") || message.contains("being deleted") {
            ConflictReason::BeingDeleted
        } else if message.contains("pending certificate") || message.contains("sequential manner") {
            ConflictReason::PendingOperation
        } else if message.contains("already exists") {
            ConflictReason::AlreadyExists
        } else {
            ConflictReason::Other
        })
    }

    fn kind(&self) -> ErrorKind {
        match self.status {
            StatusCode::NOT_FOUND => ErrorKind::NotFound,
            StatusCode::CONFLICT => ErrorKind::Conflict,
            StatusCode::TOO_MANY_REQUESTS => ErrorKind::Throttled,
            StatusCode::UNAUTHORIZED => ErrorKind::Unauthorized,
            StatusCode::FORBIDDEN => ErrorKind::Forbidden,
            _ => ErrorKind::Service,
        }
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "service answered {}", self.status)?;
        if let Some(code) = &self.code {
            write!(f, " ({code})")?;
        }
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        for detail in &self.inner {
            if let Some(code) = &detail.code {
                write!(f, " [inner: {code}]")?;
            }
        }
        if self.status == StatusCode::FORBIDDEN {
            if let Some(permission) = self.permission {
                write!(
                    f,
                    "; the caller needs the `{permission}` permission (access policy) or an RBAC role that grants it"
                )?;
            }
        }
        if let Some(retry_after) = self.retry_after {
            write!(f, "; retry after {retry_after:?}")?;
        }
        match (&self.request_id, &self.region) {
            (Some(id), Some(region)) => write!(f, " (x-ms-request-id: {id}, region: {region})")?,
            (Some(id), None) => write!(f, " (x-ms-request-id: {id})")?,
            (None, Some(region)) => write!(f, " (region: {region})")?,
            (None, None) => {}
        }
        Ok(())
    }
}

/// A response that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnexpectedResponse {
    /// The HTTP status of the response.
    pub status: StatusCode,
    /// What was wrong, including the JSON path where parsing stopped when there is one.
    pub reason: String,
    /// The first bytes of the body (lossy UTF-8, at most 256 characters), for diagnosis.
    pub snippet: String,
}

impl UnexpectedResponse {
    /// Longest body excerpt kept in an error.
    pub const SNIPPET_LEN: usize = 256;

    /// Builds the error, keeping a short excerpt of `body`.
    pub fn new(status: StatusCode, reason: impl Into<String>, body: &[u8]) -> Self {
        let text = String::from_utf8_lossy(&body[..body.len().min(Self::SNIPPET_LEN * 4)]);
        let snippet: String = text.chars().take(Self::SNIPPET_LEN).collect();
        UnexpectedResponse { status, reason: reason.into(), snippet }
    }
}

/// Every failure in `kvcerts-core`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Client-side validation failed; no request was built.
    InvalidInput {
        /// What was invalid (e.g. `certificate name`, `vault URL`, `policy`).
        what: &'static str,
        /// Why, in words a user can act on.
        reason: String,
    },
    /// The service answered with an error.
    Service(Box<ServiceError>),
    /// The response could not be understood.
    UnexpectedResponse(Box<UnexpectedResponse>),
    /// A security check refused to go on; no token was sent.
    Security(String),
    /// Getting a token failed.
    Authentication(String),
    /// The transport failed.
    Transport {
        /// What the transport reported.
        message: String,
        /// Whether the request may have reached the service (false for connect failures).
        request_sent: bool,
    },
    /// A long-running operation ended without its expected result.
    OperationFailed(String),
    /// A flow was driven incorrectly.
    Misuse(String),
    /// An identity endpoint (Microsoft Entra ID, IMDS, App Service) refused to issue a token.
    Identity(Box<crate::auth::IdentityError>),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidInput { what, reason } => write!(f, "invalid {what}: {reason}"),
            Error::Service(e) => e.fmt(f),
            Error::UnexpectedResponse(e) => {
                write!(f, "unexpected response (HTTP {}): {}; body starts: {:?}", e.status, e.reason, e.snippet)
            }
            Error::Security(m) => write!(f, "refused for security: {m}"),
            Error::Authentication(m) => write!(f, "authentication failed: {m}"),
            Error::Transport { message, .. } => write!(f, "transport error: {message}"),
            Error::OperationFailed(m) => write!(f, "operation did not complete: {m}"),
            Error::Misuse(m) => write!(f, "flow misuse: {m}"),
            Error::Identity(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidInput { .. } => ErrorKind::InvalidInput,
            Error::Service(e) => e.kind(),
            Error::UnexpectedResponse(_) => ErrorKind::UnexpectedResponse,
            Error::Security(_) => ErrorKind::Security,
            Error::Authentication(_) => ErrorKind::Authentication,
            Error::Transport { .. } => ErrorKind::Transport,
            Error::OperationFailed(_) => ErrorKind::OperationFailed,
            Error::Misuse(_) => ErrorKind::Misuse,
            Error::Identity(_) => ErrorKind::Authentication,
        }
    }

    /// The HTTP status, for service errors and unexpected responses.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Service(e) => Some(e.status),
            Error::UnexpectedResponse(e) => Some(e.status),
            _ => None,
        }
    }

    /// The service error, when the service answered with one.
    pub fn service_error(&self) -> Option<&ServiceError> {
        match self {
            Error::Service(e) => Some(e),
            _ => None,
        }
    }

    /// The Key Vault error code (`error.code`), when the service sent one.
    pub fn code(&self) -> Option<&str> {
        self.service_error().and_then(|e| e.code.as_deref())
    }

    /// For a 409, why the service refused.
    pub fn conflict_reason(&self) -> Option<ConflictReason> {
        self.service_error().and_then(ServiceError::conflict_reason)
    }

    /// The wait the service asked for, when it asked for one.
    pub fn retry_after(&self) -> Option<Duration> {
        self.service_error().and_then(|e| e.retry_after)
    }

    /// The `x-ms-request-id` of the failed response.
    pub fn request_id(&self) -> Option<&str> {
        self.service_error().and_then(|e| e.request_id.as_deref())
    }

    pub(crate) fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidInput { what, reason: reason.into() }
    }

    pub(crate) fn unexpected(status: StatusCode, reason: impl Into<String>, body: &[u8]) -> Self {
        Error::UnexpectedResponse(Box::new(UnexpectedResponse::new(status, reason, body)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(status: u16, code: &str, message: &str, inner: &[&str]) -> ServiceError {
        ServiceError {
            status: StatusCode::from_u16(status).unwrap(),
            code: Some(code.into()),
            message: Some(message.into()),
            inner: inner.iter().map(|c| ErrorDetail { code: Some((*c).into()), message: None }).collect(),
            request_id: Some("rid".into()),
            region: None,
            service_version: None,
            retry_after: None,
            permission: Some("certificates/get"),
        }
    }

    #[test]
    fn conflict_reasons_come_from_codes_and_messages() {
        let deleted = service(
            409,
            "Conflict",
            "Certificate x is currently in a deleted but recoverable state",
            &["ObjectIsDeletedButRecoverable"],
        );
        assert_eq!(deleted.conflict_reason(), Some(ConflictReason::DeletedButRecoverable));
        assert_eq!(deleted.innermost_code(), Some("ObjectIsDeletedButRecoverable"));
        let deleting = service(409, "Conflict", "Certificate x is currently being deleted.", &[]);
        assert_eq!(deleting.conflict_reason(), Some(ConflictReason::BeingDeleted));
        let pending = service(409, "Conflict", "There was a conflict while deleting the pending certificate; perform operations against the pending certificate in a sequential manner", &[]);
        assert_eq!(pending.conflict_reason(), Some(ConflictReason::PendingOperation));
        assert_eq!(service(404, "CertificateNotFound", "x", &[]).conflict_reason(), None);
    }

    #[test]
    fn kinds_follow_status() {
        let e = Error::Service(Box::new(service(403, "Forbidden", "denied", &[])));
        assert_eq!(e.kind(), ErrorKind::Forbidden);
        let text = e.to_string();
        assert!(text.contains("certificates/get"), "{text}");
        assert!(text.contains("x-ms-request-id: rid"), "{text}");
        assert_eq!(Error::Service(Box::new(service(404, "CertificateNotFound", "x", &[]))).kind(), ErrorKind::NotFound);
        assert_eq!(Error::Service(Box::new(service(400, "BadParameter", "x", &[]))).kind(), ErrorKind::Service);
    }

    #[test]
    fn snippet_is_bounded() {
        let body = vec![b'a'; 10_000];
        let e = UnexpectedResponse::new(StatusCode::OK, "x", &body);
        assert_eq!(e.snippet.len(), UnexpectedResponse::SNIPPET_LEN);
    }
}
