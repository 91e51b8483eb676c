//! Property tests: every flow, fed arbitrary responses (statuses, headers, bodies), transport
//! errors and token answers, finishes within its bound without panicking, never sends a token
//! to a host that is not a subdomain of the token's resource, and never waits longer than its
//! configured maximum.

use std::time::Duration;

use http::header::AUTHORIZATION;
use http::Response;
use proptest::prelude::*;

use super::scenario::{response, t0, CHALLENGE};
use super::*;
use crate::auth::{AccessToken, Challenge, Session, SessionOptions, TokenRequest};
use crate::error::Error;
use crate::models::CertificatePolicy;
use crate::{ErrorKind, Vault};

const HOSTS: &[&str] =
    &["myvault.vault.azure.net", "hostvault.azure.net", "vault.evil.com", "myvault.vault.azure.net.evil.com"];

const CHALLENGES: &[&str] = &[
    CHALLENGE,
    r#"Bearer authorization="https://login.microsoftonline.com/t2", scope="https://evil.com/.default""#,
    r#"Bearer scope="https://vault.azure.net/.default""#,
    r#"Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZX19fQ==""#,
    r#"Basic realm="x", Bearer"#,
    "Bearer ===,,\"",
];

const RETRY_AFTER: &[&str] =
    &["0", "2", "10", "61", "100000", "Mon, 31 Oct 2022 23:20:35 GMT", "Fri, 31 Dec 9999 23:59:59 GMT", "soon"];

const BODIES: &[&str] = &[
    "",
    "not json",
    "{}",
    r#"{"error":{"code":"Throttled","message":"slow down"}}"#,
    r#"{"id":"https://myvault.vault.azure.net/certificates/c1/pending","issuer":{"name":"Self"},"status":"inProgress"}"#,
    r#"{"id":"https://myvault.vault.azure.net/certificates/c1/pending","issuer":{"name":"Self"},"status":"completed","target":"https://myvault.vault.azure.net/certificates/c1"}"#,
    r#"{"status":"completed","target":"https://evil.com/certificates/c1"}"#,
    r#"{"status":"failed","error":{"code":"x","message":"y"}}"#,
    r#"{"status":"cancelled"}"#,
    r#"{"issuer":{"name":"Unknown"},"status":"inProgress","csr":"MIIC"}"#,
    r#"{"id":"https://myvault.vault.azure.net/certificates/c1/v1","attributes":{"enabled":true}}"#,
    r#"{"recoveryId":"https://myvault.vault.azure.net/deletedcertificates/c1","id":"https://myvault.vault.azure.net/certificates/c1/v1"}"#,
    r#"{"value":[],"nextLink":"https://myvault.vault.azure.net/certificates?api-version=7.4&$skiptoken=a"}"#,
    r#"{"value":[],"nextLink":"https://evil.com/certificates?$skiptoken=a"}"#,
    r#"{"value":[{"id":"https://myvault.vault.azure.net/certificates/c1"}],"nextLink":null}"#,
];

const STATUSES: &[u16] =
    &[200, 201, 202, 204, 400, 401, 401, 401, 403, 404, 404, 408, 409, 429, 500, 501, 502, 503, 504];

#[derive(Debug, Clone)]
enum Event {
    Respond { status: u16, challenge: Option<usize>, retry_after: Option<usize>, body: usize },
    Fail { kind: u8, sent: bool },
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        4 => (0..STATUSES.len(), proptest::option::of(0..CHALLENGES.len()), proptest::option::of(0..RETRY_AFTER.len()), 0..BODIES.len())
            .prop_map(|(s, challenge, retry_after, body)| Event::Respond { status: STATUSES[s], challenge, retry_after, body }),
        1 => (0u8..4, any::<bool>()).prop_map(|(kind, sent)| Event::Fail { kind, sent }),
    ]
}

/// A token answer: valid for this many seconds from now (may be negative), or a failure.
fn token_answer() -> impl Strategy<Value = Option<i64>> {
    prop_oneof![4 => (-100i64..7200).prop_map(Some), 1 => Just(None)]
}

