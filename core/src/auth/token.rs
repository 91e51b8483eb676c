//! Access tokens, token requests and the token cache.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;
use time::OffsetDateTime;

use crate::models::SecretString;

/// A bearer token and when it expires. `Debug` never shows the token.
///
/// Cloning is cheap (the text is shared), and the `Authorization` value and fingerprint are
/// computed once per token, not per request.
#[derive(Clone)]
pub struct AccessToken {
    text: Arc<TokenText>,
    /// When the token stops being valid.
    pub expires_on: OffsetDateTime,
    /// When the issuer suggests refreshing it (`refresh_in`), if it said.
    pub refresh_on: Option<OffsetDateTime>,
}

/// The token text and what is derived from it.
struct TokenText {
    secret: SecretString,
    /// `Bearer {token}`, marked sensitive; `None` when the text cannot be a header value.
    header: Option<HeaderValue>,
    fingerprint: u64,
}

impl PartialEq for AccessToken {
    fn eq(&self, other: &Self) -> bool {
        self.text.secret == other.text.secret
            && self.expires_on == other.expires_on
            && self.refresh_on == other.refresh_on
    }
}

impl Eq for AccessToken {}

impl AccessToken {
    /// A token valid until `expires_on`.
    pub fn new(token: impl Into<SecretString>, expires_on: OffsetDateTime) -> Self {
        let secret: SecretString = token.into();
        let header = HeaderValue::try_from(format!("Bearer {}", secret.expose_secret())).ok().map(|mut v| {
            v.set_sensitive(true);
            v
        });
        // FNV-1a: enough to tell tokens apart, reveals nothing useful.
        let fingerprint = secret
            .expose_secret()
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        AccessToken { text: Arc::new(TokenText { secret, header, fingerprint }), expires_on, refresh_on: None }
    }

    /// Sets the suggested refresh time.
    pub fn with_refresh_on(mut self, refresh_on: Option<OffsetDateTime>) -> Self {
        self.refresh_on = refresh_on;
        self
    }

    /// The token text. Handle with care: do not log it.
    pub fn secret(&self) -> &str {
        self.text.secret.expose_secret()
    }

    /// Whether the token may still be sent at `now`.
    pub fn is_valid_at(&self, now: OffsetDateTime) -> bool {
        now < self.expires_on
    }

    /// Whether it is time to get a new token: within `margin` of expiry, or past `refresh_on`.
    pub fn needs_refresh_at(&self, now: OffsetDateTime, margin: Duration) -> bool {
        let margin = time::Duration::try_from(margin).unwrap_or(time::Duration::MAX);
        let refresh_at = self.expires_on.checked_sub(margin).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        now >= refresh_at || self.refresh_on.is_some_and(|r| now >= r)
    }

    /// The `Authorization` header value.
    pub(crate) fn header_value(&self) -> Option<HeaderValue> {
        self.text.header.clone()
    }

    /// A short, non-reversible fingerprint, to recognise "the token I sent" in the cache.
    pub(crate) fn fingerprint(&self) -> u64 {
        self.text.fingerprint
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"[redacted]")
            .field("expires_on", &self.expires_on)
            .field("refresh_on", &self.refresh_on)
            .finish()
    }
}

/// What a flow asks the credential for ([`Step::GetToken`](crate::flows::Step::GetToken)).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenRequest {
    /// The scopes, e.g. `["https://vault.azure.net/.default"]`.
    pub scopes: Vec<String>,
    /// The tenant the vault named in its challenge (`None`: the credential's own tenant).
    pub tenant_id: Option<String>,
    /// Claims from a Continuous Access Evaluation challenge (decoded JSON), to pass to the
    /// identity endpoint (`claims=` form field).
    pub claims: Option<String>,
}

impl TokenRequest {
    /// A request for `scopes` in the credential's tenant, without claims.
    pub fn new(scopes: Vec<String>) -> Self {
        TokenRequest { scopes, tenant_id: None, claims: None }
    }

    /// Sets the tenant.
    pub fn tenant_id(mut self, tenant_id: Option<String>) -> Self {
        self.tenant_id = tenant_id;
        self
    }

    /// Sets the claims.
    pub fn claims(mut self, claims: Option<String>) -> Self {
        self.claims = claims;
        self
    }
}

/// How the cache answers a lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenLookup {
    /// A token that is valid and not due for refresh.
    Fresh(AccessToken),
    /// A token that is still valid but due for refresh: refresh it, and keep using it if the
    /// refresh fails.
    Stale(AccessToken),
    /// No usable token (none, or expired): get one.
    Missing,
}

/// Tokens keyed by (scopes, tenant, claims). Never returns an expired token.
#[derive(Debug, Clone)]
pub struct TokenCache {
    tokens: BTreeMap<TokenRequest, AccessToken>,
    refresh_margin: Duration,
}

/// Most tokens kept; the oldest-expiring are dropped beyond this (many tenants or claims).
const MAX_TOKENS: usize = 256;

