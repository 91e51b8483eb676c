//! What a flow asks its driver to do ([`Step`]) and what the driver feeds back ([`Input`]).

use std::fmt;
use std::time::{Duration, Instant};

use http::{Request, Response};
use time::OffsetDateTime;

use crate::auth::{AccessToken, TokenRequest};
use crate::error::Error;

/// The current time, passed with every input: core never reads a clock.
///
/// `instant` is the monotonic time deadlines are measured against; `utc` is the wall-clock time
/// used for token expiry and `Retry-After` dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    /// Monotonic time, for deadlines ([`Step::WaitUntil`]).
    pub instant: Instant,
    /// Wall-clock time, for token expiry and HTTP dates.
    pub utc: OffsetDateTime,
}

impl Now {
    /// Both clocks at the same moment.
    pub fn new(instant: Instant, utc: OffsetDateTime) -> Self {
        Now { instant, utc }
    }

    /// Both clocks moved forward by `by` (for virtual time in tests and replays).
    pub fn advance(self, by: Duration) -> Self {
        Now { instant: self.instant + by, utc: self.utc + by }
    }

    /// Both clocks moved forward to `deadline` (no change when it is already past).
    pub fn advance_to(self, deadline: Instant) -> Self {
        self.advance(deadline.saturating_duration_since(self.instant))
    }
}

/// Why a flow asks to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WaitReason {
    /// Backing off before retrying a failed attempt (5xx, 408, transport error).
    Retry,
    /// The service throttled the request (429, or 503 with or without `Retry-After`).
    Throttled,
    /// Waiting between two polls of a long-running operation.
    Polling,
    /// Another flow sharing the [`Session`](crate::auth::Session) is discovering the vault's
    /// challenge or fetching the token this flow needs; wake up and ask again.
    AuthInProgress,
}

/// How a transport failed to deliver a request or receive its response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The connection could not be established (DNS, refused, unreachable).
    Connect,
    /// A connect, write or read timed out.
    Timeout,
    /// TLS failed (certificate verification, handshake). Never retried.
    Tls,
    /// Any other IO failure (reset, broken pipe, truncated response).
    Io,
    /// The response body is larger than the transport accepts. Never retried: the same
    /// answer would come again.
    ResponseTooLarge,
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportErrorKind::Connect => "connect",
            TransportErrorKind::Timeout => "timeout",
            TransportErrorKind::Tls => "tls",
            TransportErrorKind::Io => "io",
            TransportErrorKind::ResponseTooLarge => "response too large",
        })
    }
}

/// How many bytes a transport reserves for a response body before reading it: the body's
/// `Content-Length`, up to 1 MiB. Sized once, a body is not reallocated and copied as it arrives
/// (about six times for a 3 KiB bundle when grown from empty); a larger one grows from there,
/// so a server announcing more than it sends costs little.
///
/// ```
/// assert_eq!(kvcerts_core::flows::body_capacity(Some(2_900)), 2_900);
/// assert_eq!(kvcerts_core::flows::body_capacity(Some(u64::MAX)), 1024 * 1024);
/// assert_eq!(kvcerts_core::flows::body_capacity(None), 0);
/// ```
pub fn body_capacity(content_length: Option<u64>) -> usize {
    const MOST: u64 = 1024 * 1024;
    usize::try_from(content_length.unwrap_or(0).min(MOST)).unwrap_or(0)
}

/// A transport failure reported to a flow instead of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportFailure {
    /// What failed.
    pub kind: TransportErrorKind,
    /// Whether any byte of the request may have reached the server. `false` only when the
    /// transport knows it did not (connect failure, TLS handshake failure): then every request
    /// may be retried.
    pub request_sent: bool,
    /// What the transport reported, for the error message.
    pub message: String,
}

impl TransportFailure {
    /// A failure of `kind`.
    pub fn new(kind: TransportErrorKind, request_sent: bool, message: impl Into<String>) -> Self {
        TransportFailure { kind, request_sent, message: message.into() }
    }

    /// The error a flow finishes with when it does not retry this failure.
    pub fn into_error(self) -> Error {
        Error::Transport { message: format!("{}: {}", self.kind, self.message), request_sent: self.request_sent }
    }
}

