//! One request driven through challenge authentication and retries.
//!
//! ```text
//!   start ──► challenge cached? ──no──► probe (no body, no token) ──401 + challenge──► verify ─┐
//!                 │ yes                                                                         │
//!                 ▼                                                                             │
//!           token cached? ──no──► GetToken ──► attach ──► Send ──► 2xx/4xx ──► Done            │
//!                 ▲ yes ───────────────────────┘            │                                  │
//!                 │                                          ├─ 401 + claims (once) ─► GetToken with claims
//!                 │                                          ├─ 401 + challenge (once) ─► drop token, verify, again
//!                 └──────────────────────────────────────────┴─ retryable ─► WaitUntil ─► again ◄┘
//! ```
//!
//! A token is attached only to an https request (or plain http to a loopback emulator when the
//! session allows it) whose origin has a challenge that passed verification; the probe never
//! carries the body.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderValue, Request, Response};

use super::retry::{is_idempotent, RetryOptions, RetryState, RetryStatuses};
use super::step::{already_done, unexpected_input, Input, Now, Step, StepBudget, TransportFailure, WaitReason};
use super::Flow;
use crate::auth::challenge::{claims_challenge, Challenge};
use crate::auth::session::{Acquire, ChallengeStep, Origin, Session};
use crate::auth::{AccessToken, TokenRequest};
use crate::call::{clone_request, copy_request, Call, ResponseParser};
use crate::error::Error;

/// The header a request's client-side id travels in; the service echoes it.
pub(crate) const X_MS_CLIENT_REQUEST_ID: http::HeaderName = http::HeaderName::from_static("x-ms-client-request-id");

/// What was sent last, to interpret its answer (and to send it again when asked to).
struct Sent {
    /// The `Authorization` value it carried; `None` for the unauthenticated probe.
    authorization: Option<HeaderValue>,
    token: Option<(Arc<TokenRequest>, u64)>,
}

impl Sent {
    fn is_probe(&self) -> bool {
        self.authorization.is_none()
    }
}

enum State {
    Start(Option<Error>),
    Sent(Sent),
    AwaitingToken(Arc<TokenRequest>),
    Waiting(Instant, WaitReason),
    Done,
}

/// The engine shared by [`Exchange`], [`SendRequest`](super::SendRequest) and the pollers and
/// pagers: its result is the final HTTP response, whatever its status.
pub(crate) struct Engine {
    session: Session,
    flow: u64,
    original: Request<Vec<u8>>,
    origin: Option<Arc<Origin>>,
    retry: RetryState,
    claims: Option<String>,
    cae_used: bool,
    rechallenged: bool,
    probes: u32,
    waited: Option<u64>,
    state: State,
    budget: StepBudget,
}

impl Engine {
    pub(crate) fn new(session: &Session, request: Request<Vec<u8>>, retry: &RetryOptions) -> Self {
        let idempotent = is_idempotent(request.method(), request.uri().path());
        Engine::with_idempotency(session, request, retry, idempotent)
    }

    pub(crate) fn with_idempotency(
        session: &Session,
        mut request: Request<Vec<u8>>,
        retry: &RetryOptions,
        idempotent: bool,
    ) -> Self {
        let flow = session.flow_id();
        // One id for the request and every attempt of it (probe, retries); a caller's own is kept.
        if let Some(id) = session.client_request_id(flow) {
            if let http::header::Entry::Vacant(slot) = request.headers_mut().entry(X_MS_CLIENT_REQUEST_ID) {
                slot.insert(id);
            }
        }
        let (origin, error) =
            match session.origin(request.uri()).and_then(|o| session.check_transport_security(&o).map(|_| o)) {
                Ok(o) => (Some(o), None),
                Err(e) => (None, Some(e)),
            };
        let retry = RetryState::new(retry.clone(), RetryStatuses::KeyVault, idempotent, flow);
        let budget = StepBudget::new(max_steps(session, &retry));
        Engine {
            session: session.clone(),
            flow,
            original: request,
            origin,
            retry,
            claims: None,
            cae_used: false,
            rechallenged: false,
            probes: 0,
            waited: None,
            state: State::Start(error),
            budget,
        }
    }