impl Default for TokenCache {
    fn default() -> Self {
        TokenCache::new(TokenCache::DEFAULT_REFRESH_MARGIN)
    }
}

impl TokenCache {
    /// Tokens are refreshed this long before they expire.
    pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(300);

    /// An empty cache refreshing tokens `refresh_margin` before expiry.
    pub fn new(refresh_margin: Duration) -> Self {
        TokenCache { tokens: BTreeMap::new(), refresh_margin }
    }

    /// Looks up the token for `key` at `now`; an expired token is dropped.
    pub fn lookup(&mut self, key: &TokenRequest, now: OffsetDateTime) -> TokenLookup {
        match self.tokens.get(key) {
            Some(t) if !t.is_valid_at(now) => {
                self.tokens.remove(key);
                TokenLookup::Missing
            }
            Some(t) if t.needs_refresh_at(now, self.refresh_margin) => TokenLookup::Stale(t.clone()),
            Some(t) => TokenLookup::Fresh(t.clone()),
            None => TokenLookup::Missing,
        }
    }

    /// Stores a token for `key` (an already expired token is not stored).
    pub fn insert(&mut self, key: TokenRequest, token: AccessToken, now: OffsetDateTime) {
        if !token.is_valid_at(now) {
            return;
        }
        self.tokens.retain(|_, t| t.is_valid_at(now));
        if self.tokens.len() >= MAX_TOKENS && !self.tokens.contains_key(&key) {
            if let Some(oldest) = self.tokens.iter().min_by_key(|(_, t)| t.expires_on).map(|(k, _)| k.clone()) {
                self.tokens.remove(&oldest);
            }
        }
        self.tokens.insert(key, token);
    }

    /// Drops the token for `key` if it is the one with `fingerprint` (the one a 401 rejected);
    /// a newer token stored meanwhile by another flow is kept.
    pub(crate) fn invalidate(&mut self, key: &TokenRequest, fingerprint: u64) {
        if self.tokens.get(key).is_some_and(|t| t.fingerprint() == fingerprint) {
            self.tokens.remove(key);
        }
    }

    /// Drops every token.
    pub fn clear(&mut self) {
        self.tokens.clear();
    }

    /// How many tokens are cached.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn key(claims: Option<&str>) -> TokenRequest {
        TokenRequest::new(vec!["https://vault.azure.net/.default".into()])
            .tenant_id(Some("t".into()))
            .claims(claims.map(str::to_owned))
    }

    #[test]
    fn debug_is_redacted() {
        let t = AccessToken::new("eyJ0eXAiOiJKV1Q", datetime!(2030-01-01 0:00 UTC));
        let text = format!("{t:?}");
        assert!(!text.contains("eyJ0eXAiOiJKV1Q"), "{text}");
        assert!(text.contains("[redacted]"));
        assert!(!format!("{:?}", t.header_value().unwrap()).contains("eyJ"));
    }

    #[test]
    fn refresh_five_minutes_before_expiry_and_never_expired() {
        let exp = datetime!(2030-01-01 1:00 UTC);
        let mut cache = TokenCache::default();
        let now = datetime!(2030-01-01 0:00 UTC);
        cache.insert(key(None), AccessToken::new("a", exp), now);
        assert!(matches!(cache.lookup(&key(None), now), TokenLookup::Fresh(_)));
        assert!(matches!(cache.lookup(&key(None), datetime!(2030-01-01 0:54:59 UTC)), TokenLookup::Fresh(_)));
        assert!(matches!(cache.lookup(&key(None), datetime!(2030-01-01 0:55 UTC)), TokenLookup::Stale(_)));
        assert!(matches!(cache.lookup(&key(None), datetime!(2030-01-01 0:59:59 UTC)), TokenLookup::Stale(_)));
        assert_eq!(cache.lookup(&key(None), exp), TokenLookup::Missing);
        assert!(cache.is_empty());
        cache.insert(key(None), AccessToken::new("old", now), now);
        assert!(cache.is_empty());
    }

    #[test]
    fn keyed_by_claims_and_invalidated_by_fingerprint() {
        let now = datetime!(2030-01-01 0:00 UTC);
        let exp = datetime!(2030-01-01 1:00 UTC);
        let mut cache = TokenCache::default();
        let a = AccessToken::new("a", exp);
        cache.insert(key(None), a.clone(), now);
        assert_eq!(cache.lookup(&key(Some("{}")), now), TokenLookup::Missing);
        cache.invalidate(&key(None), AccessToken::new("b", exp).fingerprint());
        assert_eq!(cache.lookup(&key(None), now), TokenLookup::Fresh(a.clone()));
        cache.invalidate(&key(None), a.fingerprint());
        assert_eq!(cache.lookup(&key(None), now), TokenLookup::Missing);
    }

    #[test]
    fn refresh_on_is_honoured() {
        let now = datetime!(2030-01-01 0:00 UTC);
        let t = AccessToken::new("a", datetime!(2030-01-01 2:00 UTC)).with_refresh_on(Some(now));
        assert!(t.needs_refresh_at(now, Duration::from_secs(300)));
    }
}
