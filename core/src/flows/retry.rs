//! Retry decisions: which failures are retried, and how long to wait before the next attempt.
//!
//! Defaults ([`RetryOptions::default`]): at most **3 retries**, exponential backoff from
//! **800 ms** doubling per attempt with jitter (each delay drawn uniformly from 50–100 % of its
//! exponential value), each wait at most **60 s**, and all retries within a **2 minute**
//! budget counted from the first attempt. `Retry-After` (seconds or HTTP date),
//! `retry-after-ms` and `x-ms-retry-after-ms` replace the backoff on any retried status; when
//! the service asks for a longer wait than `max_delay` or than what is left of the budget, the
//! flow does not retry and returns the response (its error carries the requested wait).
//!
//! What is retried:
//! - every method: 408, 429, 503, and a failure to connect (`request_sent == false`);
//! - idempotent requests only (GET, HEAD, PUT, PATCH, DELETE, OPTIONS and the read-only
//!   `POST …/backup`): 500, 502, 504 and transport errors after the request was sent. The
//!   other POSTs (create, import, merge, restore, recover) are not, so a retry never creates or
//!   imports a certificate twice;
//! - never: TLS failures;
//! - managed identity endpoints (a different set of statuses: 404, 408, 410, 429, 5xx): never a
//!   failure to connect, since an identity endpoint that does not answer is absent.

use std::time::{Duration, Instant};

use http::{HeaderMap, Method, StatusCode};

use super::step::{Now, TransportErrorKind, TransportFailure, WaitReason};
use crate::operation::Operation;
use crate::retry_after::RetryAfter;

/// How retries back off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryMode {
    /// `base_delay · 2^(retry − 1)`, capped at `max_delay`, with jitter.
    Exponential,
    /// `base_delay` every time, with jitter.
    Fixed,
}

/// Retry configuration; see the [module docs](self) for the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryOptions {
    /// Retries after the first attempt (0 switches retries off).
    pub max_retries: u32,
    /// The first backoff delay.
    pub base_delay: Duration,
    /// The longest single wait; a `Retry-After` asking for more ends the retries.
    pub max_delay: Duration,
    /// All retries must start within this time after the first attempt.
    pub max_elapsed: Duration,
    /// Exponential or fixed backoff.
    pub mode: RetryMode,
    /// Seed of the jitter generator, so a test replays exactly.
    pub seed: u64,
}

impl Default for RetryOptions {
    fn default() -> Self {
        RetryOptions {
            max_retries: 3,
            base_delay: Duration::from_millis(800),
            max_delay: Duration::from_secs(60),
            max_elapsed: Duration::from_secs(120),
            mode: RetryMode::Exponential,
            seed: 0x6b76_6365_7274_7321,
        }
    }
}

impl RetryOptions {
    /// The profile for managed identity token endpoints: up to **6 retries** from **1.34 s**,
    /// doubling (at most ~84 s of waits in all), for IMDS, which answers 410 for up to 70 s
    /// after a VM starts and 404/429/5xx while it updates. An endpoint that cannot be reached at
    /// all is not retried (see the module docs).
    pub fn managed_identity() -> Self {
        RetryOptions { max_retries: 6, base_delay: Duration::from_millis(1340), ..RetryOptions::default() }
    }

    /// No retries at all.
    pub fn disabled() -> Self {
        RetryOptions { max_retries: 0, ..RetryOptions::default() }
    }

    /// Sets the number of retries.
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// Sets the first backoff delay.
    pub fn base_delay(mut self, d: Duration) -> Self {
        self.base_delay = d;
        self
    }

    /// Sets the longest single wait.
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

    /// Sets the total time budget.
    pub fn max_elapsed(mut self, d: Duration) -> Self {
        self.max_elapsed = d;
        self
    }

    /// Sets the backoff mode.
    pub fn mode(mut self, mode: RetryMode) -> Self {
        self.mode = mode;
        self
    }

    /// Sets the jitter seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

/// Whether a request may be sent twice without changing the outcome: GET, HEAD, PUT, PATCH,
/// DELETE, OPTIONS, and the read-only `POST /certificates/{name}/backup`.
pub fn is_idempotent(method: &Method, path: &str) -> bool {
    match *method {
        Method::GET | Method::HEAD | Method::PUT | Method::PATCH | Method::DELETE | Method::OPTIONS => true,
        Method::POST => matches!(Operation::identify(method, path), Some((Operation::BackupCertificate, _))),
        _ => false,
    }
}

/// Which statuses are retried, for one kind of endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryStatuses {
    /// Key Vault: 408, 429, 503 always; 500, 502, 504 when idempotent.
    KeyVault,
    /// Managed identity endpoints: 404, 408, 410, 429 and 5xx (IMDS answers 404/410 while it
    /// starts or upgrades).
    ManagedIdentity,
}

