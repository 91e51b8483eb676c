//! The authentication state shared by every flow of one client: the per-vault challenge cache
//! and the token cache, with single-flight discovery and token fetches.
//!
//! # Contract for transports
//!
//! Create one [`Session`] per client (per credential) and give a clone to every flow; clones
//! share the same state (`Arc` + `Mutex`), so flows running on many threads or tasks at once
//! cooperate:
//!
//! - The first flow that needs a vault's challenge sends the bodiless probe; flows that need
//!   the same challenge meanwhile answer [`Step::WaitUntil`](crate::flows::Step::WaitUntil)
//!   with [`WaitReason::AuthInProgress`](crate::flows::WaitReason::AuthInProgress) and a short
//!   deadline ([`SessionOptions::in_flight_poll`]); when woken they look again.
//! - Likewise the first flow that needs a token it lacks returns
//!   [`Step::GetToken`](crate::flows::Step::GetToken): **that flow owns the fetch** and its
//!   driver must answer with [`Input::Token`](crate::flows::Input::Token) (or drop the flow,
//!   which releases the fetch). Other flows wait for its answer; when it fails, they all finish
//!   with the same error instead of asking again. So 50 calls started together on a fresh
//!   client cost one 401 round trip and one token request.
//! - A fetch or probe whose owner does not answer within [`SessionOptions::in_flight_timeout`]
//!   is taken over by a waiting flow.
//! - A token due for refresh (5 minutes before expiry by default) is refreshed by one flow
//!   while the others keep using it; if the refresh fails the old token is used until it
//!   expires (a new refresh is tried after [`SessionOptions::refresh_backoff`]). An expired
//!   token is never returned.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use http::Uri;

use super::challenge::{verify_challenge_resource, Challenge};
use super::token::{AccessToken, TokenCache, TokenLookup, TokenRequest};
use crate::error::Error;
use crate::flows::retry::SplitMix64;
use crate::flows::Now;
use crate::vault::is_loopback_host;

/// Options of a [`Session`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionOptions {
    /// Check that the vault host is a subdomain of the challenge resource host before sending
    /// a token (default `true`; turn off only for an emulator).
    pub verify_challenge_resource: bool,
    /// Allow tokens over plain `http` to a loopback host (an emulator). Default `false`.
    pub allow_insecure_loopback: bool,
    /// Refresh a token this long before it expires (default 5 minutes).
    pub refresh_margin: Duration,
    /// How long a flow waiting for another flow's probe or token fetch sleeps before looking
    /// again (default 20 ms).
    pub in_flight_poll: Duration,
    /// A probe or token fetch not answered within this time is taken over (default 60 s).
    pub in_flight_timeout: Duration,
    /// After a failed refresh of a still-valid token, wait this long before trying again
    /// (default 30 s).
    pub refresh_backoff: Duration,
    /// Seed of the `x-ms-client-request-id` each request carries (the same on all its attempts,
    /// echoed by the service, so a request that got no answer can still be found in the
    /// service's logs). `None` (the default) sends none; core reads no randomness, so the seed
    /// comes from the caller (the clients' `client_request_ids(true)` draws a random one).
    pub client_request_id_seed: Option<u64>,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            verify_challenge_resource: true,
            allow_insecure_loopback: false,
            refresh_margin: TokenCache::DEFAULT_REFRESH_MARGIN,
            in_flight_poll: Duration::from_millis(20),
            in_flight_timeout: Duration::from_secs(60),
            refresh_backoff: Duration::from_secs(30),
            client_request_id_seed: None,
        }
    }
}

impl SessionOptions {
    /// Options for a local emulator: no challenge resource verification, plain http to a
    /// loopback host allowed.
    pub fn emulator() -> Self {
        SessionOptions { verify_challenge_resource: false, allow_insecure_loopback: true, ..Self::default() }
    }

    /// Turns challenge resource verification on or off.
    pub fn verify_challenge_resource(mut self, verify: bool) -> Self {
        self.verify_challenge_resource = verify;
        self
    }

    /// Allows or refuses tokens over plain http to a loopback host.
    pub fn allow_insecure_loopback(mut self, allow: bool) -> Self {
        self.allow_insecure_loopback = allow;
        self
    }

    /// Sets the refresh margin.
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// Sets the poll interval while waiting for another flow.
    pub fn in_flight_poll(mut self, poll: Duration) -> Self {
        self.in_flight_poll = poll;
        self
    }