#[derive(Debug, Clone)]
struct Case {
    host: usize,
    preseed: bool,
    verify: bool,
    retries: u32,
    events: Vec<Event>,
    tokens: Vec<Option<i64>>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        0..HOSTS.len(),
        any::<bool>(),
        prop::bool::weighted(0.8),
        0u32..4,
        prop::collection::vec(event(), 0..40),
        prop::collection::vec(token_answer(), 0..6),
    )
        .prop_map(|(host, preseed, verify, retries, events, tokens)| Case {
            host,
            preseed,
            verify,
            retries,
            events,
            tokens,
        })
}

fn to_response(e: &Event) -> Input {
    match e {
        Event::Respond { status, challenge, retry_after, body } => {
            let mut pairs: Vec<(&str, &str)> = Vec::new();
            if let Some(c) = challenge {
                pairs.push(("www-authenticate", CHALLENGES[*c]));
            }
            if let Some(r) = retry_after {
                pairs.push(("retry-after", RETRY_AFTER[*r]));
            }
            let r: Response<Vec<u8>> = response(*status, &pairs, BODIES[*body]);
            Input::Response(r)
        }
        Event::Fail { kind, sent } => {
            let kind = [
                TransportErrorKind::Connect,
                TransportErrorKind::Timeout,
                TransportErrorKind::Tls,
                TransportErrorKind::Io,
            ][usize::from(*kind) % 4];
            Input::TransportError(TransportFailure::new(kind, *sent, "fault"))
        }
    }
}

struct Limits {
    max_wait: Duration,
}

/// Drives `flow` for at most `bound` steps; checks the token and wait properties on the way.
fn drive<F: Flow>(
    flow: &mut F,
    case: &Case,
    bound: u32,
    limits: &Limits,
) -> Result<Result<F::Output, Error>, TestCaseError> {
    let mut now = t0();
    let mut events = case.events.iter();
    let mut tokens = case.tokens.iter();
    let mut input = None;
    for _ in 0..=bound {
        match flow.step(now, input.take()) {
            Step::Send(request) => {
                if let Some(auth) = request.headers().get(AUTHORIZATION) {
                    let auth = auth.to_str().unwrap_or("");
                    let scope = auth.strip_prefix("Bearer tok-for-").unwrap_or("");
                    let resource_host = crate::auth::challenge::url_host(scope).unwrap_or_default();
                    let host = request.uri().host().unwrap_or("").to_ascii_lowercase();
                    prop_assert_eq!(request.uri().scheme_str(), Some("https"));
                    if case.verify {
                        prop_assert!(
                            host.ends_with(&format!(".{resource_host}")) && !resource_host.is_empty(),
                            "token for {} sent to {}",
                            scope,
                            host
                        );
                    }
                }
                input = Some(match events.next() {
                    Some(e) => to_response(e),
                    None => {
                        Input::TransportError(TransportFailure::new(TransportErrorKind::Tls, false, "end of script"))
                    }
                });
            }
            Step::WaitUntil(at, _) => {
                let wait = at.saturating_duration_since(now.instant);
                prop_assert!(wait <= limits.max_wait, "waited {:?} > {:?}", wait, limits.max_wait);
                now = now.advance_to(at);
                input = Some(Input::Woke);
            }
            Step::GetToken(TokenRequest { scopes, .. }) => {
                let answer = match tokens.next() {
                    Some(Some(secs)) => Ok(AccessToken::new(
                        format!("tok-for-{}", scopes.join(" ")),
                        now.utc + time::Duration::seconds(*secs),
                    )),
                    Some(None) => Err(Error::Authentication("credential unavailable".into())),
                    None => Ok(AccessToken::new(
                        format!("tok-for-{}", scopes.join(" ")),
                        now.utc + Duration::from_secs(3600),
                    )),
                };
                input = Some(Input::Token(answer));
            }
            Step::Done(result) => {
                if let Err(e) = &result {
                    prop_assert!(e.kind() != ErrorKind::Misuse, "flow hit its bound or was misdriven: {}", e);
                }
                return Ok(result);
            }
        }
    }
    Err(TestCaseError::fail(format!("no Done within {bound} steps")))
}

