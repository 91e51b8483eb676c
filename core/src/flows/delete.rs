//! `begin_delete_certificate` and `begin_recover_deleted_certificate`: one request, then poll
//! for the resource's existence until the service has caught up.
//!
//! - Delete: `DELETE /certificates/{name}` → [`DeletedCertificate`]; on a soft-delete vault
//!   (`recoveryId` present) poll `GET /deletedcertificates/{name}` while it answers 404; 2xx or
//!   403 (no `certificates/get` permission) ends it. Without soft-delete it is done at once.
//! - Recover: `POST /deletedcertificates/{name}/recover` → [`KeyVaultCertificate`]; poll
//!   `GET /certificates/{name}/` while it answers 404; 2xx or 403 ends it.
//!
//! The first poll goes out one [`PollOptions::interval`] (or the answer's `Retry-After`) after
//! the request, and so does each next one: the change takes a moment to show, and a poll sent at
//! once only gets the 404 the recordings show (`GET /deletedcertificates/{name}` right after the
//! `DELETE`).

use http::{Request, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::lro::{no_exchange_in_flight, Lro, LroOp, Stage};
use super::poller::{ContinuationState, PollOptions, PollerKind, PollerStatus};
use super::retry::RetryOptions;
use super::step::{Input, Now, Step};
use super::Flow;
use crate::auth::Session;
use crate::call::{Call, ResponseParser};
use crate::error::Error;
use crate::models::{DeletedCertificate, KeyVaultCertificate};
use crate::response::service_error;
use crate::vault::Vault;

/// What tells a deletion from a recovery.
struct ExistenceKind<T: 'static> {
    kind: PollerKind,
    /// What the out-of-polls error says is still in progress.
    in_progress: &'static str,
    /// The starting request.
    start: fn(&Vault, &str) -> Result<Call<T>, Error>,
    /// The poll, whose 2xx or 403 ends the wait.
    poll: fn(&Vault, &str) -> Result<Call<T>, Error>,
    /// Whether the start result calls for polling.
    needs_polling: fn(&T) -> bool,
}

static DELETE: ExistenceKind<DeletedCertificate> = ExistenceKind {
    kind: PollerKind::Delete,
    in_progress: "the deletion is",
    start: Vault::delete_certificate,
    poll: Vault::get_deleted_certificate,
    needs_polling: has_recovery_id,
};

static RECOVER: ExistenceKind<KeyVaultCertificate> = ExistenceKind {
    kind: PollerKind::Recover,
    in_progress: "the recovery is",
    start: Vault::recover_deleted_certificate,
    poll: Vault::get_certificate,
    needs_polling: |_: &KeyVaultCertificate| true,
};

fn has_recovery_id(deleted: &DeletedCertificate) -> bool {
    deleted.recovery_id.as_deref().is_some_and(|id| !id.is_empty())
}

/// What existence polling adds to the shared poller: the start result and how to read answers.
struct Existence<T: 'static> {
    kind: &'static ExistenceKind<T>,
    /// Parses the start response, and a 2xx poll when the start result is unknown (resumed).
    start_parser: ResponseParser<T>,
    poll_parser: ResponseParser<T>,
    result: Option<T>,
}

impl<T: Clone + Serialize + DeserializeOwned> Existence<T> {
    fn begin(
        kind: &'static ExistenceKind<T>,
        session: &Session,
        vault: &Vault,
        name: &str,
        retry: &RetryOptions,
        polling: &PollOptions,
    ) -> Result<Lro<Self>, Error> {
        let (request, start_parser) = (kind.start)(vault, name)?.into_parts();
        let (_, poll_parser) = (kind.poll)(vault, name)?.into_parts();
        let existence = Existence { kind, start_parser, poll_parser, result: None };
        Ok(Lro::new(session, vault, name, retry, polling, Some(request), existence))
    }

    fn resume(
        kind: &'static ExistenceKind<T>,
        session: &Session,
        vault: &Vault,
        continuation_token: &str,
        retry: &RetryOptions,
        polling: &PollOptions,
    ) -> Result<Lro<Self>, Error> {
        let state = ContinuationState::decode(continuation_token, kind.kind, vault)?;
        let (_, poll_parser) = (kind.poll)(vault, &state.name)?.into_parts();
        let (_, start_parser) = (kind.start)(vault, &state.name)?.into_parts();
        let result = match state.result {
            Some(value) => Some(
                serde_json::from_value(value)
                    .map_err(|e| Error::invalid("continuation token", format!("its result does not parse: {e}")))?,
            ),
            None => None,
        };
        let existence = Existence { kind, start_parser, poll_parser, result };
        Ok(Lro::new(session, vault, &state.name, retry, polling, None, existence))
    }