    /// Sets the takeover timeout.
    pub fn in_flight_timeout(mut self, timeout: Duration) -> Self {
        self.in_flight_timeout = timeout;
        self
    }

    /// Sends an `x-ms-client-request-id` with every request, made from `seed` (give a random
    /// one: two sessions with the same seed send the same ids).
    pub fn client_request_ids(mut self, seed: u64) -> Self {
        self.client_request_id_seed = Some(seed);
        self
    }
}

/// The `x-ms-client-request-id` of flow `flow` in a session seeded with `seed`: 122 bits of
/// the two mixed into a UUID (version 4 layout), e.g. `1b4e28ba-2fa1-41d2-883f-0016d3cca427`.
fn client_request_id(seed: u64, flow: u64) -> http::HeaderValue {
    // The jitter generator, started at a state that differs for every flow (an odd multiplier
    // and a xor keep it one-to-one), so no two flows of a session share their first word.
    let mut rng = SplitMix64::new(seed ^ flow.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let (high, low) = (rng.next_u64(), rng.next_u64());
    let bits =
        (u128::from(high) << 64 | u128::from(low)) & !(0xf000 << 64 | 0xc000 << 48) | (0x4000 << 64 | 0x8000 << 48);
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = [b'-'; 36];
    let mut nibble = 32;
    for (i, byte) in text.iter_mut().enumerate() {
        if !matches!(i, 8 | 13 | 18 | 23) {
            nibble -= 1;
            *byte = HEX[(bits >> (nibble * 4)) as usize & 0xf];
        }
    }
    http::HeaderValue::from_bytes(&text).unwrap_or_else(|_| http::HeaderValue::from_static("-"))
}

/// `scheme://host[:port]` of a request, the key of the challenge cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    pub(crate) https: bool,
    pub(crate) host: String,
    pub(crate) key: String,
    /// The authority as the URL wrote it (`Host:port`), to recognise the next URL cheaply.
    written: String,
}

impl Origin {
    pub(crate) fn of(uri: &Uri) -> Result<Origin, Error> {
        let https = match uri.scheme_str() {
            Some(s) if s.eq_ignore_ascii_case("https") => true,
            Some(s) if s.eq_ignore_ascii_case("http") => false,
            _ => return Err(Error::invalid("request URL", format!("{uri} is not an absolute http(s) URL"))),
        };
        let authority = uri.authority().ok_or_else(|| Error::invalid("request URL", format!("{uri} has no host")))?;
        if authority.as_str().contains('@') {
            return Err(Error::invalid("request URL", "a request URL carries no user name or password"));
        }
        let host = authority.host().to_ascii_lowercase();
        let scheme = if https { "https://" } else { "http://" };
        let mut key = String::with_capacity(scheme.len() + host.len() + 6);
        key.push_str(scheme);
        key.push_str(&host);
        match authority.port_u16() {
            Some(p) if p != if https { 443 } else { 80 } => {
                use std::fmt::Write as _;
                let _ = write!(key, ":{p}");
            }
            _ => {}
        }
        Ok(Origin { https, host, key, written: authority.as_str().to_owned() })
    }

    /// Whether `uri` has this origin, written the same way (a URL written otherwise, e.g. with
    /// the default port spelled out, is simply parsed again).
    fn is_origin_of(&self, uri: &Uri) -> bool {
        let scheme = if self.https { "https" } else { "http" };
        uri.scheme_str().is_some_and(|s| s.eq_ignore_ascii_case(scheme))
            && uri.authority().is_some_and(|a| a.as_str() == self.written)
    }

    pub(crate) fn parse(url: &str) -> Result<Origin, Error> {
        let uri: Uri = url.trim().parse().map_err(|_| Error::invalid("vault URL", format!("{url:?} is not a URL")))?;
        Origin::of(&uri)
    }
}

#[derive(Debug, Clone)]
enum ChallengeSlot {
    /// The verified challenge and the token request it makes (shared by every flow).
    Known(Challenge, Arc<TokenRequest>),
    Discovering {
        owner: u64,
        since: Instant,
    },
}

impl ChallengeSlot {
    fn known(challenge: Challenge) -> Self {
        let request = TokenRequest {
            scopes: vec![challenge.scope.clone()],
            tenant_id: challenge.tenant_id.clone(),
            claims: None,
        };
        ChallengeSlot::Known(challenge, Arc::new(request))
    }
}

