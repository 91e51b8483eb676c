//! The state machine the long-running-operation pollers share: the starting exchange, the
//! waits between polls, the poll count, the step budget and the continuation token. What the
//! answers mean is up to each poller's [`LroOp`].

use std::time::Instant;

use http::{Request, Response};

use super::exchange::Engine;
use super::poller::{poller_max_steps, too_many_polls, ContinuationState, PollOptions, PollerKind, PollerStatus};
use super::retry::RetryOptions;
use super::step::{already_done, unexpected_input, Input, Now, Step, StepBudget, WaitReason};
use crate::auth::Session;
use crate::error::Error;
use crate::vault::Vault;

/// Which exchange of a poller is in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    /// The starting request (create, delete, recover).
    Start,
    /// A poll.
    Poll,
    /// The final fetch of the result.
    Fetch,
}

// Boxing would allocate per exchange; with one variant per stage the poller was this size too.
#[allow(clippy::large_enum_variant)]
enum Phase {
    Exchange(Stage, Engine),
    PollNow,
    Waiting(Instant),
    Done,
}

/// What one kind of poller adds to the shared machine.
pub(super) trait LroOp: Sized {
    /// What the poller finishes with.
    type Output;

    /// The kind written into continuation tokens.
    fn kind(&self) -> PollerKind;

    /// What is still in progress when the polls run out ("the deletion is").
    fn in_progress(&self) -> &'static str;

    /// The result a continuation token carries, if any.
    fn token_result(&self) -> Option<serde_json::Value>;

    /// The request of the next poll.
    fn poll_request(&self, vault: &Vault, name: &str) -> Result<Request<Vec<u8>>, Error>;

    /// Handles the answer to the exchange of `stage`: finish, wait for the next poll or send
    /// another exchange.
    fn on_response(lro: &mut Lro<Self>, now: Now, stage: Stage, response: Response<Vec<u8>>) -> Step<Self::Output>;
}

/// A long-running-operation poller: its shared state and `op`, the part its kind adds.
pub(super) struct Lro<O> {
    session: Session,
    pub(super) vault: Vault,
    pub(super) name: String,
    retry: RetryOptions,
    polling: PollOptions,
    phase: Phase,
    pub(super) polls: u32,
    budget: StepBudget,
    pub(super) op: O,
}

impl<O: LroOp> Lro<O> {
    /// A poller that sends `start` first, or (without it) polls at once.
    pub(super) fn new(
        session: &Session,
        vault: &Vault,
        name: &str,
        retry: &RetryOptions,
        polling: &PollOptions,
        start: Option<Request<Vec<u8>>>,
        op: O,
    ) -> Self {
        Lro {
            session: session.clone(),
            vault: vault.clone(),
            name: name.to_owned(),
            retry: retry.clone(),
            polling: polling.clone(),
            phase: match start {
                Some(request) => Phase::Exchange(Stage::Start, Engine::new(session, request, retry)),
                None => Phase::PollNow,
            },
            polls: 0,
            budget: StepBudget::new(poller_max_steps(session, retry, polling)),
            op,
        }
    }

    pub(super) fn status(&self) -> PollerStatus {
        match &self.phase {
            Phase::Exchange(Stage::Start, engine) if engine.has_started() => PollerStatus::Starting,
            Phase::Exchange(Stage::Start, _) => PollerStatus::NotStarted,
            Phase::PollNow | Phase::Waiting(_) | Phase::Exchange(Stage::Poll, _) => PollerStatus::InProgress,
            Phase::Exchange(Stage::Fetch, _) => PollerStatus::Finishing,
            Phase::Done => PollerStatus::Done,
        }
    }

    /// Whether the starting request has not been answered yet.
    pub(super) fn is_starting(&self) -> bool {
        matches!(self.phase, Phase::Exchange(Stage::Start, _))
    }

    pub(super) fn continuation_token(&self) -> String {
        ContinuationState::new(self.op.kind(), &self.vault, &self.name, self.op.token_result()).encode()
    }

    /// The `Debug` output of the poller type `poller`.
    pub(super) fn debug(&self, f: &mut std::fmt::Formatter<'_>, poller: &str) -> std::fmt::Result {
        f.debug_struct(poller)
            .field("vault", &self.vault.url())
            .field("name", &self.name)
            .field("status", &self.status())
            .field("polls", &self.polls)
            .finish()
    }

    pub(super) fn max_steps(&self) -> u32 {
        self.budget.max()
    }

    pub(super) fn finish(&mut self, result: Result<O::Output, Error>) -> Step<O::Output> {
        self.phase = Phase::Done;
        Step::Done(result)
    }

    /// Waits one interval (or the `Retry-After` of `response`) before the next poll.
    pub(super) fn wait_for_poll(&mut self, now: Now, response: &Response<Vec<u8>>) -> Step<O::Output> {
        let until = self.polling.next_poll(now, Some(response.headers()));
        self.phase = Phase::Waiting(until);
        Step::WaitUntil(until, WaitReason::Polling)
    }

    /// Starts the exchange of `stage` with `request` (or finishes with its error).
    pub(super) fn send(&mut self, now: Now, stage: Stage, request: Result<Request<Vec<u8>>, Error>) -> Step<O::Output> {
        match request {
            Ok(request) => {
                let mut engine = Engine::new(&self.session, request, &self.retry);
                let step = engine.step(now, None);
                self.phase = Phase::Exchange(stage, engine);
                self.on_engine_step(now, step)
            }
            Err(e) => self.finish(Err(e)),
        }
    }

    fn start_poll(&mut self, now: Now) -> Step<O::Output> {
        self.polls += 1;
        if self.polls > self.polling.max_polls {
            let token = self.continuation_token();
            return self.finish(Err(too_many_polls(self.op.in_progress(), self.polling.max_polls, &token)));
        }
        let request = self.op.poll_request(&self.vault, &self.name);
        self.send(now, Stage::Poll, request)
    }

    fn on_engine_step(&mut self, now: Now, step: Step<Response<Vec<u8>>>) -> Step<O::Output> {
        match step.pending() {
            Ok(step) => step,
            Err(Err(e)) => self.finish(Err(e)),
            Err(Ok(response)) => match std::mem::replace(&mut self.phase, Phase::Done) {
                Phase::Exchange(stage, _) => O::on_response(self, now, stage, response),
                _ => self.finish(Err(no_exchange_in_flight())),
            },
        }
    }

    /// [`Flow::step`](super::Flow::step) of every poller.
    pub(super) fn step(&mut self, now: Now, input: Option<Input>) -> Step<O::Output> {
        if matches!(self.phase, Phase::Done) {
            return Step::Done(Err(already_done()));
        }
        if let Err(e) = self.budget.spend() {
            return self.finish(Err(e));
        }
        match &mut self.phase {
            Phase::Exchange(_, engine) => {
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
}

/// The error for an answer when no exchange is in flight (a bug in a poller).
pub(super) fn no_exchange_in_flight() -> Error {
    Error::Misuse("internal: no exchange in flight".into())
}
