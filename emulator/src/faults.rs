//! Fault injection: throttling, 5xx answers, dropped connections and slow answers.
//!
//! Faults apply to authenticated vault requests only (never to the 401 challenge, never to the
//! `/_emulator/*` admin routes). Every such request advances one counter, which the `*Every`
//! settings use (`throttleEvery: 3` throttles requests 3, 6, 9, …), and draws from a seeded
//! generator, which the `*Rate` settings use, so a run with the same seed and the same request
//! sequence injects the same faults.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What to inject. Every field is optional; an empty config injects nothing.
///
/// JSON shape (admin endpoint `POST /_emulator/faults`), all fields optional:
/// `{"throttleEvery":3,"throttleRate":0.1,"retryAfterSecs":1,"errorEvery":5,"errorRate":0.0,
///   "errorStatus":503,"dropEvery":7,"dropRate":0.0,"delayMs":200,"seed":42,
///   "routes":["GetCertificate"]}`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Answer every Nth eligible request with 429 and `Retry-After`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throttle_every: Option<u64>,
    /// Answer this fraction (0.0–1.0) of eligible requests with 429, drawn from the seeded generator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throttle_rate: Option<f64>,
    /// `Retry-After` seconds sent with 429 (default 1; 0 is allowed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
    /// Answer every Nth eligible request with `error_status`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_every: Option<u64>,
    /// Answer this fraction of eligible requests with `error_status`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_rate: Option<f64>,
    /// Status for injected errors (default 503; any 5xx).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_status: Option<u16>,
    /// Drop the connection in the middle of every Nth eligible response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drop_every: Option<u64>,
    /// Drop the connection in the middle of this fraction of eligible responses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drop_rate: Option<f64>,
    /// Delay every eligible response by this many milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// Seed of the generator behind the `*Rate` settings (default 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Restrict faults to these route names (see [`crate::StatsSnapshot`]); all vault routes if absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routes: Option<Vec<String>>,
}

impl FaultConfig {
    /// Checks ranges: rates within 0.0–1.0, `*Every` at least 1, `errorStatus` 500–599.
    pub fn validate(&self) -> Result<(), String> {
        for (name, rate) in
            [("throttleRate", self.throttle_rate), ("errorRate", self.error_rate), ("dropRate", self.drop_rate)]
        {
            if let Some(r) = rate {
                if !(0.0..=1.0).contains(&r) {
                    return Err(format!("{name} must be between 0.0 and 1.0"));
                }
            }
        }
        for (name, every) in
            [("throttleEvery", self.throttle_every), ("errorEvery", self.error_every), ("dropEvery", self.drop_every)]
        {
            if every == Some(0) {
                return Err(format!("{name} must be at least 1"));
            }
        }
        if let Some(s) = self.error_status {
            if !(500..=599).contains(&s) {
                return Err("errorStatus must be between 500 and 599".to_string());
            }
        }
        Ok(())
    }
}

/// The fault chosen for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultAction {
    /// Answer normally.
    None,
    /// 429 with this `Retry-After` in seconds.
    Throttle(u64),
    /// This 5xx status.
    Error(u16),
    /// Send the headers and part of the body, then drop the connection.
    Drop,
}

#[derive(Debug, Default)]
struct FaultState {
    config: FaultConfig,
    counter: u64,
    rng: u64,
}

/// A handle to change fault injection at run time (cheap to clone; shared with the server).
#[derive(Debug, Clone, Default)]
pub struct Faults {
    state: Arc<Mutex<FaultState>>,
}

impl Faults {
    /// A handle with the given initial configuration.
    pub(crate) fn new(config: FaultConfig) -> Self {
        let faults = Faults::default();
        faults.set(config);
        faults
    }

    /// Replaces the configuration and restarts the counter and the generator.
    pub fn set(&self, config: FaultConfig) {
        if let Ok(mut s) = self.state.lock() {
            s.rng = config.seed.unwrap_or(0);
            s.counter = 0;
            s.config = config;
        }
    }

    /// Turns every fault off.
    pub fn clear(&self) {
        self.set(FaultConfig::default());
    }

    /// The current configuration.
    pub fn config(&self) -> FaultConfig {
        self.state.lock().map(|s| s.config.clone()).unwrap_or_default()
    }

    /// Chooses the fault and the extra delay for one eligible request on `route`.
    pub(crate) fn decide(&self, route: &str) -> (FaultAction, Duration) {
        let Ok(mut s) = self.state.lock() else {
            return (FaultAction::None, Duration::ZERO);
        };
        if let Some(routes) = &s.config.routes {
            if !routes.iter().any(|r| r == route) {
                return (FaultAction::None, Duration::ZERO);
            }
        }
        s.counter += 1;
        let n = s.counter;
        let c = s.config.clone();
        let delay = Duration::from_millis(c.delay_ms.unwrap_or(0));
        let hit = |every: Option<u64>, rate: Option<f64>, s: &mut FaultState| -> bool {
            let by_count = every.is_some_and(|e| e > 0 && n % e == 0);
            let by_rate = match rate {
                Some(r) if r > 0.0 => next_unit(&mut s.rng) < r,
                _ => false,
            };
            by_count || by_rate
        };
        let action = if hit(c.throttle_every, c.throttle_rate, &mut s) {
            FaultAction::Throttle(c.retry_after_secs.unwrap_or(1))
        } else if hit(c.error_every, c.error_rate, &mut s) {
            FaultAction::Error(c.error_status.unwrap_or(503))
        } else if hit(c.drop_every, c.drop_rate, &mut s) {
            FaultAction::Drop
        } else {
            FaultAction::None
        };
        (action, delay)
    }
}

/// splitmix64, mapped to [0, 1).
fn next_unit(state: &mut u64) -> f64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_nth_throttles() {
        let f = Faults::new(FaultConfig { throttle_every: Some(3), ..Default::default() });
        let actions: Vec<_> = (0..6).map(|_| f.decide("GetCertificate").0).collect();
        assert_eq!(actions[2], FaultAction::Throttle(1));
        assert_eq!(actions[5], FaultAction::Throttle(1));
        assert_eq!(actions[0], FaultAction::None);
    }

    #[test]
    fn seeded_rate_is_repeatable() {
        let cfg = FaultConfig { error_rate: Some(0.5), seed: Some(7), ..Default::default() };
        let a = Faults::new(cfg.clone());
        let b = Faults::new(cfg);
        let xs: Vec<_> = (0..50).map(|_| a.decide("X").0).collect();
        let ys: Vec<_> = (0..50).map(|_| b.decide("X").0).collect();
        assert_eq!(xs, ys);
        let errors = xs.iter().filter(|a| **a == FaultAction::Error(503)).count();
        assert!(errors > 10 && errors < 40, "{errors}");
    }

    #[test]
    fn route_filter() {
        let f = Faults::new(FaultConfig {
            throttle_every: Some(1),
            routes: Some(vec!["GetCertificate".into()]),
            ..Default::default()
        });
        assert_eq!(f.decide("ListCertificates").0, FaultAction::None);
        assert_eq!(f.decide("GetCertificate").0, FaultAction::Throttle(1));
    }

    #[test]
    fn validation() {
        let bad = FaultConfig { throttle_rate: Some(2.0), ..Default::default() };
        assert!(bad.validate().is_err());
        assert!(FaultConfig::default().validate().is_ok());
    }
}