fn setup(case: &Case) -> (Session, Vault, FlowOptions) {
    let options = if case.verify {
        SessionOptions::default()
    } else {
        SessionOptions::default().verify_challenge_resource(false)
    };
    let session = Session::new(options);
    let url = format!("https://{}", HOSTS[case.host]);
    if case.preseed {
        let _ = session.preseed_challenge(&url, Challenge::new("https://vault.azure.net/.default", None));
    }
    let polling = PollOptions::create().max_polls(5).max_interval(Duration::from_secs(30));
    let flow_options = FlowOptions::default()
        .retry(RetryOptions::default().max_retries(case.retries).max_delay(Duration::from_secs(20)))
        .create_polling(polling.clone())
        .delete_recover_polling(polling);
    (session, Vault::new(&url).unwrap(), flow_options)
}

fn limits(options: &FlowOptions, session: &Session) -> Limits {
    Limits {
        max_wait: options
            .retry
            .max_delay
            .max(options.create_polling.max_interval)
            .max(options.delete_recover_polling.max_interval)
            .max(session.options().in_flight_poll),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn exchange_terminates_and_is_safe(case in case()) {
        let (session, vault, options) = setup(&case);
        let flows = VaultFlows::with_options(vault.clone(), session.clone(), options.clone());
        let mut flow = flows.call(vault.get_certificate("c1").unwrap());
        let bound = flow.max_steps();
        let _ = drive(&mut flow, &case, bound, &limits(&options, &session))?;
    }

    #[test]
    fn create_poller_terminates_and_is_safe(case in case()) {
        let (session, vault, options) = setup(&case);
        let flows = VaultFlows::with_options(vault, session.clone(), options.clone());
        let mut flow = flows.begin_create_certificate("c1", &CertificatePolicy::new("Self", "CN=x"), &Default::default()).unwrap();
        let bound = flow.max_steps();
        let _ = drive(&mut flow, &case, bound, &limits(&options, &session))?;
    }

    #[test]
    fn delete_and_recover_pollers_terminate_and_are_safe(case in case()) {
        let (session, vault, options) = setup(&case);
        let flows = VaultFlows::with_options(vault, session.clone(), options.clone());
        let mut delete = flows.begin_delete_certificate("c1").unwrap();
        let bound = delete.max_steps();
        let _ = drive(&mut delete, &case, bound, &limits(&options, &session))?;
        let mut recover = flows.begin_recover_deleted_certificate("c1").unwrap();
        let bound = recover.max_steps();
        let _ = drive(&mut recover, &case, bound, &limits(&options, &session))?;
    }

    #[test]
    fn pager_terminates_and_is_safe(case in case()) {
        let (session, vault, options) = setup(&case);
        let flows = VaultFlows::with_options(vault, session.clone(), options.clone());
        let mut pager = flows.list_properties_of_certificates(&Default::default()).unwrap();
        let bound = pager.max_steps_per_page();
        for _ in 0..3 {
            match drive(&mut pager, &case, bound, &limits(&options, &session))? {
                Ok(Some(_)) => continue,
                _ => break,
            }
        }
    }

    #[test]
    fn raw_send_request_terminates_and_is_safe(case in case(), method in 0usize..3) {
        let (session, vault, options) = setup(&case);
        let flows = VaultFlows::with_options(vault.clone(), session.clone(), options.clone());
        let method = [http::Method::GET, http::Method::POST, http::Method::PATCH][method].clone();
        let request = http::Request::builder()
            .method(method)
            .uri(format!("{}/certificates/c1/pending?api-version=7.4", vault.url()))
            .body(b"{}".to_vec())
            .unwrap();
        let mut flow = flows.send_request(request);
        let bound = flow.max_steps();
        let _ = drive(&mut flow, &case, bound, &limits(&options, &session))?;
    }

    #[test]
    fn token_flow_terminates(case in case()) {
        let credential = crate::auth::ManagedIdentityCredential::from_environment(|_| None, None);
        let retry = RetryOptions::default().max_retries(case.retries).max_delay(Duration::from_secs(20));
        let mut flow = credential.token_flow_with(&TokenRequest::new(vec!["https://vault.azure.net/.default".into()]), &retry).unwrap();
        let bound = flow.max_steps();
        let _ = drive(&mut flow, &case, bound, &Limits { max_wait: Duration::from_secs(20) })?;
    }
}
