//! `begin_create_certificate`: `POST …/create`, poll `GET …/pending`, then `GET` the
//! operation's `target`.

use http::{Request, Response};

use super::lro::{Lro, LroOp, Stage};
use super::poller::{ContinuationState, PollOptions, PollerKind, PollerStatus};
use super::retry::RetryOptions;
use super::step::{Input, Now, Step};
use super::Flow;
use crate::auth::Session;
use crate::call::ResponseParser;
use crate::error::Error;
use crate::models::{CertificateOperation, CertificatePolicy, KeyVaultCertificate};
use crate::operation::Operation;
use crate::requests::CreateCertificateOptions;
use crate::response::{self, service_error};
use crate::vault::Vault;

/// How a certificate creation ended. Every end is an outcome, not an error: an error is
/// returned only when a request itself failed (e.g. the create was refused with 400).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CreateOutcome {
    /// The certificate was created.
    Completed(Box<KeyVaultCertificate>),
    /// The operation failed; its `error` says why.
    Failed(Box<CertificateOperation>),
    /// The operation was cancelled.
    Cancelled(Box<CertificateOperation>),
    /// The operation was deleted (`GET …/pending` answered 404).
    Deleted,
    /// The issuer is `Unknown`: the certificate waits for a merge. Sign the CSR
    /// ([`CertificateOperation::csr_pem`]) and merge; polling would never end.
    AwaitingMerge(Box<CertificateOperation>),
    /// The operation ended with a status this client does not know.
    UnknownStatus(Box<CertificateOperation>),
}

impl CreateOutcome {
    /// The certificate, or an [`ErrorKind::OperationFailed`](crate::ErrorKind) error that says
    /// how the creation ended otherwise (with the service's error message when there is one).
    pub fn into_certificate(self) -> Result<KeyVaultCertificate, Error> {
        let detail = self
            .operation()
            .and_then(|o| o.error.as_ref().and_then(|e| e.message.clone()).or_else(|| o.status_details.clone()))
            .unwrap_or_default();
        Err(Error::OperationFailed(match self {
            CreateOutcome::Completed(certificate) => return Ok(*certificate),
            CreateOutcome::Failed(_) => format!("the certificate creation failed: {detail}"),
            CreateOutcome::Cancelled(_) => "the certificate creation was cancelled".into(),
            CreateOutcome::Deleted => "the certificate operation was deleted".into(),
            CreateOutcome::AwaitingMerge(_) => {
                "the certificate waits for a merge (issuer Unknown): sign its CSR and call merge_certificate".into()
            }
            CreateOutcome::UnknownStatus(_) => {
                format!("the certificate creation ended without a certificate: {detail}")
            }
        }))
    }

    /// The certificate, when the creation completed.
    pub fn certificate(&self) -> Option<&KeyVaultCertificate> {
        match self {
            CreateOutcome::Completed(c) => Some(c),
            _ => None,
        }
    }

    /// The last operation seen, for every outcome that has one.
    pub fn operation(&self) -> Option<&CertificateOperation> {
        match self {
            CreateOutcome::Failed(o)
            | CreateOutcome::Cancelled(o)
            | CreateOutcome::AwaitingMerge(o)
            | CreateOutcome::UnknownStatus(o) => Some(o),
            _ => None,
        }
    }
}

/// Creates a certificate and polls the operation to its end. Resumable from
/// [`CreatePoller::continuation_token`] (the vault and the certificate name).
pub struct CreatePoller(Lro<Creation>);

/// What creation adds to the shared poller: the operation and how to read it.
struct Creation {
    operation: Option<CertificateOperation>,
    operation_parser: ResponseParser<CertificateOperation>,
}