#[derive(Debug, Default)]
struct FetchSlot {
    owner: Option<(u64, Instant)>,
    generation: u64,
    last_error: Option<Error>,
    failed_at: Option<Instant>,
}

#[derive(Debug, Default)]
struct State {
    challenges: BTreeMap<String, ChallengeSlot>,
    tokens: TokenCache,
    fetches: BTreeMap<TokenRequest, FetchSlot>,
}

struct Inner {
    options: SessionOptions,
    state: Mutex<State>,
    next_flow: AtomicU64,
    /// The origins of recent requests, so each call need not parse and lower-case its URL's
    /// host again (a client talks to one vault).
    origins: Mutex<Vec<Arc<Origin>>>,
}

/// How many origins [`Session::origin`] remembers.
const REMEMBERED_ORIGINS: usize = 4;

/// The shared authentication state of one client. Cheap to clone; clones share state. See the
/// [module docs](self) for the contract.
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("Session")
            .field("options", &self.inner.options)
            .field("challenges", &state.challenges.len())
            .field("tokens", &state.tokens.len())
            .finish()
    }
}

impl Default for Session {
    fn default() -> Self {
        Session::new(SessionOptions::default())
    }
}

/// What a flow does about the vault's challenge.
#[derive(Debug)]
pub(crate) enum ChallengeStep {
    /// The token request the vault's challenge makes (without claims).
    Known(Arc<TokenRequest>),
    /// This flow sends the bodiless probe.
    Discover,
    Wait(Instant),
}

/// What a flow does about its token.
#[derive(Debug)]
pub(crate) enum Acquire {
    Ready(AccessToken),
    /// This flow asks the credential.
    Fetch,
    Wait(Instant),
    Failed(Error),
}

impl Session {
    /// A session with `options` and empty caches.
    pub fn new(options: SessionOptions) -> Self {
        let state = State { tokens: TokenCache::new(options.refresh_margin), ..State::default() };
        let inner =
            Inner { options, state: Mutex::new(state), next_flow: AtomicU64::new(1), origins: Mutex::default() };
        Session { inner: Arc::new(inner) }
    }

