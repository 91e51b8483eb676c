//! Turning responses into models or typed errors.

use http::{Response, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::{Error, ErrorDetail, ServiceError};
use crate::operation::Operation;
use crate::retry_after::RetryAfter;

/// Parses a 2xx JSON body into `T`; any other status becomes a typed [`Error`].
pub(crate) fn json<T: DeserializeOwned>(operation: Operation, response: &Response<Vec<u8>>) -> Result<T, Error> {
    if !response.status().is_success() {
        return Err(service_error(operation, response));
    }
    decode(response.status(), response.body())
}

/// [`json`] for a certificate bundle: the small reader first, serde for what it leaves
/// (see [`crate::models::reader`]).
pub(crate) fn certificate(
    operation: Operation,
    response: &Response<Vec<u8>>,
) -> Result<crate::models::KeyVaultCertificate, Error> {
    if response.status().is_success() {
        if let Some(certificate) =
            std::str::from_utf8(response.body()).ok().and_then(crate::models::reader::read_certificate)
        {
            return Ok(certificate);
        }
    }
    certificate_with_serde(operation, response)
}

/// [`certificate`]'s fallback, kept out of line: it is large and seldom runs.
#[cold]
#[inline(never)]
fn certificate_with_serde(
    operation: Operation,
    response: &Response<Vec<u8>>,
) -> Result<crate::models::KeyVaultCertificate, Error> {
    json(operation, response)
}

/// Decodes a JSON body, naming the JSON path where decoding stopped.
///
/// The body is decoded once without tracking the path (tracking copies every key); only when
/// that fails is it decoded again with the path tracked, to say where.
pub(crate) fn decode<T: DeserializeOwned>(status: StatusCode, body: &[u8]) -> Result<T, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::unexpected(status, "the body is empty, a JSON object was expected", body));
    }
    // JSON is UTF-8 text (RFC 8259); decoding it as text spares serde_json validating each
    // string on its own.
    let text = match std::str::from_utf8(body) {
        Ok(text) => text,
        Err(e) => {
            let reason = format!("the body is not UTF-8 text (invalid byte at offset {})", e.valid_up_to());
            return Err(Error::unexpected(status, reason, body));
        }
    };
    match serde_json::from_str(text) {
        Ok(value) => Ok(value),
        Err(first) => Err(Error::unexpected(status, decode_failure::<T>(text, first), body)),
    }
}

/// Why `text` is not a `T`, with the JSON path where decoding stopped when there is one.
#[cold]
fn decode_failure<T: DeserializeOwned>(text: &str, first: serde_json::Error) -> String {
    let mut de = serde_json::Deserializer::from_str(text);
    let error = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(_) => match de.end() {
            Err(e) => return format!("trailing data after the JSON body: {e}"),
            Ok(()) => return format!("the body is not the expected JSON: {first}"),
        },
        Err(e) => e,
    };
    let path = error.path().to_string();
    let inner = error.into_inner();
    if inner.is_eof() {
        format!("the JSON body is truncated ({inner})")
    } else if path == "." || path.is_empty() {
        format!("the body is not the expected JSON: {inner}")
    } else {
        format!("at JSON path `{path}`: {inner}")
    }
}

/// A 2xx with no body of interest (purge answers 204).
pub(crate) fn empty(operation: Operation, response: &Response<Vec<u8>>) -> Result<(), Error> {
    if response.status().is_success() {
        Ok(())
    } else {
        Err(service_error(operation, response))
    }
}

#[derive(Deserialize)]
struct WireErrorBody {
    error: Option<WireError>,
}

#[derive(Deserialize)]
struct WireError {
    code: Option<String>,
    message: Option<String>,
    innererror: Option<Box<WireError>>,
}

/// A header kept in an error for support requests: visible ASCII only, at most 256 bytes
/// (the rest is cut), so a hostile server cannot make errors huge or unprintable.
fn diagnostic_header(response: &Response<Vec<u8>>, name: &str) -> Option<String> {
    let value = response.headers().get(name)?.to_str().ok()?;
    Some(value[..value.len().min(256)].to_owned())
}