/// The caller's next duty, returned by every call to [`Flow::step`](super::Flow::step).
///
/// Asking again without an input (`step(now, None)`) returns the same duty, so a driver may
/// re-poll freely; a wait is an absolute deadline, so re-asking gives the same answer.
#[must_use = "a Step is the caller's next duty: send, wait, get a token, or take the result"]
pub enum Step<T> {
    /// Send this request; answer with [`Input::Response`] or [`Input::TransportError`].
    Send(Request<Vec<u8>>),
    /// Wake up at this deadline (or later) and answer with [`Input::Woke`].
    WaitUntil(Instant, WaitReason),
    /// Get a token for these scopes, tenant and claims from the credential; answer with
    /// [`Input::Token`]. Until the answer comes, other flows sharing the session wait for it.
    GetToken(TokenRequest),
    /// The flow is finished.
    Done(Result<T, Error>),
}

impl<T> Step<T> {
    /// The name of the step kind, for transcripts (`"Send"`, `"WaitUntil"`, `"GetToken"`,
    /// `"Done"`).
    pub fn kind(&self) -> &'static str {
        match self {
            Step::Send(_) => "Send",
            Step::WaitUntil(..) => "WaitUntil",
            Step::GetToken(_) => "GetToken",
            Step::Done(_) => "Done",
        }
    }

    /// Maps the result of a finished step.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Step<U> {
        match self {
            Step::Send(r) => Step::Send(r),
            Step::WaitUntil(at, why) => Step::WaitUntil(at, why),
            Step::GetToken(t) => Step::GetToken(t),
            Step::Done(r) => Step::Done(r.map(f)),
        }
    }

    /// Splits a step into the duties to pass on (`Ok`) and the finished result (`Err`).
    pub(crate) fn pending<U>(self) -> Result<Step<U>, Result<T, Error>> {
        match self {
            Step::Send(r) => Ok(Step::Send(r)),
            Step::WaitUntil(at, why) => Ok(Step::WaitUntil(at, why)),
            Step::GetToken(t) => Ok(Step::GetToken(t)),
            Step::Done(r) => Err(r),
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Step<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Never print headers: the request may carry a bearer token.
            Step::Send(r) => f.debug_tuple("Send").field(r.method()).field(r.uri()).finish(),
            Step::WaitUntil(at, why) => f.debug_tuple("WaitUntil").field(at).field(why).finish(),
            Step::GetToken(t) => f.debug_tuple("GetToken").field(t).finish(),
            Step::Done(r) => f.debug_tuple("Done").field(r).finish(),
        }
    }
}

/// What the driver feeds into a flow: the answer to the last [`Step`].
pub enum Input {
    /// The response to the request of [`Step::Send`].
    Response(Response<Vec<u8>>),
    /// The request of [`Step::Send`] failed in the transport.
    TransportError(TransportFailure),
    /// The answer to [`Step::GetToken`].
    Token(Result<AccessToken, Error>),
    /// The deadline of [`Step::WaitUntil`] passed.
    Woke,
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::Response(r) => f.debug_tuple("Response").field(&r.status()).finish(),
            Input::TransportError(e) => f.debug_tuple("TransportError").field(e).finish(),
            Input::Token(t) => f.debug_tuple("Token").field(t).finish(),
            Input::Woke => f.write_str("Woke"),
        }
    }
}

impl Input {
    /// The name of the input kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Input::Response(_) => "Response",
            Input::TransportError(_) => "TransportError",
            Input::Token(_) => "Token",
            Input::Woke => "Woke",
        }
    }
}

/// Counts the steps of a flow and stops it when it exceeds its bound.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StepBudget {
    used: u32,
    max: u32,
}

impl StepBudget {
    pub(crate) fn new(max: u32) -> Self {
        StepBudget { used: 0, max }
    }

    /// Counts one step; the error once the bound is passed.
    pub(crate) fn spend(&mut self) -> Result<(), Error> {
        self.used = self.used.saturating_add(1);
        if self.used > self.max {
            Err(Error::Misuse(format!(
                "the flow did not finish within its bound of {} steps; was every step answered with the input it asked for?",
                self.max
            )))
        } else {
            Ok(())
        }
    }

    pub(crate) fn max(&self) -> u32 {
        self.max
    }
}

/// The error for an input that does not answer the last step.
pub(crate) fn unexpected_input(expected: &str, got: &Input) -> Error {
    Error::Misuse(format!("expected {expected}, got {}", got.kind()))
}

/// The error for a step after the flow finished.
pub(crate) fn already_done() -> Error {
    Error::Misuse("the flow already finished; its result was returned by the last step".into())
}