    /// The most steps this engine takes with a driver that answers every step.
    pub(crate) fn max_steps(&self) -> u32 {
        self.budget.max()
    }

    /// The request this engine sends (without authentication).
    pub(crate) fn request(&self) -> &Request<Vec<u8>> {
        &self.original
    }

    /// Whether the first step was taken.
    pub(crate) fn has_started(&self) -> bool {
        !matches!(self.state, State::Start(_))
    }

    /// Whether the engine finished.
    pub(crate) fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    pub(crate) fn step(&mut self, now: Now, input: Option<Input>) -> Step<Response<Vec<u8>>> {
        if matches!(self.state, State::Done) {
            return Step::Done(Err(already_done()));
        }
        if let Err(e) = self.budget.spend() {
            return self.finish(Err(e));
        }
        match (std::mem::replace(&mut self.state, State::Done), input) {
            (State::Done, _) => Step::Done(Err(already_done())),
            (State::Start(Some(e)), _) => self.finish(Err(e)),
            (State::Start(None), None | Some(Input::Woke)) => self.proceed(now),
            (State::Start(None), Some(other)) => {
                self.finish(Err(unexpected_input("no input on the first step", &other)))
            }
            (State::Sent(sent), None) => {
                let again = match &sent.authorization {
                    Some(value) => authorized(&self.original, value.clone()),
                    None => probe_request(&self.original),
                };
                self.state = State::Sent(sent);
                Step::Send(again)
            }
            (State::Sent(sent), Some(Input::Response(response))) => self.on_response(now, sent, response),
            (State::Sent(sent), Some(Input::TransportError(failure))) => self.on_transport_error(now, sent, failure),
            (State::Sent(_), Some(other)) => self.finish(Err(unexpected_input("Response or TransportError", &other))),
            (State::AwaitingToken(key), None) => {
                let request = TokenRequest::clone(&key);
                self.state = State::AwaitingToken(key);
                Step::GetToken(request)
            }
            (State::AwaitingToken(key), Some(Input::Token(result))) => self.on_token(now, key, result),
            (State::AwaitingToken(_), Some(other)) => self.finish(Err(unexpected_input("Token", &other))),
            (State::Waiting(until, reason), None | Some(Input::Woke)) => {
                if now.instant >= until {
                    self.proceed(now)
                } else {
                    self.state = State::Waiting(until, reason);
                    Step::WaitUntil(until, reason)
                }
            }
            (State::Waiting(..), Some(other)) => self.finish(Err(unexpected_input("Woke", &other))),
        }
    }

    fn finish(&mut self, result: Result<Response<Vec<u8>>, Error>) -> Step<Response<Vec<u8>>> {
        self.state = State::Done;
        self.session.release(self.flow);
        Step::Done(result)
    }

    fn wait(&mut self, until: Instant, reason: WaitReason) -> Step<Response<Vec<u8>>> {
        self.state = State::Waiting(until, reason);
        Step::WaitUntil(until, reason)
    }

    /// Finds the challenge and the token, then sends.
    fn proceed(&mut self, now: Now) -> Step<Response<Vec<u8>>> {
        let Some(origin) = self.origin.clone() else {
            return self.finish(Err(Error::Misuse("the request has no valid origin".into())));
        };
        match self.session.challenge_for(&origin, self.flow, now) {
            ChallengeStep::Wait(until) => self.wait(until, WaitReason::AuthInProgress),
            ChallengeStep::Discover => {
                self.probes += 1;
                if self.probes > self.retry.max_attempts().saturating_add(2) {
                    self.session.release(self.flow);
                    return self.finish(Err(Error::Authentication(format!(
                        "{} did not answer with a usable bearer challenge",
                        origin.key
                    ))));
                }
                let probe = probe_request(&self.original);
                self.retry.on_attempt(now);
                self.state = State::Sent(Sent { authorization: None, token: None });
                Step::Send(probe)
            }
            ChallengeStep::Known(request) => {
                let key = match &self.claims {
                    None => request,
                    Some(claims) => {
                        Arc::new(TokenRequest { claims: Some(claims.clone()), ..TokenRequest::clone(&request) })
                    }
                };
                match self.session.acquire(&key, self.flow, now, &mut self.waited) {
                    Acquire::Ready(token) => self.send_with(now, key, token),
                    Acquire::Fetch => {
                        let request = TokenRequest::clone(&key);
                        self.state = State::AwaitingToken(key);
                        Step::GetToken(request)
                    }
                    Acquire::Wait(until) => self.wait(until, WaitReason::AuthInProgress),
                    Acquire::Failed(e) => self.finish(Err(e)),
                }
            }
        }
    }

