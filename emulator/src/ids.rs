//! Identifiers: object names, 32-hex versions, request ids, and the random bytes behind them.

use ring::rand::{SecureRandom, SystemRandom};

use crate::api_error::ApiError;

/// Fills a buffer with random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // SystemRandom only fails when the OS has no entropy source; fall back to time-based bytes
    // rather than panicking inside the server.
    if SystemRandom::new().fill(&mut buf).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (nanos >> ((i % 16) * 8)) as u8 ^ (i as u8).wrapping_mul(151);
        }
    }
    buf
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new object version: 32 lower-case hex digits, like Key Vault's.
pub fn new_version() -> String {
    hex(&random_bytes::<16>())
}

/// A new uuid-like id (`8-4-4-4-12` hex), for `x-ms-request-id`.
pub fn new_request_id() -> String {
    let b = random_bytes::<16>();
    let h = hex(&b);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// True for a valid Key Vault object name: 1–127 characters of `0-9a-zA-Z-`.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 127 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Checks an object name from the URL, with the service's error for a bad one.
pub fn check_name(name: &str) -> Result<(), ApiError> {
    if is_valid_name(name) {
        Ok(())
    } else {
        Err(ApiError::bad_parameter(format!("The request URI contains an invalid name: {name}")))
    }
}

/// The store key of a name: Key Vault names are case-insensitive.
pub fn key_of(name: &str) -> String {
    name.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_valid_name("abc-DEF-123"));
        assert!(!is_valid_name(""));
        assert!(!is_valid_name("a_b"));
        assert!(!is_valid_name(&"a".repeat(128)));
        assert!(is_valid_name(&"a".repeat(127)));
    }

    #[test]
    fn versions_are_32_hex() {
        let v = new_version();
        assert_eq!(v.len(), 32);
        assert!(v.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(new_request_id().len(), 36);
    }
}
