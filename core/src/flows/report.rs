//! What a driver logs about the steps it carries out: one line per exchange, one per wait.
//! Both transports log these lines, so their logs read the same. Nothing secret is in them:
//! no headers, no bodies, and no query value but the `api-version`.

use std::time::Duration;

use http::{Method, Response, Uri};

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

/// The debug line for one exchange: method, redacted URL, status or failure, duration,
/// `x-ms-request-id` and attempt number.
pub fn exchange_line(
    method: &Method,
    uri: &Uri,
    result: Result<&Response<Vec<u8>>, &TransportFailure>,
    elapsed: Duration,
    attempt: u32,
) -> String {
    let url = redacted_url(uri);
    let ms = elapsed.as_millis();
    match result {
        Ok(response) => {
            let request_id = response.headers().get("x-ms-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            format!(
                "{method} {url} -> {} in {ms} ms (x-ms-request-id: {request_id}, attempt {attempt})",
                response.status().as_u16()
            )
        }
        Err(failure) => {
            format!("{method} {url} -> {} error after {ms} ms: {} (attempt {attempt})", failure.kind, failure.message)
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
        let response = Response::builder().status(404).header("x-ms-request-id", "r1").body(Vec::new()).unwrap();
        let line = exchange_line(&Method::GET, &uri, Ok(&response), Duration::from_millis(12), 2);
        assert!(line.starts_with("GET https://v.vault.azure.net/certificates?api-version=7.4&"), "{line}");
        assert!(line.contains("-> 404 in 12 ms (x-ms-request-id: r1, attempt 2)"), "{line}");
        let failure = TransportFailure::new(TransportErrorKind::Connect, false, "refused");
        assert!(exchange_line(&Method::GET, &uri, Err(&failure), Duration::ZERO, 1).contains("connect error"));
        assert!(wait_line(WaitReason::Throttled, Duration::from_secs(1)).0);
        assert!(!wait_line(WaitReason::Polling, Duration::from_secs(1)).0);
    }
}