impl CreatePoller {
    /// Starts creating `name` with `policy` (the policy is validated first).
    pub fn begin(
        session: &Session,
        vault: &Vault,
        name: &str,
        policy: &CertificatePolicy,
        options: &CreateCertificateOptions,
        retry: &RetryOptions,
        polling: &PollOptions,
    ) -> Result<Self, Error> {
        let (request, operation_parser) = vault.create_certificate(name, policy, options)?.into_parts();
        let creation = Creation { operation: None, operation_parser };
        Ok(CreatePoller(Lro::new(session, vault, name, retry, polling, Some(request), creation)))
    }

    /// Resumes polling a creation from a continuation token (or
    /// [`CreatePoller::for_certificate`]'s name): the first step polls at once.
    pub fn resume(
        session: &Session,
        vault: &Vault,
        continuation_token: &str,
        retry: &RetryOptions,
        polling: &PollOptions,
    ) -> Result<Self, Error> {
        let state = ContinuationState::decode(continuation_token, PollerKind::Create, vault)?;
        CreatePoller::for_certificate(session, vault, &state.name, retry, polling)
    }

    /// Polls the pending creation of `name` (already started, e.g. by another process).
    pub fn for_certificate(
        session: &Session,
        vault: &Vault,
        name: &str,
        retry: &RetryOptions,
        polling: &PollOptions,
    ) -> Result<Self, Error> {
        let (_, operation_parser) = vault.get_certificate_operation(name)?.into_parts();
        let creation = Creation { operation: None, operation_parser };
        Ok(CreatePoller(Lro::new(session, vault, name, retry, polling, None, creation)))
    }

    /// Where the poller is.
    pub fn status(&self) -> PollerStatus {
        self.0.status()
    }

    /// The last operation state received.
    pub fn operation(&self) -> Option<&CertificateOperation> {
        self.0.op.operation.as_ref()
    }

    /// The certificate name.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// How many times `…/pending` was polled.
    pub fn polls(&self) -> u32 {
        self.0.polls
    }

    /// The state to resume from: the vault and the certificate name.
    pub fn continuation_token(&self) -> String {
        self.0.continuation_token()
    }

    /// The most steps this poller takes with a driver that answers every step.
    pub fn max_steps(&self) -> u32 {
        self.0.max_steps()
    }
}

impl LroOp for Creation {
    type Output = CreateOutcome;

    fn kind(&self) -> PollerKind {
        PollerKind::Create
    }

    fn in_progress(&self) -> &'static str {
        "the certificate creation is"
    }

    fn token_result(&self) -> Option<serde_json::Value> {
        None
    }

    fn poll_request(&self, vault: &Vault, name: &str) -> Result<Request<Vec<u8>>, Error> {
        vault.get_certificate_operation(name).map(|c| c.into_parts().0)
    }

    fn on_response(lro: &mut Lro<Self>, now: Now, stage: Stage, response: Response<Vec<u8>>) -> Step<CreateOutcome> {
        match stage {
            Stage::Start => {
                if !response.status().is_success() {
                    return lro.finish(Err(service_error(Operation::CreateCertificate, &response)));
                }
                Creation::on_operation(lro, now, &response)
            }
            Stage::Poll => {
                if response.status() == http::StatusCode::NOT_FOUND {
                    return lro.finish(Ok(CreateOutcome::Deleted));
                }
                if !response.status().is_success() {
                    return lro.finish(Err(service_error(Operation::GetCertificateOperation, &response)));
                }
                Creation::on_operation(lro, now, &response)
            }
            Stage::Fetch => {
                let result = response::certificate(Operation::GetCertificate, &response);
                lro.finish(result.map(|c| CreateOutcome::Completed(Box::new(c))))
            }
        }
    }
}

