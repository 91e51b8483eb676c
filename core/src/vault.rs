//! The request factory: a validated vault URL plus the options every request shares.

use http::uri::{Authority, PathAndQuery, Scheme};
use http::{header, HeaderValue, Method, Request, Uri};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::api_version::ApiVersion;
use crate::error::Error;

/// Options shared by every request to one vault.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VaultOptions {
    /// The `api-version` sent with every request (default [`ApiVersion::LATEST`]).
    pub api_version: ApiVersion,
    /// Allow a plain `http://` vault URL when the host is loopback (`localhost`, `127.0.0.0/8`,
    /// `[::1]`), for a local emulator. Off by default: Key Vault is only reached over TLS.
    pub allow_insecure_loopback: bool,
}

impl VaultOptions {
    /// Sets the api version.
    pub fn api_version(mut self, api_version: ApiVersion) -> Self {
        self.api_version = api_version;
        self
    }

    /// Allows plain http to a loopback host (for an emulator).
    pub fn allow_insecure_loopback(mut self, allow: bool) -> Self {
        self.allow_insecure_loopback = allow;
        self
    }
}

/// A Key Vault endpoint and the options for its requests: builds an [`http::Request`] for every
/// certificate operation (see the methods in [`crate::requests`]).
///
/// ```
/// use kvcerts_core::Vault;
/// let vault = Vault::new("https://myvault.vault.azure.net/").unwrap();
/// let call = vault.get_certificate("my-cert").unwrap();
/// assert_eq!(
///     call.request().uri(),
///     "https://myvault.vault.azure.net/certificates/my-cert/?api-version=2026-04-01"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vault {
    /// `scheme://host[:port]`, lower-case host, no trailing slash.
    origin: String,
    /// The authority of `origin` (lower-case host, port when not the default), parsed once:
    /// requests reuse it, and the host and port are read from it.
    authority: Authority,
    https: bool,
    options: VaultOptions,
}

/// Characters escaped in a path segment (everything but unreserved characters).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

impl Vault {
    /// Validates `vault_url` with the default options.
    pub fn new(vault_url: &str) -> Result<Self, Error> {
        Vault::with_options(vault_url, VaultOptions::default())
    }

