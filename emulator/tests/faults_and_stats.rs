//! Fault injection (builder, handle and admin endpoint) and statistics.

mod common;

use std::time::{Duration, Instant};

use common::{start, Client, API};
use kvcerts_emulator::{Emulator, FaultConfig};
use serde_json::json;

#[test]
fn throttle_every_nth_request_with_retry_after() {
    let emu = Emulator::builder()
        .faults(FaultConfig { throttle_every: Some(2), retry_after_secs: Some(3), ..Default::default() })
        .start()
        .unwrap();
    let c = Client::new(&emu);
    let statuses: Vec<u16> = (0..4).map(|_| c.get("/certificates").status).collect();
    assert_eq!(statuses, vec![200, 429, 200, 429]);
    let r = c.get("/certificates");
    assert_eq!(r.status, 200);
    let r = c.get("/certificates");
    assert_eq!(r.header("retry-after"), Some("3"));
    assert_eq!(r.json["error"]["code"], "Throttled");
    let s = emu.stats();
    assert_eq!(s.count("ListCertificates", 429), 3);
    assert_eq!(s.faults_injected, 3);
}

#[test]
fn seeded_errors_are_repeatable() {
    let run = || {
        let emu = Emulator::builder()
            .faults(FaultConfig {
                error_rate: Some(0.5),
                error_status: Some(500),
                seed: Some(42),
                ..Default::default()
            })
            .start()
            .unwrap();
        let c = Client::new(&emu);
        (0..20).map(|_| c.get("/certificates").status).collect::<Vec<_>>()
    };
    let a = run();
    assert_eq!(a, run());
    assert!(a.contains(&500) && a.contains(&200), "{a:?}");
}

#[test]
fn dropped_connections_and_slow_responses() {
    let emu = start();
    let c = Client::new(&emu);
    emu.faults().set(FaultConfig {
        drop_every: Some(1),
        routes: Some(vec!["ListCertificates".into()]),
        ..Default::default()
    });
    let url = format!("{}/certificates?api-version={API}", c.base);
    assert!(c.raw("GET", &url, None).is_err(), "the body is cut short");
    // Other routes are not affected, and the next connection works.
    assert_eq!(c.get("/certificates/contacts").status, 404);
    emu.faults().clear();
    assert_eq!(c.get("/certificates").status, 200);

    emu.faults().set(FaultConfig { delay_ms: Some(200), ..Default::default() });
    let t = Instant::now();
    assert_eq!(c.get("/certificates").status, 200);
    assert!(t.elapsed() >= Duration::from_millis(190));
    emu.faults().clear();
}

#[test]
fn admin_endpoints_need_no_auth() {
    let emu = start();
    let mut c = Client::new(&emu);
    c.token = None;
    assert_eq!(c.get("/certificates").status, 401);
    let r = c
        .raw(
            "POST",
            &format!("{}/_emulator/faults", c.base),
            Some(json!({"throttleEvery": 1, "retryAfterSecs": 0}).to_string().into_bytes()),
        )
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json, json!({"throttleEvery": 1, "retryAfterSecs": 0}));
    assert_eq!(emu.faults().config().throttle_every, Some(1));
    // 401 challenges are never faulted; authenticated requests are.
    assert_eq!(c.get("/certificates").status, 401);
    c.token = Some("t".into());
    let r = c.get("/certificates");
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("0"));

    let bad =
        c.raw("POST", &format!("{}/_emulator/faults", c.base), Some(br#"{"throttleRate": 2.0}"#.to_vec())).unwrap();
    assert_eq!(bad.status, 400);
    let bad = c.raw("POST", &format!("{}/_emulator/faults", c.base), Some(br#"{"nonsense": 1}"#.to_vec())).unwrap();
    assert_eq!(bad.status, 400);

    let r = c.raw("DELETE", &format!("{}/_emulator/faults", c.base), None).unwrap();
    assert_eq!(r.json, json!({}));
    assert_eq!(c.get("/certificates").status, 200);

    let stats = c.raw("GET", &format!("{}/_emulator/stats", c.base), None).unwrap();
    assert_eq!(stats.status, 200);
    assert_eq!(stats.json["challenges"], 2);
    assert_eq!(stats.json["routes"]["ListCertificates"]["401"], 2);
    assert_eq!(stats.json["routes"]["ListCertificates"]["429"], 1);
    assert_eq!(stats.json["routes"]["ListCertificates"]["200"], 1);
    assert!(stats.json["connections"].as_u64().unwrap() >= 1);
    assert!(stats.json["totalRequests"].as_u64().unwrap() >= 6);
    let health = c.raw("GET", &format!("{}/_emulator/health", c.base), None).unwrap();
    assert_eq!(health.json, json!({"status": "ok"}));
}

#[test]
fn stats_count_connections_and_keep_alive_reuses_them() {
    let emu = start();
    let c = Client::new(&emu);
    for _ in 0..5 {
        assert_eq!(c.get("/certificates").status, 200);
    }
    let s = emu.stats();
    assert_eq!(s.total_requests, 5);
    assert_eq!(s.route_total("ListCertificates"), 5);
    assert_eq!(s.connections, 1, "one keep-alive connection");
    emu.reset_stats();
    assert_eq!(emu.stats().total_requests, 0);
}
