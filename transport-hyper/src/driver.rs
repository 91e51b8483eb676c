//! The async driver loop: answers each step of a core flow with IO. The same loop as the
//! blocking client's, with `.await`s.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kvcerts_core::flows::{Flow, Input, Now, Step, WaitReason};
use kvcerts_core::Error;
use time::OffsetDateTime;

use crate::credential::TokenCredential;
use crate::sender::Sender;

/// Sends requests, sleeps, and asks the credential for tokens, as flows ask.
pub(crate) struct Driver {
    sender: Sender,
    credential: Arc<dyn TokenCredential>,
}

/// The current time from the system clocks (the only clock reads of this crate).
pub(crate) fn now() -> Now {
    Now::new(Instant::now(), OffsetDateTime::now_utc())
}

impl Driver {
    pub(crate) fn new(sender: Sender, credential: Arc<dyn TokenCredential>) -> Self {
        Driver { sender, credential }
    }

    /// Drives `flow` to its end.
    ///
    /// Cancel-safe in the sense the core flows need: dropping the future drops the request in
    /// flight; a flow that owned the session's challenge probe or token fetch releases it when
    /// the flow itself is dropped, and a flow kept alive (a poller, a pager) is asked again
    /// with no input next time, which repeats its last duty.
    pub(crate) async fn run<F: Flow>(&self, flow: &mut F) -> Result<F::Output, Error> {
        let mut input = None;
        let mut attempt = 0u32;
        loop {
            match flow.step(now(), input.take()) {
                Step::Done(result) => return result,
                Step::WaitUntil(at, reason) => {
                    log_wait(at, reason);
                    self.sender.runtime().sleep_until(at).await;
                    input = Some(Input::Woke);
                }
                Step::Send(request) => input = Some(self.send(request, &mut attempt).await),
                Step::GetToken(request) => input = Some(Input::Token(self.credential.get_token(&request).await)),
            }
        }
    }

    /// Drives `flow` until it finishes (`Some`) or asks to wait between polls (`None`; the
    /// next call sleeps, then goes on).
    pub(crate) async fn run_until_wait<F: Flow>(&self, flow: &mut F) -> Option<Result<F::Output, Error>> {
        let mut input = None;
        let mut attempt = 0u32;
        let mut sent = false;
        loop {
            match flow.step(now(), input.take()) {
                Step::Done(result) => return Some(result),
                Step::WaitUntil(_, WaitReason::Polling) if sent => return None,
                Step::WaitUntil(at, reason) => {
                    log_wait(at, reason);
                    self.sender.runtime().sleep_until(at).await;
                    input = Some(Input::Woke);
                }
                Step::Send(request) => {
                    sent = true;
                    input = Some(self.send(request, &mut attempt).await);
                }
                Step::GetToken(request) => input = Some(Input::Token(self.credential.get_token(&request).await)),
            }
        }
    }

    async fn send(&self, request: http::Request<Vec<u8>>, attempt: &mut u32) -> Input {
        *attempt += 1;
        let method = request.method().clone();
        let url = redacted_url(request.uri());
        let started = Instant::now();
        let result = self.sender.send(request).await;
        let elapsed = started.elapsed();
        match result {
            Ok(response) => {
                let request_id = response.headers().get("x-ms-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                log::debug!(
                    "{method} {url} -> {} in {} ms (x-ms-request-id: {request_id}, attempt {attempt})",
                    response.status().as_u16(),
                    elapsed.as_millis()
                );
                Input::Response(response)
            }
            Err(failure) => {
                log::debug!(
                    "{method} {url} -> {} error after {} ms: {} (attempt {attempt})",
                    failure.kind,
                    elapsed.as_millis(),
                    failure.message
                );
                Input::TransportError(failure)
            }
        }
    }
}

fn log_wait(at: Instant, reason: WaitReason) {
    let wait = at.saturating_duration_since(Instant::now());
    match reason {
        WaitReason::Retry => log::warn!("retrying in {} ms", wait.as_millis()),
        WaitReason::Throttled => log::warn!("throttled by the service; retrying in {} ms", wait.as_millis()),
        _ => log::trace!("waiting {} ms ({reason:?})", wait.as_millis()),
    }
}

/// The URL for logs: scheme, host and path, with every query value but `api-version` hidden.
///
/// Same rule as `kvcerts-ureq`'s driver; a candidate for core (pure logic).
pub(crate) fn redacted_url(uri: &http::Uri) -> String {
    let mut out = String::new();
    if let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) {
        out.push_str(scheme);
        out.push_str("://");
        out.push_str(authority.as_str());
    }
    out.push_str(uri.path());
    if let Some(query) = uri.query() {
        let mut first = true;
        for pair in query.split('&') {
            out.push(if first { '?' } else { '&' });
            first = false;
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

/// How long to wait for a process or token before giving up, shared by credentials.
pub(crate) const DEFAULT_CREDENTIAL_TIMEOUT: Duration = Duration::from_secs(30);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_in_logs_hide_query_values() {
        let uri: http::Uri =
            "https://v.vault.azure.net/certificates?api-version=7.4&$skiptoken=abc&maxresults=5".parse().unwrap();
        assert_eq!(
            redacted_url(&uri),
            "https://v.vault.azure.net/certificates?api-version=7.4&$skiptoken=REDACTED&maxresults=REDACTED"
        );
    }
}