    /// Validates `vault_url`: `https://host[:port][/]` with no user info, path, query or fragment;
    /// `http://` only for a loopback host and only with
    /// [`VaultOptions::allow_insecure_loopback`].
    pub fn with_options(vault_url: &str, options: VaultOptions) -> Result<Self, Error> {
        let bad = |reason: String| Error::invalid("vault URL", format!("{vault_url:?}: {reason}"));
        let trimmed = vault_url.trim();
        let (scheme, rest) =
            trimmed.split_once("://").ok_or_else(|| bad("expected https://<vault-name>.vault.azure.net".into()))?;
        let https = if scheme.eq_ignore_ascii_case("https") {
            true
        } else if scheme.eq_ignore_ascii_case("http") {
            false
        } else {
            return Err(bad(format!("scheme {scheme:?} is not https")));
        };
        if rest.contains('?') {
            return Err(bad("a vault URL has no query string".into()));
        }
        if rest.contains('#') {
            return Err(bad("a vault URL has no fragment".into()));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if !(path.is_empty() || path == "/") {
            return Err(bad(format!("a vault URL has no path (found {path:?})")));
        }
        if authority.contains('@') {
            return Err(bad("a vault URL carries no user name or password".into()));
        }
        let parsed: http::uri::Authority =
            authority.parse().map_err(|_| bad("the host is not a valid host name".into()))?;
        let host = parsed.host().to_ascii_lowercase();
        if host.is_empty() {
            return Err(bad("no host".into()));
        }
        if host.ends_with('.') {
            return Err(bad("the host ends with a dot; write it without the trailing dot".into()));
        }
        let host_ok = if host.starts_with('[') {
            host.ends_with(']') && host[1..host.len() - 1].parse::<std::net::Ipv6Addr>().is_ok()
        } else {
            host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        };
        if !host_ok {
            return Err(bad(format!("{host:?} is not a valid host name")));
        }
        if authority.ends_with(':') {
            return Err(bad("empty port".into()));
        }
        let port = parsed.port_u16();
        if !https {
            if !options.allow_insecure_loopback {
                return Err(bad(
                    "plain http is refused: Key Vault is reached over https (allow_insecure_loopback permits http to a local emulator)".into(),
                ));
            }
            if !is_loopback_host(&host) {
                return Err(bad(format!("plain http is only allowed to a loopback host, not {host:?}")));
            }
        }
        let default_port = if https { 443 } else { 80 };
        let port = port.filter(|p| *p != default_port);
        let written = match port {
            Some(p) => format!("{host}:{p}"),
            None => host,
        };
        let origin = format!("{}://{written}", if https { "https" } else { "http" });
        let authority = Authority::try_from(written).map_err(|_| bad("the host is not a valid host name".into()))?;
        Ok(Vault { origin, authority, https, options })
    }

    /// The vault URL, `scheme://host[:port]` without a trailing slash.
    pub fn url(&self) -> &str {
        &self.origin
    }

    /// The vault's host name, lower case.
    pub fn host(&self) -> &str {
        self.authority.host()
    }

    /// The port, when it is not the scheme's default.
    pub fn port(&self) -> Option<u16> {
        self.authority.port_u16()
    }

    /// Whether the vault is reached over TLS.
    pub fn is_https(&self) -> bool {
        self.https
    }

    /// The options every request uses.
    pub fn options(&self) -> &VaultOptions {
        &self.options
    }

    /// The api version every request uses.
    pub fn api_version(&self) -> &ApiVersion {
        &self.options.api_version
    }

    /// Whether `url` points at this vault (same scheme, host and port).
    pub fn is_same_origin(&self, url: &str) -> bool {
        match Vault::with_options(
            origin_of(url),
            VaultOptions { allow_insecure_loopback: true, ..VaultOptions::default() },
        ) {
            Ok(other) => other.origin == self.origin,
            Err(_) => false,
        }
    }

    /// Builds a request to `path_segments` under the vault with the api version and `query`.
    pub(crate) fn request(
        &self,
        method: Method,
        path_segments: &[&str],
        query: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Result<Request<Vec<u8>>, Error> {
        let mut uri = String::with_capacity(64);
        for segment in path_segments {
            uri.push('/');
            uri.extend(utf8_percent_encode(segment, SEGMENT));
        }
        uri.push_str("?api-version=");
        uri.push_str(self.options.api_version.as_str());
        for (k, v) in query {
            uri.push('&');
            uri.push_str(k);
            uri.push('=');
            uri.extend(utf8_percent_encode(v, SEGMENT));
        }
        self.build(method, uri, body)
    }

    /// Builds a GET for an absolute URL the service handed out (a `nextLink`), after checking it
    /// points to this vault, so a token never follows a link to another host.
    pub(crate) fn request_to_link(&self, link: &str) -> Result<Request<Vec<u8>>, Error> {
        if !self.is_same_origin(link) {
            return Err(Error::Security(format!(
                "link {link:?} points outside the vault {}; it is not followed",
                self.origin
            )));
        }
        let uri: http::Uri =
            link.parse().map_err(|_| Error::invalid("link", format!("{link:?} is not a valid URL")))?;
        let mut out = String::with_capacity(link.len() + 32);
        out.push_str(uri.path());
        // Keep the link's query exactly, but make sure the api version is present.
        match uri.query() {
            Some(q) if q.split('&').any(|p| p.starts_with("api-version=")) => {
                out.push('?');
                out.push_str(q);
            }
            Some(q) => {
                out.push('?');
                out.push_str(q);
                out.push_str("&api-version=");
                out.push_str(self.options.api_version.as_str());
            }
            None => {
                out.push_str("?api-version=");
                out.push_str(self.options.api_version.as_str());
            }
        }
        self.build(Method::GET, out, None)
    }

    /// A request to this vault's origin for `path_and_query` (already validated or
    /// percent-encoded), with `Accept` and, with a body, `Content-Type` JSON.
    ///
    /// Put together from parts rather than with `Request::builder()` and a URL string: the
    /// vault's authority is reused instead of parsed again, and there is less code to run.
    fn build(&self, method: Method, path_and_query: String, body: Option<Vec<u8>>) -> Result<Request<Vec<u8>>, Error> {
        // Every part was validated or percent-encoded, so this cannot fail; if that invariant is
        // ever broken, say so rather than send something else.
        let cannot = |what: &str| Error::invalid("request", format!("cannot be built: {what}"));
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(if self.https { Scheme::HTTPS } else { Scheme::HTTP });
        parts.authority = Some(self.authority.clone());
        parts.path_and_query = Some(PathAndQuery::try_from(path_and_query).map_err(|e| cannot(&e.to_string()))?);
        let uri = Uri::from_parts(parts).map_err(|e| cannot(&e.to_string()))?;
        let json = HeaderValue::from_static("application/json");
        let has_body = body.is_some();
        let mut request = Request::new(body.unwrap_or_default());
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        request.headers_mut().insert(header::ACCEPT, json.clone());
        if has_body {
            request.headers_mut().insert(header::CONTENT_TYPE, json);
        }
        Ok(request)
    }
}

/// `scheme://authority` of an absolute URL (the whole string when it has no path).
fn origin_of(url: &str) -> &str {
    match url.find("://") {
        Some(i) => {
            let after = i + 3;
            match url[after..].find(['/', '?', '#']) {
                Some(j) => &url[..after + j],
                None => url,
            }
        }
        None => url,
    }
}

/// Whether `host` is a loopback host: `localhost`, `127.0.0.0/8` or `[::1]`.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Ok(v4) = host.parse::<std::net::Ipv4Addr>() {
        return v4.is_loopback();
    }
    let inner = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    inner.parse::<std::net::Ipv6Addr>().map(|v6| v6.is_loopback()).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_vault_urls() {
        let v = Vault::new("https://MyVault.vault.azure.net/").unwrap();
        assert_eq!(v.url(), "https://myvault.vault.azure.net");
        assert_eq!(v.host(), "myvault.vault.azure.net");
        assert_eq!(Vault::new("https://v.vault.azure.net:443").unwrap().url(), "https://v.vault.azure.net");
        assert_eq!(Vault::new("https://v.vault.azure.net:443").unwrap().port(), None);
        assert_eq!(Vault::new("https://v.vault.azure.net:8443").unwrap().port(), Some(8443));
        assert_eq!(Vault::new("https://v.vault.azure.net:8443").unwrap().url(), "https://v.vault.azure.net:8443");
    }