    fn send_with(&mut self, now: Now, key: Arc<TokenRequest>, token: AccessToken) -> Step<Response<Vec<u8>>> {
        let Some(origin) = &self.origin else {
            return self.finish(Err(Error::Misuse("the request has no valid origin".into())));
        };
        if let Err(e) = self.session.check_transport_security(origin) {
            return self.finish(Err(e));
        }
        if !token.is_valid_at(now.utc) {
            return self.finish(Err(Error::Authentication("the token expired before it could be sent".into())));
        }
        let Some(value) = token.header_value() else {
            return self.finish(Err(Error::Authentication(
                "the credential returned a token that is not a valid header value".into(),
            )));
        };
        let request = authorized(&self.original, value.clone());
        self.retry.on_attempt(now);
        self.state = State::Sent(Sent { authorization: Some(value), token: Some((key, token.fingerprint())) });
        Step::Send(request)
    }

    fn on_response(&mut self, now: Now, sent: Sent, response: Response<Vec<u8>>) -> Step<Response<Vec<u8>>> {
        let Some(origin) = self.origin.clone() else {
            return self.finish(Err(Error::Misuse("the request has no valid origin".into())));
        };
        let status = response.status();
        if sent.is_probe() {
            let challenge = if status == http::StatusCode::UNAUTHORIZED {
                Challenge::from_headers(response.headers())
            } else {
                None
            };
            let found = challenge.is_some();
            if let Err(e) = self.session.challenge_received(&origin, self.flow, challenge) {
                return self.finish(Err(e));
            }
            if found {
                return self.proceed(now);
            }
        } else if status == http::StatusCode::UNAUTHORIZED {
            if let Some((key, fingerprint)) = sent.token {
                if !self.cae_used {
                    if let Some(claims) = claims_challenge(response.headers()) {
                        self.cae_used = true;
                        self.claims = Some(claims);
                        return self.proceed(now);
                    }
                }
                if !self.rechallenged {
                    if let Some(challenge) = Challenge::from_headers(response.headers()) {
                        self.rechallenged = true;
                        self.claims = None;
                        self.session.reject_token(&key, fingerprint);
                        if let Err(e) = self.session.challenge_received(&origin, self.flow, Some(challenge)) {
                            return self.finish(Err(e));
                        }
                        return self.proceed(now);
                    }
                }
            }
            return self.finish(Ok(response));
        }
        match self.retry.after_status(now, status, response.headers()) {
            Some((until, reason)) => self.wait(until, reason),
            None => self.finish(Ok(response)),
        }
    }

    fn on_transport_error(&mut self, now: Now, sent: Sent, failure: TransportFailure) -> Step<Response<Vec<u8>>> {
        if sent.is_probe() {
            if let Some(origin) = self.origin.clone() {
                // Ends this flow's discovery; never fails without a challenge.
                let _ = self.session.challenge_received(&origin, self.flow, None);
            }
        }
        match self.retry.after_transport(now, &failure) {
            Some((until, reason)) => self.wait(until, reason),
            None => self.finish(Err(failure.into_error())),
        }
    }

