//! What a driver logs about the steps it carries out: one line per exchange, one per wait.
//! Both transports log these lines, so their logs read the same. Nothing secret is in them:
//! no headers but the request ids, no bodies, and no query value but the `api-version`.

use std::time::Duration;

use http::{HeaderValue, Method, Request, Response, Uri};

use super::exchange::X_MS_CLIENT_REQUEST_ID;
use super::step::{TransportFailure, WaitReason};

/// The URL for logs: scheme, host and path, with every query value but `api-version` hidden.
pub fn redacted_url(uri: &Uri) -> String {
    let mut out = String::new();
    if let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) {
        out.push_str(scheme);
        out.push_str("://");
        out.push_str(authority.as_str());
    }
    out.push_str(uri.path());
    if let Some(query) = uri.query() {
        for (i, pair) in query.split('&').enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            match pair.split_once('=') {
                Some(("api-version", v)) => {
                    out.push_str("api-version=");
                    out.push_str(v);
                }
                Some((k, _)) => {
                    out.push_str(k);
                    out.push_str("=REDACTED");
                }
                None => out.push_str(pair),
            }
        }
    }
    out
}

/// What the log line of an exchange needs from its request, taken before the request is
/// handed to the transport (which consumes it).
#[derive(Debug, Clone)]
pub struct Sending {
    method: Method,
    uri: Uri,
    client_request_id: Option<HeaderValue>,
}

impl Sending {
    /// Takes the method, the URL and the `x-ms-client-request-id` of `request`.
    pub fn of<B>(request: &Request<B>) -> Self {
        Sending {
            method: request.method().clone(),
            uri: request.uri().clone(),
            client_request_id: request.headers().get(X_MS_CLIENT_REQUEST_ID).cloned(),
        }
    }

    /// The debug line for the exchange: method, redacted URL, status or failure, duration,
    /// `x-ms-request-id` (the service's id of the request), `x-ms-client-request-id` (ours,
    /// which also names a request that got no answer) and attempt number.
    pub fn line(
        &self,
        result: Result<&Response<Vec<u8>>, &TransportFailure>,
        elapsed: Duration,
        attempt: u32,
    ) -> String {
        let (method, url, ms) = (&self.method, redacted_url(&self.uri), elapsed.as_millis());
        let client_id = match self.client_request_id.as_ref().and_then(|v| v.to_str().ok()) {
            Some(id) => format!("x-ms-client-request-id: {id}, "),
            None => String::new(),
        };
        match result {
            Ok(response) => {
                let request_id = response.headers().get("x-ms-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                format!(
                    "{method} {url} -> {} in {ms} ms (x-ms-request-id: {request_id}, {client_id}attempt {attempt})",
                    response.status().as_u16()
                )
            }
            Err(failure) => format!(
                "{method} {url} -> {} error after {ms} ms: {} ({client_id}attempt {attempt})",
                failure.kind, failure.message
            ),
        }
    }
}

/// The line for a wait, and whether it is worth a warning (retries and throttling are).
pub fn wait_line(reason: WaitReason, wait: Duration) -> (bool, String) {
    let ms = wait.as_millis();
    match reason {
        WaitReason::Retry => (true, format!("retrying in {ms} ms")),
        WaitReason::Throttled => (true, format!("throttled by the service; retrying in {ms} ms")),
        other => (false, format!("waiting {ms} ms ({other:?})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::TransportErrorKind;

    #[test]
    fn lines_hide_query_values_and_say_what_happened() {
        let uri: Uri =
            "https://v.vault.azure.net/certificates?api-version=7.4&$skiptoken=abc&maxresults=5".parse().unwrap();
        assert_eq!(
            redacted_url(&uri),
            "https://v.vault.azure.net/certificates?api-version=7.4&$skiptoken=REDACTED&maxresults=REDACTED"
        );
        let request = Request::get(uri.clone())
            .header("x-ms-client-request-id", "c1")
            .header("authorization", "Bearer secret-token")
            .body(Vec::<u8>::new())
            .unwrap();
        let sending = Sending::of(&request);
        let response = Response::builder().status(404).header("x-ms-request-id", "r1").body(Vec::new()).unwrap();
        let line = sending.line(Ok(&response), Duration::from_millis(12), 2);
        assert!(line.starts_with("GET https://v.vault.azure.net/certificates?api-version=7.4&"), "{line}");
        assert!(
            line.contains("-> 404 in 12 ms (x-ms-request-id: r1, x-ms-client-request-id: c1, attempt 2)"),
            "{line}"
        );
        let failure = TransportFailure::new(TransportErrorKind::Connect, false, "refused");
        let line = sending.line(Err(&failure), Duration::ZERO, 1);
        assert!(line.contains("connect error") && line.contains("(x-ms-client-request-id: c1, attempt 1)"), "{line}");
        assert!(!format!("{line}{sending:?}").contains("secret-token"), "only the id of all the headers is kept");
        // Without an id, the line does not mention one.
        let plain = Sending::of(&Request::get(uri.clone()).body(()).unwrap());
        let line = plain.line(Ok(&response), Duration::from_millis(3), 1);
        assert!(line.ends_with("(x-ms-request-id: r1, attempt 1)"), "{line}");
        assert!(wait_line(WaitReason::Throttled, Duration::from_secs(1)).0);
        assert!(!wait_line(WaitReason::Polling, Duration::from_secs(1)).0);
    }
}