    /// The options.
    pub fn options(&self) -> &SessionOptions {
        &self.inner.options
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves consistent data: keep going.
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stores the challenge (tenant and scope) for a vault up front, so its first call takes a
    /// single round trip. Verified like a received challenge.
    pub fn preseed_challenge(&self, vault_url: &str, challenge: Challenge) -> Result<(), Error> {
        let origin = Origin::parse(vault_url)?;
        if self.inner.options.verify_challenge_resource {
            verify_challenge_resource(&origin.host, &challenge)?;
        }
        self.lock().challenges.insert(origin.key, ChallengeSlot::known(challenge));
        Ok(())
    }

    /// The challenge cached for a vault, if any.
    pub fn challenge(&self, vault_url: &str) -> Option<Challenge> {
        let origin = Origin::parse(vault_url).ok()?;
        match self.lock().challenges.get(&origin.key) {
            Some(ChallengeSlot::Known(c, _)) => Some(c.clone()),
            _ => None,
        }
    }

    /// Forgets every challenge and token.
    pub fn clear(&self) {
        let mut state = self.lock();
        state.challenges.clear();
        state.tokens.clear();
        state.fetches.clear();
    }

    /// Stores a token obtained outside a flow (e.g. from a previous process).
    pub fn insert_token(&self, request: TokenRequest, token: AccessToken, now: Now) {
        self.lock().tokens.insert(request, token, now.utc);
    }

    /// The origin of a request URL, remembered for the next request to the same place.
    pub(crate) fn origin(&self, uri: &Uri) -> Result<Arc<Origin>, Error> {
        let mut origins = self.inner.origins.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(known) = origins.iter().find(|o| o.is_origin_of(uri)) {
            return Ok(known.clone());
        }
        let origin = Arc::new(Origin::of(uri)?);
        if origins.len() >= REMEMBERED_ORIGINS {
            origins.remove(0);
        }
        origins.push(origin.clone());
        Ok(origin)
    }

    /// A fresh id for a flow (ownership of probes and fetches, jitter streams).
    pub(crate) fn flow_id(&self) -> u64 {
        self.inner.next_flow.fetch_add(1, Ordering::Relaxed)
    }

    /// The `x-ms-client-request-id` of flow `flow`, when the session sends them.
    pub(crate) fn client_request_id(&self, flow: u64) -> Option<http::HeaderValue> {
        self.inner.options.client_request_id_seed.map(|seed| client_request_id(seed, flow))
    }

    /// Whether a token may be attached to a request to `origin`: https, or plain http to a
    /// loopback host when allowed.
    pub(crate) fn check_transport_security(&self, origin: &Origin) -> Result<(), Error> {
        if origin.https || (self.inner.options.allow_insecure_loopback && is_loopback_host(&origin.host)) {
            Ok(())
        } else {
            Err(Error::Security(format!(
                "refusing to authenticate a request to {} over plain http: tokens go only over https \
                 (or to a loopback emulator with allow_insecure_loopback)",
                origin.key
            )))
        }
    }

    pub(crate) fn challenge_for(&self, origin: &Origin, flow: u64, now: Now) -> ChallengeStep {
        let timeout = self.inner.options.in_flight_timeout;
        let mut state = self.lock();
        match state.challenges.get(&origin.key) {
            Some(ChallengeSlot::Known(_, request)) => return ChallengeStep::Known(request.clone()),
            Some(ChallengeSlot::Discovering { owner, since })
                if *owner != flow && now.instant.saturating_duration_since(*since) < timeout =>
            {
                return ChallengeStep::Wait(self.poll_deadline(now, *since + timeout));
            }
            _ => {}
        }
        state.challenges.insert(origin.key.clone(), ChallengeSlot::Discovering { owner: flow, since: now.instant });
        ChallengeStep::Discover
    }

    fn poll_deadline(&self, now: Now, cap: Instant) -> Instant {
        now.instant.checked_add(self.inner.options.in_flight_poll).unwrap_or(now.instant).min(cap.max(now.instant))
    }

    /// The answer to a probe (or a later 401): stores the verified challenge, or ends the
    /// discovery this flow owned when there is none.
    pub(crate) fn challenge_received(
        &self,
        origin: &Origin,
        flow: u64,
        challenge: Option<Challenge>,
    ) -> Result<(), Error> {
        let mut state = self.lock();
        let owned = matches!(state.challenges.get(&origin.key), Some(ChallengeSlot::Discovering { owner, .. }) if *owner == flow);
        match challenge {
            Some(c) => {
                if self.inner.options.verify_challenge_resource {
                    if let Err(e) = verify_challenge_resource(&origin.host, &c) {
                        // A challenge that fails verification is never cached.
                        if owned || matches!(state.challenges.get(&origin.key), Some(ChallengeSlot::Known(..))) {
                            state.challenges.remove(&origin.key);
                        }
                        return Err(e);
                    }
                }
                state.challenges.insert(origin.key.clone(), ChallengeSlot::known(c));
            }
            None if owned => {
                state.challenges.remove(&origin.key);
            }
            None => {}
        }
        Ok(())
    }

    pub(crate) fn acquire(&self, key: &TokenRequest, flow: u64, now: Now, waited: &mut Option<u64>) -> Acquire {
        let options = &self.inner.options;
        let mut state = self.lock();
        let state = &mut *state;
        let lookup = state.tokens.lookup(key, now.utc);
        let was_waiting = waited.take();
        if let TokenLookup::Fresh(t) = lookup {
            return Acquire::Ready(t);
        }
        let slot = state.fetches.entry(key.clone()).or_default();
        let owner_alive = |slot: &FetchSlot| {
            slot.owner.is_some_and(|(o, since)| {
                o != flow && now.instant.saturating_duration_since(since) < options.in_flight_timeout
            })
        };
        match lookup {
            TokenLookup::Fresh(t) => Acquire::Ready(t),
            TokenLookup::Stale(t) => {
                let backing_off = slot
                    .failed_at
                    .is_some_and(|at| now.instant.saturating_duration_since(at) < options.refresh_backoff);
                if owner_alive(slot) || backing_off {
                    Acquire::Ready(t)
                } else {
                    slot.owner = Some((flow, now.instant));
                    Acquire::Fetch
                }
            }
            TokenLookup::Missing => {
                if let Some(generation) = was_waiting {
                    if slot.generation > generation {
                        if let Some(e) = &slot.last_error {
                            return Acquire::Failed(e.clone());
                        }
                    }
                }
                if owner_alive(slot) {
                    *waited = Some(was_waiting.unwrap_or(slot.generation));
                    let since = slot.owner.map(|(_, s)| s).unwrap_or(now.instant);
                    Acquire::Wait(self.poll_deadline(now, since + options.in_flight_timeout))
                } else {
                    slot.owner = Some((flow, now.instant));
                    Acquire::Fetch
                }
            }
        }
    }

    /// The credential's answer to this flow's fetch. Returns the token to use: the new one,
    /// or the old one while still valid when the refresh failed.
    pub(crate) fn token_received(
        &self,
        key: &TokenRequest,
        flow: u64,
        now: Now,
        result: Result<AccessToken, Error>,
    ) -> Result<AccessToken, Error> {
        let mut state = self.lock();
        let state = &mut *state;
        let slot = state.fetches.entry(key.clone()).or_default();
        if slot.owner.is_some_and(|(o, _)| o == flow) {
            slot.owner = None;
        }
        slot.generation = slot.generation.wrapping_add(1);
        match result {
            Ok(token) if token.is_valid_at(now.utc) => {
                slot.last_error = None;
                slot.failed_at = None;
                state.tokens.insert(key.clone(), token.clone(), now.utc);
                Ok(token)
            }
            other => {
                let error = match other {
                    Ok(_) => Error::Authentication("the credential returned a token that has already expired".into()),
                    Err(e) => e,
                };
                slot.last_error = Some(error.clone());
                slot.failed_at = Some(now.instant);
                match state.tokens.lookup(key, now.utc) {
                    TokenLookup::Fresh(t) | TokenLookup::Stale(t) => Ok(t),
                    TokenLookup::Missing => Err(error),
                }
            }
        }
    }

    /// A 401 rejected the token with `fingerprint`: drop it so nobody sends it again.
    pub(crate) fn reject_token(&self, key: &TokenRequest, fingerprint: u64) {
        self.lock().tokens.invalidate(key, fingerprint);
    }

    /// Releases every probe and fetch `flow` owns (the flow finished or was dropped).
    pub(crate) fn release(&self, flow: u64) {
        let mut state = self.lock();
        state.challenges.retain(|_, slot| !matches!(slot, ChallengeSlot::Discovering { owner, .. } if *owner == flow));
        for slot in state.fetches.values_mut() {
            if slot.owner.is_some_and(|(o, _)| o == flow) {
                slot.owner = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::scenario::t0;

    fn key() -> TokenRequest {
        TokenRequest::new(vec!["https://vault.azure.net/.default".into()])
    }

    #[test]
    fn request_origins_are_remembered_per_scheme_and_authority() {
        let s = Session::default();
        let uri = |u: &str| u.parse::<Uri>().unwrap();
        let a = s.origin(&uri("https://MyVault.vault.azure.net/certificates/c?api-version=1")).unwrap();
        let again = s.origin(&uri("https://MyVault.vault.azure.net/certificates/d")).unwrap();
        assert!(Arc::ptr_eq(&a, &again));
        assert_eq!(a.key, "https://myvault.vault.azure.net");
        // Another scheme or spelling is parsed on its own; the same spelling later is shared.
        let plain = s.origin(&uri("http://MyVault.vault.azure.net/x")).unwrap();
        assert!(!plain.https && plain.key == "http://myvault.vault.azure.net");
        let with_port = s.origin(&uri("https://myvault.vault.azure.net:443/x")).unwrap();
        assert_eq!(with_port.key, a.key);
        assert!(!Arc::ptr_eq(&a, &with_port));
        for i in 0..2 * REMEMBERED_ORIGINS {
            s.origin(&uri(&format!("https://v{i}.vault.azure.net/"))).unwrap();
        }
        assert_eq!(s.inner.origins.lock().unwrap().len(), REMEMBERED_ORIGINS);
        assert!(s.origin(&uri("https://u:p@host/")).is_err());
        assert!(s.origin(&uri("/relative")).is_err());
    }

    #[test]
    fn origins() {
        let o = Origin::parse("https://MyVault.vault.azure.net:443/").unwrap();
        assert_eq!(o.key, "https://myvault.vault.azure.net");
        assert_eq!(Origin::parse("http://127.0.0.1:8080").unwrap().key, "http://127.0.0.1:8080");
        assert!(Origin::parse("myvault").is_err());
        assert!(Origin::parse("https://u:p@host").is_err());
    }

    #[test]
    fn single_flight_discovery_and_fetch() {
        let s = Session::default();
        let now = t0();
        let o = Origin::parse("https://v.vault.azure.net").unwrap();
        assert!(matches!(s.challenge_for(&o, 1, now), ChallengeStep::Discover));
        assert!(matches!(s.challenge_for(&o, 2, now), ChallengeStep::Wait(_)));
        s.challenge_received(&o, 1, Some(Challenge::new("https://vault.azure.net/.default", None))).unwrap();
        assert!(matches!(s.challenge_for(&o, 2, now), ChallengeStep::Known(_)));

        let (mut w1, mut w2) = (None, None);
        assert!(matches!(s.acquire(&key(), 1, now, &mut w1), Acquire::Fetch));
        assert!(matches!(s.acquire(&key(), 2, now, &mut w2), Acquire::Wait(_)));
        let token = AccessToken::new("t", now.utc + Duration::from_secs(3600));
        s.token_received(&key(), 1, now, Ok(token.clone())).unwrap();
        assert!(matches!(s.acquire(&key(), 2, now, &mut w2), Acquire::Ready(t) if t == token));
    }

    #[test]
    fn waiters_share_a_failure() {
        let s = Session::default();
        let now = t0();
        let (mut w1, mut w2) = (None, None);
        assert!(matches!(s.acquire(&key(), 1, now, &mut w1), Acquire::Fetch));
        assert!(matches!(s.acquire(&key(), 2, now, &mut w2), Acquire::Wait(_)));
        let err = Error::Authentication("AADSTS7000215".into());
        assert_eq!(s.token_received(&key(), 1, now, Err(err.clone())), Err(err.clone()));
        assert!(matches!(s.acquire(&key(), 2, now, &mut w2), Acquire::Failed(e) if e == err));
        // A new call (not a waiter) tries again.
        let mut w3 = None;
        assert!(matches!(s.acquire(&key(), 3, now, &mut w3), Acquire::Fetch));
    }

    #[test]
    fn stale_owner_is_taken_over_and_release_frees() {
        let s = Session::default();
        let now = t0();
        let mut w = None;
        assert!(matches!(s.acquire(&key(), 1, now, &mut w), Acquire::Fetch));
        let later = now.advance(Duration::from_secs(61));
        assert!(matches!(s.acquire(&key(), 2, later, &mut w), Acquire::Fetch));
        s.release(2);
        assert!(matches!(s.acquire(&key(), 3, later, &mut None), Acquire::Fetch));
    }

    #[test]
    fn refresh_keeps_old_token_on_failure() {
        let s = Session::default();
        let now = t0();
        let old = AccessToken::new("old", now.utc + Duration::from_secs(200));
        s.insert_token(key(), old.clone(), now);
        assert!(matches!(s.acquire(&key(), 1, now, &mut None), Acquire::Fetch));
        // Others keep using the old token meanwhile.
        assert!(matches!(s.acquire(&key(), 2, now, &mut None), Acquire::Ready(t) if t == old));
        let got = s.token_received(&key(), 1, now, Err(Error::Authentication("down".into()))).unwrap();
        assert_eq!(got, old);
        // Backing off: no new fetch for a while.
        assert!(matches!(s.acquire(&key(), 3, now.advance(Duration::from_secs(10)), &mut None), Acquire::Ready(_)));
        assert!(matches!(s.acquire(&key(), 3, now.advance(Duration::from_secs(31)), &mut None), Acquire::Fetch));
        // Never an expired token.
        assert!(matches!(s.acquire(&key(), 4, now.advance(Duration::from_secs(200)), &mut None), Acquire::Fetch));
    }

    #[test]
    fn preseed_is_verified() {
        let s = Session::default();
        let ch = Challenge::new("https://vault.azure.net/.default", Some("t".into()));
        s.preseed_challenge("https://v.vault.azure.net", ch.clone()).unwrap();
        assert_eq!(s.challenge("https://v.vault.azure.net/"), Some(ch.clone()));
        assert!(s.preseed_challenge("https://v.vault.evil.com", ch.clone()).is_err());
        let e = Session::new(SessionOptions::emulator());
        e.preseed_challenge("http://127.0.0.1:8443", ch).unwrap();
    }
}
