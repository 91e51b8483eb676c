//! The service's rules for names.

use crate::error::Error;

/// Longest certificate or issuer name the service accepts.
pub const MAX_NAME_LEN: usize = 127;

/// Checks a certificate name: 1–127 characters of `0-9a-zA-Z-`.
pub fn validate_certificate_name(name: &str) -> Result<(), Error> {
    validate(name, "certificate name")
}

/// Checks an issuer name: the same rule as certificate names.
pub fn validate_issuer_name(name: &str) -> Result<(), Error> {
    validate(name, "issuer name")
}

fn validate(name: &str, what: &'static str) -> Result<(), Error> {
    if name.is_empty() {
        return Err(Error::invalid(what, "the name is empty (1-127 characters of 0-9, a-z, A-Z and '-')"));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(Error::invalid(
            what,
            format!("the name is {} characters long; at most {MAX_NAME_LEN} are allowed", name.len()),
        ));
    }
    if let Some(bad) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '-')) {
        return Err(Error::invalid(what, format!("{name:?} contains {bad:?}; only 0-9, a-z, A-Z and '-' are allowed")));
    }
    Ok(())
}

/// Checks a version: 1–64 characters of `0-9a-zA-Z` (the service uses 32 hex digits).
pub fn validate_version(version: &str) -> Result<(), Error> {
    if version.is_empty() || version.len() > 64 || !version.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::invalid(
            "certificate version",
            format!("{version:?} is not a version (the service uses 32 hexadecimal digits)"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_service_rule() {
        assert!(validate_certificate_name("my-cert-01").is_ok());
        assert!(validate_certificate_name(&"a".repeat(127)).is_ok());
        assert!(validate_certificate_name(&"a".repeat(128)).unwrap_err().to_string().contains("127"));
        assert!(validate_certificate_name("").is_err());
        assert!(validate_certificate_name("a_b").unwrap_err().to_string().contains("'_'"));
        assert!(validate_certificate_name("a/b").is_err());
        assert!(validate_certificate_name("é").is_err());
        assert!(validate_version("0123456789abcdef0123456789abcdef").is_ok());
        assert!(validate_version("../x").is_err());
    }
}