    fn on_poll(lro: &mut Lro<Self>, now: Now, response: Response<Vec<u8>>) -> Step<T> {
        let status = response.status();
        if status == StatusCode::NOT_FOUND {
            return lro.wait_for_poll(now, &response);
        }
        if status.is_success() || status == StatusCode::FORBIDDEN {
            if let Some(result) = lro.op.result.take() {
                return lro.finish(Ok(result));
            }
            // Resumed without the start result: the poll's answer is the result.
            let result = lro.op.poll_parser.parse(&response);
            return lro.finish(result);
        }
        let operation = lro.op.poll_parser.operation();
        lro.finish(Err(service_error(operation, &response)))
    }
}

impl<T: Clone + Serialize + DeserializeOwned> LroOp for Existence<T> {
    type Output = T;

    fn kind(&self) -> PollerKind {
        self.kind.kind
    }

    fn in_progress(&self) -> &'static str {
        self.kind.in_progress
    }

    fn token_result(&self) -> Option<serde_json::Value> {
        self.result.as_ref().and_then(|r| serde_json::to_value(r).ok())
    }

    fn poll_request(&self, vault: &Vault, name: &str) -> Result<Request<Vec<u8>>, Error> {
        (self.kind.poll)(vault, name).map(|c| c.into_parts().0)
    }

    fn on_response(lro: &mut Lro<Self>, now: Now, stage: Stage, response: Response<Vec<u8>>) -> Step<T> {
        match stage {
            Stage::Start => match lro.op.start_parser.parse(&response) {
                Ok(result) => {
                    let poll = (lro.op.kind.needs_polling)(&result);
                    lro.op.result = Some(result.clone());
                    if poll {
                        // The change takes a moment to show: wait one interval (or the
                        // `Retry-After` of the answer) before the first poll.
                        lro.wait_for_poll(now, &response)
                    } else {
                        lro.finish(Ok(result))
                    }
                }
                Err(e) => lro.finish(Err(e)),
            },
            Stage::Poll => Existence::on_poll(lro, now, response),
            Stage::Fetch => lro.finish(Err(no_exchange_in_flight())),
        }
    }
}

macro_rules! existence_poller {
    ($(#[$doc:meta])* $name:ident, $output:ty) => {
        $(#[$doc])*
        pub struct $name(Lro<Existence<$output>>);

        impl $name {
            /// Where the poller is.
            pub fn status(&self) -> PollerStatus {
                self.0.status()
            }

            /// The result of the starting request, once it arrived (the poller's final result;
            /// callers that do not need to wait may stop here).
            pub fn result(&self) -> Option<&$output> {
                self.0.op.result.as_ref()
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
                (!self.0.is_starting()).then(|| self.0.continuation_token())
            }

            /// The most steps this poller takes with a driver that answers every step.
            pub fn max_steps(&self) -> u32 {
                self.0.max_steps()
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
                self.0.debug(f, stringify!($name))
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

impl DeletePoller {
    /// Starts deleting `name`.
    pub fn begin(
        session: &Session,
        vault: &Vault,
        name: &str,
        retry: &RetryOptions,
        polling: &PollOptions,
    ) -> Result<Self, Error> {
        Existence::begin(&DELETE, session, vault, name, retry, polling).map(DeletePoller)
    }

    /// Resumes waiting for a deletion from [`DeletePoller::continuation_token`].
    pub fn resume(
        session: &Session,
        vault: &Vault,
        continuation_token: &str,
        retry: &RetryOptions,
        polling: &PollOptions,
    ) -> Result<Self, Error> {
        Existence::resume(&DELETE, session, vault, continuation_token, retry, polling).map(DeletePoller)
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
        Existence::begin(&RECOVER, session, vault, name, retry, polling).map(RecoverPoller)
    }

    /// Resumes waiting for a recovery from [`RecoverPoller::continuation_token`].
    pub fn resume(
        session: &Session,
        vault: &Vault,
        continuation_token: &str,
        retry: &RetryOptions,
        polling: &PollOptions,
    ) -> Result<Self, Error> {
        Existence::resume(&RECOVER, session, vault, continuation_token, retry, polling).map(RecoverPoller)
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
