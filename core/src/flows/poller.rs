//! What the long-running-operation pollers share: polling intervals, status and continuation
//! tokens.
//!
//! | poller | start | polls | ends when | default interval |
//! |---|---|---|---|---|
//! | [`CreatePoller`](super::CreatePoller) | `POST …/create` | `GET …/pending` | status not `inProgress`, issuer `Unknown`, or 404 | `Retry-After`, else 5 s |
//! | [`DeletePoller`](super::DeletePoller) | `DELETE /certificates/{n}` | `GET /deletedcertificates/{n}` | 2xx or 403 (no polls without soft-delete) | `Retry-After`, else 2 s |
//! | [`RecoverPoller`](super::RecoverPoller) | `POST …/recover` | `GET /certificates/{n}/` | 2xx or 403 | `Retry-After`, else 2 s |
//!
//! Every wait between polls is capped at [`PollOptions::max_interval`] (default 60 s), and a
//! poller gives up after [`PollOptions::max_polls`] polls (default 720 for create, 300 for
//! delete and recover) with an [`ErrorKind::OperationFailed`](crate::ErrorKind) error that
//! tells how to resume it.

use std::time::{Duration, Instant};

use http::HeaderMap;
use serde::{Deserialize, Serialize};

use super::exchange::engine_max_steps;
use super::retry::RetryOptions;
use super::step::Now;
use crate::auth::Session;
use crate::error::Error;
use crate::retry_after::RetryAfter;
use crate::vault::Vault;

/// How often a poller polls.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PollOptions {
    /// The wait between polls when the service sends no `Retry-After`.
    pub interval: Duration,
    /// The longest wait between polls, whatever the service asks.
    pub max_interval: Duration,
    /// The most polls before the poller gives up (resumable with its continuation token).
    pub max_polls: u32,
}

impl PollOptions {
    /// Defaults for certificate creation: 5 s, at most 60 s, 720 polls.
    pub fn create() -> Self {
        PollOptions { interval: Duration::from_secs(5), max_interval: Duration::from_secs(60), max_polls: 720 }
    }

    /// Defaults for deletion and recovery: 2 s, at most 60 s, 300 polls.
    pub fn delete_recover() -> Self {
        PollOptions { interval: Duration::from_secs(2), max_interval: Duration::from_secs(60), max_polls: 300 }
    }

    /// Sets the interval.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Sets the longest wait.
    pub fn max_interval(mut self, max: Duration) -> Self {
        self.max_interval = max;
        self
    }

    /// Sets the poll limit.
    pub fn max_polls(mut self, max: u32) -> Self {
        self.max_polls = max;
        self
    }

    /// The deadline of the next poll after a response with `headers`.
    pub(crate) fn next_poll(&self, now: Now, headers: Option<&HeaderMap>) -> Instant {
        let asked = headers.and_then(RetryAfter::from_headers).map(|r| r.delay_from(now.utc));
        let delay = asked.unwrap_or(self.interval).min(self.max_interval);
        now.instant.checked_add(delay).unwrap_or(now.instant)
    }
}

/// Where a poller is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PollerStatus {
    /// Nothing sent yet.
    NotStarted,
    /// The starting request (create, delete, recover) is in flight.
    Starting,
    /// The operation runs; the poller polls.
    InProgress,
    /// The operation ended; the poller fetches the result (the created certificate).
    Finishing,
    /// The poller finished.
    Done,
}

/// Which poller a continuation token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum PollerKind {
    Create,
    Delete,
    Recover,
}

/// The serialized state of a poller.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ContinuationState {
    pub(crate) v: u32,
    pub(crate) kind: PollerKind,
    pub(crate) vault: String,
    pub(crate) name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) result: Option<serde_json::Value>,
}

impl ContinuationState {
    pub(crate) fn new(kind: PollerKind, vault: &Vault, name: &str, result: Option<serde_json::Value>) -> Self {
        ContinuationState { v: 1, kind, vault: vault.url().to_owned(), name: name.to_owned(), result }
    }

    pub(crate) fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a token for a poller of `kind` on `vault`.
    pub(crate) fn decode(token: &str, kind: PollerKind, vault: &Vault) -> Result<Self, Error> {
        let state: ContinuationState = serde_json::from_str(token)
            .map_err(|e| Error::invalid("continuation token", format!("not a poller continuation token: {e}")))?;
        if state.v != 1 {
            return Err(Error::invalid("continuation token", format!("unsupported version {}", state.v)));
        }
        if state.kind != kind {
            return Err(Error::invalid(
                "continuation token",
                format!("it belongs to a {:?} poller, not a {kind:?} poller", state.kind),
            ));
        }
        if !vault.is_same_origin(&state.vault) {
            return Err(Error::invalid(
                "continuation token",
                format!("it belongs to the vault {}, not {}", state.vault, vault.url()),
            ));
        }
        crate::names::validate_certificate_name(&state.name)?;
        Ok(state)
    }
}

/// The step bound of a poller: its polls plus the start and the final fetch, each an engine.
pub(crate) fn poller_max_steps(session: &Session, retry: &RetryOptions, polling: &PollOptions) -> u32 {
    let per_exchange = engine_max_steps(session, retry).saturating_add(2);
    polling.max_polls.saturating_add(3).saturating_mul(per_exchange).saturating_add(8)
}

/// The error when a poller runs out of polls.
pub(crate) fn too_many_polls(what: &str, polls: u32, token: &str) -> Error {
    Error::OperationFailed(format!(
        "{what} still in progress after {polls} polls; resume later with the continuation token {token}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::scenario::{headers, t0};

    #[test]
    fn next_poll_honours_retry_after_within_the_cap() {
        let now = t0();
        let o = PollOptions::create();
        assert_eq!(o.next_poll(now, None) - now.instant, Duration::from_secs(5));
        assert_eq!(o.next_poll(now, Some(&headers(&[("retry-after", "10")]))) - now.instant, Duration::from_secs(10));
        assert_eq!(o.next_poll(now, Some(&headers(&[("retry-after", "3600")]))) - now.instant, Duration::from_secs(60));
    }

    #[test]
    fn tokens_are_checked() {
        let vault = Vault::new("https://v.vault.azure.net").unwrap();
        let token = ContinuationState::new(PollerKind::Create, &vault, "c1", None).encode();
        assert_eq!(token, r#"{"v":1,"kind":"create","vault":"https://v.vault.azure.net","name":"c1"}"#);
        assert!(ContinuationState::decode(&token, PollerKind::Create, &vault).is_ok());
        assert!(ContinuationState::decode(&token, PollerKind::Delete, &vault).is_err());
        let other = Vault::new("https://w.vault.azure.net").unwrap();
        assert!(ContinuationState::decode(&token, PollerKind::Create, &other).is_err());
        assert!(ContinuationState::decode("garbage", PollerKind::Create, &vault).is_err());
        let bad_name = token.replace("c1", "../x");
        assert!(ContinuationState::decode(&bad_name, PollerKind::Create, &vault).is_err());
    }
}
