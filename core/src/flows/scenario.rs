//! Test helpers: responses taken from the recordings, and a driver that answers a flow's steps
//! from a script in virtual time and keeps a transcript.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use http::{HeaderMap, HeaderValue, Request, Response};
use time::macros::datetime;

use super::step::{Input, Now, Step, TransportErrorKind, TransportFailure};
use super::Flow;
use crate::auth::AccessToken;
use crate::error::Error;

/// The origin of virtual time. Test code only: the one place core touches a clock, to get an
/// `Instant` value to count from (std offers no other way to make one); nothing waits on it.
pub(crate) fn t0() -> Now {
    Now::new(Instant::now(), datetime!(2022-10-31 23:20:25 UTC))
}

pub(crate) fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(http::header::HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
    }
    h
}

pub(crate) fn response(status: u16, pairs: &[(&str, &str)], body: &str) -> Response<Vec<u8>> {
    let mut r = Response::builder().status(status).body(body.as_bytes().to_vec()).unwrap();
    *r.headers_mut() = headers(pairs);
    r
}

/// The real challenge (net-VerifyDeleteRecoverPurge.json, entry 0).
pub(crate) const CHALLENGE: &str = r#"Bearer authorization="https://login.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47", resource="https://vault.azure.net""#;

pub(crate) fn unauthorized() -> Response<Vec<u8>> {
    response(
        401,
        &[("www-authenticate", CHALLENGE), ("content-type", "application/json; charset=utf-8")],
        r#"{"error":{"code":"Unauthorized","message":"AKV10000: Request is missing a Bearer or PoP token."}}"#,
    )
}

/// One scripted answer to a `Send`.
pub(crate) enum Answer {
    Respond(Response<Vec<u8>>),
    Fail(TransportFailure),
}

impl From<Response<Vec<u8>>> for Answer {
    fn from(r: Response<Vec<u8>>) -> Self {
        Answer::Respond(r)
    }
}

pub(crate) fn connect_error() -> Answer {
    Answer::Fail(TransportFailure::new(TransportErrorKind::Connect, false, "connection refused"))
}

/// Answers steps from a script, jumping virtual time to every deadline.
pub(crate) struct Driver {
    pub now: Now,
    pub answers: VecDeque<Answer>,
    /// Answers to `GetToken`; when empty, a token valid for an hour named after the scope.
    pub tokens: VecDeque<Result<AccessToken, Error>>,
    pub transcript: Vec<String>,
    pub sent: Vec<Request<Vec<u8>>>,
    pub token_requests: Vec<crate::auth::TokenRequest>,
    pub waits: Vec<Duration>,
}

impl Driver {
    pub(crate) fn new(answers: impl IntoIterator<Item = Answer>) -> Self {
        Driver {
            now: t0(),
            answers: answers.into_iter().collect(),
            tokens: VecDeque::new(),
            transcript: Vec::new(),
            sent: Vec::new(),
            token_requests: Vec::new(),
            waits: Vec::new(),
        }
    }

    pub(crate) fn run<F: Flow>(&mut self, flow: &mut F) -> Result<F::Output, Error> {
        let mut input = None;
        for _ in 0..100_000 {
            let step = flow.step(self.now, input.take());
            self.transcript.push(match &step {
                Step::Send(r) => format!("Send {} {}", r.method(), r.uri().path()),
                other => other.kind().to_string(),
            });
            match step {
                Step::Send(request) => {
                    self.sent.push(crate::call::clone_request(&request));
                    input = Some(match self.answers.pop_front() {
                        Some(Answer::Respond(r)) => Input::Response(r),
                        Some(Answer::Fail(f)) => Input::TransportError(f),
                        None => panic!("script exhausted; transcript: {:#?}", self.transcript),
                    });
                }
                Step::WaitUntil(at, _) => {
                    self.waits.push(at.saturating_duration_since(self.now.instant));
                    self.now = self.now.advance_to(at);
                    input = Some(Input::Woke);
                }
                Step::GetToken(request) => {
                    let answer = self.tokens.pop_front().unwrap_or_else(|| {
                        Ok(AccessToken::new(
                            format!("token-for-{}", request.scopes.join(" ")),
                            self.now.utc + Duration::from_secs(3600),
                        ))
                    });
                    self.token_requests.push(request);
                    input = Some(Input::Token(answer));
                }
                Step::Done(result) => return result,
            }
        }
        panic!("flow did not finish; transcript: {:#?}", self.transcript)
    }

    /// The step kinds only (`Send`, `GetToken`, `WaitUntil`, `Done`).
    pub(crate) fn kinds(&self) -> Vec<&str> {
        self.transcript.iter().map(|s| s.split(' ').next().unwrap_or("")).collect()
    }
}
