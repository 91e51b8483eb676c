//! Token requests of the HTTP-based credentials, built and parsed here and sent by the
//! transport (through a [`TokenFlow`], which adds retries):
//!
//! | credential | request |
//! |---|---|
//! | [`ClientSecretCredential`] | `POST {authority}/{tenant}/oauth2/v2.0/token`, form `client_id`, `client_secret`, `grant_type=client_credentials`, `scope` (+ `claims`) |
//! | [`WorkloadIdentityCredential`] | same endpoint, form `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`, `client_assertion` (the contents of `AZURE_FEDERATED_TOKEN_FILE`, read by the transport for every request) |
//! | [`ManagedIdentityCredential`] (IMDS) | `GET http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=…` with `Metadata: true` |
//! | [`ManagedIdentityCredential`] (App Service) | `GET $IDENTITY_ENDPOINT?api-version=2019-08-01&resource=…` with `X-IDENTITY-HEADER: $IDENTITY_HEADER` |
//!
//! User-assigned identities are chosen by client id, object (principal) id or resource id.
//! Endpoint errors become [`IdentityError`]s carrying the endpoint's own message and AADSTS
//! codes, with every secret of the credential redacted.

use std::fmt;

use http::{header, Method, Request, Response, StatusCode};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;
use time::OffsetDateTime;

use super::token::{AccessToken, TokenRequest};
use super::token_flow::TokenFlow;
use crate::error::Error;
use crate::flows::retry::{RetryOptions, RetryStatuses};
use crate::models::SecretString;

/// Which identity endpoint answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IdentityEndpoint {
    /// Microsoft Entra ID (client secret, workload identity).
    MicrosoftEntra,
    /// The Azure Instance Metadata Service (VM managed identity).
    Imds,
    /// The App Service / Functions identity endpoint.
    AppService,
}

impl fmt::Display for IdentityEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IdentityEndpoint::MicrosoftEntra => "Microsoft Entra ID",
            IdentityEndpoint::Imds => "the managed identity endpoint (IMDS)",
            IdentityEndpoint::AppService => "the App Service managed identity endpoint",
        })
    }
}

/// An identity endpoint refused to issue a token, or its answer could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityError {
    /// The endpoint.
    pub endpoint: IdentityEndpoint,
    /// The HTTP status, when the endpoint answered.
    pub status: Option<StatusCode>,
    /// The OAuth error code (`invalid_client`, `invalid_request`, …).
    pub code: Option<String>,
    /// The AADSTS error numbers (`error_codes`), e.g. `7000215` for a wrong client secret.
    pub error_codes: Vec<u32>,
    /// The endpoint's own message (`error_description`), secrets redacted.
    pub message: String,
    /// The correlation id, for support requests.
    pub correlation_id: Option<String>,
}

impl IdentityError {
    /// The first AADSTS code.
    pub fn aadsts(&self) -> Option<u32> {
        self.error_codes.first().copied()
    }

    fn new(endpoint: IdentityEndpoint, status: Option<StatusCode>, message: impl Into<String>) -> Self {
        IdentityError {
            endpoint,
            status,
            code: None,
            error_codes: Vec::new(),
            message: message.into(),
            correlation_id: None,
        }
    }
}

impl fmt::Display for IdentityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} refused to issue a token", self.endpoint)?;
        if let Some(status) = self.status {
            write!(f, " (HTTP {status})")?;
        }
        if let Some(code) = &self.code {
            write!(f, ": {code}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(id) = &self.correlation_id {
            write!(f, " (correlation id {id})")?;
        }
        Ok(())
    }
}

impl From<IdentityError> for Error {
    fn from(e: IdentityError) -> Self {
        Error::Identity(Box::new(e))
    }
}

/// The Microsoft Entra authority host (sovereign clouds differ).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AuthorityHost(String);

impl Default for AuthorityHost {
    fn default() -> Self {
        AuthorityHost::azure_public()
    }
}

impl AuthorityHost {
    /// `https://login.microsoftonline.com`.
    pub fn azure_public() -> Self {
        AuthorityHost("https://login.microsoftonline.com".into())
    }

    /// `https://login.chinacloudapi.cn`.
    pub fn azure_china() -> Self {
        AuthorityHost("https://login.chinacloudapi.cn".into())
    }

