//! The async driver loop: answers each step of a core flow with IO. The same loop as the
//! blocking client's, with `.await`s.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kvcerts_core::flows::{report, Flow, Input, Now, Step, WaitReason};
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
        // What the log line needs is kept only when it will be written.
        let logged = log::log_enabled!(log::Level::Debug).then(|| (report::Sending::of(&request), Instant::now()));
        let result = self.sender.send(request).await;
        if let Some((sending, started)) = logged {
            let line = sending.line(result.as_ref(), started.elapsed(), *attempt);
            log::debug!("{line}");
        }
        match result {
            Ok(response) => Input::Response(response),
            Err(failure) => Input::TransportError(failure),
        }
    }
}

fn log_wait(at: Instant, reason: WaitReason) {
    match report::wait_line(reason, at.saturating_duration_since(Instant::now())) {
        (true, line) => log::warn!("{line}"),
        (false, line) => log::trace!("{line}"),
    }
}

/// How long to wait for a process or token before giving up, shared by credentials.
pub(crate) const DEFAULT_CREDENTIAL_TIMEOUT: Duration = Duration::from_secs(30);
