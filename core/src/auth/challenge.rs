//! `WWW-Authenticate` parsing, Key Vault bearer challenges, CAE claims challenges and the
//! check that a vault host belongs to the challenge's resource.

use http::HeaderMap;

use crate::error::Error;

/// One challenge of a `WWW-Authenticate` header: a scheme and its parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthChallenge {
    /// The scheme as sent (`Bearer`, `PoP`, `Basic`, …).
    pub scheme: String,
    /// The parameters, names lower-cased, in order; quoted values unescaped.
    pub params: Vec<(String, String)>,
    /// A `token68` value (`Basic dXNlcg==`), when the challenge carries one instead of
    /// parameters.
    pub token68: Option<String>,
}

impl AuthChallenge {
    /// The first value of parameter `name` (case-insensitive).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Whether this is a `Bearer` challenge (case-insensitive).
    pub fn is_bearer(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("bearer")
    }
}

/// Longest header value parsed; longer input is truncated (a challenge is a few hundred bytes).
const MAX_HEADER_LEN: usize = 16 * 1024;
/// Most challenges and parameters kept.
const MAX_ITEMS: usize = 64;

/// Parses one `WWW-Authenticate` value into its challenges (RFC 9110 §11.6.1): any spacing,
/// quoted or bare values, parameters in any order, several challenges in one value. Never fails
/// and never panics; what cannot be understood is skipped.
///
/// ```
/// use kvcerts_core::auth::parse_www_authenticate;
/// let c = parse_www_authenticate(
///     r#"Bearer authorization="https://login.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47", resource="https://vault.azure.net""#,
/// );
/// assert_eq!(c[0].scheme, "Bearer");
/// assert_eq!(c[0].param("resource"), Some("https://vault.azure.net"));
/// ```
pub fn parse_www_authenticate(value: &str) -> Vec<AuthChallenge> {
    let mut end = value.len().min(MAX_HEADER_LEN);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    let s = &value[..end];
    let b = s.as_bytes();
    let mut i = 0;
    let mut out: Vec<AuthChallenge> = Vec::new();
    let is_sep = |c: u8| c == b',' || c.is_ascii_whitespace();
    let is_token = |c: u8| !(is_sep(c) || c == b'=' || c == b'"');
    while i < b.len() && out.len() <= MAX_ITEMS {
        while i < b.len() && is_sep(b[i]) {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        if !is_token(b[i]) {
            // A stray `=` or quote: skip it.
            if b[i] == b'"' {
                let (_, next) = quoted(s, i);
                i = next;
            } else {
                i += 1;
            }
            continue;
        }
        let start = i;
        while i < b.len() && is_token(b[i]) {
            i += 1;
        }
        let word = &s[start..i];
        let mut j = i;
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        let is_param = j < b.len() && b[j] == b'=' && !(j + 1 < b.len() && b[j + 1] == b'=');
        if is_param && !out.is_empty() {
            // name = value
            j += 1;
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            let (val, next) = if j < b.len() && b[j] == b'"' {
                quoted(s, j)
            } else {
                let vs = j;
                while j < b.len() && !is_sep(b[j]) {
                    j += 1;
                }
                (s[vs..j].to_owned(), j)
            };
            i = next;
            if let Some(current) = out.last_mut() {
                if current.params.len() < MAX_ITEMS {
                    current.params.push((word.to_ascii_lowercase(), val));
                }
            }
            continue;
        }
        if is_param {
            // A parameter before any scheme: not a challenge; skip its value.
            i = j + 1;
            if i < b.len() && b[i] == b'"' {
                i = quoted(s, i).1;
            }
            continue;
        }
        // A scheme, maybe followed by a token68.
        let mut challenge = AuthChallenge { scheme: word.to_owned(), ..AuthChallenge::default() };
        let mut k = i;
        while k < b.len() && b[k] == b' ' {
            k += 1;
        }
        if k > i && k < b.len() && is_token(b[k]) {
            let ts = k;
            while k < b.len() && (is_token(b[k]) || b[k] == b'=') {
                k += 1;
            }
            let candidate = &s[ts..k];
            let mut m = k;
            while m < b.len() && b[m].is_ascii_whitespace() {
                m += 1;
            }
            // token68 ends with optional `=` padding and is followed by `,` or the end; a
            // parameter name is followed by a single `=` and a value.
            let looks_like_param =
                candidate.trim_end_matches('=').len() + 1 == candidate.len() && m < b.len() && b[m] != b',';
            let has_inner_eq = candidate.trim_end_matches('=').contains('=');
            if !looks_like_param && !has_inner_eq && (m >= b.len() || b[m] == b',') {
                challenge.token68 = Some(candidate.to_owned());
                i = k;
            }
        }
        out.push(challenge);
    }
    out.truncate(MAX_ITEMS);
    out
}

/// Reads a quoted string starting at the `"` at `start`; returns the unescaped value and the
/// index after the closing quote (or the end).
fn quoted(s: &str, start: usize) -> (String, usize) {
    let mut out = String::new();
    let mut chars = s[start + 1..].char_indices();
    while let Some((off, c)) = chars.next() {
        match c {
            '"' => return (out, start + 1 + off + 1),
            '\\' => {
                if let Some((_, n)) = chars.next() {
                    out.push(n);
                }
            }
            c => out.push(c),
        }
    }
    (out, s.len())
}

/// Every challenge of every `WWW-Authenticate` header.
pub fn challenges_in(headers: &HeaderMap) -> Vec<AuthChallenge> {
    headers
        .get_all(http::header::WWW_AUTHENTICATE)
        .iter()
        .take(MAX_ITEMS)
        .filter_map(|v| v.to_str().ok())
        .flat_map(parse_www_authenticate)
        .collect()
}

/// What a Key Vault bearer challenge says: the scope to ask a token for and the tenant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Challenge {
    /// The token scope, e.g. `https://vault.azure.net/.default` (`scope` wins over
    /// `resource` + `/.default`).
    pub scope: String,
    /// The tenant of the `authorization`/`authorization_uri` authority (`None` for AD FS or
    /// when the challenge names none).
    pub tenant_id: Option<String>,
}