impl RetryStatuses {
    fn retries(self, status: StatusCode, idempotent: bool) -> bool {
        let code = status.as_u16();
        match self {
            RetryStatuses::KeyVault => match code {
                408 | 429 | 503 => true,
                500 | 502 | 504 => idempotent,
                _ => false,
            },
            RetryStatuses::ManagedIdentity => matches!(code, 404 | 408 | 410 | 429) || (500..600).contains(&code),
        }
    }
}

/// SplitMix64: a tiny deterministic generator for jitter.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A fraction in `[0, 1)`.
    pub(crate) fn next_unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The retry state of one request: attempts made, the budget and the jitter generator.
#[derive(Debug, Clone)]
pub(crate) struct RetryState {
    options: RetryOptions,
    statuses: RetryStatuses,
    idempotent: bool,
    retries: u32,
    first_attempt: Option<Instant>,
    rng: SplitMix64,
}

impl RetryState {
    pub(crate) fn new(options: RetryOptions, statuses: RetryStatuses, idempotent: bool, stream: u64) -> Self {
        let rng = SplitMix64::new(options.seed ^ stream.wrapping_mul(0xD134_2543_DE82_EF95));
        RetryState { options, statuses, idempotent, retries: 0, first_attempt: None, rng }
    }

    /// Records that an attempt is being sent now.
    pub(crate) fn on_attempt(&mut self, now: Now) {
        self.first_attempt.get_or_insert(now.instant);
    }

    /// Whether to retry after a response with `status`, and until when to wait.
    pub(crate) fn after_status(
        &mut self,
        now: Now,
        status: StatusCode,
        headers: &HeaderMap,
    ) -> Option<(Instant, WaitReason)> {
        if !self.statuses.retries(status, self.idempotent) {
            return None;
        }
        let reason = match status.as_u16() {
            429 | 503 => WaitReason::Throttled,
            _ => WaitReason::Retry,
        };
        let asked = RetryAfter::from_headers(headers).map(|r| r.delay_from(now.utc));
        self.schedule(now, asked, reason)
    }

    /// Whether to retry after a transport failure, and until when to wait.
    pub(crate) fn after_transport(&mut self, now: Now, failure: &TransportFailure) -> Option<(Instant, WaitReason)> {
        let retry = match failure.kind {
            TransportErrorKind::Tls | TransportErrorKind::ResponseTooLarge => false,
            // A managed identity endpoint that cannot be reached is not there (not on Azure, or
            // no identity): say so at once, so that `DefaultAzureCredential` moves on.
            _ if !failure.request_sent => self.statuses != RetryStatuses::ManagedIdentity,
            _ => self.idempotent,
        };
        if !retry {
            return None;
        }
        self.schedule(now, None, WaitReason::Retry)
    }

    fn schedule(&mut self, now: Now, asked: Option<Duration>, reason: WaitReason) -> Option<(Instant, WaitReason)> {
        if self.retries >= self.options.max_retries {
            return None;
        }
        let delay = match asked {
            Some(d) => d,
            None => self.backoff(self.retries + 1),
        };
        if delay > self.options.max_delay {
            return None;
        }
        let start = self.first_attempt.unwrap_or(now.instant);
        let deadline = now.instant.checked_add(delay)?;
        let budget_end = start.checked_add(self.options.max_elapsed)?;
        if deadline > budget_end {
            return None;
        }
        self.retries += 1;
        Some((deadline, reason))
    }

    /// The jittered backoff before retry number `retry` (1-based).
    fn backoff(&mut self, retry: u32) -> Duration {
        let base = self.options.base_delay;
        let full = match self.options.mode {
            RetryMode::Fixed => base,
            RetryMode::Exponential => {
                let factor = 1u32.checked_shl(retry.saturating_sub(1).min(31)).unwrap_or(u32::MAX);
                base.checked_mul(factor).unwrap_or(Duration::MAX)
            }
        }
        .min(self.options.max_delay);
        let fraction = 0.5 + 0.5 * self.rng.next_unit();
        full.mul_f64(fraction)
    }

