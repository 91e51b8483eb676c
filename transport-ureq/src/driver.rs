//! The blocking driver loop: answers each step of a core flow with IO.

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

/// Sleeps until `deadline`.
pub(crate) fn sleep_until(deadline: Instant) {
    let wait = deadline.saturating_duration_since(Instant::now());
    if !wait.is_zero() {
        std::thread::sleep(wait);
    }
}

impl Driver {
    pub(crate) fn new(sender: Sender, credential: Arc<dyn TokenCredential>) -> Self {
        Driver { sender, credential }
    }

    /// Drives `flow` to its end.
    pub(crate) fn run<F: Flow>(&self, flow: &mut F) -> Result<F::Output, Error> {
        let mut input = None;
        let mut attempt = 0u32;
        loop {
            match flow.step(now(), input.take()) {
                Step::Done(result) => return result,
                Step::WaitUntil(at, reason) => {
                    log_wait(at, reason);
                    sleep_until(at);
                    input = Some(Input::Woke);
                }
                step => input = Some(self.answer(step, &mut attempt)),
            }
        }
    }

    /// Drives `flow` until it finishes (`Some`) or asks to wait between polls (`None`; the
    /// next call sleeps, then goes on).
    pub(crate) fn run_until_wait<F: Flow>(&self, flow: &mut F) -> Option<Result<F::Output, Error>> {
        let mut input = None;
        let mut attempt = 0u32;
        let mut sent = false;
        loop {
            match flow.step(now(), input.take()) {
                Step::Done(result) => return Some(result),
                Step::WaitUntil(_, WaitReason::Polling) if sent => return None,
                Step::WaitUntil(at, reason) => {
                    log_wait(at, reason);
                    sleep_until(at);
                    input = Some(Input::Woke);
                }
                step => {
                    sent |= matches!(step, Step::Send(_));
                    input = Some(self.answer(step, &mut attempt));
                }
            }
        }
    }

    fn answer<T>(&self, step: Step<T>, attempt: &mut u32) -> Input {
        match step {
            Step::Send(request) => {
                *attempt += 1;
                // What the log line needs is kept only when it will be written.
                let logged =
                    log::log_enabled!(log::Level::Debug).then(|| (report::Sending::of(&request), Instant::now()));
                let result = self.sender.send(request);
                if let Some((sending, started)) = logged {
                    let line = sending.line(result.as_ref(), started.elapsed(), *attempt);
                    log::debug!("{line}");
                }
                match result {
                    Ok(response) => Input::Response(response),
                    Err(failure) => Input::TransportError(failure),
                }
            }
            Step::GetToken(request) => Input::Token(self.credential.get_token(&request)),
            Step::WaitUntil(..) => Input::Woke,
            Step::Done(_) => Input::Woke,
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