impl Challenge {
    /// A challenge given up front (pre-seeded), so the first call skips the 401 round trip.
    pub fn new(scope: impl Into<String>, tenant_id: Option<String>) -> Self {
        Challenge { scope: scope.into(), tenant_id }
    }

    /// Reads the Key Vault challenge from a `Bearer` challenge: `None` when it names neither a
    /// scope nor a resource.
    pub fn from_auth_challenge(c: &AuthChallenge) -> Option<Challenge> {
        if !c.is_bearer() {
            return None;
        }
        let scope = match (c.param("scope").filter(|s| !s.trim().is_empty()), c.param("resource")) {
            (Some(scope), _) => scope.trim().to_owned(),
            (None, Some(resource)) if !resource.trim().is_empty() => {
                format!("{}/.default", resource.trim().trim_end_matches('/'))
            }
            _ => return None,
        };
        let tenant_id =
            c.param("authorization").or_else(|| c.param("authorization_uri")).and_then(tenant_from_authority);
        Some(Challenge { scope, tenant_id })
    }

    /// The first Key Vault challenge in the response headers.
    pub fn from_headers(headers: &HeaderMap) -> Option<Challenge> {
        challenges_in(headers).iter().find_map(Challenge::from_auth_challenge)
    }

    /// The host the token's audience names (the scope's host), lower case.
    pub fn resource_host(&self) -> Option<String> {
        url_host(&self.scope)
    }
}

/// The tenant in an authority URL: its first path segment (`https://login.microsoftonline.com/{tenant}`),
/// the second for `dstsv2/{tenant}`, none for AD FS (`…/adfs`).
pub fn tenant_from_authority(authority: &str) -> Option<String> {
    let rest = authority.trim().split_once("://").map(|(_, r)| r)?;
    let path = rest.split_once('/').map(|(_, p)| p).unwrap_or("");
    let path = path.split(['?', '#']).next().unwrap_or("");
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    let first = segments.next()?;
    if first.eq_ignore_ascii_case("adfs") {
        return None;
    }
    let tenant = if first.eq_ignore_ascii_case("dstsv2") { segments.next()? } else { first };
    let valid = tenant.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_'));
    (valid && tenant.len() <= 256).then(|| tenant.to_owned())
}

