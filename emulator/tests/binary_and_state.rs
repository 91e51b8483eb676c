//! The state file survives a restart; the binary starts, prints its URL and CA path, and serves.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{ec_policy, Client};
use kvcerts_emulator::Emulator;

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "kvcerts-emulator-{tag}-{}-{}",
        std::process::id(),
        kvcerts_emulator::ids::new_version()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn state_file_survives_restart() {
    let dir = temp_dir("state");
    let path = dir.join("vault.json");
    let (id, cer) = {
        let emu = Emulator::builder().create_delay(Duration::ZERO).state_file(&path).start().unwrap();
        let c = Client::new(&emu);
        c.create_and_wait("kept", ec_policy("CN=kept"));
        // Reading settles the operation; a later write records it.
        let b = c.get("/certificates/kept").json;
        c.send("PUT", "/certificates/contacts", Some(&serde_json::json!({"contacts": [{"email": "a@b.c"}]})));
        (b["id"].as_str().unwrap().rsplit('/').next().unwrap().to_string(), b["cer"].clone())
    };
    assert!(path.exists());
    assert!(!dir.join("vault.json.tmp").exists());
    let emu = Emulator::builder().state_file(&path).start().unwrap();
    let c = Client::new(&emu);
    let b = c.get("/certificates/kept");
    assert_eq!(b.status, 200, "{}", b.text);
    assert!(b.json["id"].as_str().unwrap().ends_with(&id));
    assert_eq!(b.json["cer"], cer);
    assert_eq!(c.get("/certificates/contacts").status, 200);
    drop(emu);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn binary_prints_url_and_serves() {
    let dir = temp_dir("bin");
    let ca = dir.join("ca.pem");
    let mut child = Command::new(env!("CARGO_BIN_EXE_kvcerts-emulator"))
        .args(["--port", "0", "--create-delay-ms", "0", "--ca-out"])
        .arg(&ca)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first.strip_prefix("vault URL: ").unwrap().to_string();
    let second = lines.next().unwrap().unwrap();
    assert_eq!(second, format!("CA certificate: {}", ca.display()));
    let pem = std::fs::read_to_string(&ca).unwrap();
    let cert = ureq::tls::Certificate::from_pem(pem.as_bytes()).unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .tls_config(ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::new_with_certs(&[cert])).build())
        .build()
        .into();
    let r = agent.get(format!("{url}/certificates?api-version=7.5")).call().unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = agent.get(format!("{url}/_emulator/health")).call().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    child.kill().unwrap();
    let _ = child.wait();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn binary_exits_when_stdin_closes() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kvcerts-emulator"))
        .args(["--port", "0", "--http", "--exit-with-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let ready = BufReader::new(stdout).lines().map(Result::unwrap).find(|line| line.starts_with("ready"));
    assert!(ready.is_some(), "no ready line");
    drop(child.stdin.take()); // end of file for the emulator
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the emulator did not exit after its stdin closed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
}
