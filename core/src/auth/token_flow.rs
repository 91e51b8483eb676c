//! [`TokenFlow`]: one token request to an identity endpoint, with retries, driven like every
//! other flow (it never asks for a token itself).

use std::fmt;
use std::time::Instant;

use http::{Request, Response};
use time::OffsetDateTime;

use super::token::AccessToken;
use crate::call::clone_request;
use crate::error::Error;
use crate::flows::retry::{RetryOptions, RetryState, RetryStatuses};
use crate::flows::{Flow, Input, Now, Step, WaitReason};

type Parser = Box<dyn Fn(&Response<Vec<u8>>, OffsetDateTime) -> Result<AccessToken, Error> + Send + Sync>;

enum State {
    Start,
    Sent,
    Waiting(Instant, WaitReason),
    Done,
}

/// Gets a token from an identity endpoint: `Send` the request (again after a retryable
/// failure), then `Done` with the token. Make one with a credential's `token_flow` method,
/// e.g. [`ClientSecretCredential::token_flow`](super::ClientSecretCredential::token_flow),
/// when a Key Vault flow returns [`Step::GetToken`].
pub struct TokenFlow {
    request: Request<Vec<u8>>,
    parse: Parser,
    retry: RetryState,
    state: State,
    steps: u32,
}

impl TokenFlow {
    pub(crate) fn new(
        request: Request<Vec<u8>>,
        retry: &RetryOptions,
        statuses: RetryStatuses,
        parse: impl Fn(&Response<Vec<u8>>, OffsetDateTime) -> Result<AccessToken, Error> + Send + Sync + 'static,
    ) -> Self {
        TokenFlow {
            request,
            parse: Box::new(parse),
            retry: RetryState::new(retry.clone(), statuses, true, 0),
            state: State::Start,
            steps: 0,
        }
    }

    /// The token request (its body holds the credential's secret: do not log it).
    pub fn request(&self) -> &Request<Vec<u8>> {
        &self.request
    }

    /// The most steps this flow takes: a send and a wait per attempt, and the result.
    pub fn max_steps(&self) -> u32 {
        self.retry.max_attempts().saturating_mul(2).saturating_add(2)
    }

    fn finish(&mut self, result: Result<AccessToken, Error>) -> Step<AccessToken> {
        self.state = State::Done;
        Step::Done(result)
    }

    fn send(&mut self, now: Now) -> Step<AccessToken> {
        self.retry.on_attempt(now);
        self.state = State::Sent;
        Step::Send(clone_request(&self.request))
    }
}

impl Flow for TokenFlow {
    type Output = AccessToken;

    fn step(&mut self, now: Now, input: Option<Input>) -> Step<AccessToken> {
        if matches!(self.state, State::Done) {
            return Step::Done(Err(Error::Misuse("the token flow already finished".into())));
        }
        self.steps += 1;
        if self.steps > self.max_steps().saturating_mul(4) {
            return self.finish(Err(Error::Misuse("the token flow exceeded its step bound".into())));
        }
        match (std::mem::replace(&mut self.state, State::Done), input) {
            (State::Start, None | Some(Input::Woke)) => self.send(now),
            (State::Sent, None) => {
                self.state = State::Sent;
                Step::Send(clone_request(&self.request))
            }
            (State::Sent, Some(Input::Response(response))) => {
                match self.retry.after_status(now, response.status(), response.headers()) {
                    Some((until, reason)) => {
                        self.state = State::Waiting(until, reason);
                        Step::WaitUntil(until, reason)
                    }
                    None => {
                        let result = (self.parse)(&response, now.utc);
                        self.finish(result)
                    }
                }
            }
            (State::Sent, Some(Input::TransportError(failure))) => match self.retry.after_transport(now, &failure) {
                Some((until, reason)) => {
                    self.state = State::Waiting(until, reason);
                    Step::WaitUntil(until, reason)
                }
                None => self.finish(Err(Error::Authentication(format!(
                    "the identity endpoint {} could not be reached: {}",
                    self.request.uri().host().unwrap_or(""),
                    failure.into_error()
                )))),
            },
            (State::Waiting(until, reason), None | Some(Input::Woke)) => {
                if now.instant >= until {
                    self.send(now)
                } else {
                    self.state = State::Waiting(until, reason);
                    Step::WaitUntil(until, reason)
                }
            }
            (_, Some(other)) => {
                self.finish(Err(Error::Misuse(format!("unexpected {} for a token flow", other.kind()))))
            }
            (State::Done, None) => Step::Done(Err(Error::Misuse("the token flow already finished".into()))),
        }
    }
}