    #[test]
    fn rejects_bad_urls_with_reasons() {
        for (url, needle) in [
            ("myvault.vault.azure.net", "expected https"),
            ("ftp://x.vault.azure.net", "scheme"),
            ("https://", "host"),
            ("https://x.vault.azure.net/?a=b", "query"),
            ("https://x.vault.azure.net/#f", "fragment"),
            ("https://user:pw@x.vault.azure.net", "user name"),
            ("https://x.vault.azure.net/certificates", "path"),
            ("http://x.vault.azure.net", "plain http"),
            ("https://x y.net", "host"),
            ("https://myvault.vault.azure.net./", "trailing dot"),
        ] {
            let err = Vault::new(url).unwrap_err().to_string();
            assert!(err.contains(needle), "{url}: {err}");
        }
    }

    #[test]
    fn http_only_for_opted_in_loopback() {
        let opts = VaultOptions::default().allow_insecure_loopback(true);
        assert!(Vault::with_options("http://127.0.0.1:8080", opts.clone()).is_ok());
        assert!(Vault::with_options("http://localhost:8080", opts.clone()).is_ok());
        let v6 = Vault::with_options("http://[::1]:8080", opts.clone()).unwrap();
        assert_eq!((v6.host(), v6.port(), v6.url()), ("[::1]", Some(8080), "http://[::1]:8080"));
        assert!(Vault::with_options("http://10.0.0.1:8080", opts).is_err());
        assert!(Vault::new("http://127.0.0.1:8080").is_err());
    }

    #[test]
    fn links_must_stay_on_the_vault() {
        let v = Vault::new("https://v.vault.azure.net").unwrap();
        let r = v
            .request_to_link("https://v.vault.azure.net/certificates?api-version=7.3&$skiptoken=abc&maxresults=2")
            .unwrap();
        assert_eq!(r.uri(), "https://v.vault.azure.net/certificates?api-version=7.3&$skiptoken=abc&maxresults=2");
        assert_eq!(
            v.request_to_link("https://evil.example/certificates").unwrap_err().kind(),
            crate::ErrorKind::Security
        );
        assert!(v.request_to_link("https://v.vault.azure.net.evil.example/x").is_err());
        assert!(v.request_to_link("http://v.vault.azure.net/x").is_err());
        // A link with no path gets the root path; a written default port is the same origin.
        let r = v.request_to_link("https://V.vault.azure.net:443?$skiptoken=a").unwrap();
        let version = v.api_version().as_str();
        assert_eq!(r.uri().to_string(), format!("https://v.vault.azure.net/?$skiptoken=a&api-version={version}"));
    }

    #[test]
    fn requests_carry_the_vault_origin_and_json_headers() {
        let v = Vault::new("https://MyVault.vault.azure.net:8443/").unwrap();
        let version = v.api_version().as_str();
        let get = v.request(Method::GET, &["certificates", "a b/c"], &[("maxresults", "5")], None).unwrap();
        assert_eq!(
            get.uri().to_string(),
            format!("https://myvault.vault.azure.net:8443/certificates/a%20b%2Fc?api-version={version}&maxresults=5")
        );
        assert_eq!(get.uri().authority().unwrap().as_str(), "myvault.vault.azure.net:8443");
        assert_eq!(get.method(), Method::GET);
        assert_eq!(get.headers()[header::ACCEPT], "application/json");
        assert!(get.headers().get(header::CONTENT_TYPE).is_none());
        assert!(get.body().is_empty());
        let loopback = VaultOptions::default().allow_insecure_loopback(true);
        let v = Vault::with_options("http://127.0.0.1:80", loopback).unwrap();
        let put = v.request(Method::PUT, &["certificates", "contacts"], &[], Some(b"{}".to_vec())).unwrap();
        assert_eq!(put.uri().to_string(), format!("http://127.0.0.1/certificates/contacts?api-version={version}"));
        assert_eq!(put.method(), Method::PUT);
        assert_eq!(put.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(put.body(), b"{}");
    }
}