/// Builds the typed error for a non-success response. Never fails: a body that is not the
/// service's error JSON still gives a [`ServiceError`] with the status, and its text as message.
pub fn service_error(operation: Operation, response: &Response<Vec<u8>>) -> Error {
    let body = response.body();
    let mut error = ServiceError {
        status: response.status(),
        code: None,
        message: None,
        inner: Vec::new(),
        request_id: diagnostic_header(response, "x-ms-request-id"),
        region: diagnostic_header(response, "x-ms-keyvault-region"),
        service_version: diagnostic_header(response, "x-ms-keyvault-service-version"),
        retry_after: RetryAfter::from_headers(response.headers()).and_then(|r| r.as_delay()),
        permission: Some(operation.permission()),
    };
    match serde_json::from_slice::<WireErrorBody>(body) {
        Ok(WireErrorBody { error: Some(top) }) => {
            error.code = top.code;
            error.message = top.message;
            let mut next = top.innererror;
            while let Some(inner) = next {
                if error.inner.len() >= 16 {
                    break;
                }
                error.inner.push(ErrorDetail { code: inner.code, message: inner.message });
                next = inner.innererror;
            }
        }
        _ if !body.is_empty() => {
            let text = String::from_utf8_lossy(&body[..body.len().min(512)]);
            error.message = Some(text.chars().take(256).collect());
        }
        _ => {}
    }
    if error.code.is_none() {
        if let Some(code) = response.headers().get("x-ms-error-code").and_then(|v| v.to_str().ok()) {
            error.code = Some(code.to_owned());
        }
    }
    Error::Service(Box::new(error))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn response(status: u16, body: &str) -> Response<Vec<u8>> {
        Response::builder()
            .status(status)
            .header("x-ms-request-id", "abc")
            .header("retry-after", "3")
            .body(body.as_bytes().to_vec())
            .unwrap()
    }

    #[test]
    fn real_conflict_body_becomes_typed_error() {
        let r = response(
            409,
            r#"{"error":{"code":"Conflict","message":"Certificate x is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the certificate can only be recovered or purged.","innererror":{"code":"ObjectIsDeletedButRecoverable"}}}"#,
        );
        let e = service_error(Operation::CreateCertificate, &r);
        assert_eq!(e.kind(), ErrorKind::Conflict);
        assert_eq!(e.conflict_reason(), Some(crate::ConflictReason::DeletedButRecoverable));
        assert_eq!(e.request_id(), Some("abc"));
        assert_eq!(e.retry_after(), Some(std::time::Duration::from_secs(3)));
    }

    #[test]
    fn diagnostic_headers_are_kept_bounded_and_printable() {
        // The headers of a recorded 404 (cpp-KeyVaultCertificateClientTest.GetDeletedCertificate).
        let recorded = Response::builder()
            .status(404)
            .header("x-ms-request-id", "dd6f72e3-c9a2-4086-ada7-160ae16bcb54")
            .header("x-ms-keyvault-region", "westus2")
            .header("x-ms-keyvault-service-version", "1.9.150.1")
            .header("x-ms-keyvault-network-info", "conn_type=Ipv4;addr=24.22.157.72;act_addr_fam=InterNetwork;")
            .body(br#"{"error": {"code": "CertificateNotFound", "message": "Deleted Certificate not found: GetDeletedCertificate"}}"#.to_vec())
            .unwrap();
        let e = service_error(Operation::GetDeletedCertificate, &recorded);
        let service = e.service_error().unwrap();
        assert_eq!(service.region.as_deref(), Some("westus2"));
        assert_eq!(service.service_version.as_deref(), Some("1.9.150.1"));
        let text = e.to_string();
        assert!(text.ends_with("(x-ms-request-id: dd6f72e3-c9a2-4086-ada7-160ae16bcb54, region: westus2)"), "{text}");
        // The network-info header names the caller's address: not kept, not printed.
        assert!(!text.contains("24.22.157.72") && !format!("{e:?}").contains("24.22.157.72"), "{e:?}");

        let hostile = Response::builder()
            .status(500)
            .header("x-ms-request-id", "r".repeat(10_000))
            .header("x-ms-keyvault-region", http::HeaderValue::from_bytes(b"west\xffus").unwrap())
            .body(Vec::new())
            .unwrap();
        let e = service_error(Operation::GetCertificate, &hostile);
        assert_eq!(e.request_id().map(str::len), Some(256));
        assert_eq!(e.service_error().unwrap().region, None, "not visible ASCII: dropped, not mangled");
        assert!(!e.to_string().contains("region"), "{e}");
    }

    #[test]
    fn garbage_bodies_give_clear_errors() {
        let e = json::<serde_json::Value>(Operation::GetCertificate, &response(200, "")).unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
        let e = json::<crate::models::KeyVaultCertificate>(
            Operation::GetCertificate,
            &response(200, r#"{"id":"x","attributes":{"enabled":"#),
        )
        .unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
        let e = json::<crate::models::KeyVaultCertificate>(
            Operation::GetCertificate,
            &response(200, r#"{"attributes":{"enabled":"yes"}}"#),
        )
        .unwrap_err();
        assert!(e.to_string().contains("attributes.enabled"), "{e}");
        let e = json::<crate::models::KeyVaultCertificate>(
            Operation::GetCertificate,
            &response(200, r#"{"id":"x"} {"id":"y"}"#),
        )
        .unwrap_err();
        assert!(e.to_string().contains("trailing"), "{e}");
        let latin1 = http::Response::builder().status(200).body(b"{\"id\":\"caf\xe9\"}".to_vec()).unwrap();
        let e = json::<crate::models::KeyVaultCertificate>(Operation::GetCertificate, &latin1).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnexpectedResponse);
        assert!(e.to_string().contains("not UTF-8 text (invalid byte at offset 10)"), "{e}");
        let e = service_error(Operation::GetCertificate, &response(502, "<html>bad gateway</html>"));
        assert_eq!(e.kind(), ErrorKind::Service);
        assert!(e.to_string().contains("bad gateway"), "{e}");
    }
}