    /// `https://login.microsoftonline.us`.
    pub fn azure_government() -> Self {
        AuthorityHost("https://login.microsoftonline.us".into())
    }

    /// Any authority host (e.g. from `AZURE_AUTHORITY_HOST`); must be https.
    pub fn new(url: &str) -> Result<Self, Error> {
        let url = url.trim().trim_end_matches('/');
        let uri: http::Uri =
            url.parse().map_err(|_| Error::invalid("authority host", format!("{url:?} is not a URL")))?;
        if !uri.scheme_str().is_some_and(|s| s.eq_ignore_ascii_case("https")) || uri.host().is_none() {
            return Err(Error::invalid("authority host", format!("{url:?} must be an https URL")));
        }
        if uri.query().is_some() || url.contains('@') {
            return Err(Error::invalid("authority host", format!("{url:?} has a query or user info")));
        }
        Ok(AuthorityHost(url.to_owned()))
    }

    /// The URL, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

const FORM: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", utf8_percent_encode(k, FORM), utf8_percent_encode(v, FORM)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

fn valid_tenant(tenant: &str) -> bool {
    !tenant.is_empty()
        && tenant.len() <= 256
        && tenant.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_'))
}

/// The tenant to ask: the vault's (from its challenge) when allowed, else the credential's.
fn resolve_tenant(own: &str, requested: Option<&str>, allowed: &[String]) -> Result<String, Error> {
    let tenant = match requested {
        None => own,
        Some(t) if t.eq_ignore_ascii_case(own) => own,
        Some(t) if allowed.iter().any(|a| a == "*" || a.eq_ignore_ascii_case(t)) => t,
        Some(t) => {
            let mut e = IdentityError::new(
                IdentityEndpoint::MicrosoftEntra,
                None,
                format!(
                    "the vault's tenant {t:?} is not the credential's tenant {own:?}; add it to \
                     additionally_allowed_tenants (or \"*\") to allow tokens for it"
                ),
            );
            e.code = Some("tenant_not_allowed".into());
            return Err(e.into());
        }
    };
    if !valid_tenant(tenant) {
        return Err(Error::invalid("tenant id", format!("{tenant:?} is not a tenant id")));
    }
    Ok(tenant.to_owned())
}

fn entra_request(
    authority: &AuthorityHost,
    tenant: &str,
    scopes: &[String],
    claims: Option<&str>,
    fields: &[(&str, &str)],
) -> Result<Request<Vec<u8>>, Error> {
    if scopes.is_empty() {
        return Err(Error::invalid("token request", "no scope"));
    }
    let scope = scopes.join(" ");
    let mut pairs: Vec<(&str, &str)> = fields.to_vec();
    pairs.push(("grant_type", "client_credentials"));
    pairs.push(("scope", &scope));
    if let Some(claims) = claims {
        pairs.push(("claims", claims));
    }
    Request::builder()
        .method(Method::POST)
        .uri(format!("{}/{tenant}/oauth2/v2.0/token", authority.as_str()))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(form(&pairs))
        .map_err(|e| Error::invalid("token request", e.to_string()))
}

fn number(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out: String = text.chars().take(2000).collect();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(*s, "[redacted]");
    }
    out
}

