//! `begin_delete_certificate` and `begin_recover_deleted_certificate`: one request, then poll
//! for the resource's existence until the service has caught up.
//!
//! - Delete: `DELETE /certificates/{name}` → [`DeletedCertificate`]; on a soft-delete vault
//!   (`recoveryId` present) poll `GET /deletedcertificates/{name}` while it answers 404; 2xx or
//!   403 (no `certificates/get` permission) ends it. Without soft-delete it is done at once.
//! - Recover: `POST /deletedcertificates/{name}/recover` → [`KeyVaultCertificate`]; poll
//!   `GET /certificates/{name}/` while it answers 404; 2xx or 403 ends it.
//!
//! The first poll goes out at once, then every [`PollOptions::interval`] (or `Retry-After`).

use std::time::Instant;

use http::{Request, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::exchange::Engine;
use super::poller::{poller_max_steps, too_many_polls, ContinuationState, PollOptions, PollerKind, PollerStatus};
use super::retry::RetryOptions;
use super::step::{already_done, unexpected_input, Input, Now, Step, StepBudget, WaitReason};
use super::Flow;
use crate::auth::Session;
use crate::call::ResponseParser;
use crate::error::Error;
use crate::models::{DeletedCertificate, KeyVaultCertificate};
use crate::response::service_error;
use crate::vault::Vault;

enum Phase {
    Start(Engine),
    PollNow,
    Waiting(Instant),
    Poll(Engine),
    Done,
}

/// The shared machinery: start, then existence polling.
struct ExistencePoller<T> {
    kind: PollerKind,
    session: Session,
    vault: Vault,
    name: String,
    retry: RetryOptions,
    polling: PollOptions,
    /// Parses the start response, and a 2xx poll when the start result is unknown (resumed).
    start_parser: ResponseParser<T>,
    poll_parser: ResponseParser<T>,
    needs_polling: fn(&T) -> bool,
    result: Option<T>,
    phase: Phase,
    polls: u32,
    budget: StepBudget,
}

impl<T: Clone + Serialize + DeserializeOwned> ExistencePoller<T> {
    #[allow(clippy::too_many_arguments)]
    fn new(
        kind: PollerKind,
        session: &Session,
        vault: &Vault,
        name: &str,
        retry: &RetryOptions,
        polling: &PollOptions,
        start: Option<Request<Vec<u8>>>,
        start_parser: ResponseParser<T>,
        poll_parser: ResponseParser<T>,
        needs_polling: fn(&T) -> bool,
    ) -> Self {
        ExistencePoller {
            kind,
            session: session.clone(),
            vault: vault.clone(),
            name: name.to_owned(),
            retry: retry.clone(),
            polling: polling.clone(),
            start_parser,
            poll_parser,
            needs_polling,
            result: None,
            phase: match start {
                Some(request) => Phase::Start(Engine::new(session, request, retry)),
                None => Phase::PollNow,
            },
            polls: 0,
            budget: StepBudget::new(poller_max_steps(session, retry, polling)),
        }
    }

    fn status(&self) -> PollerStatus {
        match &self.phase {
            Phase::Start(e) if e.has_started() => PollerStatus::Starting,
            Phase::Start(_) => PollerStatus::NotStarted,
            Phase::PollNow | Phase::Waiting(_) | Phase::Poll(_) => PollerStatus::InProgress,
            Phase::Done => PollerStatus::Done,
        }
    }

    fn continuation_token(&self) -> Option<String> {
        if matches!(self.phase, Phase::Start(_)) {
            return None;
        }
        let result = self.result.as_ref().and_then(|r| serde_json::to_value(r).ok());
        Some(ContinuationState::new(self.kind, &self.vault, &self.name, result).encode())
    }

    fn poll_request(&self) -> Result<Request<Vec<u8>>, Error> {
        match self.kind {
            PollerKind::Delete => self.vault.get_deleted_certificate(&self.name).map(|c| c.into_parts().0),
            _ => self.vault.get_certificate(&self.name).map(|c| c.into_parts().0),
        }
    }

    fn finish(&mut self, result: Result<T, Error>) -> Step<T> {
        self.phase = Phase::Done;
        Step::Done(result)
    }

    fn start_poll(&mut self, now: Now) -> Step<T> {
        self.polls += 1;
        if self.polls > self.polling.max_polls {
            let token = self.continuation_token().unwrap_or_default();
            let what = if self.kind == PollerKind::Delete { "the deletion is" } else { "the recovery is" };
            return self.finish(Err(too_many_polls(what, self.polling.max_polls, &token)));
        }
        match self.poll_request() {
            Ok(request) => {
                let mut engine = Engine::new(&self.session, request, &self.retry);
                let step = engine.step(now, None);
                self.phase = Phase::Poll(engine);
                self.on_engine_step(now, step)
            }
            Err(e) => self.finish(Err(e)),
        }
    }

    fn on_engine_step(&mut self, now: Now, step: Step<Response<Vec<u8>>>) -> Step<T> {
        match step.pending() {
            Ok(step) => step,
            Err(Err(e)) => self.finish(Err(e)),
            Err(Ok(response)) => match std::mem::replace(&mut self.phase, Phase::Done) {
                Phase::Start(_) => match self.start_parser.parse(&response) {
                    Ok(result) => {
                        let poll = (self.needs_polling)(&result);
                        self.result = Some(result.clone());
                        if poll {
                            // The change takes a moment to show: wait one interval (or the
                            // `Retry-After` of the answer) before the first poll.
                            let until = self.polling.next_poll(now, Some(response.headers()));
                            self.phase = Phase::Waiting(until);
                            Step::WaitUntil(until, WaitReason::Polling)
                        } else {
                            self.finish(Ok(result))
                        }
                    }
                    Err(e) => self.finish(Err(e)),
                },
                Phase::Poll(_) => self.on_poll(now, response),
                _ => self.finish(Err(Error::Misuse("internal: no exchange in flight".into()))),
            },
        }
    }

    fn on_poll(&mut self, now: Now, response: Response<Vec<u8>>) -> Step<T> {
        let status = response.status();
        if status == StatusCode::NOT_FOUND {
            let until = self.polling.next_poll(now, Some(response.headers()));
            self.phase = Phase::Waiting(until);
            return Step::WaitUntil(until, WaitReason::Polling);
        }
        if status.is_success() || status == StatusCode::FORBIDDEN {
            if let Some(result) = self.result.take() {
                return self.finish(Ok(result));
            }
            // Resumed without the start result: the poll's answer is the result.
            let result = self.poll_parser.parse(&response);
            return self.finish(result);
        }
        let operation = self.poll_parser.operation();
        self.finish(Err(service_error(operation, &response)))
    }

    fn step(&mut self, now: Now, input: Option<Input>) -> Step<T> {
        if matches!(self.phase, Phase::Done) {
            return Step::Done(Err(already_done()));
        }
        if let Err(e) = self.budget.spend() {
            return self.finish(Err(e));
        }
        match &mut self.phase {
            Phase::Start(engine) | Phase::Poll(engine) => {
                let step = engine.step(now, input);
                self.on_engine_step(now, step)
            }
            Phase::PollNow => match input {
                None | Some(Input::Woke) => self.start_poll(now),
                Some(other) => self.finish(Err(unexpected_input("no input on the first step", &other))),
            },
            Phase::Waiting(until) => {
                let until = *until;
                match input {
                    None | Some(Input::Woke) if now.instant >= until => self.start_poll(now),
                    None | Some(Input::Woke) => Step::WaitUntil(until, WaitReason::Polling),
                    Some(other) => self.finish(Err(unexpected_input("Woke", &other))),
                }
            }
            Phase::Done => Step::Done(Err(already_done())),
        }
    }

    fn resume_state(&mut self, state: ContinuationState) -> Result<(), Error> {
        if let Some(value) = state.result {
            let result = serde_json::from_value(value)
                .map_err(|e| Error::invalid("continuation token", format!("its result does not parse: {e}")))?;
            self.result = Some(result);
        }
        Ok(())
    }
}

macro_rules! existence_poller {
    ($(#[$doc:meta])* $name:ident, $output:ty) => {
        $(#[$doc])*
        pub struct $name(ExistencePoller<$output>);

        impl $name {
            /// Where the poller is.
            pub fn status(&self) -> PollerStatus {
                self.0.status()
            }

            /// The result of the starting request, once it arrived (the poller's final result;
            /// callers that do not need to wait may stop here).
            pub fn result(&self) -> Option<&$output> {
                self.0.result.as_ref()
            }

            /// The certificate name.
            pub fn name(&self) -> &str {
                &self.0.name
            }

            /// How many polls were sent.
            pub fn polls(&self) -> u32 {
                self.0.polls
            }

            /// The state to resume polling from, once the starting request succeeded.
            pub fn continuation_token(&self) -> Option<String> {
                self.0.continuation_token()
            }

            /// The most steps this poller takes with a driver that answers every step.
            pub fn max_steps(&self) -> u32 {
                self.0.budget.max()
            }
        }

        impl Flow for $name {
            type Output = $output;

            fn step(&mut self, now: Now, input: Option<Input>) -> Step<$output> {
                self.0.step(now, input)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("vault", &self.0.vault.url())
                    .field("name", &self.0.name)
                    .field("status", &self.0.status())
                    .field("polls", &self.0.polls)
                    .finish()
            }
        }
    };
}

existence_poller!(
    /// Deletes a certificate and waits until the deletion is visible; finishes with the
    /// [`DeletedCertificate`] the `DELETE` returned.
    DeletePoller,
    DeletedCertificate
);

existence_poller!(
    /// Recovers a deleted certificate and waits until it is readable; finishes with the
    /// [`KeyVaultCertificate`] the recover request returned.
    RecoverPoller,
    KeyVaultCertificate
);

fn has_recovery_id(deleted: &DeletedCertificate) -> bool {
    deleted.recovery_id.as_deref().is_some_and(|id| !id.is_empty())
}

impl DeletePoller {
    /// Starts deleting `name`.
    pub fn begin(
        session: &Session,
        vault: &Vault,
        name: &str,
        retry: &RetryOptions,
        polling: &PollOptions,
    ) -> Result<Self, Error> {
        let (request, start_parser) = vault.delete_certificate(name)?.into_parts();
        let (_, poll_parser) = vault.get_deleted_certificate(name)?.into_parts();
        Ok(DeletePoller(ExistencePoller::new(
            PollerKind::Delete,
            session,
            vault,
            name,
            retry,
            polling,
            Some(request),
            start_parser,
            poll_parser,
            has_recovery_id,
        )))
    }

    /// Resumes waiting for a deletion from [`DeletePoller::continuation_token`].
    pub fn resume(
        session: &Session,
        vault: &Vault,
        continuation_token: &str,
        retry: &RetryOptions,
        polling: &PollOptions,
    ) -> Result<Self, Error> {
        let state = ContinuationState::decode(continuation_token, PollerKind::Delete, vault)?;
        let (_, parser) = vault.get_deleted_certificate(&state.name)?.into_parts();
        let (_, start_parser) = vault.delete_certificate(&state.name)?.into_parts();
        let mut poller = ExistencePoller::new(
            PollerKind::Delete,
            session,
            vault,
            &state.name.clone(),
            retry,
            polling,
            None,
            start_parser,
            parser,
            has_recovery_id,
        );
        poller.resume_state(state)?;
        Ok(DeletePoller(poller))
    }
}

impl RecoverPoller {
    /// Starts recovering the deleted certificate `name`.
    pub fn begin(
        session: &Session,
        vault: &Vault,
        name: &str,
        retry: &RetryOptions,
        polling: &PollOptions,
    ) -> Result<Self, Error> {
        let (request, start_parser) = vault.recover_deleted_certificate(name)?.into_parts();
        let (_, poll_parser) = vault.get_certificate(name)?.into_parts();
        Ok(RecoverPoller(ExistencePoller::new(
            PollerKind::Recover,
            session,
            vault,
            name,
            retry,
            polling,
            Some(request),
            start_parser,
            poll_parser,
            |_: &KeyVaultCertificate| true,
        )))
    }

    /// Resumes waiting for a recovery from [`RecoverPoller::continuation_token`].
    pub fn resume(
        session: &Session,
        vault: &Vault,
        continuation_token: &str,
        retry: &RetryOptions,
        polling: &PollOptions,
    ) -> Result<Self, Error> {
        let state = ContinuationState::decode(continuation_token, PollerKind::Recover, vault)?;
        let (_, parser) = vault.get_certificate(&state.name)?.into_parts();
        let (_, start_parser) = vault.recover_deleted_certificate(&state.name)?.into_parts();
        let mut poller = ExistencePoller::new(
            PollerKind::Recover,
            session,
            vault,
            &state.name.clone(),
            retry,
            polling,
            None,
            start_parser,
            parser,
            |_: &KeyVaultCertificate| true,
        );
        poller.resume_state(state)?;
        Ok(RecoverPoller(poller))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::auth::Challenge;
    use crate::flows::scenario::{response, Driver};
    use crate::ErrorKind;

    const V: &str = "https://REDACTED.vault.azure.net";
    /// cpp-KeyVaultCertificateClientTest.GetDeletedCertificate.json, entries 4–6 and 8–10
    /// (cer shortened).
    const DELETED: &str = r#"{"recoveryId": "https://REDACTED.vault.azure.net/deletedcertificates/GetDeletedCertificate", "deletedDate": 1636058933, "scheduledPurgeDate": 1643834933, "id": "https://REDACTED.vault.azure.net/certificates/GetDeletedCertificate/d39d726decf64687afd9a916ab204254", "x5t": "9SQrUd1cyzcNqqdTuprM5-l6lVo", "cer": "MIIDAzCCAeugAwIBAgIQ", "attributes": {"enabled": true, "nbf": 1636058331, "exp": 1667594931, "created": 1636058931, "updated": 1636058931, "recoveryLevel": "Recoverable+Purgeable", "recoverableDays": 90}}"#;
    const DELETED_NOT_FOUND: &str = r#"{"error": {"code": "CertificateNotFound", "message": "Deleted Certificate not found: GetDeletedCertificate"}}"#;
    const NOT_FOUND: &str = r#"{"error": {"code": "CertificateNotFound", "message": "A certificate with (name/id) GetDeletedCertificate was not found in this key vault. If you recently deleted this certificate you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"}}"#;
    const CERT: &str = r#"{"id": "https://REDACTED.vault.azure.net/certificates/GetDeletedCertificate/d39d726decf64687afd9a916ab204254", "attributes": {"enabled": true}}"#;

    fn session() -> Session {
        let s = Session::default();
        s.preseed_challenge(V, Challenge::new("https://vault.azure.net/.default", None)).unwrap();
        s
    }

    fn vault() -> Vault {
        Vault::new(V).unwrap()
    }

    fn delete(session: &Session) -> DeletePoller {
        DeletePoller::begin(
            session,
            &vault(),
            "GetDeletedCertificate",
            &RetryOptions::default(),
            &PollOptions::delete_recover(),
        )
        .unwrap()
    }

    #[test]
    fn recorded_delete_polls_404_then_200() {
        let session = session();
        let mut poller = delete(&session);
        assert!(poller.continuation_token().is_none());
        let mut d = Driver::new([
            response(200, &[], DELETED).into(),
            response(404, &[], DELETED_NOT_FOUND).into(),
            response(200, &[], DELETED).into(),
        ]);
        let deleted = d.run(&mut poller).unwrap();
        assert_eq!(deleted.name().as_deref(), Some("GetDeletedCertificate"));
        assert_eq!(
            d.transcript,
            [
                "GetToken",
                "Send DELETE /certificates/GetDeletedCertificate",
                "WaitUntil",
                "Send GET /deletedcertificates/GetDeletedCertificate",
                "WaitUntil",
                "Send GET /deletedcertificates/GetDeletedCertificate",
                "Done"
            ]
        );
        assert_eq!(d.waits, [Duration::from_secs(2), Duration::from_secs(2)]);
        assert_eq!(poller.status(), PollerStatus::Done);
    }

    #[test]
    fn no_soft_delete_no_polling_and_403_ends() {
        let session = session();
        let no_recovery = DELETED.replace(
            r#""recoveryId": "https://REDACTED.vault.azure.net/deletedcertificates/GetDeletedCertificate", "#,
            "",
        );
        let mut d = Driver::new([response(200, &[], &no_recovery).into()]);
        d.run(&mut delete(&session)).unwrap();
        assert_eq!(d.sent.len(), 1);
        let mut d = Driver::new([
            response(200, &[], DELETED).into(),
            response(403, &[], r#"{"error":{"code":"Forbidden","message":"no get"}}"#).into(),
        ]);
        assert!(d.run(&mut delete(&session)).is_ok());
        // cpp-…DeleteWrongCertificate.json: deleting a missing certificate is an error.
        let mut d = Driver::new([response(404, &[], NOT_FOUND).into()]);
        assert_eq!(d.run(&mut delete(&session)).unwrap_err().kind(), ErrorKind::NotFound);
        let mut d = Driver::new([response(200, &[], DELETED).into(), response(400, &[], "").into()]);
        assert_eq!(d.run(&mut delete(&session)).unwrap_err().kind(), ErrorKind::Service);
    }

    #[test]
    fn recorded_recover_polls_404_then_200() {
        let session = session();
        let mut poller = RecoverPoller::begin(
            &session,
            &vault(),
            "GetDeletedCertificate",
            &RetryOptions::default(),
            &PollOptions::delete_recover(),
        )
        .unwrap();
        let mut d = Driver::new([
            response(200, &[], CERT).into(),
            response(404, &[], NOT_FOUND).into(),
            response(200, &[], CERT).into(),
        ]);
        d.run(&mut poller).unwrap();
        assert_eq!(
            d.transcript,
            [
                "GetToken",
                "Send POST /deletedcertificates/GetDeletedCertificate/recover",
                "WaitUntil",
                "Send GET /certificates/GetDeletedCertificate/",
                "WaitUntil",
                "Send GET /certificates/GetDeletedCertificate/",
                "Done"
            ]
        );
    }

    #[test]
    fn delete_resumes_with_its_result() {
        let session = session();
        let mut poller = delete(&session);
        let now = crate::flows::scenario::t0();
        let _ = poller.step(now, None); // GetToken
        let token = crate::auth::AccessToken::new("t", now.utc + Duration::from_secs(3600));
        let _ = poller.step(now, Some(Input::Token(Ok(token)))); // Send DELETE
        let step = poller.step(now, Some(Input::Response(response(200, &[], DELETED))));
        assert_eq!(step.kind(), "WaitUntil", "a wait before the first poll");
        let continuation = poller.continuation_token().unwrap();
        drop(poller);
        let mut resumed = DeletePoller::resume(
            &session,
            &vault(),
            &continuation,
            &RetryOptions::default(),
            &PollOptions::delete_recover(),
        )
        .unwrap();
        assert_eq!(
            resumed.result().unwrap().recovery_id.as_deref(),
            Some("https://REDACTED.vault.azure.net/deletedcertificates/GetDeletedCertificate")
        );
        let mut d = Driver::new([response(403, &[], "").into()]);
        let deleted = d.run(&mut resumed).unwrap();
        assert!(deleted.scheduled_purge_date.is_some());
        assert!(RecoverPoller::resume(
            &session,
            &vault(),
            &continuation,
            &RetryOptions::default(),
            &PollOptions::delete_recover()
        )
        .is_err());
    }
}