    fn on_token(
        &mut self,
        now: Now,
        key: Arc<TokenRequest>,
        result: Result<AccessToken, Error>,
    ) -> Step<Response<Vec<u8>>> {
        match self.session.token_received(&key, self.flow, now, result) {
            Ok(token) => self.send_with(now, key, token),
            Err(e) => self.finish(Err(e)),
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if !matches!(self.state, State::Done) {
            self.session.release(self.flow);
        }
    }
}

/// `original` with its `Authorization` header.
fn authorized(original: &Request<Vec<u8>>, authorization: HeaderValue) -> Request<Vec<u8>> {
    let mut request = copy_request(original, 1);
    request.headers_mut().insert(AUTHORIZATION, authorization);
    request
}

/// The challenge probe: the request without body, body headers or authorization.
fn probe_request(original: &Request<Vec<u8>>) -> Request<Vec<u8>> {
    let mut probe = clone_request(original);
    probe.body_mut().clear();
    probe.headers_mut().remove(CONTENT_TYPE);
    probe.headers_mut().remove(CONTENT_LENGTH);
    probe.headers_mut().remove(AUTHORIZATION);
    probe
}

/// The step bound of an engine built with `session` and `retry`.
pub(crate) fn engine_max_steps(session: &Session, retry: &RetryOptions) -> u32 {
    max_steps(session, &RetryState::new(retry.clone(), RetryStatuses::KeyVault, true, 0))
}

/// Upper bound on the steps of one engine: every attempt may wait for a probe and a token
/// owned by another flow (at most `in_flight_timeout / in_flight_poll` wake-ups each), probe,
/// fetch a token, send and back off; plus the CAE and re-challenge rounds.
fn max_steps(session: &Session, retry: &RetryState) -> u32 {
    let options = session.options();
    let poll = options.in_flight_poll.max(Duration::from_millis(1));
    let waits = (options.in_flight_timeout.as_millis() / poll.as_millis()).min(100_000) as u32 + 2;
    let per_attempt = waits.saturating_mul(2).saturating_add(8);
    let attempts = retry.max_attempts().saturating_add(retry.max_attempts().saturating_add(2)).saturating_add(2);
    per_attempt.saturating_mul(attempts).saturating_add(8)
}

/// One [`Call`] driven through authentication and retries; finishes with the parsed result.
///
/// ```
/// use kvcerts_core::auth::Session;
/// use kvcerts_core::flows::{Exchange, RetryOptions};
/// use kvcerts_core::Vault;
///
/// let vault = Vault::new("https://myvault.vault.azure.net").unwrap();
/// let session = Session::default();
/// let flow = Exchange::new(&session, vault.get_certificate("c1").unwrap(), &RetryOptions::default());
/// # drop(flow);
/// ```
pub struct Exchange<T> {
    engine: Engine,
    parser: ResponseParser<T>,
}

impl<T> Exchange<T> {
    /// Drives `call` with `session`'s challenge and token caches and the retry options.
    pub fn new(session: &Session, call: Call<T>, retry: &RetryOptions) -> Self {
        let (request, parser) = call.into_parts();
        Exchange { engine: Engine::new(session, request, retry), parser }
    }

    /// The request (without authentication).
    pub fn request(&self) -> &Request<Vec<u8>> {
        self.engine.request()
    }

    /// The most steps this flow takes with a driver that answers every step.
    pub fn max_steps(&self) -> u32 {
        self.engine.max_steps()
    }

    /// Whether the flow finished.
    pub fn is_done(&self) -> bool {
        self.engine.is_done()
    }
}

impl<T> Flow for Exchange<T> {
    type Output = T;

    fn step(&mut self, now: Now, input: Option<Input>) -> Step<T> {
        match self.engine.step(now, input).pending() {
            Ok(step) => step,
            Err(Ok(response)) => Step::Done(self.parser.parse(&response)),
            Err(Err(e)) => Step::Done(Err(e)),
        }
    }
}

impl<T> std::fmt::Debug for Exchange<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exchange")
            .field("operation", &self.parser.operation())
            .field("method", self.engine.request().method())
            .field("uri", self.engine.request().uri())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::auth::{SessionOptions, TokenRequest};
    use crate::flows::scenario::{connect_error, response, t0, unauthorized, Answer, Driver};
    use crate::flows::{TransportErrorKind, TransportFailure};
    use crate::models::KeyVaultCertificate;
    use crate::{ErrorKind, Vault};

    const CERT: &str = r#"{"id":"https://myvault.vault.azure.net/certificates/c1/0123","attributes":{"enabled":true}}"#;

    fn vault() -> Vault {
        Vault::new("https://myvault.vault.azure.net").unwrap()
    }