    /// The most attempts this state allows.
    pub(crate) fn max_attempts(&self) -> u32 {
        self.options.max_retries.saturating_add(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::scenario::{headers, t0};

    fn state(idempotent: bool) -> RetryState {
        RetryState::new(RetryOptions::default(), RetryStatuses::KeyVault, idempotent, 0)
    }

    #[test]
    fn idempotency_follows_method_and_backup() {
        assert!(is_idempotent(&Method::GET, "/certificates/c/"));
        assert!(is_idempotent(&Method::DELETE, "/certificates/c"));
        assert!(is_idempotent(&Method::POST, "/certificates/c/backup"));
        assert!(!is_idempotent(&Method::POST, "/certificates/c/create"));
        assert!(!is_idempotent(&Method::POST, "/certificates/c/import"));
        assert!(!is_idempotent(&Method::POST, "/deletedcertificates/c/recover"));
        assert!(!is_idempotent(&Method::POST, "/certificates/restore"));
    }

    #[test]
    fn status_matrix() {
        let now = t0();
        let none = HeaderMap::new();
        for (code, idem, non_idem) in [
            (408, true, true),
            (429, true, true),
            (503, true, true),
            (500, true, false),
            (502, true, false),
            (504, true, false),
            (400, false, false),
            (401, false, false),
            (404, false, false),
            (409, false, false),
            (501, false, false),
        ] {
            let status = StatusCode::from_u16(code).unwrap();
            assert_eq!(state(true).after_status(now, status, &none).is_some(), idem, "{code} idempotent");
            assert_eq!(state(false).after_status(now, status, &none).is_some(), non_idem, "{code} POST");
        }
    }

    #[test]
    fn transport_matrix() {
        let now = t0();
        let f = |kind, sent| TransportFailure::new(kind, sent, "x");
        assert!(state(false).after_transport(now, &f(TransportErrorKind::Connect, false)).is_some());
        assert!(state(false).after_transport(now, &f(TransportErrorKind::Io, false)).is_some());
        assert!(state(false).after_transport(now, &f(TransportErrorKind::Io, true)).is_none());
        assert!(state(false).after_transport(now, &f(TransportErrorKind::Timeout, true)).is_none());
        assert!(state(true).after_transport(now, &f(TransportErrorKind::Timeout, true)).is_some());
        assert!(state(true).after_transport(now, &f(TransportErrorKind::Tls, false)).is_none());
        assert!(state(true).after_transport(now, &f(TransportErrorKind::Tls, true)).is_none());
        assert!(state(true).after_transport(now, &f(TransportErrorKind::ResponseTooLarge, true)).is_none());
    }

    #[test]
    fn retry_after_forms_are_honoured() {
        let now = t0();
        let mut s = state(true);
        let (at, why) = s.after_status(now, StatusCode::TOO_MANY_REQUESTS, &headers(&[("retry-after", "10")])).unwrap();
        assert_eq!(at - now.instant, Duration::from_secs(10));
        assert_eq!(why, WaitReason::Throttled);
        let (at, _) =
            s.after_status(now, StatusCode::SERVICE_UNAVAILABLE, &headers(&[("retry-after-ms", "1500")])).unwrap();
        assert_eq!(at - now.instant, Duration::from_millis(1500));
        let date = "Sun, 06 Nov 1994 08:49:47 GMT";
        let mut now2 = now;
        now2.utc = crate::dates::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        let (at, _) = s.after_status(now2, StatusCode::REQUEST_TIMEOUT, &headers(&[("retry-after", date)])).unwrap();
        assert_eq!(at - now.instant, Duration::from_secs(10));
        // The budget of 3 retries is spent.
        assert!(s.after_status(now, StatusCode::TOO_MANY_REQUESTS, &HeaderMap::new()).is_none());
    }

    #[test]
    fn too_long_retry_after_is_not_waited_for() {
        let now = t0();
        let mut s = state(true);
        assert!(s.after_status(now, StatusCode::TOO_MANY_REQUESTS, &headers(&[("retry-after", "61")])).is_none());
        let mut s = state(true);
        s.on_attempt(now);
        let later = now.advance(Duration::from_secs(100));
        assert!(s.after_status(later, StatusCode::TOO_MANY_REQUESTS, &headers(&[("retry-after", "30")])).is_none());
    }

    #[test]
    fn backoff_is_exponential_jittered_and_deterministic() {
        let now = t0();
        let delays = |seed| {
            let mut s = RetryState::new(
                RetryOptions::default().seed(seed).max_retries(8).max_elapsed(Duration::from_secs(3600)),
                RetryStatuses::KeyVault,
                true,
                0,
            );
            (0..8)
                .map(|_| {
                    s.after_status(now, StatusCode::SERVICE_UNAVAILABLE, &HeaderMap::new()).unwrap().0 - now.instant
                })
                .collect::<Vec<_>>()
        };
        let a = delays(1);
        assert_eq!(a, delays(1));
        assert_ne!(a, delays(2));
        for (i, d) in a.iter().enumerate() {
            let full = Duration::from_millis(800 * (1 << i)).min(Duration::from_secs(60));
            assert!(*d >= full / 2 && *d <= full, "retry {i}: {d:?} vs {full:?}");
        }
        assert!(RetryState::new(RetryOptions::disabled(), RetryStatuses::KeyVault, true, 0)
            .after_status(now, StatusCode::SERVICE_UNAVAILABLE, &HeaderMap::new())
            .is_none());
    }

    #[test]
    fn managed_identity_statuses() {
        let now = t0();
        let mut s = RetryState::new(RetryOptions::default(), RetryStatuses::ManagedIdentity, true, 0);
        assert!(s.after_status(now, StatusCode::GONE, &HeaderMap::new()).is_some());
        assert!(s.after_status(now, StatusCode::NOT_FOUND, &HeaderMap::new()).is_some());
        assert!(s.after_status(now, StatusCode::BAD_REQUEST, &HeaderMap::new()).is_none());
    }
}
