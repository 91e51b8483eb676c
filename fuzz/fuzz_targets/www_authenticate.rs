//! The `WWW-Authenticate` parser and what is built on it: the challenge (scope, tenant), the
//! resource-host check, and the claims challenge.
#![no_main]

use http::{HeaderMap, HeaderValue};
use kvcerts_core::auth::{
    challenges_in, claims_challenge, parse_www_authenticate, verify_challenge_resource, Challenge,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        for c in parse_www_authenticate(text) {
            let _ = (c.is_bearer(), c.param("resource"), c.param("scope"), c.param("authorization"));
            if let Some(challenge) = Challenge::from_auth_challenge(&c) {
                let _ = challenge.resource_host();
                let _ = verify_challenge_resource("fuzz.vault.azure.net", &challenge);
                let _ = verify_challenge_resource("127.0.0.1", &challenge);
            }
        }
    }
    // The same bytes as a raw header value (any bytes but CR, LF and NUL are allowed there).
    if let Ok(value) = HeaderValue::from_bytes(data) {
        let mut headers = HeaderMap::new();
        headers.append(http::header::WWW_AUTHENTICATE, value.clone());
        headers.append(http::header::WWW_AUTHENTICATE, value);
        let _ = challenges_in(&headers);
        let _ = Challenge::from_headers(&headers);
        let _ = claims_challenge(&headers);
    }
});