/// Parses a token response of `endpoint`: the token, or a typed error with the endpoint's own
/// message (`secrets` are redacted from it).
pub fn parse_token_response(
    endpoint: IdentityEndpoint,
    response: &Response<Vec<u8>>,
    now: OffsetDateTime,
    secrets: &[&str],
) -> Result<AccessToken, Error> {
    let status = response.status();
    let json: Option<Value> = serde_json::from_slice(response.body()).ok();
    if !status.is_success() {
        let mut e = IdentityError::new(endpoint, Some(status), "");
        let text = |k: &str| json.as_ref().and_then(|j| j.get(k)).and_then(Value::as_str).map(str::to_owned);
        e.code = text("error").or_else(|| {
            json.as_ref()
                .and_then(|j| j.get("error"))
                .and_then(|x| x.get("code"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        e.error_codes = json
            .as_ref()
            .and_then(|j| j.get("error_codes"))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|c| c.as_u64()).filter_map(|c| u32::try_from(c).ok()).take(8).collect())
            .unwrap_or_default();
        e.correlation_id = text("correlation_id");
        let described = text("error_description").or_else(|| text("message")).or_else(|| {
            json.as_ref()
                .and_then(|j| j.get("error"))
                .and_then(|x| x.get("message"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        let fallback = || String::from_utf8_lossy(&response.body()[..response.body().len().min(512)]).into_owned();
        let mut message = redact(&described.unwrap_or_else(fallback), secrets);
        if endpoint != IdentityEndpoint::MicrosoftEntra {
            let hint = match status.as_u16() {
                400 => Some("no managed identity is assigned to this resource, or not the requested user-assigned one"),
                404 | 410 => Some("the endpoint is not available yet (it may be starting or upgrading)"),
                429 => Some("the endpoint throttled the request"),
                500..=599 => Some("the endpoint failed"),
                _ => None,
            };
            if let Some(hint) = hint {
                message = format!("{hint}: {message}");
            }
        }
        if e.aadsts().is_none() {
            if let Some(code) = message.find("AADSTS").and_then(|i| {
                let digits: String = message[i + 6..].chars().take_while(char::is_ascii_digit).collect();
                digits.parse::<u32>().ok()
            }) {
                e.error_codes.push(code);
            }
        }
        e.message = message;
        return Err(e.into());
    }
    // Never quote a success body: it holds the token.
    let bad = |why: &str| {
        Error::from(IdentityError::new(endpoint, Some(status), format!("unreadable token response: {why}")))
    };
    let json = json.ok_or_else(|| bad("not JSON"))?;
    let token = json
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| bad("no access_token"))?;
    let expires_on = match number(json.get("expires_on")) {
        Some(unix) => OffsetDateTime::from_unix_timestamp(unix).map_err(|_| bad("expires_on out of range"))?,
        None => {
            let secs = number(json.get("expires_in")).ok_or_else(|| bad("neither expires_on nor expires_in"))?;
            now.checked_add(time::Duration::seconds(secs.clamp(0, 10 * 365 * 86_400)))
                .ok_or_else(|| bad("expires_in out of range"))?
        }
    };
    let refresh_on = number(json.get("refresh_in"))
        .filter(|s| *s > 0)
        .and_then(|s| now.checked_add(time::Duration::seconds(s.min(10 * 365 * 86_400))));
    Ok(AccessToken::new(token, expires_on).with_refresh_on(refresh_on))
}

/// A service principal with a client secret.
#[derive(Debug, Clone)]
pub struct ClientSecretCredential {
    /// The home tenant.
    pub tenant_id: String,
    /// The application (client) id.
    pub client_id: String,
    /// The secret; `Debug` prints `[redacted]`.
    pub client_secret: SecretString,
    /// The authority host.
    pub authority: AuthorityHost,
    /// Other tenants tokens may be requested for when a vault's challenge names them (`"*"`:
    /// any).
    pub additionally_allowed_tenants: Vec<String>,
}

impl ClientSecretCredential {
    /// A credential on the public cloud.
    pub fn new(
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<SecretString>,
    ) -> Self {
        ClientSecretCredential {
            tenant_id: tenant_id.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            authority: AuthorityHost::default(),
            additionally_allowed_tenants: Vec::new(),
        }
    }

    /// The token request for `request`.
    pub fn token_request(&self, request: &TokenRequest) -> Result<Request<Vec<u8>>, Error> {
        let tenant = resolve_tenant(&self.tenant_id, request.tenant_id.as_deref(), &self.additionally_allowed_tenants)?;
        entra_request(
            &self.authority,
            &tenant,
            &request.scopes,
            request.claims.as_deref(),
            &[("client_id", &self.client_id), ("client_secret", self.client_secret.expose_secret())],
        )
    }

    /// Parses the token endpoint's answer.
    pub fn parse_token_response(
        &self,
        response: &Response<Vec<u8>>,
        now: OffsetDateTime,
    ) -> Result<AccessToken, Error> {
        parse_token_response(IdentityEndpoint::MicrosoftEntra, response, now, &[self.client_secret.expose_secret()])
    }

    /// The flow that gets a token for `request`, with retries.
    pub fn token_flow(&self, request: &TokenRequest, retry: &RetryOptions) -> Result<TokenFlow, Error> {
        let http = self.token_request(request)?;
        let this = self.clone();
        Ok(TokenFlow::new(http, retry, RetryStatuses::KeyVault, move |r, now| this.parse_token_response(r, now)))
    }
}

/// Workload identity (Kubernetes): a federated client assertion from `AZURE_FEDERATED_TOKEN_FILE`.
#[derive(Debug, Clone)]
pub struct WorkloadIdentityCredential {
    /// `AZURE_TENANT_ID`.
    pub tenant_id: String,
    /// `AZURE_CLIENT_ID`.
    pub client_id: String,
    /// The authority host (`AZURE_AUTHORITY_HOST`).
    pub authority: AuthorityHost,
    /// Other tenants tokens may be requested for (`"*"`: any).
    pub additionally_allowed_tenants: Vec<String>,
}

impl WorkloadIdentityCredential {
    /// A credential on the public cloud.
    pub fn new(tenant_id: impl Into<String>, client_id: impl Into<String>) -> Self {
        WorkloadIdentityCredential {
            tenant_id: tenant_id.into(),
            client_id: client_id.into(),
            authority: AuthorityHost::default(),
            additionally_allowed_tenants: Vec::new(),
        }
    }

    /// The token request for `request`, with the assertion the transport read from the token
    /// file just now (the file is rotated: read it for every request).
    pub fn token_request(&self, request: &TokenRequest, assertion: &SecretString) -> Result<Request<Vec<u8>>, Error> {
        let assertion = assertion.expose_secret().trim();
        if assertion.is_empty() {
            return Err(Error::Authentication("the federated token file is empty".into()));
        }
        let tenant = resolve_tenant(&self.tenant_id, request.tenant_id.as_deref(), &self.additionally_allowed_tenants)?;
        entra_request(
            &self.authority,
            &tenant,
            &request.scopes,
            request.claims.as_deref(),
            &[
                ("client_assertion", assertion),
                ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                ("client_id", &self.client_id),
            ],
        )
    }

    /// Parses the token endpoint's answer (`assertion` is redacted from errors).
    pub fn parse_token_response(
        &self,
        response: &Response<Vec<u8>>,
        now: OffsetDateTime,
        assertion: &SecretString,
    ) -> Result<AccessToken, Error> {
        parse_token_response(IdentityEndpoint::MicrosoftEntra, response, now, &[assertion.expose_secret()])
    }

    /// The flow that gets a token for `request` with `assertion`, with retries.
    pub fn token_flow(
        &self,
        request: &TokenRequest,
        assertion: &SecretString,
        retry: &RetryOptions,
    ) -> Result<TokenFlow, Error> {
        let http = self.token_request(request, assertion)?;
        let (this, assertion) = (self.clone(), assertion.clone());
        Ok(TokenFlow::new(http, retry, RetryStatuses::KeyVault, move |r, now| {
            this.parse_token_response(r, now, &assertion)
        }))
    }
}

/// Which user-assigned managed identity to use.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UserAssignedId {
    /// By client (application) id.
    ClientId(String),
    /// By object (principal) id.
    ObjectId(String),
    /// By Azure resource id.
    ResourceId(String),
}

/// Where the managed identity endpoint is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ManagedIdentitySource {
    /// The VM's Instance Metadata Service.
    Imds,
    /// The IMDS protocol at another token endpoint URL: AAD pod identity
    /// (`AZURE_POD_IDENTITY_AUTHORITY_HOST`), or a local test endpoint.
    ImdsAt(String),
    /// App Service / Functions: `IDENTITY_ENDPOINT` and `IDENTITY_HEADER`.
    AppService {
        /// `IDENTITY_ENDPOINT`.
        endpoint: String,
        /// `IDENTITY_HEADER`; `Debug` prints `[redacted]`.
        identity_header: SecretString,
    },
}

/// A managed identity (system-assigned, or user-assigned by id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedIdentityCredential {
    /// The endpoint.
    pub source: ManagedIdentitySource,
    /// The user-assigned identity (`None`: system-assigned).
    pub user_assigned: Option<UserAssignedId>,
}

/// The IMDS token endpoint.
pub const IMDS_ENDPOINT: &str = "http://169.254.169.254/metadata/identity/oauth2/token";

impl ManagedIdentityCredential {
    /// Picks the source from environment variables read through `lookup` (core reads no
    /// environment: pass `|k| std::env::var(k).ok()`): App Service when `IDENTITY_ENDPOINT`
    /// and `IDENTITY_HEADER` are set; else IMDS, at `AZURE_POD_IDENTITY_AUTHORITY_HOST` when
    /// that is set (AAD pod identity).
    pub fn from_environment(lookup: impl Fn(&str) -> Option<String>, user_assigned: Option<UserAssignedId>) -> Self {
        let source = match (lookup("IDENTITY_ENDPOINT"), lookup("IDENTITY_HEADER")) {
            (Some(endpoint), Some(header)) if !endpoint.is_empty() && !header.is_empty() => {
                ManagedIdentitySource::AppService { endpoint, identity_header: header.into() }
            }
            _ => match lookup("AZURE_POD_IDENTITY_AUTHORITY_HOST").filter(|h| !h.trim().is_empty()) {
                Some(host) => ManagedIdentitySource::ImdsAt(format!(
                    "{}/metadata/identity/oauth2/token",
                    host.trim().trim_end_matches('/')
                )),
                None => ManagedIdentitySource::Imds,
            },
        };
        ManagedIdentityCredential { source, user_assigned }
    }

    fn endpoint_kind(&self) -> IdentityEndpoint {
        match self.source {
            ManagedIdentitySource::Imds | ManagedIdentitySource::ImdsAt(_) => IdentityEndpoint::Imds,
            ManagedIdentitySource::AppService { .. } => IdentityEndpoint::AppService,
        }
    }

    /// The token request for `request` (exactly one scope; tenant and claims do not apply).
    pub fn token_request(&self, request: &TokenRequest) -> Result<Request<Vec<u8>>, Error> {
        let [scope] = request.scopes.as_slice() else {
            return Err(Error::invalid(
                "token request",
                format!("a managed identity takes exactly one scope, not {}", request.scopes.len()),
            ));
        };
        let resource = scope.strip_suffix("/.default").unwrap_or(scope);
        let (base, api_version) = match &self.source {
            ManagedIdentitySource::Imds => (IMDS_ENDPOINT, "2018-02-01"),
            ManagedIdentitySource::ImdsAt(endpoint) => (endpoint.as_str(), "2018-02-01"),
            ManagedIdentitySource::AppService { endpoint, .. } => (endpoint.as_str(), "2019-08-01"),
        };
        let mut query = vec![("api-version", api_version), ("resource", resource)];
        let app_service = matches!(self.source, ManagedIdentitySource::AppService { .. });
        match &self.user_assigned {
            Some(UserAssignedId::ClientId(id)) => query.push(("client_id", id)),
            Some(UserAssignedId::ObjectId(id)) => {
                query.push((if app_service { "principal_id" } else { "object_id" }, id))
            }
            Some(UserAssignedId::ResourceId(id)) => {
                query.push((if app_service { "mi_res_id" } else { "msi_res_id" }, id))
            }
            None => {}
        }
        let query = String::from_utf8(form(&query)).unwrap_or_default();
        let separator = if base.contains('?') { '&' } else { '?' };
        let mut builder = Request::builder().method(Method::GET).uri(format!("{base}{separator}{query}"));
        builder = match &self.source {
            ManagedIdentitySource::Imds | ManagedIdentitySource::ImdsAt(_) => builder.header("Metadata", "true"),
            ManagedIdentitySource::AppService { identity_header, .. } => {
                let mut v = http::HeaderValue::from_str(identity_header.expose_secret())
                    .map_err(|_| Error::invalid("IDENTITY_HEADER", "not a valid header value"))?;
                v.set_sensitive(true);
                builder.header("X-IDENTITY-HEADER", v)
            }
        };
        builder
            .body(Vec::new())
            .map_err(|_| Error::invalid("managed identity endpoint", format!("{base:?} is not a URL")))
    }

    /// Parses the endpoint's answer.
    pub fn parse_token_response(
        &self,
        response: &Response<Vec<u8>>,
        now: OffsetDateTime,
    ) -> Result<AccessToken, Error> {
        let secrets: Vec<&str> = match &self.source {
            ManagedIdentitySource::AppService { identity_header, .. } => vec![identity_header.expose_secret()],
            ManagedIdentitySource::Imds | ManagedIdentitySource::ImdsAt(_) => Vec::new(),
        };
        parse_token_response(self.endpoint_kind(), response, now, &secrets)
    }

    /// The flow that gets a token for `request`, retrying 404, 408, 410, 429 and 5xx (IMDS
    /// answers those while it starts or upgrades) with [`RetryOptions::managed_identity`], but
    /// not an endpoint that cannot be reached: it is absent, and the error says so at once.
    pub fn token_flow(&self, request: &TokenRequest) -> Result<TokenFlow, Error> {
        self.token_flow_with(request, &RetryOptions::managed_identity())
    }

    /// [`ManagedIdentityCredential::token_flow`] with other retry options.
    pub fn token_flow_with(&self, request: &TokenRequest, retry: &RetryOptions) -> Result<TokenFlow, Error> {
        let http = self.token_request(request)?;
        let this = self.clone();
        Ok(TokenFlow::new(http, retry, RetryStatuses::ManagedIdentity, move |r, now| this.parse_token_response(r, now)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::scenario::response;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2022-10-31 23:20:25 UTC);

    fn kv() -> TokenRequest {
        TokenRequest::new(vec!["https://vault.azure.net/.default".into()])
    }

    #[test]
    fn client_secret_request_and_response() {
        let mut c = ClientSecretCredential::new("home", "app-id", "s3cr3t+/=");
        c.authority = AuthorityHost::azure_china();
        let r = c.token_request(&kv().claims(Some(r#"{"a":1}"#.into()))).unwrap();
        assert_eq!(r.method(), Method::POST);
        assert_eq!(r.uri(), "https://login.chinacloudapi.cn/home/oauth2/v2.0/token");
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/x-www-form-urlencoded");
        assert_eq!(
            String::from_utf8(r.body().clone()).unwrap(),
            "client_id=app-id&client_secret=s3cr3t%2B%2F%3D&grant_type=client_credentials&scope=https%3A%2F%2Fvault.azure.net%2F.default&claims=%7B%22a%22%3A1%7D"
        );
        assert!(!format!("{c:?}").contains("s3cr3t"));
        let ok = response(
            200,
            &[],
            r#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ0"}"#,
        );
        let t = c.parse_token_response(&ok, NOW).unwrap();
        assert_eq!(t.secret(), "eyJ0");
        assert_eq!(t.expires_on, NOW + time::Duration::seconds(3599));
    }

    #[test]
    fn tenants_from_challenges_must_be_allowed() {
        let mut c = ClientSecretCredential::new("home", "app", "secret");
        let other = kv().tenant_id(Some("72f988bf-86f1-41af-91ab-2d7cd011db47".into()));
        let e = c.token_request(&other).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Authentication);
        assert!(e.to_string().contains("additionally_allowed_tenants"), "{e}");
        c.additionally_allowed_tenants = vec!["*".into()];
        assert!(c.token_request(&other).unwrap().uri().path().starts_with("/72f988bf-86f1-41af-91ab-2d7cd011db47/"));
        assert!(c.token_request(&kv().tenant_id(Some("HOME".into()))).is_ok());
        c.additionally_allowed_tenants = vec!["*".into()];
        assert!(c.token_request(&kv().tenant_id(Some("../x".into()))).is_err());
    }

    #[test]
    fn entra_errors_are_typed_and_redacted() {
        let c = ClientSecretCredential::new("home", "app", "TopSecretValue");
        let body = r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID (TopSecretValue).\r\nTrace ID: 1\r\nCorrelation ID: 2","error_codes":[7000215],"timestamp":"2022-10-31 23:20:25Z","trace_id":"1","correlation_id":"2f1c"}"#;
        let e = c.parse_token_response(&response(401, &[], body), NOW).unwrap_err();
        let Error::Identity(ie) = &e else { panic!("{e:?}") };
        assert_eq!(ie.aadsts(), Some(7000215));
        assert_eq!(ie.code.as_deref(), Some("invalid_client"));
        assert_eq!(ie.correlation_id.as_deref(), Some("2f1c"));
        let text = e.to_string();
        assert!(text.contains("AADSTS7000215") && !text.contains("TopSecretValue"), "{text}");
        let e = c.parse_token_response(&response(200, &[], r#"{"access_token":"TOKEN"}"#), NOW).unwrap_err();
        assert!(!e.to_string().contains("TOKEN"));
    }

    #[test]
    fn imds_requests_and_errors() {
        let system = ManagedIdentityCredential { source: ManagedIdentitySource::Imds, user_assigned: None };
        let r = system.token_request(&kv()).unwrap();
        assert_eq!(
            r.uri(),
            "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net"
        );
        assert_eq!(r.headers()["metadata"], "true");
        for (id, param) in [
            (UserAssignedId::ClientId("c".into()), "client_id=c"),
            (UserAssignedId::ObjectId("o".into()), "object_id=o"),
            (UserAssignedId::ResourceId("/subscriptions/s".into()), "msi_res_id=%2Fsubscriptions%2Fs"),
        ] {
            let c = ManagedIdentityCredential { source: ManagedIdentitySource::Imds, user_assigned: Some(id) };
            assert!(c.token_request(&kv()).unwrap().uri().query().unwrap().ends_with(param));
        }
        let ok = response(
            200,
            &[],
            r#"{"access_token":"eyJ0","client_id":"c","expires_in":"86399","expires_on":"1667345225","ext_expires_in":"86399","not_before":"1667258525","resource":"https://vault.azure.net","token_type":"Bearer"}"#,
        );
        assert_eq!(system.parse_token_response(&ok, NOW).unwrap().expires_on.unix_timestamp(), 1667345225);
        let e = system
            .parse_token_response(
                &response(400, &[], r#"{"error":"invalid_request","error_description":"Identity not found"}"#),
                NOW,
            )
            .unwrap_err();
        let text = e.to_string();
        assert!(text.contains("Identity not found") && text.contains("no managed identity"), "{text}");
        let e = system.parse_token_response(&response(410, &[], "upgrading"), NOW).unwrap_err();
        assert!(e.to_string().contains("upgrading"));
        assert!(system.token_request(&TokenRequest::new(vec!["a".into(), "b".into()])).is_err());
    }

    #[test]
    fn app_service_from_environment() {
        let env = |k: &str| match k {
            "IDENTITY_ENDPOINT" => Some("http://127.0.0.1:41741/msi/token/".to_string()),
            "IDENTITY_HEADER" => Some("hdr-secret".to_string()),
            _ => None,
        };
        let c = ManagedIdentityCredential::from_environment(env, Some(UserAssignedId::ObjectId("o".into())));
        let r = c.token_request(&kv()).unwrap();
        assert_eq!(
            r.uri(),
            "http://127.0.0.1:41741/msi/token/?api-version=2019-08-01&resource=https%3A%2F%2Fvault.azure.net&principal_id=o"
        );
        assert_eq!(r.headers()["x-identity-header"], "hdr-secret");
        assert!(!format!("{c:?}").contains("hdr-secret"));
        let e = c.parse_token_response(&response(500, &[], "boom hdr-secret"), NOW).unwrap_err();
        assert!(!e.to_string().contains("hdr-secret"));
        assert_eq!(ManagedIdentityCredential::from_environment(|_| None, None).source, ManagedIdentitySource::Imds);
    }

    #[test]
    fn workload_identity() {
        let c = WorkloadIdentityCredential::new("t", "c");
        let assertion = SecretString::new("eyJhbGciOi.fed.sig\n");
        let r = c.token_request(&kv(), &assertion).unwrap();
        let body = String::from_utf8(r.body().clone()).unwrap();
        assert!(body.starts_with("client_assertion=eyJhbGciOi.fed.sig&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_id=c&grant_type=client_credentials"), "{body}");
        assert!(c.token_request(&kv(), &SecretString::new(" ")).is_err());
        assert!(AuthorityHost::new("http://login.example").is_err());
        assert_eq!(
            AuthorityHost::new("https://login.microsoftonline.us/").unwrap().as_str(),
            "https://login.microsoftonline.us"
        );
    }
}