/// The lower-case host of an absolute URL (no port, no user info); `None` when there is none.
pub(crate) fn url_host(url: &str) -> Option<String> {
    let rest = url.trim().split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map(|(_, a)| a).unwrap_or(authority);
    let host = if authority.starts_with('[') {
        authority.split_once(']').map(|(h, _)| format!("{h}]"))?
    } else {
        authority.split(':').next()?.to_owned()
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// Checks that `vault_host` is a subdomain of the challenge's resource host (e.g.
/// `myvault.vault.azure.net` under `vault.azure.net`), so a host that is not a Key Vault cannot
/// obtain a Key Vault token. Rejects look-alikes (`hostvault.azure.net`), other domains
/// (`vault.evil.com`) and trailing-dot names (`myvault.vault.azure.net.`). The error names both
/// hosts.
pub fn verify_challenge_resource(vault_host: &str, challenge: &Challenge) -> Result<(), Error> {
    let resource_host = challenge.resource_host().unwrap_or_default();
    let host = vault_host.to_ascii_lowercase();
    let valid_name = |h: &str| {
        !h.is_empty()
            && !h.starts_with('.')
            && !h.ends_with('.')
            && !h.contains("..")
            && h.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
    };
    let ok = valid_name(&host)
        && valid_name(&resource_host)
        && host.len() > resource_host.len() + 1
        && host.ends_with(&resource_host)
        && host.as_bytes()[host.len() - resource_host.len() - 1] == b'.';
    if ok {
        Ok(())
    } else {
        Err(Error::Security(format!(
            "the vault host {vault_host:?} is not a subdomain of the challenge resource host {resource_host:?} \
             (scope {:?}); no token was sent. If the vault URL is right and this is an emulator, turn \
             challenge resource verification off",
            challenge.scope
        )))
    }
}

/// The claims of a Continuous Access Evaluation challenge (`error="insufficient_claims"`,
/// `claims="<base64 JSON>"`), decoded; `None` when the headers carry no such challenge.
pub fn claims_challenge(headers: &HeaderMap) -> Option<String> {
    challenges_in(headers).iter().find_map(|c| {
        if !c.is_bearer() || !c.param("error")?.eq_ignore_ascii_case("insufficient_claims") {
            return None;
        }
        decode_claims(c.param("claims")?)
    })
}

fn decode_claims(encoded: &str) -> Option<String> {
    // Either alphabet, padded or not, as identity providers send it.
    let bytes = crate::models::encoding::decode_base64(encoded).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    (!text.trim().is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::scenario::headers;

    /// The challenge the real service sent (net-VerifyDeleteRecoverPurge.json).
    const REAL: &str = r#"Bearer authorization="https://login.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47", resource="https://vault.azure.net""#;

    #[test]
    fn real_challenge() {
        let c = Challenge::from_headers(&headers(&[("www-authenticate", REAL)])).unwrap();
        assert_eq!(c.scope, "https://vault.azure.net/.default");
        assert_eq!(c.tenant_id.as_deref(), Some("72f988bf-86f1-41af-91ab-2d7cd011db47"));
        assert_eq!(c.resource_host().as_deref(), Some("vault.azure.net"));
    }

    #[test]
    fn other_forms() {
        let cases = [
            (
                r#"Bearer scope="https://vault.azure.net/.default", authorization_uri="https://login.microsoftonline.com/t1/""#,
                "https://vault.azure.net/.default",
                Some("t1"),
            ),
            (
                r#"bearer   resource=https://vault.azure.net/ ,authorization=https://login.microsoftonline.com/t2"#,
                "https://vault.azure.net/.default",
                Some("t2"),
            ),
            (
                r#"Bearer resource="https://vault.azure.net", scope="https://vault.azure.cn/.default", authorization="https://login.chinacloudapi.cn/t3""#,
                "https://vault.azure.cn/.default",
                Some("t3"),
            ),
            (
                r#"Basic realm="x", Bearer resource="https://vault.azure.net", authorization="https://adfs.contoso.com/adfs""#,
                "https://vault.azure.net/.default",
                None,
            ),
            (
                r#"PoP nonce="abc", Bearer authorization="https://login.windows.net/dstsv2/t4", resource="https://vault.azure.net""#,
                "https://vault.azure.net/.default",
                Some("t4"),
            ),
        ];
        for (header, scope, tenant) in cases {
            let c = Challenge::from_headers(&headers(&[("www-authenticate", header)]))
                .unwrap_or_else(|| panic!("{header}"));
            assert_eq!(c.scope, scope, "{header}");
            assert_eq!(c.tenant_id.as_deref(), tenant, "{header}");
        }
    }

    #[test]
    fn several_challenges_and_token68() {
        let c = parse_www_authenticate(r#"Basic dXNlcjpwYXNz==, Bearer realm="r", error="invalid_token""#);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].token68.as_deref(), Some("dXNlcjpwYXNz=="));
        assert_eq!(c[1].param("realm"), Some("r"));
        assert_eq!(c[1].param("ERROR"), Some("invalid_token"));
        let c = parse_www_authenticate(r#"Bearer a="x\"y", b=plain"#);
        assert_eq!(c[0].param("a"), Some("x\"y"));
        assert_eq!(c[0].param("b"), Some("plain"));
        assert!(parse_www_authenticate("").is_empty());
        assert!(Challenge::from_headers(&headers(&[("www-authenticate", "Bearer realm=\"x\"")])).is_none());
    }

    #[test]
    fn verification() {
        let c = Challenge::new("https://vault.azure.net/.default", None);
        assert!(verify_challenge_resource("myvault.vault.azure.net", &c).is_ok());
        assert!(verify_challenge_resource("MyVault.Vault.Azure.Net", &c).is_ok());
        for bad in [
            "hostvault.azure.net",
            "vault.evil.com",
            "myvault.vault.azure.net.",
            "vault.azure.net",
            "",
            "evil..vault.azure.net",
        ] {
            let e = verify_challenge_resource(bad, &c).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Security);
            let text = e.to_string();
            assert!(text.contains("vault.azure.net") && text.contains(&format!("{bad:?}")), "{text}");
        }
        let dot = Challenge::new("https://vault.azure.net./.default", None);
        assert!(verify_challenge_resource("myvault.vault.azure.net", &dot).is_err());
        let evil = Challenge::new("https://evil.com/.default", None);
        assert!(verify_challenge_resource("myvault.vault.azure.net", &evil).is_err());
    }

    #[test]
    fn cae_claims() {
        // {"access_token":{"nbf":{"essential":true,"value":"1726077595"}}}
        let encoded = "eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwidmFsdWUiOiIxNzI2MDc3NTk1In19fQ==";
        let header = format!(
            r#"Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="{encoded}""#
        );
        let claims = claims_challenge(&headers(&[("www-authenticate", &header)])).unwrap();
        assert_eq!(claims, r#"{"access_token":{"nbf":{"essential":true,"value":"1726077595"}}}"#);
        let no_pad = header.replace("==", "");
        assert!(claims_challenge(&headers(&[("www-authenticate", &no_pad)])).is_some());
        assert!(claims_challenge(&headers(&[("www-authenticate", REAL)])).is_none());
        let bad = header.replace(encoded, "%%%");
        assert!(claims_challenge(&headers(&[("www-authenticate", &bad)])).is_none());
        let empty = header.replace(encoded, " ");
        assert!(claims_challenge(&headers(&[("www-authenticate", &empty)])).is_none());
    }

    #[test]
    fn tenants() {
        assert_eq!(tenant_from_authority("https://login.microsoftonline.com/t/oauth2/authorize").as_deref(), Some("t"));
        assert_eq!(tenant_from_authority("https://login.microsoftonline.com"), None);
        assert_eq!(tenant_from_authority("https://sts.contoso.com/ADFS"), None);
        assert_eq!(tenant_from_authority("not a url"), None);
    }

    proptest::proptest! {
        #[test]
        fn parser_never_panics(s in ".{0,300}") {
            let _ = parse_www_authenticate(&s);
            if let Ok(v) = http::HeaderValue::from_str(&s) {
                let mut h = HeaderMap::new();
                h.insert(http::header::WWW_AUTHENTICATE, v);
                let _ = Challenge::from_headers(&h);
                let _ = claims_challenge(&h);
            }
        }

        #[test]
        fn parser_never_panics_on_challenge_vocabulary(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just("Bearer".to_string()),
                    proptest::strategy::Just("PoP".to_string()),
                    proptest::strategy::Just(" ".to_string()),
                    proptest::strategy::Just(",".to_string()),
                    proptest::strategy::Just("=".to_string()),
                    proptest::strategy::Just("\"".to_string()),
                    proptest::strategy::Just("\\".to_string()),
                    proptest::strategy::Just("resource=".to_string()),
                    proptest::strategy::Just("scope=\"https://vault.azure.net/.default\"".to_string()),
                    proptest::strategy::Just("authorization=\"https://login.windows.net/".to_string()),
                    "[a-z0-9é/:.]{0,8}",
                ],
                0..24,
            )
        ) {
            let s: String = parts.concat();
            for c in parse_www_authenticate(&s) {
                let challenge = Challenge::from_auth_challenge(&c);
                if let Some(ch) = challenge {
                    let _ = verify_challenge_resource("myvault.vault.azure.net", &ch);
                }
            }
        }

        #[test]
        fn verified_hosts_are_subdomains(host in "[a-z.]{0,20}(vault\\.azure\\.net)?\\.?") {
            let c = Challenge::new("https://vault.azure.net/.default", None);
            if verify_challenge_resource(&host, &c).is_ok() {
                proptest::prop_assert!(host.ends_with(".vault.azure.net"));
            }
        }
    }
}
