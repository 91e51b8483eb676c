//! Key Vault REST API versions.

use std::borrow::Cow;
use std::fmt;

use crate::error::Error;

/// A Key Vault REST `api-version`.
///
/// The named constants are the released versions; any other well-formed string (for example a
/// preview such as `7.4-preview.1`) is accepted through [`ApiVersion::new`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ApiVersion(Cow<'static, str>);

impl ApiVersion {
    /// `2016-10-01`, the first certificates API.
    pub const V2016_10_01: ApiVersion = ApiVersion(Cow::Borrowed("2016-10-01"));
    /// `7.0`.
    pub const V7_0: ApiVersion = ApiVersion(Cow::Borrowed("7.0"));
    /// `7.1`.
    pub const V7_1: ApiVersion = ApiVersion(Cow::Borrowed("7.1"));
    /// `7.2`.
    pub const V7_2: ApiVersion = ApiVersion(Cow::Borrowed("7.2"));
    /// `7.3`.
    pub const V7_3: ApiVersion = ApiVersion(Cow::Borrowed("7.3"));
    /// `7.4`.
    pub const V7_4: ApiVersion = ApiVersion(Cow::Borrowed("7.4"));
    /// `7.5`.
    pub const V7_5: ApiVersion = ApiVersion(Cow::Borrowed("7.5"));
    /// `7.6`.
    pub const V7_6: ApiVersion = ApiVersion(Cow::Borrowed("7.6"));
    /// `2025-07-01`.
    pub const V2025_07_01: ApiVersion = ApiVersion(Cow::Borrowed("2025-07-01"));
    /// `2026-04-01`, the newest released version and the default.
    pub const V2026_04_01: ApiVersion = ApiVersion(Cow::Borrowed("2026-04-01"));
    /// The version sent when none is chosen.
    pub const LATEST: ApiVersion = ApiVersion::V2026_04_01;

    /// Every released version, oldest first.
    pub const ALL: [ApiVersion; 10] = [
        ApiVersion::V2016_10_01,
        ApiVersion::V7_0,
        ApiVersion::V7_1,
        ApiVersion::V7_2,
        ApiVersion::V7_3,
        ApiVersion::V7_4,
        ApiVersion::V7_5,
        ApiVersion::V7_6,
        ApiVersion::V2025_07_01,
        ApiVersion::V2026_04_01,
    ];

    /// Any api-version string: 1–64 characters of `0-9a-zA-Z.-`.
    pub fn new(version: impl Into<String>) -> Result<Self, Error> {
        let version = version.into();
        let valid = !version.is_empty()
            && version.len() <= 64
            && version.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        if !valid {
            return Err(Error::invalid(
                "api version",
                format!("{version:?} is not an api-version (1-64 characters of 0-9, a-z, A-Z, '.', '-')"),
            ));
        }
        Ok(match ApiVersion::ALL.iter().find(|v| v.as_str() == version) {
            Some(known) => known.clone(),
            None => ApiVersion(Cow::Owned(version)),
        })
    }

    /// The version as sent in the query string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for ApiVersion {
    fn default() -> Self {
        ApiVersion::LATEST
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for ApiVersion {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        ApiVersion::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_preview_versions_are_accepted() {
        assert_eq!(ApiVersion::default().as_str(), "2026-04-01");
        assert_eq!(ApiVersion::new("7.3").unwrap(), ApiVersion::V7_3);
        assert_eq!(ApiVersion::new("7.4-preview.1").unwrap().as_str(), "7.4-preview.1");
        assert!(ApiVersion::new("").is_err());
        assert!(ApiVersion::new("7.3&x=1").is_err());
    }
}
