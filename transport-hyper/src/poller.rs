//! Async pollers for the long-running operations: create, delete, recover.
//!
//! `poll` and `wait` may be cancelled (their future dropped): the poller keeps its flow and the
//! next call repeats the step that was interrupted (a create that may not have reached the
//! service is sent again).

use kvcerts_core::flows::{CreateOutcome, CreatePoller, DeletePoller, Flow, PollerStatus, RecoverPoller};
use kvcerts_core::models::{CertificateOperation, DeletedCertificate, KeyVaultCertificate};
use kvcerts_core::Error;

use crate::client::CertificateClient;

/// Drives one core poller: `poll` for one round, `wait` to the end.
struct Driven<F: Flow> {
    client: CertificateClient,
    flow: F,
    result: Option<Result<F::Output, Error>>,
}

impl<F: Flow> Driven<F>
where
    F::Output: Clone,
{
    async fn poll(&mut self) -> Option<&Result<F::Output, Error>> {
        if self.result.is_none() {
            self.result = self.client.drive_step(&mut self.flow).await;
        }
        self.result.as_ref()
    }

    async fn wait(mut self) -> Result<F::Output, Error> {
        match self.result.take() {
            Some(result) => result,
            None => self.client.drive(&mut self.flow).await,
        }
    }
}

/// Follows a certificate's creation ([`CertificateClient::begin_create_certificate`]).
pub struct CreateCertificatePoller(Driven<CreatePoller>);

impl CreateCertificatePoller {
    pub(crate) fn new(client: CertificateClient, flow: CreatePoller) -> Self {
        CreateCertificatePoller(Driven { client, flow, result: None })
    }

    /// Where the poller is.
    pub fn status(&self) -> PollerStatus {
        self.0.flow.status()
    }

    /// The last operation state seen.
    pub fn operation(&self) -> Option<&CertificateOperation> {
        self.0.flow.operation()
    }

    /// One round: sends what is due now (the create, or one poll), without waiting for the
    /// next poll. `Some` once finished.
    pub async fn poll(&mut self) -> Option<&Result<CreateOutcome, Error>> {
        self.0.poll().await
    }

    /// Polls to the end: the certificate, or how the creation ended otherwise.
    pub async fn wait(self) -> Result<CreateOutcome, Error> {
        self.0.wait().await
    }

    /// Polls to the end and returns the certificate; any other end is an error that says how
    /// the creation ended.
    pub async fn wait_for_certificate(self) -> Result<KeyVaultCertificate, Error> {
        self.wait().await?.into_certificate()
    }

    /// A string to resume this poller later ([`CertificateClient::resume_create_certificate`]).
    pub fn continuation_token(&self) -> String {
        self.0.flow.continuation_token()
    }
}

macro_rules! existence_poller {
    ($(#[$doc:meta])* $name:ident, $flow:ty, $output:ty, $resume:literal) => {
        $(#[$doc])*
        pub struct $name(Driven<$flow>);

        impl $name {
            pub(crate) fn new(client: CertificateClient, flow: $flow) -> Self {
                $name(Driven { client, flow, result: None })
            }

            /// Where the poller is.
            pub fn status(&self) -> PollerStatus {
                self.0.flow.status()
            }

            /// The result of the starting request, once it arrived.
            pub fn result(&self) -> Option<&$output> {
                self.0.flow.result()
            }

            /// One round without waiting; `Some` once finished.
            pub async fn poll(&mut self) -> Option<&Result<$output, Error>> {
                self.0.poll().await
            }

            /// Polls to the end.
            pub async fn wait(self) -> Result<$output, Error> {
                self.0.wait().await
            }

            #[doc = concat!("A string to resume this poller later (`CertificateClient::", $resume, "`); `None` before the starting request answered.")]
            pub fn continuation_token(&self) -> Option<String> {
                self.0.flow.continuation_token()
            }
        }
    };
}

existence_poller!(
    /// Follows a deletion ([`CertificateClient::begin_delete_certificate`]) until the deleted
    /// certificate is visible, so a purge right after it succeeds.
    DeleteCertificatePoller, DeletePoller, DeletedCertificate, "resume_delete_certificate"
);
existence_poller!(
    /// Follows a recovery ([`CertificateClient::begin_recover_deleted_certificate`]) until the
    /// certificate is readable again.
    RecoverDeletedCertificatePoller, RecoverPoller, KeyVaultCertificate, "resume_recover_deleted_certificate"
);