impl Creation {
    fn on_operation(lro: &mut Lro<Self>, now: Now, response: &Response<Vec<u8>>) -> Step<CreateOutcome> {
        let op = match lro.op.operation_parser.parse(response) {
            Ok(op) => op,
            Err(e) => return lro.finish(Err(e)),
        };
        lro.op.operation = Some(op.clone());
        if op.is_awaiting_merge() {
            return lro.finish(Ok(CreateOutcome::AwaitingMerge(Box::new(op))));
        }
        let status = op.status.clone();
        match status {
            None if op.error.is_none() => lro.wait_for_poll(now, response),
            Some(s) if s.is_in_progress() => lro.wait_for_poll(now, response),
            Some(s) if s.is_completed() => Creation::fetch(lro, now, &op),
            Some(s) if s.is_cancelled() => lro.finish(Ok(CreateOutcome::Cancelled(Box::new(op)))),
            Some(s) if s.is_failed() => lro.finish(Ok(CreateOutcome::Failed(Box::new(op)))),
            _ if op.error.is_some() => lro.finish(Ok(CreateOutcome::Failed(Box::new(op)))),
            _ => lro.finish(Ok(CreateOutcome::UnknownStatus(Box::new(op)))),
        }
    }

    fn fetch(lro: &mut Lro<Self>, now: Now, op: &CertificateOperation) -> Step<CreateOutcome> {
        // The operation's `target`, when it points at this vault; else the latest version.
        let request = match op.target.as_deref().filter(|t| lro.vault.is_same_origin(t)) {
            Some(target) => lro.vault.request_to_link(target),
            None => lro.vault.get_certificate(&lro.name).map(|c| c.into_parts().0),
        };
        lro.send(now, Stage::Fetch, request)
    }
}

impl Flow for CreatePoller {
    type Output = CreateOutcome;

    fn step(&mut self, now: Now, input: Option<Input>) -> Step<CreateOutcome> {
        self.0.step(now, input)
    }
}