    fn get(session: &Session) -> Exchange<KeyVaultCertificate> {
        Exchange::new(session, vault().get_certificate("c1").unwrap(), &RetryOptions::default())
    }

    fn bearer(r: &Request<Vec<u8>>) -> Option<&str> {
        r.headers().get(AUTHORIZATION).and_then(|v| v.to_str().ok())
    }

    #[test]
    fn every_attempt_of_a_request_carries_its_one_client_request_id() {
        let id =
            |r: &Request<Vec<u8>>| r.headers().get("x-ms-client-request-id").map(|v| v.to_str().unwrap().to_owned());
        let session = Session::new(SessionOptions::default().client_request_ids(7));
        let mut d =
            Driver::new([unauthorized().into(), response(503, &[], "").into(), response(200, &[], CERT).into()]);
        d.run(&mut get(&session)).unwrap();
        assert_eq!(d.sent.len(), 3, "probe, 503, retry");
        let first = id(&d.sent[0]).expect("an id");
        assert!(d.sent.iter().all(|r| id(r).as_ref() == Some(&first)), "one id for the probe and every retry");
        // A UUID in the version-4 layout.
        let groups: Vec<&str> = first.split('-').collect();
        assert_eq!(groups.iter().map(|g| g.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12], "{first}");
        assert!(first.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit() && !b.is_ascii_uppercase()), "{first}");
        assert!(groups[2].starts_with('4') && matches!(&groups[3][..1], "8" | "9" | "a" | "b"), "{first}");

        // The next request another; another seed, others again.
        let mut d = Driver::new([response(200, &[], CERT).into()]);
        d.run(&mut get(&session)).unwrap();
        let second = id(&d.sent[0]).unwrap();
        assert_ne!(second, first);
        let other = Session::new(SessionOptions::default().client_request_ids(8));
        other
            .preseed_challenge(
                "https://myvault.vault.azure.net",
                Challenge::new("https://vault.azure.net/.default", None),
            )
            .unwrap();
        let mut d = Driver::new([response(200, &[], CERT).into()]);
        d.run(&mut get(&other)).unwrap();
        assert!(![first.as_str(), second.as_str()].contains(&id(&d.sent[0]).unwrap().as_str()));

