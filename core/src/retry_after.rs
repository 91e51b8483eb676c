//! The service's "wait before retrying" headers.

use std::time::Duration;

use http::HeaderMap;
use time::OffsetDateTime;

use crate::dates::parse_http_date;

/// How long the service asked the client to wait, from `retry-after-ms`,
/// `x-ms-retry-after-ms` or `Retry-After` (delay-seconds or an HTTP date).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// Wait this long from when the response arrived.
    Delay(Duration),
    /// Wait until this moment (the HTTP-date form of `Retry-After`).
    At(OffsetDateTime),
}

impl RetryAfter {
    /// Reads the headers, preferring the millisecond forms. Unparseable values are ignored.
    pub fn from_headers(headers: &HeaderMap) -> Option<RetryAfter> {
        for name in ["retry-after-ms", "x-ms-retry-after-ms"] {
            if let Some(ms) = header_str(headers, name).and_then(|v| v.trim().parse::<u64>().ok()) {
                return Some(RetryAfter::Delay(Duration::from_millis(ms)));
            }
        }
        let value = header_str(headers, "retry-after")?.trim();
        if let Ok(seconds) = value.parse::<u64>() {
            return Some(RetryAfter::Delay(Duration::from_secs(seconds)));
        }
        if let Ok(seconds) = value.parse::<f64>() {
            if (0.0..1e9).contains(&seconds) {
                return Some(RetryAfter::Delay(Duration::from_secs_f64(seconds)));
            }
        }
        parse_http_date(value).map(RetryAfter::At)
    }

    /// The delay this asks for, counted from `now`; a date in the past is no delay.
    pub fn delay_from(&self, now: OffsetDateTime) -> Duration {
        match *self {
            RetryAfter::Delay(d) => d,
            RetryAfter::At(at) => {
                let diff = at - now;
                if diff.is_positive() {
                    Duration::try_from(diff).unwrap_or(Duration::ZERO)
                } else {
                    Duration::ZERO
                }
            }
        }
    }

    /// The delay when it does not depend on the clock.
    pub fn as_delay(&self) -> Option<Duration> {
        match *self {
            RetryAfter::Delay(d) => Some(d),
            RetryAfter::At(_) => None,
        }
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn reads_every_form() {
        assert_eq!(
            RetryAfter::from_headers(&headers(&[("retry-after", "10")])),
            Some(RetryAfter::Delay(Duration::from_secs(10)))
        );
        assert_eq!(
            RetryAfter::from_headers(&headers(&[("retry-after", "10"), ("x-ms-retry-after-ms", "1500")])),
            Some(RetryAfter::Delay(Duration::from_millis(1500)))
        );
        let at = RetryAfter::from_headers(&headers(&[("retry-after", "Tue, 20 Sep 2022 17:55:38 GMT")])).unwrap();
        let now = parse_http_date("Tue, 20 Sep 2022 17:55:28 GMT").unwrap();
        assert_eq!(at.delay_from(now), Duration::from_secs(10));
        assert_eq!(at.delay_from(now + time::Duration::minutes(1)), Duration::ZERO);
        assert_eq!(RetryAfter::from_headers(&headers(&[("retry-after", "soon")])), None);
        assert_eq!(RetryAfter::from_headers(&headers(&[("retry-after", "-5")])), None);
    }
}