impl std::fmt::Debug for CreatePoller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.debug(f, "CreatePoller")
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::auth::Challenge;
    use crate::flows::scenario::{response, unauthorized, Driver};
    use crate::ErrorKind;

    const V: &str = "https://REDACTED.vault.azure.net";
    /// Bodies from cpp-KeyVaultCertificateClientTest.CreateCertificate.json (csr/cer shortened).
    const IN_PROGRESS: &str = r#"{"id": "https://REDACTED.vault.azure.net/certificates/CreateCertificate/pending", "issuer": {"name": "Self"}, "csr": "MIICfzCCAWcCAQAwDjEM", "cancellation_requested": false, "status": "inProgress", "status_details": "Pending certificate created. Certificate request is in progress. This may take some time based on the issuer provider. Please check again later.", "request_id": "810025c09b9c4ea78d6edefb43517995"}"#;
    const COMPLETED: &str = r#"{"id": "https://REDACTED.vault.azure.net/certificates/CreateCertificate/pending", "issuer": {"name": "Self"}, "csr": "MIICfzCCAWcCAQAwDjEM", "cancellation_requested": false, "status": "completed", "target": "https://REDACTED.vault.azure.net/certificates/CreateCertificate", "request_id": "810025c09b9c4ea78d6edefb43517995"}"#;
    const CERT: &str = r#"{"id": "https://REDACTED.vault.azure.net/certificates/CreateCertificate/8838738fd6b14e2196728afba1f0b904", "x5t": "1Nnwp-etSDsHqoeGYtba3V6Hm8w", "cer": "MIIDAzCCAeugAwIBAgIQ", "attributes": {"enabled": true, "nbf": 1663695930, "exp": 1695232530, "created": 1663696530, "updated": 1663696530, "recoveryLevel": "Recoverable+Purgeable", "recoverableDays": 90}, "tags": {}, "pending": {"id": "https://REDACTED.vault.azure.net/certificates/CreateCertificate/pending"}}"#;
    /// net-VerifyCertificateOperationError.json, entry 3 (csr shortened).
    const FAILED: &str = r#"{"id":"https://heathskeyvault.vault.azure.net/certificates/2028586055/pending","issuer":{"name":"185641384"},"cancellation_requested":false,"status":"failed","status_details":"Pending certificate created. Certificate request is in progress. This may take some time based on the issuer provider. Please check again later.","error":{"code":"Request rejected","message":"The call to DigiCert failed with Error code access_denied|access_denied_invalid_key and Message Access denied due to access_denied_invalid_key.. If you have any questions or concerns, please feel free to reach out to DigiCert for support at support@digicert.com or 1-801-701-9600."},"request_id":"d359cdea9c50453db248c7a953c25936"}"#;
    /// net-VerifyCancelCertificateOperation.json, entry 4 (csr dropped).
    const CANCELLED: &str = r#"{"id":"https://heathskeyvault.vault.azure.net/certificates/838715502/pending","issuer":{"name":"Self"},"cancellation_requested":true,"status":"cancelled","request_id":"e1bdaab70f9441b487d24e568524faa6"}"#;
    /// net-ValidateMergeCertificate.json, entry 1 (csr shortened).
    const UNKNOWN_ISSUER: &str = r#"{"id": "https://tcac7e9c41ef52cec.vault.azure.net/certificates/758667645/pending", "issuer": {"name": "Unknown"}, "csr": "MIICpDCCAYwCAQAwFDES", "cancellation_requested": false, "status": "inProgress", "status_details": "Pending certificate created. Please Perform Merge to complete the request.", "request_id": "85d8acdf7099412b90fcafdb2a59ab27"}"#;

    fn session() -> Session {
        let s = Session::default();
        s.preseed_challenge(V, Challenge::new("https://vault.azure.net/.default", None)).unwrap();
        s
    }

    fn begin(session: &Session, name: &str) -> CreatePoller {
        CreatePoller::begin(
            session,
            &Vault::new(V).unwrap(),
            name,
            &CertificatePolicy::new("Self", "CN=xyz"),
            &Default::default(),
            &RetryOptions::default(),
            &PollOptions::create(),
        )
        .unwrap()
    }

    fn ra10() -> [(&'static str, &'static str); 1] {
        [("retry-after", "10")]
    }

    #[test]
    fn recorded_create_polls_with_retry_after_then_gets_the_target() {
        let session = session();
        let mut poller = begin(&session, "CreateCertificate");
        assert_eq!(poller.status(), PollerStatus::NotStarted);
        let mut d = Driver::new([
            response(202, &ra10(), IN_PROGRESS).into(),
            response(200, &ra10(), IN_PROGRESS).into(),
            response(200, &[], COMPLETED).into(),
            response(200, &[], CERT).into(),
        ]);
        let outcome = d.run(&mut poller).unwrap();
        let cert = outcome.certificate().unwrap();
        assert_eq!(
            cert.id.as_deref(),
            Some("https://REDACTED.vault.azure.net/certificates/CreateCertificate/8838738fd6b14e2196728afba1f0b904")
        );
        assert_eq!(
            d.transcript,
            [
                "GetToken",
                "Send POST /certificates/CreateCertificate/create",
                "WaitUntil",
                "Send GET /certificates/CreateCertificate/pending",
                "WaitUntil",
                "Send GET /certificates/CreateCertificate/pending",
                "Send GET /certificates/CreateCertificate",
                "Done"
            ]
        );
        assert_eq!(d.waits, [Duration::from_secs(10), Duration::from_secs(10)]);
        assert_eq!(
            d.sent[3].uri(),
            "https://redacted.vault.azure.net/certificates/CreateCertificate?api-version=2026-04-01"
        );
        assert_eq!(poller.status(), PollerStatus::Done);
        assert_eq!(poller.polls(), 2);
    }

    #[test]
    fn first_call_with_challenge() {
        let session = Session::default();
        let mut d = Driver::new([
            unauthorized().into(),
            response(202, &ra10(), IN_PROGRESS).into(),
            response(200, &[], COMPLETED).into(),
            response(200, &[], CERT).into(),
        ]);
        d.run(&mut begin(&session, "CreateCertificate")).unwrap();
        assert_eq!(d.kinds(), ["Send", "GetToken", "Send", "WaitUntil", "Send", "Send", "Done"]);
        assert!(d.sent[0].body().is_empty() && !d.sent[1].body().is_empty());
    }

    #[test]
    fn every_end_is_typed() {
        let session = session();
        let run = |answers: Vec<Response<Vec<u8>>>| {
            let mut d = Driver::new(answers.into_iter().map(Into::into));
            d.run(&mut begin(&session, "c1"))
        };
        let failed = run(vec![response(202, &ra10(), IN_PROGRESS), response(200, &[], FAILED)]).unwrap();
        let CreateOutcome::Failed(op) = failed else { panic!("{failed:?}") };
        assert_eq!(op.error.unwrap().code.as_deref(), Some("Request rejected"));
        let cancelled = run(vec![response(202, &ra10(), IN_PROGRESS), response(200, &[], CANCELLED)]).unwrap();
        assert!(matches!(cancelled, CreateOutcome::Cancelled(_)));
        let deleted = run(vec![
            response(202, &ra10(), IN_PROGRESS),
            response(
                404,
                &[],
                r#"{"error":{"code":"PendingCertificateNotFound","message":"Pending certificate not found"}}"#,
            ),
        ])
        .unwrap();
        assert_eq!(deleted, CreateOutcome::Deleted);
        let merge = run(vec![response(202, &ra10(), UNKNOWN_ISSUER)]).unwrap();
        let CreateOutcome::AwaitingMerge(op) = merge else { panic!() };
        assert!(op.csr_pem().unwrap().starts_with("-----BEGIN CERTIFICATE REQUEST-----"));
        let odd = run(vec![response(202, &[], &IN_PROGRESS.replace("inProgress", "paused"))]).unwrap();
        assert!(matches!(odd, CreateOutcome::UnknownStatus(_)));
        // net-StartCreateCertificateError.json: the create itself is refused.
        let err = run(vec![response(
            400,
            &[],
            r#"{"error": {"code": "BadParameter", "message": "Property policy.x509_props has invalid value. Invalid X.500 distinguished name\r\n"}}"#,
        )])
        .unwrap_err();
        assert_eq!(err.code(), Some("BadParameter"));
        let err = run(vec![response(202, &[], IN_PROGRESS), response(200, &[], COMPLETED), response(403, &[], "")])
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Forbidden);
    }

    #[test]
    fn resumes_from_a_continuation_token() {
        let session = session();
        let vault = Vault::new(V).unwrap();
        let poller = begin(&session, "CreateCertificateResumeToken");
        let token = poller.continuation_token();
        drop(poller);
        let mut resumed =
            CreatePoller::resume(&session, &vault, &token, &RetryOptions::default(), &PollOptions::create()).unwrap();
        assert_eq!(resumed.status(), PollerStatus::InProgress);
        let mut d = Driver::new([response(200, &[], COMPLETED).into(), response(200, &[], CERT).into()]);
        assert!(d.run(&mut resumed).unwrap().certificate().is_some());
        assert_eq!(d.kinds(), ["GetToken", "Send", "Send", "Done"]);
    }

    #[test]
    fn gives_up_after_max_polls_with_a_resumable_error() {
        let session = session();
        let mut poller = CreatePoller::begin(
            &session,
            &Vault::new(V).unwrap(),
            "c1",
            &CertificatePolicy::new("Self", "CN=xyz"),
            &Default::default(),
            &RetryOptions::default(),
            &PollOptions::create().max_polls(2).interval(Duration::from_secs(1)),
        )
        .unwrap();
        let mut d = Driver::new((0..3).map(|_| response(200, &[("retry-after", "100000")], IN_PROGRESS).into()));
        let err = d.run(&mut poller).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OperationFailed);
        assert!(err.to_string().contains(r#""name":"c1""#), "{err}");
        assert!(d.waits.iter().all(|w| *w <= Duration::from_secs(60)));
    }
}