        // The caller's own id is kept; a session without a seed sends none.
        let mut call = vault().get_certificate("c1").unwrap();
        call.request_mut().headers_mut().insert("x-ms-client-request-id", HeaderValue::from_static("mine"));
        let mut d = Driver::new([response(200, &[], CERT).into()]);
        d.run(&mut Exchange::new(&session, call, &RetryOptions::default())).unwrap();
        assert_eq!(id(&d.sent[0]).as_deref(), Some("mine"));
        let plain = Session::default();
        let mut d = Driver::new([unauthorized().into(), response(200, &[], CERT).into()]);
        d.run(&mut get(&plain)).unwrap();
        assert!(d.sent.iter().all(|r| id(r).is_none()));
    }

    #[test]
    fn the_authorized_copy_keeps_every_header_and_adds_the_token() {
        let mut original = vault().get_certificate("c1").unwrap().into_parts().0;
        original.headers_mut().append("x-ms-tag", HeaderValue::from_static("one"));
        original.headers_mut().append("x-ms-tag", HeaderValue::from_static("two"));
        *original.body_mut() = b"{}".to_vec();
        let copy = authorized(&original, HeaderValue::from_static("Bearer t"));
        assert_eq!(copy.method(), original.method());
        assert_eq!(copy.uri(), original.uri());
        assert_eq!(copy.body(), original.body());
        assert_eq!(bearer(&copy), Some("Bearer t"));
        let mut expected = original.headers().clone();
        expected.insert(AUTHORIZATION, HeaderValue::from_static("Bearer t"));
        assert_eq!(copy.headers(), &expected);
    }

    #[test]
    fn first_call_probes_without_body_then_sends_with_token_and_body() {
        let session = Session::default();
        let call = vault()
            .create_certificate("c1", &crate::models::CertificatePolicy::new("Self", "CN=default"), &Default::default())
            .unwrap();
        let body_len = call.request().body().len();
        let mut flow = Exchange::new(&session, call, &RetryOptions::default());
        let op = r#"{"id":"https://myvault.vault.azure.net/certificates/c1/pending","issuer":{"name":"Self"},"status":"inProgress"}"#;
        let mut d = Driver::new([unauthorized().into(), response(202, &[("retry-after", "10")], op).into()]);
        let result = d.run(&mut flow).unwrap();
        assert!(result.is_in_progress());
        assert_eq!(d.kinds(), ["Send", "GetToken", "Send", "Done"]);
        assert!(d.sent[0].body().is_empty());
        assert!(d.sent[0].headers().get(CONTENT_TYPE).is_none());
        assert_eq!(bearer(&d.sent[0]), None);
        assert_eq!(d.sent[1].body().len(), body_len);
        assert_eq!(bearer(&d.sent[1]), Some("Bearer token-for-https://vault.azure.net/.default"));
        assert_eq!(
            d.token_requests,
            [TokenRequest::new(vec!["https://vault.azure.net/.default".into()])
                .tenant_id(Some("72f988bf-86f1-41af-91ab-2d7cd011db47".into()))]
        );
        // The challenge and token are cached: the next call is one round trip.
        let mut d = Driver::new([response(200, &[], CERT).into()]);
        d.run(&mut get(&session)).unwrap();
        assert_eq!(d.kinds(), ["Send", "Done"]);
    }

    #[test]
    fn preseeded_challenge_takes_one_round_trip_plus_token() {
        let session = Session::default();
        session
            .preseed_challenge(vault().url(), Challenge::new("https://vault.azure.net/.default", Some("t".into())))
            .unwrap();
        let mut d = Driver::new([response(200, &[], CERT).into()]);
        d.run(&mut get(&session)).unwrap();
        assert_eq!(d.kinds(), ["GetToken", "Send", "Done"]);
        assert_eq!(d.token_requests[0].tenant_id.as_deref(), Some("t"));
    }

    #[test]
    fn foreign_vault_host_gets_no_token() {
        for host in
            ["https://hostvault.azure.net", "https://vault.evil.com", "https://myvault.vault.azure.net.evil.com"]
        {
            let session = Session::default();
            let vault = Vault::new(host).unwrap();
            let mut flow = Exchange::new(&session, vault.get_certificate("c1").unwrap(), &RetryOptions::default());
            let mut d = Driver::new([unauthorized().into()]);
            let err = d.run(&mut flow).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Security, "{host}");
            let text = err.to_string();
            assert!(text.contains(vault.host()) && text.contains("\"vault.azure.net\""), "{text}");
            assert_eq!(d.kinds(), ["Send", "Done"]);
            assert!(d.sent.iter().all(|r| bearer(r).is_none()));
            assert!(session.challenge(host).is_none());
        }
    }

    #[test]
    fn verification_can_be_turned_off_for_an_emulator() {
        let session = Session::new(SessionOptions::emulator());
        let vault =
            Vault::with_options("http://127.0.0.1:8443", crate::VaultOptions::default().allow_insecure_loopback(true))
                .unwrap();
        let mut flow = Exchange::new(&session, vault.get_certificate("c1").unwrap(), &RetryOptions::default());
        let mut d = Driver::new([unauthorized().into(), response(200, &[], CERT).into()]);
        d.run(&mut flow).unwrap();
        assert!(bearer(&d.sent[1]).is_some());
    }

    #[test]
    fn plain_http_to_a_remote_host_is_refused() {
        let session = Session::new(SessionOptions::emulator());
        let request = Request::get("http://myvault.vault.azure.net/certificates?api-version=7.4").body(vec![]).unwrap();
        let mut flow = crate::flows::SendRequest::new(&session, request, &RetryOptions::default());
        let mut d = Driver::new([]);
        assert_eq!(d.run(&mut flow).unwrap_err().kind(), ErrorKind::Security);
        assert!(d.sent.is_empty());
    }

    #[test]
    fn cae_claims_challenge_gets_one_new_token_and_one_retry() {
        let session = Session::default();
        session.preseed_challenge(vault().url(), Challenge::new("https://vault.azure.net/.default", None)).unwrap();
        let encoded = "eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwidmFsdWUiOiIxNzI2MDc3NTk1In19fQ==";
        let cae = format!(
            r#"Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="{encoded}""#
        );
        let cae_401 = || response(401, &[("www-authenticate", &cae)], "");
        let mut d = Driver::new([cae_401().into(), response(200, &[], CERT).into()]);
        d.run(&mut get(&session)).unwrap();
        assert_eq!(d.kinds(), ["GetToken", "Send", "GetToken", "Send", "Done"]);
        assert_eq!(
            d.token_requests[1].claims.as_deref(),
            Some(r#"{"access_token":{"nbf":{"essential":true,"value":"1726077595"}}}"#)
        );
        // A second claims challenge is not followed again.
        let mut d = Driver::new([cae_401().into(), cae_401().into()]);
        let err = d.run(&mut get(&session)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unauthorized);
    }

    #[test]
    fn later_401_drops_the_token_and_redoes_the_exchange_once() {
        let session = Session::default();
        let mut d = Driver::new([unauthorized().into(), response(200, &[], CERT).into()]);
        d.run(&mut get(&session)).unwrap();
        let mut d = Driver::new([unauthorized().into(), response(200, &[], CERT).into()]);
        d.run(&mut get(&session)).unwrap();
        assert_eq!(d.kinds(), ["Send", "GetToken", "Send", "Done"]);
        let mut d = Driver::new([unauthorized().into(), unauthorized().into()]);
        let err = d.run(&mut get(&session)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unauthorized);
        assert_eq!(d.kinds(), ["Send", "GetToken", "Send", "Done"]);
    }

    #[test]
    fn retries_honour_retry_after_and_idempotency() {
        let session = Session::default();
        session.preseed_challenge(vault().url(), Challenge::new("https://vault.azure.net/.default", None)).unwrap();
        let throttled = response(
            429,
            &[("retry-after", "2")],
            r#"{"error":{"code":"Throttled","message":"Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached"}}"#,
        );
        let mut d = Driver::new([throttled.into(), connect_error(), response(200, &[], CERT).into()]);
        d.run(&mut get(&session)).unwrap();
        assert_eq!(d.kinds(), ["GetToken", "Send", "WaitUntil", "Send", "WaitUntil", "Send", "Done"]);
        assert_eq!(d.waits[0], Duration::from_secs(2));
        assert!(d.waits[1] <= Duration::from_millis(1600));

        // A create is not retried on 500 nor after the request was sent, but is on 503.
        let create = || {
            let call = vault()
                .create_certificate("c1", &crate::models::CertificatePolicy::new("Self", "CN=x"), &Default::default())
                .unwrap();
            Exchange::new(&session, call, &RetryOptions::default())
        };
        let mut d = Driver::new([response(500, &[], "").into()]);
        assert_eq!(d.run(&mut create()).unwrap_err().status(), Some(http::StatusCode::INTERNAL_SERVER_ERROR));
        let sent = TransportFailure::new(TransportErrorKind::Io, true, "reset");
        let mut d = Driver::new([Answer::Fail(sent)]);
        let err = d.run(&mut create()).unwrap_err();
        assert_eq!(err, Error::Transport { message: "io: reset".into(), request_sent: true });
        let mut d = Driver::new([response(503, &[], "").into(), response(202, &[], "{}").into()]);
        d.run(&mut create()).unwrap();

        // TLS failures are never retried; exhausted retries return the last response's error.
        let tls = TransportFailure::new(TransportErrorKind::Tls, false, "unknown issuer");
        let mut d = Driver::new([Answer::Fail(tls)]);
        assert_eq!(d.run(&mut get(&session)).unwrap_err().kind(), ErrorKind::Transport);
        let mut d = Driver::new((0..4).map(|_| response(503, &[], "").into()));
        assert_eq!(d.run(&mut get(&session)).unwrap_err().status(), Some(http::StatusCode::SERVICE_UNAVAILABLE));
        assert_eq!(d.sent.len(), 4);
    }

    #[test]
    fn token_failure_ends_the_flow() {
        let session = Session::default();
        let mut d = Driver::new([unauthorized().into()]);
        d.tokens.push_back(Err(Error::Authentication("AADSTS7000215: Invalid client secret provided.".into())));
        let err = d.run(&mut get(&session)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Authentication);
        assert_eq!(d.sent.len(), 1);
    }

    #[test]
    fn asking_twice_gives_the_same_answer_and_misuse_is_typed() {
        let session = Session::default();
        session.preseed_challenge(vault().url(), Challenge::new("https://vault.azure.net/.default", None)).unwrap();
        let now = t0();
        let mut flow = get(&session);
        let Step::GetToken(a) = flow.step(now, None) else { panic!() };
        let Step::GetToken(b) = flow.step(now, None) else { panic!() };
        assert_eq!(a, b);
        let token = AccessToken::new("t", now.utc + Duration::from_secs(3600));
        let Step::Send(r1) = flow.step(now, Some(Input::Token(Ok(token)))) else { panic!() };
        let Step::Send(r2) = flow.step(now, None) else { panic!() };
        assert_eq!(r1.uri(), r2.uri());
        let Step::WaitUntil(w1, _) = flow.step(now, Some(Input::Response(response(503, &[("retry-after", "5")], ""))))
        else {
            panic!()
        };
        let Step::WaitUntil(w2, _) = flow.step(now, Some(Input::Woke)) else { panic!() };
        assert_eq!(w1, w2);
        let Step::Done(Err(e)) = flow.step(now, Some(Input::Response(response(200, &[], CERT)))) else { panic!() };
        assert_eq!(e.kind(), ErrorKind::Misuse);
        let Step::Done(Err(e)) = flow.step(now, None) else { panic!() };
        assert_eq!(e.kind(), ErrorKind::Misuse);
    }

    #[test]
    fn expired_tokens_are_never_sent() {
        let session = Session::default();
        session.preseed_challenge(vault().url(), Challenge::new("https://vault.azure.net/.default", None)).unwrap();
        let mut d = Driver::new([]);
        d.tokens.push_back(Ok(AccessToken::new("old", d.now.utc)));
        let err = d.run(&mut get(&session)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Authentication);
        assert!(d.sent.is_empty());
    }

    /// 50 calls started together on a fresh session need one probe and one token.
    #[test]
    fn fifty_concurrent_calls_single_flight() {
        let session = Session::default();
        let mut flows: Vec<_> = (0..50).map(|_| get(&session)).collect();
        let mut inputs: Vec<Option<Input>> = (0..50).map(|_| None).collect();
        let mut waits: Vec<Option<Instant>> = vec![None; 50];
        let mut done = [false; 50];
        let mut pending_tokens: Vec<(usize, TokenRequest)> = Vec::new();
        let (mut probes, mut token_requests) = (0, 0);
        let mut now = t0();
        for _round in 0..10_000 {
            if done.iter().all(|d| *d) {
                break;
            }
            // Answer the token requests of the previous round (a slow credential).
            for (i, _req) in pending_tokens.drain(..) {
                inputs[i] = Some(Input::Token(Ok(AccessToken::new("tok", now.utc + Duration::from_secs(3600)))));
            }
            let mut progressed = false;
            for i in 0..50 {
                if done[i] || waits[i].is_some_and(|w| w > now.instant) {
                    continue;
                }
                if waits[i].take().is_some() {
                    inputs[i] = Some(Input::Woke);
                }
                progressed = true;
                match flows[i].step(now, inputs[i].take()) {
                    Step::Send(r) => {
                        if bearer(&r).is_none() {
                            probes += 1;
                            inputs[i] = Some(Input::Response(unauthorized()));
                        } else {
                            inputs[i] = Some(Input::Response(response(200, &[], CERT)));
                        }
                    }
                    Step::GetToken(req) => {
                        token_requests += 1;
                        pending_tokens.push((i, req));
                    }
                    Step::WaitUntil(at, _) => waits[i] = Some(at),
                    Step::Done(r) => {
                        r.unwrap();
                        done[i] = true;
                    }
                }
            }
            if !progressed && pending_tokens.is_empty() {
                now = now.advance_to(waits.iter().flatten().min().copied().unwrap_or(now.instant));
            }
        }
        assert!(done.iter().all(|d| *d));
        assert_eq!((probes, token_requests), (1, 1));
    }
}
