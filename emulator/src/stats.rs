//! Request statistics: connections, challenges, and requests by route and status.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::Serialize;

/// Live counters shared by the server tasks.
#[derive(Debug, Default)]
pub struct Stats {
    connections: AtomicU64,
    challenges: AtomicU64,
    requests: AtomicU64,
    faults: AtomicU64,
    by_route: Mutex<BTreeMap<String, BTreeMap<u16, u64>>>,
}

impl Stats {
    /// Counts an accepted TCP connection.
    pub fn connection(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a 401 bearer challenge.
    pub fn challenge(&self) {
        self.challenges.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an injected fault (throttle, 5xx, drop).
    pub fn fault(&self) {
        self.faults.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a finished request by route name and status.
    pub fn request(&self, route: &str, status: u16) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut map) = self.by_route.lock() {
            *map.entry(route.to_string()).or_default().entry(status).or_default() += 1;
        }
    }

    /// Resets every counter to zero.
    pub fn reset(&self) {
        self.connections.store(0, Ordering::Relaxed);
        self.challenges.store(0, Ordering::Relaxed);
        self.requests.store(0, Ordering::Relaxed);
        self.faults.store(0, Ordering::Relaxed);
        if let Ok(mut map) = self.by_route.lock() {
            map.clear();
        }
    }

    /// A consistent-enough copy of the counters.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            connections: self.connections.load(Ordering::Relaxed),
            challenges: self.challenges.load(Ordering::Relaxed),
            total_requests: self.requests.load(Ordering::Relaxed),
            faults_injected: self.faults.load(Ordering::Relaxed),
            routes: self.by_route.lock().map(|m| m.clone()).unwrap_or_default(),
        }
    }
}

/// A copy of the emulator's counters, from [`crate::Emulator::stats`] or `GET /_emulator/stats`.
///
/// Route names are the operation names (`CreateCertificate`, `GetCertificate`,
/// `GetCertificateOperation`, …, `GetSecret`, `Admin`, `Unknown`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatsSnapshot {
    /// TCP connections accepted.
    pub connections: u64,
    /// 401 bearer challenges sent.
    pub challenges: u64,
    /// Requests answered (every route, admin included, faults included).
    pub total_requests: u64,
    /// Faults injected (throttles, 5xx, dropped connections).
    pub faults_injected: u64,
    /// Requests by route name, then by HTTP status.
    pub routes: BTreeMap<String, BTreeMap<u16, u64>>,
}

impl StatsSnapshot {
    /// Requests for one route with one status.
    pub fn count(&self, route: &str, status: u16) -> u64 {
        self.routes.get(route).and_then(|m| m.get(&status)).copied().unwrap_or(0)
    }

    /// Requests for one route, any status.
    pub fn route_total(&self, route: &str) -> u64 {
        self.routes.get(route).map(|m| m.values().sum()).unwrap_or(0)
    }

    /// Requests answered with one status, any route.
    pub fn status_total(&self, status: u16) -> u64 {
        self.routes.values().filter_map(|m| m.get(&status)).sum()
    }
}