impl fmt::Debug for TokenFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The body holds the secret: never print it.
        f.debug_struct("TokenFlow").field("method", self.request.method()).field("uri", self.request.uri()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{ManagedIdentityCredential, ManagedIdentitySource, TokenRequest};
    use crate::flows::scenario::{response, Driver};

    #[test]
    fn imds_is_retried_while_it_starts() {
        let c = ManagedIdentityCredential { source: ManagedIdentitySource::Imds, user_assigned: None };
        let mut flow = c
            .token_flow_with(
                &TokenRequest::new(vec!["https://vault.azure.net/.default".into()]),
                &RetryOptions::default(),
            )
            .unwrap();
        let mut d = Driver::new([
            response(410, &[], "").into(),
            response(200, &[], r#"{"access_token":"eyJ0","expires_in":"3600","token_type":"Bearer"}"#).into(),
        ]);
        let token = d.run(&mut flow).unwrap();
        assert_eq!(token.secret(), "eyJ0");
        assert_eq!(d.kinds(), ["Send", "WaitUntil", "Send", "Done"]);
        assert!(!format!("{flow:?}").contains("eyJ0"));
    }

    #[test]
    fn imds_waits_out_its_start_but_an_absent_endpoint_fails_at_once() {
        let c = ManagedIdentityCredential { source: ManagedIdentitySource::Imds, user_assigned: None };
        let kv = TokenRequest::new(vec!["https://vault.azure.net/.default".into()]);
        let ok = r#"{"access_token":"eyJ0","expires_in":"3600","token_type":"Bearer"}"#;
        // Six 410s (IMDS right after a VM starts), then the token.
        let mut answers: Vec<_> = (0..6).map(|_| response(410, &[], "").into()).collect();
        answers.push(response(200, &[], ok).into());
        let mut d = Driver::new(answers);
        let mut flow = c.token_flow(&kv).unwrap();
        assert_eq!(d.run(&mut flow).unwrap().secret(), "eyJ0");
        assert_eq!(d.kinds().iter().filter(|k| **k == "Send").count(), 7);
        // The default profile gives up after three retries.
        let mut answers: Vec<_> = (0..6).map(|_| response(410, &[], "").into()).collect();
        answers.push(response(200, &[], ok).into());
        let mut d = Driver::new(answers);
        let mut flow = c.token_flow_with(&kv, &RetryOptions::default()).unwrap();
        assert!(d.run(&mut flow).is_err());
        assert_eq!(d.kinds().iter().filter(|k| **k == "Send").count(), 4);

        // Nothing listening (not on Azure): one attempt, not six, so DefaultAzureCredential moves on.
        let mut d = Driver::new([crate::flows::scenario::connect_error()]);
        let mut flow = c.token_flow(&kv).unwrap();
        let e = d.run(&mut flow).unwrap_err();
        assert_eq!(d.kinds(), ["Send", "Done"], "{e}");
    }

    #[test]
    fn entra_errors_end_the_flow() {
        let c = crate::auth::ClientSecretCredential::new("t", "c", "secret-value");
        let mut flow = c
            .token_flow(&TokenRequest::new(vec!["https://vault.azure.net/.default".into()]), &RetryOptions::default())
            .unwrap();
        let mut d = Driver::new([response(
            400,
            &[],
            r#"{"error":"unauthorized_client","error_description":"AADSTS700016: Application with identifier 'c' was not found in the directory 't'.","error_codes":[700016]}"#,
        )
        .into()]);
        let e = d.run(&mut flow).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Authentication);
        assert!(e.to_string().contains("AADSTS700016"));
    }
}
